//! The Wasserstein evaluator: how far a set of samples is from the law a sampler targets.
//!
//! - [`exact1d`]: exact W2 and W1 between a 1-D empirical law (optionally weighted, optionally
//!   on a fixed-point lattice) and an analytic Gaussian or Gaussian mixture ([`Dist1`]).
//! - [`empirical`]: exact 1-D W_p between two samples of any sizes (quantile matching), and
//!   W1 in the convention of scipy's `wasserstein_distance`.
//! - [`sliced`]: sliced W2 in d dimensions against the target's exact 1-D projections.
//! - [`gaussian`]: W2 between Gaussians (Bures), and of moment-matched fits.
//! - [`assignment`]: exact W2 between two equal-size d-dimensional samples by optimal
//!   assignment (n ≤ 5000).
//! - [`density`]: the papers' L2 distance between a histogram density estimate and the
//!   target density.
//! - [`bootstrap`]: uncertainty of a distance from a run with many chains.
//!
//! Conventions and derivations are in `docs/evaluator.md`; every distance is in the units of
//! the samples (W_p, not W_p^p).
//!
//! [`Dist1`]: crate::target::Dist1

pub mod assignment;
pub mod bootstrap;
pub mod density;
pub mod empirical;
pub mod exact1d;
pub mod gaussian;
pub mod sliced;

use crate::error::{Error, Result};

/// Checks that every sample is finite; `what` names the input in the error.
pub(crate) fn check_samples(what: &str, xs: &[f64]) -> Result<()> {
    if xs.is_empty() {
        return Err(Error::Config(format!(
            "{what}: no samples (need at least 1)"
        )));
    }
    match xs.iter().position(|x| !x.is_finite()) {
        Some(i) => Err(Error::param(
            format!("{what}[{i}]"),
            xs[i],
            "samples must be finite",
        )),
        None => Ok(()),
    }
}

/// Test-only numerical quadrature, independent of the closed forms it checks.
#[cfg(test)]
pub(crate) mod quad {
    pub use crate::exact::build::gauss_legendre;

    /// ∫_a^b f by `panels` panels of 20-point Gauss–Legendre.
    pub fn integrate(f: impl Fn(f64) -> f64, a: f64, b: f64, panels: usize) -> f64 {
        let (xs, ws) = gauss_legendre(20);
        let h = (b - a) / panels as f64;
        let mut total = 0.0;
        for p in 0..panels {
            let (lo, hi) = (a + p as f64 * h, a + (p + 1) as f64 * h);
            let (c, r) = (0.5 * (lo + hi), 0.5 * (hi - lo));
            total += r * xs
                .iter()
                .zip(&ws)
                .map(|(x, w)| w * f(c + r * x))
                .sum::<f64>();
        }
        total
    }

    /// Quantile of `law` at `p` by plain bisection on its CDF (80 halvings of [−10³, 10³]
    /// reach 2·10⁻²¹, below one ulp of any quantile).
    pub fn bisect_quantile(law: &crate::target::Dist1, p: f64) -> f64 {
        let (mut lo, mut hi) = (-1e3, 1e3);
        for _ in 0..80 {
            let mid = 0.5 * (lo + hi);
            if law.cdf(mid) < p {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    }
}
