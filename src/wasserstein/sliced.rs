//! Sliced W2 in d dimensions against a target's exact 1-D projections.
//!
//! `SW2² = E_θ W2²(θ·X_n, θ·X)` over θ uniform on the unit sphere S^{d−1}, estimated with K
//! seeded directions: `SW2² ≈ (1/K) Σ_k W2²(θ_k·x, law of θ_k·X)`. Each term is the exact 1-D
//! W2 of [`super::exact1d`] against [`Target::projection`], so the only approximation is the
//! Monte Carlo average over directions.
//!
//! Scale: for laws differing by a shift δ, `E_θ (θ·δ)² = ‖δ‖²/d`, and for isotropic Gaussians
//! N(m1, s1² I) and N(m2, s2² I), `SW2² = W2²/d` exactly: sliced W2 is smaller than W2 by √d
//! on such pairs. Report it as its own metric, not as an estimate of W2.

use super::exact1d;
use crate::error::{Error, Result};
use crate::target::Target;
use lpmc_kernels::{WordSource, Xoshiro};
use rayon::prelude::*;

/// Stream index of the direction generator (chains use small indices; this one is reserved).
pub const DIRECTION_STREAM: u64 = u64::MAX;

/// Standard normals from a word stream by Box–Muller on 53-bit uniforms, two per pair of
/// words: `u1 = (w1>>11 + 1)·2⁻⁵³ ∈ (0, 1]`, `u2 = (w2>>11)·2⁻⁵³`,
/// `z = √(−2 ln u1)·(cos 2πu2, sin 2πu2)`; uses `libm` so the bits are the same on every
/// platform.
pub fn normals(bits: &mut impl WordSource, out: &mut [f64]) {
    let scale = 1.0 / (1u64 << 53) as f64;
    for pair in out.chunks_mut(2) {
        let u1 = ((bits.next_word() >> 11) + 1) as f64 * scale;
        let u2 = (bits.next_word() >> 11) as f64 * scale;
        let r = libm::sqrt(-2.0 * libm::log(u1));
        let t = 2.0 * std::f64::consts::PI * u2;
        pair[0] = r * libm::cos(t);
        if pair.len() > 1 {
            pair[1] = r * libm::sin(t);
        }
    }
}

/// `k` unit directions in d dimensions (row-major k×d), uniform on the sphere: normalised
/// Gaussian vectors drawn from stream [`DIRECTION_STREAM`] of `seed` by [`normals`].
pub fn directions(d: usize, k: usize, seed: u64) -> Vec<f64> {
    let mut gen = Directions::new(d, seed);
    let mut out = vec![0.0; d * k];
    for dir in out.chunks_exact_mut(d.max(1)) {
        dir.copy_from_slice(gen.next_direction());
    }
    out
}

/// The directions of [`directions`] one at a time, in O(d) memory: the k-th call of
/// [`Directions::next_direction`] gives row k of `directions(d, k', seed)` for any k' > k.
#[derive(Clone, Debug)]
pub struct Directions {
    bits: Xoshiro,
    row: Vec<f64>,
    dir: Vec<f64>,
}

impl Directions {
    /// The generator of unit directions in d dimensions from stream [`DIRECTION_STREAM`] of
    /// `seed`.
    pub fn new(d: usize, seed: u64) -> Self {
        Directions {
            bits: Xoshiro::new(seed, DIRECTION_STREAM),
            row: vec![0.0; d],
            dir: vec![0.0; d],
        }
    }

    /// The next unit direction (a normalised Gaussian vector; an all-zero draw is redrawn).
    pub fn next_direction(&mut self) -> &[f64] {
        loop {
            normals(&mut self.bits, &mut self.row);
            let norm = self.row.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm > 0.0 {
                let row = &self.row;
                self.dir
                    .iter_mut()
                    .zip(row)
                    .for_each(|(o, x)| *o = x / norm);
                return &self.dir;
            }
        }
    }
}

/// [`sliced_w2`] over the `k` directions of [`directions`]`(d, k, seed)`, generated one at a
/// time: the same value (the same bits) in O(d + n) memory instead of O(k·d), for d in the
/// millions. Cost: k·(d Gaussian draws + n·d multiply-adds + one exact 1-D W2 of n points).
pub fn sliced_w2_streamed(
    samples: &[f64],
    d: usize,
    target: &dyn Target,
    k: usize,
    seed: u64,
) -> Result<f64> {
    if d == 0 || target.dim() != d || !samples.len().is_multiple_of(d) {
        return Err(Error::Config(format!(
            "sliced W2: samples of dimension {d}, target of dimension {}",
            target.dim()
        )));
    }
    if k == 0 {
        return Err(Error::param("slices", 0, "need at least 1 direction"));
    }
    super::check_samples("samples", samples)?;
    let mut gen = Directions::new(d, seed);
    let mut per = Vec::with_capacity(k);
    for _ in 0..k {
        let theta = gen.next_direction();
        let law = target.projection(theta);
        let e = exact1d::to_law(&project_par(samples, d, theta), &law)?;
        per.push(e.w2 * e.w2);
    }
    Ok((per.iter().sum::<f64>() / per.len() as f64).sqrt())
}

/// [`project`] with the rows in parallel (the same values: each row's sum is sequential).
fn project_par(samples: &[f64], d: usize, theta: &[f64]) -> Vec<f64> {
    samples
        .par_chunks_exact(d)
        .map(|row| row.iter().zip(theta).map(|(x, t)| x * t).sum())
        .collect()
}

/// Projections `θ·x_i` of the row-major n×d samples onto direction `theta`.
pub fn project(samples: &[f64], d: usize, theta: &[f64]) -> Vec<f64> {
    samples
        .chunks_exact(d)
        .map(|row| row.iter().zip(theta).map(|(x, t)| x * t).sum())
        .collect()
}

/// Sliced W2 between the row-major n×d `samples` and `target` over the directions `dirs`
/// (row-major K×d, e.g. from [`directions`]). Directions run in parallel; the per-direction
/// W2² are summed in direction order, so the result does not depend on the thread count.
pub fn sliced_w2(samples: &[f64], d: usize, target: &dyn Target, dirs: &[f64]) -> Result<f64> {
    let per = per_direction_w2sq(samples, d, target, dirs)?;
    Ok((per.iter().sum::<f64>() / per.len() as f64).sqrt())
}

/// The terms `W2²(θ_k·x, θ_k·X)` of [`sliced_w2`], in direction order.
pub fn per_direction_w2sq(
    samples: &[f64],
    d: usize,
    target: &dyn Target,
    dirs: &[f64],
) -> Result<Vec<f64>> {
    if d == 0
        || target.dim() != d
        || !samples.len().is_multiple_of(d)
        || !dirs.len().is_multiple_of(d)
    {
        return Err(Error::Config(format!(
            "sliced W2: samples of dimension {d}, target of dimension {}, {} directions entries",
            target.dim(),
            dirs.len()
        )));
    }
    if dirs.is_empty() {
        return Err(Error::param("slices", 0, "need at least 1 direction"));
    }
    super::check_samples("samples", samples)?;
    dirs.par_chunks_exact(d)
        .map(|theta| {
            let law = target.projection(theta);
            exact1d::to_law(&project(samples, d, theta), &law).map(|e| e.w2 * e.w2)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::{Dist1, Gaussian};

    /// The streamed form gives the same bits as the stored directions.
    #[test]
    fn streamed_equals_stored_directions() {
        let (d, n, k) = (7, 40, 9);
        let t =
            Gaussian::diagonal(vec![0.5; d], (1..=d).map(|i| i as f64 / 4.0).collect()).unwrap();
        let xs: Vec<f64> = (0..n * d)
            .map(|i| ((i * 37) % 11) as f64 / 8.0 - 0.6)
            .collect();
        let stored = sliced_w2(&xs, d, &t, &directions(d, k, 5)).unwrap();
        assert_eq!(sliced_w2_streamed(&xs, d, &t, k, 5).unwrap(), stored);
        assert!(sliced_w2_streamed(&xs, d, &t, 0, 5).is_err());
    }

    #[test]
    fn directions_are_unit_and_seeded() {
        let a = directions(4, 100, 7);
        assert_eq!(a, directions(4, 100, 7));
        assert_ne!(a, directions(4, 100, 8));
        for r in a.chunks_exact(4) {
            assert!((r.iter().map(|x| x * x).sum::<f64>() - 1.0).abs() < 1e-14);
        }
    }

    /// Isotropic Gaussians N(δ, s1²I) vs N(0, s2²I) in d = 3: the 1-D projections are
    /// N(θ·δ, s1²) and N(0, s2²), so the sliced mean of W2² = (θ·δ)² + (s1 − s2)² is
    /// ‖δ‖²/d + (s1 − s2)² = W2²/d (Bures: W2² = ‖δ‖² + d(s1 − s2)²). We check the average
    /// over K = 20 000 directions: (θ·δ̂)² has variance 2(d−1)/(d²(d+2)) = 0.0889 for d = 3,
    /// so its mean over K has sd 0.0021·‖δ‖²; tolerance 5 sd.
    #[test]
    fn sliced_constant_for_isotropic_gaussians() {
        let d = 3;
        let delta = [1.0, -2.0, 0.5];
        let (s1, s2) = (1.5f64, 1.0f64);
        let k = 20_000;
        let dirs = directions(d, k, 1);
        let src = Gaussian::diagonal(delta.to_vec(), vec![s1 * s1; d]).unwrap();
        let tgt = Gaussian::diagonal(vec![0.0; d], vec![s2 * s2; d]).unwrap();
        let mean: f64 = dirs
            .chunks_exact(d)
            .map(|t| match (src.projection(t), tgt.projection(t)) {
                (Dist1::Gaussian { mean: m1, sd: a }, Dist1::Gaussian { mean: m2, sd: b }) => {
                    (m1 - m2).powi(2) + (a - b).powi(2)
                }
                _ => unreachable!(),
            })
            .sum::<f64>()
            / k as f64;
        let norm2: f64 = delta.iter().map(|x| x * x).sum();
        let expect = norm2 / d as f64 + (s1 - s2).powi(2);
        let tol = 5.0
            * (2.0 * (d as f64 - 1.0) / ((d * d) as f64 * (d as f64 + 2.0)) / k as f64).sqrt()
            * norm2;
        assert!((mean - expect).abs() < tol, "{mean} vs {expect} ± {tol}");
        // And the Bures W2² of the same pair is d times the isotropic part.
        let w =
            super::super::gaussian::bures_w2(&delta, &src.cov(), &[0.0; 3], &tgt.cov()).unwrap();
        assert!((w * w - d as f64 * expect).abs() < 1e-12);
    }

    #[test]
    fn sliced_is_the_mean_of_exact_projections() {
        let d = 2;
        let g = Gaussian::diagonal(vec![0.0, 1.0], vec![1.0, 0.25]).unwrap();
        let xs: Vec<f64> = (0..400)
            .map(|i| ((i * 31 % 97) as f64 / 30.0) - 1.5)
            .collect();
        let dirs = directions(d, 8, 3);
        let s = sliced_w2(&xs, d, &g, &dirs).unwrap();
        let manual: f64 = dirs
            .chunks_exact(d)
            .map(|t| {
                let e = exact1d::to_law(&project(&xs, d, t), &g.projection(t)).unwrap();
                e.w2 * e.w2
            })
            .sum::<f64>()
            / 8.0;
        assert_eq!(s, manual.sqrt());
        assert!(sliced_w2(&xs, 3, &g, &dirs).is_err());
    }
}
