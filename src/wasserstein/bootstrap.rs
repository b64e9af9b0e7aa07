//! Uncertainty of a distance from a run with many chains: the bootstrap over chains.
//!
//! Chains are independent, so a chain is the natural resampling unit (samples inside a chain
//! are autocorrelated and must not be resampled one by one). A replicate draws G chains with
//! replacement out of G, gives every sample of chain g the weight "number of times g was
//! drawn", and recomputes the exact distance of the weighted pooled sample (no data are
//! copied: the 1-D sweep takes weights). Over B replicates we report the standard error (sd of
//! the replicates) and the 95% percentile interval.
//!
//! Caveats, stated in `docs/evaluator.md`: W2 of an empirical law is biased upward by
//! sampling noise, and a replicate (with repeated chains) has fewer distinct chains than the
//! original, so the percentile interval sits slightly above the point estimate; read it as a
//! measure of run-to-run spread, not as an unbiased confidence interval for the bias of the
//! sampler. With one chain, contiguous blocks stand in for chains (a block bootstrap), which
//! is valid when blocks are much longer than the autocorrelation time.

use super::{exact1d, sliced};
use crate::error::{Error, Result};
use crate::target::{Dist1, Target};
use lpmc_kernels::{WordSource, Xoshiro};
use rayon::prelude::*;
use serde::Serialize;

/// Stream index of the resampling generator (reserved, next to the direction stream).
pub const BOOTSTRAP_STREAM: u64 = u64::MAX - 1;

/// A bootstrap summary of one metric.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Interval {
    /// Which metric (`"w2"` or `"sliced_w2"`).
    pub metric: String,
    /// How groups were formed: `"chains"` or `"blocks"`.
    pub groups_from: String,
    /// Number of groups G.
    pub groups: usize,
    /// Number of replicates B.
    pub replicates: usize,
    /// Standard error: sd of the replicate values (units of the metric).
    pub se: f64,
    /// 2.5% percentile of the replicates.
    pub lo: f64,
    /// 97.5% percentile of the replicates.
    pub hi: f64,
}

/// Group labels `0..G` from arbitrary labels (in order of first appearance).
pub fn dense_groups(labels: &[u64]) -> (Vec<u32>, usize) {
    let mut map = std::collections::HashMap::new();
    let out = labels
        .iter()
        .map(|l| {
            let next = map.len() as u32;
            *map.entry(*l).or_insert(next)
        })
        .collect();
    (out, map.len())
}

/// `blocks` contiguous groups of (nearly) equal size over n samples.
pub fn block_groups(n: usize, blocks: usize) -> (Vec<u32>, usize) {
    let g = blocks.clamp(1, n.max(1));
    (
        (0..n)
            .map(|i| (i as u128 * g as u128 / n as u128) as u32)
            .collect(),
        g,
    )
}

/// Multiplicities of G groups for B replicates (row-major B×G), drawn from stream
/// [`BOOTSTRAP_STREAM`] of `seed`: draw i picks group `⌊word·G / 2⁶⁴⌋` (bias < G/2⁶⁴).
fn multiplicities(g: usize, b: usize, seed: u64) -> Vec<u32> {
    let mut bits = Xoshiro::new(seed, BOOTSTRAP_STREAM);
    let mut out = vec![0u32; g * b];
    for rep in out.chunks_exact_mut(g) {
        for _ in 0..g {
            let k = ((bits.next_word() as u128 * g as u128) >> 64) as usize;
            rep[k] += 1;
        }
    }
    out
}

fn summarize(metric: &str, from: &str, g: usize, mut vals: Vec<f64>) -> Interval {
    let b = vals.len();
    let mean = vals.iter().sum::<f64>() / b as f64;
    let se = (vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (b.max(2) - 1) as f64).sqrt();
    vals.sort_unstable_by(f64::total_cmp);
    let q = |p: f64| {
        let h = p * (b - 1) as f64;
        let (i, f) = (h.floor() as usize, h.fract());
        vals[i] + f * (vals[(i + 1).min(b - 1)] - vals[i])
    };
    Interval {
        metric: metric.into(),
        groups_from: from.into(),
        groups: g,
        replicates: b,
        se,
        lo: q(0.025),
        hi: q(0.975),
    }
}

fn check(n: usize, groups: &[u32], g: usize, b: usize) -> Result<()> {
    if groups.len() != n {
        return Err(Error::Config(format!(
            "{} group labels for {n} samples",
            groups.len()
        )));
    }
    if g < 2 {
        return Err(Error::param(
            "groups",
            g,
            "the bootstrap needs at least 2 groups",
        ));
    }
    if b < 2 {
        return Err(Error::param("bootstrap replicates", b, "need at least 2"));
    }
    let mut seen = vec![false; g];
    for &k in groups {
        match seen.get_mut(k as usize) {
            Some(s) => *s = true,
            None => return Err(Error::Config(format!("group labels must be below {g}"))),
        }
    }
    if let Some(k) = seen.iter().position(|s| !s) {
        return Err(Error::Config(format!("group {k} of {g} has no samples")));
    }
    Ok(())
}

/// Bootstrap over groups of the exact 1-D W2 of `xs` against `law`. `groups[i] < g` is the
/// group of sample i.
pub fn w2_1d(
    xs: &[f64],
    groups: &[u32],
    g: usize,
    law: &Dist1,
    replicates: usize,
    seed: u64,
    from: &str,
) -> Result<Interval> {
    check(xs.len(), groups, g, replicates)?;
    super::check_samples("samples", xs)?;
    law.validate()?;
    let mut order: Vec<u32> = (0..xs.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| xs[a as usize].total_cmp(&xs[b as usize]));
    let mult = multiplicities(g, replicates, seed);
    let vals: Vec<f64> = mult
        .par_chunks_exact(g)
        .map(|m| weighted_w2(xs, &order, groups, m, law))
        .collect();
    Ok(summarize("w2", from, g, vals))
}

/// W2 of the sample with weights `m[group]`, given the sort order.
fn weighted_w2(xs: &[f64], order: &[u32], groups: &[u32], m: &[u32], law: &Dist1) -> f64 {
    let pairs = order
        .iter()
        .map(|&i| (xs[i as usize], m[groups[i as usize] as usize] as f64))
        .filter(|&(_, w)| w > 0.0);
    exact1d::weighted_sorted(pairs, order.len(), law).w2
}

/// Bootstrap over groups of the sliced W2 (same directions as the point estimate).
#[allow(clippy::too_many_arguments)]
pub fn sliced_w2(
    samples: &[f64],
    d: usize,
    groups: &[u32],
    g: usize,
    target: &dyn Target,
    dirs: &[f64],
    replicates: usize,
    seed: u64,
    from: &str,
) -> Result<Interval> {
    if d == 0 || !samples.len().is_multiple_of(d) || target.dim() != d {
        return Err(Error::Config(format!(
            "bootstrap: samples of dimension {d} for a target of dimension {}",
            target.dim()
        )));
    }
    check(samples.len() / d, groups, g, replicates)?;
    super::check_samples("samples", samples)?;
    // One direction at a time (memory O(n), not O(n·K)): project, sort once, then add this
    // direction's W2² to every replicate's running sum (replicates in parallel, summed in
    // direction order: deterministic for any thread count).
    let mult = multiplicities(g, replicates, seed);
    let mut totals = vec![0.0f64; replicates];
    let k = dirs.len() / d;
    for theta in dirs.chunks_exact(d) {
        let p = sliced::project(samples, d, theta);
        let mut order: Vec<u32> = (0..p.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| p[a as usize].total_cmp(&p[b as usize]));
        let law = target.projection(theta);
        let terms: Vec<f64> = mult
            .par_chunks_exact(g)
            .map(|m| weighted_w2(&p, &order, groups, m, &law).powi(2))
            .collect();
        totals.iter_mut().zip(&terms).for_each(|(t, x)| *t += x);
    }
    let vals: Vec<f64> = totals.iter().map(|t| (t / k as f64).sqrt()).collect();
    Ok(summarize("sliced_w2", from, g, vals))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_and_multiplicities() {
        let (g, k) = dense_groups(&[7, 7, 3, 9, 3]);
        assert_eq!((g, k), (vec![0, 0, 1, 2, 1], 3));
        let (b, k) = block_groups(10, 3);
        assert_eq!(k, 3);
        assert_eq!(b, vec![0, 0, 0, 0, 1, 1, 1, 2, 2, 2]);
        let m = multiplicities(5, 100, 1);
        assert!(m.chunks_exact(5).all(|r| r.iter().sum::<u32>() == 5));
        assert_eq!(m, multiplicities(5, 100, 1));
    }

    /// Ten "chains" that are identical copies: every replicate is the same weighted sample up
    /// to a common factor, so the interval collapses onto the point estimate.
    #[test]
    fn identical_chains_give_a_degenerate_interval() {
        let law = Dist1::Gaussian { mean: 0.0, sd: 1.0 };
        let chain: Vec<f64> = (0..50).map(|i| (i as f64 - 24.5) / 12.0).collect();
        let xs: Vec<f64> = (0..10).flat_map(|_| chain.clone()).collect();
        let labels: Vec<u64> = (0..10u64).flat_map(|c| vec![c; 50]).collect();
        let (groups, g) = dense_groups(&labels);
        let iv = w2_1d(&xs, &groups, g, &law, 50, 3, "chains").unwrap();
        let point = exact1d::to_law(&xs, &law).unwrap().w2;
        assert!((iv.lo - point).abs() < 1e-12 && (iv.hi - point).abs() < 1e-12);
        assert!(iv.se < 1e-12);
        assert!(w2_1d(&xs, &vec![0; 500], 1, &law, 50, 3, "chains").is_err());

        // The same for sliced W2 in 2-D.
        let g2 = crate::target::Gaussian::diagonal(vec![0.0, 0.0], vec![1.0, 2.0]).unwrap();
        let chain2: Vec<f64> = (0..100)
            .map(|i| ((i * 37 % 41) as f64 - 20.0) / 9.0)
            .collect();
        let xs2: Vec<f64> = (0..6).flat_map(|_| chain2.clone()).collect();
        let labels2: Vec<u64> = (0..6u64).flat_map(|c| vec![c; 50]).collect();
        let (groups2, g) = dense_groups(&labels2);
        let dirs = sliced::directions(2, 5, 9);
        let iv = sliced_w2(&xs2, 2, &groups2, g, &g2, &dirs, 20, 1, "chains").unwrap();
        let point = sliced::sliced_w2(&xs2, 2, &g2, &dirs).unwrap();
        assert!((iv.lo - point).abs() < 1e-12 && (iv.hi - point).abs() < 1e-12);
    }
}
