//! Stochastic gradient Hamiltonian Monte Carlo with the exact integrator of Cheng et al.
//! (2018): the update of one coordinate.
//!
//! With step η, inverse mass u, friction γ and `e = exp(−γη)`, gradient `g` and the noises
//! `n₁`, `n₂`, the new momentum and position before their quantizers are
//!
//! ```text
//! s_v = A(e·v) + A(c_vg·g) + A(n_v·n₁)
//! s_x = A(x) + A(c_xv·v) + A(c_xg·g) + A(n_xv·n₁) + A(n_x·n₂)          (old v)
//! ```
//!
//! with `c_vg = −(u/γ)(1 − e)`, `c_xv = (1 − e)/γ`, `c_xg = −(u/γ²)(γη + e − 1)` (the
//! published `+` sign as an option), and the noise scales `n_v = √Var_v`,
//! `n_xv = (Cov/Var_v)·√Var_v`, `n_x = √(Var_x − Cov²/Var_v)`, where
//! `Var_v = u(1 − e²)`, `Var_x = (u/γ²)(2γη + 4e − e² − 3)`, `Cov = (u/γ)(1 − e)²` are the
//! integrator's noise moments: `(ξ^x, ξ^v) = (n_xv·z₁ + n_x·z₂, n_v·z₁)` has exactly that
//! covariance for independent standard normals `z₁`, `z₂`.
//!
//! - **float datapath**: `A` is the identity; the sums are evaluated left to right in `f64`
//!   with `n₁ = z₁`, `n₂ = z₂` standard normals. `fp`/`lp-f` keep them as the new state, `lp-l`
//!   rounds them (`Q_V`, `Q_W`), VC drops the noise terms and draws `Q^vc(s_v, Var_v)`,
//!   `Q^vc(s_x, Var_x)` (or the joint `Q^vc` with covariance `Cov`).
//! - **integer datapath**: the seven coefficients are codes of the `coef` format (the noise
//!   scales divided by the generator's standard deviation `s_n`), `n₁`, `n₂` noise codes; each
//!   aligned product is exact in the accumulator, the sums are exact, then its overflow rule.

use super::Step;
use crate::lane::{Arith, Ov, Shift};

/// The SGHMC sums in lanes `L`.
#[derive(Clone, Copy, Debug)]
pub struct Sghmc<L> {
    c: [L; 7],
    sx: Shift,
    sv: Shift,
    sg: Shift,
    sn: Shift,
    ova: Ov<L>,
    noisy: bool,
}

impl<L: Arith> Sghmc<L> {
    /// The constants of `step` (coefficients `[e, c_vg, c_xv, c_xg, n_v, n_xv, n_x]`).
    pub fn new(step: &Step) -> Self {
        let (fa, fc) = (step.accum.fl, step.coef_fl);
        let int = !step.float_path();
        let shift = |from: u32| {
            if int {
                Shift::new(from, fa, L::BITS)
            } else {
                Shift::NONE
            }
        };
        Sghmc {
            c: core::array::from_fn(|j| {
                if int {
                    L::of(step.int_coefs[j])
                } else {
                    L::of_f64(step.coefs[j])
                }
            }),
            sx: shift(step.x.fl),
            sv: shift(fc + step.v.fl),
            sg: shift(fc + step.grad.fl),
            sn: shift(fc + step.noise_fmt.fl),
            ova: Ov::new(step.accum),
            noisy: !step.vc(),
        }
    }

    /// One coordinate: `(s_v, s_x, accumulator overflow events)`.
    #[inline(always)]
    pub fn sum(&self, x: L, v: L, g: L, n1: L, n2: L) -> (L, L, u32) {
        let [e, cvg, cxv, cxg, nv, nxv, nx] = self.c;
        let mut sv = (e * v).align(self.sv) + (cvg * g).align(self.sg);
        let mut sx = x.align(self.sx) + (cxv * v).align(self.sv) + (cxg * g).align(self.sg);
        if self.noisy {
            sv = sv + (nv * n1).align(self.sn);
            sx = sx + (nxv * n1).align(self.sn) + (nx * n2).align(self.sn);
        }
        let (av, ev) = sv.overflow(&self.ova);
        let (ax, ex) = sx.overflow(&self.ova);
        (av, ax, ev as u32 + ex as u32)
    }

    /// The sums of a batch into `acc_v`, `acc_x`; returns the accumulator's overflow events.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub fn run(
        &self,
        x: &[L],
        v: &[L],
        g: &[L],
        n1: &[L],
        n2: &[L],
        acc_v: &mut [L],
        acc_x: &mut [L],
    ) -> u64 {
        let k = acc_x.len();
        let (x, v, g, acc_v) = (&x[..k], &v[..k], &g[..k], &mut acc_v[..k]);
        let mut ev = 0u32;
        if self.noisy {
            let (n1, n2) = (&n1[..k], &n2[..k]);
            for j in 0..k {
                let (a, b, e) = self.sum(x[j], v[j], g[j], n1[j], n2[j]);
                acc_v[j] = a;
                acc_x[j] = b;
                ev += e;
            }
        } else {
            let zero = L::default();
            for j in 0..k {
                let (a, b, e) = self.sum(x[j], v[j], g[j], zero, zero);
                acc_v[j] = a;
                acc_x[j] = b;
                ev += e;
            }
        }
        ev as u64
    }
}
