//! `lpmc reproduce`: the papers' synthetic results and the theory plots, each as a figure
//! (SVG + PNG), the CSV behind it, and a section of `DIR/REPORT.md` with a verdict computed
//! from the numbers (`DIR/summary.json` holds every verdict and number).
//!
//! One module per figure ([`FIGURES`] lists them); [`report`] writes the report. Every run
//! of a figure uses the chain runner ([`crate::experiment::chains::run_chains`]) and the
//! evaluator ([`crate::experiment::eval::evaluate`]); claims between two samplers are decided
//! by [`verdict::check_le`] with bootstrap standard errors over chains, so a difference
//! within noise is reported as INCONCLUSIVE, not as a pass. Settings, deviations from the
//! papers and how to read the report: `docs/reproduction.md`.

pub mod fig1;
pub mod fig2;
pub mod fig3;
pub mod fig4;
pub mod fig5;
pub mod fig6;
pub mod report;
pub mod verdict;

use crate::diagnostics::{self, Warning};
use crate::error::{Error, Result};
use crate::experiment::chains::{run_chains, ChainSpec, Progress};
use crate::experiment::config::{RunConfig, SamplerConfig, SghmcConfig, SgldConfig};
use crate::experiment::eval::{evaluate, EvalOptions, Metrics};
use crate::experiment::memory;
use crate::format::Format;
use crate::round::Rounding;
use crate::sampler::sghmc::SghmcVariant;
use crate::sampler::sgld::SgldVariant;
use crate::target::gaussian::GaussianConfig;
use crate::target::TargetConfig;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;
use verdict::{Check, Estimate};

/// How large the runs are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Size {
    /// A smoke-test size for the test suite (seconds for everything; verdicts are mostly
    /// inconclusive).
    Tiny,
    /// The default quick set: all figures in under a minute on 2 cores.
    Quick,
    /// The papers' iteration counts (minutes to an hour).
    Full,
}

impl Size {
    /// Picks the value for this size.
    pub fn pick<T>(self, tiny: T, quick: T, full: T) -> T {
        match self {
            Size::Tiny => tiny,
            Size::Quick => quick,
            Size::Full => full,
        }
    }
}

/// One figure of the set: name, one-line description, and the function producing it.
pub struct FigureDef {
    /// Name on the command line.
    pub name: &'static str,
    /// One line for `--help` and the report.
    pub about: &'static str,
    /// Produces the figure's files and its report section.
    pub run: fn(&Ctx) -> Result<FigureReport>,
}

/// The figures, in report order.
pub const FIGURES: [FigureDef; 6] = [
    FigureDef {
        name: "fig1",
        about: "[L] Gaussian: SGLD lp-f/lp-l/vc-l histograms at WL=8, FL=3, and stationary variance vs step size with the closed form",
        run: fig1::run,
    },
    FigureDef {
        name: "fig2",
        about: "[S] Fig. 1-2: SGHMC and SGLD histograms on N(0,1) and the mixture, 8-bit FL=4, correct and published sign",
        run: fig2::run,
    },
    FigureDef {
        name: "fig3",
        about: "[S] Fig. 3: W2 and L2 density distance vs iterations (log-log) for the six low-precision variants",
        run: fig3::run,
    },
    FigureDef {
        name: "fig4",
        about: "[S] Fig. 4: W2(VC)/W2(naive) vs Var_x/(Δ²/4) over 0..85, 5 seeds, 95% band",
        run: fig4::run,
    },
    FigureDef {
        name: "fig5",
        about: "Theory: W2 bias vs Δ (FL=2..10) with fitted slopes vs the theorems' exponents; iterations to reach a W2 for SGLD vs SGHMC",
        run: fig5::run,
    },
    FigureDef {
        name: "fig6",
        about: "Precision ladder: W2 vs word length 4..16 bits for SGLD and SGHMC, sr vs sr:R",
        run: fig6::run,
    },
];

/// The `--help` text listing the figures, one line each.
pub fn figure_list() -> String {
    let mut s = String::from("Figures (NAME):\n  all   every figure below (the default)\n");
    for f in &FIGURES {
        s.push_str(&format!("  {}  {}\n", f.name, f.about));
    }
    s
}

/// Settings of `lpmc reproduce`.
#[derive(Clone, Debug, PartialEq)]
pub struct ReproduceOptions {
    /// Figure name, `all`, or `None` (all).
    pub name: Option<String>,
    /// Output directory.
    pub out: PathBuf,
    /// Run size.
    pub size: Size,
    /// Worker threads (`None`: one per core); results do not depend on it.
    pub threads: Option<usize>,
    /// Base seed of every run.
    pub seed: u64,
    /// Show one progress line per figure on stderr (when it is a terminal).
    pub progress: bool,
    /// Memory a run may use in bytes (`--max-memory`), instead of what the machine has.
    pub max_memory: Option<u64>,
}

/// A diagnostic of one run of a figure.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunWarning {
    /// Which run: sampler, variant, step, format, rounding, datapath.
    pub run: String,
    /// The diagnostic.
    pub warning: Warning,
}

/// What one figure run gives: the report section and the numbers behind it.
#[derive(Clone, Debug, Serialize)]
pub struct FigureReport {
    /// Figure name (`fig1` …).
    pub name: String,
    /// Section title.
    pub title: String,
    /// Image stems relative to the output directory (each has `.svg` and `.png`).
    pub images: Vec<String>,
    /// CSV files relative to the output directory.
    pub csv: Vec<String>,
    /// Settings, as (name, value) lines.
    pub settings: Vec<(String, String)>,
    /// What the paper reports (value or trend).
    pub paper: Vec<String>,
    /// What lpmc measured, in words with numbers.
    pub measured: Vec<String>,
    /// The checks and their computed verdicts.
    pub checks: Vec<Check>,
    /// Diagnostics of the figure's runs, each distinct (run, code, message) once.
    pub warnings: Vec<RunWarning>,
    /// Chain-steps run for this figure.
    pub chain_steps: u64,
    /// Wall-clock seconds of the figure.
    pub wall_s: f64,
}

impl FigureReport {
    /// An empty report for figure `name` with its title.
    pub fn new(name: &str, title: &str) -> Self {
        FigureReport {
            name: name.into(),
            title: title.into(),
            images: vec![],
            csv: vec![],
            settings: vec![],
            paper: vec![],
            measured: vec![],
            checks: vec![],
            warnings: vec![],
            chain_steps: 0,
            wall_s: 0.0,
        }
    }

    /// Adds a setting line.
    pub fn set(&mut self, k: &str, v: impl ToString) {
        self.settings.push((k.into(), v.to_string()));
    }
}

/// What every figure gets: where to write, how large, and the shared progress counter.
pub struct Ctx {
    /// Output directory.
    pub out: PathBuf,
    /// Run size.
    pub size: Size,
    /// Worker threads.
    pub threads: Option<usize>,
    /// Base seed.
    pub seed: u64,
    /// Chain-steps done in the current figure.
    pub steps: AtomicU64,
    /// Memory a run may use (`None`: what the machine has available).
    pub max_memory: Option<u64>,
    /// Diagnostics of the runs so far.
    warnings: Mutex<Vec<RunWarning>>,
    bar: Option<indicatif::ProgressBar>,
}

impl Progress for Ctx {
    fn add(&self, n: u64) {
        let total = self.steps.fetch_add(n, Ordering::Relaxed) + n;
        if let Some(b) = &self.bar {
            b.set_position(total);
        }
    }
}

impl Ctx {
    /// A context writing into `out` (no progress display).
    pub fn new(out: &Path, size: Size, threads: Option<usize>, seed: u64) -> Self {
        Ctx {
            out: out.to_path_buf(),
            size,
            threads,
            seed,
            steps: AtomicU64::new(0),
            max_memory: None,
            warnings: Mutex::new(Vec::new()),
            bar: None,
        }
    }

    /// Records the diagnostics `ws` of the run of `cfg` (each distinct one once).
    pub fn warn(&self, cfg: &RunConfig, ws: Vec<Warning>) {
        if ws.is_empty() {
            return;
        }
        let run = run_label(cfg);
        if let Ok(mut all) = self.warnings.lock() {
            for warning in ws {
                let w = RunWarning {
                    run: run.clone(),
                    warning,
                };
                if !all.iter().any(|x| {
                    x.run == w.run
                        && x.warning.code == w.warning.code
                        && x.warning.message == w.warning.message
                }) {
                    all.push(w);
                }
            }
        }
    }

    /// The diagnostics recorded so far, taken out.
    pub fn take_warnings(&self) -> Vec<RunWarning> {
        self.warnings
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default()
    }

    /// `out/name` (a file or a figure stem).
    pub fn path(&self, name: &str) -> PathBuf {
        self.out.join(name)
    }
}

/// A run's kept samples (1-D targets) with their chain labels and the runner's moments.
pub struct Run {
    /// Kept samples, chain by chain.
    pub xs: Vec<f64>,
    /// Chain index of each sample.
    pub chains: Vec<u64>,
    /// Mean of the kept samples.
    pub mean: f64,
    /// Variance (divisor n) of the kept samples.
    pub var: f64,
    /// Overflow events of all roundings.
    pub saturations: u64,
}

impl Run {
    /// Standard error of the variance from its spread over `groups` contiguous chain groups:
    /// sd(group variances)/√groups (chains are independent, so groups are).
    pub fn var_se(&self, groups: usize) -> f64 {
        group_se(&self.xs, &self.chains, groups, |s| {
            let m = s.iter().sum::<f64>() / s.len() as f64;
            s.iter().map(|x| (x - m).powi(2)).sum::<f64>() / s.len() as f64
        })
    }
}

/// Standard error of `stat` from its values on `groups` groups of consecutive chains.
pub fn group_se(xs: &[f64], chains: &[u64], groups: usize, stat: impl Fn(&[f64]) -> f64) -> f64 {
    let nch = chains.last().map_or(0, |c| c + 1) as usize;
    let g = groups.min(nch).max(1);
    if g < 2 {
        return f64::NAN;
    }
    let mut vals = Vec::with_capacity(g);
    let mut start = 0;
    for k in 0..g {
        let end_chain = ((k + 1) * nch / g) as u64;
        let end = start + chains[start..].partition_point(|&c| c < end_chain);
        vals.push(stat(&xs[start..end]));
        start = end;
    }
    let m = vals.iter().sum::<f64>() / g as f64;
    let sd = (vals.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (g - 1) as f64).sqrt();
    sd / (g as f64).sqrt()
}

/// Chains, steps, burn-in and thinning of a run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Budget {
    /// Independent chains.
    pub chains: usize,
    /// Steps per chain.
    pub steps: u64,
    /// Discarded steps per chain.
    pub burn_in: u64,
    /// Keep every thin-th step.
    pub thin: u64,
}

impl Budget {
    /// A budget; `thin` is raised so that at most `max_kept` samples are kept per chain.
    pub fn new(chains: usize, steps: u64, burn_in: u64, max_kept: u64) -> Self {
        let thin = (steps - burn_in).div_ceil(max_kept.max(1)).max(1);
        Budget {
            chains,
            steps,
            burn_in,
            thin,
        }
    }

    /// Settings text.
    pub fn describe(&self) -> String {
        format!(
            "{} chains × {} steps, burn-in {}, thin {}",
            self.chains, self.steps, self.burn_in, self.thin
        )
    }
}

/// The 1-D Gaussian N(0, var).
pub fn gaussian(var: f64) -> TargetConfig {
    TargetConfig::Gaussian(GaussianConfig {
        dim: None,
        mean: vec![0.0].into(),
        var: Some(vec![var].into()),
        cov: None,
    })
}

/// An SGLD sampler config.
pub fn sgld(variant: SgldVariant, eta: f64) -> SamplerConfig {
    SamplerConfig::Sgld(SgldConfig { variant, eta })
}

/// An SGHMC sampler config (correct sign unless `paper_sign`).
pub fn sghmc(
    variant: SghmcVariant,
    eta: f64,
    u: f64,
    gamma: f64,
    paper_sign: bool,
) -> SamplerConfig {
    SamplerConfig::Sghmc(SghmcConfig {
        variant,
        eta,
        u,
        gamma,
        paper_sign,
        rescale_momentum: false,
        vc_wide_momentum: false,
        rescale_headroom: 1.0,
    })
}

/// A run config with every quantity in Q(wl, fl), `rounding`, σ_g = `grad_noise`, the given
/// budget and seed, starting at the origin.
#[allow(clippy::too_many_arguments)]
pub fn config(
    target: TargetConfig,
    sampler: SamplerConfig,
    wl: u32,
    fl: u32,
    rounding: Rounding,
    grad_noise: f64,
    b: Budget,
    seed: u64,
) -> Result<RunConfig> {
    Ok(RunConfig {
        target,
        sampler,
        format: Format::new(wl, fl)?,
        formats: Default::default(),
        rounding,
        datapath: Default::default(),
        grad_noise,
        noise_gen: Default::default(),
        source: Default::default(),
        chains: b.chains,
        steps: b.steps,
        burn_in: b.burn_in,
        thin: b.thin,
        seed,
        x0: None,
        max_sample_rows: 0,
        max_samples_bytes: None,
        evaluation: None,
    })
}

/// A short description of a run for its diagnostics: `sgld lp-l eta=0.002, Q(8, 3), sr, float`.
pub fn run_label(cfg: &RunConfig) -> String {
    let v = |x: serde_json::Value| x.as_str().unwrap_or_default().to_string();
    let (name, variant, eta) = match &cfg.sampler {
        SamplerConfig::Sgld(s) => ("sgld", v(serde_json::json!(s.variant)), s.eta),
        SamplerConfig::Sghmc(s) => ("sghmc", v(serde_json::json!(s.variant)), s.eta),
    };
    let f = cfg.formats().param;
    format!(
        "{name} {variant} eta={eta}, Q({}, {}), {}, {}",
        f.wl(),
        f.fl(),
        cfg.rounding,
        v(serde_json::json!(cfg.datapath))
    )
}

/// Runs `cfg` (1-D target) and returns every kept sample; its diagnostics (before and after
/// the chains) are recorded in `ctx`. Refused before it starts when its memory estimate
/// exceeds what a run may use.
pub fn sample(ctx: &Ctx, cfg: &RunConfig) -> Result<Run> {
    let built = cfg.build()?;
    if built.target.dim() != 1 {
        return Err(Error::Config("reproduce runs 1-D targets only".into()));
    }
    let threads = ctx.threads.unwrap_or_else(rayon::current_num_threads);
    memory::check_run(
        cfg,
        &memory::Shape::of(built.sampler.as_ref(), Some(built.target.as_ref()))?,
        memory::rows(cfg, true),
        threads,
        ctx.max_memory,
        "a reproduce run (without --full it is smaller)",
    )?;
    ctx.warn(cfg, diagnostics::before_run(cfg, &built));
    let spec = ChainSpec {
        chains: cfg.chains,
        steps: cfg.steps,
        burn_in: cfg.burn_in,
        thin: cfg.thin,
        seed: cfg.seed,
        source: cfg.source,
        x0: built.x0.clone(),
        max_rows: cfg.chains * ((cfg.steps - cfg.burn_in) / cfg.thin) as usize,
        threads: ctx.threads,
    };
    let out = run_chains(built.sampler.as_ref(), built.target.as_ref(), &spec, ctx)?;
    ctx.warn(
        cfg,
        diagnostics::after_chains(cfg, built.target.as_ref(), &out),
    );
    let mut xs = Vec::with_capacity(out.rows.len());
    let mut chains = Vec::with_capacity(out.rows.len());
    for (c, x) in &out.rows {
        xs.push(x[0]);
        chains.push(*c as u64);
    }
    Ok(Run {
        xs,
        chains,
        mean: out.mean[0],
        var: out.var[0],
        saturations: out.saturations,
    })
}

/// Bootstrap replicates of the W2 interval, by size.
pub fn replicates(size: Size) -> usize {
    size.pick(10, 20, 100)
}

/// Evaluates a run against `cfg`'s target; with `boot` > 0 the W2 gets a bootstrap interval
/// over chains.
pub fn score(ctx: &Ctx, cfg: &RunConfig, run: &Run, boot: usize) -> Result<Metrics> {
    let target = cfg.target.build()?;
    let opts = EvalOptions {
        seed: ctx.seed,
        chains: Some(run.chains.clone()),
        bootstrap: Some(boot),
        ..Default::default()
    };
    let m = evaluate(&run.xs, 1, target.as_ref(), &opts)?;
    let mut values = vec![("w2", m.w2), ("w1", m.w1)];
    if boot > 0 {
        values.push(("interval.se", m.interval.as_ref().map(|i| i.se)));
    }
    let sample_max = run.xs.iter().fold(0.0f64, |a, x| a.max(x.abs()));
    ctx.warn(
        cfg,
        diagnostics::metric_warnings(&values, run.xs.len(), None, target.as_ref(), sample_max),
    );
    Ok(m)
}

/// The W2 of `m` with its bootstrap standard error (NaN when there is no interval).
pub fn w2_estimate(m: &Metrics) -> Estimate {
    Estimate::new(
        m.w2.unwrap_or(f64::NAN),
        m.interval.as_ref().map_or(f64::NAN, |i| i.se),
    )
}

/// Writes a CSV file (header line, then rows) atomically.
pub fn write_csv(path: &Path, header: &[&str], rows: &[Vec<String>]) -> Result<()> {
    let mut s = header.join(",");
    s.push('\n');
    for r in rows {
        s.push_str(&r.join(","));
        s.push('\n');
    }
    crate::output::write_atomic(path, s.as_bytes())
}

/// Runs the selected figures and writes the report; returns the figure reports.
///
/// Errors (before anything is written): an unknown figure name, `threads` = 0.
pub fn reproduce(opts: &ReproduceOptions) -> Result<Vec<FigureReport>> {
    let selected: Vec<&FigureDef> = match opts.name.as_deref() {
        None | Some("all") => FIGURES.iter().collect(),
        Some(n) => match FIGURES.iter().find(|f| f.name == n) {
            Some(f) => vec![f],
            None => {
                let names: Vec<&str> = FIGURES.iter().map(|f| f.name).collect();
                return Err(Error::param(
                    "figure NAME",
                    n,
                    format!("must be one of: all, {}", names.join(", ")),
                ));
            }
        },
    };
    if opts.threads == Some(0) {
        return Err(Error::param("--threads", 0, "must be at least 1"));
    }
    // A report left by an earlier run does not describe the figures this run rewrites: it
    // goes now and comes back, complete, when every figure is done.
    crate::output::remove_if_present(&opts.out.join("REPORT.md"))?;
    crate::output::remove_if_present(&opts.out.join("summary.json"))?;
    crate::output::remove_stale_temporaries(&opts.out);
    let show = opts.progress && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let t0 = Instant::now();
    let mut reports = Vec::new();
    for f in selected {
        let mut ctx = Ctx::new(&opts.out, opts.size, opts.threads, opts.seed);
        ctx.max_memory = opts.max_memory;
        if show {
            let bar = indicatif::ProgressBar::new_spinner();
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{spinner} {prefix}: {human_pos} chain-steps, {elapsed}",
            ) {
                bar.set_style(style);
            }
            bar.set_prefix(f.name);
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            ctx.bar = Some(bar);
        }
        let start = Instant::now();
        let mut r = (f.run)(&ctx)?;
        r.wall_s = start.elapsed().as_secs_f64();
        r.chain_steps = ctx.steps.load(Ordering::Relaxed);
        r.warnings = ctx.take_warnings();
        if let Some(b) = &ctx.bar {
            let counts = report::verdict_counts(&r.checks);
            b.set_style(
                indicatif::ProgressStyle::with_template("{prefix}: {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            b.finish_with_message(format!(
                "done in {:.1} s ({:.2e} chain-steps): {counts}",
                r.wall_s, r.chain_steps as f64
            ));
        }
        reports.push(r);
    }
    report::write(opts, &reports, t0.elapsed().as_secs_f64())?;
    Ok(reports)
}

/// The density of `law` on 401 points of `[lo, hi]`, as a plot series.
pub fn pdf_series(
    label: &str,
    law: &crate::target::Dist1,
    lo: f64,
    hi: f64,
) -> crate::plot::Series {
    let pts = (0..=400)
        .map(|i| lo + (hi - lo) * i as f64 / 400.0)
        .map(|x| (x, law.pdf(x)))
        .collect();
    crate::plot::Series::new(label, pts)
}

/// One histogram panel: title, samples, lattice step of the samples (`None`: full precision).
pub struct Panel<'a> {
    /// Panel title (also the `variant` column of the CSV).
    pub title: String,
    /// The samples.
    pub xs: &'a [f64],
    /// Lattice step Δ of the samples, when they are on a grid.
    pub lattice: Option<f64>,
}

/// Writes histogram panels of samples against `law` over `[lo, hi]` and returns the CSV rows
/// `panel,bin_left,bin_right,count,density,target_density` (target density at the bin
/// centre).
pub fn write_panels(
    stem: &Path,
    title: &str,
    panels: &[Panel],
    law: &crate::target::Dist1,
    (lo, hi): (f64, f64),
) -> Result<Vec<Vec<String>>> {
    use crate::plot::{histogram_density, write_histogram_panels, Histogram};
    let curve = pdf_series("target density", law, lo, hi);
    let hists: Vec<Histogram> = panels
        .iter()
        .map(|p| Histogram {
            curves: vec![curve.clone()],
            lattice: p.lattice,
            range: Some((lo, hi)),
            bins: if p.lattice.is_some() { 0 } else { 80 },
            ..Histogram::new(p.title.clone(), "x (parameter value)", p.xs)
        })
        .collect();
    write_histogram_panels(stem, title, &hists)?;
    let mut rows = Vec::new();
    for (p, h) in panels.iter().zip(&hists) {
        let b = histogram_density(h)?;
        for i in 0..b.counts.len() {
            let c = 0.5 * (b.edges[i] + b.edges[i + 1]);
            rows.push(vec![
                format!("\"{}\"", p.title),
                b.edges[i].to_string(),
                b.edges[i + 1].to_string(),
                b.counts[i].to_string(),
                b.density[i].to_string(),
                law.pdf(c).to_string(),
            ]);
        }
    }
    Ok(rows)
}

/// Header of the CSV rows of [`write_panels`].
pub const PANEL_HEADER: [&str; 6] = [
    "panel",
    "bin_left",
    "bin_right",
    "count",
    "density",
    "target_density",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Thinning keeps at most `max_kept` per chain: 5000 post-burn-in steps with ≤ 300 kept
    /// need thin ⌈5000/300⌉ = 17 (294 kept).
    #[test]
    fn budget_thins_to_the_cap() {
        let b = Budget::new(10, 6000, 1000, 300);
        assert_eq!(b.thin, 17);
        assert_eq!((b.steps - b.burn_in) / b.thin, 294);
        assert_eq!(Budget::new(10, 100, 0, 1000).thin, 1);
    }

    /// Four chains of two samples, two groups: group means 1 and 3 → sd √2, se = √2/√2 = 1.
    #[test]
    fn group_se_of_known_groups() {
        let xs = [1.0, 1.0, 1.0, 1.0, 3.0, 3.0, 3.0, 3.0];
        let chains = [0, 0, 1, 1, 2, 2, 3, 3];
        let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
        assert!((group_se(&xs, &chains, 2, mean) - 1.0).abs() < 1e-12);
        assert!(group_se(&xs, &chains, 1, mean).is_nan());
    }

    /// An unknown figure name is an error naming the allowed names, before anything is
    /// written.
    #[test]
    fn unknown_figure_is_rejected() {
        let out = std::env::temp_dir().join(format!("lpmc-repro-unit-{}", std::process::id()));
        let e = reproduce(&ReproduceOptions {
            name: Some("fig7".into()),
            out: out.clone(),
            size: Size::Tiny,
            threads: None,
            seed: 0,
            progress: false,
            max_memory: None,
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("fig7") && e.contains("fig6"), "{e}");
        assert!(!out.exists());
    }
}
