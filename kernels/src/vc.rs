//! Variance-corrected quantization Q^vc in code units (the paper's Algorithm 2; `lpmc::vc`
//! wraps it in value units), and the fused `vc-l` steps built on it: the integer mean of an
//! `lp-l` step without its noise term, then Q^vc in `f64`, which supplies the Langevin noise
//! and the rounding as one random grid value.
//!
//! # Q^vc in code units
//! With `y` the mean and `v` the variance in code units of the target format (Δ = 1,
//! v0 = Δ²/4 = [`V0`]), [`qvc_code`] returns θ with E θ = y and Var θ = v whenever that is
//! attainable (`v ≥ f(1−f)`, f the fraction of y), from a standard normal `z` and two words.
//!
//! # The steps
//! SGLD `vc-l` ([`SgldVcL`]), per coordinate `i`, `g_i` the Q_G-rounded gradient of
//! [`crate::fused`]:
//! ```text
//! a_i  = overflow_accum( A(x_i, x.fl) − A(η·g_i, fc + g.fl) )        exact, accum.fl bits
//! x_i' = overflow_x( qvc_code(a_i·2^(x.fl − accum.fl), V_x, z_i, [w_2i, w_2i+1]) )
//! ```
//! with `V_x` = [`code_var`]`(var, x.fl)`. SGHMC `vc-l` ([`SghmcVcL`], coefficients
//! `[e, c_vg, c_xv, c_xg]`):
//! ```text
//! av_i = overflow_accum( A(e·v_i) + A(c_vg·g_i) ),  ax_i = overflow_accum( A(x_i) + A(c_xv·v_i) + A(c_xg·g_i) )
//! v_i' = overflow_v( qvc_code(av_i·2^(v.fl − accum.fl), V_v, z_i, …) )
//! x_i' = overflow_x( qvc_code(ax_i·2^(x.fl − accum.fl), V_x, z_{d+i}, …) )
//! ```
//! (old v in `ax`). `a·2^(fl − accum.fl)` is `f64` arithmetic: the code converted to `f64`
//! (rounded to nearest when it exceeds 53 bits), then an exact power-of-two scaling — the
//! same value as `lpmc`'s `accum.value(a)·2^fl`.
//!
//! # Random bits (one step)
//! One call draws, in this order:
//! 1. Q_G: `d` elements of `R_g` bits by the packing rule of [`crate::bits`];
//! 2. the normals: one [`crate::noise::box_muller`] call on `d` (SGLD) or `2d` (SGHMC) outputs,
//!    `2⌈d/2⌉` or `2d` words;
//! 3. SGLD: `2d` words, element `i` taking words `2i` (the SR uniform) and `2i + 1` (the
//!    categorical uniform) of the region. SGHMC: `2d` such words for v, then `2d` for x.
//!
//! This is the order in which `lpmc`'s generic samplers draw them (gradient rounding, the
//! normals, then one Q^vc call of two words per coordinate, v before x), so a fused run and
//! a generic run give the same bits.
//!
//! # Paths
//! [`reference`](mod@reference) is the scalar twin: per element, `i128` sums and
//! [`qvc_code`]. [`fast`] works in blocks: the integer mean in `i64` lanes (the element loop
//! monomorphized on the rounding mode), the normals of the block ([`crate::noise::box_muller_at`],
//! the generic samplers' Box–Muller values, vectorized), then a branch-free `f64` loop for
//! Q^vc, one per variance
//! regime (the regime depends only on the variance, which is the same for every element). It
//! applies when every intermediate fits (`fits_i64`: the `lp-l` bounds for the integer part,
//! and `|y| + 9·√(V − V0) < 2^52` so that the `f64` rounding is exact); otherwise the
//! reference runs.

use crate::bits::{words_for, WordSource};
use crate::fused::{common_fits, grad_shift, term, Fmt, GaussGrad, COEF_WL};
use crate::portable::round_f64;
use crate::{CodeSliceMut, Rounding};

/// v0 = Δ²/4 in code units: the variance of the categorical correction of the large-variance
/// branch, and the largest SR variance f(1−f).
pub const V0: f64 = 0.25;

const MASK53: u64 = (1 << 53) - 1;
const TWO53: f64 = 9_007_199_254_740_992.0;

/// 2^e as an `f64`, exact for `−1022 ≤ e ≤ 1023`.
fn pow2(e: i32) -> f64 {
    f64::from_bits(((1023 + e) as u64) << 52)
}

/// A variance `var` (value units) of a format with `fl` fraction bits in code units:
/// `var·s·s` with `s = 2^fl` (exact power-of-two scalings); NaN or `var ≤ 0` gives 0.
///
/// ```
/// use lpmc_kernels::vc::code_var;
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
/// when v > v0. The derivation (mean, variance, edge cases) is in `lpmc::vc::qvc`.
///
/// ```
/// use lpmc_kernels::vc::qvc_code;
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

/// Words of the normals of `n` outputs of one [`crate::noise::box_muller`] call.
fn normal_words(n: usize) -> usize {
    2 * n.div_ceil(2)
}

/// Whether Q^vc of accumulator codes into format `to` with variance `var` (value units) is
/// exact in the [`fast`] `f64` loop: a finite code variance and `|y| + 9·√(V − V0) < 2^52`
/// (`|z| ≤ 8.58` for Box–Muller normals), so every rounding in it is exact and `|θ| < 2^53`.
fn qvc_fits(accum: Fmt, to: Fmt, var: f64) -> bool {
    let v = code_var(var, to.fl);
    let y = pow2(accum.wl as i32 - 1 + to.fl as i32 - accum.fl as i32);
    let sd = if v > V0 { (v - V0).sqrt() } else { 0.0 };
    v.is_finite() && y + 9.0 * sd + 2.0 < TWO53 / 2.0 && to.wl <= 32
}

/// One SGLD `vc-l` step on the integer datapath (see the [module docs](self) for the rule
/// and the bit order).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgldVcL<'a> {
    /// Rounding of Q_G.
    pub rounding: Rounding,
    /// The position's format (`param`), WL ≤ 32.
    pub x: Fmt,
    /// The gradient's format (`grad`).
    pub grad: Fmt,
    /// The accumulator (`accum`), WL ≤ 64.
    pub accum: Fmt,
    /// Fraction bits of the coefficients (`coef`).
    pub coef_fl: u32,
    /// η in `coef` codes.
    pub eta: i64,
    /// The variance of Q^vc in value units (2η of the quantized η).
    pub var: f64,
    /// The target's gradient.
    pub target: GaussGrad<'a>,
}

/// One SGHMC `vc-l` step on the integer datapath (see the [module docs](self)).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SghmcVcL<'a> {
    /// Rounding of Q_G.
    pub rounding: Rounding,
    /// The position's format (`param`), WL ≤ 32.
    pub x: Fmt,
    /// The momentum's format, WL ≤ 32 (its container may differ from the position's).
    pub v: Fmt,
    /// The gradient's format (`grad`).
    pub grad: Fmt,
    /// The accumulator (`accum`), WL ≤ 64.
    pub accum: Fmt,
    /// Fraction bits of the coefficients (`coef`).
    pub coef_fl: u32,
    /// `[e, c_vg, c_xv, c_xg]` in `coef` codes.
    pub coefs: [i64; 4],
    /// Var ξ^v in value units (of v's Q^vc).
    pub var_v: f64,
    /// Var ξ^x in value units (of x's Q^vc).
    pub var_x: f64,
    /// The target's gradient.
    pub target: GaussGrad<'a>,
}

impl SgldVcL<'_> {
    /// `R_g`: random bits per element of Q_G.
    pub fn grad_bits(&self) -> u32 {
        let s = grad_shift(&self.target, self.x, self.grad);
        self.rounding.bits_per_code(s)
    }

    /// Words one step on `d` coordinates draws.
    pub fn words_per_step(&self, d: usize) -> usize {
        words_for(d, self.grad_bits()) + normal_words(d) + 2 * d
    }

    /// Whether [`fast`] may run the step: the integer mean fits `i64` (as
    /// [`crate::fused::SgldLpL::fits_i64`] without the noise term) and Q^vc is exact in
    /// `f64` (see the [module docs](self)).
    pub fn fits_i64(&self) -> bool {
        let (fa, fc) = (self.accum.fl, self.coef_fl);
        let terms = [
            term(self.x.wl, 1, self.x.fl, fa),
            term(self.grad.wl, COEF_WL, fc + self.grad.fl, fa),
        ];
        common_fits(&self.target, self.x, self.grad, self.accum, None, &terms)
            && self.eta.unsigned_abs() < 1 << 31
            && qvc_fits(self.accum, self.x, self.var)
    }
}

impl SghmcVcL<'_> {
    /// `R_g`: random bits per element of Q_G.
    pub fn grad_bits(&self) -> u32 {
        let s = grad_shift(&self.target, self.x, self.grad);
        self.rounding.bits_per_code(s)
    }

    /// Words one step on `d` coordinates draws.
    pub fn words_per_step(&self, d: usize) -> usize {
        words_for(d, self.grad_bits()) + normal_words(2 * d) + 4 * d
    }

    /// Whether [`fast`] may run the step (see [`SgldVcL::fits_i64`]; here both sums and
    /// both Q^vc).
    pub fn fits_i64(&self) -> bool {
        let (fa, fc) = (self.accum.fl, self.coef_fl);
        let terms = [
            term(self.x.wl, 1, self.x.fl, fa),
            term(self.v.wl, COEF_WL, fc + self.v.fl, fa),
            term(self.grad.wl, COEF_WL, fc + self.grad.fl, fa),
        ];
        common_fits(&self.target, self.x, self.grad, self.accum, None, &terms)
            && self.v.wl <= 32
            && self.coefs.iter().all(|c| c.unsigned_abs() < 1 << 31)
            && qvc_fits(self.accum, self.x, self.var_x)
            && qvc_fits(self.accum, self.v, self.var_v)
    }
}

/// The scalar twins: one element at a time, `i128` sums, [`qvc_code`].
pub mod reference {
    use super::*;
    use crate::fused::align;
    use crate::fused::reference::{grad, ubits};
    use crate::noise::box_muller_at;

    /// The normals of a step's region, by index; each Box–Muller pair is computed once for
    /// its two outputs (two pairs are kept, for SGHMC's `z_i` and `z_{d+i}`).
    struct Normals<'w> {
        words: &'w [u64],
        /// `(pair index, its two outputs)`, most recent first.
        kept: [(usize, [f64; 2]); 2],
    }

    impl<'w> Normals<'w> {
        fn new(words: &'w [u64]) -> Self {
            Normals {
                words,
                kept: [(usize::MAX, [0.0; 2]); 2],
            }
        }

        /// Normal `i` of the region (see [`box_muller_at`]).
        fn at(&mut self, i: usize) -> f64 {
            let j = i / 2;
            if self.kept[0].0 != j {
                if self.kept[1].0 == j {
                    self.kept.swap(0, 1);
                } else {
                    let mut z = [0.0; 2];
                    box_muller_at(self.words, 2 * j, &mut z);
                    self.kept = [(j, z), self.kept[0]];
                }
            }
            self.kept[0].1[i % 2]
        }
    }

    /// Q^vc of accumulator code `a` into `to` with code variance `v`: `(code, event)`.
    fn qvc(a: i64, accum: Fmt, to: Fmt, v: f64, z: f64, w: &[u64], i: usize) -> (i64, bool) {
        let y = a as f64 * pow2(to.fl as i32 - accum.fl as i32);
        let theta = qvc_code(y, v, z, [w[2 * i], w[2 * i + 1]]);
        to.overflow.apply(theta, to.wl)
    }

    /// `steps` SGLD `vc-l` steps of `x` (see [`SgldVcL`]); `words` is scratch of at least
    /// [`SgldVcL::words_per_step`] words. Returns the overflow events (Q_G, accumulator,
    /// Q^vc).
    ///
    /// # Panics
    /// If `words` is too short.
    pub fn sgld_vc_l(
        p: &SgldVcL,
        mut x: CodeSliceMut,
        steps: u64,
        bits: &mut dyn WordSource,
        words: &mut [u64],
    ) -> u64 {
        let d = x.len();
        let rg = p.grad_bits();
        let (ng, nn) = (words_for(d, rg), normal_words(d));
        let words = &mut words[..ng + nn + 2 * d];
        let (fa, fc) = (p.accum.fl, p.coef_fl);
        let v = code_var(p.var, p.x.fl);
        let mut events = 0u64;
        for _ in 0..steps {
            bits.fill(words);
            let (wg, rest) = words.split_at(ng);
            let (wn, wq) = rest.split_at(nn);
            let mut z = Normals::new(wn);
            for i in 0..d {
                let xi = x.get(i);
                let (g, e1) = grad(&p.target, p.x, p.grad, p.rounding, xi, i, ubits(wg, i, rg));
                let sum = align(xi as i128, p.x.fl, fa)
                    - align(p.eta as i128 * g as i128, fc + p.grad.fl, fa);
                let (acc, e2) = p.accum.overflow.apply(sum, p.accum.wl);
                let (c, e3) = qvc(acc, p.accum, p.x, v, z.at(i), wq, i);
                x.set(i, c);
                events += e1 as u64 + e2 as u64 + e3 as u64;
            }
        }
        events
    }

    /// `steps` SGHMC `vc-l` steps of `(x, v)` (see [`SghmcVcL`]); `words` is scratch of at
    /// least [`SghmcVcL::words_per_step`] words. Returns the overflow events.
    ///
    /// # Panics
    /// If `x.len() != v.len()` or `words` is too short.
    pub fn sghmc_vc_l(
        p: &SghmcVcL,
        mut x: CodeSliceMut,
        mut v: CodeSliceMut,
        steps: u64,
        bits: &mut dyn WordSource,
        words: &mut [u64],
    ) -> u64 {
        assert_eq!(x.len(), v.len(), "sghmc_vc_l: x and v lengths differ");
        let d = x.len();
        let rg = p.grad_bits();
        let (ng, nn) = (words_for(d, rg), normal_words(2 * d));
        let words = &mut words[..ng + nn + 4 * d];
        let (fa, fc) = (p.accum.fl, p.coef_fl);
        let [e, cvg, cxv, cxg] = p.coefs.map(|c| c as i128);
        let (var_v, var_x) = (code_var(p.var_v, p.v.fl), code_var(p.var_x, p.x.fl));
        let mut events = 0u64;
        for _ in 0..steps {
            bits.fill(words);
            let (wg, rest) = words.split_at(ng);
            let (wn, rest) = rest.split_at(nn);
            let (wv, wx) = rest.split_at(2 * d);
            let mut z = Normals::new(wn);
            for i in 0..d {
                let (xi, vi) = (x.get(i), v.get(i));
                let (g, e1) = grad(&p.target, p.x, p.grad, p.rounding, xi, i, ubits(wg, i, rg));
                let (g, vw) = (g as i128, vi as i128);
                let sv = align(e * vw, fc + p.v.fl, fa) + align(cvg * g, fc + p.grad.fl, fa);
                let sx = align(xi as i128, p.x.fl, fa)
                    + align(cxv * vw, fc + p.v.fl, fa)
                    + align(cxg * g, fc + p.grad.fl, fa);
                let (av, e2) = p.accum.overflow.apply(sv, p.accum.wl);
                let (ax, e3) = p.accum.overflow.apply(sx, p.accum.wl);
                let (cv, e4) = qvc(av, p.accum, p.v, var_v, z.at(i), wv, i);
                let (cx, e5) = qvc(ax, p.accum, p.x, var_x, z.at(d + i), wx, i);
                v.set(i, cv);
                x.set(i, cx);
                events += [e1, e2, e3, e4, e5].iter().map(|&b| b as u64).sum::<u64>();
            }
        }
        events
    }
}

/// The blockwise path: the integer mean in `i64` lanes, the block's normals, then Q^vc in a
/// branch-free `f64` loop.
pub mod fast {
    use super::*;
    use crate::fused::fast::{batch, load, store, Consts, Geo, B};
    use crate::fused::{al, mode_id, shifts, with_mode, Ov, Rq};
    use crate::noise::box_muller_at;
    use crate::Platform;

    /// Q^vc of a block of accumulator codes into one format, in `f64` lanes (valid when
    /// `qvc_fits` holds: every value below `2^52`, so `round_ties_even`, the differences and
    /// the integer conversions are exact and agree with [`qvc_code`]).
    #[derive(Clone, Copy, Debug)]
    struct Qvc {
        /// `2^(to.fl − accum.fl)`: accumulator code → code units of `to`.
        scale: f64,
        /// The variance in code units.
        v: f64,
        /// √(v − V0) (large-variance regime).
        sd: f64,
        large: bool,
        ov: Ov,
    }

    /// `x.clamp(lo, hi)` as two selects (the same value for every non-NaN `x`, no panic path).
    #[inline(always)]
    fn clamp(x: f64, lo: f64, hi: f64) -> f64 {
        let x = if x < lo { lo } else { x };
        if x > hi {
            hi
        } else {
            x
        }
    }

    /// Cat(m, w) as `f64` (see [`qvc_code`]).
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

    impl Qvc {
        fn new(accum: Fmt, to: Fmt, var: f64) -> Self {
            let v = code_var(var, to.fl);
            let large = v > V0;
            Qvc {
                scale: pow2(to.fl as i32 - accum.fl as i32),
                v,
                sd: if large { (v - V0).sqrt() } else { 0.0 },
                large,
                ov: Ov::new(to),
            }
        }

        /// `out[j] = overflow(Q^vc(acc[j]))` with normals `z` and words `w` (2 per element);
        /// returns the overflow events.
        #[inline(always)]
        fn block(&self, acc: &[i64], z: &[f64], w: &[u64], out: &mut [i64]) -> u64 {
            let n = out.len();
            let (acc, z, w) = (&acc[..n], &z[..n], &w[..2 * n]);
            let mut ev = 0u64;
            if self.large {
                for j in 0..n {
                    // x = y + sd·z is finite here (finite sd, |z| < 8.6): no NaN case.
                    let x = acc[j] as f64 * self.scale + self.sd * z[j];
                    let q = x.round_ties_even();
                    let r = x - q;
                    let c = cat(r.abs(), V0, w[2 * j + 1]);
                    let theta = q + if r < 0.0 { -c } else { c };
                    let (code, e) = self.ov.apply(theta as i64);
                    out[j] = code;
                    ev += e as u64;
                }
            } else {
                for j in 0..n {
                    let y = acc[j] as f64 * self.scale;
                    let fl = y.floor();
                    let f = y - fl;
                    let u1 = (w[2 * j] & MASK53) as i64 as f64;
                    let q = fl + if u1 < f * TWO53 { 1.0 } else { 0.0 };
                    let c = cat(0.0, (self.v - f * (1.0 - f)).max(0.0), w[2 * j + 1]);
                    let (code, e) = self.ov.apply((q + c) as i64);
                    out[j] = code;
                    ev += e as u64;
                }
            }
            ev
        }
    }

    /// The integer part of a step in `i64` lanes: Q_G and the accumulator sums.
    #[derive(Clone, Copy, Debug)]
    struct Mean {
        rqg: Rq,
        ovg: Ov,
        ova: Ov,
        sx: (u32, u32),
        sv: (u32, u32),
        sg: (u32, u32),
        /// SGLD: `[η, 0, 0, 0]`; SGHMC: `[e, c_vg, c_xv, c_xg]`.
        c: [i64; 4],
    }

    impl Mean {
        #[allow(clippy::too_many_arguments)]
        fn new(
            t: &GaussGrad,
            rounding: Rounding,
            x: Fmt,
            v: Fmt,
            grad: Fmt,
            accum: Fmt,
            fc: u32,
            c: [i64; 4],
        ) -> Self {
            let fa = accum.fl;
            Mean {
                rqg: Rq::new(grad_shift(t, x, grad), rounding),
                ovg: Ov::new(grad),
                ova: Ov::new(accum),
                sx: shifts(x.fl, fa, 64),
                sv: shifts(fc + v.fl, fa, 64),
                sg: shifts(fc + grad.fl, fa, 64),
                c,
            }
        }

        /// Q_G of one coordinate: `(g, event)`.
        #[inline(always)]
        fn grad<const M: u8>(&self, xi: i64, pr: i64, mu: i64, ug: u64) -> (i64, bool) {
            self.ovg.apply(self.rqg.round::<M>(pr * (xi - mu), ug))
        }

        /// SGLD: `(a, events)` with `a = overflow(A(x) − A(η·g))`.
        #[inline(always)]
        fn sgld<const M: u8>(&self, xi: i64, pr: i64, mu: i64, ug: u64) -> (i64, u64) {
            let (g, e1) = self.grad::<M>(xi, pr, mu, ug);
            let (a, e2) = self.ova.apply(al(xi, self.sx) - al(self.c[0] * g, self.sg));
            (a, e1 as u64 + e2 as u64)
        }

        /// SGHMC: `(av, ax, events)`.
        #[inline(always)]
        fn sghmc<const M: u8>(&self, xi: i64, vi: i64, pr: i64, mu: i64, ug: u64) -> [i64; 3] {
            let [e, cvg, cxv, cxg] = self.c;
            let (g, e1) = self.grad::<M>(xi, pr, mu, ug);
            let sv = al(e * vi, self.sv) + al(cvg * g, self.sg);
            let sx = al(xi, self.sx) + al(cxv * vi, self.sv) + al(cxg * g, self.sg);
            let (av, e2) = self.ova.apply(sv);
            let (ax, e3) = self.ova.apply(sx);
            [av, ax, e1 as i64 + e2 as i64 + e3 as i64]
        }
    }

    /// Same contract and bits as [`reference::sgld_vc_l`], run on `platform`'s build of the
    /// step when [`SgldVcL::fits_i64`], else the reference.
    ///
    /// # Panics
    /// If `words` is shorter than [`SgldVcL::words_per_step`].
    pub fn sgld_vc_l(
        p: &SgldVcL,
        mut x: CodeSliceMut,
        steps: u64,
        bits: &mut dyn WordSource,
        words: &mut [u64],
        platform: Platform,
    ) -> u64 {
        if !p.fits_i64() {
            return reference::sgld_vc_l(p, x, steps, bits, words);
        }
        let xs = &mut x;
        match platform {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: an `Avx2` value is only handed out by `avx2()`, which checked support.
            Platform::Avx2 => unsafe { crate::x86::avx2::sgld_vc_lanes(p, xs, steps, bits, words) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: an `Avx512` value is only handed out by `avx512()`, which checked
            // support.
            Platform::Avx512 => unsafe {
                crate::x86::avx512::sgld_vc_lanes(p, xs, steps, bits, words)
            },
            _ => sgld_vc_chunked(p, xs, steps, bits, words),
        }
    }

    /// Same contract and bits as [`reference::sghmc_vc_l`], run on `platform`'s build of the
    /// step when [`SghmcVcL::fits_i64`], else the reference.
    ///
    /// # Panics
    /// If `x.len() != v.len()` or `words` is shorter than [`SghmcVcL::words_per_step`].
    pub fn sghmc_vc_l(
        p: &SghmcVcL,
        mut x: CodeSliceMut,
        mut v: CodeSliceMut,
        steps: u64,
        bits: &mut dyn WordSource,
        words: &mut [u64],
        platform: Platform,
    ) -> u64 {
        assert_eq!(x.len(), v.len(), "sghmc_vc_l: x and v lengths differ");
        if !p.fits_i64() {
            return reference::sghmc_vc_l(p, x, v, steps, bits, words);
        }
        let (xs, vs) = (&mut x, &mut v);
        match platform {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: an `Avx2` value is only handed out by `avx2()`, which checked support.
            Platform::Avx2 => unsafe {
                crate::x86::avx2::sghmc_vc_lanes(p, xs, vs, steps, bits, words)
            },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: an `Avx512` value is only handed out by `avx512()`, which checked
            // support.
            Platform::Avx512 => unsafe {
                crate::x86::avx512::sghmc_vc_lanes(p, xs, vs, steps, bits, words)
            },
            _ => sghmc_vc_chunked(p, xs, vs, steps, bits, words),
        }
    }

    /// [`sgld_vc_lanes`] for the baseline target, out of line.
    #[inline(never)]
    fn sgld_vc_chunked(
        p: &SgldVcL,
        x: &mut CodeSliceMut,
        steps: u64,
        bits: &mut dyn WordSource,
        words: &mut [u64],
    ) -> u64 {
        sgld_vc_lanes(p, x, steps, bits, words)
    }

    /// [`sghmc_vc_lanes`] for the baseline target, out of line.
    #[inline(never)]
    fn sghmc_vc_chunked(
        p: &SghmcVcL,
        x: &mut CodeSliceMut,
        v: &mut CodeSliceMut,
        steps: u64,
        bits: &mut dyn WordSource,
        words: &mut [u64],
    ) -> u64 {
        sghmc_vc_lanes(p, x, v, steps, bits, words)
    }

    /// The SGLD `vc-l` steps, block by block; inlined into each platform's build
    /// (`x86::*::sgld_vc_lanes`, [`sgld_vc_chunked`]).
    #[inline(always)]
    pub(crate) fn sgld_vc_lanes(
        p: &SgldVcL,
        x: &mut CodeSliceMut,
        steps: u64,
        bits: &mut dyn WordSource,
        words: &mut [u64],
    ) -> u64 {
        let d = x.len();
        let rg = p.grad_bits();
        let (ng, nn) = (words_for(d, rg), normal_words(d));
        let per_step = ng + nn + 2 * d;
        let k = batch(words.len(), per_step);
        let c = [p.eta, 0, 0, 0];
        let el = Mean::new(
            &p.target, p.rounding, p.x, p.x, p.grad, p.accum, p.coef_fl, c,
        );
        let q = Qvc::new(p.accum, p.x, p.var);
        let mode = mode_id(p.rounding);
        let gg = Geo::new(rg);
        let mut consts = Consts::<i64>::new(&p.target);
        let mut xb = [0i64; B];
        let mut ug = [0u64; B];
        let mut acc = [0i64; B];
        let mut z = [0f64; B];
        let mut events = 0u64;
        let mut left = steps;
        while left > 0 {
            let kk = (k as u64).min(left) as usize;
            bits.fill(&mut words[..kk * per_step]);
            for s in 0..kk {
                let w = &words[s * per_step..(s + 1) * per_step];
                let (wg, rest) = w.split_at(ng);
                let (wn, wq) = rest.split_at(nn);
                let mut ugs = gg.at(wg, (0, 0));
                for i0 in (0..d).step_by(B) {
                    let n = (d - i0).min(B);
                    load(x, i0, &mut xb[..n]);
                    consts.block(&p.target, i0, n);
                    ugs.take(&mut ug[..n], |w| w);
                    let (pr, mu, ugb) = (&consts.prec[..n], &consts.mean[..n], &ug[..n]);
                    let (xbn, accb) = (&xb[..n], &mut acc[..n]);
                    events += with_mode!(mode, M => {
                        let mut ev = 0u64;
                        for j in 0..n {
                            let (a, e) = el.sgld::<M>(xbn[j], pr[j], mu[j], ugb[j]);
                            accb[j] = a;
                            ev += e;
                        }
                        ev
                    });
                    box_muller_at(wn, i0, &mut z[..n]);
                    events += q.block(&acc[..n], &z[..n], &wq[2 * i0..], &mut xb[..n]);
                    store(x, i0, &xb[..n]);
                }
            }
            left -= kk as u64;
        }
        events
    }

    /// The SGHMC `vc-l` steps, block by block; inlined into each platform's build
    /// (`x86::*::sghmc_vc_lanes`, [`sghmc_vc_chunked`]).
    #[inline(always)]
    pub(crate) fn sghmc_vc_lanes(
        p: &SghmcVcL,
        x: &mut CodeSliceMut,
        v: &mut CodeSliceMut,
        steps: u64,
        bits: &mut dyn WordSource,
        words: &mut [u64],
    ) -> u64 {
        let d = x.len();
        let rg = p.grad_bits();
        let (ng, nn) = (words_for(d, rg), normal_words(2 * d));
        let per_step = ng + nn + 4 * d;
        let k = batch(words.len(), per_step);
        let el = Mean::new(
            &p.target, p.rounding, p.x, p.v, p.grad, p.accum, p.coef_fl, p.coefs,
        );
        let (qv, qx) = (
            Qvc::new(p.accum, p.v, p.var_v),
            Qvc::new(p.accum, p.x, p.var_x),
        );
        let mode = mode_id(p.rounding);
        let gg = Geo::new(rg);
        let mut consts = Consts::<i64>::new(&p.target);
        let (mut xb, mut vb) = ([0i64; B], [0i64; B]);
        let mut ug = [0u64; B];
        let (mut av, mut ax) = ([0i64; B], [0i64; B]);
        let (mut z1, mut z2) = ([0f64; B], [0f64; B]);
        let mut events = 0u64;
        let mut left = steps;
        while left > 0 {
            let kk = (k as u64).min(left) as usize;
            bits.fill(&mut words[..kk * per_step]);
            for s in 0..kk {
                let w = &words[s * per_step..(s + 1) * per_step];
                let (wg, rest) = w.split_at(ng);
                let (wn, rest) = rest.split_at(nn);
                let (wv, wx) = rest.split_at(2 * d);
                let mut ugs = gg.at(wg, (0, 0));
                for i0 in (0..d).step_by(B) {
                    let n = (d - i0).min(B);
                    load(x, i0, &mut xb[..n]);
                    load(v, i0, &mut vb[..n]);
                    consts.block(&p.target, i0, n);
                    ugs.take(&mut ug[..n], |w| w);
                    let (pr, mu, ugb) = (&consts.prec[..n], &consts.mean[..n], &ug[..n]);
                    let (xbn, vbn) = (&xb[..n], &vb[..n]);
                    let (avb, axb) = (&mut av[..n], &mut ax[..n]);
                    events += with_mode!(mode, M => {
                        let mut ev = 0i64;
                        for j in 0..n {
                            let [a, b, e] = el.sghmc::<M>(xbn[j], vbn[j], pr[j], mu[j], ugb[j]);
                            avb[j] = a;
                            axb[j] = b;
                            ev += e;
                        }
                        ev as u64
                    });
                    box_muller_at(wn, i0, &mut z1[..n]);
                    box_muller_at(wn, d + i0, &mut z2[..n]);
                    events += qv.block(&av[..n], &z1[..n], &wv[2 * i0..], &mut vb[..n]);
                    events += qx.block(&ax[..n], &z2[..n], &wx[2 * i0..], &mut xb[..n]);
                    store(x, i0, &xb[..n]);
                    store(v, i0, &vb[..n]);
                }
            }
            left -= kk as u64;
        }
        events
    }
}
