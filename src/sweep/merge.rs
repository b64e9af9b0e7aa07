//! `lpmc merge DIR… --out DIR`: joins the directories of the shards of one grid.

use super::report::write_reports;
use super::store::{self, PointRecord};
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What a merge did.
#[derive(Clone, Debug, PartialEq)]
pub struct MergeSummary {
    /// Points of the whole grid.
    pub grid_points: usize,
    /// Distinct finished points found in the inputs (and now in `out`).
    pub rows: usize,
    /// Rows of `pareto.csv`.
    pub pareto: usize,
    /// The grid hash.
    pub grid_hash: String,
}

/// Merges sweep directories `inputs` (at least one) into `out`: every input must hold the
/// same grid (same hash in `grid.json`), and so must `out` if it already holds a sweep. The
/// point files are copied to `out/points/` (atomically; a point present in several inputs is
/// taken from the first) and the outputs regenerated — identical to those of the unsharded
/// sweep once every shard has finished.
pub fn merge(inputs: &[PathBuf], out: &Path) -> Result<MergeSummary> {
    let first = inputs
        .first()
        .ok_or_else(|| Error::Config("merge: give at least one sweep directory".into()))?;
    let read = |d: &Path| -> Result<store::GridRecord> {
        store::read_grid_record(d)?.ok_or_else(|| {
            Error::Config(format!(
                "{}: not a sweep directory (no grid.json)",
                d.display()
            ))
        })
    };
    let head = read(first)?;
    for d in &inputs[1..] {
        let g = read(d)?;
        if g.grid_hash != head.grid_hash {
            return Err(Error::Config(format!(
                "cannot merge shards of different grids: {} holds grid {}, {} holds grid {}",
                first.display(),
                head.grid_hash,
                d.display(),
                g.grid_hash
            )));
        }
    }
    if let Some(g) = store::read_grid_record(out)? {
        if g.grid_hash != head.grid_hash {
            return Err(Error::Config(format!(
                "cannot merge into {}: it holds grid {}, the inputs grid {}",
                out.display(),
                g.grid_hash,
                head.grid_hash
            )));
        }
    }
    // Read everything before writing anything.
    let mut all: BTreeMap<usize, PointRecord> = BTreeMap::new();
    for d in inputs {
        for r in store::read_points(d, &head.grid_hash)? {
            all.entry(r.index).or_insert(r);
        }
    }
    store::write_grid_record(out, &head)?;
    for r in all.values() {
        store::write_point(out, r)?;
    }
    let records = store::read_points(out, &head.grid_hash)?;
    let pareto = write_reports(out, &records)?;
    Ok(MergeSummary {
        grid_points: head.points,
        rows: records.len(),
        pareto,
        grid_hash: head.grid_hash,
    })
}
