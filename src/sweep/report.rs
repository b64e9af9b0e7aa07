//! The outputs of a sweep directory, regenerated from its point files: `points.csv`,
//! `points.jsonl`, `pareto.csv`, and the figures `error_vs_bits`, `pareto` and (when the
//! state format's WL and FL both vary) `heatmap_wl_fl[_<label>]`, each as SVG and PNG.
//!
//! Columns (one row per point, canonical order): `index, key, vary.<path>…, seed, label, method,
//! sampler, variant, datapath, rounding, source, noise_gen, <q>_wl, <q>_fl` for q in param,
//! momentum, grad, accum, coef, noise, `dim, chains, steps`, the metrics
//! ([`super::store::PointMetrics`]), the cost ([`super::cost::Cost`], `cost` = its total), and
//! last the two timing columns `wall_s, steps_per_s`. Every column but the last two is a pure
//! function of the grid and the point: equal for any order, shard, thread count or resume.

use super::pareto::front;
use super::store::PointRecord;
use crate::error::Result;
use crate::output::write_atomic;
use crate::plot::{write_heatmap, write_lines, Heatmap, LinePlot, Series};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Names of the timing columns (the last two), excluded when comparing runs.
pub const TIMING_COLUMNS: [&str; 2] = ["wall_s", "steps_per_s"];

/// The flat columns of a point, in output order.
pub fn row(r: &PointRecord) -> Vec<(String, Value)> {
    let f = |x: Option<f64>| x.map_or(Value::Null, Value::from);
    let s = &r.setup;
    let m = &r.metrics;
    let c = &r.cost;
    let mut cols: Vec<(String, Value)> = vec![
        ("index".into(), r.index.into()),
        ("key".into(), r.key.clone().into()),
    ];
    for (p, v) in &r.values {
        cols.push((format!("vary.{p}"), v.clone()));
    }
    cols.push(("seed".into(), r.seed.into()));
    for (k, v) in [
        ("label", &s.label),
        ("method", &s.method),
        ("sampler", &s.sampler),
        ("variant", &s.variant),
        ("datapath", &s.datapath),
        ("rounding", &s.rounding),
        ("source", &s.source),
        ("noise_gen", &s.noise_gen),
    ] {
        cols.push((k.into(), v.clone().into()));
    }
    for (q, [wl, fl]) in ["param", "momentum", "grad", "accum", "coef", "noise"]
        .iter()
        .zip(s.formats)
    {
        cols.push((format!("{q}_wl"), wl.into()));
        cols.push((format!("{q}_fl"), fl.into()));
    }
    cols.push(("dim".into(), s.dim.into()));
    cols.push(("chains".into(), s.chains.into()));
    cols.push(("steps".into(), s.steps.into()));
    cols.push(("error_metric".into(), m.error_metric.clone().into()));
    for (k, v) in [
        ("error", m.error),
        ("error_lo", m.error_lo),
        ("error_hi", m.error_hi),
        ("error_se", m.error_se),
        ("w2", m.w2),
        ("w1", m.w1),
        ("mean_err", m.mean_err),
        ("var_err", m.var_err),
    ] {
        cols.push((k.into(), f(v)));
    }
    cols.push(("saturations".into(), m.saturations.into()));
    cols.push(("saturation_rate".into(), f(Some(m.saturation_rate))));
    cols.push(("kept_samples".into(), m.kept_samples.into()));
    cols.push((
        "eval_error".into(),
        m.eval_error.clone().map_or(Value::Null, Value::from),
    ));
    for (k, v) in [
        ("state_bits", c.state_bits),
        ("random_bits", c.random_bits),
        ("total_bits", c.total_bits),
        ("rng_state_bits", c.rng_state_bits),
        ("mults", c.mults),
    ] {
        cols.push((k.into(), v.into()));
    }
    cols.push(("mult_widths".into(), c.mult_widths.clone().into()));
    cols.push(("mult_cells".into(), c.mult_cells.into()));
    for (k, v) in [
        ("adders", c.adders),
        ("adder_width", c.adder_width),
        ("adder_bits", c.adder_bits),
    ] {
        cols.push((k.into(), v.into()));
    }
    cols.push(("cost".into(), f(Some(c.total))));
    cols.push(("warnings".into(), r.warnings.len().into()));
    cols.push((
        "warning_codes".into(),
        crate::diagnostics::codes(&r.warnings).into(),
    ));
    cols.push((TIMING_COLUMNS[0].into(), f(Some(r.timing.wall_s))));
    cols.push((TIMING_COLUMNS[1].into(), f(Some(r.timing.steps_per_s))));
    cols
}

/// A CSV field: strings as they are, `null` empty, anything else as JSON; quoted (with `"`
/// doubled) when it holds a comma, a quote or a line break.
fn csv_field(v: &Value) -> String {
    let s = match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => super::grid::canonical_json(other),
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// CSV text of rows (header from the first row's names; all rows have the same columns).
pub fn csv(rows: &[Vec<(String, Value)>]) -> String {
    let mut out = String::new();
    if let Some(first) = rows.first() {
        let names: Vec<String> = first
            .iter()
            .map(|(k, _)| csv_field(&Value::from(k.clone())))
            .collect();
        out.push_str(&names.join(","));
        out.push('\n');
    }
    for r in rows {
        let cells: Vec<String> = r.iter().map(|(_, v)| csv_field(v)).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// JSON Lines text: one object per row, keys in column order.
pub fn jsonl(rows: &[Vec<(String, Value)>]) -> String {
    let mut out = String::new();
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .map(|(k, v)| format!("{}:{}", Value::from(k.clone()), v))
            .collect();
        out.push('{');
        out.push_str(&cells.join(","));
        out.push_str("}\n");
    }
    out
}

/// Writes every output of a sweep directory from `records` (sorted by index). Returns the
/// number of Pareto points.
pub fn write_reports(dir: &Path, records: &[PointRecord]) -> Result<usize> {
    let rows: Vec<_> = records.iter().map(row).collect();
    write_atomic(&dir.join("points.csv"), csv(&rows).as_bytes())?;
    write_atomic(&dir.join("points.jsonl"), jsonl(&rows).as_bytes())?;
    let pts: Vec<(f64, f64)> = records
        .iter()
        .map(|r| (r.cost.total, r.metrics.error.unwrap_or(f64::NAN)))
        .collect();
    let pf = front(&pts);
    let pareto_rows: Vec<_> = pf.iter().map(|&i| rows[i].clone()).collect();
    let mut text = csv(&pareto_rows);
    if text.is_empty() {
        // No scorable point: still a header, so the file is a valid (empty) table.
        text = rows
            .first()
            .map(|r| csv(std::slice::from_ref(r)))
            .and_then(|t| t.lines().next().map(|h| format!("{h}\n")))
            .unwrap_or_default();
    }
    write_atomic(&dir.join("pareto.csv"), text.as_bytes())?;
    write_plots(dir, records, &pf)?;
    Ok(pf.len())
}

/// The error axis label.
fn error_label(records: &[PointRecord]) -> String {
    match records.first().map(|r| r.metrics.error_metric.as_str()) {
        Some("w2") | None => "W2 to the target (x units)".into(),
        Some(m) => format!("{m} to the target (x units)"),
    }
}

/// Figures; skipped (not an error) when no point has a finite positive error.
fn write_plots(dir: &Path, records: &[PointRecord], pf: &[usize]) -> Result<()> {
    let drawable = records
        .iter()
        .any(|r| r.metrics.error.is_some_and(|e| e.is_finite() && e > 0.0));
    if !drawable {
        return Ok(());
    }
    let ylab = error_label(records);
    // Error vs total bits, one colour per label: every point as a marker, the best error at
    // each bit count joined by a line.
    let mut by_label: BTreeMap<&str, Vec<(f64, f64)>> = BTreeMap::new();
    for r in records {
        if let Some(e) = r.metrics.error {
            by_label
                .entry(&r.setup.label)
                .or_default()
                .push((r.cost.total_bits as f64, e));
        }
    }
    let mut series = Vec::new();
    let mut markers = Vec::new();
    for (label, pts) in &by_label {
        let mut best: BTreeMap<u64, f64> = BTreeMap::new();
        for &(x, y) in pts {
            let b = best.entry(x as u64).or_insert(f64::INFINITY);
            *b = b.min(y);
        }
        series.push(Series::new(
            format!("{label} (best per bit count)"),
            best.iter().map(|(&x, &y)| (x as f64, y)).collect(),
        ));
        markers.push(Series::new(String::new(), pts.clone()));
    }
    write_lines(
        &dir.join("error_vs_bits"),
        &LinePlot {
            title: format!("Error vs bits per dim-step ({} points)", records.len()),
            x_label: "total bits per dim-step (state + random)".into(),
            y_label: ylab.clone(),
            log_y: true,
            series,
            points_only: markers,
            ..Default::default()
        },
    )?;
    // The Pareto front over all points.
    let all: Vec<(f64, f64)> = records
        .iter()
        .filter_map(|r| r.metrics.error.map(|e| (r.cost.total, e)))
        .collect();
    let fr: Vec<(f64, f64)> = pf
        .iter()
        .map(|&i| {
            (
                records[i].cost.total,
                records[i].metrics.error.unwrap_or(f64::NAN),
            )
        })
        .collect();
    write_lines(
        &dir.join("pareto"),
        &LinePlot {
            title: format!(
                "Pareto front: error vs hardware cost ({} of {} points)",
                pf.len(),
                records.len()
            ),
            x_label: "total cost (cells, docs/cost-model.md)".into(),
            y_label: ylab.clone(),
            log_x: true,
            log_y: true,
            series: vec![Series::new("", vec![]), Series::new("Pareto front", fr)],
            points_only: vec![Series::new("all points", all)],
            ..Default::default()
        },
    )?;
    // Heatmaps over the state format's (WL, FL), per label, when both vary.
    let mut groups: BTreeMap<&str, Vec<&PointRecord>> = BTreeMap::new();
    for r in records {
        groups.entry(&r.setup.label).or_default().push(r);
    }
    let many = groups.len() > 1;
    for (label, rs) in groups {
        let mut wls: Vec<u32> = rs.iter().map(|r| r.setup.formats[0][0]).collect();
        let mut fls: Vec<u32> = rs.iter().map(|r| r.setup.formats[0][1]).collect();
        wls.sort();
        wls.dedup();
        fls.sort();
        fls.dedup();
        if wls.len() < 2 || fls.len() < 2 {
            continue;
        }
        let mut values = vec![vec![f64::NAN; wls.len()]; fls.len()];
        for r in &rs {
            let [wl, fl] = r.setup.formats[0];
            let ix = wls.binary_search(&wl).unwrap_or(0);
            let iy = fls.binary_search(&fl).unwrap_or(0);
            if let Some(e) = r.metrics.error {
                let cell = &mut values[iy][ix];
                *cell = if cell.is_nan() { e } else { cell.min(e) };
            }
        }
        if !values.iter().flatten().any(|v| v.is_finite() && *v > 0.0) {
            continue;
        }
        let name = if many {
            format!("heatmap_wl_fl_{}", slug(label))
        } else {
            "heatmap_wl_fl".into()
        };
        write_heatmap(
            &dir.join(name),
            &Heatmap {
                title: format!("{label}: best error over (WL, FL) of the state format"),
                x_label: "WL (bits)".into(),
                y_label: "FL (bits)".into(),
                xs: wls.iter().map(|&v| v as f64).collect(),
                ys: fls.iter().map(|&v| v as f64).collect(),
                values,
                value_label: ylab.clone(),
                log_color: true,
            },
        )?;
    }
    Ok(())
}

/// `sghmc lp-l float` → `sghmc-lp-l-float`.
fn slug(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}
