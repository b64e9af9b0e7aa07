//! A run killed with SIGKILL at any moment leaves no half-written result file, and running it
//! again succeeds with the same results.
//!
//! Every output is written by a temporary file and a rename, `result.json` (`REPORT.md` for
//! `lpmc reproduce`) last, and an earlier run's `result.json` is removed before a new run
//! writes anything: so after a kill each visible file is complete, and a `result.json` is
//! there only if the run that wrote it finished — then it describes the other files.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn lpmc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lpmc"))
}

/// A run of about a second: 1-D SGLD on the integer datapath with many chains, and 100000
/// sample rows so that writing `samples.csv` and the histogram takes a while too.
const CONFIG: &str = r#"{"target": {"gaussian": {"mean": [0.0], "var": [1.0]}},
 "sampler": {"sgld": {"variant": "lp-l", "eta": 0.05}}, "format": {"wl": 10, "fl": 6},
 "datapath": "integer", "noise_gen": "clt:4:8", "rounding": "sr:8",
 "chains": 20000, "steps": 1500, "burn_in": 500, "thin": 5, "seed": 3}"#;

/// Every visible file in `dir` is complete for its kind: JSON parses, CSV and SVG end their
/// last line, a PNG ends with its IEND chunk; `result.json`, when present, counts the rows of
/// `samples.csv`. Returns whether `result.json` is there.
fn check_complete(dir: &Path) -> bool {
    let mut finished = false;
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue; // a temporary file of the killed process, never a result
        }
        let bytes = std::fs::read(e.path()).unwrap();
        match name.rsplit('.').next().unwrap() {
            "json" => {
                let v: serde_json::Value = serde_json::from_slice(&bytes)
                    .unwrap_or_else(|err| panic!("{name} is not complete JSON: {err}"));
                if name == "result.json" {
                    finished = true;
                    let rows = v["sample_rows"].as_u64().unwrap() as usize;
                    let csv = std::fs::read_to_string(dir.join("samples.csv")).unwrap();
                    assert_eq!(csv.lines().count(), rows + 1, "samples.csv vs result.json");
                }
            }
            "csv" | "svg" | "md" => assert!(bytes.ends_with(b"\n"), "{name} is cut short"),
            "png" => assert!(
                bytes.ends_with(&[0xAE, 0x42, 0x60, 0x82]),
                "{name} has no IEND"
            ),
            _ => {}
        }
    }
    finished
}

/// Starts `args`, kills it after `after`, and waits for it; true when it had already ended.
fn kill_after(args: &[&str], after: Duration) -> bool {
    let mut child = lpmc()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while t.elapsed() < after {
        if child.try_wait().unwrap().is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    false
}

fn result_without_timing(dir: &Path) -> serde_json::Value {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("result.json")).unwrap()).unwrap();
    let m = v["metrics"].as_object_mut().unwrap();
    m.remove("wall_s");
    m.remove("steps_per_s");
    // The peak resident memory is a measurement of the process, like the timings.
    v["memory"].as_object_mut().unwrap().remove("peak_resident");
    v
}

/// `lpmc run` killed at eight moments spread over its run (chains, scoring, writing): after
/// each kill the directory holds only complete files, and no `result.json` unless a run
/// finished; the last rerun finishes with the result of an undisturbed run.
#[test]
fn killed_run_leaves_no_half_written_result() {
    let dir = std::env::temp_dir().join(format!("lpmc-killed-run-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("c.json");
    std::fs::write(&cfg, CONFIG).unwrap();
    let out = dir.join("out");
    let args = [
        "run",
        cfg.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--threads",
        "2",
    ];
    let t = Instant::now();
    assert!(lpmc().args(args).output().unwrap().status.success());
    let full = t.elapsed();
    let reference = result_without_timing(&out);
    for k in 1..=8 {
        let ended = kill_after(&args, full * k / 8);
        let finished = check_complete(&out);
        // A run killed in its first half (the chains) leaves no result.json: the earlier
        // run's was removed before this one started; one that ended leaves a complete one.
        if ended {
            assert!(
                finished,
                "kill {k}/8: the run ended but left no result.json"
            );
        } else if k <= 4 {
            assert!(!finished, "kill {k}/8: a result.json survived a killed run");
        }
    }
    assert!(lpmc().args(args).output().unwrap().status.success());
    assert!(check_complete(&out));
    assert_eq!(result_without_timing(&out), reference);
    let stale: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(
        stale.is_empty(),
        "temporary files left after a successful rerun: {stale:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `lpmc reproduce` (the tiny set) killed at five moments: complete files only, and no
/// `REPORT.md` unless the run finished; a rerun succeeds.
#[test]
fn killed_reproduce_leaves_no_half_written_report() {
    let dir = std::env::temp_dir().join(format!("lpmc-killed-repro-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let args = [
        "reproduce",
        "fig1",
        "--tiny",
        "--out",
        dir.to_str().unwrap(),
        "--threads",
        "2",
    ];
    let t = Instant::now();
    assert!(lpmc().args(args).output().unwrap().status.success());
    let full = t.elapsed();
    for k in 1..=5 {
        let ended = kill_after(&args, full * k / 5);
        check_complete(&dir);
        if !ended {
            assert!(
                !dir.join("REPORT.md").exists(),
                "kill {k}/5 left a REPORT.md"
            );
        }
    }
    assert!(lpmc().args(args).output().unwrap().status.success());
    check_complete(&dir);
    assert!(dir.join("REPORT.md").exists() && dir.join("summary.json").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
