//! Fused sampler steps on the integer datapath: one SGLD or SGHMC `lp-l` step for a diagonal
//! Gaussian target, gradient, fixed-point noise, exact wide sums and the final roundings in one
//! pass over the state, with no `f64` anywhere.
//!
//! # The step (SGLD `lp-l`)
//! State `x` (codes with `x.fl` fraction bits, any container `i8`/`i16`/`i32`), per coordinate
//! `i`, with `r` the configured rounding:
//!
//! ```text
//! g_i  = Q_G( prec_i·(x_i − μ_i) )                     prec_i·(x_i − μ_i) has fp + x.fl fraction bits
//! n_i  = noise code i (fixed-point generator, noise.fmt.fl fraction bits)
//! s_i  = A(x_i, x.fl) − A(η·g_i, fc + g.fl) + A(c_n·n_i, fc + n.fl)      exact, in accum.fl bits
//! a_i  = overflow_accum(s_i)
//! x_i' = Q_W(a_i)                                     requantize accum.fl → x.fl with r
//! ```
//!
//! `A(v, f)` aligns a code with `f` fraction bits to `accum.fl` ([`align`]: exact left shift, or
//! floor right shift when `f > accum.fl`), `Q_G`/`Q_W` are [`crate::portable::round_code`] with
//! the configured rounding followed by the format's overflow rule.
//!
//! # The step (SGHMC `lp-l`, exact integrator with coefficients `[e, c_vg, c_xv, c_xg, n_v, n_xv, n_x]`)
//! ```text
//! g_i  = Q_G( prec_i·(x_i − μ_i) )
//! n1_i = noise code i, n2_i = noise code d + i
//! sv_i = A(e·v_i, fc+v.fl) + A(c_vg·g_i, fc+g.fl) + A(n_v·n1_i, fc+n.fl)
//! sx_i = A(x_i, x.fl) + A(c_xv·v_i, fc+v.fl) + A(c_xg·g_i, fc+g.fl) + A(n_xv·n1_i, fc+n.fl) + A(n_x·n2_i, fc+n.fl)
//! v_i' = Q_V(overflow_accum(sv_i)),  x_i' = Q_W(overflow_accum(sx_i))        (old v in sx)
//! ```
//!
//! # Random bits (one step)
//! The step draws its words in one call, in this order, each region packed by the rule of
//! [`crate::bits`] over its own elements:
//! 1. Q_G: `d` elements of `R_g = r.bits_per_code(fp + x.fl − g.fl)` bits;
//! 2. noise: `d` (SGLD) or `2d` (SGHMC) codes: `clt:K:B` takes `K` uniforms of `B` bits per code
//!    (code `j` uses uniforms `jK..jK+K`), `table:T` one `T`-bit index per code;
//! 3. SGHMC only: Q_V, `d` elements of `r.bits_per_code(accum.fl − v.fl)` bits;
//! 4. Q_W, `d` elements of `r.bits_per_code(accum.fl − x.fl)` bits.
//!
//! This is exactly the order in which `lpmc`'s generic samplers draw them (gradient rounding,
//! noise, state roundings), so a fused run and a generic run give the same bits.
//! Successive steps draw successive words, so a call with `steps > 1` may draw the words of
//! several steps at once ([`crate::WordSource::fill_on`]): same words, SIMD rate.
//!
//! # Paths
//! [`reference`](mod@reference) is the scalar twin (`i128` sums, [`crate::portable::round_code`],
//! [`crate::bits::unpack`] per element). [`fast`] works in blocks: it unpacks each region's
//! bits to one lane per element, builds the noise codes of the block (a `clt:K:B` with
//! `K·B ≤ 32` sums each code's uniforms inside one unpacked field), then runs one branch-free
//! loop monomorphized on the rounding mode, in `i32` lanes when every intermediate provably
//! stays below `2^30` ([`SgldLpL::fits_i32`]: 16 lanes per 512-bit vector), else in `i64`
//! lanes when it fits `i64` ([`SgldLpL::fits_i64`]), otherwise it calls the reference.
//! [`crate::Platform`] chooses (the AVX2/AVX-512 builds compile [`fast`] with those features).

use crate::bits::{words_for, WordSource};
use crate::portable::round_code;
use crate::{Code, Overflow, Rounding};
use std::fmt::Debug;
use std::ops::{Add, AddAssign, BitAnd, Mul, Shl, Shr, Sub};

/// A fixed-point format as the kernels see it: word length, fraction length, overflow rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fmt {
    /// Word length in bits, sign included (2..=64; stored quantities ≤ 32).
    pub wl: u32,
    /// Fraction length in bits (0..=62).
    pub fl: u32,
    /// What happens to codes outside `wl` bits.
    pub overflow: Overflow,
}

/// The fixed-point Gaussian generator of a fused step (the integer generators of
/// [`crate::noise`], then brought to the noise format).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NoiseGen<'a> {
    /// [`crate::noise::clt`]`(k, bits)`, then a nearest-even shift right by `shift` bits
    /// (left when negative), then the noise format's overflow rule.
    Clt {
        /// Uniforms per code, ≥ 1.
        k: u32,
        /// Bits per uniform, 1..=32.
        bits: u32,
        /// Fraction bits of the CLT sum minus the noise format's FL.
        shift: i32,
    },
    /// [`crate::noise::table`]: `table[u]`, `u` a uniform `bits`-bit index; the entries are
    /// already codes of the noise format.
    Table {
        /// Index bits, 1..=24; `table.len() == 2^bits`.
        bits: u32,
        /// The `2^bits` codes.
        table: &'a [i64],
    },
}

impl NoiseGen<'_> {
    /// Words `m` codes draw.
    pub fn words(&self, m: usize) -> usize {
        match *self {
            NoiseGen::Clt { k, bits, .. } => words_for(m * k as usize, bits),
            NoiseGen::Table { bits, .. } => words_for(m, bits),
        }
    }
}

/// The diagonal Gaussian's gradient `g_i = prec_i·(x_i − μ_i)` in integers: `prec` codes with
/// `prec_fl` fraction bits, `mean` codes with the position's fraction bits, each of at most
/// 32 bits. Each slice has length `d`, or 1 for "the same for every coordinate".
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GaussGrad<'a> {
    /// Precision (1/variance) codes.
    pub prec: &'a [i64],
    /// Mean codes, in the position's format.
    pub mean: &'a [i64],
    /// Fraction bits of the precision codes (the `coef` format's).
    pub prec_fl: u32,
}

impl GaussGrad<'_> {
    #[inline(always)]
    pub(crate) fn at(&self, i: usize) -> (i64, i64) {
        let p = if self.prec.len() == 1 { 0 } else { i };
        let m = if self.mean.len() == 1 { 0 } else { i };
        (self.prec[p], self.mean[m])
    }
}

/// One SGLD `lp-l` step on the integer datapath (see the [module docs](self) for the rule and
/// the bit order).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgldLpL<'a> {
    /// Rounding of Q_G and Q_W.
    pub rounding: Rounding,
    /// The position's format (`param`).
    pub x: Fmt,
    /// The gradient's format (`grad`).
    pub grad: Fmt,
    /// The accumulator (`accum`), WL ≤ 64.
    pub accum: Fmt,
    /// Fraction bits of the coefficients (`coef`).
    pub coef_fl: u32,
    /// η in `coef` codes.
    pub eta: i64,
    /// √(2η)/s_n in `coef` codes (s_n the generator's standard deviation).
    pub noise_coef: i64,
    /// The target's gradient.
    pub target: GaussGrad<'a>,
    /// The noise generator.
    pub noise: NoiseGen<'a>,
    /// The noise format.
    pub noise_fmt: Fmt,
}

/// One SGHMC `lp-l` step on the integer datapath (see the [module docs](self)).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SghmcLpL<'a> {
    /// Rounding of Q_G, Q_V and Q_W.
    pub rounding: Rounding,
    /// The position's format (`param`).
    pub x: Fmt,
    /// The momentum's format.
    pub v: Fmt,
    /// The gradient's format (`grad`).
    pub grad: Fmt,
    /// The accumulator (`accum`), WL ≤ 64.
    pub accum: Fmt,
    /// Fraction bits of the coefficients (`coef`).
    pub coef_fl: u32,
    /// `[e, c_vg, c_xv, c_xg, n_v, n_xv, n_x]` in `coef` codes.
    pub coefs: [i64; 7],
    /// The target's gradient.
    pub target: GaussGrad<'a>,
    /// The noise generator.
    pub noise: NoiseGen<'a>,
    /// The noise format.
    pub noise_fmt: Fmt,
}

/// A code with `from` fraction bits expressed with `to` fraction bits: exact when `to ≥ from`
/// (shift capped at 126), otherwise truncated toward −∞ (the accumulator drops bits below its
/// LSB).
///
/// ```
/// use lpmc_kernels::fused::align;
/// assert_eq!(align(5, 2, 4), 20);
/// assert_eq!(align(-5, 4, 2), -2);
/// ```
#[inline]
pub fn align(v: i128, from: u32, to: u32) -> i128 {
    if to >= from {
        v << (to - from).min(126)
    } else {
        let s = from - to;
        if s >= 127 {
            if v < 0 {
                -1
            } else {
                0
            }
        } else {
            v >> s
        }
    }
}

/// Shift of Q_G: fraction bits of `prec·(x − μ)` minus the gradient's.
pub(crate) fn grad_shift(t: &GaussGrad, x: Fmt, g: Fmt) -> i32 {
    (t.prec_fl + x.fl) as i32 - g.fl as i32
}

impl SgldLpL<'_> {
    /// `(R_g, R_x)`: random bits per element of Q_G and Q_W.
    pub fn round_bits(&self) -> (u32, u32) {
        let r = self.rounding;
        (
            r.bits_per_code(grad_shift(&self.target, self.x, self.grad)),
            r.bits_per_code(self.accum.fl as i32 - self.x.fl as i32),
        )
    }

    /// Words one step on `d` coordinates draws.
    pub fn words_per_step(&self, d: usize) -> usize {
        let (rg, rx) = self.round_bits();
        words_for(d, rg) + self.noise.words(d) + words_for(d, rx)
    }

    /// Whether every intermediate of the step fits `i64` with 1 bit to spare, so that
    /// [`fast`] may compute in `i64` lanes (otherwise it runs the reference).
    pub fn fits_i64(&self) -> bool {
        let fa = self.accum.fl;
        let fc = self.coef_fl;
        let terms = [
            term(self.x.wl, 1, self.x.fl, fa),
            term(self.grad.wl, COEF_WL, fc + self.grad.fl, fa),
            term(self.noise_fmt.wl, COEF_WL, fc + self.noise_fmt.fl, fa),
        ];
        common_fits(
            &self.target,
            self.x,
            self.grad,
            self.accum,
            Some(&self.noise),
            &terms,
        ) && Rq::ok(self.accum.fl as i32 - self.x.fl as i32, self.accum.wl)
    }

    /// Whether every intermediate of the step fits `i32` with 1 bit to spare (all below
    /// `2^30` in magnitude: the gradient's product and Q_G, the noise codes, each aligned term
    /// and their sum, both roundings' shifts and random bits), so that [`fast`] may compute
    /// in `i32` lanes. Bounds use the actual constants (`prec`, `mean`, `η`, `c_n`, table
    /// entries) and state codes within `x.wl` bits.
    pub fn fits_i32(&self) -> bool {
        self.x.wl <= 32 && self.bounds32().is_some()
    }

    /// `Some` if every bound of [`Self::fits_i32`] holds.
    fn bounds32(&self) -> Option<()> {
        let (fa, fc, r) = (self.accum.fl, self.coef_fl, self.rounding);
        let g = grad32(&self.target, self.x, self.grad, r)?;
        let n = noise32(&self.noise, self.noise_fmt)?;
        let sum = sum32(&[
            term32(1, fmt_max(self.x.wl), self.x.fl, fa)?,
            term32(self.eta.unsigned_abs(), g, fc + self.grad.fl, fa)?,
            term32(
                self.noise_coef.unsigned_abs(),
                n,
                fc + self.noise_fmt.fl,
                fa,
            )?,
        ])?;
        round32(ov32(sum, self.accum), fa as i32 - self.x.fl as i32, r)?;
        Some(())
    }
}

impl SghmcLpL<'_> {
    /// `(R_g, R_v, R_x)`: random bits per element of Q_G, Q_V and Q_W.
    pub fn round_bits(&self) -> (u32, u32, u32) {
        let r = self.rounding;
        (
            r.bits_per_code(grad_shift(&self.target, self.x, self.grad)),
            r.bits_per_code(self.accum.fl as i32 - self.v.fl as i32),
            r.bits_per_code(self.accum.fl as i32 - self.x.fl as i32),
        )
    }

    /// Words one step on `d` coordinates draws.
    pub fn words_per_step(&self, d: usize) -> usize {
        let (rg, rv, rx) = self.round_bits();
        words_for(d, rg) + self.noise.words(2 * d) + words_for(d, rv) + words_for(d, rx)
    }

    /// Whether every intermediate fits `i64` (see [`SgldLpL::fits_i64`]).
    pub fn fits_i64(&self) -> bool {
        let fa = self.accum.fl;
        let fc = self.coef_fl;
        let n = term(self.noise_fmt.wl, COEF_WL, fc + self.noise_fmt.fl, fa);
        let vt = term(self.v.wl, COEF_WL, fc + self.v.fl, fa);
        let gt = term(self.grad.wl, COEF_WL, fc + self.grad.fl, fa);
        let terms = [term(self.x.wl, 1, self.x.fl, fa), vt, gt, n, n];
        common_fits(
            &self.target,
            self.x,
            self.grad,
            self.accum,
            Some(&self.noise),
            &terms,
        ) && Rq::ok(self.accum.fl as i32 - self.x.fl as i32, self.accum.wl)
            && Rq::ok(self.accum.fl as i32 - self.v.fl as i32, self.accum.wl)
            && self.coefs.iter().all(|c| c.unsigned_abs() < 1 << 31)
    }

    /// Whether every intermediate fits `i32` with 1 bit to spare (see
    /// [`SgldLpL::fits_i32`]; here both sums, both state roundings).
    pub fn fits_i32(&self) -> bool {
        self.x.wl <= 32 && self.v.wl <= 32 && self.bounds32().is_some()
    }

    /// `Some` if every bound of [`Self::fits_i32`] holds.
    fn bounds32(&self) -> Option<()> {
        let (fa, fc, r) = (self.accum.fl, self.coef_fl, self.rounding);
        let [e, cvg, cxv, cxg, kv, kxv, kx] = self.coefs.map(|c| c.unsigned_abs());
        let g = grad32(&self.target, self.x, self.grad, r)?;
        let n = noise32(&self.noise, self.noise_fmt)?;
        let v = fmt_max(self.v.wl);
        let (fv, fg, fnz) = (fc + self.v.fl, fc + self.grad.fl, fc + self.noise_fmt.fl);
        let sv = sum32(&[
            term32(e, v, fv, fa)?,
            term32(cvg, g, fg, fa)?,
            term32(kv, n, fnz, fa)?,
        ])?;
        let sx = sum32(&[
            term32(1, fmt_max(self.x.wl), self.x.fl, fa)?,
            term32(cxv, v, fv, fa)?,
            term32(cxg, g, fg, fa)?,
            term32(kxv, n, fnz, fa)?,
            term32(kx, n, fnz, fa)?,
        ])?;
        round32(ov32(sv, self.accum), fa as i32 - self.v.fl as i32, r)?;
        round32(ov32(sx, self.accum), fa as i32 - self.x.fl as i32, r)?;
        Some(())
    }
}

/// Coefficient codes are stored quantities: at most 32 bits.
pub(crate) const COEF_WL: u32 = 32;

/// Exponent bound of a term `A(c·q)`: `|c| ≤ 2^(wc−1)`, `|q| ≤ 2^(wq−1)`, aligned from `from` to
/// `to` fraction bits (a right shift only shrinks it). `wc = 1` stands for "no coefficient".
pub(crate) fn term(wq: u32, wc: u32, from: u32, to: u32) -> u32 {
    (wq - 1) + (wc - 1) + to.saturating_sub(from)
}

/// The checks both steps share: the gradient product and Q_G, the noise codes, and a sum of
/// terms bounded by `2^terms[j]` below `2^62`.
pub(crate) fn common_fits(
    t: &GaussGrad,
    x: Fmt,
    g: Fmt,
    accum: Fmt,
    noise: Option<&NoiseGen>,
    terms: &[u32],
) -> bool {
    let small = |v: &i64| v.unsigned_abs() < 1 << 31;
    if !(t.prec.iter().all(small) && t.mean.iter().all(small) && x.wl <= 32 && g.wl <= 32) {
        return false;
    }
    // prec·(x − μ) < 2^31·2^32 = 2^63 fits; Q_G of it: a left shift must stay below 2^62.
    let sg = grad_shift(t, x, g);
    if !((1..=62).contains(&sg) || sg <= 0 && 31 + x.wl + (-sg) as u32 <= 61) {
        return false;
    }
    if let Some(&NoiseGen::Clt { k, bits, shift }) = noise {
        // |T| ≤ k·2^bits ≤ 2^(bits + 7).
        let e = bits + 7;
        if !((1..=62).contains(&shift) || shift <= 0 && e + (-shift) as u32 <= 61) || k > 64 {
            return false;
        }
    }
    let sum: u128 = terms.iter().map(|&e| 1u128 << e.min(100)).sum();
    sum <= 1 << 62 && accum.wl <= 64
}

/// The `i32`-lane limit: every intermediate's magnitude stays below `2^30` (1 bit to spare).
const LIM32: u128 = 1 << 30;

/// The largest magnitude of a `wl`-bit code, `2^(wl−1)`.
fn fmt_max(wl: u32) -> u128 {
    1u128 << (wl.clamp(1, 100) - 1)
}

/// `Some(v)` if `v < 2^30`.
fn lim32(v: u128) -> Option<u128> {
    (v < LIM32).then_some(v)
}

/// Bound of an aligned term `A(c·q, from → to)` with `|c| ≤ c`, `|q| ≤ q`: the product must
/// fit, then the exact left shift (a floor right shift does not grow a magnitude).
fn term32(c: u64, q: u128, from: u32, to: u32) -> Option<u128> {
    let p = lim32(c as u128 * q)?;
    let l = to.saturating_sub(from);
    if l > 30 {
        return (p == 0).then_some(0);
    }
    lim32(p << l)
}

/// Bound of a sum of term bounds (every partial sum is below it).
fn sum32(terms: &[u128]) -> Option<u128> {
    lim32(terms.iter().sum())
}

/// Bound of a rounding by `shift` with `rounding` of codes bounded by `k`, if the [`RqL`]
/// formulas are exact for it in `i32` lanes (`shift ≤ 30`, at most 30 random bits; for
/// `shift ≤ 0` the exact left shift fits).
fn round32(k: u128, shift: i32, rounding: Rounding) -> Option<u128> {
    lim32(k)?;
    if shift >= 1 {
        if shift > 30 || rounding.bits_per_code(shift) > 30 {
            return None;
        }
        // ⌊k/2^s⌋ rounded up at most once.
        lim32((k >> shift) + 2)
    } else {
        let l = (-shift) as u32;
        if l > 30 {
            return (k == 0).then_some(0);
        }
        lim32(k << l)
    }
}

/// Bound after the overflow rule of `f`: saturation never grows a magnitude, and a wrap
/// happens only when `|q|` exceeds `2^(wl−1)`, which bounds the result.
fn ov32(q: u128, f: Fmt) -> u128 {
    q.min(fmt_max(f.wl))
}

/// Bound of Q_G's result in `i32` lanes: `|prec|·(2^(x.wl−1) + |μ|)`, rounded, overflowed.
fn grad32(t: &GaussGrad, x: Fmt, g: Fmt, r: Rounding) -> Option<u128> {
    if g.wl > 32 {
        return None;
    }
    let max = |s: &[i64]| {
        s.iter()
            .map(|v| v.unsigned_abs() as u128)
            .max()
            .unwrap_or(0)
    };
    let diff = lim32(fmt_max(x.wl) + max(t.mean))?;
    let q = round32(lim32(max(t.prec) * diff)?, grad_shift(t, x, g), r)?;
    Some(ov32(q, g))
}

/// Bound of a noise code in `i32` lanes: a CLT sum `2·Σu − k(2^B − 1)` (its `2·Σu` must
/// fit), its nearest-even shift and the noise format's rule; or the largest table entry.
fn noise32(noise: &NoiseGen, f: Fmt) -> Option<u128> {
    match *noise {
        NoiseGen::Clt { k, bits, shift } => {
            if bits > 30 {
                return None;
            }
            let t = k as u128 * ((1u128 << bits) - 1);
            lim32(2 * t)?;
            Some(ov32(round32(t, shift, Rounding::NearestEven)?, f))
        }
        NoiseGen::Table { table, .. } => lim32(
            table
                .iter()
                .map(|v| v.unsigned_abs() as u128)
                .max()
                .unwrap_or(0),
        ),
    }
}

/// An integer lane type of the [`fast`] loops: `i64`, or `i32` when the step's
/// `fits_i32` holds (16 lanes per 512-bit vector instead of 8). `U` is its unsigned twin, used
/// for random bits and the discarded bits of a rounding.
pub(crate) trait Lane:
    Copy
    + Debug
    + Default
    + Ord
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Shl<u32, Output = Self>
    + Shr<u32, Output = Self>
    + BitAnd<Output = Self>
{
    /// The unsigned lane of the same width.
    type U: Copy
        + Debug
        + Default
        + Ord
        + Add<Output = Self::U>
        + AddAssign
        + Shl<u32, Output = Self::U>
        + Shr<u32, Output = Self::U>
        + BitAnd<Output = Self::U>;
    /// Lane width in bits.
    const BITS: u32;
    /// 1.
    const ONE: Self;
    /// `v` truncated to the lane (callers pass values that fit).
    fn of(v: i64) -> Self;
    /// The lane's value as `i64` (sign-extended).
    fn wide(self) -> i64;
    /// The lane's bits as unsigned.
    fn ubits(self) -> Self::U;
    /// Unsigned bits as a signed lane (callers pass values below `2^(BITS−1)`).
    fn signed(u: Self::U) -> Self;
    /// `v` truncated to the unsigned lane.
    fn u(v: u64) -> Self::U;
    /// `b` as 0 or 1.
    fn flag(b: bool) -> Self::U;
    /// The unsigned lane as `u64`.
    fn uwide(u: Self::U) -> u64;
}

macro_rules! lane {
    ($s:ty, $u:ty) => {
        impl Lane for $s {
            type U = $u;
            const BITS: u32 = <$s>::BITS;
            const ONE: Self = 1;
            #[inline(always)]
            fn of(v: i64) -> Self {
                v as $s
            }
            #[inline(always)]
            fn wide(self) -> i64 {
                self as i64
            }
            #[inline(always)]
            fn ubits(self) -> $u {
                self as $u
            }
            #[inline(always)]
            fn signed(u: $u) -> Self {
                u as $s
            }
            #[inline(always)]
            fn u(v: u64) -> $u {
                v as $u
            }
            #[inline(always)]
            fn flag(b: bool) -> $u {
                b as $u
            }
            #[inline(always)]
            fn uwide(u: $u) -> u64 {
                u as u64
            }
        }
    };
}
lane!(i64, u64);
lane!(i32, u32);

/// One rounding (before overflow) of codes by a fixed shift, as branch-free lane code in
/// lanes `L`.
///
/// In `i64` lanes ([`Rq`]): same results as [`round_code`] for codes `k` with `|k| < 2^62`
/// and, for `s ≤ 0`, `|k|·2^−s < 2^62` (checked by [`Rq::ok`] and the `fits_i64` methods).
/// In `i32` lanes the same formulas are exact for `|k| < 2^30`, `s ≤ 30`, `R ≤ 30` and, for
/// `s ≤ 0`, `|k|·2^−s < 2^30` (checked by the `fits_i32` methods): the discarded bits
/// `d < 2^s`, the carry sums `top_R(d) + u`, `rne_R(d) + u` (`< 2^(R+1)`) and `d + u`
/// (`< 2^(s+1)`) fit 31 unsigned bits, and `⌊k/2^s⌋ + 1` fits.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RqL<L: Lane> {
    /// max(s, 1): the shift used by the rounding formulas.
    s: u32,
    /// max(−s, 0): the exact left shift when nothing is discarded.
    left: u32,
    /// s ≤ 0: no rounding, the result is `k << left`.
    exact: bool,
    mask: L::U,
    half: L::U,
    /// R (random bits of sr:R / src:R).
    r: u32,
    /// `top_R(d) = (d >> a) << b`.
    a: u32,
    b: u32,
    /// src:R with R < s: round d to R bits (ties to even) first.
    rne: bool,
    rmask: L::U,
    rhalf: L::U,
}

/// [`RqL`] in `i64` lanes.
pub(crate) type Rq = RqL<i64>;

/// The rounding mode as a const generic: 0 floor, 1 toward-zero, 2 nearest-even,
/// 3 nearest-away, 4 sr:R, 5 sr (exact), 6 src:R.
pub(crate) fn mode_id(r: Rounding) -> u8 {
    match r {
        Rounding::Floor => 0,
        Rounding::TowardZero => 1,
        Rounding::NearestEven => 2,
        Rounding::NearestAway => 3,
        Rounding::Stochastic { .. } => 4,
        Rounding::StochasticExact => 5,
        Rounding::StochasticCorrected { .. } => 6,
    }
}

/// `$body` with the const `$M` set to the mode id `$mode` (see [`mode_id`]): one copy of
/// `$body` per mode. Kernels wrap only their element loops in it, so that the code around
/// them (bit unpacking, noise) is compiled once and not once per mode.
macro_rules! with_mode {
    ($mode:expr, $M:ident => $body:expr) => {
        match $mode {
            0 => {
                const $M: u8 = 0;
                $body
            }
            1 => {
                const $M: u8 = 1;
                $body
            }
            2 => {
                const $M: u8 = 2;
                $body
            }
            3 => {
                const $M: u8 = 3;
                $body
            }
            4 => {
                const $M: u8 = 4;
                $body
            }
            5 => {
                const $M: u8 = 5;
                $body
            }
            _ => {
                const $M: u8 = 6;
                $body
            }
        }
    };
}
pub(crate) use with_mode;

impl Rq {
    /// Whether a shift `shift` of `wl`-bit codes is in the range [`Rq`] handles.
    fn ok(shift: i32, wl: u32) -> bool {
        (1..=62).contains(&shift) || (shift <= 0 && (wl - 1) + (-shift) as u32 <= 61)
    }
}

impl<L: Lane> RqL<L> {
    pub(crate) fn new(shift: i32, rounding: Rounding) -> Self {
        let s = shift.max(1) as u32;
        let r = match rounding {
            Rounding::Stochastic { bits } | Rounding::StochasticCorrected { bits } => bits,
            _ => 0,
        };
        let a = s.saturating_sub(r);
        let rne = matches!(rounding, Rounding::StochasticCorrected { .. }) && r < s;
        RqL {
            s,
            left: (-shift).max(0) as u32,
            exact: shift <= 0,
            mask: L::u((1u64 << s) - 1),
            half: L::u(1u64 << (s - 1)),
            r,
            a,
            b: r.saturating_sub(s),
            rne,
            rmask: L::u(if a >= 1 { (1u64 << a) - 1 } else { 0 }),
            rhalf: L::u(if a >= 1 { 1u64 << (a - 1) } else { 0 }),
        }
    }

    /// `k` rounded with `u` random bits, mode `M` (see [`mode_id`]).
    #[inline(always)]
    pub(crate) fn round<const M: u8>(&self, k: L, u: L::U) -> L {
        let s = self.s;
        let d = k.ubits() & self.mask;
        let fl = k >> s;
        let z = L::U::default();
        let up: L::U = match M {
            0 => z,
            1 => L::flag((k < L::default()) & (d != z)),
            2 => L::flag((d > self.half) | ((d == self.half) & (fl & L::ONE == L::ONE))),
            3 => L::flag((d > self.half) | ((d == self.half) & (k >= L::default()))),
            4 => (((d >> self.a) << self.b) + u) >> self.r,
            5 => (d + u) >> s,
            _ => {
                let plain = (d >> self.a) << self.b;
                let q = d >> self.a;
                let rem = d & self.rmask;
                let one = L::flag(true);
                let t = q + L::flag((rem > self.rhalf) | ((rem == self.rhalf) & (q & one == one)));
                let t = if self.rne { t } else { plain };
                (t + u) >> self.r
            }
        };
        let rounded = fl + L::signed(up);
        if self.exact {
            k << self.left
        } else {
            rounded
        }
    }
}

/// An overflow rule as branch-free lane code in lanes `L`: `(result, event)`. A format wider
/// than the lanes gets the lanes' own range (no overflow can happen there: the `fits_*`
/// checks bound every value below `2^(L::BITS − 2)`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct OvL<L: Lane> {
    wrap: bool,
    sh: u32,
    min: L,
    max: L,
}

/// [`OvL`] in `i64` lanes.
#[allow(dead_code)] // the `i64` name the multi-chain kernels use
pub(crate) type Ov = OvL<i64>;

impl<L: Lane> OvL<L> {
    pub(crate) fn new(f: Fmt) -> Self {
        let wl = f.wl.min(L::BITS);
        let max = ((1u64 << (wl - 1)) - 1) as i64;
        OvL {
            wrap: f.overflow == Overflow::Wrap,
            sh: L::BITS - wl,
            min: L::of(-max - 1),
            max: L::of(max),
        }
    }

    #[inline(always)]
    pub(crate) fn apply(&self, q: L) -> (L, bool) {
        let w = (q << self.sh) >> self.sh;
        let c = q.max(self.min).min(self.max);
        let out = if self.wrap { w } else { c };
        (out, out != q)
    }
}

/// `(lsh, rsh)` of [`align`] from `from` to `to` fraction bits in `bits`-bit lanes (a right
/// shift of `bits − 1` is the floor for every value of the lane).
pub(crate) fn shifts(from: u32, to: u32, bits: u32) -> (u32, u32) {
    if to >= from {
        (to - from, 0)
    } else {
        (0, (from - to).min(bits - 1))
    }
}

#[inline(always)]
pub(crate) fn al<L: Lane>(v: L, (l, r): (u32, u32)) -> L {
    (v << l) >> r
}

/// The scalar twins: one element at a time, `i128` sums, the reference rounding.
pub mod reference {
    use super::*;
    use crate::bits::unpack;

    /// Element `j`'s noise code from the noise region `w`.
    fn noise_code(gen: &NoiseGen, f: Fmt, w: &[u64], j: usize) -> i64 {
        match *gen {
            NoiseGen::Clt { k, bits, shift } => {
                let k = k as usize;
                let s: i64 = (0..k).map(|m| unpack(w, j * k + m, bits) as i64).sum();
                let t = 2 * s - k as i64 * ((1i64 << bits) - 1);
                f.overflow
                    .apply(round_code(t, shift, Rounding::NearestEven, 0), f.wl)
                    .0
            }
            NoiseGen::Table { bits, table } => table[unpack(w, j, bits) as usize],
        }
    }

    /// `r` bits of element `i` of region `w` (0 when `r = 0`).
    pub(crate) fn ubits(w: &[u64], i: usize, r: u32) -> u64 {
        if r == 0 {
            0
        } else {
            unpack(w, i, r)
        }
    }

    /// Q_G of coordinate `i`: `(g, event)`.
    pub(crate) fn grad(
        t: &GaussGrad,
        x: Fmt,
        g: Fmt,
        r: Rounding,
        xi: i64,
        i: usize,
        u: u64,
    ) -> (i64, bool) {
        let (p, m) = t.at(i);
        let prod = p as i128 * (xi as i128 - m as i128);
        let q = round_code(prod as i64, grad_shift(t, x, g), r, u);
        g.overflow.apply(q, g.wl)
    }

    #[allow(clippy::needless_range_loop)] // element i indexes x and the three bit regions
    /// `steps` SGLD `lp-l` steps of `x` (see [`SgldLpL`]); `words` is scratch of at least
    /// [`SgldLpL::words_per_step`] words. Returns the overflow events (Q_G, accumulator, Q_W).
    ///
    /// # Panics
    /// If `words` is too short.
    pub fn sgld_lp_l<C: Code, W: WordSource + ?Sized>(
        p: &SgldLpL,
        x: &mut [C],
        steps: u64,
        bits: &mut W,
        words: &mut [u64],
    ) -> u64 {
        let d = x.len();
        let (rg, rx) = p.round_bits();
        let (ng, nn, nx) = (words_for(d, rg), p.noise.words(d), words_for(d, rx));
        let words = &mut words[..ng + nn + nx];
        let (fa, fc) = (p.accum.fl, p.coef_fl);
        let mut events = 0u64;
        for _ in 0..steps {
            bits.fill(words);
            let (wg, rest) = words.split_at(ng);
            let (wn, wx) = rest.split_at(nn);
            for i in 0..d {
                let xi = x[i].to_i64();
                let (g, e1) = grad(&p.target, p.x, p.grad, p.rounding, xi, i, ubits(wg, i, rg));
                let n = noise_code(&p.noise, p.noise_fmt, wn, i);
                let sum = align(xi as i128, p.x.fl, fa)
                    - align(p.eta as i128 * g as i128, fc + p.grad.fl, fa)
                    + align(p.noise_coef as i128 * n as i128, fc + p.noise_fmt.fl, fa);
                let (acc, e2) = p.accum.overflow.apply(sum, p.accum.wl);
                let q = round_code(acc, fa as i32 - p.x.fl as i32, p.rounding, ubits(wx, i, rx));
                let (c, e3) = p.x.overflow.apply(q, p.x.wl);
                x[i] = C::from_i64(c);
                events += e1 as u64 + e2 as u64 + e3 as u64;
            }
        }
        events
    }

    #[allow(clippy::needless_range_loop)] // element i indexes x, v and four bit regions
    /// `steps` SGHMC `lp-l` steps of `(x, v)` (see [`SghmcLpL`]); `words` is scratch of at
    /// least [`SghmcLpL::words_per_step`] words. Returns the overflow events.
    ///
    /// # Panics
    /// If `x.len() != v.len()` or `words` is too short.
    pub fn sghmc_lp_l<C: Code, W: WordSource + ?Sized>(
        p: &SghmcLpL,
        x: &mut [C],
        v: &mut [C],
        steps: u64,
        bits: &mut W,
        words: &mut [u64],
    ) -> u64 {
        assert_eq!(x.len(), v.len(), "sghmc_lp_l: x and v lengths differ");
        let d = x.len();
        let (rg, rv, rx) = p.round_bits();
        let (ng, nn) = (words_for(d, rg), p.noise.words(2 * d));
        let (nv, nx) = (words_for(d, rv), words_for(d, rx));
        let words = &mut words[..ng + nn + nv + nx];
        let (fa, fc, fnz) = (p.accum.fl, p.coef_fl, p.noise_fmt.fl);
        let [e, cvg, cxv, cxg, kv, kxv, kx] = p.coefs.map(|c| c as i128);
        let mut events = 0u64;
        for _ in 0..steps {
            bits.fill(words);
            let (wg, rest) = words.split_at(ng);
            let (wn, rest) = rest.split_at(nn);
            let (wv, wx) = rest.split_at(nv);
            for i in 0..d {
                let (xi, vi) = (x[i].to_i64(), v[i].to_i64());
                let (g, e1) = grad(&p.target, p.x, p.grad, p.rounding, xi, i, ubits(wg, i, rg));
                let n1 = noise_code(&p.noise, p.noise_fmt, wn, i) as i128;
                let n2 = noise_code(&p.noise, p.noise_fmt, wn, d + i) as i128;
                let (g, vw) = (g as i128, vi as i128);
                let sv = align(e * vw, fc + p.v.fl, fa)
                    + align(cvg * g, fc + p.grad.fl, fa)
                    + align(kv * n1, fc + fnz, fa);
                let sx = align(xi as i128, p.x.fl, fa)
                    + align(cxv * vw, fc + p.v.fl, fa)
                    + align(cxg * g, fc + p.grad.fl, fa)
                    + align(kxv * n1, fc + fnz, fa)
                    + align(kx * n2, fc + fnz, fa);
                let (av, e2) = p.accum.overflow.apply(sv, p.accum.wl);
                let (ax, e3) = p.accum.overflow.apply(sx, p.accum.wl);
                let qv = round_code(av, fa as i32 - p.v.fl as i32, p.rounding, ubits(wv, i, rv));
                let qx = round_code(ax, fa as i32 - p.x.fl as i32, p.rounding, ubits(wx, i, rx));
                let (cv, e4) = p.v.overflow.apply(qv, p.v.wl);
                let (cx, e5) = p.x.overflow.apply(qx, p.x.wl);
                v[i] = C::from_i64(cv);
                x[i] = C::from_i64(cx);
                events += [e1, e2, e3, e4, e5].iter().map(|&b| b as u64).sum::<u64>();
            }
        }
        events
    }
}

/// The blockwise path: bits unpacked per block to one lane per element, noise codes built per
/// block, then one branch-free loop per block in `i32` or `i64` lanes (the `Lane` trait),
/// monomorphized on the rounding mode.
pub mod fast {
    use super::*;
    use crate::{CodeSliceMut, Platform};

    /// Elements per block.
    pub(crate) const B: usize = 256;
    /// Uniforms buffered per CLT sub-block.
    const UB: usize = 1024;

    /// Sequential unpacking of a region's `r`-bit elements from any starting element.
    pub(crate) struct Unpack<'w> {
        words: &'w [u64],
        r: u32,
        per: usize,
        pos: usize,
        k: usize,
        mask: u64,
    }

    /// The packing geometry of a region of `r`-bit elements, computed once per call.
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct Geo {
        r: u32,
        per: usize,
        mask: u64,
    }

    impl Geo {
        pub(crate) fn new(r: u32) -> Self {
            match 64u32.checked_div(r) {
                None => Geo {
                    r: 0,
                    per: usize::MAX,
                    mask: 0,
                },
                Some(per) => Geo {
                    r,
                    per: per as usize,
                    mask: u64::MAX >> (64 - r),
                },
            }
        }

        /// `(word, element within the word)` of element `i`.
        fn place(&self, i: usize) -> (usize, usize) {
            if self.r == 0 {
                (0, 0)
            } else {
                (i / self.per, i % self.per)
            }
        }

        /// The unpacker of `words` from the element at `place`.
        #[inline(always)]
        pub(crate) fn at<'w>(&self, words: &'w [u64], (pos, k): (usize, usize)) -> Unpack<'w> {
            Unpack {
                words,
                r: self.r,
                per: self.per,
                pos,
                k,
                mask: self.mask,
            }
        }
    }

    impl<'w> Unpack<'w> {
        #[inline(always)]
        fn one(&mut self) -> u64 {
            if self.r == 0 {
                return 0;
            }
            let v = (self.words[self.pos] >> (self.k as u32 * self.r)) & self.mask;
            self.k += 1;
            if self.k == self.per {
                self.k = 0;
                self.pos += 1;
            }
            v
        }

        /// The next `out.len()` elements.
        #[inline(always)]
        pub(crate) fn take<T: Default + Copy>(&mut self, out: &mut [T], cast: impl Fn(u64) -> T) {
            if self.r == 0 {
                out.fill(T::default());
                return;
            }
            let mut i = 0;
            while self.k != 0 && i < out.len() {
                out[i] = cast(self.one());
                i += 1;
            }
            let whole = (out.len() - i) / self.per;
            let ws = &self.words[self.pos..self.pos + whole];
            let body = &mut out[i..i + whole * self.per];
            match self.r {
                1 => whole_words::<T, 1>(ws, body, &cast),
                2 => whole_words::<T, 2>(ws, body, &cast),
                4 => whole_words::<T, 4>(ws, body, &cast),
                8 => whole_words::<T, 8>(ws, body, &cast),
                16 => whole_words::<T, 16>(ws, body, &cast),
                32 => whole_words::<T, 32>(ws, body, &cast),
                r => {
                    for (w, c) in ws.iter().zip(body.chunks_exact_mut(self.per)) {
                        let mut w = *w;
                        for o in c {
                            *o = cast(w & self.mask);
                            w = w.checked_shr(r).unwrap_or(0);
                        }
                    }
                }
            }
            self.pos += whole;
            i += whole * self.per;
            while i < out.len() {
                out[i] = cast(self.one());
                i += 1;
            }
        }
    }

    #[inline(always)]
    fn whole_words<T: Copy, const R: u32>(ws: &[u64], out: &mut [T], cast: &impl Fn(u64) -> T) {
        let per = (64 / R) as usize;
        let m = u64::MAX >> (64 - R);
        for (w, c) in ws.iter().zip(out.chunks_exact_mut(per)) {
            for (j, o) in c.iter_mut().enumerate() {
                *o = cast((w >> (j as u32 * R)) & m);
            }
        }
    }

    /// Brings raw generator output to noise codes; made once per call.
    struct NoiseConv<'w, L: Lane> {
        gen: NoiseGen<'w>,
        geo: Geo,
        rq: RqL<L>,
        ov: OvL<L>,
        uni: [u32; UB],
        idx: [u64; B],
    }

    impl<'w, L: Lane> NoiseConv<'w, L> {
        fn new(gen: NoiseGen<'w>, f: Fmt) -> Self {
            let shift = match gen {
                NoiseGen::Clt { shift, .. } => shift,
                NoiseGen::Table { .. } => 1,
            };
            let r = match gen {
                NoiseGen::Clt { bits, .. } | NoiseGen::Table { bits, .. } => bits,
            };
            NoiseConv {
                gen,
                geo: Geo::new(r),
                rq: RqL::new(shift, Rounding::NearestEven),
                ov: OvL::new(f),
                uni: [0; UB],
                idx: [0; B],
            }
        }

        /// Where code `start` begins in the noise region.
        fn place(&self, start: usize) -> (usize, usize) {
            match self.gen {
                NoiseGen::Clt { k, .. } => self.geo.place(start * k as usize),
                NoiseGen::Table { .. } => self.geo.place(start),
            }
        }

        /// The unpacker of the noise region `words` from `place` on.
        #[inline(always)]
        fn src<'a>(&self, words: &'a [u64], place: (usize, usize)) -> Unpack<'a> {
            self.geo.at(words, place)
        }

        /// One noise code (the small-dimension path).
        #[inline(always)]
        fn one(&self, src: &mut Unpack) -> L {
            match self.gen {
                NoiseGen::Clt { k, bits, .. } => {
                    let mut s = L::default();
                    for _ in 0..k {
                        s = s + L::of(src.one() as i64);
                    }
                    let t = s + s - L::of(k as i64 * ((1i64 << bits) - 1));
                    self.ov.apply(self.rq.round::<2>(t, L::U::default())).0
                }
                NoiseGen::Table { table, .. } => L::of(table[src.one() as usize]),
            }
        }

        /// The next `out.len()` noise codes.
        #[inline(always)]
        fn fill(&mut self, src: &mut Unpack, out: &mut [L]) {
            match self.gen {
                NoiseGen::Clt { k, bits, .. } => {
                    let off = L::of(k as i64 * ((1i64 << bits) - 1));
                    let (rq, ov) = (self.rq, self.ov);
                    // Codes that never straddle a word (k·bits ≤ 32 divides 64): unpack
                    // one field of k uniforms per code and sum inside it.
                    let g = k * bits;
                    if matches!((k, bits), (2 | 4 | 8, 4 | 8 | 16) if g <= 32) {
                        let kk = k as usize;
                        let mut view = Geo::new(g).at(src.words, (src.pos, src.k / kk));
                        for o in out.chunks_mut(UB) {
                            let u = &mut self.uni[..o.len()];
                            view.take(u, |w| w as u32);
                            match (k, bits) {
                                (2, 4) => clt_fields::<L, 2, 4>(u, o, off, &rq, &ov),
                                (4, 4) => clt_fields::<L, 4, 4>(u, o, off, &rq, &ov),
                                (8, 4) => clt_fields::<L, 8, 4>(u, o, off, &rq, &ov),
                                (2, 8) => clt_fields::<L, 2, 8>(u, o, off, &rq, &ov),
                                (4, 8) => clt_fields::<L, 4, 8>(u, o, off, &rq, &ov),
                                _ => clt_fields::<L, 2, 16>(u, o, off, &rq, &ov),
                            }
                        }
                        (src.pos, src.k) = (view.pos, view.k * kk);
                        return;
                    }
                    let k = k as usize;
                    for o in out.chunks_mut(UB / k) {
                        let u = &mut self.uni[..o.len() * k];
                        src.take(u, |w| w as u32);
                        match k {
                            1 => clt_sums::<L, 1>(u, o, off, &rq, &ov),
                            2 => clt_sums::<L, 2>(u, o, off, &rq, &ov),
                            3 => clt_sums::<L, 3>(u, o, off, &rq, &ov),
                            4 => clt_sums::<L, 4>(u, o, off, &rq, &ov),
                            8 => clt_sums::<L, 8>(u, o, off, &rq, &ov),
                            12 => clt_sums::<L, 12>(u, o, off, &rq, &ov),
                            _ => {
                                for (c, us) in o.iter_mut().zip(u.chunks_exact(k)) {
                                    let s =
                                        us.iter().fold(L::default(), |s, &x| s + L::of(x as i64));
                                    *c = ov.apply(rq.round::<2>(s + s - off, L::U::default())).0;
                                }
                            }
                        }
                    }
                }
                NoiseGen::Table { table, .. } => {
                    let idx = &mut self.idx[..out.len()];
                    src.take(idx, |w| w);
                    for (c, &i) in out.iter_mut().zip(idx.iter()) {
                        *c = L::of(table[i as usize]);
                    }
                }
            }
        }
    }

    /// The mask of the low `w` bits of every `2w`-bit group of a word.
    const fn group_mask(w: u32) -> u64 {
        let mut m = 0u64;
        let mut at = 0;
        while at < 64 {
            m |= (u64::MAX >> (64 - w)) << at;
            at += 2 * w;
        }
        m
    }

    /// CLT codes from fields of `K` adjacent `R`-bit uniforms (`K·R ≤ 32` bits per field),
    /// summed inside the field by a tree of masked adds (`R + log2 K ≤ K·R` bits hold each
    /// partial sum), then brought to noise codes. Same codes as [`clt_sums`] of the unpacked
    /// uniforms.
    #[inline(always)]
    fn clt_fields<L: Lane, const K: u32, const R: u32>(
        u: &[u32],
        out: &mut [L],
        off: L,
        rq: &RqL<L>,
        ov: &OvL<L>,
    ) {
        for (c, &f) in out.iter_mut().zip(u) {
            let mut t = f;
            let mut width = R;
            while width < K * R {
                let m = group_mask(width) as u32;
                t = (t & m) + ((t >> width) & m);
                width *= 2;
            }
            let s = L::of(t as i64);
            *c = ov.apply(rq.round::<2>(s + s - off, L::U::default())).0;
        }
    }

    /// CLT sums of `K` uniforms per code, brought to noise codes.
    #[inline(always)]
    fn clt_sums<L: Lane, const K: usize>(
        u: &[u32],
        out: &mut [L],
        off: L,
        rq: &RqL<L>,
        ov: &OvL<L>,
    ) {
        for (c, us) in out.iter_mut().zip(u.chunks_exact(K)) {
            let mut s = L::default();
            for &x in us {
                s = s + L::of(x as i64);
            }
            *c = ov.apply(rq.round::<2>(s + s - off, L::U::default())).0;
        }
    }

    /// The per-element constants of the SGLD step in lanes `L` (valid when
    /// [`SgldLpL::fits_i64`], and for `i32` lanes [`SgldLpL::fits_i32`]).
    pub(crate) struct SgldElemL<L: Lane> {
        rqg: RqL<L>,
        rqx: RqL<L>,
        ovg: OvL<L>,
        ova: OvL<L>,
        ovx: OvL<L>,
        sx: (u32, u32),
        sg: (u32, u32),
        sn: (u32, u32),
        eta: L,
        nc: L,
    }

    /// [`SgldElemL`] in `i64` lanes.
    #[allow(dead_code)] // the `i64` name the multi-chain kernels use
    pub(crate) type SgldElem = SgldElemL<i64>;

    impl<L: Lane> SgldElemL<L> {
        /// The constants of `p`.
        pub(crate) fn of(p: &SgldLpL) -> Self {
            let (fa, fc) = (p.accum.fl, p.coef_fl);
            SgldElemL {
                rqg: RqL::new(grad_shift(&p.target, p.x, p.grad), p.rounding),
                rqx: RqL::new(fa as i32 - p.x.fl as i32, p.rounding),
                ovg: OvL::new(p.grad),
                ova: OvL::new(p.accum),
                ovx: OvL::new(p.x),
                sx: shifts(p.x.fl, fa, L::BITS),
                sg: shifts(fc + p.grad.fl, fa, L::BITS),
                sn: shifts(fc + p.noise_fmt.fl, fa, L::BITS),
                eta: L::of(p.eta),
                nc: L::of(p.noise_coef),
            }
        }

        /// One coordinate: `(x', events)`.
        #[inline(always)]
        pub(crate) fn step<const M: u8>(
            &self,
            xi: L,
            pr: L,
            mu: L,
            ug: L::U,
            nz: L,
            ux: L::U,
        ) -> (L, L::U) {
            let (g, e1) = self.ovg.apply(self.rqg.round::<M>(pr * (xi - mu), ug));
            let sum = al(xi, self.sx) - al(self.eta * g, self.sg) + al(self.nc * nz, self.sn);
            let (acc, e2) = self.ova.apply(sum);
            let (c, e3) = self.ovx.apply(self.rqx.round::<M>(acc, ux));
            (c, L::flag(e1) + L::flag(e2) + L::flag(e3))
        }
    }

    /// The per-element constants of the SGHMC step in lanes `L` (valid when
    /// [`SghmcLpL::fits_i64`], and for `i32` lanes [`SghmcLpL::fits_i32`]).
    pub(crate) struct HmcElemL<L: Lane> {
        rqg: RqL<L>,
        rqv: RqL<L>,
        rqx: RqL<L>,
        ovg: OvL<L>,
        ova: OvL<L>,
        ovv: OvL<L>,
        ovx: OvL<L>,
        sx: (u32, u32),
        sv: (u32, u32),
        sg: (u32, u32),
        sn: (u32, u32),
        c: [L; 7],
    }

    /// [`HmcElemL`] in `i64` lanes.
    #[allow(dead_code)] // the `i64` name the multi-chain kernels use
    pub(crate) type HmcElem = HmcElemL<i64>;

    impl<L: Lane> HmcElemL<L> {
        /// The constants of `p`.
        pub(crate) fn of(p: &SghmcLpL) -> Self {
            let (fa, fc) = (p.accum.fl, p.coef_fl);
            HmcElemL {
                rqg: RqL::new(grad_shift(&p.target, p.x, p.grad), p.rounding),
                rqv: RqL::new(fa as i32 - p.v.fl as i32, p.rounding),
                rqx: RqL::new(fa as i32 - p.x.fl as i32, p.rounding),
                ovg: OvL::new(p.grad),
                ova: OvL::new(p.accum),
                ovv: OvL::new(p.v),
                ovx: OvL::new(p.x),
                sx: shifts(p.x.fl, fa, L::BITS),
                sv: shifts(fc + p.v.fl, fa, L::BITS),
                sg: shifts(fc + p.grad.fl, fa, L::BITS),
                sn: shifts(fc + p.noise_fmt.fl, fa, L::BITS),
                c: p.coefs.map(L::of),
            }
        }

        /// One coordinate: `(x', v', events)`; `u` = the bits of Q_G, Q_V, Q_W.
        #[inline(always)]
        #[allow(clippy::too_many_arguments)]
        pub(crate) fn step<const M: u8>(
            &self,
            xi: L,
            vi: L,
            pr: L,
            mu: L,
            u: [L::U; 3],
            n1: L,
            n2: L,
        ) -> (L, L, L::U) {
            let [e, cvg, cxv, cxg, kv, kxv, kx] = self.c;
            let [ug, uv, ux] = u;
            let (g, e1) = self.ovg.apply(self.rqg.round::<M>(pr * (xi - mu), ug));
            let svs = al(e * vi, self.sv) + al(cvg * g, self.sg) + al(kv * n1, self.sn);
            let sxs = al(xi, self.sx)
                + al(cxv * vi, self.sv)
                + al(cxg * g, self.sg)
                + al(kxv * n1, self.sn)
                + al(kx * n2, self.sn);
            let (av, e2) = self.ova.apply(svs);
            let (ax, e3) = self.ova.apply(sxs);
            let (cv, e4) = self.ovv.apply(self.rqv.round::<M>(av, uv));
            let (cx, e5) = self.ovx.apply(self.rqx.round::<M>(ax, ux));
            let ev = L::flag(e1) + L::flag(e2) + L::flag(e3) + L::flag(e4) + L::flag(e5);
            (cx, cv, ev)
        }
    }

    /// Dimensions up to this run element by element (no block buffers).
    const SMALL_D: usize = 8;

    /// Per-block copies of the per-coordinate constants (or their broadcast).
    pub(crate) struct Consts<L: Lane> {
        pub(crate) prec: [L; B],
        pub(crate) mean: [L; B],
    }

    impl<L: Lane> Consts<L> {
        pub(crate) fn new(t: &GaussGrad) -> Self {
            let mut c = Consts {
                prec: [L::default(); B],
                mean: [L::default(); B],
            };
            if t.prec.len() == 1 {
                c.prec.fill(L::of(t.prec[0]));
            }
            if t.mean.len() == 1 {
                c.mean.fill(L::of(t.mean[0]));
            }
            c
        }

        #[inline(always)]
        pub(crate) fn block(&mut self, t: &GaussGrad, i0: usize, n: usize) {
            if t.prec.len() > 1 {
                for (c, &v) in self.prec[..n].iter_mut().zip(&t.prec[i0..i0 + n]) {
                    *c = L::of(v);
                }
            }
            if t.mean.len() > 1 {
                for (c, &v) in self.mean[..n].iter_mut().zip(&t.mean[i0..i0 + n]) {
                    *c = L::of(v);
                }
            }
        }
    }

    /// How many steps' words to draw at once: as many as `words` holds (at least one).
    ///
    /// The step loop around it is written out in each kernel rather than taken by a helper
    /// with a closure for the step: through the closure's captured references the element
    /// loops stopped vectorizing (the `lp-l` kernels ran 8× slower).
    pub(crate) fn batch(words: usize, per_step: usize) -> usize {
        words.checked_div(per_step).unwrap_or(1).max(1)
    }

    /// Loads codes `i0..i0 + out.len()` of `x` into lanes. Inlined into each platform's
    /// build (one small widening loop per container), so the step code around it is compiled
    /// once per lane type and platform, not again for every container.
    #[inline(always)]
    pub(crate) fn load<L: Lane>(x: &CodeSliceMut, i0: usize, out: &mut [L]) {
        #[inline(always)]
        fn go<C: Code, L: Lane>(s: &[C], out: &mut [L]) {
            for (o, c) in out.iter_mut().zip(s) {
                *o = L::of(c.to_i64());
            }
        }
        match x {
            CodeSliceMut::I8(s) => go(&s[i0..], out),
            CodeSliceMut::I16(s) => go(&s[i0..], out),
            CodeSliceMut::I32(s) => go(&s[i0..], out),
            CodeSliceMut::I64(s) => go(&s[i0..], out),
        }
    }

    /// Stores lanes `v` as codes `i0..i0 + v.len()` of `x` (see [`load`]).
    #[inline(always)]
    pub(crate) fn store<L: Lane>(x: &mut CodeSliceMut, i0: usize, v: &[L]) {
        #[inline(always)]
        fn go<C: Code, L: Lane>(s: &mut [C], v: &[L]) {
            for (c, l) in s.iter_mut().zip(v) {
                *c = C::from_i64(l.wide());
            }
        }
        match x {
            CodeSliceMut::I8(s) => go(&mut s[i0..], v),
            CodeSliceMut::I16(s) => go(&mut s[i0..], v),
            CodeSliceMut::I32(s) => go(&mut s[i0..], v),
            CodeSliceMut::I64(s) => go(&mut s[i0..], v),
        }
    }

    /// Same contract and bits as [`reference::sgld_lp_l`], run on `platform`'s build of the
    /// step: `i32` lanes when [`SgldLpL::fits_i32`], else `i64` lanes when
    /// [`SgldLpL::fits_i64`], else the reference.
    ///
    /// # Panics
    /// If `words` is shorter than [`SgldLpL::words_per_step`].
    pub fn sgld_lp_l(
        p: &SgldLpL,
        mut x: CodeSliceMut,
        steps: u64,
        bits: &mut dyn WordSource,
        words: &mut [u64],
        platform: Platform,
    ) -> u64 {
        macro_rules! go {
            ($l:ty) => {{
                let xs = &mut x;
                match platform {
                    #[cfg(target_arch = "x86_64")]
                    // SAFETY: an `Avx2` value is only handed out by `avx2()`, which checked
                    // support.
                    Platform::Avx2 => unsafe {
                        crate::x86::avx2::sgld_lanes::<$l>(p, xs, steps, bits, words)
                    },
                    #[cfg(target_arch = "x86_64")]
                    // SAFETY: an `Avx512` value is only handed out by `avx512()`, which
                    // checked support.
                    Platform::Avx512 => unsafe {
                        crate::x86::avx512::sgld_lanes::<$l>(p, xs, steps, bits, words)
                    },
                    _ => sgld_chunked::<$l>(p, xs, steps, bits, words),
                }
            }};
        }
        if p.fits_i32() {
            go!(i32)
        } else if p.fits_i64() {
            go!(i64)
        } else {
            with_slice_mut!(x, x => reference::sgld_lp_l(p, x, steps, bits, words))
        }
    }

    /// [`sgld_lanes`] for the baseline target, out of line: compiled once per lane type, not
    /// once per container of the caller.
    #[inline(never)]
    fn sgld_chunked<L: Lane>(
        p: &SgldLpL,
        x: &mut CodeSliceMut,
        steps: u64,
        bits: &mut dyn WordSource,
        words: &mut [u64],
    ) -> u64 {
        sgld_lanes::<L>(p, x, steps, bits, words)
    }

    /// [`sghmc_lanes`] for the baseline target, out of line (as [`sgld_chunked`]).
    #[inline(never)]
    fn sghmc_chunked<L: Lane>(
        p: &SghmcLpL,
        x: &mut CodeSliceMut,
        v: &mut CodeSliceMut,
        steps: u64,
        bits: &mut dyn WordSource,
        words: &mut [u64],
    ) -> u64 {
        sghmc_lanes::<L>(p, x, v, steps, bits, words)
    }

    /// The SGLD steps in lanes `L` (only the element loop monomorphized on the rounding
    /// mode); inlined into each platform's build (`x86::*::sgld_lanes`, [`sgld_chunked`]).
    #[inline(always)]
    pub(crate) fn sgld_lanes<L: Lane>(
        p: &SgldLpL,
        x: &mut CodeSliceMut,
        steps: u64,
        bits: &mut dyn WordSource,
        words: &mut [u64],
    ) -> u64 {
        let d = x.len();
        let (rg, rx) = p.round_bits();
        let (ng, nn, nx) = (words_for(d, rg), p.noise.words(d), words_for(d, rx));
        let per_step = ng + nn + nx;
        let k = batch(words.len(), per_step);
        let el = SgldElemL::<L>::of(p);
        let mode = mode_id(p.rounding);
        let (gg, gx) = (Geo::new(rg), Geo::new(rx));
        let mut consts = Consts::<L>::new(&p.target);
        let mut xb = [L::default(); B];
        let mut ug = [L::U::default(); B];
        let mut ux = [L::U::default(); B];
        let mut nz = [L::default(); B];
        let mut conv = NoiseConv::<L>::new(p.noise, p.noise_fmt);
        // Small chains stay in lanes for the whole call.
        let small = d <= SMALL_D;
        if small {
            load(x, 0, &mut xb[..d]);
            consts.block(&p.target, 0, d);
        }
        let mut events = 0u64;
        let mut left = steps;
        while left > 0 {
            let kk = (k as u64).min(left) as usize;
            bits.fill(&mut words[..kk * per_step]);
            for s in 0..kk {
                let w = &words[s * per_step..(s + 1) * per_step];
                let (wg, rest) = w.split_at(ng);
                let (wn, wx) = rest.split_at(nn);
                let mut ugs = gg.at(wg, (0, 0));
                let mut uxs = gx.at(wx, (0, 0));
                let mut nzs = conv.src(wn, (0, 0));
                if small {
                    for i in 0..d {
                        ug[i] = L::u(ugs.one());
                        nz[i] = conv.one(&mut nzs);
                        ux[i] = L::u(uxs.one());
                    }
                }
                let blocks = if small { 1 } else { d.div_ceil(B) };
                for i0 in (0..blocks).map(|b| b * B) {
                    let n = (d - i0).min(B);
                    if !small {
                        load(x, i0, &mut xb[..n]);
                        consts.block(&p.target, i0, n);
                        ugs.take(&mut ug[..n], L::u);
                        conv.fill(&mut nzs, &mut nz[..n]);
                        uxs.take(&mut ux[..n], L::u);
                    }
                    let (pr, mu) = (&consts.prec[..n], &consts.mean[..n]);
                    let (ugb, nzb, uxb) = (&ug[..n], &nz[..n], &ux[..n]);
                    let xbn = &mut xb[..n];
                    // At most 3·B events per block: fits the unsigned lane.
                    let ev = with_mode!(mode, M => {
                        let mut ev = L::U::default();
                        for j in 0..n {
                            let (c, e) =
                                el.step::<M>(xbn[j], pr[j], mu[j], ugb[j], nzb[j], uxb[j]);
                            xbn[j] = c;
                            ev += e;
                        }
                        ev
                    });
                    events += L::uwide(ev);
                    if !small {
                        store(x, i0, xbn);
                    }
                }
            }

            left -= kk as u64;
        }
        if small {
            store(x, 0, &xb[..d]);
        }
        events
    }

    /// Same contract and bits as [`reference::sghmc_lp_l`], run on `platform`'s build of the
    /// step; lanes chosen as in [`sgld_lp_l`].
    ///
    /// # Panics
    /// If `x.len() != v.len()` or `words` is shorter than [`SghmcLpL::words_per_step`].
    pub fn sghmc_lp_l(
        p: &SghmcLpL,
        mut x: CodeSliceMut,
        mut v: CodeSliceMut,
        steps: u64,
        bits: &mut dyn WordSource,
        words: &mut [u64],
        platform: Platform,
    ) -> u64 {
        assert_eq!(x.len(), v.len(), "sghmc_lp_l: x and v lengths differ");
        macro_rules! go {
            ($l:ty) => {{
                let (xs, vs) = (&mut x, &mut v);
                match platform {
                    #[cfg(target_arch = "x86_64")]
                    // SAFETY: an `Avx2` value is only handed out by `avx2()`, which checked
                    // support.
                    Platform::Avx2 => unsafe {
                        crate::x86::avx2::sghmc_lanes::<$l>(p, xs, vs, steps, bits, words)
                    },
                    #[cfg(target_arch = "x86_64")]
                    // SAFETY: an `Avx512` value is only handed out by `avx512()`, which
                    // checked support.
                    Platform::Avx512 => unsafe {
                        crate::x86::avx512::sghmc_lanes::<$l>(p, xs, vs, steps, bits, words)
                    },
                    _ => sghmc_chunked::<$l>(p, xs, vs, steps, bits, words),
                }
            }};
        }
        if p.fits_i32() {
            go!(i32)
        } else if p.fits_i64() {
            go!(i64)
        } else {
            with_pair_mut!(x, v, (x, v) => reference::sghmc_lp_l(p, x, v, steps, bits, words))
        }
    }

    /// The SGHMC steps in lanes `L` (only the element loop monomorphized on the rounding
    /// mode); inlined into each platform's build (`x86::*::sghmc_lanes`, [`sghmc_chunked`]).
    #[inline(always)]
    pub(crate) fn sghmc_lanes<L: Lane>(
        p: &SghmcLpL,
        x: &mut CodeSliceMut,
        v: &mut CodeSliceMut,
        steps: u64,
        bits: &mut dyn WordSource,
        words: &mut [u64],
    ) -> u64 {
        let d = x.len();
        let (rg, rv, rx) = p.round_bits();
        let (ng, nn) = (words_for(d, rg), p.noise.words(2 * d));
        let (nv, nx) = (words_for(d, rv), words_for(d, rx));
        let per_step = ng + nn + nv + nx;
        let k = batch(words.len(), per_step);
        let el = HmcElemL::<L>::of(p);
        let mode = mode_id(p.rounding);
        let (gg, gv, gx) = (Geo::new(rg), Geo::new(rv), Geo::new(rx));
        let mut consts = Consts::<L>::new(&p.target);
        let mut xb = [L::default(); B];
        let mut vb = [L::default(); B];
        let mut ug = [L::U::default(); B];
        let mut uv = [L::U::default(); B];
        let mut ux = [L::U::default(); B];
        let mut n1 = [L::default(); B];
        let mut n2 = [L::default(); B];
        let mut conv = NoiseConv::<L>::new(p.noise, p.noise_fmt);
        let n2_at = conv.place(d);
        // Small chains stay in lanes for the whole call.
        let small = d <= SMALL_D;
        if small {
            load(x, 0, &mut xb[..d]);
            load(v, 0, &mut vb[..d]);
            consts.block(&p.target, 0, d);
        }
        let mut events = 0u64;
        let mut left = steps;
        while left > 0 {
            let kk = (k as u64).min(left) as usize;
            bits.fill(&mut words[..kk * per_step]);
            for s in 0..kk {
                let w = &words[s * per_step..(s + 1) * per_step];
                let (wg, rest) = w.split_at(ng);
                let (wn, rest) = rest.split_at(nn);
                let (wv, wx) = rest.split_at(nv);
                let mut ugs = gg.at(wg, (0, 0));
                let mut uvs = gv.at(wv, (0, 0));
                let mut uxs = gx.at(wx, (0, 0));
                let mut n1s = conv.src(wn, (0, 0));
                let mut n2s = conv.src(wn, n2_at);
                if small {
                    for i in 0..d {
                        ug[i] = L::u(ugs.one());
                        n1[i] = conv.one(&mut n1s);
                        n2[i] = conv.one(&mut n2s);
                        uv[i] = L::u(uvs.one());
                        ux[i] = L::u(uxs.one());
                    }
                }
                let blocks = if small { 1 } else { d.div_ceil(B) };
                for i0 in (0..blocks).map(|b| b * B) {
                    let n = (d - i0).min(B);
                    if !small {
                        load(x, i0, &mut xb[..n]);
                        load(v, i0, &mut vb[..n]);
                        consts.block(&p.target, i0, n);
                        ugs.take(&mut ug[..n], L::u);
                        conv.fill(&mut n1s, &mut n1[..n]);
                        conv.fill(&mut n2s, &mut n2[..n]);
                        uvs.take(&mut uv[..n], L::u);
                        uxs.take(&mut ux[..n], L::u);
                    }
                    let (pr, mu) = (&consts.prec[..n], &consts.mean[..n]);
                    let (ugb, uvb, uxb) = (&ug[..n], &uv[..n], &ux[..n]);
                    let (n1b, n2b) = (&n1[..n], &n2[..n]);
                    let (xbn, vbn) = (&mut xb[..n], &mut vb[..n]);
                    // At most 5·B events per block: fits the unsigned lane.
                    let ev = with_mode!(mode, M => {
                        let mut ev = L::U::default();
                        for j in 0..n {
                            let u = [ugb[j], uvb[j], uxb[j]];
                            let (cx, cv, e) =
                                el.step::<M>(xbn[j], vbn[j], pr[j], mu[j], u, n1b[j], n2b[j]);
                            xbn[j] = cx;
                            vbn[j] = cv;
                            ev += e;
                        }
                        ev
                    });
                    events += L::uwide(ev);
                    if !small {
                        store(x, i0, xbn);
                        store(v, i0, vbn);
                    }
                }
            }
            left -= kk as u64;
        }
        if small {
            store(x, 0, &xb[..d]);
            store(v, 0, &vb[..d]);
        }
        events
    }
}
