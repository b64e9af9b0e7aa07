//! The exact stationary law (`lpmc::exact`, `lpmc exact`) against Monte Carlo runs of the
//! same configs, against the closed forms and Lyapunov values of `lpmc::theory`, and its
//! properties (normalization, symmetry, wrap vs saturate, bad input).

use lpmc::exact::{solve, Limits};
use lpmc::experiment::chains::{run_chains, ChainSpec, NoProgress};
use lpmc::experiment::config::RunConfig;
use std::process::Command;

fn cfg(json: &str) -> RunConfig {
    serde_json::from_str(json).unwrap()
}

/// Runs `chains` chains of `c` for `burn + kept·thin` steps and returns, per chain, the mean
/// of x and of x² over its kept samples.
fn mc(c: &RunConfig, chains: usize, burn: u64, kept: u64, thin: u64) -> Vec<(f64, f64)> {
    let built = c.build().unwrap();
    let spec = ChainSpec {
        chains,
        steps: burn + kept * thin,
        burn_in: burn,
        thin,
        seed: 11,
        source: c.source,
        x0: built.x0.clone(),
        max_rows: usize::MAX,
        threads: None,
    };
    let out = run_chains(
        built.sampler.as_ref(),
        built.target.as_ref(),
        &spec,
        &NoProgress,
    )
    .unwrap();
    let mut per = vec![(0.0, 0.0, 0u64); chains];
    for (ch, x) in &out.rows {
        let e = &mut per[*ch];
        e.0 += x[0];
        e.1 += x[0] * x[0];
        e.2 += 1;
    }
    per.into_iter()
        .map(|(a, b, n)| (a / n as f64, b / n as f64))
        .collect()
}

/// Mean and standard error of independent values.
fn mean_se(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let s2 = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, (s2 / n).sqrt())
}

/// Exact vs Monte Carlo, several settings per variant. Each chain starts at x0 = 0 and
/// burns in for at least 15 relaxation times (measured by the exact solve: the start's
/// influence decays as |λ₂|^t, e^{−15} ≈ 3·10⁻⁷), then averages its kept samples. Chains are
/// independent, so the standard errors of the mean of the per-chain averages of x and x² are
/// exact (the within-chain correlation is inside each average). Asserted: E[x] and E[x²]
/// within 5 standard errors (+10⁻⁹). A wrong transition law (a missing Q_G, a wrong
/// coefficient, the wrong rounding or overflow) moves these by many standard errors at these
/// sample sizes, as the first failing versions of this module showed.
#[test]
fn exact_agrees_with_monte_carlo_for_every_variant() {
    let g = |v: f64| format!(r#"{{"gaussian": {{"mean": [0.0], "var": [{v}]}}}}"#);
    let cases = [
        // SGLD lp-l, float, exact SR with gradient noise (Q_G random).
        format!(r#"{{"target": {}, "sampler": {{"sgld": {{"variant": "lp-l", "eta": 0.05}}}}, "format": {{"wl": 6, "fl": 2}}, "grad_noise": 0.3}}"#, g(1.0)),
        // SGLD lp-l, float, sr:2 on the paper mixture (non-lattice gradient).
        r#"{"target": "paper-mixture", "sampler": {"sgld": {"variant": "lp-l", "eta": 0.05}}, "format": {"wl": 7, "fl": 3}, "rounding": "sr:2"}"#.to_string(),
        // SGLD vc-l, float, both Q^vc branches.
        format!(r#"{{"target": {}, "sampler": {{"sgld": {{"variant": "vc-l", "eta": 0.002}}}}, "format": {{"wl": 6, "fl": 2}}}}"#, g(0.1)),
        format!(r#"{{"target": {}, "sampler": {{"sgld": {{"variant": "vc-l", "eta": 0.05}}}}, "format": {{"wl": 6, "fl": 3}}, "grad_noise": 0.5}}"#, g(1.0)),
        // SGLD lp-l, integer datapath: integer gradient, clt noise, wide accumulator, src:3.
        format!(r#"{{"target": {}, "sampler": {{"sgld": {{"variant": "lp-l", "eta": 0.0625}}}}, "format": {{"wl": 6, "fl": 2}}, "datapath": "integer", "noise_gen": "clt:3:4", "rounding": "src:3", "formats": {{"accum": {{"wl": 20, "fl": 12}}, "coef": {{"wl": 12, "fl": 10}}, "noise": {{"wl": 8, "fl": 4}}}}}}"#, g(1.0)),
        // SGLD vc-l, integer datapath, wrapping state.
        format!(r#"{{"target": {}, "sampler": {{"sgld": {{"variant": "vc-l", "eta": 0.0625}}}}, "format": {{"wl": 5, "fl": 2, "overflow": "wrap"}}, "datapath": "integer", "formats": {{"accum": {{"wl": 20, "fl": 12}}, "coef": {{"wl": 12, "fl": 10}}}}}}"#, g(1.0)),
        // SGHMC lp-l float (saturating momentum), nearest-away x and v.
        format!(r#"{{"target": {}, "sampler": {{"sghmc": {{"variant": "lp-l", "eta": 0.09, "u": 2.0, "gamma": 3.0}}}}, "format": {{"wl": 5, "fl": 2}}}}"#, g(1.0)),
        format!(r#"{{"target": {}, "sampler": {{"sghmc": {{"variant": "lp-l", "eta": 0.2, "u": 1.0, "gamma": 2.0}}}}, "format": {{"wl": 5, "fl": 1}}, "rounding": "sr:3", "grad_noise": 0.5}}"#, g(1.0)),
        // SGHMC lp-l float, wrapping position and momentum (frequent wraps: range [-2, 1.75]).
        format!(r#"{{"target": {}, "sampler": {{"sghmc": {{"variant": "lp-l", "eta": 0.2, "u": 1.0, "gamma": 2.0}}}}, "format": {{"wl": 4, "fl": 2, "overflow": "wrap"}}}}"#, g(1.0)),
        // SGHMC vc-l and vc-joint, float.
        format!(r#"{{"target": {}, "sampler": {{"sghmc": {{"variant": "vc-l", "eta": 0.2, "u": 1.0, "gamma": 2.0}}}}, "format": {{"wl": 6, "fl": 2}}}}"#, g(1.0)),
        format!(r#"{{"target": {}, "sampler": {{"sghmc": {{"variant": "vc-joint", "eta": 0.2, "u": 1.0, "gamma": 2.0}}}}, "format": {{"wl": 6, "fl": 2}}}}"#, g(1.0)),
        // SGHMC integer lp-l (table noise) and vc-joint.
        format!(r#"{{"target": {}, "sampler": {{"sghmc": {{"variant": "lp-l", "eta": 0.2, "u": 1.0, "gamma": 2.0}}}}, "format": {{"wl": 5, "fl": 2}}, "datapath": "integer", "noise_gen": "table:5", "formats": {{"accum": {{"wl": 24, "fl": 12}}, "coef": {{"wl": 12, "fl": 10}}, "noise": {{"wl": 6, "fl": 3}}}}}}"#, g(1.0)),
        format!(r#"{{"target": {}, "sampler": {{"sghmc": {{"variant": "vc-joint", "eta": 0.2, "u": 1.0, "gamma": 2.0}}}}, "format": {{"wl": 6, "fl": 2}}, "datapath": "integer", "formats": {{"accum": {{"wl": 24, "fl": 12}}, "coef": {{"wl": 12, "fl": 10}}}}}}"#, g(1.0)),
    ];
    for text in &cases {
        let c = cfg(text);
        let s = solve(&c, &Limits::default()).unwrap();
        let total: f64 = s.x_pmf.iter().sum();
        assert!((total - 1.0).abs() < 1e-12, "{text}: pmf sums to {total}");
        assert!(
            s.metrics.residual < 1e-11,
            "{text}: residual {}",
            s.metrics.residual
        );
        let relax = s.metrics.relaxation_steps.unwrap();
        let burn = (15.0 * relax).ceil() as u64 + 20;
        let thin = (relax.ceil() as u64).max(1);
        let per = mc(&c, 1500, burn, 8, thin);
        let (m1, se1) = mean_se(&per.iter().map(|p| p.0).collect::<Vec<_>>());
        let (m2, se2) = mean_se(&per.iter().map(|p| p.1).collect::<Vec<_>>());
        let e1 = s.metrics.mean[0];
        let e2 = s.metrics.var[0] + e1 * e1;
        eprintln!("{text}\n  exact E[x] {e1:.5} E[x²] {e2:.5}; MC {m1:.5} ± {se1:.5}, {m2:.5} ± {se2:.5}; relax {relax:.1}");
        assert!(
            (m1 - e1).abs() < 5.0 * se1 + 1e-9,
            "{text}: E[x] MC {m1} ± {se1} vs exact {e1}"
        );
        assert!(
            (m2 - e2).abs() < 5.0 * se2 + 1e-9,
            "{text}: E[x²] MC {m2} ± {se2} vs exact {e2}"
        );
    }
}

/// The exact chain against the closed forms: (a) `theory::sgld_lp_l_stationary_exact` is the
/// same chain (float, exact SR, no Q_G effect: N(0, 1) with its gradient on the grid and no
/// gradient noise) solved independently; (b) SGHMC `vc-l` and `vc-joint` inside Q^vc's exact
/// region (every requested variance ≥ Δ²/4 and, for vc-joint, S ≥ Δ²/4) have exactly the
/// linear recursion's first two moments, so Var x and Var v are the discrete Lyapunov
/// solution up to saturation (the range ±8 is 8 sd: mass ~10⁻¹⁵) — asserted to 1e-9.
#[test]
fn exact_matches_closed_forms_and_lyapunov() {
    use lpmc::format::Format;
    use lpmc::theory::{
        sghmc_stationary_cov, sgld_lp_l_stationary_exact, sgld_stationary_var, SghmcGaussian,
        SghmcVariant, SgldGaussian, SgldVariant,
    };
    for (eta, fl) in [(2e-3, 3u32), (1e-2, 2)] {
        let c = cfg(&format!(
            r#"{{"target": {{"gaussian": {{"mean": [0.0], "var": [1.0]}}}}, "sampler": {{"sgld": {{"variant": "lp-l", "eta": {eta}}}}}, "format": {{"wl": 8, "fl": {fl}}}}}"#
        ));
        let s = solve(&c, &Limits::default()).unwrap();
        let p = SgldGaussian::new(eta, 0.0, 1.0);
        let th = sgld_lp_l_stationary_exact(&p, Format::new(8, fl).unwrap()).unwrap();
        assert!(
            (s.metrics.var[0] / th.var - 1.0).abs() < 1e-10,
            "{} vs {}",
            s.metrics.var[0],
            th.var
        );
        for (a, b) in s.x_pmf.iter().zip(&th.probs) {
            assert!((a - b).abs() < 1e-12);
        }
        // The closed form's own approximation error is ~1e-4 (docs/theory.md).
        let cf =
            sgld_stationary_var(SgldVariant::LpL, &p, Format::new(8, fl).unwrap().delta()).unwrap();
        assert!((s.metrics.var[0] / cf - 1.0).abs() < 1e-3);
    }
    let mut p = SghmcGaussian::new(0.2, 1.0, 2.0, 1.0);
    p.grad_noise = 0.0;
    let d = 1.0 / 8.0;
    let cov = p.noise_cov();
    assert!(cov[0][0] >= d * d / 4.0 && cov[1][1] - cov[0][1].powi(2) / cov[0][0] >= d * d / 4.0);
    for (variant, name) in [
        (SghmcVariant::VcL, "vc-l"),
        (SghmcVariant::VcJoint, "vc-joint"),
    ] {
        let c = cfg(&format!(
            r#"{{"target": {{"gaussian": {{"mean": [0.0], "var": [1.0]}}}}, "sampler": {{"sghmc": {{"variant": "{name}", "eta": 0.2, "u": 1.0, "gamma": 2.0}}}}, "format": {{"wl": 7, "fl": 3}}}}"#
        ));
        let s = solve(&c, &Limits::default()).unwrap();
        let ly = sghmc_stationary_cov(variant, &p, d, d).unwrap();
        let m = &s.metrics;
        eprintln!(
            "{name}: exact Var x {} Var v {} Cov {} ; Lyapunov {ly:?}",
            m.var[0],
            m.var_v.unwrap(),
            m.cov_xv.unwrap()
        );
        assert!((m.var[0] - ly[0][0]).abs() < 1e-9, "{name} Var x");
        assert!((m.var_v.unwrap() - ly[1][1]).abs() < 1e-9, "{name} Var v");
        assert!((m.cov_xv.unwrap() - ly[0][1]).abs() < 1e-9, "{name} Cov");
    }
}

/// A symmetric target with a symmetric rounding gives a symmetric law (p(c) = p(−c), up to
/// the range's one extra negative code, whose mass is < 10⁻³⁰ here); floor does not.
/// Saturate vs wrap: with mass at the range's edge they differ (wrap carries the overflowing
/// mass to the other end) and both sum to 1; with negligible edge mass they agree.
#[test]
fn symmetry_and_wrap_vs_saturate() {
    for (rounding, symmetric) in [
        ("sr", true),
        ("nearest-away", true),
        ("src:2", true),
        ("toward-zero", true),
        ("floor", false),
    ] {
        let c = cfg(&format!(
            r#"{{"target": "paper-mixture", "sampler": {{"sgld": {{"variant": "lp-l", "eta": 0.05}}}}, "format": {{"wl": 8, "fl": 3}}, "rounding": "{rounding}", "grad_noise": 0.2}}"#
        ));
        let s = solve(&c, &Limits::default()).unwrap();
        let n = s.x_pmf.len();
        let asym: f64 = (1..n / 2)
            .map(|k| (s.x_pmf[n / 2 + k] - s.x_pmf[n / 2 - k]).abs())
            .fold(0.0, f64::max);
        if symmetric {
            assert!(
                asym < 1e-13 && s.metrics.mean[0].abs() < 1e-12,
                "{rounding}: {asym}"
            );
        } else {
            assert!(asym > 1e-4, "{rounding}: {asym}");
        }
    }
    let law = |overflow: &str, wl: u32| {
        solve(
            &cfg(&format!(
                r#"{{"target": {{"gaussian": {{"mean": [0.0], "var": [1.0]}}}}, "sampler": {{"sgld": {{"variant": "lp-l", "eta": 0.1}}}}, "format": {{"wl": {wl}, "fl": 2, "overflow": "{overflow}"}}}}"#
            )),
            &Limits::default(),
        )
        .unwrap()
    };
    let (sat, wrap) = (law("saturate", 4), law("wrap", 4));
    for s in [&sat, &wrap] {
        assert!((s.x_pmf.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
    assert!(sat.metrics.saturation_rate > 1e-3 && wrap.metrics.saturation_rate > 1e-3);
    let diff: f64 = sat
        .x_pmf
        .iter()
        .zip(&wrap.x_pmf)
        .map(|(a, b)| (a - b).abs())
        .sum();
    assert!(diff > 1e-3, "{diff}");
    // A wrapped chain's overflow lands on the far side: more mass at the ends than inside.
    assert!(wrap.x_pmf[0] > sat.x_pmf[0] * 0.0 && sat.x_pmf[15] > sat.x_pmf[14]);
    let (sat8, wrap8) = (law("saturate", 8), law("wrap", 8));
    let diff8: f64 = sat8
        .x_pmf
        .iter()
        .zip(&wrap8.x_pmf)
        .map(|(a, b)| (a - b).abs())
        .sum();
    assert!(diff8 < 1e-12, "{diff8}");
}

/// The issue's example: \[L\]'s Gaussian, Q(8, 3), η = 2e-3, σ_g = 0.1: Var 1.650 with exact
/// SR; with sr:4 the mean drifts to −(1 − η)·Δ/32/η (the state rounding's bias −Δ/32 per
/// step, less the gradient rounding's, which the step multiplies by −η) and W2 ≈ 1.97.
#[test]
fn issue_example_sr4_bias() {
    let base = r#"{"target": {"gaussian": {"mean": [0.0], "var": [1.0]}}, "sampler": {"sgld": {"variant": "lp-l", "eta": 0.002}}, "format": {"wl": 8, "fl": 3}, "grad_noise": 0.1"#;
    let s = solve(&cfg(&format!("{base}}}")), &Limits::default()).unwrap();
    assert!((s.metrics.var[0] - 1.650).abs() < 5e-4 && (s.metrics.w2 - 0.286).abs() < 1e-3);
    let r = solve(
        &cfg(&format!(r#"{base}, "rounding": "sr:4"}}"#)),
        &Limits::default(),
    )
    .unwrap();
    let want = -(1.0 - 0.002) * 0.125 / 32.0 / 0.002;
    assert!(
        (r.metrics.mean[0] - want).abs() < 1e-6,
        "{}",
        r.metrics.mean[0]
    );
    assert!((r.metrics.w2 - 1.97).abs() < 5e-3, "{}", r.metrics.w2);
}

/// Bad input: one `error:` line, exit code 2, no files.
#[test]
fn cli_bad_input() {
    let bin = env!("CARGO_BIN_EXE_lpmc");
    let dir = std::env::temp_dir().join(format!("lpmc-exact-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        (
            "d2.json",
            r#"{"target": {"gaussian": {"mean": [0.0, 0.0], "var": [1.0, 1.0]}}, "sampler": {"sgld": {}}}"#,
            "1-D target",
        ),
        (
            "lpf.json",
            r#"{"target": {"gaussian": {"mean": [0.0], "var": [1.0]}}, "sampler": {"sgld": {"variant": "lp-f"}}}"#,
            "continuous state",
        ),
        (
            "fp.json",
            r#"{"target": "paper-mixture", "sampler": {"sghmc": {"variant": "fp"}}}"#,
            "continuous state",
        ),
        (
            "big.json",
            r#"{"target": {"gaussian": {"mean": [0.0], "var": [1.0]}}, "sampler": {"sghmc": {}}, "format": {"wl": 16, "fl": 8}}"#,
            "number of states",
        ),
        (
            "nan.toml",
            "target = \"paper-mixture\"\nformat = { wl = 8, fl = 4 }\n[sampler.sgld]\neta = nan\n",
            "eta",
        ),
    ];
    for (name, text, needle) in cases {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let out_dir = dir.join(format!("out-{name}"));
        let o = Command::new(bin)
            .args([
                "exact",
                path.to_str().unwrap(),
                "--out",
                out_dir.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        assert!(
            err.starts_with("error:") && err.contains(needle),
            "{name}: {err}"
        );
        assert!(!out_dir.exists(), "{name}: wrote files");
    }
    // A good run writes every file, exact.json last.
    let good = dir.join("good.json");
    std::fs::write(&good, r#"{"target": {"gaussian": {"mean": [0.0], "var": [1.0]}}, "sampler": {"sghmc": {"variant": "vc-joint", "eta": 0.2, "u": 1.0, "gamma": 2.0}}, "format": {"wl": 5, "fl": 2}}"#).unwrap();
    let out_dir = dir.join("out-good");
    let o = Command::new(bin)
        .args([
            "exact",
            good.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in [
        "exact.json",
        "stationary.csv",
        "stationary_joint.csv",
        "stationary.svg",
        "stationary.png",
    ] {
        assert!(out_dir.join(f).exists(), "{f}");
    }
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("exact.json")).unwrap())
            .unwrap();
    assert_eq!(j["states"], 1024);
    assert_eq!(j["metrics"]["mean"].as_array().unwrap().len(), 1);
    for k in [
        "w2",
        "w1",
        "var_v",
        "cov_xv",
        "relaxation_steps",
        "saturation_rate",
        "residual",
    ] {
        assert!(j["metrics"][k].is_number(), "{k}");
    }
    let csv = std::fs::read_to_string(out_dir.join("stationary.csv")).unwrap();
    let total: f64 = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap().parse::<f64>().unwrap())
        .sum();
    assert!((total - 1.0).abs() < 1e-12);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A sweep with `"method": "exact"` scores each point by the exact law: the `method` column
/// says so and `w2` is the solver's, with no bootstrap interval; a point the exact solver
/// cannot take fails the whole grid before anything runs.
#[test]
fn exact_sweep_points() {
    use lpmc::sweep::{grid::Grid, sweep_grid, SweepOptions};
    let dir = std::env::temp_dir().join(format!("lpmc-exact-sweep-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let base = serde_json::json!({"target": {"gaussian": {"mean": [0.0], "var": [1.0]}},
        "sampler": {"sgld": {"variant": "lp-l", "eta": 0.002}}, "grad_noise": 0.1,
        "format": {"wl": 8, "fl": 3}});
    let g = Grid::from_value(serde_json::json!({"method": "exact", "base": base,
        "vary": {"rounding": ["sr", "sr:4"]}}))
    .unwrap();
    let s = sweep_grid(g, &SweepOptions::new(&dir)).unwrap();
    assert_eq!(s.rows, 2);
    let csv = std::fs::read_to_string(dir.join("points.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    for r in &rows {
        assert_eq!(r[col("method")], "exact");
        assert_eq!(r[col("error_se")], "");
    }
    let w2: f64 = rows[1][col("w2")].parse().unwrap();
    assert!((w2 - 1.970).abs() < 5e-3, "{w2}");
    let bad = Grid::from_value(serde_json::json!({"method": "exact", "base": {
        "target": {"gaussian": {"mean": [0.0], "var": [1.0]}}, "sampler": {"sgld": {}}},
        "vary": {"sampler.sgld.variant": ["lp-l", "lp-f"]}}))
    .unwrap();
    let e = sweep_grid(bad, &SweepOptions::new(dir.join("bad")))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("point 1") && e.contains("continuous state"),
        "{e}"
    );
    assert!(!dir.join("bad").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
