//! Exact W2 between two equal-size d-dimensional samples by optimal assignment.
//!
//! Between two empirical laws with n equally weighted atoms each, an optimal transport plan
//! can be taken to be a permutation (Birkhoff–von Neumann), so
//! `W2² = min_σ (1/n) Σ_i ‖x_i − y_σ(i)‖²`, a linear assignment problem. It is solved by the
//! Hungarian method with row-by-row augmentation along shortest paths and dual potentials
//! (Jonker–Volgenant style, O(n³) worst case, O(n) memory besides the cost function: costs are
//! computed on the fly, so n = 5000 needs no 200 MB matrix).

use super::check_samples;
use crate::error::{Error, Result};

/// Largest sample size accepted by [`w2_samples`].
pub const MAX_N: usize = 5000;

/// Solves the n×n linear assignment problem `min_σ Σ_i cost(i, σ(i))`.
///
/// Returns `(σ, total cost)` with `σ[i]` the column assigned to row i. `cost` must be finite.
/// Shortest augmenting paths with potentials `u` (rows) and `v` (columns): each of the n
/// phases adds one row and runs Dijkstra on reduced costs `cost(i, j) − u_i − v_j ≥ 0`.
pub fn solve(n: usize, cost: impl Fn(usize, usize) -> f64) -> (Vec<usize>, f64) {
    // 1-based columns with a virtual column 0, as in the classic formulation.
    let mut u = vec![0.0f64; n + 1];
    let mut v = vec![0.0f64; n + 1];
    let mut p = vec![0usize; n + 1]; // p[j] = row matched to column j (0 = none)
    let mut way = vec![0usize; n + 1];
    let mut minv = vec![0.0f64; n + 1];
    let mut used = vec![false; n + 1];
    for i in 1..=n {
        p[0] = i;
        let mut j0 = 0usize;
        minv.iter_mut().for_each(|m| *m = f64::INFINITY);
        used.iter_mut().for_each(|b| *b = false);
        loop {
            used[j0] = true;
            let i0 = p[j0];
            let mut delta = f64::INFINITY;
            let mut j1 = 0usize;
            for j in 1..=n {
                if !used[j] {
                    let cur = cost(i0 - 1, j - 1) - u[i0] - v[j];
                    if cur < minv[j] {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=n {
                if used[j] {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            // With finite costs some free column always has a finite reduced cost.
            assert!(j1 != 0, "assignment::solve: costs must be finite");
            j0 = j1;
            if p[j0] == 0 {
                break;
            }
        }
        // Augment along the alternating path.
        loop {
            let j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut sigma = vec![0usize; n];
    for j in 1..=n {
        if p[j] > 0 {
            sigma[p[j] - 1] = j - 1;
        }
    }
    let total = (0..n).map(|i| cost(i, sigma[i])).sum();
    (sigma, total)
}

/// Exact W2 between two samples of n points each in d dimensions (row-major n×d), n ≤
/// [`MAX_N`]. Errors on unequal sizes, n > 5000, or non-finite values.
///
/// ```
/// use lpmc::wasserstein::assignment::w2_samples;
/// // Two 2-D points each; the optimal matching pairs (0,0)↔(0,1) and (3,0)↔(3,1).
/// let w = w2_samples(&[0.0, 0.0, 3.0, 0.0], &[3.0, 1.0, 0.0, 1.0], 2).unwrap();
/// assert!((w - 1.0).abs() < 1e-15);
/// ```
pub fn w2_samples(x: &[f64], y: &[f64], d: usize) -> Result<f64> {
    if d == 0 || !x.len().is_multiple_of(d) || !y.len().is_multiple_of(d) {
        return Err(Error::Config(format!(
            "samples of {} and {} numbers do not form rows of dimension {d}",
            x.len(),
            y.len()
        )));
    }
    check_samples("first sample", x)?;
    check_samples("second sample", y)?;
    let n = x.len() / d;
    if y.len() / d != n {
        return Err(Error::Config(format!(
            "optimal assignment needs equal sample sizes, got {n} and {}",
            y.len() / d
        )));
    }
    if n > MAX_N {
        return Err(Error::param(
            "sample size for optimal assignment",
            n,
            format!("at most {MAX_N} (O(n³) time); use sliced W2 for larger samples"),
        ));
    }
    let cost = |i: usize, j: usize| {
        let (a, b) = (&x[i * d..(i + 1) * d], &y[j * d..(j + 1) * d]);
        a.iter().zip(b).map(|(p, q)| (p - q) * (p - q)).sum::<f64>()
    };
    let (_, total) = solve(n, cost);
    Ok((total / n as f64).max(0.0).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn permutations(n: usize) -> Vec<Vec<usize>> {
        if n == 0 {
            return vec![vec![]];
        }
        let mut out = vec![];
        for p in permutations(n - 1) {
            for k in 0..n {
                let mut q = p.clone();
                q.insert(k, n - 1);
                out.push(q);
            }
        }
        out
    }

    #[test]
    fn matches_brute_force() {
        for n in 1..=7usize {
            for seed in 0..20u64 {
                let c: Vec<f64> = (0..n * n)
                    .map(|k| {
                        let h = lpmc_kernels::bits::mix64(seed * 1000 + k as u64 + n as u64);
                        (h >> 40) as f64 / 1000.0
                    })
                    .collect();
                let (sigma, total) = solve(n, |i, j| c[i * n + j]);
                let best = permutations(n)
                    .iter()
                    .map(|p| (0..n).map(|i| c[i * n + p[i]]).sum::<f64>())
                    .fold(f64::INFINITY, f64::min);
                assert!(
                    (total - best).abs() < 1e-9 * best.max(1.0),
                    "n={n} seed={seed}"
                );
                let mut seen = sigma.clone();
                seen.sort();
                assert_eq!(seen, (0..n).collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn one_dimension_equals_sorted_matching_and_symmetric() {
        let x: Vec<f64> = (0..40).map(|i| ((i * 17 % 23) as f64).sin()).collect();
        let y: Vec<f64> = (0..40).map(|i| ((i * 7 % 29) as f64).cos() + 0.5).collect();
        let a = w2_samples(&x, &y, 1).unwrap();
        let b = crate::wasserstein::empirical::wp(&x, &y, 2.0).unwrap();
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        let c = w2_samples(&y, &x, 1).unwrap();
        assert!((a - c).abs() < 1e-12);
    }

    #[test]
    fn refuses_bad_sizes() {
        assert!(w2_samples(&[0.0; 4], &[0.0; 6], 2).is_err());
        assert!(w2_samples(&[0.0; 3], &[0.0; 4], 2).is_err());
        let big = vec![0.0; MAX_N + 1];
        assert!(w2_samples(&big, &big, 1).is_err());
    }
}
