use lpmc_kernels::mode::*;

#[test]
fn text_round_trips() {
    for r in [
        Rounding::NearestEven,
        Rounding::NearestAway,
        Rounding::Floor,
        Rounding::TowardZero,
        Rounding::StochasticExact,
        Rounding::Stochastic { bits: 0 },
        Rounding::Stochastic { bits: 32 },
        Rounding::StochasticCorrected { bits: 7 },
    ] {
        assert_eq!(r.to_string().parse::<Rounding>().unwrap(), r);
    }
    for bad in ["banana", "sr:", "sr:33", "sr:-1", "src:x", ""] {
        assert!(bad.parse::<Rounding>().is_err(), "{bad}");
    }
    assert_eq!("wrap".parse::<Overflow>().unwrap(), Overflow::Wrap);
    assert!("clamp".parse::<Overflow>().is_err());
}

#[test]
fn wrap_is_modulo() {
    for wl in [2u32, 5, 8, 31, 64] {
        let m = 1i128 << wl;
        for code in [-1000i128, -129, -1, 0, 1, 127, 128, 1 << 70, -(1 << 90) + 3] {
            let (w, _) = Overflow::Wrap.apply(code, wl);
            assert_eq!((w as i128 - code).rem_euclid(m), 0);
            assert!((w as i128) >= -(m / 2) && (w as i128) < m / 2);
        }
    }
}

/// `p_up_code` and `p_up_f64` are the fraction of random words for which `round_code` and
/// `round_f64` round up: counted over every word for every fraction of up to 6 discarded bits
/// (R ≤ 8), and for `f64` inputs at many fractions (R ≤ 10; exact SR through its threshold).
#[test]
fn p_up_matches_counting_the_random_words() {
    use lpmc_kernels::portable::{round_code, round_f64};
    let modes = |r: u32| {
        [
            Rounding::Floor,
            Rounding::TowardZero,
            Rounding::NearestEven,
            Rounding::NearestAway,
            Rounding::Stochastic { bits: r },
            Rounding::StochasticCorrected { bits: r },
            Rounding::StochasticExact,
        ]
    };
    for s in 1..=6u32 {
        for r in 0..=8u32 {
            for mode in modes(r) {
                let bits = mode.bits_per_code(s as i32);
                for k in -70i64..70 {
                    let floor = (k >> s) as i128;
                    let d = (k as u64) & ((1 << s) - 1);
                    let up: u64 = (0..1u64 << bits)
                        .map(|u| (round_code(k, s as i32, mode, u) - floor) as u64)
                        .sum();
                    let p = mode.p_up_code(d, s, floor & 1 == 1, k < 0);
                    assert_eq!(p, up as f64 / (bits as f64).exp2(), "{mode} k={k} s={s}");
                }
            }
        }
    }
    for r in 0..=10u32 {
        for mode in modes(r) {
            for i in -300..300 {
                let y = i as f64 * 0.0371 + 0.013;
                let floor = y.floor() as i128;
                let p = mode.p_up_f64(y);
                if mode == Rounding::StochasticExact {
                    // Up iff u < f·2^53: the threshold word is the count.
                    let n = (p * 9_007_199_254_740_992.0) as u64;
                    assert_eq!(
                        round_f64(y, 0, mode, n.saturating_sub(1)) - floor,
                        (n > 0) as i128
                    );
                    assert_eq!(round_f64(y, 0, mode, n) - floor, 0);
                    continue;
                }
                let bits = mode.bits_per_f64();
                let up: u64 = (0..1u64 << bits)
                    .map(|u| (round_f64(y, 0, mode, u) - floor) as u64)
                    .sum();
                assert_eq!(p, up as f64 / (bits as f64).exp2(), "{mode} y={y}");
            }
        }
    }
}
