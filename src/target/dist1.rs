//! One-dimensional analytic laws: a Gaussian or a finite mixture of Gaussians.

use libm::erfc;
use serde::Serialize;

/// A 1-D law the evaluator can integrate against exactly.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dist1 {
    /// N(mean, sd²), `sd > 0`.
    Gaussian {
        /// Mean.
        mean: f64,
        /// Standard deviation, > 0.
        sd: f64,
    },
    /// Σ w_k N(mean_k, sd_k²), weights positive and summing to 1.
    Mixture {
        /// Component weights.
        weights: Vec<f64>,
        /// Component means.
        means: Vec<f64>,
        /// Component standard deviations, > 0.
        sds: Vec<f64>,
    },
}

/// Standard normal density.
pub fn phi(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Standard normal CDF, accurate in both tails (via `erfc`).
pub fn big_phi(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

impl Dist1 {
    /// The components as `(weight, mean, sd)`.
    pub fn components(&self) -> Vec<(f64, f64, f64)> {
        match self {
            Dist1::Gaussian { mean, sd } => vec![(1.0, *mean, *sd)],
            Dist1::Mixture {
                weights,
                means,
                sds,
            } => weights
                .iter()
                .zip(means)
                .zip(sds)
                .map(|((&w, &m), &s)| (w, m, s))
                .collect(),
        }
    }

    /// Density at `x`.
    pub fn pdf(&self, x: f64) -> f64 {
        self.components()
            .iter()
            .map(|&(w, m, s)| w * phi((x - m) / s) / s)
            .sum()
    }

    /// Distribution function at `x`.
    pub fn cdf(&self, x: f64) -> f64 {
        self.components()
            .iter()
            .map(|&(w, m, s)| w * big_phi((x - m) / s))
            .sum()
    }

    /// Mean.
    pub fn mean(&self) -> f64 {
        self.components().iter().map(|&(w, m, _)| w * m).sum()
    }

    /// Variance.
    pub fn var(&self) -> f64 {
        let mu = self.mean();
        self.components()
            .iter()
            .map(|&(w, m, s)| w * (s * s + (m - mu) * (m - mu)))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_and_cdf() {
        let d = Dist1::Mixture {
            weights: vec![0.5, 0.5],
            means: vec![-1.0, 1.0],
            sds: vec![0.5, 0.5],
        };
        assert!(d.mean().abs() < 1e-15);
        assert!((d.var() - 1.25).abs() < 1e-15);
        assert!((d.cdf(0.0) - 0.5).abs() < 1e-15);
        let e = big_phi(1.959963984540054) - 0.975;
        assert!(e.abs() < 1e-12, "{e}");
        // Φ(−37) ≈ φ(37)/37 ≈ 5.4e−300: the lower tail keeps its relative accuracy.
        let t = big_phi(-37.0);
        assert!(t > 5.0e-300 && t < 6.0e-300, "{t}");
        // The density integrates to 1 (trapezoid on a fine grid).
        let h = 1e-3;
        let total: f64 = (-8000..8000).map(|i| d.pdf(i as f64 * h) * h).sum();
        assert!((total - 1.0).abs() < 1e-9);
    }
}
