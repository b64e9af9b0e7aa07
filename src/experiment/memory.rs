//! Memory before a run: an estimate of what a run needs, the memory this machine (or its
//! cgroup) has available, and the refusal when the first exceeds the second.
//!
//! # The estimate
//! With `C` chains, `d` dimensions, `R` kept samples returned as rows (`samples.csv`, or every
//! kept sample for `lpmc reproduce`), `T` worker threads:
//!
//! ```text
//! bytes = C·(96·d + 384)            state, moments and final planes of every chain
//!       + R·(96·d + 64)             the rows, their flat copy, the CSV text, the evaluator's copies
//!       + 64·d²        (d > 1)      the evaluator's covariance and Bures square roots
//!       + target                    full covariance 32·d², regression 8·n·d + 40·d², posterior 8·n
//!       + T·(160·d + 2^17)          per-thread workspaces and random-word scratch
//!       + 32 MiB                    the program, thread stacks, plots
//! ```
//!
//! The constants bound what the chain runner allocates per chain and per row (every buffer
//! that lives until the end of the run, counted at 8 bytes per code or `f64`, plus the vector
//! headers and allocator overhead); the estimate is meant to be high, not exact.

use crate::error::{Error, Result};
use crate::experiment::config::RunConfig;
use crate::target::TargetConfig;

/// Bytes a run of `config` is estimated to need when it returns `rows` kept samples and
/// runs on `threads` worker threads (see the [module docs](self) for the formula). Saturates
/// at `u64::MAX` instead of overflowing.
pub fn estimate(config: &RunConfig, d: usize, rows: u64, threads: usize) -> u64 {
    let d = d as u128;
    let chains = config.chains as u128;
    let target = target_bytes(config) as u128;
    let eval = if d > 1 { 64 * d * d } else { 0 };
    let total = chains * (96 * d + 384)
        + rows as u128 * (96 * d + 64)
        + eval
        + target
        + threads as u128 * (160 * d + (1 << 17))
        + (32 << 20);
    total.min(u64::MAX as u128) as u64
}

/// Checks a run of `config` (dimension `d`, `rows` returned rows, `threads` threads) against
/// what it may use ([`check`]), naming the field behind the largest term of the estimate.
pub fn check_run(
    config: &RunConfig,
    d: usize,
    rows: u64,
    threads: usize,
    limit: Option<u64>,
    what: &str,
) -> Result<()> {
    let need = estimate(config, d, rows, threads);
    let dd = d as u128;
    let terms = [
        (
            config.chains as u128 * (96 * dd + 384),
            format!("`chains` ({})", config.chains),
        ),
        (
            rows as u128 * (96 * dd + 64),
            format!("`max_sample_rows` ({rows} rows kept)"),
        ),
        (
            target_bytes(config) as u128,
            "the target's size (`n`, `dim` or the dimension of `mean`)".to_string(),
        ),
        (
            if d > 1 { 64 * dd * dd } else { 0 },
            format!("the dimension ({d})"),
        ),
    ];
    let knob = terms
        .iter()
        .max_by_key(|t| t.0)
        .map(|t| t.1.clone())
        .unwrap_or_default();
    check(need, limit, what, &knob)
}

/// The dimension of `config`'s target, read from its config without building it (0 for an
/// empty Gaussian, which the build rejects).
pub fn config_dim(config: &RunConfig) -> usize {
    match &config.target {
        TargetConfig::Gaussian(g) => g.mean.len(),
        TargetConfig::Mixture(m) => m.means.first().map_or(0, Vec::len),
        TargetConfig::PaperMixture | TargetConfig::Posterior(_) => 1,
        TargetConfig::Regression(r) => r.dim,
    }
}

/// Rows a run returns: `min(max_sample_rows, chains × kept per chain)` for `lpmc run` and
/// sweeps (`all` = false), every kept sample for `lpmc reproduce` (`all` = true).
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
        total.min(config.max_sample_rows as u64)
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
        TargetConfig::Gaussian(g) if g.cov.is_some() => 32 * d * d,
        TargetConfig::Regression(r) => {
            8 * r.n as u128 * r.dim as u128 + 40 * (r.dim as u128).pow(2)
        }
        TargetConfig::Posterior(p) => 8 * p.n as u128 + (1 << 20),
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

    /// A trillion chains cannot fit any machine; the estimate is at least 480 B per 1-D chain
    /// and the check names the knob.
    #[test]
    fn huge_chain_counts_are_refused() {
        let c: RunConfig = serde_json::from_value(serde_json::json!({
            "target": {"gaussian": {"mean": [0.0], "var": [1.0]}},
            "sampler": {"sgld": {}}, "chains": 1_000_000_000_000u64}))
        .unwrap();
        let need = estimate(&c, 1, rows(&c, false), 2);
        assert!(need >= 480_000_000_000_000, "{need}");
        let e = check(need, Some(1 << 34), "this run", "`chains`")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`chains`") && e.contains("--max-memory"), "{e}");
        assert!(check(1 << 20, Some(1 << 34), "this run", "`chains`").is_ok());
    }

    /// The machine reports some available memory (Linux CI).
    #[test]
    fn available_memory_is_read() {
        if cfg!(target_os = "linux") {
            assert!(available().is_some_and(|b| b > 1 << 20));
        }
    }
}
