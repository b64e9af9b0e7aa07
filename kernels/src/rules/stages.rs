//! The stages every rule shares, each a loop over a batch: the `lp-f` pre-rounding, the
//! gradient and `Q_G`, the fixed-point noise, and the state quantizers. Each loop is
//! monomorphized on the rounding mode only ([`with_mode!`]); the drivers gather the batch's
//! random fields and constants into the slices these take.

use super::{Gradient, Mixture, Noise, Step};
use crate::lane::{with_mode, Arith, Fmt, Lane, Ov, RoundF64, Rq, NEAREST_EVEN};
use crate::portable::quantize_f64_one;
use crate::{Rounding, Spec};

/// `x` rounded to `f` by the reference rule, overflow included: `(code, event)` (NaN → 0,
/// ±∞ → the extreme codes, each an event).
#[inline]
pub fn round_value(x: f64, f: Fmt, rounding: Rounding, u: u64) -> (i64, bool) {
    let spec = Spec {
        wl: f.wl,
        rounding,
        overflow: f.overflow,
    };
    quantize_f64_one(x, f.fl, spec, u)
}

/// `f64` values to codes of `f` ([`RoundF64`], the reference for special values); returns
/// the overflow events.
#[inline(always)]
pub fn round_f64s(
    rf: &RoundF64,
    f: Fmt,
    rounding: Rounding,
    mode: u8,
    x: &[f64],
    u: &[u64],
    out: &mut [i64],
) -> u64 {
    let n = out.len();
    let (x, u) = (&x[..n], &u[..n]);
    let mut ev = 0u32;
    let mut special = false;
    with_mode!(mode, M => {
        for j in 0..n {
            special |= rf.special(x[j]);
            let (c, e) = rf.round::<M>(x[j], u[j]);
            out[j] = c;
            ev += e as u32;
        }
    });
    let mut ev = ev as u64;
    if special {
        for j in 0..n {
            if rf.special(x[j]) {
                let (c, e) = round_value(x[j], f, rounding, u[j]);
                // The lane loop gave code 0 without an event for it.
                out[j] = c;
                ev += e as u64;
            }
        }
    }
    ev
}

/// Codes with `shift` more fraction bits than `f` requantized to `f` ([`Rq`], [`Ov`]);
/// returns the overflow events.
#[inline(always)]
pub fn requant<L: Lane>(
    rq: &Rq<L>,
    ov: &Ov<L>,
    mode: u8,
    k: &[L],
    u: &[u64],
    out: &mut [L],
) -> u64 {
    let n = out.len();
    let (k, u) = (&k[..n], &u[..n]);
    let mut ev = 0u32;
    with_mode!(mode, M => {
        for j in 0..n {
            let (c, e) = ov.apply(rq.round::<M>(k[j], L::u(u[j])));
            out[j] = c;
            ev += e as u32;
        }
    });
    ev as u64
}

/// The `lp-f` pre-rounding `Q_W(x)`: the gradient's argument in the `param` format.
#[derive(Clone, Copy, Debug)]
pub enum PreRound<L: Lane> {
    /// Float datapath: `f64` state to a `param` value.
    Float(RoundF64),
    /// Integer datapath: `accum` codes to `param` codes.
    Int(Rq<L>, Ov<L>),
}

impl<L: Lane> PreRound<L> {
    /// The pre-rounding of `step`.
    pub fn new(step: &Step) -> Self {
        match step.datapath {
            super::Datapath::Float => PreRound::Float(RoundF64::new(step.param, step.rounding)),
            super::Datapath::Integer => PreRound::Int(
                Rq::new(step.accum.fl as i32 - step.param.fl as i32, step.rounding),
                Ov::new(step.param),
            ),
        }
    }
}

/// The gradient stage of `step` in lanes `L`: position → `g` (codes of `grad` on the
/// integer datapath, values on the float one; `fp`: the unrounded gradient).
#[derive(Clone, Copy, Debug)]
pub struct GradStage<'a, L: Lane> {
    /// The gradient's source.
    pub source: Gradient<'a>,
    /// Fraction bits of the position.
    pub pos_fl: u32,
    /// `Q_G` on integer products.
    pub rq: Rq<L>,
    /// The gradient format's overflow rule in lanes.
    pub ov: Ov<L>,
    /// `Q_G` on `f64` gradients.
    pub rf: RoundF64,
    /// The gradient format.
    pub grad: Fmt,
    /// The rounding.
    pub rounding: Rounding,
    /// σ_g.
    pub grad_noise: f64,
    /// Whether `Q_G` applies (not for `fp`).
    pub quantize: bool,
    /// Whether the lanes hold values (float datapath).
    pub float: bool,
}

impl<'a, L: Lane> GradStage<'a, L> {
    /// The gradient stage of `step`.
    pub fn new(step: &Step<'a>) -> Self {
        GradStage {
            source: step.gradient,
            pos_fl: step.position_fmt().fl,
            rq: Rq::new(step.grad_shift(), step.rounding),
            ov: Ov::new(step.grad),
            rf: RoundF64::new(step.grad, step.rounding),
            grad: step.grad,
            rounding: step.rounding,
            grad_noise: step.grad_noise,
            quantize: step.variant != super::Variant::Fp,
            float: step.float_path(),
        }
    }
}

/// `∇U(x)` of a 1-D mixture (see [`Mixture`]), the definition `lpmc`'s mixture target uses:
/// `l_k = ln w_k − ½((x − μ_k)²/σ²_k + ln σ²_k)`, `r_k = exp(l_k − max l)/Σ exp(l − max l)`,
/// `∇U = Σ_k r_k·(x − μ_k)/σ²_k` (`libm::exp`, so the same bits on every platform).
#[inline]
pub fn mixture_grad(m: &Mixture, x: f64) -> f64 {
    let k = m.ln_weights.len();
    let mut top = f64::NEG_INFINITY;
    for c in 0..k {
        let d = x - m.means[c];
        top = top.max(m.ln_weights[c] - 0.5 * (d * d / m.vars[c] + m.ln_vars[c]));
    }
    let mut z = 0.0;
    for c in 0..k {
        let d = x - m.means[c];
        z += libm::exp(m.ln_weights[c] - 0.5 * (d * d / m.vars[c] + m.ln_vars[c]) - top);
    }
    let mut g = 0.0;
    for c in 0..k {
        let d = x - m.means[c];
        let r = libm::exp(m.ln_weights[c] - 0.5 * (d * d / m.vars[c] + m.ln_vars[c]) - top) / z;
        g += r * d / m.vars[c];
    }
    g
}

/// Per-coordinate gradient constants of a batch: `prec`, `mean` (integer or `f64` Gaussian),
/// or the given gradient in `a`.
#[derive(Clone, Copy, Debug)]
pub struct GradConsts<'b, L> {
    /// Precision codes / precisions, or the given gradient (`f64` kinds use `fa`).
    pub a: &'b [L],
    /// Mean codes.
    pub b: &'b [L],
    /// `f64` precisions or given gradients.
    pub fa: &'b [f64],
    /// `f64` means.
    pub fb: &'b [f64],
}

impl<L: Lane> GradStage<'_, L> {
    /// The batch's gradients into `g`: `pos` the positions (codes, or values in `f64` lanes
    /// via `posf`), `u` the `Q_G` fields, `zg` the gradient-noise normals. Returns the
    /// overflow events of `Q_G`.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub fn int_run(&self, mode: u8, pos: &[L], c: &GradConsts<L>, u: &[u64], g: &mut [L]) -> u64 {
        let n = g.len();
        let (pos, pr, mu, u) = (&pos[..n], &c.a[..n], &c.b[..n], &u[..n]);
        let mut ev = 0u32;
        with_mode!(mode, M => {
            for j in 0..n {
                let (q, e) = self
                    .ov
                    .apply(self.rq.round::<M>(pr[j] * (pos[j] - mu[j]), L::u(u[j])));
                g[j] = q;
                ev += e as u32;
            }
        });
        ev as u64
    }
}

impl<L: Lane> GradStage<'_, L> {
    /// Raw `f64` gradients of a batch into `raw`: the source at the positions' values
    /// (`posv`), plus `σ_g·zg`.
    #[inline(always)]
    pub fn f64_raw(&self, posv: &[f64], c: &GradConsts<L>, zg: &[f64], raw: &mut [f64]) {
        let n = raw.len();
        let posv = &posv[..n];
        match self.source {
            Gradient::Gauss { .. } => {
                let (pr, mu) = (&c.fa[..n], &c.fb[..n]);
                for j in 0..n {
                    raw[j] = pr[j] * (posv[j] - mu[j]);
                }
            }
            Gradient::Mixture(m) => {
                for j in 0..n {
                    raw[j] = mixture_grad(&m, posv[j]);
                }
            }
            Gradient::Given(_) => raw.copy_from_slice(&c.fa[..n]),
            Gradient::IntGauss { .. } => unreachable!("integer gradients take int_run"),
        }
        if self.grad_noise > 0.0 {
            let s = self.grad_noise;
            for (r, &z) in raw.iter_mut().zip(&zg[..n]) {
                *r += s * z;
            }
        }
    }
}

/// Values of a batch of lanes (codes with `fl` fraction bits, or `f64` values) into `out`.
#[inline(always)]
pub fn values<L: Arith>(x: &[L], fl: u32, out: &mut [f64]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = v.value(fl);
    }
}

/// Codes of `fl` fraction bits into lanes (codes, or their values in `f64` lanes).
#[inline(always)]
pub fn from_codes<L: Arith>(c: &[i64], fl: u32, out: &mut [L]) {
    for (o, &v) in out.iter_mut().zip(c) {
        *o = L::from_code(v, fl);
    }
}

/// The fixed-point noise stage: raw generator output to noise codes.
#[derive(Clone, Copy, Debug)]
pub struct NoiseStage<'a, L: Lane> {
    /// The generator.
    pub noise: Noise<'a>,
    /// `K(2^B − 1)` of `clt:K:B`.
    pub offset: L,
    /// The CLT sum's nearest-even shift to the noise format.
    pub rq: Rq<L>,
    /// The noise format's overflow rule.
    pub ov: Ov<L>,
    /// Box–Muller normals to noise codes.
    pub rf: RoundF64,
}

impl<'a, L: Lane> NoiseStage<'a, L> {
    /// The noise stage of `step`.
    pub fn new(step: &Step<'a>) -> Self {
        let (offset, shift) = match step.noise {
            Noise::Clt { k, bits, shift } => (k as i64 * ((1i64 << bits) - 1), shift),
            _ => (0, 1),
        };
        NoiseStage {
            noise: step.noise,
            offset: L::of(offset),
            rq: Rq::new(shift, Rounding::NearestEven),
            ov: Ov::new(step.noise_fmt),
            rf: RoundF64::new(step.noise_fmt, Rounding::NearestEven),
        }
    }

    /// CLT codes from the sums `s` of each code's `K` uniforms: `2s − K(2^B − 1)` shifted to
    /// the noise format by nearest-even, then its overflow rule. Returns the events.
    #[inline(always)]
    pub fn clt(&self, s: &[L], out: &mut [L]) -> u64 {
        let n = out.len();
        let mut ev = 0u32;
        for (o, &v) in out.iter_mut().zip(&s[..n]) {
            let (c, e) = self.ov.apply(
                self.rq
                    .round::<NEAREST_EVEN>(v + v - self.offset, L::U::default()),
            );
            *o = c;
            ev += e as u32;
        }
        ev as u64
    }

    /// Table codes of the indices `idx`.
    #[inline(always)]
    pub fn table(&self, table: &[i64], idx: &[u64], out: &mut [L]) {
        for (o, &i) in out.iter_mut().zip(idx) {
            *o = L::of(table[i as usize]);
        }
    }

    /// Box–Muller normals to noise codes (nearest-even, the noise format's rule); returns the
    /// events. Normals are finite and below 8.6 in magnitude, so the lane rounding is exact.
    #[inline(always)]
    pub fn normals(&self, z: &[f64], out: &mut [L]) -> u64 {
        let n = out.len();
        let mut ev = 0u32;
        for (o, &v) in out.iter_mut().zip(&z[..n]) {
            let (c, e) = self.rf.round::<NEAREST_EVEN>(v, 0);
            *o = L::of(c);
            ev += e as u32;
        }
        ev as u64
    }
}
