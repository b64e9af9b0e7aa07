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
