//! Mixtures of Gaussians with diagonal covariances:
//! `π(x) = Σ_k w_k N(x; μ_k, diag(v_k))`, `∇U(x) = Σ_k r_k(x)·(x − μ_k)/v_k` with
//! responsibilities `r_k(x) = w_k N(x; μ_k, v_k)/π(x)` (computed with log-sum-exp).

use super::{broadcast_dim, check_finite, Dist1, Potential, Target, Values};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Config of a mixture: K weights, K means and K variances, each a vector of length d or a
/// scalar broadcast over `dim`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixtureConfig {
    /// Dimension d ≥ 1; needed only when every mean and variance is a scalar, else it must
    /// agree with their lengths.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dim: Option<usize>,
    /// Component weights, positive, summing to 1 (within 1e-9).
    pub weights: Vec<f64>,
    /// Component means, K vectors of length d (or scalars).
    pub means: Vec<Values>,
    /// Component diagonal variances, K vectors of length d (or scalars), each > 0.
    pub vars: Vec<Values>,
}

impl MixtureConfig {
    /// The dimension the config gives (`dim`, else the length of the first vector among the
    /// means and variances), without validating it; 0 when none is given.
    pub fn dim(&self) -> usize {
        self.dim
            .or_else(|| {
                self.means
                    .iter()
                    .chain(&self.vars)
                    .find_map(Values::len_given)
            })
            .unwrap_or(0)
    }
}

/// A mixture of diagonal Gaussians, its components held as K vectors of length d (O(K·d)
/// memory).
#[derive(Clone, Debug, PartialEq)]
pub struct Mixture {
    c: MixtureConfig,
    weights: Vec<f64>,
    /// The components' means, variances and `ln` of the variances, K vectors of length d.
    means: Vec<Vec<f64>>,
    vars: Vec<Vec<f64>>,
    ln_vars: Vec<Vec<f64>>,
    /// `ln w_k`, and for one dimension the components' means, variances and their logs.
    ln_weights: Vec<f64>,
    means1: Vec<f64>,
    vars1: Vec<f64>,
    ln_vars1: Vec<f64>,
}

impl Mixture {
    /// ½N(−1, ¼) + ½N(1, ¼), the 1-D mixture of \[S\] §4.1.
    pub fn paper() -> Self {
        Mixture::from_config(&MixtureConfig {
            dim: None,
            weights: vec![0.5, 0.5],
            means: vec![vec![-1.0].into(), vec![1.0].into()],
            vars: vec![vec![0.25].into(), vec![0.25].into()],
        })
        .expect("the paper's mixture is valid")
    }

    /// Validates a config.
    pub fn from_config(c: &MixtureConfig) -> Result<Self> {
        let k = c.weights.len();
        if k == 0 {
            return Err(Error::Config("mixture: `weights` must not be empty".into()));
        }
        if c.means.len() != k || c.vars.len() != k {
            return Err(Error::Config(format!(
                "mixture: dimension mismatch: {k} weights but {} means and {} variance vectors",
                c.means.len(),
                c.vars.len()
            )));
        }
        let given: Vec<Option<usize>> = c
            .means
            .iter()
            .chain(&c.vars)
            .map(Values::len_given)
            .collect();
        if c.dim.is_none() {
            let d = given.iter().flatten().next().copied();
            if d == Some(0) || given.iter().flatten().any(|&n| Some(n) != d) {
                return Err(Error::Config(format!(
                    "mixture: dimension mismatch: every mean and variance vector must have the same non-zero length (the first has {})",
                    d.unwrap_or(0)
                )));
            }
        }
        let named: Vec<(&str, Option<usize>)> = given
            .iter()
            .enumerate()
            .map(|(i, n)| (if i < k { "means" } else { "vars" }, *n))
            .collect();
        let d = broadcast_dim("mixture", c.dim, &named)?;
        check_finite("mixture.weights", &c.weights)?;
        let expand = |what: &str, v: &[Values]| -> Result<Vec<Vec<f64>>> {
            v.iter().map(|x| x.expand(what, d)).collect()
        };
        let means = expand("mixture.means", &c.means)?;
        let vars = expand("mixture.vars", &c.vars)?;
        for v in means.iter().chain(&vars) {
            check_finite("mixture.means/vars", v)?;
        }
        if let Some(w) = c.weights.iter().find(|&&w| w <= 0.0) {
            return Err(Error::param("mixture.weights", w, "weights must be > 0"));
        }
        let sum: f64 = c.weights.iter().sum();
        if (sum - 1.0).abs() > 1e-9 {
            return Err(Error::param("sum of mixture.weights", sum, "must be 1"));
        }
        if let Some(v) = vars.iter().flatten().find(|&&v| v <= 0.0) {
            return Err(Error::param("mixture.vars", v, "variances must be > 0"));
        }
        let first = |v: &Vec<Vec<f64>>| v.iter().map(|x| x[0]).collect::<Vec<f64>>();
        Ok(Mixture {
            ln_weights: c.weights.iter().map(|w| libm::log(*w)).collect(),
            means1: first(&means),
            vars1: first(&vars),
            ln_vars1: vars.iter().map(|v| libm::log(v[0])).collect(),
            ln_vars: vars
                .iter()
                .map(|v| v.iter().map(|x| libm::log(*x)).collect())
                .collect(),
            weights: c.weights.clone(),
            means,
            vars,
            c: c.clone(),
        })
    }

    /// The config it was built from.
    pub fn config(&self) -> &MixtureConfig {
        &self.c
    }
}

impl Potential for Mixture {
    fn dim(&self) -> usize {
        self.means[0].len()
    }

    /// `∇U = Σ_k r_k(x)·(x − μ_k)/σ²_k` with responsibilities `r_k ∝ w_k·N(x; μ_k, σ²_k)`
    /// (computed from `l_k − max l`, `libm::exp`, the same bits on every platform; in one
    /// dimension exactly the kernels' `mixture_grad`). O(K·d) a call.
    fn grad(&self, x: &[f64], out: &mut [f64]) {
        let d = self.dim();
        if d == 1 {
            out[0] = lpmc_kernels::rules::stages::mixture_grad(
                &self.mixture_1d().expect("one dimension"),
                x[0],
            );
            return;
        }
        let logs: Vec<f64> = (0..self.weights.len())
            .map(|k| {
                let (m, v, lv) = (&self.means[k], &self.vars[k], &self.ln_vars[k]);
                self.ln_weights[k]
                    - 0.5
                        * (0..d)
                            .map(|i| (x[i] - m[i]).powi(2) / v[i] + lv[i])
                            .sum::<f64>()
            })
            .collect();
        let top = logs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = logs.iter().map(|l| libm::exp(l - top)).sum();
        out.iter_mut().for_each(|o| *o = 0.0);
        for (k, l) in logs.iter().enumerate() {
            let r = libm::exp(l - top) / z;
            for i in 0..d {
                out[i] += r * (x[i] - self.means[k][i]) / self.vars[k][i];
            }
        }
    }

    fn mixture_1d(&self) -> Option<lpmc_kernels::rules::Mixture<'_>> {
        (self.dim() == 1).then_some(lpmc_kernels::rules::Mixture {
            ln_weights: &self.ln_weights,
            means: &self.means1,
            vars: &self.vars1,
            ln_vars: &self.ln_vars1,
        })
    }
}

impl Target for Mixture {
    fn mean(&self) -> Vec<f64> {
        let d = self.dim();
        (0..d)
            .map(|i| {
                self.weights
                    .iter()
                    .zip(&self.means)
                    .map(|(w, m)| w * m[i])
                    .sum()
            })
            .collect()
    }

    fn cov(&self) -> Vec<f64> {
        let d = self.dim();
        let mu = self.mean();
        let mut c = vec![0.0; d * d];
        for (k, w) in self.weights.iter().enumerate() {
            let m = &self.means[k];
            for i in 0..d {
                for j in 0..d {
                    c[i * d + j] += w * (m[i] - mu[i]) * (m[j] - mu[j]);
                }
                c[i * d + i] += w * self.vars[k][i];
            }
        }
        c
    }

    /// The diagonal of [`Target::cov`] in O(K·d), accumulated in the same order.
    fn var(&self) -> Vec<f64> {
        let d = self.dim();
        let mu = self.mean();
        let mut c = vec![0.0; d];
        for (k, w) in self.weights.iter().enumerate() {
            let m = &self.means[k];
            for i in 0..d {
                c[i] += w * (m[i] - mu[i]) * (m[i] - mu[i]);
                c[i] += w * self.vars[k][i];
            }
        }
        c
    }

    fn projection(&self, a: &[f64]) -> Dist1 {
        let comp = |k: usize| {
            let m: f64 = a.iter().zip(&self.means[k]).map(|(a, m)| a * m).sum();
            let v: f64 = a.iter().zip(&self.vars[k]).map(|(a, v)| a * a * v).sum();
            (m, v.sqrt())
        };
        let (means, sds) = (0..self.weights.len()).map(comp).unzip();
        Dist1::Mixture {
            weights: self.weights.clone(),
            means,
            sds,
        }
    }

    /// The mixture of the components' i-th coordinates, O(K).
    fn marginal(&self, i: usize) -> Dist1 {
        Dist1::Mixture {
            weights: self.weights.clone(),
            means: self.means.iter().map(|m| m[i]).collect(),
            sds: self.vars.iter().map(|v| v[i].sqrt()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The gradient equals a central finite difference of U = −log π.
    #[test]
    fn gradient_matches_finite_difference() {
        let m = Mixture::from_config(&MixtureConfig {
            dim: None,
            weights: vec![0.3, 0.7],
            means: vec![vec![-1.0, 0.5].into(), vec![1.0, 2.0].into()],
            vars: vec![vec![0.25, 1.0].into(), vec![0.5, 0.3].into()],
        })
        .unwrap();
        let u = |x: &[f64]| {
            -(0..2)
                .map(|k| {
                    let c = &m;
                    c.weights[k]
                        * (0..2)
                            .map(|i| {
                                let s = c.vars[k][i].sqrt();
                                super::super::dist1::phi((x[i] - c.means[k][i]) / s) / s
                            })
                            .product::<f64>()
                })
                .sum::<f64>()
                .ln()
        };
        let x = [0.2, 1.1];
        let mut g = [0.0; 2];
        m.grad(&x, &mut g);
        for i in 0..2 {
            let h = 1e-6;
            let (mut xp, mut xm) = (x, x);
            xp[i] += h;
            xm[i] -= h;
            let fd = (u(&xp) - u(&xm)) / (2.0 * h);
            assert!((fd - g[i]).abs() < 1e-7, "{i}: {fd} vs {}", g[i]);
        }
    }

    #[test]
    fn bad_configs() {
        let c = |w: Vec<f64>, v: f64| MixtureConfig {
            dim: None,
            weights: w,
            means: vec![vec![0.0].into(), vec![1.0].into()],
            vars: vec![vec![v].into(), vec![1.0].into()],
        };
        assert!(Mixture::from_config(&c(vec![0.5, 0.5], 1.0)).is_ok());
        assert!(Mixture::from_config(&c(vec![0.5, 0.6], 1.0)).is_err());
        assert!(Mixture::from_config(&c(vec![1.5, -0.5], 1.0)).is_err());
        assert!(Mixture::from_config(&c(vec![0.5, 0.5], 0.0)).is_err());
        assert!(Mixture::from_config(&c(vec![1.0], 1.0)).is_err());
    }
}
