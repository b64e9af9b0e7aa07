//! `lpmc sweep` and `lpmc merge` end to end: bad grids fail before anything is written;
//! shards merge to the unsharded result; a sweep killed with SIGKILL and resumed equals an
//! uninterrupted one; shards of different grids do not merge.
//!
//! Results are compared on every column except the two timing columns (`wall_s`,
//! `steps_per_s`, always the last two of `points.csv`), which are the only ones allowed to
//! differ between runs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A scratch directory per test, removed when the test ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("lpmc-sweep-cli-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn lpmc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lpmc"))
        .args(args)
        .output()
        .unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn assert_ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn assert_bad(o: &Output, what: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{what}: {err}");
    assert_eq!(err.lines().count(), 1, "{what}: {err}");
    assert!(err.starts_with("error: "), "{what}: {err}");
}

/// `points.csv` without the two timing columns (the last two fields of every line; they are
/// plain numbers, so splitting from the right is safe even with quoted keys).
fn csv_without_timing(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("points.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(header.ends_with(",wall_s,steps_per_s"), "{header}");
    text.lines()
        .map(|l| l.rsplitn(3, ',').nth(2).unwrap().to_string() + "\n")
        .collect()
}

/// `points.jsonl` as values without the timing keys.
fn jsonl_without_timing(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("points.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            let m = v.as_object_mut().unwrap();
            assert!(m.remove("wall_s").is_some() && m.remove("steps_per_s").is_some());
            v
        })
        .collect()
}

/// A small grid: 2 samplers × 3 FL = 6 points of a few thousand chain-steps each.
const SMALL: &str = r#"{
  "base": {"target": {"gaussian": {"mean": [0.5], "var": [1.0]}},
           "sampler": {"sgld": {"eta": 0.05}}, "format": {"wl": 8, "fl": 3},
           "rounding": "sr:6", "chains": 6, "steps": 400, "burn_in": 100, "thin": 2},
  "vary": {"format.fl": [2, 3, 4],
           "sampler": [{"sgld": {"variant": "lp-l", "eta": 0.05}},
                       {"sghmc": {"variant": "lp-l", "eta": 0.1, "u": 1.0, "gamma": 2.0}}]},
  "seed": 11
}"#;

#[test]
fn bad_grids_fail_before_any_output() {
    let dir = Scratch::new("bad");
    let out = dir.path("out");
    let cases: &[(&str, &str, &str)] = &[
        (
            "unknown field",
            "g1.json",
            r#"{"base": {"target": "paper-mixture", "sampler": {"sgld": {}}}, "vary": {"format.fll": [1, 2]}}"#,
        ),
        (
            "empty list",
            "g2.json",
            r#"{"base": {"target": "paper-mixture", "sampler": {"sgld": {}}}, "vary": {"format.fl": []}}"#,
        ),
        (
            "out of range in the last point",
            "g3.json",
            r#"{"base": {"target": "paper-mixture", "sampler": {"sgld": {}}, "chains": 2, "steps": 10, "burn_in": 1}, "vary": {"format.wl": [8, 80]}}"#,
        ),
        (
            "malformed JSON",
            "g4.json",
            r#"{"base": {"target": "paper-mixture""#,
        ),
        ("malformed TOML", "g5.toml", "base = { target = \n"),
        (
            "unknown grid key",
            "g6.json",
            r#"{"base": {"target": "paper-mixture", "sampler": {"sgld": {}}}, "seeds": 3}"#,
        ),
        (
            "bad base",
            "g7.json",
            r#"{"base": {"target": "paper-mixture", "sampler": {"sgld": {"eta": -1.0}}}}"#,
        ),
    ];
    for (what, name, text) in cases {
        let g = dir.file(name, text);
        assert_bad(&lpmc(&["sweep", s(&g), "--out", s(&out)]), what);
        assert!(!out.exists(), "{what}: wrote {}", out.display());
    }
    let g = dir.file("good.json", SMALL);
    for (what, extra) in [
        ("shard 0", ["--shard", "0/2"]),
        ("shard 3/2", ["--shard", "3/2"]),
        ("no threads", ["--threads", "0"]),
    ] {
        let mut args = vec!["sweep", s(&g), "--out", s(&out)];
        args.extend(extra);
        assert_bad(&lpmc(&args), what);
        assert!(!out.exists(), "{what}");
    }
    assert_bad(
        &lpmc(&["sweep", s(&dir.path("missing.json")), "--out", s(&out)]),
        "missing file",
    );
}

#[test]
fn shards_merge_to_the_unsharded_run() {
    let dir = Scratch::new("shards");
    let g = dir.file("g.json", SMALL);
    let (all, a, b, m) = (dir.path("all"), dir.path("a"), dir.path("b"), dir.path("m"));
    assert_ok(&lpmc(&["sweep", s(&g), "--out", s(&all), "--threads", "2"]));
    assert_ok(&lpmc(&[
        "sweep",
        s(&g),
        "--out",
        s(&a),
        "--shard",
        "1/2",
        "--threads",
        "1",
    ]));
    assert_ok(&lpmc(&[
        "sweep",
        s(&g),
        "--out",
        s(&b),
        "--shard",
        "2/2",
        "--threads",
        "3",
    ]));
    // Round-robin: shard 1/2 holds the even indices.
    let rows_a = csv_without_timing(&a);
    assert_eq!(rows_a.lines().count(), 1 + 3);
    assert!(rows_a.lines().skip(1).all(|l| {
        let i: usize = l.split(',').next().unwrap().parse().unwrap();
        i.is_multiple_of(2)
    }));
    let o = lpmc(&["merge", s(&a), s(&b), "--out", s(&m)]);
    assert_ok(&o);
    let unsharded = csv_without_timing(&all);
    assert_eq!(unsharded.lines().count(), 1 + 6);
    assert_eq!(csv_without_timing(&m), unsharded);
    assert_eq!(jsonl_without_timing(&m), jsonl_without_timing(&all));
    // The Pareto front depends only on error and cost: byte-equal.
    let front = |d: &Path| std::fs::read_to_string(d.join("pareto.csv")).unwrap();
    assert_eq!(
        front(&m).lines().count(),
        front(&all).lines().count(),
        "{}",
        front(&m)
    );
    for (x, y) in front(&m).lines().zip(front(&all).lines()).skip(1) {
        assert_eq!(x.rsplitn(3, ',').nth(2), y.rsplitn(3, ',').nth(2));
    }
    for f in [
        "error_vs_bits.svg",
        "error_vs_bits.png",
        "pareto.svg",
        "pareto.png",
    ] {
        assert!(m.join(f).exists() && all.join(f).exists(), "{f}");
    }
    // Each point file is valid JSON and no temporary file is left.
    for e in std::fs::read_dir(m.join("points")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        assert!(name.starts_with("pt-") && name.ends_with(".json"), "{name}");
    }
}

#[test]
fn merge_refuses_shards_of_different_grids() {
    let dir = Scratch::new("merge-bad");
    let g = dir.file("g.json", SMALL);
    let (a, b, m) = (dir.path("a"), dir.path("b"), dir.path("m"));
    assert_ok(&lpmc(&["sweep", s(&g), "--out", s(&a), "--shard", "1/3"]));
    // Same file, another seed: another grid.
    assert_ok(&lpmc(&[
        "sweep",
        s(&g),
        "--out",
        s(&b),
        "--shard",
        "2/3",
        "--seed",
        "12",
    ]));
    let o = lpmc(&["merge", s(&a), s(&b), "--out", s(&m)]);
    assert_bad(&o, "different grids");
    assert!(String::from_utf8_lossy(&o.stderr).contains("different grids"));
    assert!(!m.exists());
    // Not a sweep directory.
    assert_bad(
        &lpmc(&["merge", s(&a), s(&dir.path("nothing")), "--out", s(&m)]),
        "no grid.json",
    );
    // Resuming a directory with another grid, or rerunning without --resume, is refused.
    assert_bad(
        &lpmc(&["sweep", s(&g), "--out", s(&a), "--resume", "--seed", "12"]),
        "resume another grid",
    );
    assert_bad(&lpmc(&["sweep", s(&g), "--out", s(&a)]), "no --resume");
}

/// A grid of 12 points of ~2·10⁵ chain-steps each, long enough to be killed in the middle.
const SLOW: &str = r#"{
  "base": {"target": "paper-mixture", "sampler": {"sghmc": {"eta": 0.1, "u": 1.0, "gamma": 3.0}},
           "format": {"wl": 8, "fl": 4}, "chains": 40, "steps": 5000, "burn_in": 1000, "thin": 4},
  "vary": {"rounding": ["sr:2", "sr:4", "sr:6", "sr:8", "sr", "nearest-even"],
           "sampler.sghmc.variant": ["lp-l", "vc-l"]},
  "seed": 5
}"#;

#[test]
fn killed_then_resumed_equals_uninterrupted() {
    let dir = Scratch::new("kill");
    let g = dir.file("g.json", SLOW);
    let (full, cut) = (dir.path("full"), dir.path("cut"));
    assert_ok(&lpmc(&[
        "sweep",
        s(&g),
        "--out",
        s(&full),
        "--threads",
        "2",
    ]));

    let mut child = Command::new(env!("CARGO_BIN_EXE_lpmc"))
        .args(["sweep", s(&g), "--out", s(&cut), "--threads", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let count = |d: &Path| {
        std::fs::read_dir(d.join("points"))
            .map(|r| {
                r.filter(|e| {
                    let e = e.as_ref().unwrap();
                    e.file_name().to_string_lossy().starts_with("pt-")
                })
                .count()
            })
            .unwrap_or(0)
    };
    let t0 = Instant::now();
    while count(&cut) < 2 && t0.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    let finished = count(&cut);
    assert!(finished >= 2, "no point finished before the kill");
    assert!(
        finished < 12,
        "the sweep finished before it could be killed"
    );
    // Every point file that exists is whole.
    for e in std::fs::read_dir(cut.join("points")).unwrap() {
        let p = e.unwrap().path();
        if p.file_name().unwrap().to_string_lossy().starts_with("pt-") {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            assert!(v["metrics"]["error"].is_number());
        }
    }
    let o = lpmc(&[
        "sweep",
        s(&g),
        "--out",
        s(&cut),
        "--resume",
        "--threads",
        "2",
    ]);
    assert_ok(&o);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains(&format!("({} run, {finished} already done)", 12 - finished)),
        "{stdout}"
    );
    assert_eq!(csv_without_timing(&cut), csv_without_timing(&full));
    assert_eq!(jsonl_without_timing(&cut), jsonl_without_timing(&full));
    // Resuming a finished sweep runs nothing and changes nothing.
    let o = lpmc(&["sweep", s(&g), "--out", s(&cut), "--resume"]);
    assert_ok(&o);
    assert!(String::from_utf8_lossy(&o.stdout).contains("(0 run, 12 already done)"));
    assert_eq!(csv_without_timing(&cut), csv_without_timing(&full));
}
