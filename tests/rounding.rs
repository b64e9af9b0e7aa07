//! Properties of formats and rounding through the library API: range, ties, edges,
//! the exact probabilities of every stochastic mode, the statistics of the random streams,
//! agreement with the `fixed` crate, and no panic on any input.

use fixed::types::extra::{U10, U3, U4, U8};
use fixed::{FixedI16, FixedI32, FixedI8};
use lpmc::format::{Codes, Format, MAX_FL, MAX_WL, MIN_WL};
use lpmc::round::{p_up, quantize, requantize, round_f64, theory, Overflow, Rounding};
use lpmc_kernels::{Platform, WordSource, Xoshiro};
use proptest::prelude::*;

const ALL: [Rounding; 11] = [
    Rounding::NearestEven,
    Rounding::NearestAway,
    Rounding::Floor,
    Rounding::TowardZero,
    Rounding::StochasticExact,
    Rounding::Stochastic { bits: 0 },
    Rounding::Stochastic { bits: 1 },
    Rounding::Stochastic { bits: 6 },
    Rounding::Stochastic { bits: 32 },
    Rounding::StochasticCorrected { bits: 2 },
    Rounding::StochasticCorrected { bits: 16 },
];

/// A spread of formats: narrow, container-filling, pure-fraction, wide.
fn formats() -> Vec<Format> {
    let mut v = vec![];
    for (wl, fl) in [
        (2, 0),
        (2, 1),
        (3, 5),
        (6, 2),
        (8, 3),
        (8, 4),
        (8, 8),
        (8, 10),
        (12, 6),
        (16, 12),
        (24, 30),
        (32, 16),
        (33, 40),
        (64, 0),
        (64, 62),
    ] {
        for ov in [Overflow::Saturate, Overflow::Wrap] {
            v.push(Format::new(wl, fl).unwrap().with_overflow(ov));
        }
    }
    v
}

/// Every result is a code of the format, for values inside, at and far outside the range.
#[test]
fn results_always_in_range() {
    let mut bits = Xoshiro::new(3, 0);
    for f in formats() {
        let d = f.delta();
        let values = [
            0.0,
            d / 3.0,
            -d / 3.0,
            f.max_value(),
            f.max_value() + d / 2.0,
            f.max_value() + d,
            f.min_value(),
            f.min_value() - d / 2.0,
            f.min_value() - d,
            1e300,
            -1e300,
            f64::MIN_POSITIVE,
            12345.678,
        ];
        for r in ALL {
            for &x in &values {
                let c = round_f64(x, f, r, &mut bits).unwrap().code;
                assert!(
                    c >= f.min_code() && c <= f.max_code(),
                    "{f} {r} x={x} -> {c}"
                );
            }
        }
    }
}

/// Deterministic modes on exact ties ±(k + ½)Δ and on the range edges.
#[test]
fn deterministic_ties_and_edges() {
    let mut bits = Xoshiro::new(0, 0);
    let f = Format::new(8, 4).unwrap();
    let d = f.delta();
    let code =
        |x: f64, r: Rounding, f: Format, bits: &mut Xoshiro| round_f64(x, f, r, bits).unwrap().code;
    // (value in steps, nearest-even, nearest-away, floor, toward-zero)
    let cases = [
        (0.5, 0, 1, 0, 0),
        (1.5, 2, 2, 1, 1),
        (2.5, 2, 3, 2, 2),
        (-0.5, 0, -1, -1, 0),
        (-1.5, -2, -2, -2, -1),
        (-2.5, -2, -3, -3, -2),
        (7.25, 7, 7, 7, 7),
        (-7.25, -7, -7, -8, -7),
        (7.75, 8, 8, 7, 7),
        (-7.75, -8, -8, -8, -7),
    ];
    for (y, ne, na, fl, tz) in cases {
        let x = y * d;
        assert_eq!(code(x, Rounding::NearestEven, f, &mut bits), ne, "ne {y}");
        assert_eq!(code(x, Rounding::NearestAway, f, &mut bits), na, "na {y}");
        assert_eq!(code(x, Rounding::Floor, f, &mut bits), fl, "floor {y}");
        assert_eq!(code(x, Rounding::TowardZero, f, &mut bits), tz, "tz {y}");
    }
    // Edges: the largest value rounds to itself; half a step above it saturates or wraps.
    let top = f.max_value();
    for r in ALL {
        assert_eq!(code(top, r, f, &mut bits), 127);
        assert_eq!(code(f.min_value(), r, f, &mut bits), -128);
    }
    let above = top + d / 2.0; // 127.5 steps: nearest-even -> 128 -> overflow
    let res = round_f64(above, f, Rounding::NearestEven, &mut bits).unwrap();
    assert_eq!((res.code, res.overflow), (127, true));
    let wrap = f.with_overflow(Overflow::Wrap);
    let res = round_f64(above, wrap, Rounding::NearestEven, &mut bits).unwrap();
    assert_eq!((res.code, res.overflow), (-128, true));
    let res = round_f64(above, wrap, Rounding::Floor, &mut bits).unwrap();
    assert_eq!((res.code, res.overflow), (127, false));
}

/// `floor` on integer codes is two's complement truncation: an arithmetic shift right.
#[test]
fn floor_is_truncation() {
    let mut bits = Xoshiro::new(0, 0);
    let src: Vec<i32> = (-70_000..70_000).step_by(7).collect();
    let f = Format::new(32, 4).unwrap();
    let mut dst = Codes::zeros(f.container(), src.len());
    requantize(
        &Codes::I32(src.clone()),
        9,
        f,
        Rounding::Floor,
        &mut dst,
        &mut bits,
    )
    .unwrap();
    let want: Vec<i64> = src.iter().map(|&k| (k >> 5) as i64).collect();
    assert_eq!(dst.to_i64(), want);
    // A narrow format keeps the low WL bits under wrap: truncation of the high bits too.
    let f6 = Format::new(6, 0).unwrap().with_overflow(Overflow::Wrap);
    let mut dst = Codes::zeros(f6.container(), src.len());
    requantize(
        &Codes::I32(src.clone()),
        0,
        f6,
        Rounding::Floor,
        &mut dst,
        &mut bits,
    )
    .unwrap();
    let want: Vec<i64> = src.iter().map(|&k| ((k << 26) >> 26) as i64).collect();
    assert_eq!(dst.to_i64(), want);
}

/// A source that hands out a counter: with `R` bits per element and one element per call,
/// `2^R` consecutive calls see every `R`-bit pattern once.
struct Counter(u64);
impl WordSource for Counter {
    fn next_word(&mut self) -> u64 {
        self.0 += 1;
        self.0 - 1
    }
}

/// Exact, not statistical: over all `2^R` random patterns, `sr:R` rounds up exactly
/// `⌊f·2^R⌋` times, `src:R` exactly `round_half_even(f·2^R)` times, and `sr` on a code with
/// `s` discarded bits exactly `d` times out of `2^s`.
#[test]
fn stochastic_probabilities_are_exact() {
    let f = Format::new(16, 4).unwrap();
    for &(y, r) in &[
        (4.8, 2u32),
        (4.8, 6),
        (-3.3, 5),
        (0.999, 10),
        (2.5, 1),
        (7.125, 3),
    ] {
        let x = y * f.delta();
        for rounding in [
            Rounding::Stochastic { bits: r },
            Rounding::StochasticCorrected { bits: r },
        ] {
            let mut c = Counter(0);
            let lo = (x * 16.0).floor() as i64;
            let ups = (0..1u64 << r)
                .filter(|_| round_f64(x, f, rounding, &mut c).unwrap().code == lo + 1)
                .count() as f64;
            let want = theory(x, f, rounding).p_up * (1u64 << r) as f64;
            assert_eq!(ups, want, "{rounding} y={y}");
            assert_eq!(want, p_up(rounding, x * 16.0) * (1u64 << r) as f64);
        }
    }
    // sr (exact) on integer codes: 12 discarded bits, d = 0xABC.
    let src = Codes::I32(vec![0x5ABC]);
    let f8 = Format::new(8, 0).unwrap();
    let mut c = Counter(0);
    let mut ups = 0;
    for _ in 0..1 << 12 {
        let mut dst = Codes::zeros(f8.container(), 1);
        requantize(&src, 12, f8, Rounding::StochasticExact, &mut dst, &mut c).unwrap();
        ups += (dst.get(0) == 6) as u32;
    }
    assert_eq!(ups, 0xABC);
}

/// Measured with real streams: `sr` is unbiased, `sr:R` is biased by exactly
/// `(⌊f·2^R⌋/2^R − f)·Δ`, and the variance is `Δ²·p(1−p)`.
///
/// Tolerance: the measured up-fraction over n roundings has standard deviation
/// `√(p(1−p)/n) ≤ 0.5/√n`; with n = 2^20 that is ≤ 4.9e−4, and we allow 5σ = 2.5e−3 (in
/// steps). The bias of sr:2 at f = 0.8 is 0.05 steps — 100σ — so "unbiased" and "biased as the
/// formula says" cannot both pass by luck. The variance estimate `p̂(1−p̂)Δ²` differs from
/// `p(1−p)Δ²` by ≈ |1−2p|·|p̂−p|·Δ² ≤ 5σ·Δ².
#[test]
fn stochastic_rounding_statistics() {
    let n = 1 << 20;
    let f = Format::new(8, 4).unwrap();
    for (i, &(y, rounding)) in [
        (4.8, Rounding::StochasticExact),
        (4.8, Rounding::Stochastic { bits: 2 }),
        (4.8, Rounding::Stochastic { bits: 8 }),
        (-3.3, Rounding::StochasticExact),
        (-3.3, Rounding::Stochastic { bits: 3 }),
        (0.3, Rounding::StochasticCorrected { bits: 2 }),
    ]
    .iter()
    .enumerate()
    {
        let x = y * f.delta();
        let xs = vec![x; n];
        let mut dst = Codes::zeros(f.container(), n);
        let mut bits = Xoshiro::new(11, i as u64);
        quantize(&xs, f, rounding, &mut dst, &mut bits).unwrap();
        let lo = y.floor() as i64;
        let ups = dst.to_i64().iter().filter(|&&c| c == lo + 1).count() as f64 / n as f64;
        let t = theory(x, f, rounding);
        let tol = 5.0 * 0.5 / (n as f64).sqrt();
        assert!(
            (ups - t.p_up).abs() < tol,
            "{rounding} y={y}: {ups} vs {}",
            t.p_up
        );
        let mean = (lo as f64 + ups) * f.delta();
        assert!((mean - t.mean).abs() < tol * f.delta());
        let var = ups * (1.0 - ups) * f.delta().powi(2);
        assert!((var - t.var).abs() < tol * f.delta().powi(2));
        if rounding == Rounding::StochasticExact {
            assert!((mean - x).abs() < tol * f.delta(), "sr is unbiased");
        }
    }
    // The bias of sr:R is the formula's: −(f − ⌊f·2^R⌋/2^R)·Δ.
    let t = theory(4.8 * f.delta(), f, Rounding::Stochastic { bits: 2 });
    assert!((t.mean - 4.8 * f.delta() + 0.05 * f.delta()).abs() < 1e-15);
}

/// Same seed, same bits; another stream index, other bits.
#[test]
fn streams_are_reproducible_and_distinct() {
    let f = Format::new(8, 4).unwrap();
    let xs: Vec<f64> = (0..4096).map(|i| (i as f64 * 0.37).sin() * 5.0).collect();
    let run = |seed, stream| {
        let mut dst = Codes::zeros(f.container(), xs.len());
        let mut bits = Xoshiro::new(seed, stream);
        quantize(
            &xs,
            f,
            Rounding::Stochastic { bits: 8 },
            &mut dst,
            &mut bits,
        )
        .unwrap();
        dst
    };
    assert_eq!(run(5, 0), run(5, 0));
    assert_ne!(run(5, 0), run(5, 1));
    assert_ne!(run(5, 0), run(6, 0));
}

/// Where WL fills the container, nearest-even with saturation or wrap is exactly the `fixed`
/// crate's float conversion, and floor requantization is its fixed-to-fixed conversion.
#[test]
fn agrees_with_fixed_crate() {
    let mut bits = Xoshiro::new(0, 0);
    let mut g = Xoshiro::new(1, 1);
    let ne = Rounding::NearestEven;
    let f8 = Format::new(8, 4).unwrap();
    let f16 = Format::new(16, 10).unwrap();
    let f32 = Format::new(32, 3).unwrap();
    for i in 0..20_000 {
        let w = g.next_word();
        let x = ((w >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 2f64.powi((i % 40) - 8);
        for ov in [Overflow::Saturate, Overflow::Wrap] {
            let c8 = round_f64(x, f8.with_overflow(ov), ne, &mut bits)
                .unwrap()
                .code;
            let c16 = round_f64(x, f16.with_overflow(ov), ne, &mut bits)
                .unwrap()
                .code;
            let c32 = round_f64(x, f32.with_overflow(ov), ne, &mut bits)
                .unwrap()
                .code;
            let (w8, w16, w32) = match ov {
                Overflow::Saturate => (
                    FixedI8::<U4>::saturating_from_num(x).to_bits() as i64,
                    FixedI16::<U10>::saturating_from_num(x).to_bits() as i64,
                    FixedI32::<U3>::saturating_from_num(x).to_bits() as i64,
                ),
                Overflow::Wrap => (
                    FixedI8::<U4>::wrapping_from_num(x).to_bits() as i64,
                    FixedI16::<U10>::wrapping_from_num(x).to_bits() as i64,
                    FixedI32::<U3>::wrapping_from_num(x).to_bits() as i64,
                ),
            };
            assert_eq!((c8, c16, c32), (w8, w16, w32), "x={x} {ov}");
        }
        // i16 with 8 fraction bits -> i8 with 4: floor = fixed's conversion (rounds to −∞).
        let k = (w >> 48) as i16;
        let src = Codes::I16(vec![k]);
        for ov in [Overflow::Saturate, Overflow::Wrap] {
            let mut dst = Codes::zeros(f8.container(), 1);
            requantize(
                &src,
                8,
                f8.with_overflow(ov),
                Rounding::Floor,
                &mut dst,
                &mut bits,
            )
            .unwrap();
            let from = FixedI16::<U8>::from_bits(k);
            let want = match ov {
                Overflow::Saturate => FixedI8::<U4>::saturating_from_num(from),
                Overflow::Wrap => FixedI8::<U4>::wrapping_from_num(from),
            };
            assert_eq!(dst.get(0), want.to_bits() as i64, "k={k} {ov}");
        }
    }
}

fn any_rounding() -> impl Strategy<Value = Rounding> {
    prop_oneof![
        Just(Rounding::NearestEven),
        Just(Rounding::NearestAway),
        Just(Rounding::Floor),
        Just(Rounding::TowardZero),
        Just(Rounding::StochasticExact),
        (0u32..=32).prop_map(|bits| Rounding::Stochastic { bits }),
        (0u32..=32).prop_map(|bits| Rounding::StochasticCorrected { bits }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Random formats (valid or not) and values (finite or not) never panic the library API;
    /// valid inputs give an in-range code between the neighbours of the value.
    #[test]
    fn no_panic_and_between_neighbours(
        wl in -5i64..80, fl in -5i64..70, x in any::<f64>(), r in any_rounding(),
        wrap in any::<bool>(), seed in any::<u64>()
    ) {
        let Ok(f) = Format::from_i64(wl, fl) else {
            prop_assert!(!(MIN_WL as i64..=MAX_WL as i64).contains(&wl) || !(0..=MAX_FL as i64).contains(&fl));
            return Ok(());
        };
        let f = f.with_overflow(if wrap { Overflow::Wrap } else { Overflow::Saturate });
        let mut bits = Xoshiro::new(seed, 0);
        match round_f64(x, f, r, &mut bits) {
            Err(_) => prop_assert!(!x.is_finite()),
            Ok(res) => {
                prop_assert!(res.code >= f.min_code() && res.code <= f.max_code());
                let t = theory(x, f, r);
                if !res.overflow {
                    let c = res.code as i128;
                    prop_assert!(c == t.lo_code || c == t.hi_code, "{} not in [{}, {}]", c, t.lo_code, t.hi_code);
                }
            }
        }
    }

    /// Deterministic modes are monotone: x ≤ y ⇒ q(x) ≤ q(y) under saturation.
    #[test]
    fn deterministic_modes_are_monotone(
        wl in 2u32..=32, fl in 0u32..=20, a in -1e4f64..1e4, b in -1e4f64..1e4,
        r in prop_oneof![Just(Rounding::NearestEven), Just(Rounding::NearestAway),
                         Just(Rounding::Floor), Just(Rounding::TowardZero)]
    ) {
        let f = Format::new(wl, fl).unwrap();
        let mut bits = Xoshiro::new(0, 0);
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let qa = round_f64(lo, f, r, &mut bits).unwrap().code;
        let qb = round_f64(hi, f, r, &mut bits).unwrap().code;
        prop_assert!(qa <= qb);
    }

    /// Requantizing random codes between random formats: in range, between neighbours, and
    /// identical on every kernel platform.
    #[test]
    fn requantize_random_formats(
        src_fl in 0u32..=62, wl in 2u32..=64, fl in 0u32..=62, r in any_rounding(),
        codes in proptest::collection::vec(any::<i64>(), 0..40), seed in any::<u64>()
    ) {
        let f = Format::new(wl, fl).unwrap();
        let src = Codes::I64(codes.clone());
        let mut want = Codes::zeros(f.container(), codes.len());
        requantize(&src, src_fl, f, r, &mut want, &mut Xoshiro::new(seed, 0)).unwrap();
        let shift = src_fl as i32 - fl as i32;
        for (i, &k) in codes.iter().enumerate() {
            let c = want.get(i);
            prop_assert!(c >= f.min_code() && c <= f.max_code());
            let fits = |c: i128| !f.overflow().apply(c, wl).1;
            let floor = (k >> shift.max(0)) as i128;
            if shift > 0 && fits(floor) && fits(floor + 1) {
                prop_assert!(c == k >> shift || c == (k >> shift) + 1);
            }
        }
        for p in Platform::all() {
            let mut got = vec![0i64; codes.len()];
            p.requantize(f.spec(r), shift, &codes, &mut got, &mut Xoshiro::new(seed, 0));
            prop_assert_eq!(&got, &want.to_i64());
        }
    }
}
