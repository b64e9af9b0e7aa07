//! W2 between Gaussians (the Bures–Wasserstein formula) and between moment-matched fits.
//!
//! `W2²(N(m1, Σ1), N(m2, Σ2)) = ‖m1 − m2‖² + tr Σ1 + tr Σ2 − 2 tr (Σ2^½ Σ1 Σ2^½)^½`.
//!
//! Square roots of symmetric positive semi-definite matrices come from a cyclic Jacobi
//! eigendecomposition ([`sym_eigen`]), accurate to a few ulps of the largest eigenvalue; tiny
//! negative eigenvalues from rounding are clamped to 0.

use super::check_samples;
use crate::error::{Error, Result};
use crate::target::Target;

/// Eigen-decomposition of a symmetric d×d matrix (row-major) by cyclic Jacobi rotations.
///
/// Returns `(eigenvalues, eigenvectors)` with eigenvector k in column k of the row-major
/// d×d matrix. Iterates until the off-diagonal mass is below 1e−30 of the total (at most 100
/// sweeps). Only the symmetric part of `a` is used.
pub fn sym_eigen(a: &[f64], d: usize) -> (Vec<f64>, Vec<f64>) {
    let mut m: Vec<f64> = (0..d * d)
        .map(|ij| 0.5 * (a[ij] + a[(ij % d) * d + ij / d]))
        .collect();
    let mut v = vec![0.0; d * d];
    for i in 0..d {
        v[i * d + i] = 1.0;
    }
    let total: f64 = m.iter().map(|x| x * x).sum();
    for _ in 0..100 {
        let off: f64 = (0..d)
            .flat_map(|i| (0..d).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i * d + j] * m[i * d + j])
            .sum();
        if off <= 1e-30 * total || off == 0.0 {
            break;
        }
        for p in 0..d {
            for q in p + 1..d {
                let apq = m[p * d + q];
                if apq == 0.0 {
                    continue;
                }
                // Rotation angle that zeroes m[p][q] (Golub & Van Loan, Alg. 8.4.1).
                let theta = (m[q * d + q] - m[p * d + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..d {
                    let (mkp, mkq) = (m[k * d + p], m[k * d + q]);
                    m[k * d + p] = c * mkp - s * mkq;
                    m[k * d + q] = s * mkp + c * mkq;
                }
                for k in 0..d {
                    let (mpk, mqk) = (m[p * d + k], m[q * d + k]);
                    m[p * d + k] = c * mpk - s * mqk;
                    m[q * d + k] = s * mpk + c * mqk;
                }
                for k in 0..d {
                    let (vkp, vkq) = (v[k * d + p], v[k * d + q]);
                    v[k * d + p] = c * vkp - s * vkq;
                    v[k * d + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..d).map(|i| m[i * d + i]).collect(), v)
}

/// Symmetric square root `A^½ = V diag(√max(λ, 0)) Vᵀ` of a symmetric PSD matrix.
pub fn sym_sqrt(a: &[f64], d: usize) -> Vec<f64> {
    let (lam, v) = sym_eigen(a, d);
    let mut out = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            out[i * d + j] = (0..d)
                .map(|k| v[i * d + k] * lam[k].max(0.0).sqrt() * v[j * d + k])
                .sum();
        }
    }
    out
}

/// W2 between N(m1, Σ1) and N(m2, Σ2) (covariances d×d row-major, symmetric PSD).
///
/// ```
/// use lpmc::wasserstein::gaussian::bures_w2;
/// // 1-D: W2² = (m1 − m2)² + (s1 − s2)².
/// let w = bures_w2(&[0.0], &[4.0], &[3.0], &[1.0]).unwrap();
/// assert!((w - (9.0f64 + 1.0).sqrt()).abs() < 1e-14);
/// ```
pub fn bures_w2(m1: &[f64], c1: &[f64], m2: &[f64], c2: &[f64]) -> Result<f64> {
    let d = m1.len();
    if d == 0 || m2.len() != d || c1.len() != d * d || c2.len() != d * d {
        return Err(Error::Config(format!(
            "bures: dimension mismatch: means of length {} and {}, covariances of {} and {} entries",
            m1.len(),
            m2.len(),
            c1.len(),
            c2.len()
        )));
    }
    for (name, v) in [("m1", m1), ("m2", m2), ("cov1", c1), ("cov2", c2)] {
        if let Some(x) = v.iter().find(|x| !x.is_finite()) {
            return Err(Error::param(format!("bures {name}"), x, "must be finite"));
        }
    }
    let mean2: f64 = m1.iter().zip(m2).map(|(a, b)| (a - b) * (a - b)).sum();
    let r2 = sym_sqrt(c2, d);
    // M = Σ2^½ Σ1 Σ2^½.
    let mut tmp = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            tmp[i * d + j] = (0..d).map(|k| r2[i * d + k] * c1[k * d + j]).sum();
        }
    }
    let mut mm = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            mm[i * d + j] = (0..d).map(|k| tmp[i * d + k] * r2[k * d + j]).sum();
        }
    }
    let (lam, _) = sym_eigen(&mm, d);
    let cross: f64 = lam.iter().map(|l| l.max(0.0).sqrt()).sum();
    let tr: f64 = (0..d).map(|i| c1[i * d + i] + c2[i * d + i]).sum();
    Ok((mean2 + tr - 2.0 * cross).max(0.0).sqrt())
}

/// W2 between two Gaussians with diagonal covariances, in O(d):
/// `W2² = ‖m1 − m2‖² + Σᵢ (√v1ᵢ − √v2ᵢ)²` (the Bures formula when both covariances are
/// diagonal: they commute, so `tr(Σ2^½ Σ1 Σ2^½)^½ = Σᵢ √(v1ᵢ v2ᵢ)`). Errors on lengths that
/// differ, an empty input, or a value that is not finite or a negative variance.
///
/// ```
/// use lpmc::wasserstein::gaussian::{bures_w2, bures_w2_diagonal};
/// let (m1, v1, m2, v2) = ([0.0, 1.0], [4.0, 1.0], [3.0, 1.0], [1.0, 0.25]);
/// let full = bures_w2(&m1, &[4.0, 0.0, 0.0, 1.0], &m2, &[1.0, 0.0, 0.0, 0.25]).unwrap();
/// assert!((bures_w2_diagonal(&m1, &v1, &m2, &v2).unwrap() - full).abs() < 1e-12);
/// ```
pub fn bures_w2_diagonal(m1: &[f64], v1: &[f64], m2: &[f64], v2: &[f64]) -> Result<f64> {
    let d = m1.len();
    if d == 0 || m2.len() != d || v1.len() != d || v2.len() != d {
        return Err(Error::Config(format!(
            "bures: dimension mismatch: means of length {} and {}, variances of {} and {}",
            m1.len(),
            m2.len(),
            v1.len(),
            v2.len()
        )));
    }
    for (name, v) in [("m1", m1), ("m2", m2), ("var1", v1), ("var2", v2)] {
        if let Some(x) = v.iter().find(|x| !x.is_finite()) {
            return Err(Error::param(format!("bures {name}"), x, "must be finite"));
        }
    }
    if let Some(x) = v1.iter().chain(v2).find(|&&x| x < 0.0) {
        return Err(Error::param("bures variance", x, "must be ≥ 0"));
    }
    let sq: f64 = (0..d)
        .map(|i| {
            let (dm, ds) = (m1[i] - m2[i], v1[i].sqrt() - v2[i].sqrt());
            dm * dm + ds * ds
        })
        .sum();
    Ok(sq.sqrt())
}

/// Sample mean and covariance of `n = samples.len()/d` row-major points. The covariance uses
/// the unbiased divisor n − 1 (n = 1 gives a zero covariance).
pub fn mean_cov(samples: &[f64], d: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    if d == 0 || !samples.len().is_multiple_of(d) {
        return Err(Error::Config(format!(
            "{} numbers do not form rows of dimension {d}",
            samples.len()
        )));
    }
    check_samples("samples", samples)?;
    let n = samples.len() / d;
    let mut mean = vec![0.0; d];
    for row in samples.chunks_exact(d) {
        for i in 0..d {
            mean[i] += row[i];
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let mut cov = vec![0.0; d * d];
    for row in samples.chunks_exact(d) {
        for i in 0..d {
            let di = row[i] - mean[i];
            for j in 0..=i {
                cov[i * d + j] += di * (row[j] - mean[j]);
            }
        }
    }
    let div = (n.max(2) - 1) as f64;
    for i in 0..d {
        for j in 0..=i {
            cov[i * d + j] /= div;
            cov[j * d + i] = cov[i * d + j];
        }
    }
    Ok((mean, cov))
}

/// W2 between the Gaussian moment-matched to the samples (mean, unbiased covariance) and the
/// Gaussian moment-matched to the target (its exact mean and covariance). For a Gaussian
/// target that is the target itself. It measures first- and second-moment error only.
pub fn moment_matched_w2(samples: &[f64], d: usize, target: &dyn Target) -> Result<f64> {
    if target.dim() != d {
        return Err(Error::Config(format!(
            "samples have dimension {d} but the target has dimension {}",
            target.dim()
        )));
    }
    let (m, c) = mean_cov(samples, d)?;
    bures_w2(&m, &c, &target.mean(), &target.cov())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eigen_reconstructs() {
        let a = [4.0, 1.0, 0.5, 1.0, 3.0, -0.2, 0.5, -0.2, 2.0];
        let (lam, v) = sym_eigen(&a, 3);
        for i in 0..3 {
            for j in 0..3 {
                let r: f64 = (0..3).map(|k| v[i * 3 + k] * lam[k] * v[j * 3 + k]).sum();
                assert!((r - a[i * 3 + j]).abs() < 1e-13);
            }
        }
        let s = sym_sqrt(&a, 3);
        for i in 0..3 {
            for j in 0..3 {
                let r: f64 = (0..3).map(|k| s[i * 3 + k] * s[k * 3 + j]).sum();
                assert!((r - a[i * 3 + j]).abs() < 1e-13);
            }
        }
    }

    #[test]
    fn closed_forms() {
        // Commuting covariances: W2² = ‖δ‖² + Σ (√λ1 − √λ2)².
        let w = bures_w2(
            &[1.0, 0.0],
            &[4.0, 0.0, 0.0, 1.0],
            &[0.0, 2.0],
            &[1.0, 0.0, 0.0, 9.0],
        )
        .unwrap();
        let expect = (1.0f64 + 4.0 + 1.0 + 4.0).sqrt();
        assert!((w - expect).abs() < 1e-13, "{w}");
        // Symmetric, and zero against itself.
        let c1 = [2.0, 0.3, 0.3, 1.0];
        let c2 = [1.0, -0.4, -0.4, 3.0];
        let a = bures_w2(&[0.0, 1.0], &c1, &[1.0, 1.0], &c2).unwrap();
        let b = bures_w2(&[1.0, 1.0], &c2, &[0.0, 1.0], &c1).unwrap();
        assert!((a - b).abs() < 1e-13);
        assert!(bures_w2(&[0.0, 1.0], &c1, &[0.0, 1.0], &c1).unwrap() < 1e-7);
        // Rotation invariance: rotating both laws leaves W2 unchanged.
        let (c, s) = (0.6f64, 0.8f64);
        let rot = |m: &[f64]| {
            let r = [c, -s, s, c];
            let mut t = [0.0; 4];
            for i in 0..2 {
                for j in 0..2 {
                    t[i * 2 + j] = (0..2)
                        .flat_map(|k| (0..2).map(move |l| (k, l)))
                        .map(|(k, l)| r[i * 2 + k] * m[k * 2 + l] * r[j * 2 + l])
                        .sum();
                }
            }
            t
        };
        let a2 = bures_w2(&[0.0, 0.0], &rot(&c1), &[0.0, 0.0], &rot(&c2)).unwrap();
        let a1 = bures_w2(&[0.0, 0.0], &c1, &[0.0, 0.0], &c2).unwrap();
        assert!((a1 - a2).abs() < 1e-13);
        assert!(bures_w2(&[0.0], &[1.0], &[0.0, 1.0], &[1.0]).is_err());
    }

    #[test]
    fn moment_fit() {
        let xs = [1.0, 2.0, 3.0, 4.0];
        let (m, c) = mean_cov(&xs, 1).unwrap();
        assert_eq!(m, vec![2.5]);
        assert!((c[0] - 5.0 / 3.0).abs() < 1e-15);
        assert!(mean_cov(&xs, 3).is_err());
    }
}
