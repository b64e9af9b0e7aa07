//! Stochastic gradient Langevin dynamics (\[S\] eq. 1, 2, 17; \[L\]).

use super::{
    align, lockstep_fits, lockstep_in, normals, ChainState, CodeSums, Core, Keep, Sampler, Setup,
    Storage, Workspace, FUSED_WORDS, LOCKSTEP_WORDS,
};
use crate::error::{Error, Result};
use crate::format::Container;
use crate::source::Bits;
use crate::target::Target;
use crate::vc::qvc;
use lpmc_kernels::Platform;
use serde::{Deserialize, Serialize};

/// Which SGLD.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SgldVariant {
    /// Full precision: nothing is quantized.
    Fp,
    /// SGLDLP-F: full-precision x, gradient at Q_W(x), Q_G.
    LpF,
    /// SGLDLP-L (naive): x stored in `param`, the whole update rounded once.
    #[default]
    LpL,
    /// VC SGLDLP-L: x ← Q^vc(x − η·Q_G(∇Ũ(x)), 2η).
    VcL,
}

/// SGLD with step η:
///
/// - `fp`: `x ← x − η∇Ũ(x) + √(2η)ξ`, ξ ~ N(0, I);
/// - `lp-f`: `x ← x − η·Q_G(∇Ũ(Q_W(x))) + √(2η)ξ`, x kept in full precision (f64 on the
///   float datapath, the `accum` format on the integer one);
/// - `lp-l`: `x ← Q_W(x − η·Q_G(∇Ũ(x)) + √(2η)ξ)`;
/// - `vc-l`: `x ← Q^vc(x − η·Q_G(∇Ũ(x)), 2η)` ([`crate::vc::qvc`]).
///
/// ∇Ũ is the target's (stochastic) gradient plus `grad_noise`·N(0, I).
///
/// Integer datapath: η and √(2η)/s_n (s_n the noise generator's s.d.) are quantized once to
/// `coef`; with `n` the noise codes the sum `x − η_c·g + c_n·n` is formed exactly in `accum`
/// (products with more fraction bits than `accum` are truncated), the accumulator's overflow
/// rule applied, then rounded once to `param` (`lp-l`) or kept (`lp-f`). `vc-l` forms the mean
/// `x − η_c·g` in `accum` and applies Q^vc to it in `f64` with variance `2η_c`.
#[derive(Clone, Debug)]
pub struct Sgld {
    variant: SgldVariant,
    eta: f64,
    dim: usize,
    core: Core,
    /// Integer datapath: η and the noise coefficient in `coef` codes.
    eta_c: i64,
    noise_c: i64,
    /// Whether [`Sampler::run`] may take the fused kernel.
    fused: bool,
}

impl Sgld {
    /// SGLD `variant` with step `eta` > 0 in dimension `dim`.
    pub fn new(variant: SgldVariant, eta: f64, setup: Setup, dim: usize) -> Result<Self> {
        if !(eta.is_finite() && eta > 0.0) {
            return Err(Error::param("eta", eta, "must be a finite number > 0"));
        }
        let core = Core::new(setup)?;
        let (mut eta_c, mut noise_c) = (0, 0);
        if core.integer() && variant != SgldVariant::Fp {
            eta_c = core.coef("eta", eta)?;
            let sd = core.int_noise.as_ref().map_or(1.0, |n| n.sd());
            noise_c = core.coef("sqrt(2·eta)/s_n", (2.0 * eta).sqrt() / sd)?;
        }
        Ok(Sgld {
            variant,
            eta,
            dim,
            core,
            eta_c,
            noise_c,
            fused: true,
        })
    }

    /// The same sampler with the fused kernel allowed (`true`, the default) or not: results
    /// are identical either way, only the speed differs (tests compare the two).
    pub fn with_fused(mut self, on: bool) -> Self {
        self.fused = on;
        self
    }

    fn float_path(&self) -> bool {
        !self.core.integer() || self.variant == SgldVariant::Fp
    }

    /// Whether a fused kernel takes this sampler (the target is checked by
    /// [`Core::int_gauss`]): the integer datapath, a position of at most 32 bits, and `lp-l`
    /// with a `clt`/`table` generator ([`lpmc_kernels::fused`]) or `vc-l`
    /// ([`lpmc_kernels::vc`]).
    fn fusable(&self) -> bool {
        let c = &self.core;
        let kernel = match self.variant {
            SgldVariant::LpL => c
                .int_noise
                .as_ref()
                .is_some_and(|g| g.kernel_gen().is_some()),
            SgldVariant::VcL => true,
            SgldVariant::Fp | SgldVariant::LpF => false,
        };
        self.fused && kernel && c.integer() && c.f().param.container() != Container::I64
    }

    /// The fused `vc-l` kernel's parameters (see [`Sgld::kernel`]).
    fn vc_kernel<'a>(&self, pc: &'a [i64], mc: &'a [i64]) -> lpmc_kernels::vc::SgldVcL<'a> {
        let f = *self.core.f();
        lpmc_kernels::vc::SgldVcL {
            rounding: self.core.setup.rounding,
            x: Core::fmt(f.param),
            grad: Core::fmt(f.grad),
            accum: Core::fmt(f.accum),
            coef_fl: f.coef.fl(),
            eta: self.eta_c,
            var: 2.0 * f.coef.value(self.eta_c),
            target: lpmc_kernels::fused::GaussGrad {
                prec: pc,
                mean: mc,
                prec_fl: f.coef.fl(),
            },
        }
    }

    /// The fused `lp-l` kernel's parameters, with the integer gradient's precision and mean
    /// codes `pc`, `mc` ([`Core::int_gauss`]); only called when [`Sgld::fusable`] holds for
    /// `lp-l`.
    fn kernel<'a>(&'a self, pc: &'a [i64], mc: &'a [i64]) -> lpmc_kernels::fused::SgldLpL<'a> {
        let c = &self.core;
        let f = *c.f();
        lpmc_kernels::fused::SgldLpL {
            rounding: c.setup.rounding,
            x: Core::fmt(f.param),
            grad: Core::fmt(f.grad),
            accum: Core::fmt(f.accum),
            coef_fl: f.coef.fl(),
            eta: self.eta_c,
            noise_coef: self.noise_c,
            target: lpmc_kernels::fused::GaussGrad {
                prec: pc,
                mean: mc,
                prec_fl: f.coef.fl(),
            },
            noise: c
                .int_noise
                .as_ref()
                .and_then(|g| g.kernel_gen())
                .expect("fused() checked the generator"),
            noise_fmt: Core::fmt(f.noise),
        }
    }

    /// The coefficients quantized to `coef` on the integer datapath, as
    /// `(name, exact value, code)` (value of the code: `code·2^−coef.fl`); empty when the
    /// step runs in `f64` (float datapath, `fp`).
    pub fn coefficients(&self) -> Vec<(&'static str, f64, i64)> {
        if self.float_path() {
            return Vec::new();
        }
        let sd = self.core.int_noise.as_ref().map_or(1.0, |n| n.sd());
        vec![
            ("eta", self.eta, self.eta_c),
            (
                "sqrt(2·eta)/s_n",
                (2.0 * self.eta).sqrt() / sd,
                self.noise_c,
            ),
        ]
    }
}

impl Sampler for Sgld {
    /// `n` fused steps, if the fused kernel applies (see [`crate::sampler`]); `false` (and
    /// nothing done) otherwise.
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
        let small_vc = self.variant == SgldVariant::VcL && platform == Platform::Portable;
        if small_vc || !(self.fusable() && c.int_gauss(target, c.f().param, ws)) {
            return false;
        }
        let cx = c.f().param.container();
        let (x, v) = ((cx, &mut st.xc[..]), (cx, &mut [][..]));
        st.events += if self.variant == SgldVariant::VcL {
            let p = self.vc_kernel(&ws.pc, &ws.mc);
            let words = &mut ws.words;
            words.resize(p.words_per_step(d).max(FUSED_WORDS), 0);
            ws.codes
                .run(x, v, |x, _| platform.sgld_vc_l(&p, x, n, bits, words))
        } else {
            let p = self.kernel(&ws.pc, &ws.mc);
            let words = &mut ws.words;
            words.resize(p.words_per_step(d).max(FUSED_WORDS), 0);
            ws.codes
                .run(x, v, |x, _| platform.sgld_lp_l_in(&p, x, n, bits, words))
        };
        true
    }

    fn lockstep(&self, target: &dyn Target) -> bool {
        self.variant == SgldVariant::LpL
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
        if !(self.variant == SgldVariant::LpL
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
            |x, _, s, e| pl.sgld_lp_l_chains_in(&p, x, n, &mut bits, keep, s, e, words),
        );
        true
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn storage(&self) -> (Storage, Storage) {
        let f = self.core.f();
        let x = match self.variant {
            SgldVariant::Fp => None,
            SgldVariant::LpF if self.float_path() => None,
            SgldVariant::LpF => Some(f.accum),
            SgldVariant::LpL | SgldVariant::VcL => Some(f.param),
        };
        (x, None)
    }

    fn init(&self, x0: &[f64]) -> Result<ChainState> {
        self.core.init_position(self.storage().0, x0)
    }

    fn fused(&self, target: &dyn Target) -> bool {
        self.fusable()
            && self
                .core
                .int_gauss(target, self.core.f().param, &mut Workspace::default())
    }

    /// One step: `x' = x − η·g + √(2η)·ξ`, g the (quantized) gradient, then the variant's
    /// rounding (`lp-l`: Q_W of the whole update; `vc-l`: Q^vc(x − η·g, 2η); see [`Sgld`]).
    ///
    /// Bits, in order: the gradient's (target minibatch, grad-noise normals, for
    /// `lp-f` the Q_W rounding of x, Q_G), then the Langevin noise (d normals, or d noise
    /// codes on the integer datapath; `vc-l` draws d normals), then the rounding of x to
    /// `param` (`lp-l`) or d Q^vc calls of 2 words each (`vc-l`), coordinate by coordinate.
    fn step(&self, target: &dyn Target, st: &mut ChainState, ws: &mut Workspace, bits: &mut Bits) {
        let d = self.dim;
        let c = &self.core;
        let f = *c.f();
        let eta = self.eta;
        let sig = (2.0 * eta).sqrt();
        if self.float_path() {
            match self.variant {
                SgldVariant::Fp => {
                    c.gradient(target, &st.x, false, ws, bits);
                    normals(ws, d, bits);
                    for i in 0..d {
                        st.x[i] += -eta * ws.g[i] + sig * ws.z[i];
                    }
                }
                SgldVariant::LpF => {
                    st.events += c.round(f.param, &st.x, &mut ws.q, bits);
                    for i in 0..d {
                        ws.a[i] = f.param.value(ws.q[i]);
                    }
                    st.events += c.gradient_at_a(target, ws, bits);
                    normals(ws, d, bits);
                    for i in 0..d {
                        st.x[i] += -eta * ws.g[i] + sig * ws.z[i];
                    }
                }
                SgldVariant::LpL | SgldVariant::VcL => {
                    for i in 0..d {
                        ws.a[i] = f.param.value(st.xc[i]);
                    }
                    st.events += c.gradient_at_a(target, ws, bits);
                    normals(ws, d, bits);
                    if self.variant == SgldVariant::LpL {
                        for i in 0..d {
                            ws.b[i] = ws.a[i] - eta * ws.g[i] + sig * ws.z[i];
                        }
                        st.events += c.round(f.param, &ws.b, &mut st.xc, bits);
                    } else {
                        for i in 0..d {
                            let mu = ws.a[i] - eta * ws.g[i];
                            let r = qvc(mu, 2.0 * eta, f.param, ws.z[i], bits);
                            st.xc[i] = r.code;
                            st.events += r.overflow as u64;
                        }
                    }
                }
            }
            return;
        }
        // Integer datapath.
        let (fc, fg, fa) = (f.coef.fl(), f.grad.fl(), f.accum.fl());
        let (xf, xs) = match self.variant {
            SgldVariant::LpF => (f.accum, fa),
            _ => (f.param, f.param.fl()),
        };
        // Gradient at Q_W(x) (lp-f) or x.
        if self.variant == SgldVariant::LpF {
            st.events += c.requant(&st.xc, fa, f.param, &mut ws.q, bits);
            let q = std::mem::take(&mut ws.q);
            st.events += c.gradient_codes(target, &q, f.param, ws, bits);
            ws.q = q;
        } else {
            st.events += c.gradient_codes(target, &st.xc, xf, ws, bits);
        }
        let fnz = f.noise.fl();
        if self.variant == SgldVariant::VcL {
            normals(ws, d, bits);
        } else if let Some(gen) = &c.int_noise {
            gen.fill(bits, &mut ws.n[..d], &mut ws.z[..d]);
        }
        for i in 0..d {
            let mut sum = align(st.xc[i] as i128, xs, fa)
                - align(self.eta_c as i128 * ws.gc[i] as i128, fc + fg, fa);
            if self.variant != SgldVariant::VcL {
                sum += align(self.noise_c as i128 * ws.n[i] as i128, fc + fnz, fa);
            }
            let (code, over) = c.acc(sum);
            st.events += over as u64;
            ws.acc[i] = code;
        }
        match self.variant {
            SgldVariant::LpF => st.xc.copy_from_slice(&ws.acc),
            SgldVariant::LpL => st.events += c.requant(&ws.acc, fa, f.param, &mut st.xc, bits),
            SgldVariant::VcL => {
                let var = 2.0 * f.coef.value(self.eta_c);
                for i in 0..d {
                    let r = qvc(f.accum.value(ws.acc[i]), var, f.param, ws.z[i], bits);
                    st.xc[i] = r.code;
                    st.events += r.overflow as u64;
                }
            }
            SgldVariant::Fp => unreachable!("fp runs on the float path"),
        }
    }
}
