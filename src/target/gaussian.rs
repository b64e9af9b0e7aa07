//! Gaussian targets N(μ, Σ): `U(x) = ½(x − μ)ᵀΣ⁻¹(x − μ)`, `∇U(x) = Σ⁻¹(x − μ)`.

use super::{check_finite, Dist1, Target};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Config of a Gaussian: `mean` and exactly one of `var` (diagonal) or `cov` (full).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GaussianConfig {
    /// Mean vector, length d.
    pub mean: Vec<f64>,
    /// Diagonal variances, length d, each > 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub var: Option<Vec<f64>>,
    /// Full covariance, d rows of length d, symmetric positive definite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cov: Option<Vec<Vec<f64>>>,
}

/// N(μ, Σ) with Σ symmetric positive definite.
#[derive(Clone, Debug, PartialEq)]
pub struct Gaussian {
    mean: Vec<f64>,
    /// Σ, row-major.
    cov: Vec<f64>,
    /// Σ⁻¹, row-major.
    prec: Vec<f64>,
    /// Whether Σ is diagonal (then `∇U` is a per-coordinate scale).
    diagonal: bool,
    /// The diagonal of Σ⁻¹.
    prec_diag: Vec<f64>,
}

impl Gaussian {
    /// N(mean, diag(var)).
    pub fn diagonal(mean: Vec<f64>, var: Vec<f64>) -> Result<Self> {
        Self::from_config(&GaussianConfig {
            mean,
            var: Some(var),
            cov: None,
        })
    }

    /// Validates a config: dimensions agree, values finite, variances positive, Σ SPD.
    pub fn from_config(c: &GaussianConfig) -> Result<Self> {
        let d = c.mean.len();
        if d == 0 {
            return Err(Error::Config("gaussian: `mean` must not be empty".into()));
        }
        check_finite("gaussian.mean", &c.mean)?;
        let (cov, diagonal) = match (&c.var, &c.cov) {
            (Some(v), None) => {
                if v.len() != d {
                    return Err(Error::Config(format!(
                        "gaussian: dimension mismatch: `mean` has {d} entries but `var` has {}",
                        v.len()
                    )));
                }
                check_finite("gaussian.var", v)?;
                if let Some(x) = v.iter().find(|&&x| x <= 0.0) {
                    return Err(Error::param("gaussian.var", x, "variances must be > 0"));
                }
                let mut m = vec![0.0; d * d];
                for i in 0..d {
                    m[i * d + i] = v[i];
                }
                (m, true)
            }
            (None, Some(rows)) => {
                if rows.len() != d || rows.iter().any(|r| r.len() != d) {
                    return Err(Error::Config(format!(
                        "gaussian: dimension mismatch: `mean` has {d} entries, so `cov` must be {d}×{d}"
                    )));
                }
                let m: Vec<f64> = rows.concat();
                check_finite("gaussian.cov", &m)?;
                for i in 0..d {
                    for j in 0..i {
                        if (m[i * d + j] - m[j * d + i]).abs() > 1e-12 * (1.0 + m[i * d + j].abs())
                        {
                            return Err(Error::Config(format!(
                                "gaussian: `cov` is not symmetric at ({i}, {j})"
                            )));
                        }
                    }
                }
                let diagonal = (0..d).all(|i| (0..d).all(|j| i == j || m[i * d + j] == 0.0));
                (m, diagonal)
            }
            _ => {
                return Err(Error::Config(
                    "gaussian: give exactly one of `var` (diagonal) or `cov` (full)".into(),
                ))
            }
        };
        let not_pd = || Error::Config("gaussian: `cov` is not positive definite".into());
        let prec = if diagonal {
            // 1/σ², correctly rounded (the Cholesky route can be off in the last bit, e.g. for
            // σ² = 2, and costs O(d³)), so that exactly representable precisions stay exact.
            let mut prec = vec![0.0; d * d];
            for i in 0..d {
                let v = cov[i * d + i];
                if v <= 0.0 {
                    return Err(not_pd());
                }
                prec[i * d + i] = 1.0 / v;
            }
            prec
        } else {
            spd_inverse(&cov, d).ok_or_else(not_pd)?
        };
        let prec_diag = (0..d).map(|i| prec[i * d + i]).collect();
        Ok(Gaussian {
            mean: c.mean.clone(),
            cov,
            prec,
            diagonal,
            prec_diag,
        })
    }

    /// Whether Σ is diagonal.
    pub fn is_diagonal(&self) -> bool {
        self.diagonal
    }

    /// Σ⁻¹, row-major.
    pub fn precision(&self) -> &[f64] {
        &self.prec
    }
}

/// Inverse of a symmetric positive definite matrix by Cholesky, `None` if not SPD.
pub(crate) fn spd_inverse(a: &[f64], d: usize) -> Option<Vec<f64>> {
    // A = L Lᵀ.
    let mut l = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..=i {
            let s: f64 = a[i * d + j] - (0..j).map(|k| l[i * d + k] * l[j * d + k]).sum::<f64>();
            if i == j {
                if s <= 0.0 || !s.is_finite() {
                    return None;
                }
                l[i * d + i] = s.sqrt();
            } else {
                l[i * d + j] = s / l[j * d + j];
            }
        }
    }
    // Solve L Lᵀ X = I column by column.
    let mut inv = vec![0.0; d * d];
    for c in 0..d {
        let mut y = vec![0.0; d];
        for i in 0..d {
            let s: f64 = (c == i) as u8 as f64 - (0..i).map(|k| l[i * d + k] * y[k]).sum::<f64>();
            y[i] = s / l[i * d + i];
        }
        for i in (0..d).rev() {
            let s: f64 = y[i]
                - (i + 1..d)
                    .map(|k| l[k * d + i] * inv[k * d + c])
                    .sum::<f64>();
            inv[i * d + c] = s / l[i * d + i];
        }
    }
    Some(inv)
}

impl Target for Gaussian {
    fn dim(&self) -> usize {
        self.mean.len()
    }

    fn grad(&self, x: &[f64], out: &mut [f64]) {
        let d = self.dim();
        if self.diagonal {
            for i in 0..d {
                out[i] = self.prec[i * d + i] * (x[i] - self.mean[i]);
            }
        } else {
            for i in 0..d {
                out[i] = (0..d)
                    .map(|j| self.prec[i * d + j] * (x[j] - self.mean[j]))
                    .sum();
            }
        }
    }

    fn diagonal_gaussian(&self) -> Option<(&[f64], &[f64])> {
        self.diagonal
            .then_some((self.mean.as_slice(), self.prec_diag.as_slice()))
    }

    fn mean(&self) -> Vec<f64> {
        self.mean.clone()
    }

    fn cov(&self) -> Vec<f64> {
        self.cov.clone()
    }

    fn projection(&self, a: &[f64]) -> Dist1 {
        let d = self.dim();
        let mean = a.iter().zip(&self.mean).map(|(a, m)| a * m).sum();
        let var: f64 = (0..d)
            .flat_map(|i| (0..d).map(move |j| (i, j)))
            .map(|(i, j)| a[i] * self.cov[i * d + j] * a[j])
            .sum();
        Dist1::Gaussian {
            mean,
            sd: var.sqrt(),
        }
    }

    /// N(μᵢ, Σᵢᵢ), read off in O(1) (the default goes through an O(d²) projection).
    fn marginal(&self, i: usize) -> Dist1 {
        let d = self.dim();
        Dist1::Gaussian {
            mean: self.mean[i],
            sd: self.cov[i * d + i].sqrt(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_cov_gradient_and_projection() {
        let g = Gaussian::from_config(&GaussianConfig {
            mean: vec![1.0, -1.0],
            var: None,
            cov: Some(vec![vec![2.0, 0.5], vec![0.5, 1.0]]),
        })
        .unwrap();
        // Σ⁻¹ = 1/1.75 [[1, −0.5], [−0.5, 2]].
        let mut out = [0.0; 2];
        g.grad(&[2.0, -1.0], &mut out);
        assert!((out[0] - 1.0 / 1.75).abs() < 1e-14 && (out[1] + 0.5 / 1.75).abs() < 1e-14);
        let p = g.projection(&[1.0, 1.0]);
        assert_eq!(
            p,
            Dist1::Gaussian {
                mean: 0.0,
                sd: 4f64.sqrt()
            }
        );
    }

    #[test]
    fn bad_configs() {
        let bad = |s: &str| {
            serde_json::from_str::<GaussianConfig>(s)
                .map_err(|e| e.to_string())
                .and_then(|c| Gaussian::from_config(&c).map_err(|e| e.to_string()))
        };
        assert!(bad(r#"{"mean": [0.0], "var": [0.0]}"#).is_err());
        assert!(bad(r#"{"mean": [0.0], "var": [-1.0]}"#).is_err());
        assert!(bad(r#"{"mean": [0.0, 1.0], "var": [1.0]}"#).is_err());
        assert!(bad(r#"{"mean": [0.0], "var": [1.0], "cov": [[1.0]]}"#).is_err());
        assert!(bad(r#"{"mean": [0.0, 0.0], "cov": [[1.0, 2.0], [2.0, 1.0]]}"#).is_err());
        assert!(bad(r#"{"mean": [0.0], "var": [1.0], "extra": 1}"#).is_err());
        assert!(bad(r#"{"mean": [0.0], "var": [1.0]}"#).is_ok());
    }
}
