//! The mixture posterior of the \[S\] repository's script (\[S\]'s published code, its sampling script).
//!
//! Likelihood `p(x | θ) = ½N(x; θ, ¼) + ½N(x; −θ, ¼)`, no prior, and the script's potential
//! is the *mean* negative log-likelihood over its batch:
//! `U(θ) = (1/B)·Σ_i −log p(x_i | θ)`, so `∇U(θ) = (1/B)·Σ_i [4θ − 4x_i·tanh(4θx_i)]`
//! (the script's `4(θ − x) + 8x/(1 + e^{8θx})`, written stably). π(θ) ∝ exp(−U) is symmetric
//! with mean 0 (variance ≈ 2.5 for data drawn as here, 2.415 for the script's own draw) — not the data's ⅓/⅔ mixture the
//! script plots as "True".
//!
//! Data: `n` points, the first ⌊n/3⌋ from N(−1.5, 0.5²) and the next ⌊2n/3⌋ from
//! N(1.5, 0.5²) (the script's `scale=0.5`), Box–Muller normals of the stream
//! `(data_seed, 0)` in that order; then a Fisher–Yates shuffle (index j ↔ ⌊word·(j+1)/2^64⌋,
//! j from the last down, one word each, same stream) and the first `batch` points are the
//! batch. Minibatch gradients (`minibatch = m`) average m batch points drawn uniformly with
//! replacement (one word each, index ⌊word·B/2^64⌋).
//!
//! The exact law is 1-D and has no closed form: it is tabulated on the grid θ_j = j·h,
//! |θ_j| ≤ 12, h = 0.01, and represented as the mixture Σ_j w_j N(θ_j, h²) with
//! w_j ∝ exp(−U(θ_j)) — the density convolved with N(0, h²) (variance + 10⁻⁴), which the
//! evaluator integrates exactly.

use super::{Dist1, Potential, Target};
use crate::error::{Error, Result};
use lpmc_kernels::noise::box_muller;
use lpmc_kernels::{WordSource, Xoshiro};
use serde::{Deserialize, Serialize};

/// Config of the posterior target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PosteriorConfig {
    /// Data points generated (default 6000, as the script).
    #[serde(default = "default_n")]
    pub n: usize,
    /// Points in the batch the potential averages over (default 5000, as the script).
    #[serde(default = "default_batch")]
    pub batch: usize,
    /// Seed of the data (default 0).
    #[serde(default)]
    pub data_seed: u64,
    /// Minibatch size m (1..=batch) of the stochastic gradient; absent = the batch mean.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minibatch: Option<usize>,
}

fn default_n() -> usize {
    6000
}
fn default_batch() -> usize {
    5000
}

impl Default for PosteriorConfig {
    fn default() -> Self {
        PosteriorConfig {
            n: default_n(),
            batch: default_batch(),
            data_seed: 0,
            minibatch: None,
        }
    }
}

/// Grid step of the tabulated law.
const H: f64 = 0.01;
/// Half-width of the tabulated range.
const RANGE: f64 = 12.0;

/// The script's mixture posterior.
#[derive(Clone, Debug, PartialEq)]
pub struct Posterior {
    data: Vec<f64>,
    minibatch: Option<usize>,
    law: Dist1,
}

impl Posterior {
    /// Validates a config and generates the data.
    pub fn from_config(c: &PosteriorConfig) -> Result<Self> {
        if c.n < 3 {
            return Err(Error::param("posterior.n", c.n, "must be at least 3"));
        }
        let total = c.n / 3 + 2 * c.n / 3;
        if !(1..=total).contains(&c.batch) {
            return Err(Error::param(
                "posterior.batch",
                c.batch,
                format!("must be in 1..={total} (the points generated)"),
            ));
        }
        if let Some(m) = c.minibatch {
            if !(1..=c.batch).contains(&m) {
                return Err(Error::param(
                    "posterior.minibatch",
                    m,
                    format!("must be in 1..={}", c.batch),
                ));
            }
        }
        let mut bits = Xoshiro::new(c.data_seed, 0);
        let mut z = vec![0.0; total];
        box_muller(&mut bits, &mut z);
        let n1 = c.n / 3;
        let mut data: Vec<f64> = z
            .iter()
            .enumerate()
            .map(|(i, &z)| if i < n1 { -1.5 } else { 1.5 } + 0.5 * z)
            .collect();
        for j in (1..data.len()).rev() {
            let k = ((bits.next_word() as u128 * (j as u128 + 1)) >> 64) as usize;
            data.swap(j, k);
        }
        data.truncate(c.batch);
        let mut p = Posterior {
            data,
            minibatch: c.minibatch,
            law: Dist1::Gaussian { mean: 0.0, sd: 1.0 },
        };
        p.law = p.tabulate();
        Ok(p)
    }

    /// `U(θ)` up to a constant: `(1/B)·Σ −log(e^{−2(x−θ)²} + e^{−2(x+θ)²})`.
    pub fn potential(&self, t: f64) -> f64 {
        let s: f64 = self
            .data
            .iter()
            .map(|&x| {
                let (a, b) = (-2.0 * (x - t) * (x - t), -2.0 * (x + t) * (x + t));
                let m = a.max(b);
                -(m + ((a - m).exp() + (b - m).exp()).ln())
            })
            .sum();
        s / self.data.len() as f64
    }

    fn tabulate(&self) -> Dist1 {
        let k = (RANGE / H).round() as i64;
        let grid: Vec<f64> = (-k..=k).map(|j| j as f64 * H).collect();
        let u: Vec<f64> = grid.iter().map(|&t| self.potential(t)).collect();
        let top = u.iter().cloned().fold(f64::INFINITY, f64::min);
        let w: Vec<f64> = u.iter().map(|v| (top - v).exp()).collect();
        let z: f64 = w.iter().sum();
        // Keep the components that carry mass (the tails beyond 1e−300 are dropped).
        let keep: Vec<usize> = (0..grid.len()).filter(|&i| w[i] / z > 1e-16).collect();
        let zk: f64 = keep.iter().map(|&i| w[i]).sum();
        Dist1::Mixture {
            weights: keep.iter().map(|&i| w[i] / zk).collect(),
            means: keep.iter().map(|&i| grid[i]).collect(),
            sds: vec![H; keep.len()],
        }
    }

    fn grad_point(t: f64, x: f64) -> f64 {
        4.0 * t - 4.0 * x * (4.0 * t * x).tanh()
    }
}

impl Potential for Posterior {
    fn dim(&self) -> usize {
        1
    }

    fn grad(&self, x: &[f64], out: &mut [f64]) {
        let t = x[0];
        out[0] = self
            .data
            .iter()
            .map(|&d| Self::grad_point(t, d))
            .sum::<f64>()
            / self.data.len() as f64;
    }

    fn stochastic_grad(&self, x: &[f64], bits: &mut dyn WordSource, out: &mut [f64]) {
        let Some(m) = self.minibatch else {
            return self.grad(x, out);
        };
        let b = self.data.len() as u128;
        let s: f64 = (0..m)
            .map(|_| {
                let i = ((bits.next_word() as u128 * b) >> 64) as usize;
                Self::grad_point(x[0], self.data[i])
            })
            .sum();
        out[0] = s / m as f64;
    }
}

impl Target for Posterior {
    fn mean(&self) -> Vec<f64> {
        vec![self.law.mean()]
    }

    fn cov(&self) -> Vec<f64> {
        vec![self.law.var()]
    }

    fn projection(&self, a: &[f64]) -> Dist1 {
        match &self.law {
            Dist1::Mixture {
                weights,
                means,
                sds,
            } => Dist1::Mixture {
                weights: weights.clone(),
                means: means.iter().map(|m| a[0] * m).collect(),
                sds: sds.iter().map(|s| a[0].abs() * s).collect(),
            },
            g => g.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The law is symmetric with variance ≈ 2.5, and the gradient is the derivative of the
    /// potential (central difference, h = 1e−5: error O(h²)·U''' ≪ 1e−6). The variance
    /// depends on the random data: over data seeds 0..30 it is 2.502 with standard deviation
    /// 0.018 (the \[S\] script's own draw gives 2.415), so seed 0 must lie within 4 sd of
    /// 2.502.
    #[test]
    fn law_and_gradient() {
        let p = Posterior::from_config(&PosteriorConfig::default()).unwrap();
        assert!(p.mean()[0].abs() < 1e-9);
        let v = p.cov()[0];
        assert!((v - 2.502).abs() < 4.0 * 0.018, "{v}");
        for t in [-2.0, -0.3, 0.0, 0.7, 1.6] {
            let mut g = [0.0];
            p.grad(&[t], &mut g);
            let h = 1e-5;
            let fd = (p.potential(t + h) - p.potential(t - h)) / (2.0 * h);
            assert!((fd - g[0]).abs() < 1e-6, "{t}: {fd} vs {}", g[0]);
        }
        let bad = PosteriorConfig {
            batch: 7000,
            ..Default::default()
        };
        assert!(Posterior::from_config(&bad).is_err());
    }
}
