//! `lpmc sweep GRID` and `lpmc merge`: design-space exploration over run configs.
//!
//! A grid ([`grid`]) expands to points; each point runs its chains
//! ([`crate::experiment::chains::run_chains`]), is scored by the evaluator
//! ([`crate::experiment::eval::evaluate`]) and priced by the hardware cost model ([`cost`]),
//! and is written to its own file as soon as it finishes ([`store`]). At the end the
//! directory's outputs are regenerated from the point files ([`report`]): `points.csv`,
//! `points.jsonl`, `pareto.csv` ([`pareto`]) and the figures. [`merge`] joins the
//! directories of the shards of one grid.
//!
//! # Determinism
//! A point's result depends only on the grid and its key (its seed is derived from the sweep
//! seed and the key, see [`grid`]): every column but the timings is the same for any order,
//! shard, thread count, interruption and resume.

pub mod cost;
pub mod grid;
pub mod merge;
pub mod pareto;
pub mod report;
pub mod store;

use crate::error::{Error, Result};
use crate::experiment::chains::{run_chains, ChainSpec, NoProgress};
use crate::experiment::config::SamplerConfig;
use crate::experiment::eval::{evaluate, EvalOptions};
use crate::experiment::memory;
use grid::{Grid, Point, Shard};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;
use store::{GridRecord, PointMetrics, PointRecord, PointSetup, PointTiming};

/// Options of `lpmc sweep`.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepOptions {
    /// Output directory.
    pub out: PathBuf,
    /// The shard of the grid to run.
    pub shard: Shard,
    /// Continue a sweep in `out` (same grid): finished points are skipped.
    pub resume: bool,
    /// Worker threads (default one per core); results do not depend on it.
    pub threads: Option<usize>,
    /// Seed overriding the grid's `seed` (part of the grid hash).
    pub seed: Option<u64>,
    /// Show a progress bar on stderr (when it is a terminal).
    pub progress: bool,
    /// Refuse to run when a point of this shard has a diagnostic before its run
    /// (`--strict`; the CLI also exits with code 3 when one has a diagnostic after it).
    pub strict: bool,
    /// Memory the sweep may use in bytes (`--max-memory`), instead of what the machine has.
    pub max_memory: Option<u64>,
}

impl SweepOptions {
    /// The whole grid into `out`, default threads, no resume, no progress bar.
    pub fn new(out: impl Into<PathBuf>) -> Self {
        SweepOptions {
            out: out.into(),
            shard: Shard::ALL,
            resume: false,
            threads: None,
            seed: None,
            progress: false,
            strict: false,
            max_memory: None,
        }
    }
}

/// What a sweep did.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepSummary {
    /// Points of the whole grid.
    pub grid_points: usize,
    /// Points of this shard.
    pub shard_points: usize,
    /// Points run now.
    pub ran: usize,
    /// Points found finished and skipped (`--resume`).
    pub skipped: usize,
    /// Rows of `points.csv`.
    pub rows: usize,
    /// Rows of `pareto.csv`.
    pub pareto: usize,
    /// The grid hash.
    pub grid_hash: String,
    /// Wall-clock seconds.
    pub wall_s: f64,
    /// The diagnostics of this shard's finished points: `(index, key, warning)`.
    pub warnings: Vec<(usize, String, crate::diagnostics::Warning)>,
}

/// Loads the grid file and runs [`sweep_grid`].
pub fn sweep(grid_path: &Path, opts: &SweepOptions) -> Result<SweepSummary> {
    let grid = Grid::load(grid_path)?;
    sweep_grid(grid, opts)
}

/// Runs the points of `opts.shard` of `grid` not yet finished in `opts.out`, writing each
/// point's file as it finishes, then regenerates the directory's outputs.
///
/// Everything is checked before anything is written or run: every point of the whole grid is
/// built (so a bad value anywhere fails every shard alike), the thread count, and, when
/// `out/grid.json` exists, that `resume` is set and the grid hashes agree.
pub fn sweep_grid(grid: Grid, opts: &SweepOptions) -> Result<SweepSummary> {
    sweep_grid_until(grid, opts, &AtomicBool::new(false))
}

/// [`sweep_grid`] that stops starting points once `stop` is set (the running ones finish and
/// are written) and then returns [`Error::Interrupted`]; `resume` continues it.
pub fn sweep_grid_until(
    mut grid: Grid,
    opts: &SweepOptions,
    stop: &AtomicBool,
) -> Result<SweepSummary> {
    let t0 = Instant::now();
    if let Some(s) = opts.seed {
        grid.seed = s;
    }
    if opts.threads == Some(0) {
        return Err(Error::param("--threads", 0, "must be at least 1"));
    }
    let points = grid.points()?;
    if grid.method == grid::Method::Exact {
        for p in &points {
            crate::exact::check(&p.config, &crate::exact::Limits::default()).map_err(|e| {
                Error::Config(format!(
                    "grid point {} ({}): {}",
                    p.index,
                    p.key,
                    grid::one_line(&e.to_string())
                ))
            })?;
        }
    }
    let hash = grid.hash();
    let dir = &opts.out;
    let mut done = std::collections::BTreeSet::new();
    match store::read_grid_record(dir)? {
        None => {}
        Some(_) if !opts.resume => {
            return Err(Error::Config(format!(
                "{} already holds a sweep (grid.json): pass --resume to continue it, or choose another --out",
                dir.display()
            )))
        }
        Some(rec) if rec.grid_hash != hash => {
            return Err(Error::Config(format!(
                "cannot resume: {} holds grid {}, but this grid is {hash} (a different base, vary, seed or cost)",
                dir.display(),
                rec.grid_hash
            )))
        }
        Some(_) => {
            for r in store::read_points(dir, &hash)? {
                if points.get(r.index).is_some_and(|p| p.key == r.key) {
                    done.insert(r.index);
                }
            }
        }
    }
    let mine: Vec<&Point> = points.iter().filter(|p| opts.shard.has(p.index)).collect();
    let todo: Vec<&Point> = mine
        .iter()
        .copied()
        .filter(|p| !done.contains(&p.index))
        .collect();
    let threads = opts.threads.unwrap_or_else(rayon::current_num_threads);
    check_resources(&todo, threads, opts)?;
    store::write_grid_record(
        dir,
        &GridRecord {
            lpmc_version: env!("CARGO_PKG_VERSION").to_string(),
            grid_hash: hash.clone(),
            points: points.len(),
            grid: grid.canonical(),
        },
    )?;

    let bar = progress_bar(todo.len() as u64, opts.progress);
    let method = grid.method;
    let run_all = || run_points(&todo, dir, &hash, &grid.cost, method, &bar, stop);
    match opts.threads {
        Some(t) => rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .map_err(|e| Error::Config(format!("cannot start {t} threads: {e}")))?
            .install(run_all)?,
        None => run_all()?,
    }
    bar.finish_and_clear();

    let records = store::read_points(dir, &hash)?;
    let pareto = report::write_reports(dir, &records)?;
    let warnings = records
        .iter()
        .filter(|r| opts.shard.has(r.index))
        .flat_map(|r| {
            r.warnings
                .iter()
                .map(|w| (r.index, r.key.clone(), w.clone()))
        })
        .collect();
    Ok(SweepSummary {
        warnings,
        grid_points: points.len(),
        shard_points: mine.len(),
        ran: todo.len(),
        skipped: mine.len() - todo.len(),
        rows: records.len(),
        pareto,
        grid_hash: hash,
        wall_s: t0.elapsed().as_secs_f64(),
    })
}

/// Checks before anything runs: the memory the points need at once (the largest point's
/// estimate times the points that run side by side) against what the sweep may use, and
/// with `--strict` that no point has a diagnostic before its run.
fn check_resources(todo: &[&Point], threads: usize, opts: &SweepOptions) -> Result<()> {
    let mut worst = (0u64, 0usize);
    for p in todo {
        let c = &p.config;
        let need = memory::estimate(c, &memory::Shape::of_config(c), memory::rows(c, false), 1);
        if need > worst.0 {
            worst = (need, p.index);
        }
        if opts.strict {
            let built = c.build()?;
            if let Some(w) = crate::diagnostics::before_run(c, &built).first() {
                return Err(Error::Strict(format!(
                    "grid point {} ({}) has a warning under --strict before the run, nothing was run: {w}",
                    p.index, p.key
                )));
            }
        }
    }
    let side_by_side = threads.min(todo.len()).max(1) as u64;
    memory::check(
        worst.0.saturating_mul(side_by_side),
        opts.max_memory,
        &format!(
            "this sweep ({side_by_side} points at once, the largest grid point {})",
            worst.1
        ),
        "the points' `chains` or `max_sample_rows`, or --threads",
    )
}

/// Runs `todo` on the current rayon pool, writing each point's file as it finishes.
///
/// With at least as many points as threads, every thread of the pool (`rayon::broadcast`)
/// takes the next unstarted point in canonical order and runs its chains on one thread, so a
/// point's timing is that of one core and only a few points are in memory at once; with
/// fewer points, the points run one after another with their chains spread over the pool.
/// The results are the same either way. The first error stops the workers from starting
/// new points and is returned.
fn run_points(
    todo: &[&Point],
    dir: &Path,
    hash: &str,
    weights: &cost::CostWeights,
    method: grid::Method,
    bar: &indicatif::ProgressBar,
    stop: &AtomicBool,
) -> Result<()> {
    let one = |p: &Point, chain_threads: Option<usize>| -> Result<()> {
        if stop.load(Ordering::Relaxed) {
            return Err(Error::Interrupted);
        }
        let rec = match method {
            grid::Method::Mc => run_point(p, hash, chain_threads, weights)?,
            grid::Method::Exact => run_point_exact(p, hash, weights)?,
        };
        store::write_point(dir, &rec)?;
        bar.inc(1);
        Ok(())
    };
    if todo.len() < rayon::current_num_threads() {
        return todo.iter().try_for_each(|p| one(p, None));
    }
    let next = AtomicUsize::new(0);
    let failed: Mutex<Option<Error>> = Mutex::new(None);
    rayon::broadcast(|_| loop {
        if failed.lock().map_or(true, |f| f.is_some()) {
            return;
        }
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(p) = todo.get(i) else { return };
        if let Err(e) = one(p, Some(1)) {
            if let Ok(mut f) = failed.lock() {
                f.get_or_insert(e);
            }
            return;
        }
    });
    match failed.into_inner() {
        Ok(Some(e)) => Err(e),
        _ => Ok(()),
    }
}

/// A progress bar over points with an ETA, drawn on stderr only when it is a terminal.
fn progress_bar(total: u64, enabled: bool) -> indicatif::ProgressBar {
    let target = if enabled && std::io::stderr().is_terminal() {
        indicatif::ProgressDrawTarget::stderr()
    } else {
        indicatif::ProgressDrawTarget::hidden()
    };
    let bar = indicatif::ProgressBar::with_draw_target(Some(total), target);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{elapsed_precise} [{bar:40}] {pos}/{len} points, eta {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Runs one point: its chains (with `chain_threads`, `None` = the current pool), the
/// evaluator on the kept samples (seeded with the point's seed), the cost model under
/// `weights`.
pub fn run_point(
    p: &Point,
    grid_hash: &str,
    chain_threads: Option<usize>,
    weights: &cost::CostWeights,
) -> Result<PointRecord> {
    let c = &p.config;
    let built = c.build()?;
    let mut warnings = crate::diagnostics::before_run(c, &built);
    let spec = ChainSpec {
        chains: c.chains,
        steps: c.steps,
        burn_in: c.burn_in,
        thin: c.thin,
        seed: p.seed,
        source: c.source,
        x0: built.x0.clone(),
        max_rows: c.sample_rows_cap(built.target.dim()),
        threads: chain_threads,
    };
    let target = built.target.as_ref();
    let out = run_chains(built.sampler.as_ref(), target, &spec, &NoProgress)?;
    warnings.extend(crate::diagnostics::after_chains(c, target, &out));
    let d = target.dim();
    let fin = |x: f64| x.is_finite().then_some(x);
    let tmean = target.mean();
    let tvar = target.var();
    let mean_err = (0..d)
        .map(|i| (out.mean[i] - tmean[i]).abs())
        .fold(0.0, f64::max);
    let var_err = (0..d)
        .map(|i| (out.var[i] / tvar[i] - 1.0).abs())
        .fold(0.0, f64::max);
    let mut metrics = PointMetrics {
        error_metric: if d == 1 { "w2" } else { "sliced_w2" }.into(),
        error: None,
        error_lo: None,
        error_hi: None,
        error_se: None,
        w2: None,
        w1: None,
        mean_err: fin(mean_err),
        var_err: fin(var_err),
        saturations: out.saturations,
        saturation_rate: out.saturations as f64 / (c.chains as f64 * c.steps as f64 * d as f64),
        kept_samples: out.kept,
        eval_error: None,
    };
    let flat: Vec<f64> = out
        .rows
        .iter()
        .flat_map(|(_, x)| x.iter().copied())
        .collect();
    if flat.is_empty() {
        metrics.eval_error = Some("no samples returned (max_sample_rows = 0)".into());
    } else if d > crate::experiment::config::HIGH_DIM {
        // No d×d matrices: the sliced W2 of the high-dimensional evaluator (no interval).
        let ho = crate::experiment::eval::HighDimOptions {
            seed: p.seed,
            slices: c.evaluation().slices().max(1),
            marginals: false,
        };
        match crate::experiment::eval::evaluate_high_dim(
            &flat,
            d,
            target,
            (&out.mean, &out.var),
            &ho,
        ) {
            Ok(m) => metrics.error = m.sliced_w2,
            Err(e) => metrics.eval_error = Some(grid::one_line(&e.to_string())),
        }
    } else {
        let eo = EvalOptions {
            seed: p.seed,
            chains: Some(out.rows.iter().map(|(c, _)| *c as u64).collect()),
            ..Default::default()
        };
        match evaluate(&flat, d, target, &eo) {
            Ok(m) => {
                metrics.error = if d == 1 { m.w2 } else { m.sliced_w2 };
                metrics.w2 = m.w2;
                metrics.w1 = m.w1;
                if let Some(iv) = &m.interval {
                    metrics.error_lo = fin(iv.lo);
                    metrics.error_hi = fin(iv.hi);
                    metrics.error_se = fin(iv.se);
                }
            }
            Err(e) => metrics.eval_error = Some(grid::one_line(&e.to_string())),
        }
    }
    let sample_max = flat.iter().fold(0.0f64, |a, x| a.max(x.abs()));
    warnings.extend(crate::diagnostics::metric_warnings(
        &[(metrics.error_metric.as_str(), metrics.error)],
        flat.len() / d.max(1),
        metrics.eval_error.as_deref().filter(|_| !flat.is_empty()),
        target,
        sample_max,
    ));
    let mut rec = run_point_setup(p, grid_hash, weights, metrics, d, warnings);
    rec.timing = PointTiming {
        wall_s: out.wall_s,
        steps_per_s: out.steps_per_s,
    };
    Ok(rec)
}

/// The record of point `p` with `metrics` and `warnings`, its setup and cost filled in
/// (timings zero).
fn run_point_setup(
    p: &Point,
    grid_hash: &str,
    weights: &cost::CostWeights,
    metrics: PointMetrics,
    d: usize,
    warnings: Vec<crate::diagnostics::Warning>,
) -> PointRecord {
    let c = &p.config;
    let text = |v: serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let (sampler, variant) = match &c.sampler {
        SamplerConfig::Sgld(s) => ("sgld", text(serde_json::json!(s.variant))),
        SamplerConfig::Sghmc(s) => ("sghmc", text(serde_json::json!(s.variant))),
    };
    let datapath = text(serde_json::json!(c.datapath));
    let f = c.formats();
    let setup = PointSetup {
        label: format!("{sampler} {variant} {datapath}"),
        method: "mc".into(),
        sampler: sampler.into(),
        variant,
        datapath,
        rounding: c.rounding.to_string(),
        source: c.source.to_string(),
        noise_gen: c.noise_gen.to_string(),
        formats: [f.param, f.momentum, f.grad, f.accum, f.coef, f.noise].map(|q| [q.wl(), q.fl()]),
        dim: d,
        chains: c.chains,
        steps: c.steps,
    };
    PointRecord {
        grid_hash: grid_hash.to_string(),
        index: p.index,
        key: p.key.clone(),
        seed: p.seed,
        values: p.values.clone(),
        setup,
        metrics,
        cost: cost::cost(c, weights),
        warnings,
        timing: PointTiming {
            wall_s: 0.0,
            steps_per_s: 0.0,
        },
    }
}

/// Scores one point by its exact stationary law ([`crate::exact::solve`]): `error` = `w2`,
/// `w1`, `mean_err`, `var_err` and `saturation_rate` (expected events per step) exact, no
/// interval (there is no sampling error), `saturations` and `kept_samples` 0; `wall_s` the
/// build and solve time.
pub fn run_point_exact(
    p: &Point,
    grid_hash: &str,
    weights: &cost::CostWeights,
) -> Result<PointRecord> {
    let c = &p.config;
    // The diagnostics that do not need samples (coefficients, formats, target range).
    let warnings = crate::diagnostics::before_run(c, &c.build()?);
    let s = crate::exact::solve(c, &crate::exact::Limits::default())?;
    let m = &s.metrics;
    let fin = |x: f64| x.is_finite().then_some(x);
    let metrics = PointMetrics {
        error_metric: "w2".into(),
        error: fin(m.w2),
        error_lo: None,
        error_hi: None,
        error_se: None,
        w2: fin(m.w2),
        w1: fin(m.w1),
        mean_err: fin((m.mean[0] - m.target_mean[0]).abs()),
        var_err: fin((m.var[0] / m.target_var[0] - 1.0).abs()),
        saturations: 0,
        saturation_rate: m.saturation_rate,
        kept_samples: 0,
        eval_error: None,
    };
    let mut rec = run_point_setup(p, grid_hash, weights, metrics, 1, warnings);
    rec.setup.method = "exact".into();
    rec.timing = PointTiming {
        wall_s: m.build_s + m.solve_s,
        steps_per_s: 0.0,
    };
    Ok(rec)
}
