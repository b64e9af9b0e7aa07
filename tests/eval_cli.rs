//! `lpmc eval` end to end: good input prints one JSON object; every kind of bad input prints
//! one `error:` line and exits with code 2.

use std::path::PathBuf;
use std::process::Command;

/// A scratch directory per test, removed when the test ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("lpmc-eval-cli-{}-{test}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn eval(samples: &PathBuf, target: &str, extra: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lpmc"))
        .arg("eval")
        .arg("--samples")
        .arg(samples)
        .arg("--target")
        .arg(target)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

const GAUSS1: &str = r#"{"gaussian": {"mean": [0.0], "var": [1.0]}}"#;

fn assert_bad(samples: &PathBuf, target: &str, what: &str) {
    let (code, out, err) = eval(samples, target, &[]);
    assert_eq!(code, 2, "{what}: exit code; stderr {err}");
    assert!(out.is_empty(), "{what}: stdout not empty");
    assert_eq!(err.lines().count(), 1, "{what}: {err}");
    assert!(err.starts_with("error: "), "{what}: {err}");
}

#[test]
fn one_dimensional_with_chains() {
    let dir = Scratch::new("chains");
    let tmp = |n: &str, t: &str| dir.file(n, t);
    // lpmc's own samples.csv form: a chain column, then x0. Symmetric points around 0.
    let mut text = String::from("chain,x0\n");
    for c in 0..4 {
        for i in 0..50 {
            text.push_str(&format!(
                "{c},{}\n",
                (i as f64 - 24.5) / 10.0 + c as f64 * 0.01
            ));
        }
    }
    let p = tmp("chains.csv", &text);
    let (code, out, err) = eval(&p, GAUSS1, &["--seed", "3", "--bootstrap", "50"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["n"], 200);
    assert_eq!(v["d"], 1);
    let w2 = v["w2"].as_f64().unwrap();
    let w1 = v["w1"].as_f64().unwrap();
    assert!(w2 > 0.0 && w1 <= w2);
    assert!(v["bures_w2"].as_f64().unwrap() >= 0.0);
    assert!(v["l2_density"].as_f64().unwrap() > 0.0);
    assert!(v["sliced_w2"].is_null());
    assert_eq!(v["interval"]["groups_from"], "chains");
    assert_eq!(v["interval"]["groups"], 4);
    // Same seed, same output.
    let (_, again, _) = eval(&p, GAUSS1, &["--seed", "3", "--bootstrap", "50"]);
    assert_eq!(out, again);
}

#[test]
fn two_dimensional_toml_target_and_headerless_csv() {
    let dir = Scratch::new("toml");
    let tmp = |n: &str, t: &str| dir.file(n, t);
    let text: String = (0..100)
        .map(|i| {
            format!(
                "{},{}\n",
                (i as f64 / 10.0).sin(),
                (i as f64 / 7.0).cos() + 1.0
            )
        })
        .collect();
    let p = tmp("plain2.csv", &text);
    let t = tmp(
        "target.toml",
        "[gaussian]\nmean = [0.0, 1.0]\ncov = [[1.0, 0.2], [0.2, 0.5]]\n",
    );
    let (code, out, err) = eval(&p, t.to_str().unwrap(), &["--slices", "16"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["d"], 2);
    assert!(v["w2"].is_null());
    assert!(v["sliced_w2"].as_f64().unwrap() > 0.0);
    assert_eq!(v["slices"], 16);
    assert_eq!(v["w2_marginals"].as_array().unwrap().len(), 2);
    // The paper mixture by name, on a 1-D file.
    let q = tmp("one.csv", "x\n0.5\n-0.25\n1.0\n");
    let (code, out, err) = eval(&q, "paper-mixture", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"w2\""));
}

#[test]
fn bad_input_exits_2_with_one_line() {
    let dir = Scratch::new("bad");
    let tmp = |n: &str, t: &str| dir.file(n, t);
    let good = tmp("good.csv", "x0\n0.1\n0.2\n");
    assert_bad(&tmp("empty.csv", ""), GAUSS1, "empty file");
    assert_bad(&tmp("header.csv", "x0\n"), GAUSS1, "header only");
    assert_bad(&tmp("nan.csv", "x0\n0.1\nNaN\n"), GAUSS1, "NaN");
    assert_bad(&tmp("inf.csv", "x0\n0.1\ninf\n"), GAUSS1, "inf");
    assert_bad(&tmp("ragged.csv", "1,2\n3\n"), GAUSS1, "ragged");
    assert_bad(&tmp("text.csv", "x0\n0.1\nabc\n"), GAUSS1, "not a number");
    assert_bad(
        &tmp("two.csv", "1,2\n3,4\n"),
        GAUSS1,
        "columns vs dimension",
    );
    assert_bad(
        &good,
        r#"{"gaussian": {"mean": [0.0], "var": [0.0]}}"#,
        "zero variance",
    );
    assert_bad(
        &good,
        r#"{"gaussian": {"mean": [0.0], "var": [-2.0]}}"#,
        "negative variance",
    );
    assert_bad(
        &good,
        r#"{"mixture": {"weights": [0.5, 0.6], "means": [[0.0], [1.0]], "vars": [[1.0], [1.0]]}}"#,
        "weights not summing to 1",
    );
    assert_bad(&good, r#"{"gaussian": {"mean": [0.0]"#, "malformed JSON");
    assert_bad(&good, "no/such/target.json", "missing target file");
    assert_bad(
        &PathBuf::from("/no/such/samples.csv"),
        GAUSS1,
        "missing samples",
    );
    let (code, _, err) = eval(&good, GAUSS1, &["--slices", "0"]);
    assert_eq!(code, 2, "{err}");
    let two = tmp("two-ref.csv", "1,2\n3,4\n");
    let (code, _, err) = eval(&good, GAUSS1, &["--reference", two.to_str().unwrap()]);
    assert_eq!(code, 2, "reference with the wrong width: {err}");
}

#[test]
fn reference_sample() {
    let dir = Scratch::new("reference");
    let tmp = |n: &str, t: &str| dir.file(n, t);
    // scipy.stats.wasserstein_distance([0, 1, 3], [5, 6, 8]) = 5.0 (shift by 5).
    let s = tmp("s.csv", "x0\n0\n1\n3\n");
    let r = tmp("r.csv", "5\n6\n8\n");
    let (code, out, err) = eval(&s, GAUSS1, &["--reference", r.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["reference"]["w1_scipy"], 5.0);
    assert_eq!(v["reference"]["w2"], 5.0);
    assert_eq!(v["reference"]["n"], 3);
}
