//! Figure 4 — \[S\] Fig. 4: W2(VC)/W2(naive) for SGHMCLP-L against Var ξ^x/(Δ²/4), the x noise
//! variance of one step in units of the variance v0 = Δ²/4 that Q^vc needs, over 0…85, with
//! a 95% band over 5 seeds; for the paper's VC (`vc-l`) and `vc-joint`.
//!
//! The ratio is swept by the step η on N(0, 1) (u = 2, γ = 3, Δ = 1/16): Var ξ^x =
//! (u/γ²)(2γη + 4e − e² − 3), e = exp(−γη), grows like η³, and η is found for each target
//! ratio by bisection.

use super::verdict::{info, num, Check, Verdict};
use super::{config, gaussian, sample, sghmc, write_csv, Budget, Ctx, FigureReport};
use crate::error::Result;
use crate::plot::{write_lines, Band, LinePlot, Series};
use crate::round::Rounding;
use crate::sampler::sghmc::SghmcVariant;
use crate::theory::{sghmc_stationary_cov, SghmcGaussian};
use std::collections::BTreeMap;

const FL: u32 = 4;
const U: f64 = 2.0;
const GAMMA: f64 = 3.0;
const SEEDS: u64 = 5;
/// Student t quantile t_{0.975, 4} for the 95% interval of a mean of 5 seeds.
const T_975_4: f64 = 2.776;

/// Var ξ^x/(Δ²/4) at step η.
fn ratio_at(eta: f64, delta: f64) -> f64 {
    SghmcGaussian::new(eta, U, GAMMA, 1.0).noise_cov()[0][0] / (delta * delta / 4.0)
}

/// The η with `ratio_at(η) = r` (bisection on [1e-4, 2]; the ratio increases with η).
fn eta_for(r: f64, delta: f64) -> f64 {
    let (mut lo, mut hi) = (1e-4f64, 2.0f64);
    for _ in 0..100 {
        let mid = (lo * hi).sqrt();
        if ratio_at(mid, delta) < r {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo * hi).sqrt()
}

/// Mean, and the 95% t-interval half-width over the values.
fn mean_ci(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    (m, T_975_4 * sd / n.sqrt())
}

/// Runs figure 4.
pub fn run(ctx: &Ctx) -> Result<FigureReport> {
    let mut rep = FigureReport::new(
        "fig4",
        "[S] Fig. 4: W2(VC)/W2(naive) of SGHMCLP-L vs the x noise variance in units of Δ²/4",
    );
    let delta = 0.5f64.powi(FL as i32);
    let ratios: Vec<f64> = ctx.size.pick(
        vec![1.0, 10.0, 85.0],
        vec![0.5, 2.0, 5.0, 10.0, 25.0, 50.0, 85.0],
        vec![
            0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0,
            85.0,
        ],
    );
    let b = ctx.size.pick(
        Budget::new(40, 300, 100, 50),
        Budget::new(250, 1000, 250, 150),
        Budget::new(1000, 5000, 1000, 1000),
    );
    rep.set(
        "sampler",
        format!("SGHMC on N(0, 1), u = {U}, γ = {GAMMA}, Q(8, {FL}) (Δ = {delta}), exact SR; η swept so that Var ξ^x/(Δ²/4) takes the values {{{}}}", ratios.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", ")),
    );
    rep.set(
        "runs",
        format!(
            "{} per (η, variant, seed); seeds {}..{}; 95% band = mean ± t(0.975, 4)·sd/√5 of the per-seed ratios",
            b.describe(),
            ctx.seed,
            ctx.seed + SEEDS - 1
        ),
    );
    let variants = [SghmcVariant::LpL, SghmcVariant::VcL, SghmcVariant::VcJoint];
    let mut csv = Vec::new();
    // Per VC variant: (x, mean, half-width).
    let mut curves: [Vec<(f64, f64, f64)>; 2] = [Vec::new(), Vec::new()];
    for &r in &ratios {
        let eta = eta_for(r, delta);
        let p = SghmcGaussian::new(eta, U, GAMMA, 1.0);
        if sghmc_stationary_cov(SghmcVariant::Fp, &p, delta, delta).is_err() {
            continue; // unstable step: no stationary law
        }
        let mut per_seed = [Vec::new(), Vec::new()];
        for k in 0..SEEDS {
            let mut w2 = [0.0; 3];
            for (i, &v) in variants.iter().enumerate() {
                let cfg = config(
                    gaussian(1.0),
                    sghmc(v, eta, U, GAMMA, false),
                    8,
                    FL,
                    Rounding::StochasticExact,
                    0.0,
                    b,
                    ctx.seed + k,
                )?;
                let run = sample(ctx, &cfg)?;
                let target = cfg.target.build()?;
                w2[i] =
                    crate::experiment::eval::primary_distance(&run.xs, 1, target.as_ref(), 0, 1)?;
            }
            for j in 0..2 {
                per_seed[j].push(w2[j + 1] / w2[0]);
            }
            csv.push(vec![
                r.to_string(),
                eta.to_string(),
                (ctx.seed + k).to_string(),
                w2[0].to_string(),
                w2[1].to_string(),
                w2[2].to_string(),
            ]);
        }
        for j in 0..2 {
            let (m, h) = mean_ci(&per_seed[j]);
            curves[j].push((r, m, h));
        }
    }
    write_csv(
        &ctx.path("fig4-vc-ratio.csv"),
        &[
            "var_x_over_v0",
            "eta",
            "seed",
            "w2_lp_l",
            "w2_vc_l",
            "w2_vc_joint",
        ],
        &csv,
    )?;
    rep.csv.push("fig4-vc-ratio.csv".into());
    let names = ["paper VC (vc-l)", "vc-joint"];
    let series: Vec<Series> = (0..2)
        .map(|j| {
            Series::new(
                format!("W2({})/W2(lp-l), mean of 5 seeds", names[j]),
                curves[j].iter().map(|c| (c.0, c.1)).collect(),
            )
        })
        .chain(std::iter::once(Series::new(
            "ratio 1 (no gain)",
            vec![(0.0, 1.0), (ratios.last().copied().unwrap_or(85.0), 1.0)],
        )))
        .collect();
    let bands = (0..2)
        .map(|j| Band {
            label: format!("{}: 95% interval", names[j]),
            points: curves[j]
                .iter()
                .map(|c| (c.0, c.1 - c.2, c.1 + c.2))
                .collect(),
        })
        .collect();
    write_lines(
        &ctx.path("fig4-vc-ratio"),
        &LinePlot {
            title: "[S] Fig. 4: W2(VC SGHMCLP-L)/W2(SGHMCLP-L) on N(0, 1), 8-bit FL = 4".into(),
            x_label: "Var ξ^x / (Δ²/4) (x noise variance per step in units of Δ²/4)".into(),
            y_label: "W2 ratio VC / naive (dimensionless)".into(),
            series,
            bands,
            ..Default::default()
        },
    )?;
    rep.images.push("fig4-vc-ratio".into());
    rep.paper.push(
        "W2(VC SGHMCLP-L)/W2(SGHMCLP-L) ≈ 0.6–0.9 for Var_x/(Δ²/4) from 0 to 85 (5 runs): VC helps across the range.".into(),
    );
    for j in 0..2 {
        let txt: Vec<String> = curves[j]
            .iter()
            .map(|c| format!("{}: {} ± {}", num(c.0), num(c.1), num(c.2)))
            .collect();
        rep.measured.push(format!(
            "{} ratio (mean ± 95% half-width) at Var_x/(Δ²/4) = {}",
            names[j],
            txt.join("; ")
        ));
        rep.checks.push(sweep_check(
            &format!("vc_le_naive.sweep.{}", ["vc-l", "vc-joint"][j]),
            &format!(
                "VC ≤ naive in W2 for -L across the sweep (SGHMC, {})",
                names[j]
            ),
            &curves[j],
        ));
        let (lo, hi) = curves[j]
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), c| {
                (a.min(c.1), b.max(c.1))
            });
        rep.checks.push(info(
            format!("ratio_range.{}", ["vc-l", "vc-joint"][j]),
            format!(
                "range of the mean ratio ({}) vs the paper's 0.6–0.9",
                names[j]
            ),
            format!("mean ratio spans {}–{}", num(lo), num(hi)),
            &[("min", lo), ("max", hi)],
        ));
    }
    Ok(rep)
}

/// "ratio ≤ 1 across the sweep": FAIL if some point's 95% interval lies above 1, PASS if
/// every point's lies below 1, INCONCLUSIVE otherwise; the counts are in the detail.
pub fn sweep_check(id: &str, claim: &str, pts: &[(f64, f64, f64)]) -> Check {
    let below = pts.iter().filter(|p| p.1 + p.2 < 1.0).count();
    let above: Vec<String> = pts
        .iter()
        .filter(|p| p.1 - p.2 > 1.0)
        .map(|p| num(p.0))
        .collect();
    let n = pts.len();
    let verdict = if !above.is_empty() {
        Verdict::Fail
    } else if below == n && n > 0 {
        Verdict::Pass
    } else {
        Verdict::Inconclusive
    };
    let mut detail = format!(
        "{below} of {n} points have the 95% interval below 1, {} above 1",
        above.len()
    );
    if !above.is_empty() {
        detail.push_str(&format!(" (at Var_x/(Δ²/4) = {})", above.join(", ")));
    }
    if verdict == Verdict::Inconclusive {
        detail.push_str("; the rest are within noise of 1");
    }
    Check {
        id: id.into(),
        claim: claim.into(),
        verdict,
        detail,
        numbers: BTreeMap::from([
            ("points".to_string(), n as f64),
            ("below".to_string(), below as f64),
            ("above".to_string(), above.len() as f64),
        ]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bisection inverts the ratio, and the paper's η = 0.09 sits at ≈ 2.45 (Var ξ^x =
    /// 0.0023933 value², docs/vc-joint.md, over Δ²/4 = 1/1024).
    #[test]
    fn eta_for_inverts_the_ratio() {
        let d = 1.0 / 16.0;
        assert!((ratio_at(0.09, d) - 0.0023933 * 1024.0).abs() < 1e-3);
        for r in [0.5, 10.0, 85.0] {
            assert!((ratio_at(eta_for(r, d), d) - r).abs() < 1e-9 * r);
        }
    }

    /// One point resolved above 1 fails the sweep; all below pass; mixed is inconclusive.
    #[test]
    fn sweep_verdicts() {
        let below = (1.0, 0.8, 0.05);
        let within = (2.0, 0.98, 0.05);
        let above = (3.0, 1.2, 0.05);
        assert_eq!(
            sweep_check("a", "c", &[below, below]).verdict,
            Verdict::Pass
        );
        assert_eq!(
            sweep_check("a", "c", &[below, within]).verdict,
            Verdict::Inconclusive
        );
        assert_eq!(
            sweep_check("a", "c", &[below, within, above]).verdict,
            Verdict::Fail
        );
    }
}
