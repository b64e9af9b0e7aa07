//! The papers' density metric: the L2 distance between a histogram density estimate and the
//! target density.
//!
//! Bins have width Δ and are centred on the multiples of Δ: bin j is `[(j − ½)Δ, (j + ½)Δ)`,
//! so a sample on the fixed-point lattice of step Δ sits at the centre of its bin. With
//! `c_j` samples in bin j, the estimate is `h(x) = c_j/(nΔ)` on bin j and 0 elsewhere, and
//!
//! `L2² = ∫ (h − f)² = Σ_j h_j²Δ − 2 Σ_j h_j P_j + ∫ f²`,
//!
//! with `P_j` the target mass of bin j and, for `f = Σ_k w_k N(m_k, s_k²)`,
//! `∫ f² = Σ_k Σ_l w_k w_l φ((m_k − m_l)/σ_kl)/σ_kl`, `σ_kl = √(s_k² + s_l²)`. Everything is
//! exact: there is no grid over x and no kernel bandwidth.

use super::check_samples;
use crate::error::{Error, Result};
use crate::target::dist1::phi;
use crate::target::Dist1;

/// L2 distance (units of density·length^½, i.e. `√∫(h − f)² dx`) between the histogram of
/// `xs` with bin width `delta` and the density of `law`.
pub fn l2_histogram(xs: &[f64], law: &Dist1, delta: f64) -> Result<f64> {
    check_samples("samples", xs)?;
    law.validate()?;
    if delta.is_nan() || delta <= 0.0 || delta.is_infinite() {
        return Err(Error::param(
            "delta",
            delta,
            "bin width must be finite and > 0",
        ));
    }
    let mut bins: Vec<i64> = Vec::with_capacity(xs.len());
    for &x in xs {
        let j = (x / delta).round();
        if j.abs() > 9.0e15 {
            return Err(Error::param(
                "sample / delta",
                j,
                "bin index must be below 9e15 (choose a larger bin width)",
            ));
        }
        bins.push(j as i64);
    }
    bins.sort_unstable();
    let n = xs.len() as f64;
    let (mut sq, mut cross) = (0.0f64, 0.0f64);
    let mut i = 0usize;
    while i < bins.len() {
        let j = bins[i];
        let start = i;
        while i < bins.len() && bins[i] == j {
            i += 1;
        }
        let h = (i - start) as f64 / (n * delta);
        let c = j as f64 * delta;
        let p = law.centered_moments(c - 0.5 * delta, c + 0.5 * delta).m0;
        sq += h * h * delta;
        cross += h * p;
    }
    Ok((sq - 2.0 * cross + density_sq_integral(law))
        .max(0.0)
        .sqrt())
}

/// `∫ f²` of a Gaussian mixture, closed form.
pub fn density_sq_integral(law: &Dist1) -> f64 {
    let (w, m, s) = law.parts();
    let mut total = 0.0;
    for k in 0..w.len() {
        for l in 0..w.len() {
            let sig = (s[k] * s[k] + s[l] * s[l]).sqrt();
            total += w[k] * w[l] * phi((m[k] - m[l]) / sig) / sig;
        }
    }
    total
}

/// The step of the coarsest dyadic lattice `2^−k` (k ≤ 30) that holds every sample, if any:
/// the Δ of a fixed-point format whose values these could be. `None` for data off every such
/// lattice (e.g. decimal floats).
pub fn lattice_step(xs: &[f64]) -> Option<f64> {
    let mut k = 0i32;
    for &x in xs {
        while k <= 30 && (x * 2f64.powi(k)).fract() != 0.0 {
            k += 1;
        }
        if k > 30 {
            return None;
        }
    }
    Some(2f64.powi(-k))
}

/// Freedman–Diaconis bin width `2·IQR·n^(−1/3)` (falls back to `3.49·sd·n^(−1/3)` when the
/// IQR is 0, and to 1 when both are 0).
pub fn freedman_diaconis(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_unstable_by(f64::total_cmp);
    let q = |p: f64| {
        let h = p * (v.len() - 1) as f64;
        let (i, f) = (h.floor() as usize, h.fract());
        v[i] + f * (v[(i + 1).min(v.len() - 1)] - v[i])
    };
    let cube = (v.len() as f64).cbrt();
    let iqr = q(0.75) - q(0.25);
    if iqr > 0.0 {
        return 2.0 * iqr / cube;
    }
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
    if sd > 0.0 {
        3.49 * sd / cube
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wasserstein::quad::integrate;

    #[test]
    fn matches_quadrature() {
        let law = Dist1::Mixture {
            weights: vec![0.5, 0.5],
            means: vec![-1.0, 1.0],
            sds: vec![0.5, 0.5],
        };
        let delta = 0.25;
        let xs: Vec<f64> = (0..200)
            .map(|i| ((i * 13 % 37) as f64 - 18.0) / 8.0)
            .collect();
        let got = l2_histogram(&xs, &law, delta).unwrap();
        // Brute force: ∫ (h − f)² over [−12, 12] in panels aligned with the bins.
        let h = |x: f64| {
            let j = (x / delta).round();
            xs.iter().filter(|&&s| (s / delta).round() == j).count() as f64
                / (xs.len() as f64 * delta)
        };
        let brute = integrate(|x| (h(x) - law.pdf(x)).powi(2), -12.125, 12.125, 97);
        assert!(
            (got * got - brute).abs() < 1e-10,
            "{} vs {brute}",
            got * got
        );
        // ∫f² of N(0, s²) is 1/(2s√π).
        let g = Dist1::Gaussian { mean: 3.0, sd: 2.0 };
        let e = 1.0 / (2.0 * 2.0 * std::f64::consts::PI.sqrt());
        assert!((density_sq_integral(&g) - e).abs() < 1e-15);
    }

    #[test]
    fn lattice_detection() {
        assert_eq!(lattice_step(&[0.5, 0.25, -3.0]), Some(0.25));
        assert_eq!(lattice_step(&[1.0, 2.0]), Some(1.0));
        assert_eq!(lattice_step(&[0.1]), None);
        assert!(l2_histogram(&[0.0], &Dist1::Gaussian { mean: 0.0, sd: 1.0 }, 0.0).is_err());
    }
}
