//! `lpmc run CONFIG`: build the target and sampler of a config, run the chains, write
//! `DIR/samples.csv` and then `DIR/result.json` (each atomically; `result.json` last, so its
//! presence means the run finished).

use super::chains::{run_chains, ChainSpec, ChainsOutput, Progress};
use super::config::RunConfig;
use crate::error::Result;
use crate::output::{write_atomic, write_json};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Command-line overrides of a run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunOptions {
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

/// Runs `config` with `opts` and writes the outputs; returns what `result.json` holds.
/// Everything is validated before anything is written.
pub fn run(config: &RunConfig, opts: &RunOptions) -> Result<RunResult> {
    let mut config = config.clone();
    if let Some(s) = opts.seed {
        config.seed = s;
    }
    if opts.threads == Some(0) {
        return Err(crate::Error::param("--threads", 0, "must be at least 1"));
    }
    let built = config.build()?;
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
            steps_per_s: out.steps_per_s,
            wall_s: out.wall_s,
            extra: BTreeMap::new(),
        },
        sample_rows: out.rows.len(),
    };
    write_outputs(&opts.out, &result, &out, d)?;
    Ok(result)
}

/// Writes the run's files. Further outputs (the histogram SVG against the target density,
/// W2/W1 in `result.metrics.extra`) belong here, before `result.json`.
fn write_outputs(dir: &Path, result: &RunResult, out: &ChainsOutput, d: usize) -> Result<()> {
    write_atomic(&dir.join("samples.csv"), samples_csv(out, d).as_bytes())?;
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
