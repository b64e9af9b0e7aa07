//! `lpmc run CONFIG`: build the target and sampler of a config, run the chains, write
//! `DIR/samples.csv`, for 1-D targets `DIR/histogram.svg`/`.png`, and then `DIR/result.json` (each atomically; `result.json` last, so its
//! presence means the run finished).

use super::chains::{run_chains, ChainSpec, ChainsOutput, Progress};
use super::config::{Built, RunConfig};
use super::eval::{evaluate, EvalOptions};
use super::memory;
use crate::diagnostics::{self, Warning};
use crate::error::Result;
use crate::output::{write_atomic, write_json};
use crate::plot::{write_histogram, Histogram, Series};
use crate::target::Target;
use crate::wasserstein::density::lattice_step;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::IsTerminal;
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
    /// Mean per dimension over all kept samples of all chains.
    pub mean: Vec<f64>,
    /// Variance (divisor n) per dimension over all kept samples of all chains.
    pub var: Vec<f64>,
    /// The target's exact mean per dimension.
    pub target_mean: Vec<f64>,
    /// The target's exact variance per dimension.
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
struct Bar {
    bar: indicatif::ProgressBar,
    start: Instant,
    shown: Mutex<bool>,
    enabled: bool,
}

impl Bar {
    fn new(total: u64, enabled: bool) -> Self {
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
        let Prepared {
            config,
            built,
            warnings,
            memory_estimate,
        } = self;
        run_prepared(config, built, warnings, memory_estimate, opts)
    }
}

fn run_prepared(
    config: RunConfig,
    built: Built,
    mut warnings: Vec<Warning>,
    memory_estimate: u64,
    opts: &RunOptions,
) -> Result<RunResult> {
    crate::output::remove_if_present(&opts.out.join("result.json"))?;
    crate::output::remove_stale_temporaries(&opts.out);
    let spec = ChainSpec {
        chains: config.chains,
        steps: config.steps,
        burn_in: config.burn_in,
        thin: config.thin,
        seed: config.seed,
        source: config.source,
        x0: built.x0.clone(),
        max_rows: config.max_sample_rows,
        threads: opts.threads,
    };
    let bar = Bar::new(config.steps * config.chains as u64, opts.progress);
    let out = run_chains(built.sampler.as_ref(), built.target.as_ref(), &spec, &bar)?;
    bar.bar.finish_and_clear();

    let d = built.target.dim();
    let cov = built.target.cov();
    let result = RunResult {
        lpmc_version: env!("CARGO_PKG_VERSION").to_string(),
        seed: config.seed,
        config: config.resolved(),
        metrics: Metrics {
            mean: out.mean.clone(),
            var: out.var.clone(),
            target_mean: built.target.mean(),
            target_var: (0..d).map(|i| cov[i * d + i]).collect(),
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
    };
    let mut result = result;
    let flat: Vec<f64> = out
        .rows
        .iter()
        .flat_map(|(_, x)| x.iter().copied())
        .collect();
    score(
        &mut result.metrics,
        &flat,
        &out,
        built.target.as_ref(),
        config.seed,
    );
    warnings.extend(diagnostics::after_chains(
        &config,
        built.target.as_ref(),
        &out,
    ));
    warnings.extend(missing_metrics(
        &result.metrics,
        &flat,
        built.target.as_ref(),
    ));
    result.warnings = warnings;
    write_outputs(&opts.out, &mut result, &out, &flat, built.target.as_ref())?;
    Ok(result)
}

/// The `metric-missing` diagnostic for the metrics of `result.json` that the evaluator should
/// have given but are absent or not finite.
fn missing_metrics(m: &Metrics, flat: &[f64], target: &dyn Target) -> Vec<Warning> {
    let d = target.dim();
    let get = |k: &str| m.extra.get(k).and_then(|v| v.as_f64());
    let mut names: Vec<&str> = if d == 1 {
        vec!["w2", "w1", "bures_w2", "l2_density"]
    } else {
        vec!["sliced_w2", "bures_w2"]
    };
    let mut values: Vec<(&str, Option<f64>)> = names.drain(..).map(|k| (k, get(k))).collect();
    if !flat.is_empty() && !m.extra.contains_key("eval_error") {
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
fn score(metrics: &mut Metrics, flat: &[f64], out: &ChainsOutput, target: &dyn Target, seed: u64) {
    if flat.is_empty() {
        return;
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
                "interval",
            ] {
                metrics.extra.insert(key.to_string(), v[key].clone());
            }
        }
        Err(e) => {
            metrics
                .extra
                .insert("eval_error".to_string(), e.to_string().into());
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
    write_atomic(&dir.join("samples.csv"), samples_csv(out, d).as_bytes())?;
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

/// `chain,x0,x1,…` then one row per returned kept sample (shortest round-trip decimals).
pub fn samples_csv(out: &ChainsOutput, d: usize) -> String {
    let mut s = String::from("chain");
    for i in 0..d {
        s.push_str(&format!(",x{i}"));
    }
    s.push('\n');
    for (c, x) in &out.rows {
        s.push_str(&c.to_string());
        for v in x {
            s.push(',');
            s.push_str(&v.to_string());
        }
        s.push('\n');
    }
    s
}
