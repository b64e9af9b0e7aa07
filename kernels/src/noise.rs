//! Gaussian noise generators: an `f64` one for the float datapath and two fixed-point ones
//! for the integer datapath. No allocation; each documents exactly which random bits it takes.
//!
//! - [`box_muller`]: `f64` standard normals (Box–Muller), two words per pair of outputs.
//! - [`clt`]: the centred sum of `k` uniform `b`-bit integers (central limit theorem), an
//!   exact integer with known variance `k(4^b − 1)/3`.
//! - [`table`]: inverse-CDF table lookup with `t` random bits per element; the table (built by
//!   the caller, e.g. `lpmc::noise`) holds `2^t` codes.
//!
//! The transcendental functions are `libm`'s (pure Rust, FreeBSD msun) algorithms, written
//! here without branches so that a loop of pairs vectorizes: `ln` returns `libm::log`'s bits;
//! the angle `2πu₂` is reduced to `[−π/4, π/4]` exactly in turns and `sin`/`cos` there are
//! `libm`'s kernels. Only IEEE-754 adds, multiplies, one division and one square root are
//! used (no fused multiply-add), so the `f64` outputs are the same bits on every platform.

use crate::bits::WordSource;
use crate::portable::{u52_to_f64, u53_to_f64};

/// 2^−53.
const INV_2_53: f64 = 1.0 / 9_007_199_254_740_992.0;

/// Fills `out` with standard normals by the Box–Muller transform.
///
/// Outputs come in pairs: pair `j` (elements `2j`, `2j+1`) draws two words `w1`, `w2`, in that
/// order, and with `u1 = ((w1 >> 11) + 1)·2^−53 ∈ (0, 1]`, `u2 = (w2 >> 11)·2^−53 ∈ [0, 1)`,
/// `r = √(−2 ln u1)` sets `out[2j] = r·cos(2πu2)`, `out[2j+1] = r·sin(2πu2)` (`ln` with the
/// bits of `libm::log`, `√` correctly rounded; `sin`, `cos` by the exact reduction in turns of
/// [`box_muller_pair`], within about 2 ulp of the true values). A call on `n`
/// elements draws exactly `2⌈n/2⌉` words; for odd `n` the last sine is dropped. The low 11
/// bits of every word are unused. |output| ≤ √(2·53·ln 2) ≈ 8.57.
///
/// ```
/// use lpmc_kernels::{noise::box_muller, Xoshiro};
/// let mut z = [0.0; 3];
/// box_muller(&mut Xoshiro::new(1, 0), &mut z);
/// assert!(z.iter().all(|v| v.abs() < 8.6));
/// ```
pub fn box_muller<W: WordSource + ?Sized>(bits: &mut W, out: &mut [f64]) {
    let mut pairs = out.chunks_mut(2);
    for p in &mut pairs {
        let w1 = bits.next_word();
        let w2 = bits.next_word();
        let (c, s) = box_muller_pair(w1, w2);
        p[0] = c;
        if let Some(o) = p.get_mut(1) {
            *o = s;
        }
    }
}

/// Normals `start .. start + out.len()` of a [`box_muller`] call whose words are `words`
/// (pair `j` from `words[2j]`, `words[2j + 1]`): the same values, for a caller that holds
/// the words and needs a window of the outputs (e.g. a block of a fused step). An odd
/// `start` takes the sine of the pair it shares with element `start − 1`.
///
/// ```
/// use lpmc_kernels::{noise::{box_muller, box_muller_at}, WordSource, Xoshiro};
/// let mut words = [0u64; 6];
/// Xoshiro::new(2, 0).fill(&mut words);
/// let mut all = [0.0; 6];
/// box_muller(&mut Xoshiro::new(2, 0), &mut all);
/// let mut mid = [0.0; 3];
/// box_muller_at(&words, 1, &mut mid);
/// assert_eq!(mid, all[1..4]);
/// ```
///
/// # Panics
/// If `words` has fewer than `2⌈(start + out.len())/2⌉` words.
#[inline(always)]
pub fn box_muller_at(words: &[u64], start: usize, out: &mut [f64]) {
    let end = start + out.len();
    let (first, last) = (start / 2, end.div_ceil(2));
    // Up to 64 pairs at a time in a branch-free loop (it vectorizes), then placed.
    let mut zc = [0.0f64; 64];
    let mut zs = [0.0f64; 64];
    for j0 in (first..last).step_by(64) {
        let m = (last - j0).min(64);
        let w = words[2 * j0..2 * (j0 + m)].chunks_exact(2);
        for ((c, s), p) in zc[..m].iter_mut().zip(&mut zs[..m]).zip(w) {
            (*c, *s) = box_muller_pair(p[0], p[1]);
        }
        for k in 0..m {
            for (e, z) in [(2 * (j0 + k), zc[k]), (2 * (j0 + k) + 1, zs[k])] {
                if (start..end).contains(&e) {
                    out[e - start] = z;
                }
            }
        }
    }
}

/// One Box–Muller pair `(r·cos 2πu₂, r·sin 2πu₂)` from two words (see [`box_muller`]), with
/// `r = √(−2 ln u₁)`: `ln` is `libm::log` without its branches (none of which `u₁ ∈ (0, 1]`
/// takes), the square root is correctly rounded (as `libm::sqrt`); for `u₂ = m·2^−53`, with
/// `t = m + 2^50`, the quadrant `n = ⌊t/2^51⌋ mod 4` and `y = (t mod 2^51 − 2^50)·(π/2·2^−51)`
/// (one rounding; `|y| ≤ π/4`), `2πu₂ = n·π/2 + y` exactly in the angle, and
/// `(sin 2πu₂, cos 2πu₂)` is `(s, c)`, `(c, −s)`, `(−s, −c)`, `(−c, s)` for `n = 0…3` with
/// `s = libm::sin(y)`, `c = libm::cos(y)` (their bits). Branch-free, so a loop of pairs
/// vectorizes.
///
/// ```
/// use lpmc_kernels::noise::box_muller_pair;
/// // u₁ = 1 (r = 0) and u₂ = ¼ (a quarter turn).
/// assert_eq!(box_muller_pair(u64::MAX, 1 << 62), (0.0, 0.0));
/// // u₁ = 2^−53, the smallest (r = √(106 ln 2) ≈ 8.57), and u₂ = 0: (r, 0).
/// let (c, s) = box_muller_pair(0, 0);
/// assert_eq!(s, 0.0);
/// assert!((c - (2.0 * 53.0 * std::f64::consts::LN_2).sqrt()).abs() < 1e-12);
/// ```
#[inline(always)]
pub fn box_muller_pair(w1: u64, w2: u64) -> (f64, f64) {
    // (m + 1)·2^−53 = m·2^−53 + 2^−53, exact (m + 1 ≤ 2^53).
    let u1 = u53_to_f64(w1 >> 11) * INV_2_53 + INV_2_53;
    let r = (-2.0 * ln_unit(u1)).sqrt();
    let (s, c) = sincos_turn(w2 >> 11);
    (r * c, r * s)
}

// `ln_unit`, `k_sin` and `k_cos` follow FreeBSD's msun (`e_log.c`, `k_sin.c`, `k_cos.c`), as
// ported by the `libm` crate:
// Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
// Developed at SunSoft, a Sun Microsystems, Inc. business. Permission to use, copy, modify,
// and distribute this software is freely granted, provided that this notice is preserved.

/// `ln x` for `x ∈ [2^−53, 1]` (normal, positive): `libm::log`'s steps without its
/// special-case branches, none of which such an `x` takes (`x = 1` gives +0 either way).
/// `x = 2^k·(1 + f)` with `√2/2 < 1 + f < √2`, `s = f/(2 + f)`, and
/// `ln x = k·ln2_hi + (f − (hfsq − (s·(hfsq + R(s²)) + k·ln2_lo)))`, `R` a Remez polynomial.
#[inline(always)]
fn ln_unit(x: f64) -> f64 {
    const LN2_HI: f64 = f64::from_bits(0x3fe62e42_fee00000); // 6.93147180369123816490e-1
    const LN2_LO: f64 = f64::from_bits(0x3dea39ef_35793c76); // 1.90821492927058770002e-10
    const LG1: f64 = f64::from_bits(0x3fe55555_55555593); // 6.666666666666735130e-1
    const LG2: f64 = f64::from_bits(0x3fd99999_9997fa04); // 3.999999999940941908e-1
    const LG3: f64 = f64::from_bits(0x3fd24924_94229359); // 2.857142874366239149e-1
    const LG4: f64 = f64::from_bits(0x3fcc71c5_1d8e78af); // 2.222219843214978396e-1
    const LG5: f64 = f64::from_bits(0x3fc74664_96cb03de); // 1.818357216161805012e-1
    const LG6: f64 = f64::from_bits(0x3fc39a09_d078c69f); // 1.531383769920937332e-1
    const LG7: f64 = f64::from_bits(0x3fc2f112_df3e5244); // 1.479819860511658591e-1
    let ui = x.to_bits();
    let hx = (ui >> 32) as u32 + (0x3ff0_0000 - 0x3fe6_a09e);
    let k = (hx >> 20) as i32 - 0x3ff;
    let hx = (hx & 0x000f_ffff) + 0x3fe6_a09e;
    let x = f64::from_bits(((hx as u64) << 32) | (ui & 0xffff_ffff));
    let f = x - 1.0;
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = t2 + t1;
    let dk = k as f64;
    s * (hfsq + r) + dk * LN2_LO - hfsq + f + dk * LN2_HI
}

/// `(sin 2πu₂, cos 2πu₂)` for `u₂ = m·2^−53`, `m < 2^53` (the top 53 bits of a word), by the
/// reduction in turns [`box_muller_pair`] states: exact in the angle, since it comes in turns
/// and needs no digits of `π/2`, so the result is within about 2 ulp of the true values.
#[inline(always)]
fn sincos_turn(m: u64) -> (f64, f64) {
    const HALF_QUADRANT: u64 = 1 << 50;
    const QUADRANT_MASK: u64 = (1 << 51) - 1;
    // π/2 per quadrant of 2^51 codes.
    const RADIANS_PER_CODE: f64 = core::f64::consts::FRAC_PI_2 / (1u64 << 51) as f64;
    let t = m + HALF_QUADRANT;
    let n = (t >> 51) & 3;
    // t mod 2^51 − 2^50, exact in f64.
    let within = u52_to_f64(t & QUADRANT_MASK) - HALF_QUADRANT as f64;
    let y = within * RADIANS_PER_CODE;
    let (s, c) = (k_sin(y), k_cos(y));
    // Quadrant n: (s, c), (c, −s), (−s, −c), (−c, s), as selects.
    let (a, b) = if n & 1 == 0 { (s, c) } else { (c, s) };
    let a = if n & 2 != 0 { -a } else { a };
    let b = if (n + 1) & 2 != 0 { -b } else { b };
    (a, b)
}

/// `sin x` on `[−π/4, π/4]`: msun's `__kernel_sin` with no tail (`y = 0`), the bits of
/// `libm::sin` there (which returns `x` itself below 2^−26, where this rounds to `x` too).
#[inline(always)]
fn k_sin(x: f64) -> f64 {
    const S1: f64 = f64::from_bits(0xbfc55555_55555549); // -1.66666666666666324348e-1
    const S2: f64 = f64::from_bits(0x3f811111_1110f8a6); // 8.33333333332248946124e-3
    const S3: f64 = f64::from_bits(0xbf2a01a0_19c161d5); // -1.98412698298579493134e-4
    const S4: f64 = f64::from_bits(0x3ec71de3_57b1fe7d); // 2.75573137070700676789e-6
    const S5: f64 = f64::from_bits(0xbe5ae5e6_8a2b9ceb); // -2.50507602534068634195e-8
    const S6: f64 = f64::from_bits(0x3de5d93a_5acfd57c); // 1.58969099521155010221e-10
    let z = x * x;
    let w = z * z;
    let r = S2 + z * (S3 + z * S4) + z * w * (S5 + z * S6);
    let v = z * x;
    x + v * (S1 + z * r)
}

/// `cos x` on `[−π/4, π/4]`: msun's `__kernel_cos` with no tail, the bits of `libm::cos` there
/// (which returns 1 below 2^−26.5, where this rounds to 1 too).
#[inline(always)]
fn k_cos(x: f64) -> f64 {
    const C1: f64 = f64::from_bits(0x3fa55555_5555554c); // 4.16666666666666019037e-2
    const C2: f64 = f64::from_bits(0xbf56c16c_16c15177); // -1.38888888888741095749e-3
    const C3: f64 = f64::from_bits(0x3efa01a0_19cb1590); // 2.48015872894767294178e-5
    const C4: f64 = f64::from_bits(0xbe927e4f_809c52ad); // -2.75573143513906633035e-7
    const C5: f64 = f64::from_bits(0x3e21ee9e_bdb4b1c4); // 2.08757232129817482790e-9
    const C6: f64 = f64::from_bits(0xbda8fae9_be8838d4); // -1.13596475577881948265e-11
    let z = x * x;
    let w = z * z;
    let r = z * (C1 + z * (C2 + z * C3)) + w * w * (C4 + z * (C5 + z * C6));
    let hz = 0.5 * z;
    let w = 1.0 - hz;
    w + (((1.0 - w) - hz) + z * r)
}

/// Variance of one [`clt`] output, `k(4^b − 1)/3` (exact in `f64` for `b ≤ 26`).
pub fn clt_var(k: u32, b: u32) -> f64 {
    k as f64 * ((4f64).powi(b as i32) - 1.0) / 3.0
}

/// Fills `out` with centred sums of `k` uniform `b`-bit integers:
/// `out[i] = 2·Σ_{m<k} u_{ik+m} − k(2^b − 1)`, an exact integer with mean 0 and variance
/// [`clt_var`]`(k, b)`, in `[−k(2^b−1), k(2^b−1)]`.
///
/// Bits: the `n·k` uniforms of a call are taken in order `u_0, u_1, …` by the packing rule of
/// [`crate::bits`] with `R = b`: `⌊64/b⌋` uniforms per word, uniform `j` in bits
/// `[(j mod p)·b, (j mod p)·b + b)` of word `⌊j/p⌋`. A call draws `⌈n·k/⌊64/b⌋⌉` words.
/// `k ≥ 1`, `1 ≤ b ≤ 32`.
///
/// ```
/// use lpmc_kernels::{noise::clt, Xoshiro};
/// let mut n = [0i64; 5];
/// clt(4, 8, &mut Xoshiro::new(1, 0), &mut n);
/// assert!(n.iter().all(|v| v.abs() <= 4 * 255 && v % 2 == 0));
/// ```
pub fn clt<W: WordSource + ?Sized>(k: u32, b: u32, bits: &mut W, out: &mut [i64]) {
    debug_assert!(k >= 1 && (1..=32).contains(&b));
    let per = 64 / b;
    let mask = (1u64 << b) - 1;
    let offset = k as i64 * mask as i64;
    let (mut word, mut left) = (0u64, 0u32);
    for o in out.iter_mut() {
        let mut s = 0i64;
        for _ in 0..k {
            if left == 0 {
                word = bits.next_word();
                left = per;
            }
            s += (word & mask) as i64;
            word = if b == 64 { 0 } else { word >> b };
            left -= 1;
        }
        *o = 2 * s - offset;
    }
}

/// Fills `out` with table lookups: `out[i] = table[u_i]`, `u_i` a uniform `t`-bit index.
///
/// Bits: the indices are taken by the packing rule with `R = t` (`⌊64/t⌋` per word); a call
/// draws `⌈n/⌊64/t⌋⌉` words. `table.len()` must be `2^t`, `1 ≤ t ≤ 24`.
///
/// # Panics
/// If `table.len() != 2^t`.
pub fn table<W: WordSource + ?Sized>(table: &[i64], t: u32, bits: &mut W, out: &mut [i64]) {
    assert_eq!(table.len(), 1usize << t, "table: length must be 2^t");
    let per = 64 / t;
    let mask = (1u64 << t) - 1;
    let (mut word, mut left) = (0u64, 0u32);
    for o in out.iter_mut() {
        if left == 0 {
            word = bits.next_word();
            left = per;
        }
        *o = table[(word & mask) as usize];
        word >>= t;
        left -= 1;
    }
}
