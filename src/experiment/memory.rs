//! Memory before a run: an estimate of what a run needs, the memory this machine (or its
//! cgroup) has available, and the refusal when the first exceeds the second.
//!
//! # The estimate
//! With `C` chains, `d` dimensions, `R` kept samples returned as rows (`samples.csv`, or every
//! kept sample for `lpmc reproduce`), `T` worker threads, and the chain runner's layout
//! ([`Shape`]: `w_x`, `w_v` bytes per stored position and momentum coordinate — the codes'
//! container, 1, 2, 4 or 8, or 8 for `f64` — `W` random words per chain-step, and `g` chains
//! per group (a runner task), up to 4096 in lockstep, else 1):
//!
//! ```text
//! bytes = 5/4 · (
//!         C·(2·d·(w_x + w_v) + 16·d·[f64 states] + 24)   state planes (the groups' and the
//!                                                       final ones), f64 mean and M2, a row list
//!       + ⌈C/g⌉·(384 + 32·d)                             each group's record and exact code sums
//!       + T·(g·(40 + 24·d) + scratch)                 the groups being stepped: random-bit
//!                                                       state (32 bytes a chain), initial codes,
//!                                                       kernel sums, random-word scratch:
//!                                                       8·max(2·64·W, 512 + 2·d) in lockstep,
//!                                                       8·(max(W, 512) + 2·d) for one chain
//!       + R·(96·d + 64)  (d ≤ 1000)                     the rows, their flat copy, the CSV text,
//!                                                       the evaluator's copies
//!       + R·(24·d + 64)  (d > 1000)                     the rows and their flat copy (the
//!                                                       evaluator goes one dimension at a time)
//!       + 64·d²        (1 < d ≤ 1000)                    the evaluator's covariance and Bures roots
//!       + 64·d         (d > 1000)                        the high-dimensional evaluator's
//!                                                       moments, one direction, its sums
//!       + target )                                       diagonal Gaussian 32·d, mixture
//!                                                       32·K·d, full covariance 32·d², regression
//!                                                       8·n·d + 40·d², posterior 8·n + 1 MiB
//!       + 32 MiB                                         the program, thread stacks, plots
//! ```
//!
//! The runner (`crate::experiment::chains`) holds every chain's state in one plane per
//! quantity in its format's container; random-bit state exists only for the chains being
//! stepped; per chain it keeps nothing else but, for `f64` states, two `f64` per coordinate,
//! and the output rows. The planes are counted twice because the groups' planes and the
//! concatenated final planes coexist at the end of a run. Without the target (a sweep's check,
//! before any point is built) whether the chains run in lockstep is not known and `g = 1` is
//! assumed (the larger estimate). The constants include vector headers and allocator
//! overhead, and the 5/4 leaves room for the allocator's rounding and fragmentation: the
//! estimate is meant to be high, not exact. Measured (`tests/run_cli.rs`,
//! `memory_estimate_bounds_the_peak`): from 1 chain to 10⁶ 1-D chains in lockstep the peak
//! resident memory grows by 31.1 MB, the terms above (before the 5/4) by 32.5 MB; 5·10⁵
//! `f64` chains 30.5 MB against 31.3 MB; 2·10⁴ 40-D chains one per group 33.7 MB against
//! 35.4 MB.

use crate::error::{Error, Result};
use crate::experiment::config::{RunConfig, HIGH_DIM};
use crate::sampler::{Engine, Sampler, Storage};
use crate::target::{Target, TargetConfig};
use lpmc_kernels::drivers::lockstep::LANES;
use lpmc_kernels::rules::Gradient;

/// What the chain runner's memory depends on besides the counts: the layout of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Dimension d.
    pub d: usize,
    /// Bytes per stored position coordinate (the codes' container, or 8 for `f64`).
    pub x_bytes: u64,
    /// Bytes per stored momentum coordinate (0 without momentum).
    pub v_bytes: u64,
    /// Whether the position is stored in `f64` (the runner then keeps a mean and M2 per
    /// chain and coordinate).
    pub f64_state: bool,
    /// Random 64-bit words one chain-step draws.
    pub words: u64,
    /// Whether the chains run in lockstep tasks of up to 4096; `None` when not known (no
    /// target), counted as one chain per group.
    pub lockstep: Option<bool>,
}

impl Shape {
    /// The layout of `sampler`, on `target` when given (which decides the lockstep layout and
    /// the gradient's share of the random words).
    pub fn of(sampler: &dyn Sampler, target: Option<&dyn Target>) -> Result<Self> {
        let d = sampler.dim();
        let bytes = |s: Storage| match s {
            Storage::F64 => 8,
            Storage::Codes(f) => f.container().bits() as u64 / 8,
        };
        let (sx, sv) = sampler.storage();
        let (lockstep, words) = match target {
            Some(t) => {
                let engine = Engine::new(sampler, t)?;
                let step = engine
                    .step()
                    .unwrap_or_else(|| sampler.kernel_step(Gradient::Given(&[])));
                (Some(engine.lockstep()), step.layout(d).words())
            }
            None => (
                None,
                sampler.kernel_step(Gradient::Given(&[])).layout(d).words(),
            ),
        };
        Ok(Shape {
            d,
            x_bytes: bytes(sx),
            v_bytes: sv.map_or(0, bytes),
            f64_state: sx == Storage::F64,
            words: words as u64,
            lockstep,
        })
    }

    /// The layout of `config`'s sampler without building its target (lockstep unknown); a
    /// config whose sampler does not build gets the largest layout (8-byte position and
    /// momentum in `f64`, 64 words a step), so the check still bounds it.
    pub fn of_config(config: &RunConfig) -> Self {
        let d = config_dim(config);
        config
            .build_sampler(d)
            .ok()
            .and_then(|s| Shape::of(s.as_ref(), None).ok())
            .unwrap_or(Shape {
                d,
                x_bytes: 8,
                v_bytes: 8,
                f64_state: true,
                words: 64 * d.max(1) as u64,
                lockstep: None,
            })
    }
}

/// The fixed part of the estimate: the program, thread stacks, plots (32 MiB).
const FIXED: u128 = 32 << 20;

/// The terms of the estimate with the knob that each grows with, largest first.
fn terms(config: &RunConfig, shape: &Shape, rows: u64, threads: usize) -> Vec<(u128, String)> {
    let d = shape.d as u128;
    let chains = config.chains as u128;
    let threads = threads.max(1) as u128;
    let g = match shape.lockstep {
        Some(true) => (chains.div_ceil(threads)).clamp(1, super::chains::TASK_CHAINS as u128),
        _ => 1,
    };
    let f64_state = if shape.f64_state { 16 * d } else { 0 };
    let per_chain = 2 * d * (shape.x_bytes + shape.v_bytes) as u128 + f64_state + 24;
    let groups = chains.div_ceil(g) * (384 + 32 * d);
    // Random-word scratch: a lockstep task draws two batches of LANES chains' words; one
    // chain draws one step's words (at least 512), plus its position and gradient buffers.
    let words = shape.words as u128;
    let scratch = match shape.lockstep {
        Some(true) => 8 * (2 * LANES as u128 * words).max(512 + 2 * d),
        _ => 8 * (words.max(512) + 2 * d),
    };
    let active = threads * (g * (40 + 24 * d) + scratch);
    let mut t = vec![
        (
            chains * per_chain + groups,
            format!("`chains` ({})", config.chains),
        ),
        (
            // Above HIGH_DIM the evaluator works one dimension or direction at a time, so a
            // row costs itself, its flat copy and a little; below, the evaluator's copies too.
            rows as u128 * (if shape.d > HIGH_DIM { 24 * d } else { 96 * d } + 64),
            format!("`max_sample_rows` ({rows} rows kept)"),
        ),
        (
            target_bytes(config) as u128,
            "the target's size (`n`, `dim` or the dimension of `mean`)".to_string(),
        ),
        (
            match shape.d {
                0..=1 => 0,
                2..=HIGH_DIM => (64 * d).saturating_mul(d),
                _ => 64 * d,
            },
            format!("the dimension ({})", shape.d),
        ),
        (active, "--threads".to_string()),
        (FIXED, "nothing (the fixed part)".to_string()),
    ];
    t.sort_by_key(|b| std::cmp::Reverse(b.0));
    t
}

/// Bytes a run of `config` with layout `shape` is estimated to need when it returns `rows`
/// kept samples and runs on `threads` worker threads (see the [module docs](self) for the
/// formula). Saturates at `u64::MAX` instead of overflowing.
pub fn estimate(config: &RunConfig, shape: &Shape, rows: u64, threads: usize) -> u64 {
    let terms = terms(config, shape, rows, threads);
    let variable = terms
        .iter()
        .filter(|t| t.0 != FIXED)
        .fold(0u128, |a, t| a.saturating_add(t.0));
    let total = variable.saturating_add(variable / 4).saturating_add(FIXED);
    total.min(u64::MAX as u128) as u64
}

/// Checks a run of `config` (layout `shape`, `rows` returned rows, `threads` threads)
/// against what it may use ([`check`]), naming the knob behind the largest term of the
/// estimate.
pub fn check_run(
    config: &RunConfig,
    shape: &Shape,
    rows: u64,
    threads: usize,
    limit: Option<u64>,
    what: &str,
) -> Result<()> {
    let need = estimate(config, shape, rows, threads);
    let knob = terms(config, shape, rows, threads)
        .into_iter()
        .next()
        .map(|t| t.1)
        .unwrap_or_default();
    check(need, limit, what, &knob)
}

/// The dimension of `config`'s target, read from its config without building it (0 for an
/// empty Gaussian, which the build rejects).
pub fn config_dim(config: &RunConfig) -> usize {
    match &config.target {
        TargetConfig::Gaussian(g) => g.dim(),
        TargetConfig::Mixture(m) => m.dim(),
        TargetConfig::PaperMixture | TargetConfig::Posterior(_) => 1,
        TargetConfig::Regression(r) => r.dim,
        TargetConfig::Classifier(c) => c.net().dim(),
    }
}

/// Rows a run returns: `min(max_sample_rows, chains × kept per chain)`, with
/// `max_sample_rows` lowered to fit the samples budget ([`RunConfig::sample_rows_cap`]), for
/// `lpmc run` and sweeps (`all` = false); every kept sample for `lpmc reproduce` (`all` =
/// true).
pub fn rows(config: &RunConfig, all: bool) -> u64 {
    let kept = if config.thin == 0 || config.burn_in >= config.steps {
        0
    } else {
        (config.steps - config.burn_in) / config.thin
    };
    let total = (config.chains as u64).saturating_mul(kept);
    if all {
        total
    } else {
        total.min(config.sample_rows_cap(config_dim(config)) as u64)
    }
}

/// The memory available to this process in bytes: the smaller of `MemAvailable` in
/// `/proc/meminfo` and the room left under the process's cgroup limit (v2 `memory.max`,
/// or v1 `memory.limit_in_bytes`); `None` where neither can be read (not Linux).
pub fn available() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| {
        t.lines()
            .find_map(|l| l.strip_prefix("MemAvailable:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb.saturating_mul(1024))
    });
    [meminfo, cgroup_room()].into_iter().flatten().min()
}

/// The peak resident memory of this process so far in bytes (`VmHWM` of
/// `/proc/self/status`); `None` where it cannot be read (not Linux).
pub fn peak_resident() -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .map(|kb| kb.saturating_mul(1024))
        })
}

/// Bytes left under the cgroup's memory limit, if it has one.
fn cgroup_room() -> Option<u64> {
    let read = |p: &str| -> Option<u64> { std::fs::read_to_string(p).ok()?.trim().parse().ok() };
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    // cgroup v2: the line `0::/path`.
    if let Some(path) = own.lines().find_map(|l| l.strip_prefix("0::")) {
        let dir = format!("/sys/fs/cgroup{}", path.trim_end_matches('/'));
        let max = read(&format!("{dir}/memory.max"));
        let cur = read(&format!("{dir}/memory.current")).unwrap_or(0);
        if let Some(max) = max {
            return Some(max.saturating_sub(cur));
        }
    }
    // cgroup v1 (a limit near 2^63 means none).
    let max = read("/sys/fs/cgroup/memory/memory.limit_in_bytes")?;
    let cur = read("/sys/fs/cgroup/memory/memory.usage_in_bytes").unwrap_or(0);
    (max < 1 << 60).then(|| max.saturating_sub(cur))
}

/// A byte count for people: `24.0 TB`, `512.0 MB` (SI units).
pub fn human(bytes: u64) -> String {
    bytesize::ByteSize::b(bytes).display().si().to_string()
}

/// Parses a memory size: a plain number of bytes (any form `f64` parses, `1e9`) or a number
/// with a unit (`512M`, `64G`, `1.5 GiB`, `2TB`; SI and binary units).
///
/// ```
/// use lpmc::experiment::memory::parse_size;
/// assert_eq!(parse_size("64G").unwrap(), 64_000_000_000);
/// assert_eq!(parse_size("1GiB").unwrap(), 1 << 30);
/// assert_eq!(parse_size("1e9").unwrap(), 1_000_000_000);
/// assert!(parse_size("lots").is_err() && parse_size("-5G").is_err());
/// ```
pub fn parse_size(s: &str) -> Result<u64> {
    let bad = || {
        Error::param(
            "--max-memory",
            s,
            "must be a size in bytes, e.g. 64G, 512MiB, 1.5TB or 1e9",
        )
    };
    let t = s.trim();
    if let Ok(v) = t.parse::<f64>() {
        return if v.is_finite() && v >= 0.0 && v < u64::MAX as f64 {
            Ok(v as u64)
        } else {
            Err(bad())
        };
    }
    t.parse::<bytesize::ByteSize>()
        .map(|b| b.as_u64())
        .map_err(|_| bad())
}

/// The process-wide memory limit (`--max-memory`), 0 = none set.
static PROCESS_LIMIT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Sets the process-wide memory limit that [`check`] uses when its caller gives none (the
/// CLI's `--max-memory`); `None` clears it.
pub fn set_process_limit(limit: Option<u64>) {
    PROCESS_LIMIT.store(limit.unwrap_or(0), std::sync::atomic::Ordering::Relaxed);
}

/// Bytes the target of `config` needs (the `target` term of the [module docs](self)).
pub fn target_bytes(config: &RunConfig) -> u64 {
    let d = config_dim(config) as u128;
    let b: u128 = match &config.target {
        // Saturating: the counts come from the config unchecked (up to usize::MAX each).
        TargetConfig::Gaussian(g) if g.cov.is_some() => (32 * d).saturating_mul(d),
        TargetConfig::Regression(r) => {
            let (n, dim) = (r.n as u128, r.dim as u128);
            (8 * n)
                .saturating_mul(dim)
                .saturating_add((40 * dim).saturating_mul(dim))
        }
        TargetConfig::Posterior(p) => 8 * p.n as u128 + (1 << 20),
        TargetConfig::Mixture(m) => (32 * d).saturating_mul(m.weights.len().max(1) as u128),
        _ => 32 * d,
    };
    b.min(u64::MAX as u128) as u64
}

/// Refuses a run that needs more than it may use: `needed` bytes (the [`estimate`]) against
/// `limit` (`--max-memory`), else the process-wide limit ([`set_process_limit`]), else
/// [`available`]. `what` describes the run (`this run`, `grid point 3`); `knobs` names what
/// to lower. Passes when the available memory is unknown.
pub fn check(needed: u64, limit: Option<u64>, what: &str, knobs: &str) -> Result<()> {
    let process = PROCESS_LIMIT.load(std::sync::atomic::Ordering::Relaxed);
    let limit = limit.or((process > 0).then_some(process));
    let (have, source) = match limit {
        Some(l) => (l, "the --max-memory limit is"),
        None => match available() {
            Some(a) => (a, "this machine has"),
            None => return Ok(()),
        },
    };
    if needed <= have {
        return Ok(());
    }
    Err(Error::Resource(format!(
        "{what} needs an estimated {} of memory but {source} {} available: lower {knobs}, or pass --max-memory SIZE to override the estimate's limit (formula: docs/config.md#memory)",
        human(needed),
        human(have)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(v: serde_json::Value) -> RunConfig {
        serde_json::from_value(v).unwrap()
    }

    /// A trillion chains cannot fit any machine: the 1-byte position planes alone (twice) and
    /// the 24-byte row list are 26 B per 1-D chain; the check names `chains` as the knob.
    #[test]
    fn huge_chain_counts_are_refused() {
        let c = config(serde_json::json!({
            "target": {"gaussian": {"mean": [0.0], "var": [1.0]}},
            "sampler": {"sgld": {}}, "chains": 1_000_000_000_000u64}));
        let b = c.build().unwrap();
        let shape = Shape::of(b.sampler.as_ref(), Some(b.target.as_ref())).unwrap();
        assert_eq!(
            (shape.x_bytes, shape.v_bytes, shape.lockstep),
            (1, 0, Some(true))
        );
        let need = estimate(&c, &shape, rows(&c, false), 2);
        assert!(need >= 26_000_000_000_000, "{need}");
        let e = check_run(&c, &shape, rows(&c, false), 2, Some(1 << 34), "this run")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`chains`") && e.contains("--max-memory"), "{e}");
        assert!(check(1 << 20, Some(1 << 34), "this run", "`chains`").is_ok());
    }

    /// The layout follows the containers: SGHMC with a 12-bit momentum stores 1-byte x and
    /// 2-byte v codes; `fp` stores f64 (and the f64 moments); without the target lockstep is
    /// unknown and one chain per group is assumed, so the estimate is larger.
    #[test]
    fn the_layout_follows_the_containers() {
        let hmc = config(serde_json::json!({
            "target": {"gaussian": {"mean": [0.0, 0.0], "var": [1.0, 1.0]}},
            "sampler": {"sghmc": {"variant": "lp-l"}},
            "formats": {"momentum": {"wl": 12, "fl": 8}}, "chains": 1000}));
        let b = hmc.build().unwrap();
        let s = Shape::of(b.sampler.as_ref(), Some(b.target.as_ref())).unwrap();
        assert_eq!((s.d, s.x_bytes, s.v_bytes, s.f64_state), (2, 1, 2, false));
        let blind = Shape::of_config(&hmc);
        assert_eq!(blind.lockstep, None);
        assert!(estimate(&hmc, &blind, 0, 1) > estimate(&hmc, &s, 0, 1));
        let fp = config(serde_json::json!({
            "target": {"gaussian": {"mean": [0.0], "var": [1.0]}},
            "sampler": {"sgld": {"variant": "fp"}}, "chains": 1000}));
        let s = Shape::of_config(&fp);
        assert_eq!((s.x_bytes, s.v_bytes, s.f64_state), (8, 0, true));
    }

    /// The machine reports some available memory (Linux CI).
    #[test]
    fn available_memory_is_read() {
        if cfg!(target_os = "linux") {
            assert!(available().is_some_and(|b| b > 1 << 20));
        }
    }
}
