//! `lpmc exact CONFIG`: the exact stationary law of a 1-D lattice chain ([`crate::exact`]),
//! written as `DIR/stationary.csv` (code, value, probability of x), for SGHMC
//! `DIR/stationary_joint.csv` (x code, v code, x, v, probability), `DIR/stationary.svg`/`.png`
//! (the pmf against the target density) and last `DIR/exact.json` (each atomically; nothing
//! is written unless the solve succeeds).

use super::config::RunConfig;
use crate::error::Result;
use crate::exact::{solve, ExactMetrics, Limits, Solved};
use crate::output::{write_atomic, write_json};
use crate::plot::{write_lines, LinePlot, Series};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Options of `lpmc exact`.
#[derive(Clone, Debug, PartialEq)]
pub struct ExactOptions {
    /// Output directory.
    pub out: PathBuf,
    /// Size limits.
    pub limits: Limits,
}

/// `exact.json`.
#[derive(Clone, Debug, Serialize)]
pub struct ExactResult {
    /// Version of lpmc that produced the file.
    pub lpmc_version: String,
    /// The full resolved config (what `lpmc run` would run; `chains`, `steps`, `seed` do not
    /// enter the exact law).
    pub config: RunConfig,
    /// Number of states of the chain.
    pub states: usize,
    /// Stored transition probabilities.
    pub entries: usize,
    /// The exact metrics.
    pub metrics: ExactMetrics,
}

/// Solves `config` within `limits`, writing nothing: what `exact.json` holds and the solved
/// chain (its pmfs are `stationary.csv`'s).
pub fn exact_values(config: &RunConfig, limits: &Limits) -> Result<(ExactResult, Solved)> {
    let s = solve(config, limits)?;
    let result = ExactResult {
        lpmc_version: env!("CARGO_PKG_VERSION").to_string(),
        config: config.resolved(),
        states: s.states,
        entries: s.entries,
        metrics: s.metrics.clone(),
    };
    Ok((result, s))
}

/// Solves `config` and writes the outputs; returns what `exact.json` holds.
pub fn exact(config: &RunConfig, opts: &ExactOptions) -> Result<ExactResult> {
    let (result, s) = exact_values(config, &opts.limits)?;
    write_outputs(&opts.out, &s, config)?;
    write_json(&opts.out.join("exact.json"), &result)?;
    Ok(result)
}

/// `code,value,probability` of x, every code of the format.
pub fn stationary_csv(s: &Solved) -> String {
    let f = s.x_format;
    let mut out = String::from("code,value,probability\n");
    for (i, p) in s.x_pmf.iter().enumerate() {
        let c = f.min_code() + i as i64;
        out.push_str(&format!("{c},{},{p}\n", f.value(c)));
    }
    out
}

/// `x_code,v_code,x,v,probability` of the SGHMC joint law (states with probability > 0).
pub fn joint_csv(s: &Solved) -> Option<String> {
    let (joint, fv) = (s.joint.as_ref()?, s.v_format?);
    let fx = s.x_format;
    let nx = fx.codes() as usize;
    let mut out = String::from("x_code,v_code,x,v,probability\n");
    for (i, &p) in joint.iter().enumerate() {
        if p > 0.0 {
            let (xc, vc) = (
                fx.min_code() + (i % nx) as i64,
                fv.min_code() + (i / nx) as i64,
            );
            out.push_str(&format!(
                "{xc},{vc},{},{},{p}\n",
                fx.value(xc),
                fv.value(vc)
            ));
        }
    }
    Some(out)
}

fn write_outputs(dir: &Path, s: &Solved, config: &RunConfig) -> Result<()> {
    write_atomic(&dir.join("stationary.csv"), stationary_csv(s).as_bytes())?;
    if let Some(j) = joint_csv(s) {
        write_atomic(&dir.join("stationary_joint.csv"), j.as_bytes())?;
    }
    let f = s.x_format;
    let delta = f.delta();
    let target = config.target.build()?;
    let law = target.marginal(0);
    let (m, sd) = (law.mean(), law.var().sqrt());
    // The plotted range: the target's ±5 sd and the codes holding 1 − 10⁻⁶ of the mass.
    let mut lo = m - 5.0 * sd;
    let mut hi = m + 5.0 * sd;
    for (i, &p) in s.x_pmf.iter().enumerate() {
        if p > 1e-6 {
            let x = f.value(f.min_code() + i as i64);
            lo = lo.min(x);
            hi = hi.max(x);
        }
    }
    let pmf: Vec<(f64, f64)> = s
        .x_pmf
        .iter()
        .enumerate()
        .map(|(i, &p)| (f.value(f.min_code() + i as i64), p / delta))
        .filter(|&(x, _)| x >= lo && x <= hi)
        .collect();
    let curve = (0..=400)
        .map(|i| {
            let x = lo + (hi - lo) * i as f64 / 400.0;
            (x, law.pdf(x))
        })
        .collect();
    write_lines(
        &dir.join("stationary"),
        &LinePlot {
            title: format!(
                "Exact stationary law of x ({} states): W2 = {:.4}, mean {:.4}, var {:.4}",
                s.states, s.metrics.w2, s.metrics.mean[0], s.metrics.var[0]
            ),
            x_label: "x (parameter value)".into(),
            y_label: "density (probability / Δ; 1 / x unit)".into(),
            series: vec![
                Series::new("stationary pmf / Δ", pmf),
                Series::new("target density", curve),
            ],
            ..Default::default()
        },
    )
}
