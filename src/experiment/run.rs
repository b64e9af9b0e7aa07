//! `lpmc run CONFIG`: build the target and sampler of a config, run the chains, write
//! `DIR/samples.csv`, for 1-D targets `DIR/histogram.svg`/`.png`, and then `DIR/result.json` (each atomically; `result.json` last, so its
//! presence means the run finished).

use super::chains::{run_chains, ChainSpec, ChainsOutput, Progress};
use super::config::{Built, EvaluationConfig, RunConfig, HIGH_DIM};
use super::eval::{evaluate, evaluate_high_dim, EvalOptions, HighDimOptions};
use super::memory;
use crate::diagnostics::{self, Warning};
use crate::error::Result;
use crate::output::{write_atomic_with, write_json};
use crate::plot::{write_histogram, Histogram, Series};
use crate::target::Target;
use crate::wasserstein::density::lattice_step;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Command-line overrides of a run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunOptions {
    /// Memory the run may use in bytes (`--max-memory`), instead of what the machine has
    /// available ([`crate::experiment::memory`]).
    pub max_memory: Option<u64>,
    /// Output directory.
    pub out: PathBuf,
    /// Seed overriding the config's.
    pub seed: Option<u64>,
    /// Worker threads (default: one per core). Results do not depend on it.
    pub threads: Option<usize>,
    /// Show a progress bar on stderr (when it is a terminal and the run exceeds a second).
    pub progress: bool,
}

/// `result.json`.
#[derive(Clone, Debug, Serialize)]
pub struct RunResult {
    /// Version of lpmc that produced the file.
    pub lpmc_version: String,
    /// Seed of the run.
    pub seed: u64,
    /// The full resolved config (per-quantity formats filled in, seed overridden).
    pub config: RunConfig,
    /// What was measured.
    pub metrics: Metrics,
    /// Rows written to `samples.csv`.
    pub sample_rows: usize,
    /// The formats `config.formats` holds that were derived by the default rule rather than
    /// given (`coef`, `accum`, `noise` on the integer datapath; docs/config.md).
    pub derived_formats: Vec<String>,
    /// Diagnostics before and after the run ([`crate::diagnostics`]).
    pub warnings: Vec<Warning>,
    /// The memory estimate the run was checked against and the memory it used.
    pub memory: MemoryUse,
    /// The budget of returned kept samples and what it dropped.
    pub samples: SampleBudget,
}

/// The `samples` of `result.json`: how many kept samples were returned (rows of
/// `samples.csv`, the evaluator's input) and why the others were dropped. The streamed
/// moments (`metrics.mean`/`var` or `moments.csv`) cover every kept sample regardless.
#[derive(Clone, Debug, Serialize)]
pub struct SampleBudget {
    /// The budget in bytes (`max_samples_bytes`, 8 bytes a coordinate).
    pub budget_bytes: u64,
    /// `max_sample_rows` of the config.
    pub max_sample_rows: usize,
    /// The cap that applied: the smaller of `max_sample_rows` and the rows the budget holds.
    pub row_cap: usize,
    /// Kept samples over all chains.
    pub kept: u64,
    /// Rows returned.
    pub rows: usize,
    /// Kept samples not returned (`kept − rows`).
    pub dropped: u64,
    /// What limited the rows: `max_samples_bytes`, `max_sample_rows`, or `null` when every
    /// kept sample was returned.
    pub limited_by: Option<&'static str>,
}

/// The `memory` of `result.json`, in bytes.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct MemoryUse {
    /// What [`memory::estimate`] gave before the run (meant to be high).
    pub estimate: u64,
    /// The process's peak resident memory when `result.json` was written
    /// ([`memory::peak_resident`]; `null` where it cannot be read).
    pub peak_resident: Option<u64>,
}

/// The `metrics` of `result.json`.
#[derive(Clone, Debug, Serialize)]
pub struct Metrics {
    /// Mean per dimension over all kept samples of all chains (streamed); above 1000
    /// dimensions in `moments.csv` instead (then absent here).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mean: Vec<f64>,
    /// Variance (divisor n) per dimension over all kept samples of all chains (streamed);
    /// above 1000 dimensions in `moments.csv`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub var: Vec<f64>,
    /// The target's exact mean per dimension (absent above 1000 dimensions).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub target_mean: Vec<f64>,
    /// The target's exact variance per dimension (absent above 1000 dimensions).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub target_var: Vec<f64>,
    /// Kept samples over all chains.
    pub kept_samples: u64,
    /// Overflow events (saturations or wraps) of all roundings of all chains.
    pub saturations: u64,
    /// The same events per quantity: `param`, `momentum`, `grad`, `accum`, `noise`.
    pub saturations_by_quantity: BTreeMap<String, u64>,
    /// Chain-steps per second.
    pub steps_per_s: f64,
    /// Wall-clock seconds of the chains.
    pub wall_s: f64,
    /// Further metrics (W2, W1, … added by the evaluator), by name.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// A progress bar on stderr that appears once the run has taken a second.
pub(crate) struct Bar {
    pub(crate) bar: indicatif::ProgressBar,
    start: Instant,
    shown: Mutex<bool>,
    enabled: bool,
}

impl Bar {
    pub(crate) fn new(total: u64, enabled: bool) -> Self {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(total),
            indicatif::ProgressDrawTarget::hidden(),
        );
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {percent:>3}% {human_pos}/{human_len} chain-steps, eta {eta}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        Bar {
            bar,
            start: Instant::now(),
            shown: Mutex::new(false),
            enabled: enabled && std::io::stderr().is_terminal(),
        }
    }
}

impl Progress for Bar {
    fn add(&self, n: u64) {
        self.bar.inc(n);
        if self.enabled && self.start.elapsed() > Duration::from_secs(1) {
            if let Ok(mut shown) = self.shown.lock() {
                if !*shown {
                    *shown = true;
                    self.bar
                        .set_draw_target(indicatif::ProgressDrawTarget::stderr());
                }
            }
        }
    }
}

/// A validated run, not yet started: the config with its overrides, the built sampler and
/// target, and the diagnostics known before the run ([`crate::diagnostics::before_run`]).
#[derive(Debug)]
pub struct Prepared {
    config: RunConfig,
    built: Built,
    /// The diagnostics before the run.
    pub warnings: Vec<Warning>,
    /// The memory estimate of the run, in bytes.
    pub memory_estimate: u64,
}

/// Validates `config` with `opts` (overrides, thread count, the build, the memory estimate
/// against what the run may use) and computes the diagnostics before the run. Nothing is
/// written.
pub fn prepare(config: &RunConfig, opts: &RunOptions) -> Result<Prepared> {
    let mut config = config.clone();
    if let Some(s) = opts.seed {
        config.seed = s;
    }
    if opts.threads == Some(0) {
        return Err(crate::Error::param("--threads", 0, "must be at least 1"));
    }
    let threads = opts.threads.unwrap_or_else(rayon::current_num_threads);
    // The build allocates only the target (its size is checked first) and the sampler's
    // constants; the chains' memory is checked against the built layout before they start.
    let built = config.build()?;
    let shape = memory::Shape::of(built.sampler.as_ref(), Some(built.target.as_ref()))?;
    let rows = memory::rows(&config, false);
    memory::check_run(&config, &shape, rows, threads, opts.max_memory, "this run")?;
    let memory_estimate = memory::estimate(&config, &shape, rows, threads);
    let warnings = diagnostics::before_run(&config, &built);
    Ok(Prepared {
        config,
        built,
        warnings,
        memory_estimate,
    })
}

/// Runs `config` with `opts` and writes the outputs; returns what `result.json` holds.
/// Everything is validated before anything is written ([`prepare`], then [`Prepared::run`]).
pub fn run(config: &RunConfig, opts: &RunOptions) -> Result<RunResult> {
    prepare(config, opts)?.run(opts)
}

impl Prepared {
    /// Runs the chains, scores them and writes the outputs (see [`run`]). A `result.json`
    /// left in `opts.out` by an earlier run is removed first, so that until this run
    /// finishes the directory never holds a `result.json` that does not describe its other
    /// files; temporary files of killed runs are removed too.
    pub fn run(self, opts: &RunOptions) -> Result<RunResult> {
        crate::output::remove_if_present(&opts.out.join("result.json"))?;
        crate::output::remove_stale_temporaries(&opts.out);
        let bar = Bar::new(self.config.steps * self.config.chains as u64, opts.progress);
        let mut done = self.compute(opts.threads, &bar)?;
        bar.bar.finish_and_clear();
        if done.moments_csv {
            write_atomic_with(&opts.out.join("moments.csv"), |w| {
                write_moments_csv(w, &done.chains.mean, &done.chains.var)
            })?;
        }
        if let Some((w2, w1)) = &done.marginals {
            write_atomic_with(&opts.out.join("marginals.csv"), |w| {
                write_marginals_csv(w, w2, w1)
            })?;
        }
        write_outputs(
            &opts.out,
            &mut done.result,
            &done.chains,
            &done.samples,
            done.target.as_ref(),
        )?;
        Ok(done.result)
    }

    /// Runs the chains on `threads` workers (default one per core) and scores them, writing
    /// nothing: what [`Prepared::run`] writes, as values. `progress` hears of the chain-steps
    /// and can stop the run ([`Progress::stopped`]).
    pub fn compute(self, threads: Option<usize>, progress: &dyn Progress) -> Result<Computed> {
        let Prepared {
            config,
            built,
            warnings,
            memory_estimate,
        } = self;
        run_prepared(config, built, warnings, memory_estimate, threads, progress)
    }
}

/// A finished run as values ([`Prepared::compute`]).
pub struct Computed {
    /// What `result.json` holds (`memory.peak_resident` as of the end of the run).
    pub result: RunResult,
    /// The chains' output; `rows` are `samples.csv`'s rows.
    pub chains: ChainsOutput,
    /// The kept samples of `rows`, row-major (rows × target dimension).
    pub samples: Vec<f64>,
    /// The built target.
    pub target: Box<dyn Target>,
    /// Whether the per-dimension moments go to `moments.csv` (above 1000 dimensions).
    pub moments_csv: bool,
    /// Per-dimension marginal `(W2, W1)` when `marginals.csv` is asked for.
    pub marginals: Option<(Vec<f64>, Vec<f64>)>,
}

fn run_prepared(
    config: RunConfig,
    built: Built,
    mut warnings: Vec<Warning>,
    memory_estimate: u64,
    threads: Option<usize>,
    progress: &dyn Progress,
) -> Result<Computed> {
    let spec = ChainSpec {
        chains: config.chains,
        steps: config.steps,
        burn_in: config.burn_in,
        thin: config.thin,
        seed: config.seed,
        source: config.source,
        x0: built.x0.clone(),
        max_rows: config.sample_rows_cap(built.target.dim()),
        threads,
    };
    let out = run_chains(
        built.sampler.as_ref(),
        built.target.as_ref(),
        &spec,
        progress,
    )?;

    let d = built.target.dim();
    let high = d > HIGH_DIM;
    let kept_all = out.kept;
    let row_cap = spec_rows_cap(&config, d);
    let samples = SampleBudget {
        budget_bytes: config.samples_budget(),
        max_sample_rows: config.max_sample_rows,
        row_cap,
        kept: kept_all,
        rows: out.rows.len(),
        dropped: kept_all.saturating_sub(out.rows.len() as u64),
        limited_by: (kept_all > out.rows.len() as u64).then_some(
            if row_cap < config.max_sample_rows {
                "max_samples_bytes"
            } else {
                "max_sample_rows"
            },
        ),
    };
    let (target_mean, target_var) = (built.target.mean(), built.target.var());
    let result = RunResult {
        lpmc_version: env!("CARGO_PKG_VERSION").to_string(),
        seed: config.seed,
        config: config.resolved(),
        metrics: Metrics {
            mean: if high { Vec::new() } else { out.mean.clone() },
            var: if high { Vec::new() } else { out.var.clone() },
            target_mean: if high {
                Vec::new()
            } else {
                target_mean.clone()
            },
            target_var: if high { Vec::new() } else { target_var.clone() },
            kept_samples: out.kept,
            saturations: out.saturations,
            saturations_by_quantity: [
                ("param", out.events.param),
                ("momentum", out.events.momentum),
                ("grad", out.events.grad),
                ("accum", out.events.accum),
                ("noise", out.events.noise),
            ]
            .into_iter()
            .map(|(k, n)| (k.to_string(), n))
            .collect(),
            steps_per_s: out.steps_per_s,
            wall_s: out.wall_s,
            extra: BTreeMap::new(),
        },
        sample_rows: out.rows.len(),
        derived_formats: config
            .derived_formats()
            .into_iter()
            .map(String::from)
            .collect(),
        warnings: Vec::new(),
        memory: MemoryUse {
            estimate: memory_estimate,
            peak_resident: None,
        },
        samples,
    };
    let mut result = result;
    let flat: Vec<f64> = out
        .rows
        .iter()
        .flat_map(|(_, x)| x.iter().copied())
        .collect();
    let evaluation = config.evaluation();
    let marginals = if high {
        result.metrics.extra.insert(
            "moments".to_string(),
            moments_summary(&out.mean, &out.var, &target_mean, &target_var),
        );
        score_high_dim(
            &mut result.metrics,
            &flat,
            &out,
            built.target.as_ref(),
            config.seed,
            &evaluation,
        )
    } else {
        score(
            &mut result.metrics,
            &flat,
            &out,
            built.target.as_ref(),
            config.seed,
        )
    };
    warnings.extend(diagnostics::after_chains(
        &config,
        built.target.as_ref(),
        &out,
    ));
    warnings.extend(missing_metrics(
        &result.metrics,
        &flat,
        built.target.as_ref(),
        &evaluation,
    ));
    result.warnings = warnings;
    result.memory.peak_resident = memory::peak_resident();
    Ok(Computed {
        result,
        chains: out,
        samples: flat,
        target: built.target,
        moments_csv: high,
        marginals: marginals.filter(|_| evaluation.marginals_csv()),
    })
}

/// The row cap of a run of `config` on a `d`-dimensional target.
fn spec_rows_cap(config: &RunConfig, d: usize) -> usize {
    config.sample_rows_cap(d)
}

/// Writes `dim,mean,var`, one line per dimension (shortest round-trip decimals).
pub fn write_moments_csv(w: &mut dyn Write, mean: &[f64], var: &[f64]) -> std::io::Result<()> {
    writeln!(w, "dim,mean,var")?;
    for (i, (m, v)) in mean.iter().zip(var).enumerate() {
        writeln!(w, "{i},{m},{v}")?;
    }
    Ok(())
}

/// Writes `dim,w2,w1`, one line per dimension.
pub fn write_marginals_csv(w: &mut dyn Write, w2: &[f64], w1: &[f64]) -> std::io::Result<()> {
    writeln!(w, "dim,w2,w1")?;
    for (i, (a, b)) in w2.iter().zip(w1).enumerate() {
        writeln!(w, "{i},{a},{b}")?;
    }
    Ok(())
}

/// `metrics.moments` of a high-dimensional run: the streamed per-dimension moments and
/// their errors against the target, summarised over the dimensions.
fn moments_summary(mean: &[f64], var: &[f64], tmean: &[f64], tvar: &[f64]) -> serde_json::Value {
    use super::eval::Summary;
    let mean_err: Vec<f64> = mean.iter().zip(tmean).map(|(a, b)| (a - b).abs()).collect();
    let var_ratio: Vec<f64> = var.iter().zip(tvar).map(|(a, b)| a / b).collect();
    serde_json::json!({
        "file": "moments.csv",
        "mean": Summary::of(mean),
        "var": Summary::of(var),
        "abs_mean_error": Summary::of(&mean_err),
        "var_ratio": Summary::of(&var_ratio),
    })
}

/// Adds the high-dimensional evaluator's metrics ([`super::eval::evaluate_high_dim`]) to
/// `metrics.extra`: `marginal_w2`, `marginal_w1`, `sliced_w2`, `slices`, `bures_w2_diagonal`;
/// an error is reported as `eval_error`. Returns the per-dimension marginal distances.
fn score_high_dim(
    metrics: &mut Metrics,
    flat: &[f64],
    out: &ChainsOutput,
    target: &dyn Target,
    seed: u64,
    evaluation: &EvaluationConfig,
) -> Option<(Vec<f64>, Vec<f64>)> {
    let opts = HighDimOptions {
        seed,
        slices: evaluation.slices(),
        marginals: evaluation.marginals(),
    };
    match evaluate_high_dim(flat, target.dim(), target, (&out.mean, &out.var), &opts) {
        Ok(m) => {
            let v = serde_json::to_value(&m).unwrap_or_default();
            for key in [
                "marginal_w2",
                "marginal_w1",
                "sliced_w2",
                "slices",
                "bures_w2_diagonal",
            ] {
                metrics.extra.insert(key.to_string(), v[key].clone());
            }
            (!m.w2_marginals.is_empty()).then_some((m.w2_marginals, m.w1_marginals))
        }
        Err(e) => {
            metrics
                .extra
                .insert("eval_error".to_string(), e.to_string().into());
            None
        }
    }
}

/// The `metric-missing` diagnostic for the metrics of `result.json` that the evaluator should
/// have given but are absent or not finite.
fn missing_metrics(
    m: &Metrics,
    flat: &[f64],
    target: &dyn Target,
    evaluation: &EvaluationConfig,
) -> Vec<Warning> {
    let d = target.dim();
    let get = |k: &str| m.extra.get(k).and_then(|v| v.as_f64());
    let get_mean = |k: &str| m.extra.get(k).and_then(|v| v.get("mean")?.as_f64());
    let mut names: Vec<&str> = if d == 1 {
        vec!["w2", "w1", "bures_w2", "l2_density"]
    } else if d <= HIGH_DIM {
        vec!["sliced_w2", "bures_w2"]
    } else {
        let mut n = Vec::new();
        if evaluation.slices() > 0 {
            n.push("sliced_w2");
        }
        if target.has_diagonal_cov() {
            n.push("bures_w2_diagonal");
        }
        n
    };
    let mut values: Vec<(&str, Option<f64>)> = names.drain(..).map(|k| (k, get(k))).collect();
    if d > HIGH_DIM && evaluation.marginals() {
        values.push(("marginal_w2.mean", get_mean("marginal_w2")));
    }
    if d <= HIGH_DIM && !flat.is_empty() && !m.extra.contains_key("eval_error") {
        let se = m
            .extra
            .get("interval")
            .and_then(|i| i.get("se"))
            .and_then(|v| v.as_f64());
        values.push(("interval.se", se));
    }
    let eval_error = m.extra.get("eval_error").and_then(|v| v.as_str());
    let sample_max = flat.iter().fold(0.0f64, |a, x| a.max(x.abs()));
    diagnostics::metric_warnings(
        &values,
        flat.len() / d.max(1),
        eval_error,
        target,
        sample_max,
    )
}

/// Adds the evaluator's distances of the returned kept samples (`samples.csv`'s rows) to the
/// target to `metrics.extra`: `w2`, `w1` (d = 1), `sliced_w2` (d > 1), `bures_w2`,
/// `l2_density` (d = 1), `w2_marginals` and the bootstrap `interval` over chains. A sample
/// the evaluator cannot score (e.g. a diverged chain's non-finite values) is reported as
/// `eval_error` instead of failing the run.
fn score(
    metrics: &mut Metrics,
    flat: &[f64],
    out: &ChainsOutput,
    target: &dyn Target,
    seed: u64,
) -> Option<(Vec<f64>, Vec<f64>)> {
    if flat.is_empty() {
        return None;
    }
    let opts = EvalOptions {
        seed,
        chains: Some(out.rows.iter().map(|(c, _)| *c as u64).collect()),
        ..Default::default()
    };
    match evaluate(flat, target.dim(), target, &opts) {
        Ok(m) => {
            let v = serde_json::to_value(&m).unwrap_or_default();
            for key in [
                "w2",
                "w1",
                "sliced_w2",
                "bures_w2",
                "l2_density",
                "w2_marginals",
                "marginal_w2",
                "marginal_w1",
                "interval",
            ] {
                metrics.extra.insert(key.to_string(), v[key].clone());
            }
            Some((m.w2_marginals, m.w1_marginals))
        }
        Err(e) => {
            metrics
                .extra
                .insert("eval_error".to_string(), e.to_string().into());
            None
        }
    }
}

/// Writes the run's files: `samples.csv`, for a 1-D target `histogram.svg`/`.png` of the
/// kept samples against the target density, and last `result.json`.
fn write_outputs(
    dir: &Path,
    result: &mut RunResult,
    out: &ChainsOutput,
    flat: &[f64],
    target: &dyn Target,
) -> Result<()> {
    let d = target.dim();
    write_atomic_with(&dir.join("samples.csv"), |w| write_samples_csv(w, out, d))?;
    if d == 1 && !flat.is_empty() {
        let law = target.marginal(0);
        let (m, sd) = (law.mean(), law.var().sqrt());
        let finite = flat.iter().copied().filter(|x| x.is_finite());
        let lo = finite.clone().fold(m - 4.0 * sd, f64::min);
        let hi = finite.fold(m + 4.0 * sd, f64::max);
        let curve = (0..=400)
            .map(|i| {
                let x = lo + (hi - lo) * i as f64 / 400.0;
                (x, law.pdf(x))
            })
            .collect();
        let title = format!(
            "{} samples of {} chains vs the target density",
            flat.len(),
            result.config.chains
        );
        let mut h = Histogram::new(title, "x (parameter value)", flat);
        h.curves = vec![Series::new("target density", curve)];
        h.lattice = lattice_step(flat);
        write_histogram(&dir.join("histogram"), &h)?;
    }
    result.memory.peak_resident = memory::peak_resident();
    write_json(&dir.join("result.json"), result)
}

/// Writes [`samples_csv`] without holding it in memory.
pub fn write_samples_csv(w: &mut dyn Write, out: &ChainsOutput, d: usize) -> std::io::Result<()> {
    write!(w, "chain")?;
    for i in 0..d {
        write!(w, ",x{i}")?;
    }
    writeln!(w)?;
    for (c, x) in &out.rows {
        write!(w, "{c}")?;
        for v in x {
            write!(w, ",{v}")?;
        }
        writeln!(w)?;
    }
    Ok(())
}

/// `chain,x0,x1,…` then one row per returned kept sample (shortest round-trip decimals).
pub fn samples_csv(out: &ChainsOutput, d: usize) -> String {
    let mut v = Vec::new();
    write_samples_csv(&mut v, out, d).expect("writing to memory does not fail");
    String::from_utf8(v).expect("the CSV is ASCII")
}
