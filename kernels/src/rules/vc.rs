//! Variance-corrected quantization Q^vc (\[S\] Algorithm 2, \[L\]): a grid value with a given
//! mean and variance, the Langevin noise and the rounding as one random draw. `lpmc::vc`
//! documents the derivation and the edge cases; this module is the one definition both the
//! samplers and `lpmc::vc` use.
//!
//! # Code units
//! With `y` the mean and `v` the variance in code units of the target format (Δ = 1,
//! v0 = Δ²/4 = [`V0`]), [`qvc_code`] returns θ with E θ = y and Var θ = v whenever that is
//! attainable (`v ≥ f(1−f)`, f the fraction of y), from a standard normal `z` and two words.
//! [`qvc_value`] adds the value-unit conversion, the edge cases and the overflow rule;
//! [`qvc_joint`] quantizes a pair `(x, v)` with a 2×2 covariance by sequential conditioning.
//!
//! # Lanes
//! [`QvcLanes`] is the branch-free form of [`qvc_value`] for a batch whose means are finite
//! with `|y| + 9·√(v − v0) + 2 < 2^52` (every `f64` rounding in it exact); other batches take
//! the scalar definition element by element, with the same results.

use crate::lane::{pow2, Fmt};
use crate::mode::F64_EXACT_BITS;
use crate::portable::{ceil_bits, round_f64};
use crate::{Overflow, Rounding};

/// v0 = Δ²/4 in code units: the variance of the categorical correction of the large-variance
/// branch, and the largest SR variance f(1−f).
pub const V0: f64 = 0.25;

const MASK53: u64 = (1 << 53) - 1;
const TWO53: f64 = 9_007_199_254_740_992.0;

/// A variance `var` (value units) of a format with `fl` fraction bits in code units:
/// `var·s·s` with `s = 2^fl` (exact power-of-two scalings); NaN or `var ≤ 0` gives 0.
///
/// ```
/// use lpmc_kernels::rules::vc::code_var;
/// assert_eq!(code_var(0.01, 4), 2.56);
/// assert_eq!(code_var(f64::NAN, 4), 0.0);
/// ```
pub fn code_var(var: f64, fl: u32) -> f64 {
    let s = pow2(fl as i32);
    if var > 0.0 {
        var * s * s
    } else {
        0.0
    }
}

/// Q^vc in code units, before the format's overflow rule: a grid value θ with mean `y` and
/// variance `v` (finite `y`, `v ≥ 0`, finite `z` a standard normal).
///
/// - **v > v0**: x = y + √(v − v0)·z (a NaN x, from v = ∞ and z = 0, is taken as y),
///   q = Q^d(x) (nearest, ties to even, not clipped), r = x − q ∈ [−½, ½] (0 when
///   |x| ≥ 2^53), θ = q + s·c with s = +1 for r ≥ 0 and −1 for r < 0, c ~ Cat(|r|, v0).
/// - **v ≤ v0**: q = Q^s(y) (exact SR: up iff `words[0] & (2^53−1) < f·2^53`, f = y − ⌊y⌋),
///   θ = q + c with c ~ Cat(0, max(v − f(1−f), 0)).
///
/// Cat(m, w) on {+1, −1, 0}: P(+1) = (w + m² + m)/2 and P(−1) = (w + m² − m)/2, each
/// clamped to [0, 1] and [0, 1 − P(+1)]; with `u = words[1] & (2^53−1)`, c = +1 iff
/// `u < P(+1)·2^53`, else −1 iff `u < (P(+1) + P(−1))·2^53`, else 0. `words[0]` is unused
/// when v > v0.
///
/// ```
/// use lpmc_kernels::rules::vc::qvc_code;
/// // On the grid with no variance: exactly y.
/// assert_eq!(qvc_code(5.0, 0.0, 0.0, [7, 9]), 5);
/// ```
pub fn qvc_code(y: f64, v: f64, z: f64, words: [u64; 2]) -> i128 {
    if v > V0 {
        let x = y + (v - V0).sqrt() * z;
        let x = if x.is_nan() { y } else { x };
        let q = round_f64(x, 0, Rounding::NearestEven, 0);
        // |x| < 2^53: r is exact and in [−½, ½]; beyond, x is an integer (or ±2^126 stands
        // for it) and the clamp in `categorical` keeps the probabilities valid.
        let r = if x.abs() < TWO53 { x - q as f64 } else { 0.0 };
        let sign = if r < 0.0 { -1 } else { 1 };
        q + sign * categorical(r.abs(), V0, words[1])
    } else {
        let q = round_f64(y, 0, Rounding::StochasticExact, words[0] & MASK53);
        let f = y - y.floor();
        let vs = f * (1.0 - f);
        q + categorical(0.0, (v - vs).max(0.0), words[1])
    }
}

/// The categorical draw Cat(m, w) on {+1, −1, 0} from the low 53 bits of `word`.
fn categorical(m: f64, w: f64, word: u64) -> i128 {
    let p_plus = ((w + m * m + m) / 2.0).clamp(0.0, 1.0);
    let p_minus = ((w + m * m - m) / 2.0).clamp(0.0, 1.0 - p_plus);
    let u = (word & MASK53) as f64;
    if u < p_plus * TWO53 {
        1
    } else if u < (p_plus + p_minus) * TWO53 {
        -1
    } else {
        0
    }
}

/// Q^vc in value units: a code of `to` whose value has mean `mu` and variance `var` (value
/// units) whenever attainable, then `to`'s overflow rule; `(code, event)`. `var` NaN or
/// negative is taken as 0, `mu` NaN gives code 0 and ±∞ the extreme codes (each an event), a
/// non-finite `z` is taken as 0. Words: `[SR uniform, categorical uniform]`.
///
/// ```
/// use lpmc_kernels::{lane::Fmt, rules::vc::qvc_value, Overflow};
/// let f = Fmt { wl: 8, fl: 4, overflow: Overflow::Saturate };
/// assert_eq!(qvc_value(0.3125, 0.0, f, 0.0, [0, 0]), (5, false)); // on the grid
/// assert_eq!(qvc_value(f64::INFINITY, 0.0, f, 0.0, [0, 0]), (127, true));
/// ```
pub fn qvc_value(mu: f64, var: f64, to: Fmt, z: f64, words: [u64; 2]) -> (i64, bool) {
    if mu.is_nan() {
        return (0, true);
    }
    let y = mu * pow2(to.fl as i32);
    if !y.is_finite() {
        let (code, _) = Overflow::Saturate.apply(round_f64(y, 0, Rounding::Floor, 0), to.wl);
        return (code, true);
    }
    let v = code_var(var, to.fl);
    let z = if z.is_finite() { z } else { 0.0 };
    to.overflow.apply(qvc_code(y, v, z, words), to.wl)
}

/// The variance (value units) [`qvc_value`] delivers for mean `mu` and requested variance
/// `var` on `to`, ignoring clipping: `var` when `var > Δ²/4`, else `max(var, Δ²·f(1−f))` with f
/// the fractional position of `mu` in its cell (`var` NaN or negative counts as 0).
pub fn qvc_variance(mu: f64, var: f64, to: Fmt) -> f64 {
    let d = to.delta();
    let var = if var > 0.0 { var } else { 0.0 };
    if var > V0 * d * d {
        return var;
    }
    let y = mu * pow2(to.fl as i32);
    let f = y - y.floor();
    var.max(d * d * f * (1.0 - f))
}

/// The joint Q^vc of `(x, v)` ("vc-joint"): codes of `fx`, `fv` whose values have mean `mu`
/// and covariance `cov` (value units; the off-diagonal taken as `(cov[0][1] + cov[1][0])/2`)
/// whenever attainable, by sequential conditioning: with `i` the coordinate of smaller
/// code-unit variance (ties → x) and `j` the other, `θ_i = Q^vc(μ_i, C_ii)`,
/// `V_i` = [`qvc_variance`]`(μ_i, C_ii)`, `β = C_ij/V_i` (0 if `V_i = 0`),
/// `θ_j = Q^vc(μ_j + β·(θ_i − μ_i), C_jj − C_ij²/V_i)`. Words: `words[0]` are x's pair,
/// `words[1]` v's, whatever the order of conditioning; `z[0]` is x's normal, `z[1]` v's.
/// Returns `[(x code, event), (v code, event)]`.
pub fn qvc_joint(
    mu: [f64; 2],
    cov: [[f64; 2]; 2],
    fmts: [Fmt; 2],
    z: [f64; 2],
    words: [[u64; 2]; 2],
) -> [(i64, bool); 2] {
    let c = [cov[0][0], cov[1][1]];
    let cij = 0.5 * (cov[0][1] + cov[1][0]);
    let code_var = |k: usize| {
        let d = fmts[k].delta();
        c[k] / (d * d)
    };
    // NaN variances compare false: x goes first.
    let i = if code_var(1) < code_var(0) { 1 } else { 0 };
    let j = 1 - i;
    let ti = qvc_value(mu[i], c[i], fmts[i], z[i], words[i]);
    let vi = qvc_variance(mu[i], c[i], fmts[i]);
    let (beta, s) = if vi > 0.0 && cij.is_finite() {
        (cij / vi, c[j] - cij * cij / vi)
    } else {
        (0.0, c[j])
    };
    let a = mu[j] + beta * (ti.0 as f64 * fmts[i].delta() - mu[i]);
    let tj = qvc_value(a, s, fmts[j], z[j], words[j]);
    let mut out = [ti; 2];
    out[j] = tj;
    out
}

/// Q^vc of a batch into format `to` with one variance, as branch-free lane code (see the
/// [module docs](self)).
#[derive(Clone, Copy, Debug)]
pub struct QvcLanes {
    to: Fmt,
    var: f64,
    scale: f64,
    v: f64,
    sd: f64,
    large: bool,
    wrap: bool,
    sh: u32,
    min: i64,
    max: i64,
}

#[inline(always)]
fn clamp(x: f64, lo: f64, hi: f64) -> f64 {
    let x = if x < lo { lo } else { x };
    if x > hi {
        hi
    } else {
        x
    }
}

#[inline(always)]
fn cat(m: f64, w: f64, word: u64) -> f64 {
    let p_plus = clamp((w + m * m + m) / 2.0, 0.0, 1.0);
    let p_minus = clamp((w + m * m - m) / 2.0, 0.0, 1.0 - p_plus);
    // Below 2^53: the signed conversion is exact (and vectorizes where the unsigned one
    // does not).
    let u = (word & MASK53) as i64 as f64;
    let minus = if u < (p_plus + p_minus) * TWO53 {
        -1.0
    } else {
        0.0
    };
    if u < p_plus * TWO53 {
        1.0
    } else {
        minus
    }
}

impl QvcLanes {
    /// Q^vc into `to` with variance `var` (value units).
    pub fn new(to: Fmt, var: f64) -> Self {
        let v = code_var(var, to.fl);
        let large = v > V0;
        let wl = to.wl.clamp(2, 64);
        let max = ((1u64 << (wl - 1)) - 1) as i64;
        QvcLanes {
            to,
            var,
            scale: pow2(to.fl as i32),
            v,
            sd: if large { (v - V0).sqrt() } else { 0.0 },
            large,
            wrap: to.overflow == Overflow::Wrap,
            sh: 64 - wl,
            min: -max - 1,
            max,
        }
    }

    /// Codes of the means `mu` (value units) with normals `z` and words `w0` (SR uniforms),
    /// `w1` (categorical uniforms) into `out`; returns the overflow events.
    #[inline(always)]
    pub fn run(&self, mu: &[f64], z: &[f64], w0: &[u64], w1: &[u64], out: &mut [i64]) -> u64 {
        let n = out.len();
        let (mu, z, w0, w1) = (&mu[..n], &z[..n], &w0[..n], &w1[..n]);
        // The fast loop is exact when every |y| + 9·sd + 2 < 2^52 (|z| ≤ 8.6 for Box–Muller
        // normals, which are the only normals the drivers pass).
        let lim = TWO53 / 2.0 - 9.0 * self.sd - 2.0;
        let mut ok = self.v.is_finite();
        for (&m, &zz) in mu.iter().zip(z) {
            ok &= (m * self.scale).abs() < lim && zz.abs() < 8.6;
        }
        if !ok {
            let mut ev = 0u64;
            for j in 0..n {
                let (c, e) = qvc_value(mu[j], self.var, self.to, z[j], [w0[j], w1[j]]);
                out[j] = c;
                ev += e as u64;
            }
            return ev;
        }
        let mut ev = 0u32;
        if self.large {
            for j in 0..n {
                let x = mu[j] * self.scale + self.sd * z[j];
                let q = x.round_ties_even();
                let r = x - q;
                let c = cat(r.abs(), V0, w1[j]);
                let theta = (q + if r < 0.0 { -c } else { c }) as i64;
                let (code, e) = self.overflow(theta);
                out[j] = code;
                ev += e as u32;
            }
        } else {
            for j in 0..n {
                let y = mu[j] * self.scale;
                let fl = y.floor();
                let f = y - fl;
                let u1 = (w0[j] & MASK53) as i64 as f64;
                // The reference's sr on f64 (round_f64): u1 below ⌈f·2^53⌉ of the exact f.
                let q = fl
                    + if u1 < ceil_bits(y, fl, F64_EXACT_BITS) {
                        1.0
                    } else {
                        0.0
                    };
                let c = cat(0.0, (self.v - f * (1.0 - f)).max(0.0), w1[j]);
                let (code, e) = self.overflow((q + c) as i64);
                out[j] = code;
                ev += e as u32;
            }
        }
        ev as u64
    }

    #[inline(always)]
    fn overflow(&self, q: i64) -> (i64, bool) {
        let c = if self.wrap {
            (q << self.sh) >> self.sh
        } else {
            q.max(self.min).min(self.max)
        };
        (c, c != q)
    }
}
