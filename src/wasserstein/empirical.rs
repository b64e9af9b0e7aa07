//! Exact 1-D W_p between two samples, of any sizes, by quantile matching, and W1 in the
//! convention of scipy's `wasserstein_distance`.
//!
//! For samples `u` (size n) and `v` (size m), sorted, the empirical quantile functions are
//! step functions with jumps at `i/n` and `j/m`; on the common refinement of those breakpoints
//! both are constant, so `W_p^p = ∫_0^1 |F_u⁻¹(t) − F_v⁻¹(t)|^p dt` is a finite sum. The
//! breakpoints are kept as exact integers `i·m` and `j·n` over `n·m`, so the sum, and hence
//! the result, is the same bit for bit when `u` and `v` are swapped.

use super::check_samples;
use crate::error::{Error, Result};

/// Exact `W_p(u, v)` for `p ≥ 1` between two equally weighted 1-D samples (sizes may differ).
///
/// ```
/// use lpmc::wasserstein::empirical::wp;
/// // Shifting a sample by 3 moves it exactly 3 in every W_p.
/// let u = [0.0, 1.0, 5.0];
/// let v = [3.0, 4.0, 8.0];
/// assert_eq!(wp(&u, &v, 2.0).unwrap(), 3.0);
/// // Sizes 2 and 3: F⁻¹ steps at 1/2 and at 1/3, 2/3.
/// let w1 = wp(&[0.0, 1.0], &[0.0, 0.0, 1.0], 1.0).unwrap();
/// assert!((w1 - 1.0 / 6.0).abs() < 1e-15);
/// ```
pub fn wp(u: &[f64], v: &[f64], p: f64) -> Result<f64> {
    if p.is_nan() || p < 1.0 || p.is_infinite() {
        return Err(Error::param("p", p, "must be a finite number ≥ 1"));
    }
    check_samples("first sample", u)?;
    check_samples("second sample", v)?;
    let mut a = u.to_vec();
    let mut b = v.to_vec();
    a.sort_unstable_by(f64::total_cmp);
    b.sort_unstable_by(f64::total_cmp);
    let (n, m) = (a.len() as u128, b.len() as u128);
    let (mut i, mut j) = (0usize, 0usize);
    let mut t: u128 = 0; // current breakpoint, in units of 1/(n·m)
    let mut acc = 0.0f64;
    let pow = |d: f64| {
        if p == 1.0 {
            d
        } else if p == 2.0 {
            d * d
        } else {
            d.powf(p)
        }
    };
    while i < a.len() && j < b.len() {
        let (next_a, next_b) = ((i as u128 + 1) * m, (j as u128 + 1) * n);
        let next = next_a.min(next_b);
        acc += (next - t) as f64 * pow((a[i] - b[j]).abs());
        t = next;
        if next_a == next {
            i += 1;
        }
        if next_b == next {
            j += 1;
        }
    }
    Ok((acc / (n * m) as f64).powf(1.0 / p))
}

/// W1 between two 1-D samples as scipy's `scipy.stats.wasserstein_distance(u, v)` computes
/// it: `∫ |F_u(x) − F_v(x)| dx`, summed over the gaps between the merged sorted values.
///
/// This is the same quantity as [`wp`] with p = 1 (in 1-D, `∫|F_u − F_v| dx =
/// ∫|F_u⁻¹ − F_v⁻¹| dt`), computed the other way round; the two agree to rounding. It is the
/// W1 the papers report, between the sampler's output and a reference sample.
pub fn scipy_w1(u: &[f64], v: &[f64]) -> Result<f64> {
    check_samples("first sample", u)?;
    check_samples("second sample", v)?;
    let mut a = u.to_vec();
    let mut b = v.to_vec();
    a.sort_unstable_by(f64::total_cmp);
    b.sort_unstable_by(f64::total_cmp);
    let mut all: Vec<f64> = a.iter().chain(&b).copied().collect();
    all.sort_unstable_by(f64::total_cmp);
    let (n, m) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let mut total = 0.0;
    for w in all.windows(2) {
        // Counts of each sample ≤ w[0] (scipy: searchsorted(..., side='right')).
        while i < a.len() && a[i] <= w[0] {
            i += 1;
        }
        while j < b.len() && b[j] <= w[0] {
            j += 1;
        }
        total += (i as f64 / n - j as f64 / m).abs() * (w[1] - w[0]);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(n: usize, seed: u64, shift: f64) -> Vec<f64> {
        (0..n)
            .map(|i| {
                let h = lpmc_kernels::bits::mix64(seed ^ (i as u64) << 20);
                (h >> 11) as f64 / (1u64 << 53) as f64 * 3.0 + shift
            })
            .collect()
    }

    #[test]
    fn symmetric_bit_for_bit_and_matches_scipy_convention() {
        let u = sample(123, 1, 0.0);
        let v = sample(77, 2, 0.4);
        for p in [1.0, 2.0, 3.5] {
            let a = wp(&u, &v, p).unwrap();
            let b = wp(&v, &u, p).unwrap();
            assert_eq!(a.to_bits(), b.to_bits());
        }
        let w1 = wp(&u, &v, 1.0).unwrap();
        let s = scipy_w1(&u, &v).unwrap();
        assert!((w1 - s).abs() < 1e-13, "{w1} vs {s}");
        // Golden value from scipy.stats.wasserstein_distance([0, 1, 3], [5, 6, 8]) = 5.0.
        assert_eq!(scipy_w1(&[0.0, 1.0, 3.0], &[5.0, 6.0, 8.0]).unwrap(), 5.0);
    }

    #[test]
    fn equal_sizes_is_sorted_matching_and_bounds() {
        let u = sample(200, 3, 0.0);
        let v = sample(200, 4, 1.0);
        let (mut a, mut b) = (u.clone(), v.clone());
        a.sort_by(f64::total_cmp);
        b.sort_by(f64::total_cmp);
        let direct = (a.iter().zip(&b).map(|(x, y)| (x - y).powi(2)).sum::<f64>() / 200.0).sqrt();
        let w2 = wp(&u, &v, 2.0).unwrap();
        assert!((w2 - direct).abs() < 1e-14);
        let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
        assert!(w2 >= (mean(&u) - mean(&v)).abs());
        assert!(wp(&u, &v, 1.0).unwrap() <= w2 + 1e-15);
    }

    proptest::proptest! {
        /// Symmetry (bit for bit), W_p ≥ |mean difference|, W1 ≤ W2, and shift invariance,
        /// on random samples of unequal sizes.
        #[test]
        fn properties(
            u in proptest::collection::vec(-100.0f64..100.0, 1..40),
            v in proptest::collection::vec(-100.0f64..100.0, 1..40),
            c in -50.0f64..50.0,
        ) {
            let w2 = wp(&u, &v, 2.0).unwrap();
            proptest::prop_assert_eq!(w2.to_bits(), wp(&v, &u, 2.0).unwrap().to_bits());
            let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
            let md = (mean(&u) - mean(&v)).abs();
            let w1 = wp(&u, &v, 1.0).unwrap();
            // Rounding of sums of ≤ 40·40 terms of size ≤ 200: allow 1e−12 absolute.
            proptest::prop_assert!(w1 >= md - 1e-12 && w2 >= w1 - 1e-12);
            let us: Vec<f64> = u.iter().map(|x| x + c).collect();
            let vs: Vec<f64> = v.iter().map(|x| x + c).collect();
            let shifted = wp(&us, &vs, 2.0).unwrap();
            proptest::prop_assert!((shifted - w2).abs() <= 1e-10 * (1.0 + w2));
        }
    }

    #[test]
    fn bad_input() {
        assert!(wp(&[], &[1.0], 2.0).is_err());
        assert!(wp(&[1.0], &[f64::NAN], 2.0).is_err());
        assert!(wp(&[1.0], &[1.0], 0.5).is_err());
        assert!(scipy_w1(&[1.0], &[]).is_err());
    }
}
