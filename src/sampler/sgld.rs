//! Stochastic gradient Langevin dynamics (\[S\] eq. 1, 2, 17; \[L\]).

use super::{Core, Rule, Sampler, Setup, Storage};
use crate::error::{Error, Result};
use lpmc_kernels::rules::{Dynamics, Gradient, Step, Variant};
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
/// `x − η_c·g` in `accum` and applies Q^vc to it in `f64` with variance `2η_c`. The rule is
/// `lpmc_kernels::rules::sgld`; this type holds its constants.
#[derive(Clone, Debug)]
pub struct Sgld {
    variant: SgldVariant,
    eta: f64,
    dim: usize,
    core: Core,
    rule: Rule,
}

impl Sgld {
    /// SGLD `variant` with step `eta` > 0 in dimension `dim`.
    pub fn new(variant: SgldVariant, eta: f64, setup: Setup, dim: usize) -> Result<Self> {
        if !(eta.is_finite() && eta > 0.0) {
            return Err(Error::param("eta", eta, "must be a finite number > 0"));
        }
        let core = Core::new(setup)?;
        let f = *core.f();
        let mut int_coefs = [0; 7];
        // The noise's variance 2ηT (T the temperature).
        let t = core.setup.temperature;
        let mut var = 2.0 * eta * t;
        if core.integer() && variant != SgldVariant::Fp {
            int_coefs[0] = core.coef("eta", eta)?;
            int_coefs[1] = core.coef("sqrt(2·eta·T)/s_n", var.sqrt() / core.noise_sd())?;
            var = 2.0 * f.coef.value(int_coefs[0]) * t;
        }
        let x = match variant {
            SgldVariant::LpF if core.integer() => f.accum,
            _ => f.param,
        };
        let rule = Rule {
            dynamics: Dynamics::Sgld,
            variant: match variant {
                SgldVariant::Fp => Variant::Fp,
                SgldVariant::LpF => Variant::LpF,
                SgldVariant::LpL => Variant::LpL,
                SgldVariant::VcL => Variant::VcL,
            },
            x,
            v: x,
            int_coefs,
            coefs: [eta, (2.0 * eta * t).sqrt(), 0.0, 0.0, 0.0, 0.0, 0.0],
            vc_var: [var, 0.0, 0.0],
            rescale: None,
        };
        Ok(Sgld {
            variant,
            eta,
            dim,
            core,
            rule,
        })
    }

    /// The variant.
    pub fn variant(&self) -> SgldVariant {
        self.variant
    }

    /// The step η.
    pub fn eta(&self) -> f64 {
        self.eta
    }

    /// The integer datapath's coefficient codes `[η, √(2η)/s_n]` in the `coef` format (zeros
    /// on the float datapath and for `fp`).
    pub fn int_coefs(&self) -> [i64; 2] {
        [self.rule.int_coefs[0], self.rule.int_coefs[1]]
    }
}

impl Sampler for Sgld {
    fn dim(&self) -> usize {
        self.dim
    }

    fn setup(&self) -> &Setup {
        &self.core.setup
    }

    fn storage(&self) -> (Storage, Option<Storage>) {
        let s = match self.variant {
            SgldVariant::Fp => Storage::F64,
            SgldVariant::LpF if !self.core.integer() => Storage::F64,
            _ => Storage::Codes(self.rule.x),
        };
        (s, None)
    }

    fn kernel_step<'a>(&'a self, gradient: Gradient<'a>) -> Step<'a> {
        self.core.step(&self.rule, gradient)
    }
}
