//! Durable sweep state: `DIR/grid.json` (which grid the directory belongs to) and one file
//! per finished point under `DIR/points/`, each written atomically (temporary file, fsync,
//! rename, fsync of the directory). A killed sweep therefore keeps every point that finished
//! and never leaves a partial point file; `points.csv`/`points.jsonl` are regenerated from
//! these files, never appended to.

use super::cost::Cost;
use super::grid::{fnv1a64, one_line};
use crate::error::{Error, Result};
use crate::output::write_atomic;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// `DIR/grid.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GridRecord {
    /// Version of lpmc that wrote it.
    pub lpmc_version: String,
    /// The grid hash ([`super::grid::Grid::hash`]).
    pub grid_hash: String,
    /// Number of points of the whole grid (all shards).
    pub points: usize,
    /// The canonical grid.
    pub grid: Value,
}

/// What was set up at a point (from its resolved config).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointSetup {
    /// `"{sampler} {variant} {datapath}"`, e.g. `sghmc lp-l integer`: the series of the
    /// error-vs-bits plot.
    pub label: String,
    /// `mc` (Monte Carlo) or `exact` (the exact stationary law).
    #[serde(default = "default_method")]
    pub method: String,
    /// `sgld` or `sghmc`.
    pub sampler: String,
    /// The sampler's variant (`fp`, `lp-f`, `lp-l`, `vc-l`, `vc-joint`).
    pub variant: String,
    /// `float` or `integer`.
    pub datapath: String,
    /// The rounding (`sr`, `sr:R`, …).
    pub rounding: String,
    /// The random source.
    pub source: String,
    /// The noise generator of the integer datapath.
    pub noise_gen: String,
    /// `[wl, fl]` of param, momentum, grad, accum, coef, noise (resolved).
    pub formats: [[u32; 2]; 6],
    /// Dimension d of the target.
    pub dim: usize,
    /// Chains.
    pub chains: usize,
    /// Steps per chain.
    pub steps: u64,
}

fn default_method() -> String {
    "mc".into()
}

/// What was measured at a point. Distances are in the units of x; `None` when not defined
/// (e.g. no finite samples).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointMetrics {
    /// `w2` (d = 1) or `sliced_w2` (d > 1): which distance `error` is.
    pub error_metric: String,
    /// The primary distance to the target (the error of the Pareto front).
    pub error: Option<f64>,
    /// 2.5% bootstrap percentile of `error` (over chains).
    pub error_lo: Option<f64>,
    /// 97.5% bootstrap percentile of `error`.
    pub error_hi: Option<f64>,
    /// Bootstrap standard error of `error`.
    pub error_se: Option<f64>,
    /// Exact W2 (d = 1).
    pub w2: Option<f64>,
    /// Exact W1 (d = 1).
    pub w1: Option<f64>,
    /// `max_i |mean_i − μ_i|` over all kept samples (x units).
    pub mean_err: Option<f64>,
    /// `max_i |var_i/σ²_i − 1|` over all kept samples (relative).
    pub var_err: Option<f64>,
    /// Overflow events (saturations or wraps) of all roundings of all chains.
    pub saturations: u64,
    /// `saturations / (chains · steps · d)`: events per dim-step.
    pub saturation_rate: f64,
    /// Kept samples over all chains.
    pub kept_samples: u64,
    /// Why the evaluator could not score the samples, if it could not.
    pub eval_error: Option<String>,
}

/// Timings: the only fields that differ between identical runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointTiming {
    /// Wall-clock seconds of the point's chains.
    pub wall_s: f64,
    /// Chain-steps per second (on one thread when the sweep has at least as many points as
    /// threads).
    pub steps_per_s: f64,
}

/// One finished point: the content of its file under `DIR/points/`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointRecord {
    /// The grid hash.
    pub grid_hash: String,
    /// Index in the grid's canonical order (0-based).
    pub index: usize,
    /// Canonical key.
    pub key: String,
    /// The point's seed.
    pub seed: u64,
    /// `(path, value)` of every varied path.
    pub values: Vec<(String, Value)>,
    /// What was run.
    pub setup: PointSetup,
    /// What was measured.
    pub metrics: PointMetrics,
    /// The hardware cost model.
    pub cost: Cost,
    /// Diagnostics of the point's run, before and after ([`crate::diagnostics`]); absent in
    /// point files of older versions.
    #[serde(default)]
    pub warnings: Vec<crate::diagnostics::Warning>,
    /// Timings.
    pub timing: PointTiming,
}

/// `DIR/points`.
pub fn points_dir(dir: &Path) -> PathBuf {
    dir.join("points")
}

/// The file of the point with `key`: `DIR/points/pt-<fnv1a64(key) as 16 hex>.json`.
pub fn point_file(dir: &Path, key: &str) -> PathBuf {
    points_dir(dir).join(format!("pt-{:016x}.json", fnv1a64(key.as_bytes())))
}

/// Writes `bytes` atomically and durably: [`write_atomic`] (temporary file, fsync, rename),
/// then an fsync of the directory so the rename itself survives a crash.
pub fn write_durable(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic(path, bytes)?;
    if let Some(d) = path.parent() {
        // Directories cannot be opened for fsync on every platform; the file itself is synced.
        if let Ok(f) = std::fs::File::open(if d.as_os_str().is_empty() {
            Path::new(".")
        } else {
            d
        }) {
            let _ = f.sync_all();
        }
    }
    Ok(())
}

/// Writes a point's file.
pub fn write_point(dir: &Path, rec: &PointRecord) -> Result<()> {
    let mut s = serde_json::to_string_pretty(rec)
        .map_err(|e| Error::Config(format!("cannot serialize point {}: {e}", rec.index)))?;
    s.push('\n');
    write_durable(&point_file(dir, &rec.key), s.as_bytes())
}

/// Writes `DIR/grid.json`.
pub fn write_grid_record(dir: &Path, rec: &GridRecord) -> Result<()> {
    let mut s = serde_json::to_string_pretty(rec)
        .map_err(|e| Error::Config(format!("cannot serialize grid.json: {e}")))?;
    s.push('\n');
    write_durable(&dir.join("grid.json"), s.as_bytes())
}

/// Reads `DIR/grid.json`; `None` when it does not exist.
pub fn read_grid_record(dir: &Path) -> Result<Option<GridRecord>> {
    let path = dir.join("grid.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::Io { path, source: e }),
    };
    serde_json::from_str(&text).map(Some).map_err(|e| {
        Error::Config(format!(
            "{}: not a sweep's grid.json: {}",
            path.display(),
            one_line(&e.to_string())
        ))
    })
}

/// Every point file of `DIR/points` belonging to grid `hash`, sorted by index (one record
/// per index). Files that do not parse (impossible with atomic writes, but e.g. a truncated
/// copy) are skipped, so their points run again; temporary files (`.…tmp`) are ignored. A
/// point file of another grid is an error.
pub fn read_points(dir: &Path, hash: &str) -> Result<Vec<PointRecord>> {
    let pd = points_dir(dir);
    let entries = match std::fs::read_dir(&pd) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(Error::Io {
                path: pd,
                source: e,
            })
        }
    };
    let mut out: Vec<PointRecord> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::Io {
            path: pd.clone(),
            source: e,
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !(name.starts_with("pt-") && name.ends_with(".json")) {
            continue;
        }
        let path = entry.path();
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Ok(rec) = serde_json::from_str::<PointRecord>(&text) else {
            continue;
        };
        if rec.grid_hash != hash {
            return Err(Error::Config(format!(
                "{}: belongs to grid {}, not {hash}",
                path.display(),
                rec.grid_hash
            )));
        }
        out.push(rec);
    }
    out.sort_by_key(|r| r.index);
    out.dedup_by_key(|r| r.index);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::grid::Grid;

    /// A written point reads back equal; a truncated point file (as a non-atomic copy could
    /// leave) and temporary files are skipped, so the point simply runs again; a point file of
    /// another grid is an error.
    #[test]
    fn point_files_round_trip_and_bad_files_are_skipped() {
        let dir = std::env::temp_dir().join(format!("lpmc-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let g = Grid::from_value(serde_json::json!({
            "base": {"target": {"gaussian": {"mean": [0.0], "var": [1.0]}},
                     "sampler": {"sgld": {"eta": 0.05}}, "chains": 3, "steps": 200, "burn_in": 50},
            "vary": {"format.fl": [3, 4]}}))
        .unwrap();
        let pts = g.points().unwrap();
        let hash = g.hash();
        let rec = crate::sweep::run_point(&pts[1], &hash, Some(1), &Default::default()).unwrap();
        write_point(&dir, &rec).unwrap();
        let text = serde_json::to_string(&rec).unwrap();
        std::fs::write(point_file(&dir, &pts[0].key), &text[..text.len() / 2]).unwrap();
        std::fs::write(points_dir(&dir).join(".pt-x.json.1.tmp"), "{").unwrap();
        assert_eq!(read_points(&dir, &hash).unwrap(), vec![rec.clone()]);
        assert!(read_points(&dir, "0000000000000000").is_err());
        // The same point run again (another thread count) is identical but for the timings.
        let mut again = crate::sweep::run_point(&pts[1], &hash, None, &Default::default()).unwrap();
        again.timing = rec.timing.clone();
        assert_eq!(again, rec);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
