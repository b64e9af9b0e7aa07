//! Figure 3 — \[S\] Fig. 3: distance of the samples collected up to iteration t from the
//! mixture ½N(−1, ¼) + ½N(1, ¼), against t (log–log), for SGLD and SGHMC `lp-f`, `lp-l`,
//! `vc-l`: exact W2 and the paper's L2 density distance.
//!
//! A run with the same seed and fewer steps is an exact prefix of a longer one (chain c
//! draws only from stream (seed, c)), so the point at t is a run of t steps: no observer is
//! needed. Samples are pooled over `chains` chains (the paper uses one chain).

use super::verdict::{check_le, info, num, Estimate};
use super::{
    config, replicates, sample, score, sghmc, sgld, w2_estimate, write_csv, Budget, Ctx,
    FigureReport,
};
use crate::error::Result;
use crate::experiment::config::SamplerConfig;
use crate::plot::{write_lines, LinePlot, Series};
use crate::round::Rounding;
use crate::sampler::sghmc::SghmcVariant;
use crate::sampler::sgld::SgldVariant;
use crate::target::TargetConfig;

const ETA: f64 = 0.1;

/// (label, paper's end value of the L2 distance at 1e6 iterations, sampler).
fn variants() -> Vec<(&'static str, f64, SamplerConfig)> {
    vec![
        ("SGLDLP-F", 0.07, sgld(SgldVariant::LpF, ETA)),
        ("SGLDLP-L", 0.12, sgld(SgldVariant::LpL, ETA)),
        ("VC SGLDLP-L", 0.12, sgld(SgldVariant::VcL, ETA)),
        (
            "SGHMCLP-F",
            0.01,
            sghmc(SghmcVariant::LpF, ETA, 1.0, 3.0, false),
        ),
        (
            "SGHMCLP-L",
            0.08,
            sghmc(SghmcVariant::LpL, ETA, 1.0, 3.0, false),
        ),
        (
            "VC SGHMCLP-L",
            0.04,
            sghmc(SghmcVariant::VcL, ETA, 1.0, 3.0, false),
        ),
    ]
}

/// Runs figure 3.
pub fn run(ctx: &Ctx) -> Result<FigureReport> {
    let mut rep = FigureReport::new(
        "fig3",
        "[S] Fig. 3: distance to the mixture vs iterations, six low-precision variants",
    );
    let (chains, t_max, per_decade, kept_cap) = ctx.size.pick(
        (8, 1_000u64, 2u32, 100u64),
        (64, 30_000, 3, 500),
        (100, 1_000_000, 4, 5000),
    );
    let t_min = 100.0;
    let n_pts = ((t_max as f64 / t_min).log10() * per_decade as f64).round() as u32;
    let ts: Vec<u64> = (0..=n_pts)
        .map(|i| (t_min * (t_max as f64 / t_min).powf(i as f64 / n_pts as f64)).round() as u64)
        .collect();
    rep.set(
        "target",
        "½N(−1, ¼) + ½N(1, ¼), SGLD η = 0.1; SGHMC η = 0.1, u = 1, γ = 3; Q(8, 4), exact SR",
    );
    rep.set(
        "runs",
        format!(
            "{chains} chains from x0 = 0, t ∈ {{{}}} steps (log-spaced, {per_decade} per decade); at t every step 1..t is kept (thinned to ≤ {kept_cap} per chain) and pooled over chains; no burn-in",
            ts.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ")
        ),
    );
    rep.set(
        "distances",
        "exact W2 to the mixture; L2 distance between the histogram density (bin = Δ on the lattice, Freedman–Diaconis for -F) and the mixture density",
    );
    let tcfg = TargetConfig::PaperMixture;
    let mut w2_series = Vec::new();
    let mut l2_series = Vec::new();
    let mut csv = Vec::new();
    let mut finals: Vec<(&str, f64, Estimate, f64)> = Vec::new();
    for (name, paper_l2, s) in variants() {
        let (mut w2p, mut l2p) = (Vec::new(), Vec::new());
        for (i, &t) in ts.iter().enumerate() {
            let last = i + 1 == ts.len();
            let b = Budget::new(chains, t, 0, kept_cap);
            let cfg = config(
                tcfg.clone(),
                s.clone(),
                8,
                4,
                Rounding::StochasticExact,
                0.0,
                b,
                ctx.seed,
            )?;
            let r = sample(ctx, &cfg)?;
            let m = score(ctx, &cfg, &r, if last { replicates(ctx.size) } else { 0 })?;
            let w2 = m.w2.unwrap_or(f64::NAN);
            let l2 = m.l2_density.unwrap_or(f64::NAN);
            w2p.push((t as f64, w2));
            l2p.push((t as f64, l2));
            csv.push(vec![
                format!("\"{name}\""),
                t.to_string(),
                r.xs.len().to_string(),
                w2.to_string(),
                l2.to_string(),
            ]);
            if last {
                finals.push((name, paper_l2, w2_estimate(&m), l2));
            }
        }
        w2_series.push(Series::new(name, w2p));
        l2_series.push(Series::new(name, l2p));
    }
    write_csv(
        &ctx.path("fig3-convergence.csv"),
        &["variant", "iterations", "samples", "w2", "l2_density"],
        &csv,
    )?;
    rep.csv.push("fig3-convergence.csv".into());
    for (stem, ylabel, series, what) in [
        ("fig3-w2", "W2 to the target (x units)", w2_series, "W2"),
        (
            "fig3-l2",
            "L2 density distance (1/√x units)",
            l2_series,
            "L2 density distance",
        ),
    ] {
        write_lines(
            &ctx.path(stem),
            &LinePlot {
                title: format!(
                    "[S] Fig. 3: {what} vs iterations (mixture, Q(8, 4), {chains} chains)"
                ),
                x_label: "iterations t (steps per chain)".into(),
                y_label: ylabel.into(),
                log_x: true,
                log_y: true,
                series,
                ..Default::default()
            },
        )?;
        rep.images.push(stem.into());
    }
    rep.paper.push(
        "End values of the log L2 density distance at 1e6 iterations (one chain): SGHMCLP-F 0.01, VC SGHMCLP-L 0.04, SGLDLP-F 0.07, SGHMCLP-L 0.08, SGLDLP-L ≈ VC SGLDLP-L 0.12; every SGHMC variant below its SGLD counterpart.".into(),
    );
    for (name, paper_l2, w2, l2) in &finals {
        rep.measured.push(format!(
            "{name} at t = {}: W2 = {w2}, L2 density = {} (paper L2 {paper_l2})",
            ts.last().copied().unwrap_or(0),
            num(*l2),
        ));
    }
    let by = |n: &str| finals.iter().find(|f| f.0 == n).map(|f| f.2);
    for (h, l) in [
        ("SGHMCLP-F", "SGLDLP-F"),
        ("SGHMCLP-L", "SGLDLP-L"),
        ("VC SGHMCLP-L", "VC SGLDLP-L"),
    ] {
        if let (Some(a), Some(b)) = (by(h), by(l)) {
            rep.checks.push(check_le(
                format!("sghmc_le_sgld.convergence.{}", h.replace(' ', "_")),
                format!("SGHMC ≤ SGLD in W2 at the last iteration count ({h} vs {l})"),
                (&format!("W2({h})"), a),
                (&format!("W2({l})"), b),
            ));
        }
    }
    let mut order: Vec<(&str, f64)> = finals.iter().map(|f| (f.0, f.3)).collect();
    order.sort_by(|a, b| a.1.total_cmp(&b.1));
    let mut paper_order: Vec<(&str, f64)> = finals.iter().map(|f| (f.0, f.1)).collect();
    paper_order.sort_by(|a, b| a.1.total_cmp(&b.1));
    let fmt = |o: &[(&str, f64)], paper: bool| {
        o.iter()
            .map(|(n, v)| {
                if paper {
                    format!("{n} {v}")
                } else {
                    format!("{n} {}", num(*v))
                }
            })
            .collect::<Vec<_>>()
            .join(" < ")
    };
    rep.checks.push(info(
        "order.l2.final",
        "ordering of the final L2 density distances vs the paper's",
        format!(
            "lpmc: {}; paper: {}",
            fmt(&order, false),
            fmt(&paper_order, true)
        ),
        &finals.iter().map(|f| (f.0, f.3)).collect::<Vec<_>>(),
    ));
    Ok(rep)
}
