//! Gaussian noise generators: an `f64` one for the float datapath and two fixed-point ones
//! for the integer datapath. No allocation; each documents exactly which random bits it takes.
//!
//! - [`box_muller`]: `f64` standard normals (Box–Muller), two words per pair of outputs.
//! - [`clt`]: the centred sum of `k` uniform `b`-bit integers (central limit theorem), an
//!   exact integer with known variance `k(4^b − 1)/3`.
//! - [`table`]: inverse-CDF table lookup with `t` random bits per element; the table (built by
//!   the caller, e.g. `lpmc::noise`) holds `2^t` codes.
//!
//! Transcendental functions come from `libm` (pure Rust), so the `f64` outputs are the same
//! bits on every platform.

use crate::bits::WordSource;

/// 2^−53.
const INV_2_53: f64 = 1.0 / 9_007_199_254_740_992.0;

/// Fills `out` with standard normals by the Box–Muller transform.
///
/// Outputs come in pairs: pair `j` (elements `2j`, `2j+1`) draws two words `w1`, `w2`, in that
/// order, and with `u1 = ((w1 >> 11) + 1)·2^−53 ∈ (0, 1]`, `u2 = (w2 >> 11)·2^−53 ∈ [0, 1)`,
/// `r = √(−2 ln u1)` sets `out[2j] = r·cos(2πu2)`, `out[2j+1] = r·sin(2πu2)`. A call on `n`
/// elements draws exactly `2⌈n/2⌉` words; for odd `n` the last sine is dropped. The low 11
/// bits of every word are unused. |output| ≤ √(2·53·ln 2) ≈ 8.57.
///
/// ```
/// use lpmc_kernels::{noise::box_muller, XoshiroLanes};
/// let mut z = [0.0; 3];
/// box_muller(&mut XoshiroLanes::new(1, 0), &mut z);
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
/// use lpmc_kernels::{noise::{box_muller, box_muller_at}, WordSource, XoshiroLanes};
/// let mut words = [0u64; 6];
/// XoshiroLanes::new(2, 0).fill(&mut words);
/// let mut all = [0.0; 6];
/// box_muller(&mut XoshiroLanes::new(2, 0), &mut all);
/// let mut mid = [0.0; 3];
/// box_muller_at(&words, 1, &mut mid);
/// assert_eq!(mid, all[1..4]);
/// ```
///
/// # Panics
/// If `words` has fewer than `2⌈(start + out.len())/2⌉` words.
pub fn box_muller_at(words: &[u64], start: usize, out: &mut [f64]) {
    let mut i = start;
    let mut o = 0;
    while o < out.len() {
        let j = i / 2;
        let (c, s) = box_muller_pair(words[2 * j], words[2 * j + 1]);
        if i % 2 == 1 {
            out[o] = s;
            o += 1;
            i += 1;
            continue;
        }
        out[o] = c;
        if let Some(v) = out.get_mut(o + 1) {
            *v = s;
        }
        o += 2;
        i += 2;
    }
}

/// One Box–Muller pair `(r·cos 2πu₂, r·sin 2πu₂)` from two words (see [`box_muller`]).
#[inline]
fn box_muller_pair(w1: u64, w2: u64) -> (f64, f64) {
    let u1 = ((w1 >> 11) + 1) as f64 * INV_2_53;
    let u2 = (w2 >> 11) as f64 * INV_2_53;
    let r = libm::sqrt(-2.0 * libm::log(u1));
    let (s, c) = libm::sincos(2.0 * core::f64::consts::PI * u2);
    (r * c, r * s)
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
/// use lpmc_kernels::{noise::clt, XoshiroLanes};
/// let mut n = [0i64; 5];
/// clt(4, 8, &mut XoshiroLanes::new(1, 0), &mut n);
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
