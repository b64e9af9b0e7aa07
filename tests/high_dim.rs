//! High-dimensional runs end to end: targets held in O(d), streamed moments in
//! `moments.csv`, the samples budget, and the high-dimensional evaluator.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn lpmc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lpmc"))
}

/// A fresh temporary directory for one test.
fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lpmc-high-dim-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(dir: &Path, config: &str, extra: &[&str]) -> (Output, PathBuf) {
    let cfg = dir.join("config.json");
    std::fs::write(&cfg, config).unwrap();
    let out = dir.join("out");
    let o = lpmc()
        .args(["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .args(["--threads", "2"])
        .args(extra)
        .output()
        .unwrap();
    (o, out)
}

fn result(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("result.json")).unwrap()).unwrap()
}

/// Reads a CSV of numbers with a header into rows.
fn csv_rows(path: &Path) -> Vec<Vec<f64>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|f| f.parse().unwrap()).collect())
        .collect()
}

/// Asserts the command failed with exit 2 and one `error:` line containing `text`, writing
/// nothing.
fn assert_refused(o: &Output, out: &Path, text: &str) {
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("error: ") && lines[0].contains(text),
        "{stderr}"
    );
    assert!(!out.join("result.json").exists());
}

/// d = 10⁵ with scalars broadcast over `dim`: dense storage would need 2·8·d² = 160 GB for Σ
/// and Σ⁻¹ and the evaluator's d×d matrices as much again; held as vectors the whole process
/// stays far below 1 GB (asserted on its own peak resident memory). Moments go to
/// `moments.csv`, `result.json` keeps summaries and the evaluator's high-d metrics.
#[test]
fn hundred_thousand_dimensions_in_o_d_memory() {
    let dir = tmp("1e5");
    let (o, out) = run(
        &dir,
        r#"{"target": {"gaussian": {"dim": 100000, "mean": 0.5, "var": 1.0}},
            "sampler": {"sgld": {"variant": "lp-l", "eta": 0.01}}, "datapath": "integer",
            "chains": 2, "steps": 40, "burn_in": 20, "thin": 4, "seed": 3,
            "evaluation": {"slices": 4, "marginals_csv": true}}"#,
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = result(&out);
    let m = &r["metrics"];
    assert!(m.get("mean").is_none() && m.get("target_var").is_none());
    assert_eq!(m["kept_samples"], 10);
    for key in ["marginal_w2", "marginal_w1"] {
        let s = &m[key];
        let (mean, median, max) = (
            s["mean"].as_f64().unwrap(),
            s["median"].as_f64().unwrap(),
            s["max"].as_f64().unwrap(),
        );
        assert!(
            mean > 0.0 && median > 0.0 && max >= mean && max >= median,
            "{s}"
        );
    }
    assert!(m["sliced_w2"].as_f64().unwrap() > 0.0);
    assert_eq!(m["slices"], 4);
    assert!(m["bures_w2_diagonal"].as_f64().unwrap() > 0.0);
    // 10 kept samples of 10⁵ coordinates (8 MB) fit the default 64 MiB budget.
    assert_eq!(r["samples"]["dropped"], 0);
    let peak = r["memory"]["peak_resident"].as_u64().unwrap_or(0);
    assert!(peak < 1 << 30, "peak resident {peak} bytes");
    let moments = csv_rows(&out.join("moments.csv"));
    assert_eq!(moments.len(), 100_000);
    assert_eq!(moments[99_999][0], 99_999.0);
    let marginals = csv_rows(&out.join("marginals.csv"));
    assert_eq!(marginals.len(), 100_000);
    // The per-dimension CSV and the summary agree.
    let max_w2 = marginals.iter().map(|r| r[1]).fold(0.0, f64::max);
    assert_eq!(max_w2, m["marginal_w2"]["max"].as_f64().unwrap());
}

/// The streamed moments (exact code sums over every kept sample) equal the moments of the
/// kept samples in `samples.csv` when the budget drops nothing: both are the mean and the
/// divisor-n variance of the same 30 values per dimension, which lie on the 2⁻⁴ lattice, so
/// the only difference is the rounding of the f64 sums here (≤ 30 ulps of values ≤ 2⁴,
/// tolerance 1e-12). A budget of two rows then drops the other 28 and says so.
#[test]
fn streamed_moments_equal_the_kept_samples_moments() {
    let dir = tmp("moments");
    let config = r#"{"target": {"gaussian": {"dim": 1500, "mean": 0.0, "var": 2.0}},
        "sampler": {"sgld": {"variant": "lp-l", "eta": 0.05}}, "datapath": "integer",
        "chains": 3, "steps": 30, "burn_in": 10, "thin": 2, "seed": 8}"#;
    let (o, out) = run(&dir, config, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = result(&out);
    assert_eq!(r["samples"]["dropped"], 0);
    assert!(r["samples"]["limited_by"].is_null());
    let rows = csv_rows(&out.join("samples.csv"));
    assert_eq!(rows.len(), 30);
    let moments = csv_rows(&out.join("moments.csv"));
    assert_eq!(moments.len(), 1500);
    let n = rows.len() as f64;
    for (i, mv) in moments.iter().enumerate() {
        let col: Vec<f64> = rows.iter().map(|r| r[i + 1]).collect();
        let mean = col.iter().sum::<f64>() / n;
        let var = col.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
        assert!((mv[1] - mean).abs() < 1e-12, "dim {i}: {} vs {mean}", mv[1]);
        assert!((mv[2] - var).abs() < 1e-12, "dim {i}: {} vs {var}", mv[2]);
    }
    // 30 000 bytes hold ⌊30000/(8·1500)⌋ = 2 rows.
    let (o, out) = run(&dir, config, &["--max-samples-bytes", "30000"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = result(&out);
    let s = &r["samples"];
    assert_eq!(
        (
            s["row_cap"].as_u64(),
            s["rows"].as_u64(),
            s["dropped"].as_u64()
        ),
        (Some(2), Some(2), Some(28))
    );
    assert_eq!(s["limited_by"], "max_samples_bytes");
    assert_eq!(s["budget_bytes"], 30000);
    // The moments still cover all 30 kept samples: the same file as before.
    assert_eq!(csv_rows(&out.join("moments.csv")), moments);
}

/// A samples budget of 0 (flag or config) is refused before anything is written.
#[test]
fn zero_samples_budget_is_refused() {
    let dir = tmp("budget0");
    let config = r#"{"target": {"gaussian": {"mean": [0.0], "var": [1.0]}},
        "sampler": {"sgld": {}}, "chains": 2, "steps": 20, "burn_in": 10}"#;
    let (o, out) = run(&dir, config, &["--max-samples-bytes", "0"]);
    assert_refused(&o, &out, "max_samples_bytes");
}

/// A full covariance whose Σ, Cholesky factor and Σ⁻¹ (32·d² bytes: 11.5 MB for d = 600)
/// exceed the memory the run may use is refused with the memory it would need, before it is
/// factored.
#[test]
fn full_covariance_too_large_is_refused_with_its_memory() {
    let dir = tmp("cov");
    let d = 600;
    let rows: Vec<String> = (0..d)
        .map(|i| {
            let r: Vec<&str> = (0..d)
                .map(|j| match (i as i64 - j as i64).abs() {
                    0 => "1.0",
                    1 => "0.25",
                    _ => "0",
                })
                .collect();
            format!("[{}]", r.join(","))
        })
        .collect();
    let config = format!(
        r#"{{"target": {{"gaussian": {{"mean": 0.0, "cov": [{}]}}}},
            "sampler": {{"sgld": {{}}}}, "chains": 1, "steps": 20, "burn_in": 10}}"#,
        rows.join(",")
    );
    let (o, out) = run(&dir, &config, &["--max-memory", "5MB"]);
    assert_refused(&o, &out, "full covariance (600×600");
    assert!(String::from_utf8_lossy(&o.stderr).contains("needs an estimated 11.5 MB"));
}
