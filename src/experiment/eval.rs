//! `lpmc eval` and the evaluator entry point of `lpmc run`: how far samples are from a target.
//!
//! [`evaluate`] takes row-major samples and a [`Target`] and returns [`Metrics`]: exact 1-D
//! W2/W1 (d = 1) or per-coordinate W2/W1 and sliced W2 (d > 1), the Bures W2 of the
//! moment-matched Gaussian fits, the papers' L2 density distance (d = 1), sample moments, and a
//! bootstrap interval over chains. [`eval_file`] adds the file handling of the CLI: a CSV of
//! samples and a target given inline or as a JSON/TOML file. The math of every metric is in
//! `docs/evaluator.md`.

use crate::error::{Error, Result};
use crate::format::{Codes, Format};
use crate::target::{Dist1, Target, TargetConfig};
use crate::wasserstein::bootstrap::{self, Interval};
use crate::wasserstein::exact1d::{self, Exact1d};
use crate::wasserstein::{density, gaussian, sliced};
use serde::Serialize;
use std::path::Path;

/// What to compute beyond the defaults, and the seeds of its random parts.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalOptions {
    /// Seed of the slicing directions and of the bootstrap (streams `u64::MAX` and
    /// `u64::MAX − 1` of this seed).
    pub seed: u64,
    /// Number of random directions of sliced W2 (d > 1), ≥ 1.
    pub slices: usize,
    /// Bin width of the L2 density histogram; `None`: the step Δ of the fixed-point lattice
    /// the samples lie on (coarsest `2^−k`, k ≤ 30), else the Freedman–Diaconis width.
    pub delta: Option<f64>,
    /// Chain label of every sample (length n), for the bootstrap over chains. `None`, or a
    /// single distinct label: the samples are cut into [`EvalOptions::blocks`] contiguous
    /// blocks instead.
    pub chains: Option<Vec<u64>>,
    /// Number of contiguous blocks standing in for chains when `chains` is `None`.
    pub blocks: usize,
    /// Bootstrap replicates; 0 turns the interval off. `None`: 100 for d = 1, 20 for d > 1
    /// (a sliced replicate costs `slices` exact sweeps).
    pub bootstrap: Option<usize>,
}

impl Default for EvalOptions {
    /// Seed 0, 64 slices, automatic Δ, 20 blocks, automatic replicates.
    fn default() -> Self {
        EvalOptions {
            seed: 0,
            slices: 64,
            delta: None,
            chains: None,
            blocks: 20,
            bootstrap: None,
        }
    }
}

/// Everything [`evaluate`] measures. Distances are in the units of the samples.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Metrics {
    /// Number of samples (rows).
    pub n: usize,
    /// Dimension (columns).
    pub d: usize,
    /// Exact W2 to the target (d = 1; `null` otherwise).
    pub w2: Option<f64>,
    /// Exact W1 to the target (d = 1; `null` otherwise).
    pub w1: Option<f64>,
    /// Exact W2 of each coordinate to the target's marginal (length d).
    pub w2_marginals: Vec<f64>,
    /// Exact W1 of each coordinate to the target's marginal (length d).
    pub w1_marginals: Vec<f64>,
    /// `w2_marginals` summarised over the dimensions.
    pub marginal_w2: Summary,
    /// `w1_marginals` summarised over the dimensions.
    pub marginal_w1: Summary,
    /// Sliced W2 over `slices` seeded directions (d > 1; `null` for d = 1, where it equals
    /// `w2`).
    pub sliced_w2: Option<f64>,
    /// Number of slicing directions used (d > 1).
    pub slices: Option<usize>,
    /// W2 between the Gaussian fits: sample mean and unbiased covariance vs the target's
    /// exact mean and covariance.
    pub bures_w2: f64,
    /// L2 distance between the histogram density estimate and the target density (d = 1).
    pub l2_density: Option<f64>,
    /// Bin width of that histogram.
    pub l2_delta: Option<f64>,
    /// Sample mean (length d).
    pub mean: Vec<f64>,
    /// Sample variance of each coordinate, divisor n − 1 (length d).
    pub var: Vec<f64>,
    /// Target mean (length d).
    pub target_mean: Vec<f64>,
    /// Target variance of each coordinate (length d).
    pub target_var: Vec<f64>,
    /// Bootstrap interval of `w2` (d = 1) or `sliced_w2` (d > 1); `null` when disabled or
    /// with fewer than 2 groups.
    pub interval: Option<Interval>,
    /// The seed of the random parts (directions, bootstrap).
    pub seed: u64,
    /// Distances to a reference sample, when one was given ([`compare_samples`]); `null`
    /// otherwise.
    pub reference: Option<ReferenceMetrics>,
}

/// Distances between the samples and a second, reference sample (e.g. draws from the target
/// by another program, or another sampler's output).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReferenceMetrics {
    /// Number of reference rows.
    pub n: usize,
    /// Exact W2 between the two samples: quantile matching in 1-D (any sizes); optimal
    /// assignment in d > 1 (equal sizes, n ≤ 5000).
    pub w2: f64,
    /// W1 in the convention of scipy's `wasserstein_distance` (d = 1; the papers' W1).
    pub w1_scipy: Option<f64>,
}

/// Exact sample–sample distances between `x` (n×d) and `y` (m×d), both row-major.
/// Errors for d > 1 unless n = m ≤ 5000 (optimal assignment is O(n³)).
pub fn compare_samples(x: &[f64], y: &[f64], d: usize) -> Result<ReferenceMetrics> {
    if d == 0 || !y.len().is_multiple_of(d) {
        return Err(Error::Config(format!(
            "the reference has {} numbers, not rows of {d} columns",
            y.len()
        )));
    }
    if d == 1 {
        Ok(ReferenceMetrics {
            n: y.len(),
            w2: crate::wasserstein::empirical::wp(x, y, 2.0)?,
            w1_scipy: Some(crate::wasserstein::empirical::scipy_w1(x, y)?),
        })
    } else {
        Ok(ReferenceMetrics {
            n: y.len() / d,
            w2: crate::wasserstein::assignment::w2_samples(x, y, d)?,
            w1_scipy: None,
        })
    }
}

/// Scores `samples` (row-major n×d, n ≥ 1, all finite) against `target`.
///
/// This is the entry point `lpmc run` calls after sampling. Deterministic: the same inputs
/// and `opts.seed` give the same bits for any thread count. Cost: O(n log n) per coordinate
/// and per slicing direction (O(n + codes) when the samples lie on a dyadic lattice), times
/// `1 + bootstrap` for the metric that carries the interval; each 1-D term is exact (see
/// [`crate::wasserstein::exact1d`]).
///
/// Errors: `d` not the target's dimension, `samples.len()` not a multiple of d, no samples,
/// non-finite values, `slices` = 0, a bad `delta`, or `chains` of the wrong length.
///
/// ```
/// use lpmc::experiment::eval::{evaluate, EvalOptions};
/// use lpmc::target::Gaussian;
/// let target = Gaussian::diagonal(vec![0.0], vec![1.0]).unwrap();
/// let xs = [-1.0, 0.0, 1.0];
/// let m = evaluate(&xs, 1, &target, &EvalOptions { bootstrap: Some(0), ..Default::default() }).unwrap();
/// assert_eq!(m.n, 3);
/// assert!(m.w2.unwrap() > 0.0 && m.w1.unwrap() <= m.w2.unwrap());
/// ```
pub fn evaluate(
    samples: &[f64],
    d: usize,
    target: &dyn Target,
    opts: &EvalOptions,
) -> Result<Metrics> {
    if d == 0 || target.dim() != d {
        return Err(Error::Config(format!(
            "the samples have {d} columns but the target has dimension {}",
            target.dim()
        )));
    }
    if !samples.len().is_multiple_of(d) {
        return Err(Error::Config(format!(
            "{} numbers do not form rows of {d} columns",
            samples.len()
        )));
    }
    let n = samples.len() / d;
    if n == 0 {
        return Err(Error::Config("no samples (need at least 1 row)".into()));
    }
    if let Some(i) = samples.iter().position(|x| !x.is_finite()) {
        return Err(Error::param(
            format!("sample row {}, column {}", i / d, i % d),
            samples[i],
            "samples must be finite",
        ));
    }
    if opts.slices == 0 {
        return Err(Error::param("slices", 0, "must be at least 1"));
    }
    if let Some(c) = &opts.chains {
        if c.len() != n {
            return Err(Error::Config(format!(
                "{} chain labels for {n} samples",
                c.len()
            )));
        }
    }
    let column = |i: usize| -> Vec<f64> { samples.iter().skip(i).step_by(d).copied().collect() };
    let (mean, cov) = gaussian::mean_cov(samples, d)?;
    let (tmean, tcov) = (target.mean(), target.cov());
    let mut w2m = Vec::with_capacity(d);
    let mut w1m = Vec::with_capacity(d);
    for i in 0..d {
        let e = exact_1d(&column(i), &target.marginal(i))?;
        w2m.push(e.w2);
        w1m.push(e.w1);
    }
    let bures = gaussian::bures_w2(&mean, &cov, &tmean, &tcov)?;
    // Chains when there are at least two, else contiguous blocks (a single chain is split).
    let by_chain = opts
        .chains
        .as_ref()
        .map(|c| bootstrap::dense_groups(c))
        .filter(|&(_, g)| g >= 2);
    let (groups, g, from) = match by_chain {
        Some((gr, g)) => (gr, g, "chains"),
        None => {
            let (gr, g) = bootstrap::block_groups(n, opts.blocks);
            (gr, g, "blocks")
        }
    };
    let replicates = opts.bootstrap.unwrap_or(if d == 1 { 100 } else { 20 });
    let want_interval = replicates >= 2 && g >= 2;
    let (sliced_w2, slices, l2, l2_delta, interval) = if d == 1 {
        let xs = column(0);
        let law = target.marginal(0);
        let delta = match opts.delta {
            Some(x) => x,
            None => density::lattice_step(&xs).unwrap_or_else(|| density::freedman_diaconis(&xs)),
        };
        let l2 = density::l2_histogram(&xs, &law, delta)?;
        let interval = if want_interval {
            Some(bootstrap::w2_1d(
                &xs, &groups, g, &law, replicates, opts.seed, from,
            )?)
        } else {
            None
        };
        (None, None, Some(l2), Some(delta), interval)
    } else {
        let dirs = sliced::directions(d, opts.slices, opts.seed);
        let s = sliced::sliced_w2(samples, d, target, &dirs)?;
        let interval = if want_interval {
            Some(bootstrap::sliced_w2(
                samples, d, &groups, g, target, &dirs, replicates, opts.seed, from,
            )?)
        } else {
            None
        };
        (Some(s), Some(opts.slices), None, None, interval)
    };
    Ok(Metrics {
        n,
        d,
        w2: (d == 1).then(|| w2m[0]),
        w1: (d == 1).then(|| w1m[0]),
        marginal_w2: Summary::of(&w2m),
        marginal_w1: Summary::of(&w1m),
        w2_marginals: w2m,
        w1_marginals: w1m,
        sliced_w2,
        slices,
        bures_w2: bures,
        l2_density: l2,
        l2_delta,
        var: (0..d).map(|i| cov[i * d + i]).collect(),
        mean,
        target_var: (0..d).map(|i| tcov[i * d + i]).collect(),
        target_mean: tmean,
        interval,
        seed: opts.seed,
        reference: None,
    })
}

/// Mean, median and maximum of a per-dimension quantity.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Arithmetic mean over the dimensions.
    pub mean: f64,
    /// Median over the dimensions (the mean of the two middle values for an even count).
    pub median: f64,
    /// Largest value.
    pub max: f64,
}

impl Summary {
    /// The summary of `v` (NaN entries for an empty `v`). O(d log d).
    pub fn of(v: &[f64]) -> Self {
        if v.is_empty() {
            return Summary {
                mean: f64::NAN,
                median: f64::NAN,
                max: f64::NAN,
            };
        }
        let mut s = v.to_vec();
        s.sort_by(f64::total_cmp);
        let n = s.len();
        let median = if n % 2 == 1 {
            s[n / 2]
        } else {
            0.5 * (s[n / 2 - 1] + s[n / 2])
        };
        Summary {
            mean: s.iter().sum::<f64>() / n as f64,
            median,
            max: s[n - 1],
        }
    }
}

/// What [`evaluate_high_dim`] computes.
#[derive(Clone, Debug, PartialEq)]
pub struct HighDimOptions {
    /// Seed of the slicing directions (stream `u64::MAX` of it).
    pub seed: u64,
    /// Sliced-W2 directions; 0 skips sliced W2.
    pub slices: usize,
    /// Whether to compute the exact W2/W1 of every marginal.
    pub marginals: bool,
}

/// The metrics of a high-dimensional run ([`evaluate_high_dim`]); per-dimension vectors are
/// kept for `marginals.csv` but not serialized.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HighDimMetrics {
    /// Rows scored.
    pub n: usize,
    /// Dimension.
    pub d: usize,
    /// Exact 1-D W2 of every coordinate's samples to the target's marginal, summarised.
    pub marginal_w2: Option<Summary>,
    /// The same for W1.
    pub marginal_w1: Option<Summary>,
    /// Per-dimension W2 of the marginals (not serialized).
    #[serde(skip)]
    pub w2_marginals: Vec<f64>,
    /// Per-dimension W1 of the marginals (not serialized).
    #[serde(skip)]
    pub w1_marginals: Vec<f64>,
    /// Sliced W2 over `slices` seeded directions, `null` when skipped.
    pub sliced_w2: Option<f64>,
    /// Directions of sliced W2.
    pub slices: usize,
    /// W2 between the target and the Gaussian N(mean, diag(var)) fitted to the streamed
    /// moments of every kept sample (diagonal targets; `null` otherwise), O(d).
    pub bures_w2_diagonal: Option<f64>,
}

/// Scores a high-dimensional run in O(n·d) time and O(n + d) extra memory, never forming a
/// d×d matrix: the exact 1-D W2/W1 of every marginal of the row-major n×d `samples` (the
/// same 1-D evaluator as [`evaluate`]), sliced W2 over `opts.slices` directions generated
/// one at a time ([`sliced::sliced_w2_streamed`]), and, for a target with diagonal
/// covariance, the diagonal Bures W2 between the target and `N(mean, diag(var))` of the
/// streamed moments (`moments`: per-dimension mean and variance of every kept sample).
/// `samples` may be empty (no rows kept): then only the Bures term is computed.
///
/// Cost: marginals O(n log n) per dimension (O(n + codes) on a dyadic lattice); sliced W2
/// `slices`·(d Gaussian draws + n·d multiply-adds + an n-point exact 1-D W2); Bures O(d).
pub fn evaluate_high_dim(
    samples: &[f64],
    d: usize,
    target: &dyn Target,
    moments: (&[f64], &[f64]),
    opts: &HighDimOptions,
) -> Result<HighDimMetrics> {
    if d == 0 || target.dim() != d || !samples.len().is_multiple_of(d) {
        return Err(Error::Config(format!(
            "{} numbers do not form rows of the target's dimension {} (got d = {d})",
            samples.len(),
            target.dim()
        )));
    }
    let n = samples.len() / d;
    if n > 0 {
        crate::wasserstein::check_samples("samples", samples)?;
    }
    let (mut w2m, mut w1m) = (Vec::new(), Vec::new());
    if n > 0 && opts.marginals {
        use rayon::prelude::*;
        let per: Vec<(f64, f64)> = (0..d)
            .into_par_iter()
            .map(|i| {
                let col: Vec<f64> = samples.iter().skip(i).step_by(d).copied().collect();
                exact_1d(&col, &target.marginal(i)).map(|e| (e.w2, e.w1))
            })
            .collect::<Result<_>>()?;
        (w2m, w1m) = per.into_iter().unzip();
    }
    let sliced_w2 = if n > 0 && opts.slices > 0 && d > 1 {
        Some(sliced::sliced_w2_streamed(
            samples,
            d,
            target,
            opts.slices,
            opts.seed,
        )?)
    } else {
        None
    };
    let bures_w2_diagonal = if target.has_diagonal_cov() && moments.0.len() == d {
        gaussian::bures_w2_diagonal(moments.0, moments.1, &target.mean(), &target.var()).ok()
    } else {
        None
    };
    Ok(HighDimMetrics {
        n,
        d,
        marginal_w2: (!w2m.is_empty()).then(|| Summary::of(&w2m)),
        marginal_w1: (!w1m.is_empty()).then(|| Summary::of(&w1m)),
        w2_marginals: w2m,
        w1_marginals: w1m,
        sliced_w2,
        slices: opts.slices,
        bures_w2_diagonal,
    })
}

/// The primary distance alone, for a W2-vs-iteration series: the exact W2 when d = 1, the
/// sliced W2 over `slices` directions from `seed` otherwise (the same directions for every
/// call with the same arguments, so points of a series are comparable). Same errors as
/// [`evaluate`]. Cost: one exact 1-D sweep (d = 1) or `slices` of them.
pub fn primary_distance(
    samples: &[f64],
    d: usize,
    target: &dyn Target,
    seed: u64,
    slices: usize,
) -> Result<f64> {
    if d == 0 || target.dim() != d || !samples.len().is_multiple_of(d) || samples.is_empty() {
        return Err(Error::Config(format!(
            "{} numbers do not form rows of the target's dimension {} (got d = {d})",
            samples.len(),
            target.dim()
        )));
    }
    crate::wasserstein::check_samples("samples", samples)?;
    if d == 1 {
        Ok(exact_1d(samples, &target.marginal(0))?.w2)
    } else {
        if slices == 0 {
            return Err(Error::param("slices", 0, "must be at least 1"));
        }
        sliced::sliced_w2_streamed(samples, d, target, slices, seed)
    }
}

/// Exact 1-D distances, through the code histogram when the values lie on a dyadic lattice
/// with a modest code span (bit-for-bit the same result as sorting, only faster).
fn exact_1d(xs: &[f64], law: &Dist1) -> Result<Exact1d> {
    if let Some(step) = density::lattice_step(xs) {
        let fl = (-step.log2()).round() as u32;
        let codes: Vec<i64> = xs.iter().map(|&x| (x / step) as i64).collect();
        let (lo, hi) = codes
            .iter()
            .fold((i64::MAX, i64::MIN), |(a, b), &c| (a.min(c), b.max(c)));
        let fits = lo > -(1 << 62) && hi < (1 << 62);
        if fits && (hi - lo) < (1 << 24) {
            let format = Format::new(64, fl)?;
            return exact1d::to_law_codes(&Codes::I64(codes), format, law);
        }
    }
    exact1d::to_law(xs, law)
}

/// A table of samples read from CSV.
#[derive(Clone, Debug, PartialEq)]
pub struct SampleTable {
    /// Names of the sample columns (`x0, x1, …` when the file has no header).
    pub columns: Vec<String>,
    /// Values, row-major n×d (d = `columns.len()`).
    pub values: Vec<f64>,
    /// The `chain` column, when present.
    pub chains: Option<Vec<u64>>,
}

/// Parses CSV samples: one column per dimension, comma-separated, an optional header line
/// (detected as a first line with a field that is not a number), blank lines ignored. A
/// column named `chain` holds chain labels (non-negative integers) and is not a dimension.
/// Errors name the line: ragged rows, fields that are not numbers, NaN or ±inf, no rows.
pub fn parse_csv(text: &str, source: &str) -> Result<SampleTable> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty())
        .peekable();
    let split = |l: &str| -> Vec<String> {
        l.split(',')
            .map(|f| f.trim().trim_matches('"').trim().to_string())
            .collect()
    };
    let first = match lines.peek() {
        Some(&(_, l)) => split(l),
        None => {
            return Err(Error::Config(format!(
                "{source}: no samples (the file is empty)"
            )))
        }
    };
    let has_header = first.iter().any(|f| f.parse::<f64>().is_err());
    let names: Vec<String> = if has_header {
        lines.next();
        first
    } else {
        (0..first.len()).map(|i| format!("x{i}")).collect()
    };
    let chain_col = names.iter().position(|n| n == "chain");
    let columns: Vec<String> = names
        .iter()
        .enumerate()
        .filter(|&(i, _)| Some(i) != chain_col)
        .map(|(_, n)| n.clone())
        .collect();
    if columns.is_empty() {
        return Err(Error::Config(format!("{source}: no sample columns")));
    }
    let mut values = Vec::new();
    let mut chains = chain_col.map(|_| Vec::new());
    for (line, l) in lines {
        let fields = split(l);
        if fields.len() != names.len() {
            return Err(Error::Config(format!(
                "{source}: line {line} has {} fields, expected {} (ragged CSV)",
                fields.len(),
                names.len()
            )));
        }
        for (i, f) in fields.iter().enumerate() {
            if Some(i) == chain_col {
                let c: u64 = f.parse().map_err(|_| {
                    Error::Config(format!(
                        "{source}: line {line}: chain label `{f}` is not a non-negative integer"
                    ))
                })?;
                if let Some(v) = chains.as_mut() {
                    v.push(c);
                }
                continue;
            }
            let x: f64 = f.parse().map_err(|_| {
                Error::Config(format!(
                    "{source}: line {line}, column `{}`: `{f}` is not a number",
                    names[i]
                ))
            })?;
            if !x.is_finite() {
                return Err(Error::Config(format!(
                    "{source}: line {line}, column `{}`: {x} is not finite",
                    names[i]
                )));
            }
            values.push(x);
        }
    }
    if values.is_empty() {
        return Err(Error::Config(format!(
            "{source}: no samples (no data rows)"
        )));
    }
    Ok(SampleTable {
        columns,
        values,
        chains,
    })
}

/// Reads a target: inline JSON (`{"gaussian": …}`, `"paper-mixture"`), a bare variant name
/// (`paper-mixture`), or a path to a JSON or TOML file (by the `.toml` extension) holding
/// either the target itself or a config with a `target` field. The target is validated
/// (positive variances, weights summing to 1, dimensions agreeing).
pub fn load_target(arg: &str) -> Result<TargetConfig> {
    let t = arg.trim();
    let value: serde_json::Value = if t.starts_with('{') || t.starts_with('"') {
        serde_json::from_str(t).map_err(|e| Error::Config(format!("--target: bad JSON: {e}")))?
    } else if Path::new(t).is_file() {
        let text = std::fs::read_to_string(t).map_err(|e| Error::Io {
            path: t.into(),
            source: e,
        })?;
        if t.ends_with(".toml") {
            let v: toml::Value =
                toml::from_str(&text).map_err(|e| Error::Config(format!("{t}: bad TOML: {e}")))?;
            serde_json::to_value(v).map_err(|e| Error::Config(format!("{t}: {e}")))?
        } else {
            serde_json::from_str(&text).map_err(|e| Error::Config(format!("{t}: bad JSON: {e}")))?
        }
    } else if t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') && !t.is_empty() {
        serde_json::Value::String(t.to_string())
    } else {
        return Err(Error::Config(format!(
            "--target `{t}` is neither inline JSON nor an existing file"
        )));
    };
    let value = match value {
        serde_json::Value::Object(mut m) if m.contains_key("target") => {
            m.remove("target").unwrap_or_default()
        }
        v => v,
    };
    let config: TargetConfig =
        serde_json::from_value(value).map_err(|e| Error::Config(format!("--target: {e}")))?;
    config.build()?;
    Ok(config)
}

/// `lpmc eval`: reads the CSV at `samples`, the target from `target` ([`load_target`]), uses
/// the file's `chain` column (if any) as chain labels, and returns [`evaluate`]'s metrics,
/// plus [`compare_samples`] against the CSV at `reference` when given.
pub fn eval_file(
    samples: &Path,
    target: &str,
    reference: Option<&Path>,
    opts: &EvalOptions,
) -> Result<Metrics> {
    let config = load_target(target)?;
    let target = config.build()?;
    let text = std::fs::read_to_string(samples).map_err(|e| Error::Io {
        path: samples.to_path_buf(),
        source: e,
    })?;
    let table = parse_csv(&text, &samples.display().to_string())?;
    let d = table.columns.len();
    if d != target.dim() {
        return Err(Error::Config(format!(
            "{}: {d} sample columns ({}) but the target has dimension {}",
            samples.display(),
            table.columns.join(", "),
            target.dim()
        )));
    }
    let reference = match reference {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
                path: path.to_path_buf(),
                source: e,
            })?;
            let r = parse_csv(&text, &path.display().to_string())?;
            if r.columns.len() != d {
                return Err(Error::Config(format!(
                    "{}: {} columns but the samples have {d}",
                    path.display(),
                    r.columns.len()
                )));
            }
            Some(r.values)
        }
        None => None,
    };
    let mut opts = opts.clone();
    if opts.chains.is_none() {
        opts.chains = table.chains;
    }
    eval_samples(
        &table.values,
        d,
        target.as_ref(),
        reference.as_deref(),
        &opts,
    )
}

/// [`evaluate`]'s metrics of the row-major n×`d` `samples`, plus [`compare_samples`]
/// against the row-major `reference` sample (same `d`) when given: `lpmc eval` on values.
pub fn eval_samples(
    samples: &[f64],
    d: usize,
    target: &dyn Target,
    reference: Option<&[f64]>,
    opts: &EvalOptions,
) -> Result<Metrics> {
    let reference = match reference {
        Some(r) => Some(compare_samples(samples, r, d)?),
        None => None,
    };
    let mut metrics = evaluate(samples, d, target, opts)?;
    metrics.reference = reference;
    Ok(metrics)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::{Gaussian, Mixture};

    /// The high-dimensional evaluator's marginal W2/W1 are the 1-D evaluator's on the same
    /// columns (the same bits), on lattice data (the code-histogram route) and off it, and
    /// agree with [`evaluate`]'s per-coordinate values; its summary is their mean, median and
    /// max; its sliced W2 is `evaluate`'s over the same seeded directions; its diagonal
    /// Bures W2 is the full Bures formula for diagonal covariances.
    #[test]
    fn high_dim_marginals_are_the_1d_evaluator() {
        let (d, n) = (5, 200);
        let t = Gaussian::diagonal(
            vec![0.0, 1.0, -0.5, 2.0, 0.25],
            vec![1.0, 0.5, 2.0, 0.25, 1.5],
        )
        .unwrap();
        let mut bits = lpmc_kernels::Xoshiro::new(4, 0);
        let mut z = vec![0.0; n * d];
        crate::wasserstein::sliced::normals(&mut bits, &mut z);
        let off: Vec<f64> = z
            .iter()
            .enumerate()
            .map(|(i, x)| x * 1.1 + (i % d) as f64 * 0.3)
            .collect();
        let on: Vec<f64> = off.iter().map(|x| (x * 16.0).round() / 16.0).collect();
        for xs in [&off, &on] {
            let opts = HighDimOptions {
                seed: 2,
                slices: 8,
                marginals: true,
            };
            let (m, v) = gaussian::mean_cov(xs, d).unwrap();
            let var: Vec<f64> = (0..d).map(|i| v[i * d + i]).collect();
            let h = evaluate_high_dim(xs, d, &t, (&m, &var), &opts).unwrap();
            for i in 0..d {
                let col: Vec<f64> = xs.iter().skip(i).step_by(d).copied().collect();
                let e = exact1d::to_law(&col, &t.marginal(i)).unwrap();
                assert_eq!(
                    (h.w2_marginals[i], h.w1_marginals[i]),
                    (e.w2, e.w1),
                    "dim {i}"
                );
            }
            let low = evaluate(
                xs,
                d,
                &t,
                &EvalOptions {
                    seed: 2,
                    slices: 8,
                    bootstrap: Some(0),
                    ..Default::default()
                },
            )
            .unwrap();
            assert_eq!(h.w2_marginals, low.w2_marginals);
            assert_eq!(h.marginal_w2, Some(low.marginal_w2));
            assert_eq!(h.sliced_w2, low.sliced_w2);
            let mut sorted = h.w2_marginals.clone();
            sorted.sort_by(f64::total_cmp);
            let s = h.marginal_w2.unwrap();
            assert_eq!((s.median, s.max), (sorted[2], sorted[4]));
            assert!((s.mean - sorted.iter().sum::<f64>() / 5.0).abs() < 1e-15);
            let full = gaussian::bures_w2(&m, &v_diag(&var), &t.mean(), &t.cov()).unwrap();
            assert!((h.bures_w2_diagonal.unwrap() - full).abs() < 1e-12);
        }
        // Even counts take the mean of the two middle values.
        assert_eq!(Summary::of(&[4.0, 1.0, 3.0, 2.0]).median, 2.5);
    }

    /// The d×d diagonal matrix of `v`.
    fn v_diag(v: &[f64]) -> Vec<f64> {
        let d = v.len();
        let mut m = vec![0.0; d * d];
        for i in 0..d {
            m[i * d + i] = v[i];
        }
        m
    }

    #[test]
    fn csv_forms() {
        let t = parse_csv("chain,x0,x1\n0,1.0,2.0\n1,3,4\n\n", "f").unwrap();
        assert_eq!(t.columns, vec!["x0", "x1"]);
        assert_eq!(t.values, vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(t.chains, Some(vec![0, 1]));
        let t = parse_csv("\"chain\", \"x0\"\r\n3, 1.5\r\n", "f").unwrap();
        assert_eq!(
            (t.columns.clone(), t.chains.clone()),
            (vec!["x0".to_string()], Some(vec![3]))
        );
        let t = parse_csv("1.5\n-2\n", "f").unwrap();
        assert_eq!((t.columns.len(), t.values.len(), t.chains), (1, 2, None));
        assert!(parse_csv("", "f").is_err());
        assert!(parse_csv("x\n", "f").is_err());
        assert!(parse_csv("1,2\n3\n", "f").is_err());
        assert!(parse_csv("1\nnan\n", "f").is_err());
        assert!(parse_csv("1\ninf\n", "f").is_err());
        assert!(parse_csv("chain,x\n-1,0.5\n", "f").is_err());
    }

    #[test]
    fn targets_inline_and_named() {
        assert_eq!(
            load_target("paper-mixture").unwrap(),
            TargetConfig::PaperMixture
        );
        assert!(load_target(r#"{"gaussian": {"mean": [0.0], "var": [1.0]}}"#).is_ok());
        assert!(load_target(r#"{"target": {"gaussian": {"mean": [0.0], "var": [1.0]}}}"#).is_ok());
        assert!(load_target(r#"{"gaussian": {"mean": [0.0], "var": [-1.0]}}"#).is_err());
        assert!(load_target("no/such/file.json").is_err());
    }

    #[test]
    fn metrics_1d_and_2d() {
        let t = Mixture::paper();
        // Samples on the FL = 4 lattice: the code-histogram path and L2 at Δ = 1/16.
        let xs: Vec<f64> = (0..1000)
            .map(|i| (t_quantile(&t, (i as f64 + 0.5) / 1000.0) * 16.0).round() / 16.0)
            .collect();
        let m = evaluate(&xs, 1, &t, &EvalOptions::default()).unwrap();
        assert_eq!(m.l2_delta, Some(1.0 / 16.0));
        // Gelbrich: W2 ≥ Bures of the moment fits. With the n − 1 divisor the fitted sd is
        // larger by ≈ σ/(2n), which can raise bures_w2 by at most that much.
        let slack = m.var[0].sqrt() / (2.0 * m.n as f64);
        assert!(
            m.bures_w2 <= m.w2.unwrap() + slack,
            "{} vs {}",
            m.bures_w2,
            m.w2.unwrap()
        );
        let sorted = exact1d::to_law(&xs, &t.marginal(0)).unwrap();
        assert_eq!(m.w2.unwrap().to_bits(), sorted.w2.to_bits());
        let iv = m.interval.clone().unwrap();
        assert!(iv.lo <= iv.hi && iv.groups == 20 && iv.groups_from == "blocks");
        assert!(m.sliced_w2.is_none());
        let g = Gaussian::diagonal(vec![0.0, 1.0], vec![1.0, 2.0]).unwrap();
        let ys: Vec<f64> = (0..200)
            .map(|i| ((i * 7919 % 211) as f64 / 50.0) - 2.0)
            .collect();
        let m2 = evaluate(&ys, 2, &g, &EvalOptions::default()).unwrap();
        assert!(m2.w2.is_none() && m2.sliced_w2.is_some() && m2.l2_density.is_none());
        assert_eq!(m2.w2_marginals.len(), 2);
        assert!(evaluate(&ys, 1, &g, &EvalOptions::default()).is_err());
        // The series helper gives the same primary numbers.
        let o = EvalOptions::default();
        assert_eq!(
            primary_distance(&ys, 2, &g, o.seed, o.slices).unwrap(),
            m2.sliced_w2.unwrap()
        );
        assert_eq!(primary_distance(&xs, 1, &t, 0, 1).unwrap(), m.w2.unwrap());
        assert!(primary_distance(&[], 1, &t, 0, 1).is_err());
        assert!(evaluate(&ys[..3], 2, &g, &EvalOptions::default()).is_err());
    }

    fn t_quantile(t: &Mixture, p: f64) -> f64 {
        t.marginal(0).quantile(p)
    }
}
