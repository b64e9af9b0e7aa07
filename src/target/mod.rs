//! Targets: the distributions the samplers draw from.
//!
//! A target gives the gradient of its potential `U = −log π` (up to a constant), its exact
//! mean and covariance, and the exact law of any 1-D projection `⟨a, X⟩` as a [`Dist1`] — what
//! the Wasserstein evaluator compares samples with.
//!
//! Config form (JSON/TOML, the `target` field of a run config):
//! - `{"gaussian": {"mean": [..], "var": [..]}}` (diagonal) or
//!   `{"gaussian": {"mean": [..], "cov": [[..], ..]}}` (full, symmetric positive definite);
//!   `mean` and `var` may be scalars broadcast over a `dim` field
//!   (`{"gaussian": {"dim": 1000000, "mean": 0.0, "var": 1.0}}`);
//! - `{"mixture": {"weights": [..], "means": [[..], ..], "vars": [[..], ..]}}` (components with
//!   diagonal covariances; weights positive, summing to 1); each component's mean and
//!   variance may be a scalar broadcast over `dim`;
//! - `"paper-mixture"`: ½N(−1, ¼) + ½N(1, ¼), the mixture of \[S\] §4.1;
//! - `{"regression": {"n": .., "dim": .., ...}}`: Bayesian linear regression on synthetic data
//!   ([`regression`]);
//! - `{"posterior": {"n": .., "batch": .., ...}}`: the \[S\] script's mixture posterior
//!   ([`posterior`]);
//! - `{"classifier": {"data": "mnist", "model": "logistic"}}`: a Bayesian classifier on real
//!   data ([`crate::classifier`]), which has no exact law.

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

/// The gradient side of a distribution to sample: its potential `U = −log π` (up to a
/// constant) as the samplers' drivers consume it. Every [`Target`] is one; a classifier's
/// posterior ([`crate::classifier`]) is one without an exact law.
pub trait Potential: Send + Sync + std::fmt::Debug {
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
    /// [`Potential::grad`]); `None` otherwise (the default).
    fn mixture_1d(&self) -> Option<lpmc_kernels::rules::Mixture<'_>> {
        None
    }
}

/// A distribution to sample with an exact law: its [`Potential`], exact moments and the exact
/// law of every 1-D projection, which the Wasserstein evaluator compares samples with.
pub trait Target: Potential {
    /// Exact mean, length d.
    fn mean(&self) -> Vec<f64>;

    /// Exact covariance, d×d row-major. O(d²) memory: for large d use [`Target::var`] and
    /// [`Target::has_diagonal_cov`].
    fn cov(&self) -> Vec<f64>;

    /// Exact variance of every coordinate (the diagonal of [`Target::cov`], the same bits),
    /// length d. The default reads it off the d×d covariance; targets override it in O(d).
    fn var(&self) -> Vec<f64> {
        let d = self.dim();
        let c = self.cov();
        (0..d).map(|i| c[i * d + i]).collect()
    }

    /// Whether the covariance is diagonal (so that [`Target::var`] is all of it); `false`
    /// by default.
    fn has_diagonal_cov(&self) -> bool {
        false
    }

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
    /// A Bayesian classifier on real data ([`crate::classifier`]): no exact law, scored by
    /// its predictions (`lpmc run` only).
    Classifier(crate::classifier::ClassifierConfig),
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
            TargetConfig::Classifier(_) => {
                return Err(Error::Config(
                    "a classifier target has no exact law to evaluate against; `lpmc run` samples it and scores its predictions (this command takes the analytic targets)".into(),
                ))
            }
        })
    }

    /// The temperature T of the sampled law `exp(−U/T)`: 1, or `1/N` for a classifier
    /// (its potential is the per-datum loss, [`crate::classifier`]).
    pub fn temperature(&self) -> f64 {
        match self {
            TargetConfig::Classifier(c) => c.temperature(),
            _ => 1.0,
        }
    }
}

/// A config value given either as one number broadcast over every dimension or as one
/// number per dimension (`0.0` or `[0.0, 1.0]`). Serializes as it was given.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Values {
    /// One number for every dimension.
    Scalar(f64),
    /// One number per dimension.
    Vector(Vec<f64>),
}

impl From<Vec<f64>> for Values {
    fn from(v: Vec<f64>) -> Self {
        Values::Vector(v)
    }
}

impl<'de> Deserialize<'de> for Values {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Values;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number or an array of numbers")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<Values, E> {
                Ok(Values::Scalar(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Values, E> {
                Ok(Values::Scalar(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Values, E> {
                Ok(Values::Scalar(v as f64))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Values, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
                while let Some(x) = seq.next_element::<f64>()? {
                    out.push(x);
                }
                Ok(Values::Vector(out))
            }
        }
        de.deserialize_any(V)
    }
}

impl Values {
    /// The number of entries it fixes: `Some(len)` for a vector, `None` for a scalar.
    pub fn len_given(&self) -> Option<usize> {
        match self {
            Values::Scalar(_) => None,
            Values::Vector(v) => Some(v.len()),
        }
    }

    /// The `d` values, a scalar broadcast; `what` names the field in the error when a vector
    /// does not have `d` entries.
    pub fn expand(&self, what: &str, d: usize) -> Result<Vec<f64>> {
        match self {
            Values::Scalar(x) => Ok(vec![*x; d]),
            Values::Vector(v) if v.len() == d => Ok(v.clone()),
            Values::Vector(v) => Err(Error::Config(format!(
                "dimension mismatch: `{what}` has {} entries but the target has dimension {d}",
                v.len()
            ))),
        }
    }
}

/// The dimension of a target whose vectors may be broadcast scalars: `dim` when given, else
/// the length of the first vector among `given`; every vector must agree with it. `what`
/// names the target in errors.
pub(crate) fn broadcast_dim(
    what: &str,
    dim: Option<usize>,
    given: &[(&str, Option<usize>)],
) -> Result<usize> {
    let d = match dim.or_else(|| given.iter().find_map(|g| g.1)) {
        Some(d) => d,
        None => {
            return Err(Error::Config(format!(
                "{what}: give `dim` (the dimension, ≥ 1) when every mean and variance is a scalar"
            )))
        }
    };
    if d == 0 {
        return Err(Error::param(
            format!("{what}.dim"),
            0,
            "the dimension must be at least 1 (or give a non-empty `mean`)",
        ));
    }
    for (name, len) in given {
        if let Some(n) = len {
            if *n != d {
                return Err(Error::Config(format!(
                    "{what}: dimension mismatch: the dimension is {d} but `{name}` has {n} entries"
                )));
            }
        }
    }
    Ok(d)
}

/// Checks that every number in `v` is finite; `what` names the field.
pub(crate) fn check_finite(what: &str, v: &[f64]) -> Result<()> {
    match v.iter().find(|x| !x.is_finite()) {
        Some(x) => Err(Error::param(what, x, "must be finite")),
        None => Ok(()),
    }
}
