//! Targets: the distributions the samplers draw from.
//!
//! A target gives the gradient of its potential `U = −log π` (up to a constant), its exact
//! mean and covariance, and the exact law of any 1-D projection `⟨a, X⟩` as a [`Dist1`] — what
//! the Wasserstein evaluator compares samples with.
//!
//! Config form (JSON/TOML, the `target` field of a run config):
//! - `{"gaussian": {"mean": [..], "var": [..]}}` (diagonal) or
//!   `{"gaussian": {"mean": [..], "cov": [[..], ..]}}` (full, symmetric positive definite);
//! - `{"mixture": {"weights": [..], "means": [[..], ..], "vars": [[..], ..]}}` (components with
//!   diagonal covariances; weights positive, summing to 1);
//! - `"paper-mixture"`: ½N(−1, ¼) + ½N(1, ¼), the mixture of \[S\] §4.1;
//! - `{"regression": {"n": .., "dim": .., ...}}`: Bayesian linear regression on synthetic data
//!   ([`regression`]);
//! - `{"posterior": {"n": .., "batch": .., ...}}`: the \[S\] script's mixture posterior
//!   ([`posterior`]).

pub mod dist1;
pub mod gaussian;
pub mod mixture;
pub mod posterior;
pub mod regression;

pub use dist1::Dist1;
pub use gaussian::Gaussian;
pub use mixture::Mixture;
pub use posterior::Posterior;
pub use regression::Regression;

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// A distribution to sample: gradient of the potential, exact moments and projections.
pub trait Target: Send + Sync + std::fmt::Debug {
    /// Dimension d.
    fn dim(&self) -> usize;

    /// Writes `∇U(x)` into `out`, `U = −log π` (both of length d).
    fn grad(&self, x: &[f64], out: &mut [f64]);

    /// A stochastic estimate of `∇U(x)` into `out` (e.g. from a minibatch), drawing its random
    /// bits from `bits`; the default is the exact gradient and draws nothing.
    fn stochastic_grad(&self, x: &[f64], bits: &mut dyn lpmc_kernels::WordSource, out: &mut [f64]) {
        let _ = bits;
        self.grad(x, out)
    }

    /// For a Gaussian with diagonal covariance, its mean and the diagonal of its precision
    /// Σ⁻¹ (each of length d), so that `∇U(x)_i = prec_i·(x_i − mean_i)`; `None` otherwise
    /// (the default). The integer datapath computes this gradient in integers when both are
    /// exactly representable (see [`crate::sampler`]).
    fn diagonal_gaussian(&self) -> Option<(&[f64], &[f64])> {
        None
    }

    /// For a 1-D mixture of Gaussians, its components as the kernels compute the gradient in
    /// lanes (`lpmc_kernels::rules::stages::mixture_grad`, the same bits as
    /// [`Target::grad`]); `None` otherwise (the default).
    fn mixture_1d(&self) -> Option<lpmc_kernels::rules::Mixture<'_>> {
        None
    }

    /// Exact mean, length d.
    fn mean(&self) -> Vec<f64>;

    /// Exact covariance, d×d row-major.
    fn cov(&self) -> Vec<f64>;

    /// Exact law of `⟨a, X⟩` for a direction `a` of length d.
    fn projection(&self, a: &[f64]) -> Dist1;

    /// Exact law of coordinate `i`.
    fn marginal(&self, i: usize) -> Dist1 {
        let mut a = vec![0.0; self.dim()];
        a[i] = 1.0;
        self.projection(&a)
    }
}

/// The `target` section of a config.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum TargetConfig {
    /// A Gaussian with diagonal (`var`) or full (`cov`) covariance.
    Gaussian(gaussian::GaussianConfig),
    /// A mixture of Gaussians with diagonal covariances.
    Mixture(mixture::MixtureConfig),
    /// ½N(−1, ¼) + ½N(1, ¼) (\[S\] §4.1).
    PaperMixture,
    /// Bayesian linear regression on synthetic data (analytic Gaussian posterior).
    Regression(regression::RegressionConfig),
    /// The mixture posterior of the \[S\] repository's script.
    Posterior(posterior::PosteriorConfig),
}

impl TargetConfig {
    /// Validates the config and builds the target.
    pub fn build(&self) -> Result<Box<dyn Target>> {
        Ok(match self {
            TargetConfig::Gaussian(g) => Box::new(Gaussian::from_config(g)?),
            TargetConfig::Mixture(m) => Box::new(Mixture::from_config(m)?),
            TargetConfig::PaperMixture => Box::new(Mixture::paper()),
            TargetConfig::Regression(r) => Box::new(Regression::from_config(r)?),
            TargetConfig::Posterior(p) => Box::new(Posterior::from_config(p)?),
        })
    }
}

/// Checks that every number in `v` is finite; `what` names the field.
pub(crate) fn check_finite(what: &str, v: &[f64]) -> Result<()> {
    match v.iter().find(|x| !x.is_finite()) {
        Some(x) => Err(Error::param(what, x, "must be finite")),
        None => Ok(()),
    }
}
