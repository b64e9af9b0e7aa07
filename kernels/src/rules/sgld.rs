//! Stochastic gradient Langevin dynamics: the update of one coordinate.
//!
//! With step η, gradient `g` (after the gradient stage: `Q_G(∇Ũ)` or, for `fp`, `∇Ũ`) and
//! noise `n`, one coordinate's new value before the state's quantizer is
//!
//! ```text
//! s = A(x) − A(η·g) + A(c_n·n)
//! ```
//!
//! - **float datapath**: `A` is the identity, the sum is `(x − η·g) + √(2η)·ξ` in `f64`
//!   (`x` the value of the state, ξ a standard normal), then: `fp`/`lp-f` keep it as the new
//!   `x`; `lp-l` rounds it to the `param` format (`Q_W`); VC drops the noise term and draws
//!   `Q^vc(x − η·g, 2η)`.
//! - **integer datapath**: η and `c_n = √(2η)/s_n` (`s_n` the generator's standard deviation)
//!   are codes of the `coef` format, `x`, `g` and `n` codes of their formats; each product
//!   `A(c·q)` is aligned exactly to the accumulator's fraction bits (a floor right shift when it
//!   has more, [`crate::lane::align`]), the sum is exact, then the accumulator's overflow rule
//!   applies. `lp-f` keeps the accumulator code as `x`, `lp-l` requantizes it to `param`, VC
//!   (no noise term) applies `Q^vc` to its value with variance `2η_c`.

use super::Step;
use crate::lane::{Arith, Ov, Shift};

/// The SGLD sum in lanes `L` (`f64` for the float datapath, an integer lane for the integer
/// one).
#[derive(Clone, Copy, Debug)]
pub struct Sgld<L> {
    eta: L,
    noise: L,
    sx: Shift,
    sg: Shift,
    sn: Shift,
    ova: Ov<L>,
    /// Whether the noise term is in the sum (not for VC).
    noisy: bool,
}

impl<L: Arith> Sgld<L> {
    /// The constants of `step` (coefficients `[η, c_n]`).
    pub fn new(step: &Step) -> Self {
        let (fa, fc) = (step.accum.fl, step.coef_fl);
        let int = !step.float_path();
        let coef = |j: usize| {
            if int {
                L::of(step.int_coefs[j])
            } else {
                L::of_f64(step.coefs[j])
            }
        };
        let shift = |from: u32| {
            if int {
                Shift::new(from, fa, L::BITS)
            } else {
                Shift::NONE
            }
        };
        Sgld {
            eta: coef(0),
            noise: coef(1),
            sx: shift(step.x.fl),
            sg: shift(fc + step.grad.fl),
            sn: shift(fc + step.noise_fmt.fl),
            ova: Ov::new(step.accum),
            noisy: !step.vc(),
        }
    }

    /// One coordinate: `(s, accumulator overflow)`.
    #[inline(always)]
    pub fn sum(&self, x: L, g: L, n: L) -> (L, bool) {
        let mean = x.align(self.sx) - (self.eta * g).align(self.sg);
        let s = if self.noisy {
            mean + (self.noise * n).align(self.sn)
        } else {
            mean
        };
        s.overflow(&self.ova)
    }

    /// The sums of a batch into `acc`; returns the accumulator's overflow events.
    #[inline(always)]
    pub fn run(&self, x: &[L], g: &[L], n: &[L], acc: &mut [L]) -> u64 {
        let k = acc.len();
        let (x, g) = (&x[..k], &g[..k]);
        let mut ev = 0u32;
        if self.noisy {
            let n = &n[..k];
            for j in 0..k {
                let mean = x[j].align(self.sx) - (self.eta * g[j]).align(self.sg);
                let (a, e) = (mean + (self.noise * n[j]).align(self.sn)).overflow(&self.ova);
                acc[j] = a;
                ev += e as u32;
            }
        } else {
            for j in 0..k {
                let mean = x[j].align(self.sx) - (self.eta * g[j]).align(self.sg);
                let (a, e) = mean.overflow(&self.ova);
                acc[j] = a;
                ev += e as u32;
            }
        }
        ev as u64
    }
}
