//! The bad-input corpus (`tests/corpus/`, one case per line of `tests/corpus/EXPECT`) through
//! the binary: every case either exits 2 with exactly one `error:` line naming the field and
//! writes nothing, or runs and reports the expected diagnostic; none panics or aborts.

use std::path::{Path, PathBuf};
use std::process::Command;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

struct Case {
    file: String,
    command: String,
    expect: String,
}

fn cases() -> Vec<Case> {
    std::fs::read_to_string(corpus().join("EXPECT"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut it = l.splitn(3, ' ');
            Case {
                file: it.next().unwrap().into(),
                command: it.next().unwrap().into(),
                expect: it.next().unwrap().into(),
            }
        })
        .collect()
}

/// Files under `dir`, recursively (empty when it does not exist).
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Runs one case; `Err` says what went wrong.
fn check(case: &Case, tmp: &Path) -> Result<(), String> {
    let out = tmp.join(&case.file);
    let o = Command::new(env!("CARGO_BIN_EXE_lpmc"))
        .arg(&case.command)
        .arg(corpus().join(&case.file))
        .args(["--out", out.to_str().unwrap(), "--threads", "1"])
        .output()
        .map_err(|e| e.to_string())?;
    let stderr = String::from_utf8_lossy(&o.stderr);
    let code = o.status.code();
    if stderr.contains("panicked") || stderr.contains("backtrace") || code.is_none() {
        return Err(format!("crashed ({:?}): {stderr}", o.status));
    }
    if let Some(text) = case.expect.strip_prefix("exit2:") {
        if code != Some(2) {
            return Err(format!("exit {code:?}, not 2; stderr: {stderr}"));
        }
        let lines: Vec<&str> = stderr.lines().collect();
        if lines.len() != 1 || !lines[0].starts_with("error: ") {
            return Err(format!("not one `error:` line: {stderr:?}"));
        }
        if !lines[0].contains(text) {
            return Err(format!("the error does not name `{text}`: {}", lines[0]));
        }
        let written = files(&out);
        if !written.is_empty() {
            return Err(format!("wrote {written:?} despite the error"));
        }
        Ok(())
    } else if let Some(code_name) = case.expect.strip_prefix("warn:") {
        if code != Some(0) {
            return Err(format!("exit {code:?}, not 0; stderr: {stderr}"));
        }
        if !stderr
            .lines()
            .any(|l| l.starts_with("warning: ") && l.contains(&format!("[{code_name}]")))
        {
            return Err(format!(
                "no `warning: [{code_name}]` line on stderr: {stderr}"
            ));
        }
        let recorded = if case.command == "run" {
            let r: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(out.join("result.json")).unwrap())
                    .map_err(|e| e.to_string())?;
            r["warnings"].as_array().into_iter().flatten().any(|w| {
                w["code"] == code_name && w["message"].as_str().is_some_and(|m| !m.is_empty())
            })
        } else {
            std::fs::read_to_string(out.join("points.csv"))
                .map_err(|e| e.to_string())?
                .lines()
                .skip(1)
                .all(|l| l.contains(code_name))
        };
        if !recorded {
            return Err(format!("`{code_name}` is not recorded in the outputs"));
        }
        Ok(())
    } else {
        Err(format!("bad expectation `{}`", case.expect))
    }
}

/// Every case of the corpus, two at a time (the cases are small runs of a few ms each).
#[test]
fn every_bad_input_gets_one_error_line_or_its_warning() {
    let cases = cases();
    assert!(cases.len() >= 40, "the corpus has {} cases", cases.len());
    let tmp = std::env::temp_dir().join(format!("lpmc-corpus-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let failures = std::sync::Mutex::new(Vec::new());
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(c) = cases.get(i) else { break };
                if let Err(e) = check(c, &tmp) {
                    failures
                        .lock()
                        .unwrap()
                        .push(format!("{} ({}): {e}", c.file, c.expect));
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    let _ = std::fs::remove_dir_all(&tmp);
}

/// Every corpus file is listed in EXPECT, and every listed file exists.
#[test]
fn the_corpus_and_its_expectations_agree() {
    let listed: std::collections::BTreeSet<String> = cases().into_iter().map(|c| c.file).collect();
    let present: std::collections::BTreeSet<String> = std::fs::read_dir(corpus())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "EXPECT")
        .collect();
    assert_eq!(listed, present);
}
