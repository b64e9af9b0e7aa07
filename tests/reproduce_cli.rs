//! `lpmc reproduce` end to end at the hidden `--tiny` size: the files of a figure, a report
//! whose verdicts are the ones in summary.json, and one `error:` line with exit code 2 for bad
//! input.

use std::path::PathBuf;
use std::process::Command;

/// A scratch directory per test, removed when the test ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("lpmc-reproduce-cli-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn lpmc(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lpmc"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Figure 1 at the tiny size writes its two figures (SVG + PNG), both CSVs, REPORT.md and
/// summary.json; every check of summary.json appears in REPORT.md with the same verdict, and
/// the claim checks carry the numbers that decided them.
#[test]
fn fig1_writes_figures_and_a_report_consistent_with_the_summary() {
    let s = Scratch::new("fig1");
    let out = s.0.to_str().unwrap();
    let (code, stdout, stderr) = lpmc(&[
        "reproduce",
        "fig1",
        "--tiny",
        "--out",
        out,
        "--threads",
        "2",
    ]);
    assert_eq!(code, 0, "stderr: {stderr}");
    assert!(stdout.contains("fig1:"), "{stdout}");
    for f in [
        "fig1-histograms.svg",
        "fig1-histograms.png",
        "fig1-histograms.csv",
        "fig1-variance.svg",
        "fig1-variance.png",
        "fig1-variance.csv",
        "REPORT.md",
        "summary.json",
    ] {
        let p = s.0.join(f);
        assert!(
            p.metadata().map(|m| m.len() > 0).unwrap_or(false),
            "{f} missing or empty"
        );
    }
    let report = std::fs::read_to_string(s.0.join("REPORT.md")).unwrap();
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.0.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["size"], "tiny");
    let figs = summary["figures"].as_array().unwrap();
    assert_eq!(figs.len(), 1);
    let checks = figs[0]["checks"].as_array().unwrap();
    assert!(checks.len() >= 5);
    let mut counted = 0;
    for c in checks {
        let (id, verdict) = (c["id"].as_str().unwrap(), c["verdict"].as_str().unwrap());
        assert!(
            ["PASS", "FAIL", "INCONCLUSIVE", "INFO"].contains(&verdict),
            "{verdict}"
        );
        let line = format!("**{verdict}** `{id}`");
        assert!(report.contains(&line), "REPORT.md lacks {line}");
        counted += 1;
    }
    let v = &summary["verdicts"];
    let total: u64 = ["pass", "fail", "inconclusive", "info"]
        .iter()
        .map(|k| v[k].as_u64().unwrap())
        .sum();
    assert_eq!(total, counted);
    // A claim check: its verdict follows from the numbers it reports (the rule of
    // lpmc::reproduce::verdict with z = 2).
    let le = checks
        .iter()
        .find(|c| c["id"] == "vc_le_naive.sgld.gaussian")
        .unwrap();
    let n = &le["numbers"];
    let (d, s2) = (n["diff"].as_f64().unwrap(), n["diff_se"].as_f64().unwrap());
    let want = if d > 2.0 * s2 {
        "PASS"
    } else if d < -2.0 * s2 {
        "FAIL"
    } else {
        "INCONCLUSIVE"
    };
    assert_eq!(le["verdict"], want);
    assert!(report.contains("![fig1-histograms](fig1-histograms.svg)"));
}

/// An unknown figure name, and zero threads, print one `error:` line, exit 2 and write
/// nothing.
#[test]
fn bad_input_is_one_error_line_and_exit_2() {
    let s = Scratch::new("bad");
    let out = s.0.to_str().unwrap();
    for args in [
        vec!["reproduce", "fig9", "--out", out],
        vec![
            "reproduce",
            "fig1",
            "--tiny",
            "--threads",
            "0",
            "--out",
            out,
        ],
    ] {
        let (code, stdout, stderr) = lpmc(&args);
        assert_eq!(code, 2, "{args:?}");
        assert!(stdout.is_empty());
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(!s.0.exists(), "{args:?} wrote {}", s.0.display());
    }
    let (_, _, stderr) = lpmc(&["reproduce", "fig9", "--out", out]);
    assert!(
        stderr.contains("fig9") && stderr.contains("fig1"),
        "{stderr}"
    );
}

/// `--help` lists every figure with its description.
#[test]
fn help_lists_the_figures() {
    let (code, stdout, _) = lpmc(&["reproduce", "--help"]);
    assert_eq!(code, 0);
    for f in ["fig1", "fig2", "fig3", "fig4", "fig5", "fig6", "all"] {
        assert!(
            stdout.contains(&format!("  {f}  ")),
            "{f} not in help:\n{stdout}"
        );
    }
    assert!(stdout.contains("--full"));
}
