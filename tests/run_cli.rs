//! `lpmc run` end to end: outputs, determinism across thread counts, bad configs.

use std::path::{Path, PathBuf};
use std::process::Command;

fn lpmc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lpmc"))
}

/// A fresh temporary directory for one test.
fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lpmc-run-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn metrics(dir: &Path) -> serde_json::Value {
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("result.json")).unwrap()).unwrap();
    let mut m = r["metrics"].clone();
    // Timing is not part of the result's content.
    m.as_object_mut().unwrap().remove("wall_s");
    m.as_object_mut().unwrap().remove("steps_per_s");
    m
}

const MIXTURE: &str = r#"{"target": {"mixture": {"weights": [0.5, 0.5], "means": [[-1.0], [1.0]], "vars": [[0.25], [0.25]]}},
 "sampler": {"sghmc": {"variant": "vc-joint", "eta": 0.1, "u": 1.0, "gamma": 3.0}},
 "format": {"wl": 8, "fl": 4}, "rounding": "sr", "datapath": "float",
 "grad_noise": 0.1, "chains": 37, "steps": 300, "burn_in": 100, "thin": 7, "seed": 1,
 "max_sample_rows": 500}"#;

#[test]
fn same_seed_same_bits_for_any_thread_count() {
    let dir = tmp("threads");
    let cfg = write(&dir, "mix.json", MIXTURE);
    for t in ["1", "2"] {
        let out = dir.join(format!("t{t}"));
        let s = lpmc()
            .args(["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap()])
            .args(["--threads", t, "--seed", "9"])
            .output()
            .unwrap();
        assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));
    }
    let (a, b) = (dir.join("t1"), dir.join("t2"));
    assert_eq!(metrics(&a), metrics(&b));
    let sa = std::fs::read_to_string(a.join("samples.csv")).unwrap();
    assert_eq!(sa, std::fs::read_to_string(b.join("samples.csv")).unwrap());
    // Header, then rows capped at max_sample_rows: 37 chains × ⌊200/7⌋ = 28 kept each,
    // quota max(1, 500/37) = 13 per chain, so 37·13 = 481 rows.
    let lines: Vec<&str> = sa.lines().collect();
    assert_eq!(lines[0], "chain,x0");
    assert_eq!(lines.len(), 1 + 481);
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("result.json")).unwrap()).unwrap();
    assert_eq!(r["seed"], 9);
    assert_eq!(r["config"]["seed"], 9);
    assert_eq!(r["config"]["formats"]["grad"]["fl"], 4);
    assert_eq!(r["metrics"]["kept_samples"], 37 * 28);
    assert_eq!(r["lpmc_version"], env!("CARGO_PKG_VERSION"));
    // A different seed gives different samples.
    let c = dir.join("t3");
    let s = lpmc()
        .args(["run", cfg.to_str().unwrap(), "--out", c.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(s.status.success());
    assert_ne!(sa, std::fs::read_to_string(c.join("samples.csv")).unwrap());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn toml_config_runs() {
    let dir = tmp("toml");
    let cfg = write(
        &dir,
        "c.toml",
        r#"
target = "paper-mixture"
chains = 8
steps = 50
burn_in = 10
[sampler.sgld]
variant = "vc-l"
eta = 0.1
"#,
    );
    let out = dir.join("out");
    let s = lpmc()
        .args(["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));
    assert_eq!(metrics(&out)["kept_samples"], 8 * 40);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_configs_exit_2_with_one_line_and_write_nothing() {
    let dir = tmp("bad");
    let good = r#""target": {"gaussian": {"mean": [0.0], "var": [1.0]}}, "chains": 2, "steps": 10, "burn_in": 2"#;
    let cases = [
        ("neg-eta", format!(r#"{{{good}, "sampler": {{"sgld": {{"eta": -0.1}}}}}}"#)),
        ("zero-gamma", format!(r#"{{{good}, "sampler": {{"sghmc": {{"gamma": 0.0}}}}}}"#)),
        ("neg-gamma", format!(r#"{{{good}, "sampler": {{"sghmc": {{"gamma": -1.0}}}}}}"#)),
        ("zero-u", format!(r#"{{{good}, "sampler": {{"sghmc": {{"u": 0.0}}}}}}"#)),
        ("fl", format!(r#"{{{good}, "sampler": {{"sgld": {{}}}}, "format": {{"wl": 8, "fl": 70}}}}"#)),
        ("fl-neg", format!(r#"{{{good}, "sampler": {{"sgld": {{}}}}, "format": {{"wl": 8, "fl": -1}}}}"#)),
        ("unknown", format!(r#"{{{good}, "sampler": {{"sgld": {{}}}}, "colour": 3}}"#)),
        ("unknown-inner", format!(r#"{{{good}, "sampler": {{"sgld": {{"etaa": 0.1}}}}}}"#)),
        ("malformed", format!(r#"{{{good}, "sampler": {{"sgld": {{}}}}"#)),
        ("burn", r#"{"target": "paper-mixture", "sampler": {"sgld": {}}, "steps": 10, "burn_in": 10}"#.to_string()),
        ("dims", r#"{"target": {"gaussian": {"mean": [0.0, 1.0], "var": [1.0]}}, "sampler": {"sgld": {}}}"#.to_string()),
        ("mix-dims", r#"{"target": {"mixture": {"weights": [0.5, 0.5], "means": [[-1.0], [1.0, 2.0]], "vars": [[0.25], [0.25]]}}, "sampler": {"sgld": {}}}"#.to_string()),
        ("x0-dims", format!(r#"{{{good}, "sampler": {{"sgld": {{}}}}, "x0": [0.0, 1.0]}}"#)),
        ("variant", format!(r#"{{{good}, "sampler": {{"sgld": {{"variant": "vc-joint"}}}}}}"#)),
    ];
    for (name, text) in cases {
        let cfg = write(&dir, &format!("{name}.json"), &text);
        let out = dir.join(format!("out-{name}"));
        let s = lpmc()
            .args(["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap()])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&s.stderr);
        assert_eq!(s.status.code(), Some(2), "{name}: {err}");
        assert!(
            err.starts_with("error: ") && err.trim_end().lines().count() == 1,
            "{name}: {err}"
        );
        assert!(!out.exists(), "{name}: wrote {}", out.display());
    }
    // NaN η (expressible in TOML).
    let cfg = write(
        &dir,
        "nan.toml",
        "target = \"paper-mixture\"\n[sampler.sgld]\neta = nan\n",
    );
    let s = lpmc()
        .args([
            "run",
            cfg.to_str().unwrap(),
            "--out",
            dir.join("o").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&s.stderr);
    assert_eq!(s.status.code(), Some(2), "{err}");
    assert!(
        err.contains("eta") && err.trim_end().lines().count() == 1,
        "{err}"
    );
    // A missing file.
    let s = lpmc()
        .args(["run", "/nonexistent/x.json"])
        .output()
        .unwrap();
    assert_eq!(s.status.code(), Some(2));
    std::fs::remove_dir_all(dir).unwrap();
}

/// Without a config, `lpmc run` performs the built-in \[S\] §4.1 run and writes every output,
/// with the evaluator's distances in `metrics`.
#[test]
fn builtin_run_writes_metrics_and_histogram() {
    let dir = tmp("builtin");
    let out = lpmc()
        .args(["run", "--out"])
        .arg(&dir)
        .output()
        .expect("run lpmc");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m = metrics(&dir);
    // SGHMC lp-l at these settings has stationary Var x ≈ 1.038 (theory::sghmc_stationary_cov
    // with quantization terms); with 2e6 kept samples of 1e4 chains the MC error is ~0.005.
    // The wide band only checks the wiring; tests/samplers.rs checks the values.
    let var = m["var"][0].as_f64().unwrap();
    assert!((0.9..1.2).contains(&var), "{var}");
    let w2 = m["w2"].as_f64().unwrap();
    let w1 = m["w1"].as_f64().unwrap();
    assert!(w1 > 0.0 && w1 <= w2 && w2 < 0.2, "w1 {w1} w2 {w2}");
    assert!(m["bures_w2"].as_f64().unwrap() >= 0.0);
    assert!(m["interval"]["lo"].as_f64().unwrap() <= m["interval"]["hi"].as_f64().unwrap());
    for f in [
        "samples.csv",
        "histogram.svg",
        "histogram.png",
        "result.json",
    ] {
        assert!(dir.join(f).is_file(), "{f}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `result.json`'s memory estimate bounds what a run uses: for three layouts of the chain
/// runner (1-D 8-bit codes in lockstep groups, `f64` states, 40-D codes one chain per group),
/// the growth of the peak resident memory from 1 chain to many is at most the growth of the
/// estimate (the chain-dependent terms bound the chain-dependent memory, independent of the
/// fixed 32 MiB allowance), and the whole estimate is at least the peak. The estimate is
/// also not inflated past 2× of that growth, so that a run that fits is not refused.
#[test]
fn memory_estimate_bounds_the_peak() {
    let dir = tmp("memory");
    let run = |name: &str, target: &str, sampler: &str, chains: usize| -> (f64, f64) {
        let cfg = format!(
            r#"{{"target": {target}, "sampler": {sampler}, "chains": {chains},
             "steps": 3, "burn_in": 1, "max_sample_rows": 0}}"#
        );
        let path = write(&dir, &format!("{name}-{chains}.json"), &cfg);
        let out = dir.join(format!("{name}-{chains}"));
        let o = lpmc()
            .args(["run", path.to_str().unwrap(), "--threads", "2", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("result.json")).unwrap())
                .unwrap();
        let m = &r["memory"];
        (
            m["estimate"].as_f64().unwrap(),
            m["peak_resident"].as_f64().unwrap_or(f64::NAN),
        )
    };
    let g1 = r#"{"gaussian": {"mean": [0.0], "var": [1.0]}}"#;
    let d40 = format!(
        r#"{{"gaussian": {{"mean": {:?}, "var": {:?}}}}}"#,
        vec![0.0; 40],
        vec![1.0; 40]
    );
    let cases = [
        ("lockstep", g1.to_string(), r#"{"sgld": {}}"#, 1_000_000),
        (
            "f64",
            g1.to_string(),
            r#"{"sgld": {"variant": "fp"}}"#,
            500_000,
        ),
        ("by-chain", d40, r#"{"sgld": {}}"#, 20_000),
    ];
    for (name, target, sampler, chains) in cases {
        let (e1, p1) = run(name, &target, sampler, 1);
        let (en, pn) = run(name, &target, sampler, chains);
        if p1.is_nan() {
            continue; // no /proc (not Linux): nothing to compare
        }
        let (grew, est) = (pn - p1, en - e1);
        eprintln!("{name}: peak {p1} -> {pn} (+{grew}), estimate {e1} -> {en} (+{est})");
        assert!(
            grew <= est,
            "{name}: memory grew {grew} B, estimate {est} B"
        );
        assert!(pn <= en, "{name}: peak {pn} B over the estimate {en} B");
        assert!(est <= 2.0 * grew, "{name}: estimate +{est} B for +{grew} B");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--strict`: a config whose coefficients round to 0 (η = 0.01 in `coef` Q(2, 0)) runs with
/// `coef-zero` warnings (exit 0, recorded in result.json); under `--strict` it exits 3 with
/// one `error:` line before any chain runs, and writes no result.json.
#[test]
fn strict_turns_warnings_into_exit_3() {
    let dir = tmp("strict");
    let cfg = write(
        &dir,
        "c.json",
        r#"{"target": {"gaussian": {"mean": [0.0], "var": [1.0]}},
            "sampler": {"sgld": {"eta": 0.01}}, "formats": {"coef": {"wl": 2, "fl": 0}},
            "datapath": "integer", "chains": 4, "steps": 40, "burn_in": 20}"#,
    );
    let out = dir.join("out");
    let run = |strict: bool| {
        let mut c = lpmc();
        c.args(["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        if strict {
            c.arg("--strict");
        }
        c.output().unwrap()
    };
    let o = run(false);
    assert_eq!(o.status.code(), Some(0));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("result.json")).unwrap()).unwrap();
    let codes: Vec<&str> = r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["code"].as_str())
        .collect();
    assert!(codes.contains(&"coef-zero"), "{codes:?}");
    std::fs::remove_dir_all(&out).unwrap();
    let o = run(true);
    assert_eq!(o.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&o.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].contains("--strict") && errors[0].contains("coef-zero"),
        "{stderr}"
    );
    assert!(!out.join("result.json").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
