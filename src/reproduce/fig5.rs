//! Figure 5 — theory: (a) the W2 bias against the grid step Δ = 2^−FL (FL = 2…10, WL = FL + 4)
//! for every low-precision variant on N(0, 1) and on the mixture, with the fitted log–log
//! slope beside the exponent of the bound in the papers' theorems; (b) the iterations SGLD
//! and SGHMC need until the law of x_t is within a given W2 of N(0, 1), from x0 = 4.

use super::verdict::{fit_slope, info, num};
use super::{config, gaussian, sample, sghmc, sgld, write_csv, Budget, Ctx, FigureReport};
use crate::error::Result;
use crate::experiment::config::SamplerConfig;
use crate::experiment::eval::primary_distance;
use crate::plot::{write_lines, LinePlot, Series};
use crate::round::Rounding;
use crate::sampler::sghmc::SghmcVariant;
use crate::sampler::sgld::SgldVariant;
use crate::target::TargetConfig;
use crate::theory::{sghmc_stationary_cov, sgld_stationary_var, SghmcGaussian, SgldGaussian};

/// A variant of the bias sweep: label, sampler kind, and the bound's exponent of Δ on the
/// Gaussian (strongly log-concave) and on the mixture (non-log-concave), \[S\]'s table of bounds.
struct V {
    label: &'static str,
    hmc: Option<SghmcVariant>,
    ld: Option<SgldVariant>,
    p_gauss: f64,
    p_mix: f64,
}

const VS: [V; 7] = [
    // -F, strongly log-concave: Õ(ε + Δ); non-log-concave: SGLD √Δ, SGHMC (Δ²d)^¼ = √Δ.
    V {
        label: "SGLDLP-F",
        hmc: None,
        ld: Some(SgldVariant::LpF),
        p_gauss: 1.0,
        p_mix: 0.5,
    },
    // -L, strongly log-concave: Õ(ε + Δ/ε); non-log-concave: √Δ (times powers of 1/ε).
    V {
        label: "SGLDLP-L",
        hmc: None,
        ld: Some(SgldVariant::LpL),
        p_gauss: 1.0,
        p_mix: 0.5,
    },
    // VC: strongly log-concave √Δ; non-log-concave √Δ.
    V {
        label: "VC SGLDLP-L",
        hmc: None,
        ld: Some(SgldVariant::VcL),
        p_gauss: 0.5,
        p_mix: 0.5,
    },
    V {
        label: "SGHMCLP-F",
        hmc: Some(SghmcVariant::LpF),
        ld: None,
        p_gauss: 1.0,
        p_mix: 0.5,
    },
    V {
        label: "SGHMCLP-L",
        hmc: Some(SghmcVariant::LpL),
        ld: None,
        p_gauss: 1.0,
        p_mix: 0.5,
    },
    V {
        label: "VC SGHMCLP-L",
        hmc: Some(SghmcVariant::VcL),
        ld: None,
        p_gauss: 0.5,
        p_mix: 0.5,
    },
    V {
        label: "SGHMC vc-joint",
        hmc: Some(SghmcVariant::VcJoint),
        ld: None,
        p_gauss: 0.5,
        p_mix: 0.5,
    },
];

fn sampler_of(
    hmc: Option<SghmcVariant>,
    ld: Option<SgldVariant>,
    eta: f64,
    u: f64,
) -> SamplerConfig {
    match (hmc, ld) {
        (Some(v), _) => sghmc(v, eta, u, 3.0, false),
        (None, Some(v)) => sgld(v, eta),
        (None, None) => sgld(SgldVariant::Fp, eta),
    }
}

/// Runs figure 5.
pub fn run(ctx: &Ctx) -> Result<FigureReport> {
    let mut rep = FigureReport::new(
        "fig5",
        "Theory: W2 bias vs grid step Δ, and iterations to reach a W2 (SGLD vs SGHMC)",
    );
    let fls: Vec<u32> = (2..=10).collect();
    let b = ctx.size.pick(
        Budget::new(30, 300, 100, 50),
        Budget::new(200, 1000, 300, 150),
        Budget::new(1000, 10000, 1000, 1000),
    );
    rep.set(
        "bias sweep",
        format!("FL = 2…10 with WL = FL + 4 (sign + 3 integer bits), exact SR; N(0, 1): η = 0.09 (SGHMC u = 2, γ = 3); mixture: η = 0.1 (SGHMC u = 1, γ = 3); {} per point; W2 of all kept samples", b.describe()),
    );
    rep.set(
        "slope fit",
        "bias = W2 to a reference law: on N(0, 1) the full-precision sampler's exact stationary law N(0, Var_fp) at the same η (so the step-size bias drops out), on the mixture the target; slope = least squares of log bias on log Δ over the points whose bias is at least 1.5× the full-precision samples' W2 to the same reference (the floor: sampling noise, plus the step-size bias on the mixture); at least 3 points, else no slope",
    );
    let mut csv = Vec::new();
    for (tname, tcfg, eta, u) in [
        ("gaussian", gaussian(1.0), 0.09, 2.0),
        ("mixture", TargetConfig::PaperMixture, 0.1, 1.0),
    ] {
        let target = tcfg.build()?;
        let samples_of = |s: SamplerConfig, fl: u32, seed: u64| -> Result<Vec<f64>> {
            let cfg = config(
                tcfg.clone(),
                s,
                fl + 4,
                fl,
                Rounding::StochasticExact,
                0.0,
                b,
                seed,
            )?;
            Ok(sample(ctx, &cfg)?.xs)
        };
        let fp_ld = samples_of(sgld(SgldVariant::Fp, eta), 8, ctx.seed)?;
        let fp_hmc = samples_of(sghmc(SghmcVariant::Fp, eta, u, 3.0, false), 8, ctx.seed)?;
        // The reference law: on N(0, 1) the full-precision sampler's own stationary law
        // N(0, Var_fp) (closed form), so the step-size bias drops out and only the
        // quantization bias remains; on the mixture (no closed form) the target itself.
        let (ref_ld, ref_hmc) = if tname == "gaussian" {
            let mut pl = SgldGaussian::new(eta, 0.0, 1.0);
            pl.grad_noise = 0.0;
            let vl = sgld_stationary_var(SgldVariant::Fp, &pl, 1.0)?;
            let ph = SghmcGaussian::new(eta, u, 3.0, 1.0);
            let vh = sghmc_stationary_cov(SghmcVariant::Fp, &ph, 1.0, 1.0)?[0][0];
            rep.measured.push(format!(
                "{tname}: reference = the full-precision sampler's stationary law N(0, Var_fp), Var_fp = {} (SGLD), {} (SGHMC)",
                num(vl),
                num(vh)
            ));
            (gaussian(vl).build()?, gaussian(vh).build()?)
        } else {
            (tcfg.build()?, tcfg.build()?)
        };
        let floor_ld = primary_distance(&fp_ld, 1, ref_ld.as_ref(), 0, 1)?;
        let floor_hmc = primary_distance(&fp_hmc, 1, ref_hmc.as_ref(), 0, 1)?;
        rep.measured.push(format!(
            "{tname}: W2 of the full-precision samples to the reference (the floor of the fit: sampling noise{}): SGLD {}, SGHMC {}",
            if tname == "gaussian" { "" } else { " + step-size bias" },
            num(floor_ld),
            num(floor_hmc)
        ));
        let mut series = Vec::new();
        for v in &VS {
            let mut pts = Vec::new();
            let (reference, floor) = if v.hmc.is_some() {
                (&ref_hmc, floor_hmc)
            } else {
                (&ref_ld, floor_ld)
            };
            for &fl in &fls {
                let xs = samples_of(sampler_of(v.hmc, v.ld, eta, u), fl, ctx.seed)?;
                let bias = primary_distance(&xs, 1, reference.as_ref(), 0, 1)?;
                let to_target = primary_distance(&xs, 1, target.as_ref(), 0, 1)?;
                let d = 0.5f64.powi(fl as i32);
                pts.push((d, bias));
                csv.push(vec![
                    tname.to_string(),
                    format!("\"{}\"", v.label),
                    fl.to_string(),
                    d.to_string(),
                    bias.to_string(),
                    to_target.to_string(),
                ]);
            }
            let fit_pts: Vec<(f64, f64)> = pts
                .iter()
                .filter(|p| p.1 >= 1.5 * floor)
                .map(|p| (p.0.ln(), p.1.ln()))
                .collect();
            let p = if tname == "gaussian" {
                v.p_gauss
            } else {
                v.p_mix
            };
            let id = format!("slope.{tname}.{}", v.label.replace(' ', "_"));
            let claim = format!(
                "{} on {tname}: log–log slope of the W2 bias vs Δ, against the bound's exponent {p}",
                v.label
            );
            match fit_slope(&fit_pts) {
                Some((s, se, _)) => {
                    let rel = if s >= p - 2.0 * se {
                        "at least as steep as the bound (consistent with it)"
                    } else {
                        "shallower than the bound"
                    };
                    rep.checks.push(info(
                        id,
                        claim,
                        format!(
                            "fitted slope {} ± {} over {} points (Δ ≥ {}), {rel}",
                            num(s),
                            num(se),
                            fit_pts.len(),
                            num(fit_pts
                                .iter()
                                .map(|q| q.0.exp())
                                .fold(f64::INFINITY, f64::min))
                        ),
                        &[
                            ("slope", s),
                            ("slope_se", se),
                            ("exponent", p),
                            ("points", fit_pts.len() as f64),
                        ],
                    ));
                }
                None => rep.checks.push(info(
                    id,
                    claim,
                    format!(
                        "only {} point(s) above 1.5× the floor {}: no slope",
                        fit_pts.len(),
                        num(floor)
                    ),
                    &[("exponent", p), ("points", fit_pts.len() as f64)],
                )),
            }
            series.push(Series::new(v.label, pts));
        }
        let stem = format!("fig5-bias-{tname}");
        write_lines(
            &ctx.path(&stem),
            &LinePlot {
                title: format!(
                    "Quantization bias vs grid step Δ = 2^−FL ({tname}, WL = FL + 4, [S] step sizes)"
                ),
                x_label: "grid step Δ (x units)".into(),
                y_label: "W2 to the reference law (x units)".into(),
                log_x: true,
                log_y: true,
                series,
                ..Default::default()
            },
        )?;
        rep.images.push(stem);
    }
    write_csv(
        &ctx.path("fig5-bias.csv"),
        &[
            "target",
            "variant",
            "fl",
            "delta",
            "w2_to_full_precision",
            "w2_to_target",
        ],
        &csv,
    )?;
    rep.csv.push("fig5-bias.csv".into());
    rep.paper.push(
        "Bias bounds in Δ ([S], [L]): strongly log-concave -F Õ(ε + Δ), -L Õ(ε + Δ/ε), VC Õ(ε + √Δ); non-log-concave every variant √Δ (SGHMCLP-F (Δ²d + σ²)^¼). These are upper bounds: a measured slope at least as steep is consistent with them.".into(),
    );
    rep.paper.push(
        "Iterations to ε in W2 (non-log-concave): SGHMC Õ(ε⁻²), SGLD Õ(ε⁻⁴): SGHMC needs fewer."
            .into(),
    );

    // (b) iterations to reach a W2, from x0 = 4 on N(0, 1), Q(8, 4) lp-l.
    let chains = ctx.size.pick(200, 2000, 20000);
    let t_max = 400u64;
    let ts: Vec<u64> = {
        let mut v: Vec<u64> = (0..=30)
            .map(|i| (400f64.powf(i as f64 / 30.0)).round() as u64)
            .collect();
        v.dedup();
        v
    };
    rep.set(
        "iterations",
        format!("N(0, 1) from x0 = 4, Q(8, 4) lp-l, η = 0.09 (SGHMC u = 2, γ = 3); W2 of the law of x_t over {chains} chains at t ∈ 1…{t_max} (log grid)"),
    );
    // ε stays above the sampling floor of a W2 from `chains` samples (≈ 0.05 at 2000).
    let eps: Vec<f64> = ctx.size.pick(
        vec![1.0, 0.5],
        vec![1.0, 0.5, 0.2, 0.1],
        vec![1.0, 0.5, 0.2, 0.1, 0.05],
    );
    let target = gaussian(1.0).build()?;
    let mut curves = Vec::new();
    let mut reach: Vec<Vec<Option<u64>>> = Vec::new();
    let mut csv2 = Vec::new();
    for (label, s) in [
        ("SGLDLP-L", sgld(SgldVariant::LpL, 0.09)),
        ("SGHMCLP-L", sghmc(SghmcVariant::LpL, 0.09, 2.0, 3.0, false)),
    ] {
        let mut pts = Vec::new();
        for &t in &ts {
            let mut cfg = config(
                gaussian(1.0),
                s.clone(),
                8,
                4,
                Rounding::StochasticExact,
                0.0,
                Budget {
                    chains,
                    steps: t,
                    burn_in: t - 1,
                    thin: 1,
                },
                ctx.seed,
            )?;
            cfg.x0 = Some(vec![4.0]);
            let r = sample(ctx, &cfg)?;
            let w = primary_distance(&r.xs, 1, target.as_ref(), 0, 1)?;
            pts.push((t as f64, w));
            csv2.push(vec![label.to_string(), t.to_string(), w.to_string()]);
        }
        let tail: Vec<f64> = pts.iter().filter(|p| p.0 >= 200.0).map(|p| p.1).collect();
        rep.measured.push(format!(
            "{label}: W2 of the law of x_t at t ≥ 200 (stationary: bias + sampling floor of {chains} samples) averages {}",
            num(tail.iter().sum::<f64>() / tail.len().max(1) as f64)
        ));
        reach.push(
            eps.iter()
                .map(|&e| pts.iter().find(|p| p.1 <= e).map(|p| p.0 as u64))
                .collect(),
        );
        curves.push(Series::new(label, pts));
    }
    write_csv(
        &ctx.path("fig5-iterations.csv"),
        &["sampler", "t", "w2_law_of_x_t"],
        &csv2,
    )?;
    rep.csv.push("fig5-iterations.csv".into());
    write_lines(
        &ctx.path("fig5-iterations"),
        &LinePlot {
            title: format!("W2 of the law of x_t to N(0, 1) from x0 = 4 (Q(8, 4) lp-l, η = 0.09, {chains} chains)"),
            x_label: "iterations t (steps)".into(),
            y_label: "W2(law of x_t, N(0, 1)) (x units)".into(),
            log_x: true,
            log_y: true,
            series: curves,
            ..Default::default()
        },
    )?;
    rep.images.push("fig5-iterations".into());
    let show = |o: Option<u64>| o.map_or(format!("> {t_max}"), |t| t.to_string());
    for (k, &e) in eps.iter().enumerate() {
        let (ld, hmc) = (reach[0][k], reach[1][k]);
        let verdict = match (ld, hmc) {
            (Some(a), Some(b)) if b < a => "SGHMC needs fewer",
            (Some(a), Some(b)) if b == a => "equal",
            (Some(_), Some(_)) => "SGLD needs fewer",
            (None, Some(_)) => "only SGHMC reaches it",
            (Some(_), None) => "only SGLD reaches it",
            (None, None) => "neither reaches it (bias floor)",
        };
        rep.checks.push(info(
            format!("iterations_to_w2.{e}"),
            format!("iterations to reach W2 ≤ {e}: SGLD vs SGHMC"),
            format!(
                "SGLDLP-L {} vs SGHMCLP-L {}: {verdict}",
                show(ld),
                show(hmc)
            ),
            &[
                ("eps", e),
                ("sgld", ld.map_or(f64::NAN, |t| t as f64)),
                ("sghmc", hmc.map_or(f64::NAN, |t| t as f64)),
            ],
        ));
    }
    Ok(rep)
}
