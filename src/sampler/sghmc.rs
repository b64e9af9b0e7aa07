//! Stochastic gradient Hamiltonian Monte Carlo with the exact integrator of Cheng et al.
//! (2018) (\[S\] eq. 3–8), including the paper's sign error as an option.

use super::{Core, Rule, Sampler, Setup, Storage};
use crate::error::{Error, Result};
use crate::format::Format;
use lpmc_kernels::rules::{Dynamics, Gradient, Rescale, Step, Variant};
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

    /// The constants at temperature `t` (the law `exp(−U/t)`): the noise's variances and
    /// covariance times `t`, the drift unchanged.
    pub fn tempered(self, t: f64) -> Self {
        Coefs {
            var_v: self.var_v * t,
            var_x: self.var_x * t,
            cov: self.cov * t,
            ..self
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
/// and apply Q^vc in f64 with the exact variances. The rule is `lpmc_kernels::rules::sghmc`;
/// this type holds its constants.
#[derive(Clone, Debug)]
pub struct Sghmc {
    variant: SghmcVariant,
    p: SghmcParams,
    k: Coefs,
    dim: usize,
    core: Core,
    rule: Rule,
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
        let k = Coefs::new(p.eta, p.u, p.gamma, p.paper_sign).tempered(core.setup.temperature);
        let (a, s) = k.split();
        let sv = k.var_v.sqrt();
        for (name, v) in [("Var_v", k.var_v), ("Var_x", k.var_x), ("Cov", k.cov)] {
            if !v.is_finite() {
                return Err(Error::param(
                    format!("the integrator's {name} (from eta, u, gamma)"),
                    v,
                    "must be finite",
                ));
            }
        }
        let mut int_coefs = [0; 7];
        if core.integer() && variant != SghmcVariant::Fp {
            let sd = core.noise_sd();
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
                int_coefs[j] = core.coef(name, *v)?;
            }
        }
        let f = *core.f();
        let (x, v) = match variant {
            SghmcVariant::LpF if core.integer() => (f.accum, f.accum),
            _ => (f.param, fv),
        };
        let uses_scale =
            p.rescale_momentum && !matches!(variant, SghmcVariant::Fp | SghmcVariant::LpF);
        let rule = Rule {
            dynamics: Dynamics::Sghmc,
            variant: match variant {
                SghmcVariant::Fp => Variant::Fp,
                SghmcVariant::LpF => Variant::LpF,
                SghmcVariant::LpL => Variant::LpL,
                SghmcVariant::VcL => Variant::VcL,
                SghmcVariant::VcJoint => Variant::VcJoint,
            },
            x,
            v,
            int_coefs,
            coefs: [k.vv, k.vg, k.xv, k.xg, sv, a * sv, s],
            vc_var: [k.var_x, k.var_v, k.cov],
            rescale: uses_scale.then(|| Rescale {
                headroom: p.rescale_headroom,
                v_max: fv.max_value(),
            }),
        };
        Ok(Sghmc {
            variant,
            p,
            k,
            dim,
            core,
            rule,
        })
    }

    /// The integrator's constants.
    pub fn coefs(&self) -> Coefs {
        self.k
    }

    /// The variant.
    pub fn variant(&self) -> SghmcVariant {
        self.variant
    }

    /// The parameters.
    pub fn params(&self) -> SghmcParams {
        self.p
    }

    /// The momentum's storage format (the `momentum` format, or Q(WL+2, FL) of it for VC
    /// with `vc_wide_momentum`; `accum` for integer `lp-f`).
    pub fn momentum_format(&self) -> Format {
        self.rule.v
    }

    /// The integer datapath's coefficient codes `[e, c_vg, c_xv, c_xg, n_v, n_xv, n_x]` in the
    /// `coef` format (zeros on the float datapath and for `fp`).
    pub fn int_coefs(&self) -> [i64; 7] {
        self.rule.int_coefs
    }
}

impl Sampler for Sghmc {
    fn dim(&self) -> usize {
        self.dim
    }

    fn setup(&self) -> &Setup {
        &self.core.setup
    }

    fn storage(&self) -> (Storage, Option<Storage>) {
        match self.variant {
            SghmcVariant::Fp => (Storage::F64, Some(Storage::F64)),
            SghmcVariant::LpF if !self.core.integer() => (Storage::F64, Some(Storage::F64)),
            _ => (
                Storage::Codes(self.rule.x),
                Some(Storage::Codes(self.rule.v)),
            ),
        }
    }

    fn kernel_step<'a>(&'a self, gradient: Gradient<'a>) -> Step<'a> {
        self.core.step(&self.rule, gradient)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The constants at η = 0.09, u = 2, γ = 3 against the closed forms of \[S\] (docs/theory.md §5).
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
