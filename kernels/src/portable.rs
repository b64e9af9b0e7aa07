//! The scalar reference of every kernel: one element at a time, every case spelled out.
//!
//! [`round_code`] and [`round_f64`] are the definitions of the rounding modes on integer and
//! `f64` input; the slice kernels apply them with the packing rule of [`crate::bits`] and the
//! overflow rule of [`crate::Overflow`].

use crate::bits::WordSource;
use crate::lane::{mode_id, with_mode};
use crate::mode::F64_EXACT_BITS;
use crate::{Code, Rounding, Spec};

/// `R` most significant bits of an `s`-bit fraction `d` (zero-padded when `R > s`).
#[inline(always)]
pub(crate) fn top_bits(d: u64, s: u32, r: u32) -> u64 {
    if r <= s {
        d >> (s - r)
    } else {
        d << (r - s)
    }
}

/// An `s`-bit fraction `d` rounded to `R` bits, ties to even; the result is in `0..=2^R`.
#[inline(always)]
pub(crate) fn rne_bits(d: u64, s: u32, r: u32) -> u64 {
    if r >= s {
        return d << (r - s);
    }
    let sh = s - r;
    let q = d >> sh;
    let rem = d & ((1u64 << sh) - 1);
    let half = 1u64 << (sh - 1);
    q + (rem > half || (rem == half && q & 1 == 1)) as u64
}

/// Rounds the code `k`, which has `shift` more fraction bits than the target, to a target
/// code (before overflow). `u` holds the element's random bits
/// (`rounding.bits_per_code(shift)` of them, in the low bits). `shift` is in `-63..=63`.
///
/// With `s = shift > 0`, `⌊y⌋ = k >> s` and the discarded bits `d = k mod 2^s`:
/// - `Floor`: `k >> s`; `TowardZero`: `+1` when `k < 0` and `d ≠ 0`;
/// - `NearestEven` / `NearestAway`: `+1` when `d > 2^(s−1)`, or on a tie when `⌊y⌋` is odd /
///   when `k ≥ 0`;
/// - `Stochastic { bits: R }`: `+ ((top_R(d) + u) >> R)`;
/// - `StochasticExact`: `+ ((d + u) >> s)` with `s` random bits;
/// - `StochasticCorrected { bits: R }`: `+ ((rne_R(d) + u) >> R)`.
///
/// With `shift ≤ 0` the code is shifted left exactly and no rounding happens.
///
/// ```
/// use lpmc_kernels::{portable::round_code, Rounding};
/// // 0b1011.1000 (11.5) with 4 fraction bits dropped: a tie.
/// assert_eq!(round_code(0b1011_1000, 4, Rounding::NearestEven, 0), 0b1100);
/// assert_eq!(round_code(-0b1011_1000, 4, Rounding::NearestAway, 0), -0b1100);
/// assert_eq!(round_code(-0b1011_1000, 4, Rounding::Floor, 0), -0b1100);
/// // sr:2 keeps the bits `10` of the fraction .1000; random bits 0b01 do not carry, 0b10 do.
/// assert_eq!(round_code(0b1011_1000, 4, Rounding::Stochastic { bits: 2 }, 0b01), 0b1011);
/// assert_eq!(round_code(0b1011_1000, 4, Rounding::Stochastic { bits: 2 }, 0b10), 0b1100);
/// ```
#[inline]
pub fn round_code(k: i64, shift: i32, rounding: Rounding, u: u64) -> i128 {
    if shift <= 0 {
        return (k as i128) << (-shift) as u32;
    }
    let s = shift as u32;
    let floor = (k >> s) as i128;
    let d = (k as u64) & ((1u64 << s) - 1);
    let half = 1u64 << (s - 1);
    let up = match rounding {
        Rounding::Floor => false,
        Rounding::TowardZero => k < 0 && d != 0,
        Rounding::NearestEven => d > half || (d == half && floor & 1 == 1),
        Rounding::NearestAway => d > half || (d == half && k >= 0),
        Rounding::Stochastic { bits } => (top_bits(d, s, bits) + u) >> bits != 0,
        Rounding::StochasticExact => (d + u) >> s != 0,
        Rounding::StochasticCorrected { bits } => (rne_bits(d, s, bits) + u) >> bits != 0,
    };
    floor + up as i128
}

/// Magnitude beyond which a rounded `f64` is represented by `±2^126`: every such integer is a
/// multiple of 2^64, so `±2^126` has the same sign (saturation) and the same residue modulo
/// 2^WL (wrap, WL ≤ 64) as the true value.
pub const F64_BIG: f64 = 85_070_591_730_234_615_865_843_651_857_942_052_864.0; // 2^126

/// Rounds `x` to a code with `fl` fraction bits (before overflow); `u` holds the element's
/// random bits (`rounding.bits_per_f64()` of them, in the low bits). `x` must not be NaN.
///
/// With `y = x·2^fl` (exact), `⌊y⌋` and the discarded fraction `f = y − ⌊y⌋` taken exactly
/// (never formed in `f64`, where `1 + y` rounds for small negative `y`): deterministic modes
/// as in [`round_code`]; `Stochastic { bits: R }`: `+ ((⌊f·2^R⌋ + u) >> R)`;
/// `StochasticExact`: `+1` iff `u < f·2^53` (53 random bits), i.e. iff `u < ⌈f·2^53⌉`;
/// `StochasticCorrected { bits: R }`: `+ ((round_half_even(f·2^R) + u) >> R)`.
/// The exact parts are [`frac_cmp_half`], [`frac_floor_bits`], [`frac_rne_bits`] and
/// [`frac_ceil_bits`]. Infinite `x`, or `|y| ≥ 2^126`, gives `±2^126` (see [`F64_BIG`]).
///
/// ```
/// use lpmc_kernels::{portable::round_f64, Rounding};
/// assert_eq!(round_f64(0.30, 4, Rounding::NearestEven, 0), 5);   // 4.8 -> 5 (0.3125)
/// assert_eq!(round_f64(-0.30, 4, Rounding::Floor, 0), -5);       // -4.8 -> -5
/// assert_eq!(round_f64(-0.30, 4, Rounding::TowardZero, 0), -4);
/// // sr:1 on 4.8: the fraction .8 keeps one bit (1), so it rounds up iff the random bit is 1.
/// assert_eq!(round_f64(0.30, 4, Rounding::Stochastic { bits: 1 }, 0), 4);
/// assert_eq!(round_f64(0.30, 4, Rounding::Stochastic { bits: 1 }, 1), 5);
/// // y = −½ + 2^−54 is nearer to 0 than to −1, although 1 + y rounds to ½ in f64.
/// let y = -0.5 + 2f64.powi(-54);
/// assert_eq!(round_f64(y, 0, Rounding::NearestAway, 0), 0);
/// // y = −1.6·10^−19: f = 1 − 1.6·10^−19 keeps the 3 bits 111, so sr:3 carries for u ≥ 1.
/// assert_eq!(round_f64(-1e-20, 4, Rounding::Stochastic { bits: 3 }, 0), -1);
/// assert_eq!(round_f64(-1e-20, 4, Rounding::Stochastic { bits: 3 }, 1), 0);
/// ```
#[inline]
pub fn round_f64(x: f64, fl: u32, rounding: Rounding, u: u64) -> i128 {
    debug_assert!(!x.is_nan());
    let y = x * f64::from_bits(((1023 + fl) as u64) << 52);
    if y.abs() >= F64_BIG {
        return if y > 0.0 {
            1i128 << 126
        } else {
            -(1i128 << 126)
        };
    }
    let floor = y.floor();
    floor as i128 + f64_up(y, floor, rounding, u) as i128
}

/// The round-up decision of [`round_f64`] for `y` (finite, `|y| < 2^126`) with `floor = ⌊y⌋`
/// and the element's random bits `u`: [`f64_up_in`] with the mode chosen at run time.
#[inline(always)]
fn f64_up(y: f64, floor: f64, rounding: Rounding, u: u64) -> bool {
    let r = rounding_bits(rounding);
    with_mode!(mode_id(rounding), M => f64_up_in::<M>(y, floor, r, u))
}

/// `R` of `sr:R` / `src:R` (0 for the other modes).
#[inline(always)]
pub(crate) fn rounding_bits(rounding: Rounding) -> u32 {
    match rounding {
        Rounding::Stochastic { bits } | Rounding::StochasticCorrected { bits } => bits,
        _ => 0,
    }
}

/// The one definition of the round-up decision of an `f64` in mode `M` (see
/// [`crate::lane::mode_id`]), exact: `y` finite with `|y| < 2^126`, `floor = ⌊y⌋`, `r` the `R`
/// of `sr:R` / `src:R` (`≤ 53`), `u` the element's random bits (`sr`: 53 of them). The
/// discarded fraction `f = y − floor` is never formed in `f64` (for small negative `y` it
/// would be `1 + y`, rounded): each mode compares exact parts of it ([`half_parts`],
/// [`floor_bits`], [`rne_bits_f64`], [`ceil_bits`]). Branch-free in every mode, so the
/// element loops of [`crate::chunked::quantize_f64`] and [`crate::lane::RoundF64`] vectorize
/// with it; [`round_f64`] (the reference) takes it too.
#[inline(always)]
pub(crate) fn f64_up_in<const M: u8>(y: f64, floor: f64, r: u32, u: u64) -> bool {
    match M {
        0 => false,
        1 => (y < 0.0) & (y != floor),
        2 => {
            // A tie needs |floor| < 2^52, where |floor| + 2^52 is exact in [2^52, 2^53) and
            // its last mantissa bit is floor's parity: no cast, so it vectorizes.
            let (gt, tie) = half_parts(y, floor);
            gt | (tie & ((floor.abs() + 4_503_599_627_370_496.0).to_bits() & 1 == 1))
        }
        3 => {
            let (gt, tie) = half_parts(y, floor);
            gt | (tie & (y >= 0.0))
        }
        // Up iff the kept fraction bits plus u carry out of R bits: bits + u ≥ 2^R, i.e.
        // bits ≥ 2^R − u, compared in f64 (exact integers below 2^54; no f64 → u64 cast,
        // which AVX2 has no vector instruction for).
        4 => floor_bits(y, floor, r) >= (1u64 << r) as f64 - u53_to_f64(u),
        5 => u53_to_f64(u) < ceil_bits(y, floor, F64_EXACT_BITS),
        _ => {
            // src:0 rounds f to 0 or 1 ties-to-even, i.e. up iff f > ½ (as `rne_bits` does
            // for codes); rne(y·2^0) − floor would take a tie's parity from floor instead.
            let rounded = rne_bits_f64(y, floor, r) >= (1u64 << r) as f64 - u53_to_f64(u);
            let zero_bits = half_parts(y, floor).0;
            if r == 0 {
                zero_bits
            } else {
                rounded
            }
        }
    }
}

/// `1.5·2^52`: an integer-valued `f64` `v` with `|v| < 2^51`, plus this, lies in
/// `[2^52, 2^53)` where the step is 1, so `v` sits in the low mantissa bits.
const ROUND_MAGIC: f64 = 6_755_399_441_055_744.0;

/// The integer-valued `f64` `v` (`|v| < 2^51`) as `i64`, exact, by [`ROUND_MAGIC`]'s bits:
/// `v + 1.5·2^52` has the mantissa `2^51 + v`. Unlike `v as i64` (which AVX2 has no vector
/// instruction for) it is one add and one integer subtract in every lane.
#[inline(always)]
pub(crate) fn small_int_to_i64(v: f64) -> i64 {
    (v + ROUND_MAGIC).to_bits() as i64 - ROUND_MAGIC.to_bits() as i64
}

/// `u < 2^52` as `f64`, exact: `2^52 + u` is the `f64` with the bits `0x4330… | u`, and
/// subtracting `2^52` is exact. Vector code on AVX2, which has no `u64`/`i64` → `f64`
/// instruction.
#[inline(always)]
pub(crate) fn u52_to_f64(u: u64) -> f64 {
    const TWO52_BITS: u64 = 0x4330_0000_0000_0000;
    const TWO52: f64 = 4_503_599_627_370_496.0;
    f64::from_bits(TWO52_BITS | u) - TWO52
}

/// `u < 2^53` as `f64`, exact: its two 26/27-bit halves by [`u52_to_f64`], and
/// `hi·2^26 + lo < 2^53` is exact.
#[inline(always)]
pub(crate) fn u53_to_f64(u: u64) -> f64 {
    u52_to_f64(u >> 26) * 67_108_864.0 + u52_to_f64(u & ((1 << 26) - 1))
}

/// `(f > ½, f = ½)` for the fraction `f = y − floor`, exact. The rounded `f64` difference
/// `y − floor` is exact unless `−1 < y < 0` (then it is `1 + y`, which can round up to ½, never
/// down across it since `y ≤ −½` makes it exact); a computed ½ is a true tie iff
/// `y = floor + ½` (exact: a computed ½ means `|floor| < 2^52`).
#[inline(always)]
pub(crate) fn half_parts(y: f64, floor: f64) -> (bool, bool) {
    let f = y - floor;
    let half = f == 0.5;
    let tie = half & (y == floor + 0.5);
    ((f > 0.5) | (half & !tie), tie)
}

/// `⌊f·2^R⌋` for `f = y − floor`, `R ≤ 53`, exact, as an `f64` (an integer below `2^R`):
/// `⌊y·2^R⌋ − floor·2^R` (both exact integers in `f64`; their difference is an integer below
/// 2^R, so the subtraction is exact).
#[inline(always)]
pub(crate) fn floor_bits(y: f64, floor: f64, r: u32) -> f64 {
    let p = (1u64 << r) as f64;
    (y * p).floor() - floor * p
}

/// `round_half_even(f·2^R)` for `f = y − floor`, `R ≤ 53`, exact for `R ≥ 1`: `rne(y·2^R) −
/// floor·2^R`, as subtracting the even integer `floor·2^R` keeps ties and their parity; in
/// `0..=2^R`, as an `f64`.
#[inline(always)]
pub(crate) fn rne_bits_f64(y: f64, floor: f64, r: u32) -> f64 {
    let p = (1u64 << r) as f64;
    (y * p).round_ties_even() - floor * p
}

/// `⌈f·2^R⌉` for `f = y − floor`, `R ≤ 53`, exact, as an `f64` (an integer in `0..=2^R`).
#[inline(always)]
pub(crate) fn ceil_bits(y: f64, floor: f64, r: u32) -> f64 {
    let p = (1u64 << r) as f64;
    (y * p).ceil() - floor * p
}

/// How the discarded fraction `f = y − ⌊y⌋ ∈ [0, 1)` of a finite `y` (`|y| < 2^126`) compares
/// with ½, exact (the rounded `f64` difference is not, for small negative `y`).
///
/// ```
/// use core::cmp::Ordering;
/// use lpmc_kernels::portable::frac_cmp_half;
/// assert_eq!(frac_cmp_half(-2.5), Ordering::Equal);
/// assert_eq!(frac_cmp_half(-0.5 + 2f64.powi(-54)), Ordering::Greater); // 1 + y rounds to ½
/// assert_eq!(frac_cmp_half(3.25), Ordering::Less);
/// ```
pub fn frac_cmp_half(y: f64) -> core::cmp::Ordering {
    match half_parts(y, y.floor()) {
        (true, _) => core::cmp::Ordering::Greater,
        (false, true) => core::cmp::Ordering::Equal,
        (false, false) => core::cmp::Ordering::Less,
    }
}

/// `⌊f·2^R⌋` for the discarded fraction `f = y − ⌊y⌋` of a finite `y` (`|y| < 2^126`),
/// `R ≤ 53`, exact: the `R` most significant discarded bits, which `sr:R` keeps.
///
/// ```
/// use lpmc_kernels::portable::frac_floor_bits;
/// assert_eq!(frac_floor_bits(4.8, 2), 3);        // .8 = .11001…
/// assert_eq!(frac_floor_bits(-1.6e-19, 3), 7);   // f = 1 − 1.6·10^−19 = .111…, not 1
/// ```
pub fn frac_floor_bits(y: f64, r: u32) -> u64 {
    floor_bits(y, y.floor(), r) as u64
}

/// `round_half_even(f·2^R)` for the discarded fraction `f` of a finite `y` (`|y| < 2^126`),
/// `R ≤ 53`, exact; in `0..=2^R` (what `src:R` compares).
///
/// ```
/// use lpmc_kernels::portable::frac_rne_bits;
/// assert_eq!(frac_rne_bits(0.375, 2), 2);  // 1.5 quarters -> 2 (even)
/// assert_eq!(frac_rne_bits(0.625, 2), 2);  // 2.5 quarters -> 2 (even)
/// assert_eq!(frac_rne_bits(-1e-20, 3), 8); // f rounds to 1 at 3 bits
/// assert_eq!(frac_rne_bits(0.75, 0), 1);   // R = 0: f rounded to an integer
/// ```
pub fn frac_rne_bits(y: f64, r: u32) -> u64 {
    let floor = y.floor();
    if r == 0 {
        return half_parts(y, floor).0 as u64;
    }
    rne_bits_f64(y, floor, r) as u64
}

/// `⌈f·2^R⌉` for the discarded fraction `f` of a finite `y` (`|y| < 2^126`), `R ≤ 53`,
/// exact; in `0..=2^R`. `sr` on `f64` input rounds up iff its 53 random bits are below
/// `frac_ceil_bits(y, 53)`.
///
/// ```
/// use lpmc_kernels::portable::frac_ceil_bits;
/// assert_eq!(frac_ceil_bits(0.5, 53), 1 << 52);
/// assert_eq!(frac_ceil_bits(-1e-300, 53), 1 << 53); // f = 1 − 10^−300
/// assert_eq!(frac_ceil_bits(7.0, 53), 0);
/// ```
pub fn frac_ceil_bits(y: f64, r: u32) -> u64 {
    ceil_bits(y, y.floor(), r) as u64
}

/// One element of [`quantize_f64`], overflow rule included: NaN becomes code 0 and ±∞ the
/// extreme codes (saturation, whatever the overflow rule), each an event; finite values are
/// rounded by [`round_f64`], then `spec.overflow` applies. Returns `(code, event)`.
#[inline(always)]
pub(crate) fn quantize_f64_one(x: f64, fl: u32, spec: Spec, u: u64) -> (i64, bool) {
    if x.is_nan() {
        return (0, true);
    }
    let rule = if x.is_infinite() {
        crate::Overflow::Saturate
    } else {
        spec.overflow
    };
    rule.apply(round_f64(x, fl, spec.rounding, u), spec.wl)
}

/// Requantizes `src` (codes with `shift` more fraction bits than the target) into `dst`, the
/// scalar reference. Element `i` takes its random bits by the packing rule of
/// [`crate::bits`] with `R = spec.rounding.bits_per_code(shift)`. Returns the number of
/// overflow events (codes saturated or wrapped).
///
/// # Panics
/// If `src.len() != dst.len()`.
pub fn requantize<I: Code, O: Code, W: WordSource + ?Sized>(
    spec: Spec,
    shift: i32,
    src: &[I],
    dst: &mut [O],
    bits: &mut W,
) -> u64 {
    assert_eq!(src.len(), dst.len(), "requantize: length mismatch");
    let r = spec.rounding.bits_per_code(shift);
    let mut word = 0u64;
    let mut events = 0;
    for (i, (s, d)) in src.iter().zip(dst.iter_mut()).enumerate() {
        let u = element_bits(bits, &mut word, i, r);
        let q = round_code(s.to_i64(), shift, spec.rounding, u);
        let (c, ev) = spec.overflow.apply(q, spec.wl);
        *d = O::from_i64(c);
        events += ev as u64;
    }
    events
}

/// Rounds `src` to codes with `fl` fraction bits in `dst`, the scalar reference. Element `i`
/// takes `R = spec.rounding.bits_per_f64()` random bits by the packing rule (also when it is
/// NaN). NaN becomes code 0 and ±∞ the extreme codes (saturation, whatever the overflow rule),
/// each counted as an event. Returns the number of events.
///
/// # Panics
/// If `src.len() != dst.len()`.
pub fn quantize_f64<O: Code, W: WordSource + ?Sized>(
    spec: Spec,
    fl: u32,
    src: &[f64],
    dst: &mut [O],
    bits: &mut W,
) -> u64 {
    assert_eq!(src.len(), dst.len(), "quantize_f64: length mismatch");
    let r = spec.rounding.bits_per_f64();
    let mut word = 0u64;
    let mut events = 0;
    for (i, (&x, d)) in src.iter().zip(dst.iter_mut()).enumerate() {
        let u = element_bits(bits, &mut word, i, r);
        let (c, ev) = quantize_f64_one(x, fl, spec, u);
        *d = O::from_i64(c);
        events += ev as u64;
    }
    events
}

/// The `r` random bits of element `i`, drawing a new word into `word` when the packing rule
/// starts one.
#[inline(always)]
fn element_bits<W: WordSource + ?Sized>(bits: &mut W, word: &mut u64, i: usize, r: u32) -> u64 {
    if r == 0 {
        return 0;
    }
    let per = (64 / r) as usize;
    if i.is_multiple_of(per) {
        *word = bits.next_word();
    }
    let w = *word >> ((i % per) as u32 * r);
    if r == 64 {
        w
    } else {
        w & ((1u64 << r) - 1)
    }
}
