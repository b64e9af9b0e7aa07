//! `lpmc round` run as a binary: its JSON on good input, one `error:` line and exit 2 on bad.

use std::process::Command;

fn lpmc(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lpmc"))
        .args(args)
        .output()
        .expect("run lpmc")
}

fn json(args: &[&str]) -> serde_json::Value {
    let out = lpmc(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON object")
}

#[test]
fn hardware_sr_reports_theory_and_measurement() {
    let v = json(&[
        "round",
        "--wl",
        "8",
        "--fl",
        "4",
        "--rounding",
        "sr:6",
        "--value",
        "0.30",
        "--n",
        "200000",
        "--seed",
        "7",
    ]);
    assert_eq!(v["lo"], 0.25);
    assert_eq!(v["hi"], 0.3125);
    assert_eq!(v["lo_code"], 4);
    // f = 0.8 steps; sr:6 keeps ⌊0.8·64⌋ = 51 of 64.
    assert_eq!(v["p_up_theory"], 51.0 / 64.0);
    // 5σ of a Bernoulli mean over 2e5 draws: 5·√(0.2·0.8/2e5) ≈ 4.5e-3.
    let p = v["p_up"].as_f64().unwrap();
    assert!((p - 51.0 / 64.0).abs() < 4.5e-3, "{p}");
    for key in [
        "mean",
        "var",
        "mean_theory",
        "var_theory",
        "bias",
        "overflows",
    ] {
        assert!(v[key].is_number(), "{key}");
    }
    // The hardware unit's bias, theory: (51/64 − 0.8)·Δ.
    let bias = v["bias_theory"].as_f64().unwrap();
    assert!((bias - (51.0 / 64.0 - 0.8) / 16.0).abs() < 1e-12);
    // Same seed, same output; another seed, another measurement.
    let again = json(&[
        "round",
        "--wl",
        "8",
        "--fl",
        "4",
        "--rounding",
        "sr:6",
        "--value",
        "0.30",
        "--n",
        "200000",
        "--seed",
        "7",
    ]);
    assert_eq!(v, again);
}

#[test]
fn deterministic_modes_report_one_result() {
    let v = json(&[
        "round",
        "--wl",
        "8",
        "--fl",
        "4",
        "--rounding",
        "nearest-even",
        "--value",
        "0.30",
    ]);
    assert_eq!(v["n"], 1);
    assert_eq!(v["mean"], 0.3125);
    assert_eq!(v["var"], 0.0);
    let v = json(&[
        "round",
        "--wl",
        "8",
        "--fl",
        "4",
        "--rounding",
        "floor",
        "--value",
        "100",
        "--overflow",
        "wrap",
    ]);
    // 100·16 = 1600 ≡ 64 (mod 256).
    assert_eq!(v["mean"], 4.0);
    assert_eq!(v["overflows"], 1);
    let v = json(&[
        "round",
        "--wl",
        "16",
        "--fl",
        "8",
        "--rounding",
        "sr:4",
        "--value",
        "-1.001",
        "--n",
        "1000",
        "--source",
        "lfsr:16",
    ]);
    assert_eq!(v["source"], "lfsr:16");
    assert_eq!(v["n"], 1000);
}

#[test]
fn bad_input_is_one_error_line_and_exit_2() {
    let base = ["round", "--wl", "8", "--fl", "4", "--value", "0.3"];
    let cases: &[(&[&str], &str)] = &[
        (
            &["round", "--wl", "0", "--fl", "4", "--value", "1"],
            "2..=64",
        ),
        (
            &["round", "--wl", "99", "--fl", "4", "--value", "1"],
            "2..=64",
        ),
        (
            &["round", "--wl", "8", "--fl", "-1", "--value", "1"],
            "0..=62",
        ),
        (
            &["round", "--wl", "8", "--fl", "63", "--value", "1"],
            "0..=62",
        ),
        (
            &["round", "--wl", "8", "--fl", "4", "--value", "nan"],
            "finite",
        ),
        (
            &["round", "--wl", "8", "--fl", "4", "--value", "inf"],
            "finite",
        ),
        (
            &[
                "round", "--wl", "8", "--fl", "4", "--value", "1", "--n", "0",
            ],
            "at least 1",
        ),
        (&["round", "--wl", "8", "--fl", "4", "--value", "x"], "x"),
    ];
    let mut all: Vec<(Vec<&str>, &str)> = cases.iter().map(|(a, m)| (a.to_vec(), *m)).collect();
    for (extra, msg) in [
        (["--rounding", "sr:99"], "0..=32"),
        (["--rounding", "banana"], "banana"),
        (["--overflow", "clamp"], "clamp"),
        (["--source", "lfsr:13"], "13"),
    ] {
        let mut a = base.to_vec();
        a.extend(extra);
        all.push((a, msg));
    }
    for (args, msg) in all {
        let out = lpmc(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains(msg),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn help_lists_the_round_options() {
    let out = lpmc(&["round", "--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for opt in [
        "--wl",
        "--fl",
        "--rounding",
        "--value",
        "--n",
        "--seed",
        "--overflow",
        "--source",
    ] {
        assert!(text.contains(opt), "{opt}");
    }
}
