//! Gaussian noise generators: an `f64` one for the float datapath and two fixed-point ones
//! for the integer datapath. No allocation; each documents exactly which random bits it takes.
//!
//! - [`box_muller`]: `f64` standard normals (Box–Muller), two words per pair of outputs.
//! - [`clt`]: the centred sum of `k` uniform `b`-bit integers (central limit theorem), an
//!   exact integer with known variance `k(4^b − 1)/3`.
//! - [`table`]: inverse-CDF table lookup with `t` random bits per element; the table (built by
//!   the caller, e.g. `lpmc::noise`) holds `2^t` codes.
//!
//! The transcendental functions are `libm`'s (pure Rust, FreeBSD msun): `ln` and `sin`/`cos`
//! are its algorithms, written here without branches so that a loop of pairs vectorizes, and
//! return its bits; the `f64` outputs are the same bits on every platform.

use crate::bits::WordSource;

/// 2^−53.
const INV_2_53: f64 = 1.0 / 9_007_199_254_740_992.0;

/// Fills `out` with standard normals by the Box–Muller transform.
///
/// Outputs come in pairs: pair `j` (elements `2j`, `2j+1`) draws two words `w1`, `w2`, in that
/// order, and with `u1 = ((w1 >> 11) + 1)·2^−53 ∈ (0, 1]`, `u2 = (w2 >> 11)·2^−53 ∈ [0, 1)`,
/// `r = √(−2 ln u1)` sets `out[2j] = r·cos(2πu2)`, `out[2j+1] = r·sin(2πu2)` (`ln`, `sin`,
/// `cos` with the bits of `libm::log` and `libm::sincos`, `√` correctly rounded). A call on `n`
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
/// `r = √(−2 ln u₁)`: [`ln_unit`] and [`sincos_turn`] are `libm::log` and `libm::sincos`
/// written without branches for the arguments that occur here, the square root is correctly
/// rounded (as `libm::sqrt`): the same bits, in a loop that vectorizes.
#[inline(always)]
pub fn box_muller_pair(w1: u64, w2: u64) -> (f64, f64) {
    let u1 = ((w1 >> 11) + 1) as f64 * INV_2_53;
    let u2 = (w2 >> 11) as f64 * INV_2_53;
    let r = (-2.0 * ln_unit(u1)).sqrt();
    let (s, c) = sincos_turn(2.0 * core::f64::consts::PI * u2);
    (r * c, r * s)
}

// `ln_unit` and `sincos_turn` follow FreeBSD's msun (`e_log.c`, `k_sin.c`, `k_cos.c`,
// `e_rem_pio2.c`), as ported by the `libm` crate:
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

/// `(sin x, cos x)` for `x ∈ [0, 2π)`: `libm::sincos` with every path it can take there
/// computed and the right one selected per argument (tiny `x`; `x < π/4`; the reductions by
/// `n·π/2` for n = 1…4; the "medium" reduction with one to three rounds near multiples of
/// π/2), then the quadrant `n mod 4`. Same operations as `libm`, so the same bits.
#[inline(always)]
fn sincos_turn(x: f64) -> (f64, f64) {
    const TO_INT: f64 = 1.5 / f64::EPSILON;
    const INV_PIO2: f64 = f64::from_bits(0x3fe45f30_6dc9c883); // 6.36619772367581382433e-1
    const PIO2_1: f64 = f64::from_bits(0x3ff921fb_54400000); // 1.57079632673412561417e0
    const PIO2_1T: f64 = f64::from_bits(0x3dd0b461_1a626331); // 6.07710050650619224932e-11
    const PIO2_2: f64 = f64::from_bits(0x3dd0b461_1a600000); // 6.07710050630396597660e-11
    const PIO2_2T: f64 = f64::from_bits(0x3ba3198a_2e037073); // 2.02226624879595063154e-21
    const PIO2_3: f64 = f64::from_bits(0x3ba3198a_2e000000); // 2.02226624871116645580e-21
    const PIO2_3T: f64 = f64::from_bits(0x397b839a_252049c1); // 8.47842766036889956997e-32
    let ix = (x.to_bits() >> 32) as u32 & 0x7fff_ffff;
    // Reduction by a fixed n·π/2 (x > π/4, not near a multiple of π/2).
    let nf: f64 = if ix <= 0x4002_d97c {
        1.0
    } else if ix <= 0x400f_6a7a {
        2.0
    } else if ix <= 0x4015_fdbc {
        3.0
    } else {
        4.0
    };
    let z = x - nf * PIO2_1;
    let fy0 = z - nf * PIO2_1T;
    let fy1 = (z - fy0) - nf * PIO2_1T;
    // The medium reduction: n = rint(x·2/π), up to three rounds of π/2's digits.
    let f_n = (x * INV_PIO2 + TO_INT) - TO_INT;
    let ex = (ix >> 20) as i32;
    let r1 = x - f_n * PIO2_1;
    let w1 = f_n * PIO2_1T;
    let y01 = r1 - w1;
    let r2 = r1 - f_n * PIO2_2;
    let w2 = f_n * PIO2_2T - ((r1 - r2) - f_n * PIO2_2);
    let y02 = r2 - w2;
    let r3 = r2 - f_n * PIO2_3;
    let w3 = f_n * PIO2_3T - ((r2 - r3) - f_n * PIO2_3);
    let y03 = r3 - w3;
    let ey = |y: f64| (y.to_bits() >> 52) as i32 & 0x7ff;
    let second = ex - ey(y01) > 16;
    let third = second && ex - ey(y02) > 49;
    let (r, w, my0) = if third {
        (r3, w3, y03)
    } else if second {
        (r2, w2, y02)
    } else {
        (r1, w1, y01)
    };
    let my1 = (r - my0) - w;
    let medium = (ix <= 0x400f_6a7a && (ix & 0xfffff) == 0x921fb)
        || ix == 0x4012_d97c
        || ix == 0x4019_21fb
        || ix > 0x401c_463b;
    let (n, y0, y1) = if medium {
        (f_n as i32, my0, my1)
    } else {
        (nf as i32, fy0, fy1)
    };
    let (s, c) = (k_sin(y0, y1, true), k_cos(y0, y1));
    // Quadrant n mod 4: (s, c), (c, −s), (−s, −c), (−c, s), as selects.
    let q = n & 3;
    let (a, b) = if q & 1 == 0 { (s, c) } else { (c, s) };
    let a = if q & 2 != 0 { -a } else { a };
    let b = if (q + 1) & 2 != 0 { -b } else { b };
    let (s, c) = (a, b);
    let small = (k_sin(x, 0.0, false), k_cos(x, 0.0));
    if ix < 0x3e46_a09e {
        (x, 1.0)
    } else if ix <= 0x3fe9_21fb {
        small
    } else {
        (s, c)
    }
}

/// `sin(x + y)` on `[−π/4, π/4]` (`y` the tail of a reduced argument, `tail` whether it is
/// used): msun's `__kernel_sin`.
#[inline(always)]
fn k_sin(x: f64, y: f64, tail: bool) -> f64 {
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
    if tail {
        x - ((z * (0.5 * y - v * r) - y) - v * S1)
    } else {
        x + v * (S1 + z * r)
    }
}

/// `cos(x + y)` on `[−π/4, π/4]`: msun's `__kernel_cos`.
#[inline(always)]
fn k_cos(x: f64, y: f64) -> f64 {
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
    w + (((1.0 - w) - hz) + (z * r - x * y))
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
