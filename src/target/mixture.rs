//! Mixtures of Gaussians with diagonal covariances:
//! `π(x) = Σ_k w_k N(x; μ_k, diag(v_k))`, `∇U(x) = Σ_k r_k(x)·(x − μ_k)/v_k` with
//! responsibilities `r_k(x) = w_k N(x; μ_k, v_k)/π(x)` (computed with log-sum-exp).

use super::{check_finite, Dist1, Target};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Config of a mixture: K weights, K mean vectors and K variance vectors of length d.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixtureConfig {
    /// Component weights, positive, summing to 1 (within 1e-9).
    pub weights: Vec<f64>,
    /// Component means, K vectors of length d.
    pub means: Vec<Vec<f64>>,
    /// Component diagonal variances, K vectors of length d, each > 0.
    pub vars: Vec<Vec<f64>>,
}

/// A mixture of diagonal Gaussians.
#[derive(Clone, Debug, PartialEq)]
pub struct Mixture {
    c: MixtureConfig,
    /// `ln w_k`, and for one dimension the components' means, variances and their logs.
    ln_weights: Vec<f64>,
    means1: Vec<f64>,
    vars1: Vec<f64>,
    ln_vars1: Vec<f64>,
}

impl Mixture {
    /// ½N(−1, ¼) + ½N(1, ¼), the 1-D mixture of \[S\] §4.1.
    pub fn paper() -> Self {
        Mixture::of(MixtureConfig {
            weights: vec![0.5, 0.5],
            means: vec![vec![-1.0], vec![1.0]],
            vars: vec![vec![0.25], vec![0.25]],
        })
    }

    /// The mixture of a validated config, with its logarithms computed once.
    fn of(c: MixtureConfig) -> Self {
        let first = |v: &Vec<Vec<f64>>| v.iter().map(|x| x[0]).collect::<Vec<f64>>();
        Mixture {
            ln_weights: c.weights.iter().map(|w| libm::log(*w)).collect(),
            means1: first(&c.means),
            vars1: first(&c.vars),
            ln_vars1: c.vars.iter().map(|v| libm::log(v[0])).collect(),
            c,
        }
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
        let d = c.means[0].len();
        if d == 0 || c.means.iter().chain(&c.vars).any(|v| v.len() != d) {
            return Err(Error::Config(format!(
                "mixture: dimension mismatch: every mean and variance vector must have the same non-zero length (the first mean has {d})"
            )));
        }
        check_finite("mixture.weights", &c.weights)?;
        for v in c.means.iter().chain(&c.vars) {
            check_finite("mixture.means/vars", v)?;
        }
        if let Some(w) = c.weights.iter().find(|&&w| w <= 0.0) {
            return Err(Error::param("mixture.weights", w, "weights must be > 0"));
        }
        let sum: f64 = c.weights.iter().sum();
        if (sum - 1.0).abs() > 1e-9 {
            return Err(Error::param("sum of mixture.weights", sum, "must be 1"));
        }
        if let Some(v) = c.vars.iter().flatten().find(|&&v| v <= 0.0) {
            return Err(Error::param("mixture.vars", v, "variances must be > 0"));
        }
        Ok(Mixture::of(c.clone()))
    }

    /// The config it was built from.
    pub fn config(&self) -> &MixtureConfig {
        &self.c
    }
}

impl Target for Mixture {
    fn dim(&self) -> usize {
        self.c.means[0].len()
    }

    /// `∇U = Σ_k r_k(x)·(x − μ_k)/σ²_k` with responsibilities `r_k ∝ w_k·N(x; μ_k, σ²_k)`
    /// (computed from `l_k − max l`, `libm::exp`, the same bits on every platform; in one
    /// dimension exactly the kernels' `mixture_grad`).
    fn grad(&self, x: &[f64], out: &mut [f64]) {
        let d = self.dim();
        if d == 1 {
            out[0] = lpmc_kernels::rules::stages::mixture_grad(
                &self.mixture_1d().expect("one dimension"),
                x[0],
            );
            return;
        }
        let logs: Vec<f64> = (0..self.c.weights.len())
            .map(|k| {
                let (m, v) = (&self.c.means[k], &self.c.vars[k]);
                self.ln_weights[k]
                    - 0.5
                        * (0..d)
                            .map(|i| (x[i] - m[i]).powi(2) / v[i] + libm::log(v[i]))
                            .sum::<f64>()
            })
            .collect();
        let top = logs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = logs.iter().map(|l| libm::exp(l - top)).sum();
        out.iter_mut().for_each(|o| *o = 0.0);
        for (k, l) in logs.iter().enumerate() {
            let r = libm::exp(l - top) / z;
            for i in 0..d {
                out[i] += r * (x[i] - self.c.means[k][i]) / self.c.vars[k][i];
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

    fn mean(&self) -> Vec<f64> {
        let d = self.dim();
        (0..d)
            .map(|i| {
                self.c
                    .weights
                    .iter()
                    .zip(&self.c.means)
                    .map(|(w, m)| w * m[i])
                    .sum()
            })
            .collect()
    }

    fn cov(&self) -> Vec<f64> {
        let d = self.dim();
        let mu = self.mean();
        let mut c = vec![0.0; d * d];
        for (k, w) in self.c.weights.iter().enumerate() {
            let m = &self.c.means[k];
            for i in 0..d {
                for j in 0..d {
                    c[i * d + j] += w * (m[i] - mu[i]) * (m[j] - mu[j]);
                }
                c[i * d + i] += w * self.c.vars[k][i];
            }
        }
        c
    }

    fn projection(&self, a: &[f64]) -> Dist1 {
        let comp = |k: usize| {
            let m: f64 = a.iter().zip(&self.c.means[k]).map(|(a, m)| a * m).sum();
            let v: f64 = a.iter().zip(&self.c.vars[k]).map(|(a, v)| a * a * v).sum();
            (m, v.sqrt())
        };
        let (means, sds) = (0..self.c.weights.len()).map(comp).unzip();
        Dist1::Mixture {
            weights: self.c.weights.clone(),
            means,
            sds,
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
            weights: vec![0.3, 0.7],
            means: vec![vec![-1.0, 0.5], vec![1.0, 2.0]],
            vars: vec![vec![0.25, 1.0], vec![0.5, 0.3]],
        })
        .unwrap();
        let u = |x: &[f64]| {
            -(0..2)
                .map(|k| {
                    let c = &m.c;
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
            weights: w,
            means: vec![vec![0.0], vec![1.0]],
            vars: vec![vec![v], vec![1.0]],
        };
        assert!(Mixture::from_config(&c(vec![0.5, 0.5], 1.0)).is_ok());
        assert!(Mixture::from_config(&c(vec![0.5, 0.6], 1.0)).is_err());
        assert!(Mixture::from_config(&c(vec![1.5, -0.5], 1.0)).is_err());
        assert!(Mixture::from_config(&c(vec![0.5, 0.5], 0.0)).is_err());
        assert!(Mixture::from_config(&c(vec![1.0], 1.0)).is_err());
    }
}
