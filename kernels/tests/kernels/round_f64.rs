//! `round_f64` against an exact reference in integers: the input as `num / 2^K`, its floor
//! and discarded fraction `d / 2^K` taken without any floating-point rounding. The cases that
//! once went wrong are small negative `y` (there `1 + y` rounds in `f64`: a fraction just
//! above ½ became a tie, one just below 1 became 1).

use lpmc_kernels::portable::{
    frac_ceil_bits, frac_cmp_half, frac_floor_bits, frac_rne_bits, round_code, round_f64,
};
use lpmc_kernels::{Rounding, WordSource, Xoshiro};
use std::cmp::Ordering;

/// `y = num / 2^k` exactly, with `k ≤ 120` and `|num| < 2^126`, or `None` when `y` needs more.
fn exact(y: f64) -> Option<(i128, u32)> {
    let b = y.to_bits();
    let exp = ((b >> 52) & 0x7ff) as i32;
    let mut mant = (b & ((1u64 << 52) - 1)) as i128;
    if exp == 0x7ff {
        return None;
    }
    let e = if exp == 0 {
        -1074
    } else {
        mant |= 1 << 52;
        exp - 1075
    };
    let sign = if b >> 63 == 1 { -1 } else { 1 };
    if e >= 0 {
        return (e <= 72).then(|| (sign * (mant << e), 0));
    }
    let k = (-e) as u32;
    (k <= 120).then_some((sign * mant, k))
}

/// The reference parts of `y = num/2^k`: `⌊y⌋`, the fraction bits `d` (f = d/2^k) and `k`.
fn parts(num: i128, k: u32) -> (i128, u128, u32) {
    let floor = num >> k;
    let d = (num - (floor << k)) as u128;
    (floor, d, k)
}

fn ref_floor_bits(d: u128, k: u32, r: u32) -> u64 {
    (if k >= r { d >> (k - r) } else { d << (r - k) }) as u64
}

fn ref_rne_bits(d: u128, k: u32, r: u32) -> u64 {
    if k <= r {
        return (d << (r - k)) as u64;
    }
    let sh = k - r;
    let q = d >> sh;
    let rem = d & ((1u128 << sh) - 1);
    let half = 1u128 << (sh - 1);
    (q + (rem > half || (rem == half && q & 1 == 1)) as u128) as u64
}

fn ref_ceil_bits(d: u128, k: u32, r: u32) -> u64 {
    if k <= r {
        (d << (r - k)) as u64
    } else {
        let sh = k - r;
        ((d + (1u128 << sh) - 1) >> sh) as u64
    }
}

fn ref_cmp_half(d: u128, k: u32) -> Ordering {
    if k == 0 {
        Ordering::Less
    } else {
        d.cmp(&(1u128 << (k - 1)))
    }
}

/// The reference result of rounding `y = num/2^k` to an integer with random bits `u`.
fn reference(num: i128, k: u32, rounding: Rounding, u: u64) -> i128 {
    let (floor, d, k) = parts(num, k);
    let half = ref_cmp_half(d, k);
    let up = match rounding {
        Rounding::Floor => false,
        Rounding::TowardZero => num < 0 && d != 0,
        Rounding::NearestEven => {
            half == Ordering::Greater || (half == Ordering::Equal && floor & 1 == 1)
        }
        Rounding::NearestAway => half == Ordering::Greater || (half == Ordering::Equal && num >= 0),
        Rounding::Stochastic { bits } => (ref_floor_bits(d, k, bits) + u) >> bits != 0,
        Rounding::StochasticExact => u < ref_ceil_bits(d, k, 53),
        Rounding::StochasticCorrected { bits } => (ref_rne_bits(d, k, bits) + u) >> bits != 0,
    };
    floor + up as i128
}

const MODES: [Rounding; 14] = [
    Rounding::NearestEven,
    Rounding::NearestAway,
    Rounding::Floor,
    Rounding::TowardZero,
    Rounding::StochasticExact,
    Rounding::Stochastic { bits: 0 },
    Rounding::Stochastic { bits: 1 },
    Rounding::Stochastic { bits: 3 },
    Rounding::Stochastic { bits: 32 },
    Rounding::StochasticCorrected { bits: 0 },
    Rounding::StochasticCorrected { bits: 1 },
    Rounding::StochasticCorrected { bits: 2 },
    Rounding::StochasticCorrected { bits: 7 },
    Rounding::StochasticCorrected { bits: 32 },
];

/// The values: random `±m·2^−k` (so every `k` up to 120, small negative ones included), ties
/// and the `f64`s one ulp either side of them, values just inside (−1, 0), integers.
fn values() -> Vec<f64> {
    let mut g = Xoshiro::new(11, 3);
    let mut v = Vec::new();
    for _ in 0..4000 {
        let w = g.next_word();
        let m = (w >> 11).max(1) as f64;
        let k = (g.next_word() % 121) as i32;
        let y = m * 2f64.powi(-k - 1) / 2f64.powi(52); // |y| < 2^−k
        v.push(if w & 1 == 1 { -y } else { y });
    }
    for t in [
        -3.5f64, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -0.25, -0.75, -0.125, 0.0, -1.0,
    ] {
        v.extend([t, t.next_up(), t.next_down()]);
    }
    for e in [1, 2, 10, 30, 53, 54, 60, 62, 64, 70, 100, 119] {
        let s = 2f64.powi(-e);
        v.extend([-s, s, -1.0 + s, -0.5 + s, -0.5 - s, -s * 3.0]);
    }
    v.extend([
        -1.0f64.next_up(),
        (-1.0f64).next_up(),
        -(2f64.powi(-54)) - 0.5,
    ]);
    v.retain(|y| y.is_finite());
    v
}

#[test]
fn matches_exact_reference_every_mode() {
    let mut g = Xoshiro::new(12, 0);
    let mut checked = 0;
    for y in values() {
        let Some((num, k)) = exact(y) else { continue };
        let (_, d, k2) = parts(num, k);
        assert_eq!(frac_cmp_half(y), ref_cmp_half(d, k2), "cmp ½ of {y:e}");
        assert_eq!(
            frac_ceil_bits(y, 53),
            ref_ceil_bits(d, k2, 53),
            "ceil of {y:e}"
        );
        for r in [0, 1, 2, 3, 8, 32, 53] {
            assert_eq!(
                frac_floor_bits(y, r),
                ref_floor_bits(d, k2, r),
                "⌊f·2^{r}⌋ of {y:e}"
            );
            assert_eq!(
                frac_rne_bits(y, r),
                ref_rne_bits(d, k2, r),
                "rne(f·2^{r}) of {y:e}"
            );
        }
        for rounding in MODES {
            let r = rounding.bits_per_f64();
            let mask = if r == 0 { 0 } else { u64::MAX >> (64 - r) };
            for u in [0, 1, mask, mask / 2, mask / 2 + 1, g.next_word() & mask] {
                let u = u & mask;
                let want = reference(num, k, rounding, u);
                assert_eq!(
                    round_f64(y, 0, rounding, u),
                    want,
                    "{rounding} y={y:e} u={u}"
                );
                checked += 1;
            }
            // With fraction bits in the input format: y·2^−fl rounded at fl gives the same.
            if y.abs() < 1e12 && y.abs() > 1e-250 {
                assert_eq!(
                    round_f64(y / 16.0, 4, rounding, 0),
                    reference(num, k, rounding, 0)
                );
            }
        }
    }
    assert!(checked > 150_000, "{checked}");
}

/// Integer input that fits `i64`: the `f64` rule and `round_code` (the integer datapath's
/// rule) agree, bit for bit, for every mode whose random bits mean the same on both (all but
/// `sr`, which draws 53 bits on `f64` input and `k` on codes).
#[test]
fn agrees_with_round_code() {
    let mut g = Xoshiro::new(13, 0);
    for y in values() {
        let Some((num, k)) = exact(y) else { continue };
        if k == 0 || k > 62 || num.unsigned_abs() >= 1 << 62 {
            continue;
        }
        for rounding in MODES {
            if rounding == Rounding::StochasticExact {
                continue;
            }
            let r = rounding.bits_per_f64();
            let u = if r == 0 { 0 } else { g.next_word() >> (64 - r) };
            assert_eq!(
                round_f64(y, 0, rounding, u),
                round_code(num as i64, k as i32, rounding, u),
                "{rounding} y={y:e}"
            );
        }
    }
}

/// The two cases from the bug report, and fractions below 2^−1000.
#[test]
fn small_negative_values() {
    // −0.031249999999999997 in Q(8, 4): y = −½ + 2^−54, nearer to 0.
    let x = -0.031249999999999997f64;
    assert_eq!(x * 16.0, -0.5 + 2f64.powi(-54));
    assert_eq!(round_f64(x, 4, Rounding::NearestAway, 0), 0);
    assert_eq!(round_f64(x, 4, Rounding::NearestEven, 0), 0);
    assert_eq!(round_f64(-0.03125, 4, Rounding::NearestAway, 0), -1);
    assert_eq!(round_f64(-0.03125, 4, Rounding::NearestEven, 0), 0);
    // −10^−20 with sr:3: t = 7, so 7 of the 8 values of u carry.
    let ups = (0..8)
        .filter(|&u| round_f64(-1e-20, 4, Rounding::Stochastic { bits: 3 }, u) == 0)
        .count();
    assert_eq!(ups, 7);
    for y in [-1e-300f64, -5e-324] {
        assert_eq!(frac_floor_bits(y, 32), u32::MAX as u64);
        assert_eq!(frac_rne_bits(y, 32), 1 << 32);
        assert_eq!(frac_ceil_bits(y, 53), 1 << 53);
        assert_eq!(frac_cmp_half(y), Ordering::Greater);
        assert_eq!(round_f64(y, 0, Rounding::NearestEven, 0), 0);
        assert_eq!(round_f64(y, 0, Rounding::TowardZero, 0), 0);
        assert_eq!(round_f64(y, 0, Rounding::Floor, 0), -1);
        assert_eq!(round_f64(y, 0, Rounding::StochasticExact, (1 << 53) - 1), 0);
    }
}

/// `lane::RoundF64::round::<M>` in mode id `m` (the const generic chosen by hand, one arm a
/// mode, as the drivers' element loops do).
fn lane_round(rf: &lpmc_kernels::lane::RoundF64, m: u8, x: f64, u: u64) -> (i64, bool) {
    match m {
        0 => rf.round::<0>(x, u),
        1 => rf.round::<1>(x, u),
        2 => rf.round::<2>(x, u),
        3 => rf.round::<3>(x, u),
        4 => rf.round::<4>(x, u),
        5 => rf.round::<5>(x, u),
        _ => rf.round::<6>(x, u),
    }
}

/// The lane form `lane::RoundF64` (what every driver rounds an `f64` with) gives the
/// reference `round_f64` + overflow rule bit for bit, in every mode, on ties and the `f64`s
/// one ulp either side, tiny values of both signs, values near ±2^k and large magnitudes up to
/// the lane's 2^62 limit, in formats that saturate, wrap and never overflow.
#[test]
fn lane_round_f64_matches_reference() {
    use lpmc_kernels::lane::{mode_id, Fmt, RoundF64};
    use lpmc_kernels::Overflow;
    let mut v = values();
    for k in [1, 2, 7, 8, 31, 32, 52, 53, 54, 60, 61] {
        let p = 2f64.powi(k);
        for t in [p, p + 0.5, p - 0.5, -p, -p - 0.5, -p + 0.5] {
            v.extend([t, t.next_up(), t.next_down()]);
        }
    }
    let mut g = Xoshiro::new(14, 0);
    let mut checked = 0u64;
    for rounding in MODES {
        let m = mode_id(rounding);
        for (wl, fl, overflow) in [
            (64, 0, Overflow::Saturate),
            (8, 4, Overflow::Saturate),
            (8, 4, Overflow::Wrap),
            (32, 20, Overflow::Wrap),
            (16, 1, Overflow::Saturate),
        ] {
            let rf = RoundF64::new(Fmt { wl, fl, overflow }, rounding);
            for &x in &v {
                if rf.special(x) {
                    continue;
                }
                let u = g.next_word() & ((1u64 << rounding.bits_per_f64()) - 1);
                let want = overflow.apply(round_f64(x, fl, rounding, u), wl);
                assert_eq!(
                    lane_round(&rf, m, x, u),
                    want,
                    "{rounding:?} Q({wl},{fl}) {overflow:?} x = {x:e} u = {u}"
                );
                checked += 1;
            }
        }
    }
    // Every value is ordinary for some format (2^62 / 2^20 > every value but the largest).
    assert!(checked > 100_000, "only {checked} cases checked");
}
