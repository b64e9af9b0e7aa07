//! Drivers: run any rule ([`crate::rules`]) over a chain's coordinates or over many chains.
//!
//! A driver gathers a *batch* — the elements one pass of the stages covers — and runs the
//! stages of the step on it ([`Plan::batch_int`], [`Plan::batch_float`]):
//! - [`reference`]: one element at a time, `i128` lanes on the integer datapath, every field
//!   read by [`crate::layout::Fields::get`]; the scalar reference every other path equals;
//! - [`chain`]: one chain, blocks of [`chain::B`] coordinates, `i32`/`i64` lanes as
//!   [`crate::rules::Step::lane_width`] allows, fields unpacked in bulk, Box–Muller pairs in a
//!   vectorized loop;
//! - [`lockstep`]: [`lockstep::LANES`] chains of up to [`lockstep::MAX_D`] coordinates side by
//!   side, one coordinate of every chain per batch, xoshiro streams stepped together.
//!
//! All three draw the same words per step ([`crate::layout`]) and give the same codes, events
//! and stream positions; `kernels/tests/` checks every platform against the reference.

pub mod chain;
pub mod lockstep;
pub mod reference;

use crate::lane::{from_codes_i64, Arith, Lane, Ov, RoundF64, Rq};
use crate::layout::Layout;
use crate::rules::sghmc::Sghmc;
use crate::rules::sgld::Sgld;
use crate::rules::stages::{
    requant, round_f64s, values, GradConsts, GradStage, NoiseStage, PreRound,
};
use crate::rules::vc::{qvc_joint, QvcLanes};
use crate::rules::{Dynamics, Events, Gradient, Noise, Step, Variant};
use crate::{Code, CodeSliceMut};

/// A chain's state as the drivers take it: codes tagged with their container, or `f64`.
#[derive(Debug)]
pub enum State<'a> {
    /// Codes of the step's `x` (and `v`) formats.
    Codes {
        /// Position codes.
        x: CodeSliceMut<'a>,
        /// Momentum codes (SGHMC).
        v: Option<CodeSliceMut<'a>>,
    },
    /// `f64` state (`fp`, float `lp-f`).
    F64 {
        /// Position.
        x: &'a mut [f64],
        /// Momentum (SGHMC).
        v: Option<&'a mut [f64]>,
    },
}

impl State<'_> {
    /// Number of values in the position (chains × d for the lockstep driver).
    pub fn len(&self) -> usize {
        match self {
            State::Codes { x, .. } => x.len(),
            State::F64 { x, .. } => x.len(),
        }
    }

    /// Whether the position is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Panics unless the state fits `step`: codes for code states, a momentum exactly for
    /// SGHMC, equal lengths.
    pub(crate) fn check(&self, step: &Step) {
        let n = self.len();
        let ok = match self {
            State::Codes { v, .. } => {
                !step.f64_state()
                    && v.is_some() == step.momentum()
                    && v.as_ref().is_none_or(|v| v.len() == n)
            }
            State::F64 { v, .. } => {
                step.f64_state()
                    && v.is_some() == step.momentum()
                    && v.as_ref().is_none_or(|v| v.len() == n)
            }
        };
        assert!(
            ok,
            "driver: the state does not match the step (container, momentum or length)"
        );
    }
}

/// Loads codes `i0..i0 + out.len()` of `x` into lanes.
#[inline(always)]
pub(crate) fn load<L: Arith>(x: &CodeSliceMut, i0: usize, fl: u32, out: &mut [L]) {
    #[inline(always)]
    fn go<C: Code, L: Arith>(s: &[C], fl: u32, out: &mut [L]) {
        for (o, c) in out.iter_mut().zip(s) {
            *o = L::from_code(c.to_i64(), fl);
        }
    }
    match x {
        CodeSliceMut::I8(s) => go(&s[i0..], fl, out),
        CodeSliceMut::I16(s) => go(&s[i0..], fl, out),
        CodeSliceMut::I32(s) => go(&s[i0..], fl, out),
        CodeSliceMut::I64(s) => go(&s[i0..], fl, out),
    }
}

/// Stores lanes as codes `i0..i0 + v.len()` of `x`.
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

/// The random inputs of a batch of up to `N` elements, gathered by a driver: `Q_W`-pre,
/// `Q_G`, `Q_V`, `Q_W` fields, the four Q^vc words (x SR, x categorical, v SR, v
/// categorical), the normals (gradient noise, z₁, z₂) and the raw noise (CLT sums of each
/// code's uniforms, or table indices) of both noise regions.
#[derive(Clone, Debug)]
pub struct Draws<const N: usize> {
    pub(crate) pre: [u64; N],
    pub(crate) ug: [u64; N],
    pub(crate) uv: [u64; N],
    pub(crate) ux: [u64; N],
    pub(crate) q: [[u64; N]; 4],
    pub(crate) zg: [f64; N],
    pub(crate) z1: [f64; N],
    pub(crate) z2: [f64; N],
    pub(crate) s1: [u64; N],
    pub(crate) s2: [u64; N],
}

impl<const N: usize> Draws<N> {
    pub(crate) fn new() -> Self {
        Draws {
            pre: [0; N],
            ug: [0; N],
            uv: [0; N],
            ux: [0; N],
            q: [[0; N]; 4],
            zg: [0.0; N],
            z1: [0.0; N],
            z2: [0.0; N],
            s1: [0; N],
            s2: [0; N],
        }
    }
}

/// The per-coordinate gradient constants of a batch.
#[derive(Clone, Debug)]
pub(crate) struct Consts<L, const N: usize> {
    pub(crate) a: [L; N],
    pub(crate) b: [L; N],
    pub(crate) fa: [f64; N],
    pub(crate) fb: [f64; N],
}

impl<L: Arith, const N: usize> Consts<L, N> {
    pub(crate) fn new() -> Self {
        Consts {
            a: [L::default(); N],
            b: [L::default(); N],
            fa: [0.0; N],
            fb: [0.0; N],
        }
    }

    /// The constants of coordinates `i0..i0 + n` of `g` (slices of length 1 broadcast); a
    /// given gradient is read from `given` (the batch's own slice of it).
    #[inline(always)]
    pub(crate) fn fill(&mut self, g: &Gradient, i0: usize, n: usize) {
        #[inline(always)]
        fn pick<T: Copy>(s: &[T], i0: usize, n: usize, out: &mut [T]) {
            if s.len() == 1 {
                out[..n].fill(s[0]);
            } else {
                out[..n].copy_from_slice(&s[i0..i0 + n]);
            }
        }
        match *g {
            Gradient::IntGauss { prec, mean, .. } => {
                for (j, o) in self.a[..n].iter_mut().enumerate() {
                    *o = L::of(prec[if prec.len() == 1 { 0 } else { i0 + j }]);
                }
                for (j, o) in self.b[..n].iter_mut().enumerate() {
                    *o = L::of(mean[if mean.len() == 1 { 0 } else { i0 + j }]);
                }
            }
            Gradient::Gauss { prec, mean } => {
                pick(prec, i0, n, &mut self.fa);
                pick(mean, i0, n, &mut self.fb);
            }
            Gradient::Given(g) => pick(g, i0, n, &mut self.fa),
            Gradient::Mixture(_) => {}
        }
    }

    fn view(&self) -> GradConsts<'_, L> {
        GradConsts {
            a: &self.a,
            b: &self.b,
            fa: &self.fa,
            fb: &self.fb,
        }
    }
}

/// Working lanes of one batch.
#[derive(Clone, Debug)]
pub(crate) struct Work<L, const N: usize> {
    pos: [L; N],
    g: [L; N],
    n1: [L; N],
    n2: [L; N],
    ax: [L; N],
    av: [L; N],
    fx: [f64; N],
    fv: [f64; N],
    raw: [f64; N],
    codes: [i64; N],
    codes2: [i64; N],
}

impl<L: Arith, const N: usize> Work<L, N> {
    pub(crate) fn new() -> Self {
        let z = [L::default(); N];
        Work {
            pos: z,
            g: z,
            n1: z,
            n2: z,
            ax: z,
            av: z,
            fx: [0.0; N],
            fv: [0.0; N],
            raw: [0.0; N],
            codes: [0; N],
            codes2: [0; N],
        }
    }
}

/// A step's stages with their constants in lanes `L` (integer datapath) and `f64` (float
/// datapath), built once per driver call.
#[derive(Clone, Debug)]
pub struct Plan<'a, L: Lane> {
    pub(crate) step: Step<'a>,
    pub(crate) layout: Layout,
    pub(crate) mode: u8,
    pre: PreRound<L>,
    grad: GradStage<'a, L>,
    noise: NoiseStage<'a, L>,
    sgld: Sgld<L>,
    sghmc: Sghmc<L>,
    fsgld: Sgld<f64>,
    fsghmc: Sghmc<f64>,
    rq_x: Rq<L>,
    ov_x: Ov<L>,
    rq_v: Rq<L>,
    ov_v: Ov<L>,
    rf_x: RoundF64,
    rf_v: RoundF64,
    qvc_x: QvcLanes,
    qvc_v: QvcLanes,
}

impl<'a, L: Lane> Plan<'a, L> {
    /// The plan of `step` on `d` coordinates.
    pub fn new(step: &Step<'a>, d: usize) -> Self {
        let s = *step;
        let fa = s.accum.fl as i32;
        let (var_x, var_v) = match s.dynamics {
            Dynamics::Sgld => (s.vc_var[0], 0.0),
            Dynamics::Sghmc => (s.vc_var[0], s.vc_var[1]),
        };
        Plan {
            step: s,
            layout: s.layout(d),
            mode: crate::lane::mode_id(s.rounding),
            pre: PreRound::new(&s),
            grad: GradStage::new(&s),
            noise: NoiseStage::new(&s),
            sgld: Sgld::new(&s),
            sghmc: Sghmc::new(&s),
            fsgld: Sgld::new(&s),
            fsghmc: Sghmc::new(&s),
            rq_x: Rq::new(fa - s.x.fl as i32, s.rounding),
            ov_x: Ov::new(s.x),
            rq_v: Rq::new(fa - s.v.fl as i32, s.rounding),
            ov_v: Ov::new(s.v),
            rf_x: RoundF64::new(s.x, s.rounding),
            rf_v: RoundF64::new(s.v, s.rounding),
            qvc_x: QvcLanes::new(s.x, var_x),
            qvc_v: QvcLanes::new(s.v, var_v),
        }
    }

    /// Whether the gradient stage is given the gradient (the caller computed it).
    fn given(&self) -> bool {
        matches!(self.step.gradient, Gradient::Given(_))
    }

    /// One batch of `n` elements on the integer datapath: `x`, `v` the state codes (updated in
    /// place), `c` the gradient constants, `d` the random inputs.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(crate) fn batch_int<const N: usize>(
        &self,
        n: usize,
        x: &mut [L; N],
        v: &mut [L; N],
        c: &Consts<L, N>,
        d: &Draws<N>,
        w: &mut Work<L, N>,
        ev: &mut Events,
    ) {
        let s = &self.step;
        let (mode, hmc) = (self.mode, s.momentum());
        // The position.
        let lpf = s.variant == Variant::LpF && !self.given();
        if lpf {
            if let PreRound::Int(rq, ov) = &self.pre {
                ev.param += requant(rq, ov, mode, &x[..n], &d.pre, &mut w.pos[..n]);
            }
        }
        // The gradient.
        let pos: &[L] = if lpf { &w.pos } else { &x[..] };
        match s.gradient {
            Gradient::IntGauss { .. } => {
                ev.grad += self
                    .grad
                    .int_run(mode, &pos[..n], &c.view(), &d.ug, &mut w.g[..n]);
            }
            _ => {
                values(&pos[..n], self.grad.pos_fl, &mut w.fx[..n]);
                self.grad
                    .f64_raw(&w.fx[..n], &c.view(), &d.zg, &mut w.raw[..n]);
                ev.grad += round_f64s(
                    &self.grad.rf,
                    s.grad,
                    s.rounding,
                    mode,
                    &w.raw[..n],
                    &d.ug,
                    &mut w.codes[..n],
                );
                from_codes_i64(&w.codes[..n], &mut w.g[..n]);
            }
        }
        // The noise.
        if s.int_noise() {
            for (raw, z, out) in [(&d.s1, &d.z1, &mut w.n1), (&d.s2, &d.z2, &mut w.n2)]
                .into_iter()
                .take(1 + hmc as usize)
            {
                match s.noise {
                    Noise::Clt { .. } => {
                        let mut sums = [L::default(); N];
                        for (o, &r) in sums[..n].iter_mut().zip(&raw[..n]) {
                            *o = L::of(r as i64);
                        }
                        ev.noise += self.noise.clt(&sums[..n], &mut out[..n]);
                    }
                    Noise::Table { table, .. } => self.noise.table(table, &raw[..n], &mut out[..n]),
                    Noise::BoxMuller => ev.noise += self.noise.normals(&z[..n], &mut out[..n]),
                }
            }
        }
        // The rule.
        match s.dynamics {
            Dynamics::Sgld => {
                ev.accum += self.sgld.run(&x[..n], &w.g, &w.n1, &mut w.ax[..n]);
            }
            Dynamics::Sghmc => {
                ev.accum += self.sghmc.run(
                    &x[..n],
                    &v[..n],
                    &w.g,
                    &w.n1,
                    &w.n2,
                    &mut w.av[..n],
                    &mut w.ax[..n],
                );
            }
        }
        // The quantizers.
        let fa = s.accum.fl;
        match s.variant {
            Variant::LpF | Variant::Fp => {
                x[..n].copy_from_slice(&w.ax[..n]);
                if hmc {
                    v[..n].copy_from_slice(&w.av[..n]);
                }
            }
            Variant::LpL => {
                ev.param += requant(&self.rq_x, &self.ov_x, mode, &w.ax[..n], &d.ux, &mut x[..n]);
                if hmc {
                    ev.momentum +=
                        requant(&self.rq_v, &self.ov_v, mode, &w.av[..n], &d.uv, &mut v[..n]);
                }
            }
            Variant::VcL => {
                let zx = if hmc { &d.z2 } else { &d.z1 };
                values(&w.ax[..n], fa, &mut w.fx[..n]);
                ev.param += self
                    .qvc_x
                    .run(&w.fx[..n], zx, &d.q[0], &d.q[1], &mut w.codes[..n]);
                from_codes_i64(&w.codes[..n], &mut x[..n]);
                if hmc {
                    values(&w.av[..n], fa, &mut w.fv[..n]);
                    ev.momentum +=
                        self.qvc_v
                            .run(&w.fv[..n], &d.z1, &d.q[2], &d.q[3], &mut w.codes[..n]);
                    from_codes_i64(&w.codes[..n], &mut v[..n]);
                }
            }
            Variant::VcJoint => {
                values(&w.ax[..n], fa, &mut w.fx[..n]);
                values(&w.av[..n], fa, &mut w.fv[..n]);
                self.joint(n, d, &w.fx, &w.fv, &mut w.codes, &mut w.codes2, 1.0, ev);
                from_codes_i64(&w.codes[..n], &mut x[..n]);
                from_codes_i64(&w.codes2[..n], &mut v[..n]);
            }
        }
    }

    /// The joint Q^vc of a batch: means `mx`, `mv` (values), codes into `cx`, `cv`; the
    /// momentum's variance and covariance divided by `scale²` and `scale` (rescaling).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn joint<const N: usize>(
        &self,
        n: usize,
        d: &Draws<N>,
        mx: &[f64; N],
        mv: &[f64; N],
        cx: &mut [i64; N],
        cv: &mut [i64; N],
        scale: f64,
        ev: &mut Events,
    ) {
        let s = &self.step;
        let [var_x, var_v, cov] = s.vc_var;
        let c = cov / scale;
        let cm = [[var_x, c], [c, var_v / (scale * scale)]];
        for j in 0..n {
            let [rx, rv] = qvc_joint(
                [mx[j], mv[j] / scale],
                cm,
                [s.x, s.v],
                [d.z2[j], d.z1[j]],
                [[d.q[0][j], d.q[1][j]], [d.q[2][j], d.q[3][j]]],
            );
            cx[j] = rx.0;
            cv[j] = rv.0;
            ev.param += rx.1 as u64;
            ev.momentum += rv.1 as u64;
        }
    }

    /// One batch of `n` elements on the float datapath: `x`, `v` the state's values (the
    /// `f64` state, or the values of the codes, with `v` already multiplied by the chain's
    /// momentum scale); new codes into `cx`, `cv` for code states, new values into `x`, `v`
    /// for `f64` states. `scale` is the new momentum scale (1 without rescaling).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(crate) fn batch_float<const N: usize>(
        &self,
        n: usize,
        x: &mut [f64; N],
        v: &mut [f64; N],
        c: &Consts<L, N>,
        d: &Draws<N>,
        w: &mut Work<L, N>,
        cx: &mut [i64; N],
        cv: &mut [i64; N],
        scale: f64,
        ev: &mut Events,
    ) {
        let s = &self.step;
        let (mode, hmc) = (self.mode, s.momentum());
        let lpf = s.variant == Variant::LpF && !self.given();
        // The position's value.
        if lpf {
            if let PreRound::Float(rf) = &self.pre {
                ev.param += round_f64s(
                    rf,
                    s.param,
                    s.rounding,
                    mode,
                    &x[..n],
                    &d.pre,
                    &mut w.codes[..n],
                );
                crate::lane::from_codes_f64(&w.codes[..n], s.param.fl, &mut w.fx[..n]);
            }
        } else {
            w.fx[..n].copy_from_slice(&x[..n]);
        }
        // The gradient.
        let mut g = [0.0f64; N];
        self.grad
            .f64_raw(&w.fx[..n], &c.view(), &d.zg, &mut w.raw[..n]);
        if s.variant == Variant::Fp {
            g[..n].copy_from_slice(&w.raw[..n]);
        } else {
            ev.grad += round_f64s(
                &self.grad.rf,
                s.grad,
                s.rounding,
                mode,
                &w.raw[..n],
                &d.ug,
                &mut w.codes[..n],
            );
            crate::lane::from_codes_f64(&w.codes[..n], s.grad.fl, &mut g[..n]);
        }
        // The rule (noise: the normals).
        let (mut ax, mut av) = ([0.0f64; N], [0.0f64; N]);
        match s.dynamics {
            Dynamics::Sgld => {
                self.fsgld.run(&x[..n], &g, &d.z1, &mut ax[..n]);
            }
            Dynamics::Sghmc => {
                self.fsghmc.run(
                    &x[..n],
                    &v[..n],
                    &g,
                    &d.z1,
                    &d.z2,
                    &mut av[..n],
                    &mut ax[..n],
                );
            }
        }
        // The quantizers.
        match s.variant {
            Variant::Fp | Variant::LpF => {
                x[..n].copy_from_slice(&ax[..n]);
                if hmc {
                    v[..n].copy_from_slice(&av[..n]);
                }
            }
            Variant::LpL => {
                ev.param += round_f64s(
                    &self.rf_x,
                    s.x,
                    s.rounding,
                    mode,
                    &ax[..n],
                    &d.ux,
                    &mut cx[..n],
                );
                if hmc {
                    if scale != 1.0 {
                        for a in &mut av[..n] {
                            *a /= scale;
                        }
                    }
                    ev.momentum += round_f64s(
                        &self.rf_v,
                        s.v,
                        s.rounding,
                        mode,
                        &av[..n],
                        &d.uv,
                        &mut cv[..n],
                    );
                }
            }
            Variant::VcL => {
                let zx = if hmc { &d.z2 } else { &d.z1 };
                ev.param += self.qvc_x.run(&ax[..n], zx, &d.q[0], &d.q[1], &mut cx[..n]);
                if hmc {
                    if scale == 1.0 {
                        ev.momentum +=
                            self.qvc_v
                                .run(&av[..n], &d.z1, &d.q[2], &d.q[3], &mut cv[..n]);
                    } else {
                        for a in &mut av[..n] {
                            *a /= scale;
                        }
                        let q = QvcLanes::new(s.v, s.vc_var[1] / (scale * scale));
                        ev.momentum += q.run(&av[..n], &d.z1, &d.q[2], &d.q[3], &mut cv[..n]);
                    }
                }
            }
            Variant::VcJoint => {
                self.joint(n, d, &ax, &av, cx, cv, scale, ev);
            }
        }
    }

    /// The noise-free momentum means of a batch on the float datapath (for the rescaling):
    /// `e·v + c_vg·g` into `out`, `g` as [`Plan::batch_float`] computes it (same bits drawn).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn momentum_means<const N: usize>(
        &self,
        n: usize,
        x: &[f64; N],
        v: &[f64; N],
        c: &Consts<L, N>,
        d: &Draws<N>,
        w: &mut Work<L, N>,
        out: &mut [f64],
    ) {
        let s = &self.step;
        let mode = self.mode;
        self.grad
            .f64_raw(&x[..n], &c.view(), &d.zg, &mut w.raw[..n]);
        // The events of Q_G are counted by the step itself, which redraws the same codes.
        round_f64s(
            &self.grad.rf,
            s.grad,
            s.rounding,
            mode,
            &w.raw[..n],
            &d.ug,
            &mut w.codes[..n],
        );
        let mut g = [0.0f64; N];
        crate::lane::from_codes_f64(&w.codes[..n], s.grad.fl, &mut g[..n]);
        let [e, cvg, ..] = s.coefs;
        for j in 0..n {
            out[j] = e * v[j] + cvg * g[j];
        }
    }
}

/// `true` when the step computes in `f64` ([`Step::float_path`]).
pub(crate) fn float(step: &Step) -> bool {
    step.float_path()
}
