//! `lpmc bench --quick --json`: the report's structure, and every rate positive and finite
//! (no timing assertions).

use std::process::Command;

#[test]
fn bench_quick_json() {
    let out = Command::new(env!("CARGO_BIN_EXE_lpmc"))
        .args(["bench", "--quick", "--json", "--threads", "2"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["quick"], true);
    assert!(r["note"].as_str().unwrap().contains("--quick"));
    let rows = r["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 7);
    let pos = |v: &serde_json::Value| v.as_f64().is_some_and(|x| x.is_finite() && x > 0.0);
    for row in rows {
        for key in ["kernel", "formats", "rounding", "platform", "unit", "size"] {
            assert!(row[key].is_string(), "{key}: {row}");
        }
        assert!(pos(&row["per_core"]), "{row}");
        assert!(pos(&row["f32_per_core"]), "{row}");
        assert!(pos(&row["ratio_to_f32"]), "{row}");
        if cfg!(target_os = "linux") {
            assert!(pos(&row["peak_rss_bytes"]), "{row}");
        }
    }
    // Rows: requantize, the fused lp-l and vc-l kernels (SGLD, SGHMC), [L], many chains.
    for (i, name) in [(3, "sgld-vc-l"), (4, "sghmc-vc-l")] {
        assert!(
            rows[i]["kernel"].as_str().unwrap().starts_with(name),
            "{}",
            rows[i]
        );
    }
    // Multi-chain rows report the all-threads rate and the scaling, on the threads asked for.
    for i in [1, 2, 3, 4, 6] {
        assert!(pos(&rows[i]["all_threads"]) && pos(&rows[i]["scaling"]));
        assert_eq!(rows[i]["threads"], 2, "{}", rows[i]);
    }
    // The end-to-end rows (1-D chains) run the lockstep kernels and report their wall time.
    for i in [5, 6] {
        assert_eq!(rows[i]["platform"], "lockstep", "{}", rows[i]);
        assert!(pos(&rows[i]["seconds"]));
    }
}

#[test]
fn bench_rejects_zero_threads() {
    let out = Command::new(env!("CARGO_BIN_EXE_lpmc"))
        .args(["bench", "--quick", "--threads", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error:") && err.contains("--threads"),
        "{err}"
    );
}
