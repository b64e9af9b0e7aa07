//! Figure 6 — the precision ladder: W2 to N(0, 1) against the word length WL = 4…16 (FL =
//! WL − 4: sign + 3 integer bits) for SGLDLP-L and SGHMCLP-L, with exact stochastic rounding
//! (`sr`) and hardware SR with R random bits (`sr:R`, R = 8, 4, 2).

use super::verdict::{info, num};
use super::{config, gaussian, sample, sghmc, sgld, write_csv, Budget, Ctx, FigureReport};
use crate::error::Result;
use crate::experiment::eval::primary_distance;
use crate::plot::{write_lines, LinePlot, Series};
use crate::round::Rounding;
use crate::sampler::sghmc::SghmcVariant;
use crate::sampler::sgld::SgldVariant;

const ROUNDINGS: [&str; 4] = ["sr", "sr:8", "sr:4", "sr:2"];

/// Runs figure 6.
pub fn run(ctx: &Ctx) -> Result<FigureReport> {
    let mut rep = FigureReport::new(
        "fig6",
        "Precision ladder: W2 vs word length for SGLD and SGHMC, exact SR vs R-bit SR",
    );
    let wls: Vec<u32> = (4..=16).collect();
    let b = ctx.size.pick(
        Budget::new(30, 300, 100, 50),
        Budget::new(200, 800, 200, 150),
        Budget::new(1000, 10000, 1000, 1000),
    );
    rep.set(
        "runs",
        format!("N(0, 1), lp-l, η = 0.09 (SGHMC u = 2, γ = 3), every quantity in Q(WL, WL − 4), WL = 4…16; {} per point; W2 of all kept samples", b.describe()),
    );
    rep.set(
        "roundings",
        "sr: exact stochastic rounding; sr:R: add R random bits to the discarded bits and truncate (P(up) = ⌊f·2^R⌋/2^R, bias up to 2^−R of a step)",
    );
    let target = gaussian(1.0).build()?;
    let mut csv = Vec::new();
    for (sname, label) in [("sgld", "SGLDLP-L"), ("sghmc", "SGHMCLP-L")] {
        let mut series = Vec::new();
        let mut table: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
        for rname in ROUNDINGS {
            let rounding: Rounding = rname.parse()?;
            let mut pts = Vec::new();
            for &wl in &wls {
                let s = if sname == "sgld" {
                    sgld(SgldVariant::LpL, 0.09)
                } else {
                    sghmc(SghmcVariant::LpL, 0.09, 2.0, 3.0, false)
                };
                let cfg = config(gaussian(1.0), s, wl, wl - 4, rounding, 0.0, b, ctx.seed)?;
                let r = sample(ctx, &cfg)?;
                let w = primary_distance(&r.xs, 1, target.as_ref(), 0, 1)?;
                pts.push((wl as f64, w));
                csv.push(vec![
                    label.to_string(),
                    rname.to_string(),
                    wl.to_string(),
                    (wl - 4).to_string(),
                    w.to_string(),
                ]);
            }
            table.push((rname.to_string(), pts.clone()));
            series.push(Series::new(format!("{label}, {rname}"), pts));
        }
        let stem = format!("fig6-ladder-{sname}");
        write_lines(
            &ctx.path(&stem),
            &LinePlot {
                title: format!(
                    "Precision ladder: {label} on N(0, 1), W2 vs word length (FL = WL − 4)"
                ),
                x_label: "word length WL (bits, sign included)".into(),
                y_label: "W2 to N(0, 1) (x units)".into(),
                log_y: true,
                series,
                ..Default::default()
            },
        )?;
        rep.images.push(stem);
        // Bits needed: the smallest WL whose W2 is within 10% of the exact-SR 16-bit value.
        let reference = table[0].1.last().map_or(f64::NAN, |p| p.1);
        for (rname, pts) in &table {
            let need = pts
                .iter()
                .find(|p| p.1 <= 1.1 * reference)
                .map_or(f64::NAN, |p| p.0);
            rep.checks.push(info(
                format!("bits_needed.{sname}.{rname}"),
                format!("{label}, {rname}: smallest WL within 10% of the 16-bit exact-SR W2"),
                format!(
                    "WL = {} (16-bit sr W2 = {}; W2 at WL = 8: {})",
                    num(need),
                    num(reference),
                    num(pts.iter().find(|p| p.0 == 8.0).map_or(f64::NAN, |p| p.1))
                ),
                &[("wl", need), ("reference_w2", reference)],
            ));
        }
    }
    write_csv(
        &ctx.path("fig6-ladder.csv"),
        &["sampler", "rounding", "wl", "fl", "w2"],
        &csv,
    )?;
    rep.csv.push("fig6-ladder.csv".into());
    rep.paper.push(
        "Not in the papers: the question a hardware architect asks first — how many bits, and how many random bits for SR, a sampler needs. [S] predicts SGHMC degrades more slowly than SGLD as Δ grows.".into(),
    );
    rep.measured
        .push("See the checks: the word length each sampler and rounding needs.".into());
    Ok(rep)
}
