//! Gaussian targets N(μ, Σ): `U(x) = ½(x − μ)ᵀΣ⁻¹(x − μ)`, `∇U(x) = Σ⁻¹(x − μ)`.

use super::{broadcast_dim, check_finite, Dist1, Potential, Target, Values};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Config of a Gaussian: `mean` and exactly one of `var` (diagonal) or `cov` (full). `mean`
/// and `var` are arrays of length d or scalars broadcast over `dim`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GaussianConfig {
    /// Dimension d ≥ 1; needed only when `mean` and `var` are both scalars, else it must
    /// agree with their lengths.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dim: Option<usize>,
    /// Mean vector (length d) or one mean for every coordinate.
    pub mean: Values,
    /// Diagonal variances (length d) or one variance for every coordinate, each > 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub var: Option<Values>,
    /// Full covariance, d rows of length d, symmetric positive definite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cov: Option<Vec<Vec<f64>>>,
}

impl GaussianConfig {
    /// The dimension the config gives (`dim`, else the length of `mean`, `var` or `cov`),
    /// without validating it; 0 when none is given.
    pub fn dim(&self) -> usize {
        self.dim
            .or(self.mean.len_given())
            .or(self.var.as_ref().and_then(Values::len_given))
            .or(self.cov.as_ref().map(Vec::len))
            .unwrap_or(0)
    }
}

/// N(μ, Σ) with Σ symmetric positive definite. A diagonal Σ is held as vectors (O(d)
/// memory); a full one, given only as `cov`, as Σ, its Cholesky factor L (Σ = LLᵀ) and Σ⁻¹
/// (O(d²), priced by the memory check before it is built).
#[derive(Clone, Debug, PartialEq)]
pub struct Gaussian {
    mean: Vec<f64>,
    /// The variances Σᵢᵢ.
    var: Vec<f64>,
    /// The diagonal of Σ⁻¹ (for a diagonal Σ, 1/Σᵢᵢ correctly rounded).
    prec_diag: Vec<f64>,
    /// A full covariance; `None` when Σ is diagonal.
    full: Option<Full>,
}

/// The d×d matrices of a Gaussian with a full covariance, row-major.
#[derive(Clone, Debug, PartialEq)]
struct Full {
    cov: Vec<f64>,
    /// Lower Cholesky factor L of Σ.
    chol: Vec<f64>,
    prec: Vec<f64>,
}

impl Gaussian {
    /// N(mean, diag(var)).
    pub fn diagonal(mean: Vec<f64>, var: Vec<f64>) -> Result<Self> {
        Self::from_config(&GaussianConfig {
            dim: None,
            mean: mean.into(),
            var: Some(var.into()),
            cov: None,
        })
    }

    /// Validates a config: dimensions agree, values finite, variances positive, Σ SPD.
    pub fn from_config(c: &GaussianConfig) -> Result<Self> {
        if c.dim.is_none() && c.mean.len_given() == Some(0) {
            return Err(Error::Config("gaussian: `mean` must not be empty".into()));
        }
        let d = match (&c.var, &c.cov) {
            (Some(v), None) => {
                if let (None, Some(m), Some(n)) = (c.dim, c.mean.len_given(), v.len_given()) {
                    if m != n {
                        return Err(Error::Config(format!(
                            "gaussian: dimension mismatch: `mean` has {m} entries but `var` has {n}"
                        )));
                    }
                }
                broadcast_dim(
                    "gaussian",
                    c.dim,
                    &[("mean", c.mean.len_given()), ("var", v.len_given())],
                )?
            }
            (None, Some(rows)) => broadcast_dim(
                "gaussian",
                c.dim,
                &[("mean", c.mean.len_given()), ("cov", Some(rows.len()))],
            )?,
            _ => {
                return Err(Error::Config(
                    "gaussian: give exactly one of `var` (diagonal) or `cov` (full)".into(),
                ))
            }
        };
        let mean = c.mean.expand("gaussian.mean", d)?;
        check_finite("gaussian.mean", &mean)?;
        match (&c.var, &c.cov) {
            (Some(v), None) => {
                let var = v.expand("gaussian.var", d)?;
                check_finite("gaussian.var", &var)?;
                if let Some(x) = var.iter().find(|&&x| x <= 0.0) {
                    return Err(Error::param("gaussian.var", x, "variances must be > 0"));
                }
                Ok(Self::of_diagonal(mean, var))
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
                let not_pd = || Error::Config("gaussian: `cov` is not positive definite".into());
                let diagonal = (0..d).all(|i| (0..d).all(|j| i == j || m[i * d + j] == 0.0));
                let var: Vec<f64> = (0..d).map(|i| m[i * d + i]).collect();
                if diagonal {
                    if var.iter().any(|&v| v <= 0.0) {
                        return Err(not_pd());
                    }
                    return Ok(Self::of_diagonal(mean, var));
                }
                let chol = cholesky(&m, d).ok_or_else(not_pd)?;
                let prec = spd_inverse_of_factor(&chol, d);
                Ok(Gaussian {
                    prec_diag: (0..d).map(|i| prec[i * d + i]).collect(),
                    mean,
                    var,
                    full: Some(Full { cov: m, chol, prec }),
                })
            }
            _ => unreachable!("checked above"),
        }
    }

    /// N(mean, diag(var)) from validated vectors.
    fn of_diagonal(mean: Vec<f64>, var: Vec<f64>) -> Self {
        // 1/σ², correctly rounded (the Cholesky route can be off in the last bit, e.g. for
        // σ² = 2, and costs O(d³)), so that exactly representable precisions stay exact.
        let prec_diag = var.iter().map(|v| 1.0 / v).collect();
        Gaussian {
            mean,
            var,
            prec_diag,
            full: None,
        }
    }

    /// Whether Σ is diagonal.
    pub fn is_diagonal(&self) -> bool {
        self.full.is_none()
    }

    /// Σ⁻¹, row-major (d×d; built on each call for a diagonal Σ).
    pub fn precision(&self) -> Vec<f64> {
        match &self.full {
            Some(f) => f.prec.clone(),
            None => diag_matrix(&self.prec_diag),
        }
    }

    /// The lower Cholesky factor L of Σ = LLᵀ, row-major d×d, for a full covariance; `None`
    /// when Σ is diagonal (then L = diag(√Σᵢᵢ)).
    pub fn cholesky_factor(&self) -> Option<&[f64]> {
        self.full.as_ref().map(|f| f.chol.as_slice())
    }
}

/// The d×d row-major matrix with diagonal `v`.
fn diag_matrix(v: &[f64]) -> Vec<f64> {
    let d = v.len();
    let mut m = vec![0.0; d * d];
    for (i, x) in v.iter().enumerate() {
        m[i * d + i] = *x;
    }
    m
}

/// Lower Cholesky factor L of a symmetric positive definite `a` (d×d row-major, A = LLᵀ),
/// `None` if `a` is not SPD.
fn cholesky(a: &[f64], d: usize) -> Option<Vec<f64>> {
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
    Some(l)
}

/// (LLᵀ)⁻¹ from the lower Cholesky factor `l` (d×d row-major), column by column.
fn spd_inverse_of_factor(l: &[f64], d: usize) -> Vec<f64> {
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
    inv
}

/// Inverse of a symmetric positive definite matrix by Cholesky, `None` if not SPD.
pub(crate) fn spd_inverse(a: &[f64], d: usize) -> Option<Vec<f64>> {
    cholesky(a, d).map(|l| spd_inverse_of_factor(&l, d))
}

impl Potential for Gaussian {
    fn dim(&self) -> usize {
        self.mean.len()
    }

    /// `∇U(x) = Σ⁻¹(x − μ)`: per coordinate for a diagonal Σ (O(d)), a d×d product otherwise.
    fn grad(&self, x: &[f64], out: &mut [f64]) {
        let d = self.dim();
        match &self.full {
            None => {
                for i in 0..d {
                    out[i] = self.prec_diag[i] * (x[i] - self.mean[i]);
                }
            }
            Some(f) => {
                for i in 0..d {
                    out[i] = (0..d)
                        .map(|j| f.prec[i * d + j] * (x[j] - self.mean[j]))
                        .sum();
                }
            }
        }
    }

    fn diagonal_gaussian(&self) -> Option<(&[f64], &[f64])> {
        self.is_diagonal()
            .then_some((self.mean.as_slice(), self.prec_diag.as_slice()))
    }
}

impl Target for Gaussian {
    fn mean(&self) -> Vec<f64> {
        self.mean.clone()
    }

    fn cov(&self) -> Vec<f64> {
        match &self.full {
            Some(f) => f.cov.clone(),
            None => diag_matrix(&self.var),
        }
    }

    fn var(&self) -> Vec<f64> {
        self.var.clone()
    }

    fn has_diagonal_cov(&self) -> bool {
        self.is_diagonal()
    }

    /// `N(aᵀμ, aᵀΣa)`: O(d) for a diagonal Σ, O(d²) otherwise.
    fn projection(&self, a: &[f64]) -> Dist1 {
        let d = self.dim();
        let mean = a.iter().zip(&self.mean).map(|(a, m)| a * m).sum();
        let var: f64 = match &self.full {
            // The same sum, in the same order, as the full form without its zero terms.
            None => (0..d).map(|i| a[i] * self.var[i] * a[i]).sum(),
            Some(f) => (0..d)
                .flat_map(|i| (0..d).map(move |j| (i, j)))
                .map(|(i, j)| a[i] * f.cov[i * d + j] * a[j])
                .sum(),
        };
        Dist1::Gaussian {
            mean,
            sd: var.sqrt(),
        }
    }

    /// N(μᵢ, Σᵢᵢ), read off in O(1) (the default goes through an O(d²) projection).
    fn marginal(&self, i: usize) -> Dist1 {
        Dist1::Gaussian {
            mean: self.mean[i],
            sd: self.var[i].sqrt(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_cov_gradient_and_projection() {
        let g = Gaussian::from_config(&GaussianConfig {
            dim: None,
            mean: vec![1.0, -1.0].into(),
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
