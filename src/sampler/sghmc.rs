//! Stochastic gradient Hamiltonian Monte Carlo with the exact integrator of Cheng et al.
//! (2018) (\[S\] eq. 3–8), including the paper's sign error as an option.

use super::{
    align, lockstep_fits, lockstep_in, normals, ChainState, CodeSums, Core, Keep, Sampler, Setup,
    Storage, Workspace, FUSED_WORDS, LOCKSTEP_WORDS,
};
use crate::error::{Error, Result};
use crate::format::Container;
use crate::format::Format;
use crate::source::Bits;
use crate::target::Target;
use crate::vc::{qvc, qvc_joint};
use lpmc_kernels::Platform;
use serde::{Deserialize, Serialize};

/// Which SGHMC.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SghmcVariant {
    /// Full precision.
    Fp,
    /// SGHMCLP-F: x and v full precision, g = Q_G(∇Ũ(Q_W(x))).
    LpF,
    /// SGHMCLP-L (naive): x in `param`, v in `momentum`, each update rounded once.
    #[default]
    LpL,
    /// The paper's VC SGHMCLP-L: x and v each through Q^vc, independently (drops the x–v
    /// noise correlation).
    VcL,
    /// Joint variance correction ([`crate::vc::qvc_joint`]): keeps the x–v noise covariance.
    VcJoint,
}

/// The constants of the exact integrator for step η, inverse mass u and friction γ.
///
/// With `e = exp(−γη)`:
/// `v' = e·v − (u/γ)(1−e)·g + ξ^v`,
/// `x' = x + (1/γ)(1−e)·v − (u/γ²)(γη + e − 1)·g + ξ^x` (old v),
/// `Var ξ^v = u(1−e²)`, `Var ξ^x = (u/γ²)(2γη + 4e − e² − 3)`, `Cov = (u/γ)(1−e)²`.
/// With `paper_sign` the x-update's gradient term is `+ (u/γ²)(γη + e − 1)·g`, as printed in
/// \[S\] and its code.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Coefs {
    /// e = exp(−γη), the v-coefficient of v'.
    pub vv: f64,
    /// The g-coefficient of v', −(u/γ)(1−e).
    pub vg: f64,
    /// The v-coefficient of x', (1−e)/γ.
    pub xv: f64,
    /// The g-coefficient of x', ∓(u/γ²)(γη + e − 1).
    pub xg: f64,
    /// Var ξ^v.
    pub var_v: f64,
    /// Var ξ^x.
    pub var_x: f64,
    /// Cov(ξ^x, ξ^v).
    pub cov: f64,
}

impl Coefs {
    /// The constants; see the type's doc.
    pub fn new(eta: f64, u: f64, gamma: f64, paper_sign: bool) -> Self {
        let e = (-gamma * eta).exp();
        // 1 − e and γη + e − 1 lose digits for small γη; expm1 keeps them.
        let one_m_e = -(-gamma * eta).exp_m1();
        let ge = gamma * eta - one_m_e;
        let sign = if paper_sign { 1.0 } else { -1.0 };
        Coefs {
            vv: e,
            vg: -(u / gamma) * one_m_e,
            xv: one_m_e / gamma,
            xg: sign * (u / (gamma * gamma)) * ge,
            var_v: u * one_m_e * (1.0 + e),
            var_x: (u / (gamma * gamma)) * (2.0 * gamma * eta + 4.0 * e - e * e - 3.0),
            cov: (u / gamma) * one_m_e * one_m_e,
        }
    }

    /// `(a, s)` with `ξ^x = a·ξ^v + s·ξ'`: `a = Cov/Var_v`, `s = √(Var_x − Cov²/Var_v)`.
    pub fn split(&self) -> (f64, f64) {
        let a = self.cov / self.var_v;
        (a, (self.var_x - self.cov * a).max(0.0).sqrt())
    }
}

/// Parameters of an SGHMC sampler.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SghmcParams {
    /// Step η > 0.
    pub eta: f64,
    /// Inverse mass u > 0.
    pub u: f64,
    /// Friction γ > 0.
    pub gamma: f64,
    /// Reproduce the published `+` sign of the x-update's gradient term.
    pub paper_sign: bool,
    /// Momentum rescaling S_v of \[S\] Algorithm 1 (`-L` and VC variants, float datapath).
    pub rescale_momentum: bool,
    /// VC variants store v in Q(WL+2, FL) of the momentum format, as the \[S\] code does.
    pub vc_wide_momentum: bool,
    /// The constant c ≥ 1 of the rescaling, S = min(1, max|m_v|/(c·V_max)) (the \[S\] code's
    /// `vel_scaling`, default 1).
    pub rescale_headroom: f64,
}

/// SGHMC (exact integrator, see [`Coefs`]) in five variants:
///
/// - `fp`: g = ∇Ũ(x), x and v in f64;
/// - `lp-f`: g = Q_G(∇Ũ(Q_W(x))), x and v full precision (f64 on the float datapath, `accum`
///   codes on the integer one);
/// - `lp-l`: g = Q_G(∇Ũ(x)), `v' = Q_V(e·v + c_vg·g + ξ^v)`, `x' = Q_W(x + c_xv·v + c_xg·g + ξ^x)`;
/// - `vc-l`: `v' = Q^vc(e·v + c_vg·g, Var ξ^v)`, `x' = Q^vc(x + c_xv·v + c_xg·g, Var ξ^x)`,
///   independently;
/// - `vc-joint`: `(x', v') = Q^vc_joint(means, [[Var_x, Cov], [Cov, Var_v]])`.
///
/// Noise: `ξ^v = √Var_v·z₁`, `ξ^x = (Cov/Var_v)·ξ^v + √(Var_x − Cov²/Var_v)·z₂`.
///
/// Momentum rescaling (Algorithm 1, option): the stored momentum is `v/S` with
/// `S = min(1, max_i |m_v,i|/(c·V_max))` recomputed every step from the noise-free mean `m_v`
/// of the new momentum (`V_max` the momentum format's largest value, c the headroom; S = 1
/// when `m_v = 0`); the next step uses `v = S·stored`. With c = 1 (the \[S\] code's default)
/// the largest coordinate of `m_v/S` sits on the range edge, so in one dimension the noise
/// saturates every step, as in the \[S\] code. S is computed from the noise-free mean but the
/// noise is stored divided by S too, so whenever the noise is not small against `m_v` (1-D
/// targets at the papers' Gaussian settings: Var ξ^v ≈ 0.84) the stored momentum saturates
/// for any c; the option models the \[S\] code's networks, whose noise is scaled by 1/datasize.
///
/// Integer datapath: e, c_vg, c_xv, c_xg and the noise scales √Var_v/s_n, (Cov/√Var_v)/s_n,
/// √(Var_x − Cov²/Var_v)/s_n (s_n the generator's s.d.) are quantized once to `coef`; each new
/// value is an exact sum of exact products in `accum` (products with more fraction bits than
/// `accum` truncated), the accumulator's overflow rule applied, then one rounding to the state
/// format (`lp-l`) or none (`lp-f`, state in `accum`). VC variants form their means in `accum`
/// and apply Q^vc in f64 with the exact variances.
#[derive(Clone, Debug)]
pub struct Sghmc {
    variant: SghmcVariant,
    p: SghmcParams,
    k: Coefs,
    dim: usize,
    core: Core,
    /// Momentum storage format (momentum, or Q(WL+2, FL) for VC with `vc_wide_momentum`).
    fv: Format,
    /// Integer coefficients: [e, c_vg, c_xv, c_xg, n_v, n_xv, n_x].
    ic: [i64; 7],
    /// Whether [`Sampler::run`] may take the fused kernel.
    fused: bool,
}

impl Sghmc {
    /// SGHMC `variant` in dimension `dim`.
    pub fn new(variant: SghmcVariant, p: SghmcParams, setup: Setup, dim: usize) -> Result<Self> {
        for (name, v) in [("eta", p.eta), ("u", p.u), ("gamma", p.gamma)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::param(name, v, "must be a finite number > 0"));
            }
        }
        if !(p.rescale_headroom.is_finite() && p.rescale_headroom >= 1.0) {
            return Err(Error::param(
                "rescale_headroom",
                p.rescale_headroom,
                "must be a finite number ≥ 1",
            ));
        }
        let core = Core::new(setup)?;
        let vc = matches!(variant, SghmcVariant::VcL | SghmcVariant::VcJoint);
        let mut fv = core.f().momentum;
        if vc && p.vc_wide_momentum {
            fv = Format::new(fv.wl() + 2, fv.fl())?
                .with_overflow(fv.overflow())
                .check_stored("the VC momentum format Q(WL+2, FL)")?;
        }
        if p.rescale_momentum && core.integer() {
            return Err(Error::Config(
                "rescale_momentum is implemented on the float datapath only".into(),
            ));
        }
        let k = Coefs::new(p.eta, p.u, p.gamma, p.paper_sign);
        let mut ic = [0; 7];
        if core.integer() && variant != SghmcVariant::Fp {
            let sd = core.int_noise.as_ref().map_or(1.0, |n| n.sd());
            let (a, s) = k.split();
            let sv = k.var_v.sqrt();
            let vals = [
                ("exp(-gamma·eta)", k.vv),
                ("-(u/gamma)(1-e)", k.vg),
                ("(1-e)/gamma", k.xv),
                ("∓(u/gamma²)(gamma·eta+e-1)", k.xg),
                ("sqrt(Var_v)/s_n", sv / sd),
                ("(Cov/sqrt(Var_v))/s_n", a * sv / sd),
                ("sqrt(Var_x-Cov²/Var_v)/s_n", s / sd),
            ];
            for (j, (name, v)) in vals.iter().enumerate() {
                ic[j] = core.coef(name, *v)?;
            }
        }
        Ok(Sghmc {
            variant,
            p,
            k,
            dim,
            core,
            fv,
            ic,
            fused: true,
        })
    }

    /// The same sampler with the fused kernel allowed (`true`, the default) or not: results
    /// are identical either way, only the speed differs (tests compare the two).
    pub fn with_fused(mut self, on: bool) -> Self {
        self.fused = on;
        self
    }

    /// Whether a fused kernel's static conditions hold (variant, datapath, generator,
    /// containers); the target's are checked by [`Core::int_gauss`]. `lp-l` needs a
    /// `clt`/`table` generator and x and v in one container ([`lpmc_kernels::fused`]); `vc-l`
    /// takes any containers up to 32 bits ([`lpmc_kernels::vc`]).
    fn fusable(&self) -> bool {
        let (fx, fv) = (self.core.f().param.container(), self.fv.container());
        let kernel = match self.variant {
            SghmcVariant::LpL => {
                fx == fv
                    && self
                        .core
                        .int_noise
                        .as_ref()
                        .is_some_and(|g| g.kernel_gen().is_some())
            }
            SghmcVariant::VcL => fv != Container::I64,
            _ => false,
        };
        self.fused && kernel && self.core.integer() && !self.uses_scale() && fx != Container::I64
    }

    /// The fused `vc-l` kernel's parameters (see [`Sghmc::kernel`]).
    fn vc_kernel<'a>(&self, pc: &'a [i64], mc: &'a [i64]) -> lpmc_kernels::vc::SghmcVcL<'a> {
        let f = *self.core.f();
        let [e, cvg, cxv, cxg, ..] = self.ic;
        lpmc_kernels::vc::SghmcVcL {
            rounding: self.core.setup.rounding,
            x: Core::fmt(f.param),
            v: Core::fmt(self.fv),
            grad: Core::fmt(f.grad),
            accum: Core::fmt(f.accum),
            coef_fl: f.coef.fl(),
            coefs: [e, cvg, cxv, cxg],
            var_v: self.k.var_v,
            var_x: self.k.var_x,
            target: lpmc_kernels::fused::GaussGrad {
                prec: pc,
                mean: mc,
                prec_fl: f.coef.fl(),
            },
        }
    }

    /// The integrator's constants.
    pub fn coefs(&self) -> Coefs {
        self.k
    }

    fn float_path(&self) -> bool {
        !self.core.integer() || self.variant == SghmcVariant::Fp
    }

    /// The fused `lp-l` kernel's parameters, with the integer gradient's precision and mean
    /// codes `pc`, `mc` ([`Core::int_gauss`]); only called when [`Sghmc::fusable`] holds for
    /// `lp-l`.
    fn kernel<'a>(&'a self, pc: &'a [i64], mc: &'a [i64]) -> lpmc_kernels::fused::SghmcLpL<'a> {
        let c = &self.core;
        let f = *c.f();
        lpmc_kernels::fused::SghmcLpL {
            rounding: c.setup.rounding,
            x: Core::fmt(f.param),
            v: Core::fmt(self.fv),
            grad: Core::fmt(f.grad),
            accum: Core::fmt(f.accum),
            coef_fl: f.coef.fl(),
            coefs: self.ic,
            target: lpmc_kernels::fused::GaussGrad {
                prec: pc,
                mean: mc,
                prec_fl: f.coef.fl(),
            },
            noise: c
                .int_noise
                .as_ref()
                .and_then(|g| g.kernel_gen())
                .expect("fusable() checked the generator"),
            noise_fmt: Core::fmt(f.noise),
        }
    }

    fn uses_scale(&self) -> bool {
        self.p.rescale_momentum && !matches!(self.variant, SghmcVariant::Fp | SghmcVariant::LpF)
    }

    /// The new scale S from the noise-free momentum means in `m`.
    fn new_scale(&self, m: &[f64]) -> f64 {
        let top = m.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let s = (top / (self.p.rescale_headroom * self.fv.max_value())).min(1.0);
        if s > 0.0 && s.is_finite() {
            s
        } else {
            1.0
        }
    }

    /// The coefficients quantized to `coef` on the integer datapath, as
    /// `(name, exact value, code)` (value of the code: `code·2^−coef.fl`), in the order of the
    /// integer step's `[e, c_vg, c_xv, c_xg, n_v, n_xv, n_x]`; empty when the step runs in
    /// `f64`.
    pub fn coefficients(&self) -> Vec<(&'static str, f64, i64)> {
        if self.float_path() {
            return Vec::new();
        }
        let k = self.k;
        let sd = self.core.int_noise.as_ref().map_or(1.0, |n| n.sd());
        let (a, s) = k.split();
        let sv = k.var_v.sqrt();
        let names = [
            ("exp(-gamma·eta)", k.vv),
            ("-(u/gamma)(1-e)", k.vg),
            ("(1-e)/gamma", k.xv),
            ("∓(u/gamma²)(gamma·eta+e-1)", k.xg),
            ("sqrt(Var_v)/s_n", sv / sd),
            ("(Cov/sqrt(Var_v))/s_n", a * sv / sd),
            ("sqrt(Var_x-Cov²/Var_v)/s_n", s / sd),
        ];
        names
            .iter()
            .zip(self.ic)
            .map(|(&(n, v), c)| (n, v, c))
            .collect()
    }
}

impl Sampler for Sghmc {
    /// `n` fused steps, if the fused kernel applies; `false` (and nothing done) otherwise.
    fn run_fused(
        &self,
        target: &dyn Target,
        st: &mut ChainState,
        ws: &mut Workspace,
        bits: &mut Bits,
        n: u64,
    ) -> bool {
        let c = &self.core;
        let d = self.dim;
        let platform = c.fused_platform(d, n);
        // A small `vc-l` call (d·n < 256, e.g. one step of a 1-D chain) runs faster step by
        // step than through the scalar kernel (a Box–Muller pair per step either way, plus the
        // kernel's set-up); the results are the same.
        let small_vc = self.variant == SghmcVariant::VcL && platform == Platform::Portable;
        if small_vc || !(self.fusable() && c.int_gauss(target, c.f().param, ws)) {
            return false;
        }
        let x = (c.f().param.container(), &mut st.xc[..]);
        let v = (self.fv.container(), &mut st.vc[..]);
        st.events += if self.variant == SghmcVariant::VcL {
            let p = self.vc_kernel(&ws.pc, &ws.mc);
            let words = &mut ws.words;
            words.resize(p.words_per_step(d).max(FUSED_WORDS), 0);
            ws.codes
                .run(x, v, |x, v| platform.sghmc_vc_l(&p, x, v, n, bits, words))
        } else {
            let p = self.kernel(&ws.pc, &ws.mc);
            let words = &mut ws.words;
            words.resize(p.words_per_step(d).max(FUSED_WORDS), 0);
            ws.codes.run(x, v, |x, v| {
                platform.sghmc_lp_l_in(&p, x, v, n, bits, words)
            })
        };
        true
    }

    fn lockstep(&self, target: &dyn Target) -> bool {
        self.variant == SghmcVariant::LpL
            && self.fused(target)
            && lockstep_fits(self.dim, self.core.f().param.wl())
    }

    /// The chains side by side (`lpmc_kernels::lockstep`), when [`Sampler::lockstep`] holds.
    fn run_lockstep(
        &self,
        target: &dyn Target,
        states: &mut [ChainState],
        ws: &mut Workspace,
        bits: &mut [Bits],
        n: u64,
        keep: Keep,
        sums: &mut [CodeSums],
    ) -> bool {
        let c = &self.core;
        let f = c.f();
        if !(self.variant == SghmcVariant::LpL
            && self.fusable()
            && lockstep_fits(self.dim, f.param.wl())
            && c.int_gauss(target, f.param, ws))
        {
            return false;
        }
        let p = self.kernel(&ws.pc, &ws.mc);
        let words = &mut ws.lk_words;
        words.resize(p.lockstep_scratch(self.dim).max(LOCKSTEP_WORDS), 0);
        let pl = c.platform;
        let (lk, ev) = (&mut ws.lk, &mut ws.lk_events);
        let call = (n, keep);
        let mut bits = bits;
        let cx = f.param.container();
        lockstep_in(
            &mut ws.codes,
            cx,
            lk,
            ev,
            states,
            call,
            sums,
            |x, v, s, e| pl.sghmc_lp_l_chains_in(&p, x, v, n, &mut bits, keep, s, e, words),
        );
        true
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn storage(&self) -> (Storage, Storage) {
        let f = self.core.f();
        match self.variant {
            SghmcVariant::Fp => (None, None),
            SghmcVariant::LpF if self.float_path() => (None, None),
            SghmcVariant::LpF => (Some(f.accum), Some(f.accum)),
            _ => (Some(f.param), Some(self.fv)),
        }
    }

    fn fused(&self, target: &dyn Target) -> bool {
        self.fusable()
            && self
                .core
                .int_gauss(target, self.core.f().param, &mut Workspace::default())
    }

    fn init(&self, x0: &[f64]) -> Result<ChainState> {
        let (sx, sv) = self.storage();
        let mut st = self.core.init_position(sx, x0)?;
        match sv {
            None => st.v = vec![0.0; self.dim],
            Some(_) => st.vc = vec![0; self.dim],
        }
        Ok(st)
    }

    /// One step of the exact integrator, e = exp(−γη), g the (quantized) gradient:
    ///
    /// `v' = e·v − (u/γ)(1−e)·g + ξ^v`,
    /// `x' = x + (1/γ)(1−e)·v − (u/γ²)(γη + e − 1)·g + ξ^x` (old v; `paper_sign: true` uses
    /// `+ (u/γ²)(γη + e − 1)·g`), with `ξ^v = √(u(1−e²))·z₁`,
    /// `ξ^x = (Cov/Var_v)·ξ^v + √(Var_x − Cov²/Var_v)·z₂`, then the variant's rounding (see
    /// [`Sghmc`]).
    ///
    /// Bits, in order: the gradient's (target minibatch, grad-noise normals, for
    /// `lp-f` the Q_W rounding of x, Q_G); then 2d normals `z` (z₁ = z[..d] for v,
    /// z₂ = z[d..] for x; on the integer datapath 2d noise codes instead, except for VC);
    /// then the state roundings: `lp-l` rounds all of v, then all of x; `vc-l` makes d Q^vc
    /// calls for v then d for x (2 words each); `vc-joint` one joint call (4 words) per
    /// coordinate with `z = [z₂ᵢ, z₁ᵢ]`.
    fn step(&self, target: &dyn Target, st: &mut ChainState, ws: &mut Workspace, bits: &mut Bits) {
        let d = self.dim;
        let c = &self.core;
        let f = *c.f();
        let k = self.k;
        let (a, s) = k.split();
        let sv = k.var_v.sqrt();
        if self.float_path() {
            // Dequantized x into ws.a, v into ws.b; gradient.
            match self.variant {
                SghmcVariant::Fp => {
                    c.gradient(target, &st.x, false, ws, bits);
                    ws.a.copy_from_slice(&st.x);
                    ws.b.copy_from_slice(&st.v);
                }
                SghmcVariant::LpF => {
                    st.events += c.round(f.param, &st.x, &mut ws.q, bits);
                    for i in 0..d {
                        ws.a[i] = f.param.value(ws.q[i]);
                    }
                    st.events += c.gradient_at_a(target, ws, bits);
                    ws.a.copy_from_slice(&st.x);
                    ws.b.copy_from_slice(&st.v);
                }
                _ => {
                    for i in 0..d {
                        ws.a[i] = f.param.value(st.xc[i]);
                        ws.b[i] = st.scale * self.fv.value(st.vc[i]);
                    }
                    st.events += c.gradient_at_a(target, ws, bits);
                }
            }
            normals(ws, 2 * d, bits);
            // Noise-free means: v mean into ws.b (after x uses the old v), x mean into ws.a.
            for i in 0..d {
                let (x, v, g) = (ws.a[i], ws.b[i], ws.g[i]);
                ws.a[i] = x + k.xv * v + k.xg * g;
                ws.b[i] = k.vv * v + k.vg * g;
            }
            let scale = if self.uses_scale() {
                self.new_scale(&ws.b)
            } else {
                1.0
            };
            match self.variant {
                SghmcVariant::Fp | SghmcVariant::LpF => {
                    for i in 0..d {
                        let xi_v = sv * ws.z[i];
                        st.v[i] = ws.b[i] + xi_v;
                        st.x[i] = ws.a[i] + a * xi_v + s * ws.z[d + i];
                    }
                }
                SghmcVariant::LpL => {
                    for i in 0..d {
                        let xi_v = sv * ws.z[i];
                        let xi_x = a * xi_v + s * ws.z[d + i];
                        ws.b[i] = (ws.b[i] + xi_v) / scale;
                        ws.a[i] += xi_x;
                    }
                    st.events += c.round(self.fv, &ws.b, &mut st.vc, bits);
                    st.events += c.round(f.param, &ws.a, &mut st.xc, bits);
                }
                SghmcVariant::VcL => {
                    for i in 0..d {
                        let r = qvc(
                            ws.b[i] / scale,
                            k.var_v / (scale * scale),
                            self.fv,
                            ws.z[i],
                            bits,
                        );
                        st.vc[i] = r.code;
                        st.events += r.overflow as u64;
                    }
                    for i in 0..d {
                        let r = qvc(ws.a[i], k.var_x, f.param, ws.z[d + i], bits);
                        st.xc[i] = r.code;
                        st.events += r.overflow as u64;
                    }
                }
                SghmcVariant::VcJoint => {
                    let cxv = k.cov / scale;
                    let cov = [[k.var_x, cxv], [cxv, k.var_v / (scale * scale)]];
                    for i in 0..d {
                        let [rx, rv] = qvc_joint(
                            [ws.a[i], ws.b[i] / scale],
                            cov,
                            f.param,
                            self.fv,
                            [ws.z[d + i], ws.z[i]],
                            bits,
                        );
                        st.xc[i] = rx.code;
                        st.vc[i] = rv.code;
                        st.events += rx.overflow as u64 + rv.overflow as u64;
                    }
                }
            }
            st.scale = scale;
            return;
        }
        // Integer datapath.
        let (fc, fg, fa, fnz) = (f.coef.fl(), f.grad.fl(), f.accum.fl(), f.noise.fl());
        let (fx, fv) = match self.variant {
            SghmcVariant::LpF => (f.accum, f.accum),
            _ => (f.param, self.fv),
        };
        if self.variant == SghmcVariant::LpF {
            st.events += c.requant(&st.xc, fa, f.param, &mut ws.q, bits);
            let q = std::mem::take(&mut ws.q);
            st.events += c.gradient_codes(target, &q, f.param, ws, bits);
            ws.q = q;
        } else {
            st.events += c.gradient_codes(target, &st.xc, fx, ws, bits);
        }
        let vc = matches!(self.variant, SghmcVariant::VcL | SghmcVariant::VcJoint);
        if vc {
            normals(ws, 2 * d, bits);
        } else if let Some(gen) = &c.int_noise {
            gen.fill(bits, &mut ws.n[..2 * d], &mut ws.z[..2 * d]);
        }
        let [e, cvg, cxv, cxg, nv, nxv, nx] = self.ic.map(|v| v as i128);
        for i in 0..d {
            let (x, v, g) = (st.xc[i] as i128, st.vc[i] as i128, ws.gc[i] as i128);
            let mut sv_ = align(e * v, fc + fv.fl(), fa) + align(cvg * g, fc + fg, fa);
            let mut sx_ = align(x, fx.fl(), fa)
                + align(cxv * v, fc + fv.fl(), fa)
                + align(cxg * g, fc + fg, fa);
            if !vc {
                let (n1, n2) = (ws.n[i] as i128, ws.n[d + i] as i128);
                sv_ += align(nv * n1, fc + fnz, fa);
                sx_ += align(nxv * n1, fc + fnz, fa) + align(nx * n2, fc + fnz, fa);
            }
            let (cv, ov) = c.acc(sv_);
            let (cx, ox) = c.acc(sx_);
            st.events += ov as u64 + ox as u64;
            ws.acc[i] = cv;
            ws.acc2[i] = cx;
        }
        match self.variant {
            SghmcVariant::LpF => {
                st.vc.copy_from_slice(&ws.acc);
                st.xc.copy_from_slice(&ws.acc2);
            }
            SghmcVariant::LpL => {
                st.events += c.requant(&ws.acc, fa, self.fv, &mut st.vc, bits);
                st.events += c.requant(&ws.acc2, fa, f.param, &mut st.xc, bits);
            }
            SghmcVariant::VcL => {
                for i in 0..d {
                    let r = qvc(f.accum.value(ws.acc[i]), k.var_v, self.fv, ws.z[i], bits);
                    st.vc[i] = r.code;
                    st.events += r.overflow as u64;
                }
                for i in 0..d {
                    let r = qvc(
                        f.accum.value(ws.acc2[i]),
                        k.var_x,
                        f.param,
                        ws.z[d + i],
                        bits,
                    );
                    st.xc[i] = r.code;
                    st.events += r.overflow as u64;
                }
            }
            SghmcVariant::VcJoint => {
                let cov = [[k.var_x, k.cov], [k.cov, k.var_v]];
                for i in 0..d {
                    let mu = [f.accum.value(ws.acc2[i]), f.accum.value(ws.acc[i])];
                    let [rx, rv] =
                        qvc_joint(mu, cov, f.param, self.fv, [ws.z[d + i], ws.z[i]], bits);
                    st.xc[i] = rx.code;
                    st.vc[i] = rv.code;
                    st.events += rx.overflow as u64 + rv.overflow as u64;
                }
            }
            SghmcVariant::Fp => unreachable!("fp runs on the float path"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The constants at η = 0.09, u = 2, γ = 3 against the closed forms of PAPER.md.
    #[test]
    fn coefficients() {
        let k = Coefs::new(0.09, 2.0, 3.0, false);
        let e = (-0.27f64).exp();
        assert!((k.vv - e).abs() < 1e-15);
        assert!((k.vg + (2.0 / 3.0) * (1.0 - e)).abs() < 1e-15);
        assert!((k.xg + (2.0 / 9.0) * (0.27 + e - 1.0)).abs() < 1e-15);
        assert!((k.var_v - 2.0 * (1.0 - e * e)).abs() < 1e-14);
        assert!((k.cov - (2.0 / 3.0) * (1.0 - e).powi(2)).abs() < 1e-15);
        let p = Coefs::new(0.09, 2.0, 3.0, true);
        assert_eq!(p.xg, -k.xg);
    }
}
