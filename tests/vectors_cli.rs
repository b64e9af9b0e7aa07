//! `lpmc vectors`: every kind's vectors against the library's own definitions (the scalar
//! rounding rule, `lpmc round`'s theory, the random streams, the noise generators), the file
//! formats, and bad input (one `error:` line, exit 2, no files).

use lpmc::experiment::vectors::{vectors, VectorKind};
use lpmc::format::Format;
use lpmc::noise::{IntNormal, NoiseGen};
use lpmc::round::{theory, Overflow, Rounding};
use lpmc::source::Source;
use lpmc::vectors::noise::NoiseSettings;
use lpmc::vectors::quantize::QuantizeSettings;
use lpmc::vectors::requantize::RequantizeSettings;
use lpmc::vectors::stream::StreamSettings;
use lpmc::vectors::xoshiro::stream_state;
use lpmc::vectors::VectorSet;
use lpmc_kernels::portable::round_code;
use lpmc_kernels::WordSource;
use num_bigint::BigInt;
use std::path::{Path, PathBuf};
use std::process::Command;

fn lpmc(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lpmc"))
        .args(args)
        .output()
        .expect("run lpmc")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lpmc-vectors-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn col(set: &VectorSet, name: &str) -> Vec<i128> {
    set.table
        .get(name)
        .unwrap_or_else(|| panic!("no column {name}"))
        .into_iter()
        .map(|v| i128::try_from(v.clone()).expect("fits i128"))
        .collect()
}

const MODES: [&str; 13] = [
    "nearest-even",
    "nearest-away",
    "floor",
    "toward-zero",
    "sr",
    "sr:0",
    "sr:1",
    "sr:3",
    "sr:8",
    "src:0",
    "src:2",
    "src:5",
    "src:8",
];

fn requantize(fi: (u32, u32), fo: (u32, u32), r: Rounding, ov: Overflow) -> VectorSet {
    lpmc::vectors::requantize::produce(&RequantizeSettings {
        input: Format::new(fi.0, fi.1).unwrap(),
        output: Format::new(fo.0, fo.1).unwrap().with_overflow(ov),
        rounding: r,
        n: Some(300),
        inputs: None,
        source: Source::Xoshiro,
        seed: 5,
        stream: 2,
    })
    .unwrap()
}

/// Every mode, both overflow rules, shifts below, at and above R and a left shift: each row
/// is the scalar rule of its `in` and `bits`, and agrees with `lpmc round`'s theory of the
/// value `in·2^−in.fl` (deterministic modes: the same code; stochastic modes: the fraction
/// of the 2^R values of `bits` that round up is `p_up_theory`, and `out` is `lo` or `hi`).
#[test]
fn requantize_rows_are_the_rule_and_agree_with_round() {
    for fmts in [
        ((16, 8), (8, 4)),
        ((12, 9), (6, 2)),
        ((8, 2), (12, 6)),
        ((10, 5), (5, 5)),
    ] {
        for mode in MODES {
            for ov in [Overflow::Saturate, Overflow::Wrap] {
                let r: Rounding = mode.parse().unwrap();
                let set = requantize(fmts.0, fmts.1, r, ov);
                let fi = Format::new(fmts.0 .0, fmts.0 .1).unwrap();
                let fo = Format::new(fmts.1 .0, fmts.1 .1).unwrap().with_overflow(ov);
                let shift = fi.fl() as i32 - fo.fl() as i32;
                let rb = r.bits_per_code(shift);
                let (ins, bits, outs, flags) = (
                    col(&set, "in"),
                    col(&set, "bits"),
                    col(&set, "out"),
                    col(&set, "overflow"),
                );
                assert!(ins.len() > 300);
                for i in 0..ins.len() {
                    let k = ins[i] as i64;
                    let (want, ev) = ov.apply(round_code(k, shift, r, bits[i] as u64), fo.wl());
                    assert_eq!((outs[i] as i64, flags[i] == 1), (want, ev), "{mode} {k}");
                    // lpmc round's closed form of the same value.
                    let t = theory(fi.value(k), fo, r);
                    let (lo, _) = ov.apply(t.lo_code, fo.wl());
                    let (hi, _) = ov.apply(t.hi_code, fo.wl());
                    assert!(outs[i] as i64 == lo || outs[i] as i64 == hi, "{mode} {k}");
                    if !r.is_stochastic() {
                        let want = if t.p_up == 1.0 { hi } else { lo };
                        assert_eq!(outs[i] as i64, want, "{mode} {k} vs lpmc round");
                    } else if rb <= 10 && shift > 0 {
                        let ups = (0..1u64 << rb)
                            .filter(|&u| round_code(k, shift, r, u) == t.lo_code + 1)
                            .count();
                        assert_eq!(ups as f64 / (1u64 << rb) as f64, t.p_up, "{mode} {k}");
                    }
                }
            }
        }
    }
}

/// The `bits` column is the packing rule applied to the stream's words.
#[test]
fn requantize_bits_follow_the_packing_rule() {
    let set = requantize((16, 8), (8, 4), "sr:6".parse().unwrap(), Overflow::Saturate);
    let bits = col(&set, "bits");
    let mut g = Source::Xoshiro.stream(5, 2).unwrap();
    let words: Vec<u64> = (0..bits.len().div_ceil(10))
        .map(|_| g.next_word())
        .collect();
    for (i, &b) in bits.iter().enumerate() {
        assert_eq!(
            b as u64,
            (words[i / 10] >> (6 * (i % 10))) & 63,
            "element {i}"
        );
    }
}

/// f64 input: every row is `round_f64` + the overflow rule of the IEEE bits; the edge
/// cases hold ties with their ±1-ulp neighbours, tiny values of both signs and ±∞.
#[test]
fn quantize_rows_are_the_rule() {
    for mode in MODES {
        let r: Rounding = mode.parse().unwrap();
        let f = Format::new(6, 3).unwrap().with_overflow(Overflow::Wrap);
        let set = lpmc::vectors::quantize::produce(&QuantizeSettings {
            output: f,
            rounding: r,
            n: Some(100),
            inputs: None,
            source: Source::Xoshiro,
            seed: 1,
            stream: 0,
        })
        .unwrap();
        let (ins, bits, outs) = (col(&set, "in"), col(&set, "bits"), col(&set, "out"));
        let xs: Vec<f64> = ins.iter().map(|&b| f64::from_bits(b as u64)).collect();
        assert!(xs.contains(&f64::INFINITY) && xs.iter().any(|x| x.is_nan()));
        assert!(xs.contains(&0.0625) && xs.contains(&0.0625f64.next_up()));
        for i in 0..xs.len() {
            if xs[i].is_finite() {
                let q = lpmc_kernels::portable::round_f64(xs[i], 3, r, bits[i] as u64);
                assert_eq!(
                    outs[i] as i64,
                    f.overflow().apply(q, 6).0,
                    "{mode} {}",
                    xs[i]
                );
            }
        }
    }
}

#[test]
fn stream_vectors_are_the_streams() {
    let s = StreamSettings {
        source: "lfsr:16".parse().unwrap(),
        seed: 3,
        stream: 4,
        n: 50,
    };
    let set = lpmc::vectors::stream::lfsr(&s).unwrap();
    let mut g = s.source.stream(3, 4).unwrap();
    for w in col(&set, "word") {
        assert_eq!(w as u64, g.next_word());
    }
    let st = col(&set, "state");
    assert!(st.iter().all(|&v| v > 0 && v < 1 << 16));
    let set = lpmc::vectors::stream::xoshiro(&StreamSettings { n: 3, ..s }).unwrap();
    let want = stream_state(3, 4);
    for (i, name) in ["s0", "s1", "s2", "s3"].iter().enumerate() {
        assert_eq!(col(&set, name)[0] as u64, want[i]);
    }
}

/// The noise vectors are what the kernels' noise stage gives on the same stream
/// (`vectors::noise::generate`), and each CLT row's sum is the centred sum of its uniforms.
#[test]
fn noise_vectors_are_the_generator() {
    for (gen, wl, fl, ov) in [
        ("clt:4:8", 8, 5, Overflow::Saturate),
        ("clt:3:5", 5, 1, Overflow::Wrap),
        ("table:6", 8, 5, Overflow::Saturate),
    ] {
        let g: NoiseGen = gen.parse().unwrap();
        let f = Format::new(wl, fl).unwrap().with_overflow(ov);
        let set = lpmc::vectors::noise::produce(&NoiseSettings {
            gen: g,
            format: f,
            source: Source::Xoshiro,
            seed: 8,
            stream: 1,
            n: 200,
        })
        .unwrap();
        let mut want = vec![0i64; 200];
        lpmc::vectors::noise::generate(
            &IntNormal::new(g, f),
            &mut Source::Xoshiro.stream(8, 1).unwrap(),
            &mut want,
        );
        let got: Vec<i64> = col(&set, "noise").iter().map(|&v| v as i64).collect();
        assert_eq!(got, want, "{gen}");
        if let NoiseGen::Clt { k, bits } = g {
            let uni = set.table.get("uniforms").unwrap();
            for (u, s) in uni.iter().zip(col(&set, "sum")) {
                let mask = BigInt::from((1u64 << bits) - 1);
                let total: i128 = (0..k)
                    .map(|m| i128::try_from((*u >> (m * bits) as usize) & &mask).unwrap())
                    .sum();
                assert_eq!(s, 2 * total - k as i128 * ((1i128 << bits) - 1));
            }
        }
    }
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

/// The binary writes the CSV, one hex file per column (the CSV's values at the column's
/// width, two's complement) and vectors.json with the columns, rules and RTL.
#[test]
fn cli_writes_csv_hex_and_json() {
    let d = tmp("files");
    let out = lpmc(&[
        "vectors",
        "requantize",
        "--in-wl",
        "12",
        "--in-fl",
        "6",
        "--wl",
        "6",
        "--fl",
        "2",
        "--rounding",
        "src:3",
        "--overflow",
        "wrap",
        "--n",
        "50",
        "--out",
        d.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = read(&d, "vectors.csv");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("in,bits,out,overflow"));
    let rows: Vec<Vec<i64>> = lines
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    let meta: serde_json::Value = serde_json::from_str(&read(&d, "vectors.json")).unwrap();
    assert_eq!(meta["vectors"], rows.len());
    assert_eq!(meta["parameters"]["rounding"], "src:3");
    assert_eq!(meta["rtl"]["parameters"]["Mode"], 6);
    assert_eq!(meta["rtl"]["parameters"]["N"], rows.len());
    assert!(meta["rules"]["rounding"]
        .as_str()
        .unwrap()
        .contains("ties to even"));
    for (j, c) in meta["columns"].as_array().unwrap().iter().enumerate() {
        let w = c["width"].as_u64().unwrap().max(1) as u32;
        let hex = read(&d, c["hex"].as_str().unwrap());
        let hex: Vec<&str> = hex.lines().collect();
        assert_eq!(hex.len(), rows.len());
        for (h, r) in hex.iter().zip(&rows) {
            assert_eq!(h.len(), w.div_ceil(4) as usize);
            let want = (r[j] as u64) & (u64::MAX >> (64 - w));
            assert_eq!(u64::from_str_radix(h, 16).unwrap(), want);
        }
    }
    // --inputs replays the engineer's own codes, in order.
    let f = d.join("codes.txt");
    std::fs::write(&f, "# corner cases\n-2048\n2047\n  8\n").unwrap();
    let d2 = d.join("own");
    let out = lpmc(&[
        "vectors",
        "requantize",
        "--in-wl",
        "12",
        "--in-fl",
        "6",
        "--wl",
        "6",
        "--fl",
        "2",
        "--inputs",
        f.to_str().unwrap(),
        "--out",
        d2.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = read(&d2, "vectors.csv");
    let ins: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(ins, ["-2048", "2047", "8"]);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn library_writes_every_kind() {
    let d = tmp("kinds");
    let k = VectorKind::Noise(NoiseSettings {
        gen: "table:5".parse().unwrap(),
        format: Format::new(8, 5).unwrap(),
        source: Source::Xoshiro,
        seed: 0,
        stream: 0,
        n: 10,
    });
    let w = vectors(&k, &d).unwrap();
    assert_eq!(w.vectors, 10);
    assert_eq!(w.files.last().map(String::as_str), Some("vectors.json"));
    assert_eq!(read(&d, "table.hex").lines().count(), 32);
    std::fs::remove_dir_all(&d).unwrap();
}

/// Bad input: one `error:` line naming the field, exit 2, and no directory written.
#[test]
fn bad_input_is_one_error_line_and_no_files() {
    let d = tmp("bad");
    let codes = d.with_extension("codes");
    std::fs::write(&codes, "1\nbanana\n").unwrap();
    let big = d.with_extension("big");
    std::fs::write(&big, "40000\n").unwrap();
    let dir = d.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["requantize", "--wl", "0"], "word length"),
        (vec!["requantize", "--in-fl", "63"], "fraction length"),
        (vec!["requantize", "--rounding", "sr:99"], "0..=32"),
        (vec!["requantize", "--overflow", "clamp"], "saturate"),
        (vec!["requantize", "--source", "lfsr:13"], "taps"),
        (
            vec!["requantize", "--inputs", codes.to_str().unwrap()],
            "line 2",
        ),
        (
            vec!["requantize", "--inputs", big.to_str().unwrap()],
            "-32768..=32767",
        ),
        (
            vec!["requantize", "--inputs", big.to_str().unwrap(), "--n", "3"],
            "exclude",
        ),
        (vec!["requantize", "--n", "99999999"], "--n"),
        (vec!["quantize", "--wl", "65"], "word length"),
        (vec!["lfsr", "--source", "xoshiro"], "lfsr"),
        (vec!["lfsr", "--n", "0"], "--n"),
        (vec!["xoshiro", "--n", "0"], "--n"),
        (vec!["noise", "--gen", "box-muller"], "clt:K:B"),
        (vec!["noise", "--gen", "clt:0:8"], "clt:K:B"),
        (vec!["noise", "--wl", "40"], "2..=32"),
        (vec!["noise", "--wrong"], "--wrong"),
    ];
    for (args, needle) in cases {
        let mut a = vec!["vectors"];
        a.extend(&args);
        a.extend(["--out", dir]);
        let out = lpmc(&a);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("error:") && err.contains(needle),
            "{args:?}: {err}"
        );
        assert!(!d.exists(), "{args:?} wrote {}", d.display());
    }
    let _ = std::fs::remove_file(codes);
    let _ = std::fs::remove_file(big);
}

/// Configs of the step kinds beyond `hw/configs/`: `lp-f` (state in the accumulator), the
/// LFSR source, several chains on two threads (chain 0 must not depend on them), and
/// dimensions that take the lockstep driver and the chain driver.
const EXTRA_STEP_CONFIGS: [(&str, &str); 5] = [
    (
        "sgld-lpf",
        r#"{"target": {"gaussian": {"mean": [0.5, -1.0], "var": [1.0, 2.0]}}, "format": {"wl": 8, "fl": 5},
            "rounding": "sr:5", "chains": 3, "steps": 120, "burn_in": 0, "thin": 1, "seed": 4,
            "sampler": {"sgld": {"variant": "lp-f", "eta": 0.05}}, "datapath": "integer", "noise_gen": "clt:4:8"}"#,
    ),
    (
        "sghmc-lpf-lfsr",
        r#"{"target": {"gaussian": {"mean": [0.25], "var": [0.5]}}, "format": {"wl": 8, "fl": 4},
            "rounding": "src:4", "chains": 2, "steps": 120, "burn_in": 0, "thin": 1, "seed": 6, "source": "lfsr:32",
            "sampler": {"sghmc": {"variant": "lp-f", "eta": 0.1, "u": 2.0, "gamma": 2.0}}, "datapath": "integer", "noise_gen": "table:6"}"#,
    ),
    (
        "sgld-chains-d5",
        r#"{"target": {"gaussian": {"mean": [0.0, 0.5, 1.0, -0.5, 2.0], "var": [1.0, 1.0, 0.5, 2.0, 0.25]}},
            "format": {"wl": 8, "fl": 4}, "rounding": "sr", "chains": 9, "steps": 60, "burn_in": 0, "thin": 1,
            "seed": 13, "sampler": {"sgld": {"variant": "lp-l", "eta": 0.1}}, "datapath": "integer", "noise_gen": "clt:2:6"}"#,
    ),
    (
        "sghmc-chains-d64",
        r#"{"target": {"gaussian": {"mean": [0.5], "var": [1.0]}}, "x0": [1.0],
            "format": {"wl": 10, "fl": 6}, "rounding": "sr:7", "chains": 5, "steps": 40, "burn_in": 0, "thin": 1,
            "seed": 17, "sampler": {"sghmc": {"variant": "lp-l", "eta": 0.05, "u": 1.0, "gamma": 2.0}}, "datapath": "integer"}"#,
    ),
    (
        "sgld-d300",
        r#"{"target": {"gaussian": {"mean": MEANS, "var": VARS}},
            "format": {"wl": 8, "fl": 5}, "rounding": "sr:8", "chains": 1, "steps": 20, "burn_in": 0, "thin": 1,
            "seed": 19, "sampler": {"sgld": {"variant": "lp-l", "eta": 0.02}}, "datapath": "integer", "noise_gen": "clt:4:8"}"#,
    ),
];

/// `(word, bit)` of field `f` of a region whose first field is at `(word, bit)`, fields of
/// `width` bits: the packing rule of `vectors.json` restated (a field that does not fit the
/// rest of a word starts the next one).
fn field_at(word: usize, bit: u32, width: u32, f: usize) -> (usize, u32) {
    let first = ((64 - bit) / width) as usize;
    if f < first {
        (word, bit + f as u32 * width)
    } else {
        let per = (64 / width) as usize;
        let g = f - first;
        (word + 1 + g / per, (g % per) as u32 * width)
    }
}

/// Step vectors are chain 0 of `lpmc run` on the same config: `x_out` of step k is row k of
/// chain 0 in `samples.csv` (burn-in 0, thin 1), each step starts from the last one's
/// output, and the rounding fields are where `parameters.layout` says in `words.csv`.
#[test]
fn step_vectors_are_chain_0_of_the_run() {
    let hw = Path::new(env!("CARGO_MANIFEST_DIR")).join("hw/configs");
    let mut configs: Vec<(String, String)> = std::fs::read_dir(&hw)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            (
                p.file_stem().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    assert!(configs.len() >= 8, "hw/configs holds the lane matrix");
    // 300 coordinates (the chain driver's layout).
    let (means, vars) = (vec![0.5; 300], vec![2.0; 300]);
    configs.extend(EXTRA_STEP_CONFIGS.iter().map(|(n, t)| {
        let t = t
            .replace("MEANS", &serde_json::to_string(&means).unwrap())
            .replace("VARS", &serde_json::to_string(&vars).unwrap());
        (n.to_string(), t)
    }));
    for (name, text) in &configs {
        let d = tmp(&format!("step-{name}"));
        std::fs::create_dir_all(&d).unwrap();
        let cfg_path = d.join("config.json");
        std::fs::write(&cfg_path, text).unwrap();
        let config = lpmc::experiment::config::RunConfig::load(&cfg_path).unwrap();
        let kind = if name.starts_with("sgld") {
            "sgld-step"
        } else {
            "sghmc-step"
        };
        let run = lpmc(&[
            "run",
            cfg_path.to_str().unwrap(),
            "--out",
            d.join("run").to_str().unwrap(),
            "--threads",
            "2",
        ]);
        assert!(
            run.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let out = lpmc(&[
            "vectors",
            kind,
            "--config",
            cfg_path.to_str().unwrap(),
            "--steps",
            &config.steps.to_string(),
            "--out",
            d.join("vec").to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let meta: serde_json::Value =
            serde_json::from_str(&read(&d.join("vec"), "vectors.json")).unwrap();
        let dim = meta["parameters"]["dimension"].as_u64().unwrap() as usize;
        let fl = meta["parameters"]["formats"]["x"]["fl"].as_u64().unwrap() as i32;
        let table = |file: &str| -> Vec<std::collections::HashMap<String, String>> {
            let text = read(&d.join("vec"), file);
            let mut lines = text.lines();
            let head: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
            lines
                .map(|l| {
                    head.iter()
                        .cloned()
                        .zip(l.split(',').map(String::from))
                        .collect()
                })
                .collect()
        };
        let rows = table("vectors.csv");
        assert_eq!(rows.len(), config.steps as usize * dim, "{name}");
        let num = |r: &std::collections::HashMap<String, String>, c: &str| -> i128 {
            r[c].parse()
                .unwrap_or_else(|_| panic!("{name}: column {c}"))
        };
        // The run's chain 0, row k = the state after step k + 1.
        let samples = read(&d.join("run"), "samples.csv");
        let chain0: Vec<Vec<f64>> = samples
            .lines()
            .skip(1)
            .filter(|l| l.starts_with("0,"))
            .map(|l| l.split(',').skip(1).map(|v| v.parse().unwrap()).collect())
            .collect();
        assert_eq!(
            chain0.len(),
            config.steps as usize,
            "{name}: rows of chain 0"
        );
        for (k, sample) in chain0.iter().enumerate() {
            for (i, &v) in sample.iter().enumerate() {
                let r = &rows[k * dim + i];
                assert_eq!((num(r, "step"), num(r, "i")), (k as i128, i as i128));
                let code = num(r, "x_out");
                assert_eq!(
                    code as f64 * 2f64.powi(-fl),
                    v,
                    "{name}: step {k} coordinate {i}"
                );
                if k > 0 {
                    let prev = &rows[(k - 1) * dim + i];
                    assert_eq!(num(r, "x_in"), num(prev, "x_out"), "{name}: x fed back");
                    if kind == "sghmc-step" {
                        assert_eq!(num(r, "v_in"), num(prev, "v_out"), "{name}: v fed back");
                    }
                }
            }
        }
        // The rounding fields are the layout's fields of each step's words.
        let words = table("words.csv");
        let per_step = meta["parameters"]["words_per_step"].as_u64().unwrap() as usize;
        assert_eq!(words.len(), per_step * config.steps as usize, "{name}");
        let word = |t: usize, j: usize| -> u64 { words[t * per_step + j]["word"].parse().unwrap() };
        let mut checked = 0;
        for region in meta["parameters"]["layout"].as_array().unwrap() {
            let col = match region["region"].as_str().unwrap() {
                "round_grad" => "rand_grad",
                "round_x" => "rand_x",
                "round_v" => "rand_v",
                "round_pre" => "rand_pre",
                _ => continue,
            };
            let (w0, b0, width) = (
                region["word"].as_u64().unwrap() as usize,
                region["bit"].as_u64().unwrap() as u32,
                region["width"].as_u64().unwrap() as u32,
            );
            for r in &rows {
                let (t, i) = (num(r, "step") as usize, num(r, "i") as usize);
                let (w, b) = field_at(w0, b0, width, i);
                let mask = if width == 64 {
                    u64::MAX
                } else {
                    (1u64 << width) - 1
                };
                assert_eq!(
                    num(r, col) as u64,
                    (word(t, w) >> b) & mask,
                    "{name}: {col}"
                );
            }
            checked += 1;
        }
        let rounding = meta["parameters"]["rounding"].as_str().unwrap();
        let deterministic = !rounding.starts_with("sr") && !rounding.starts_with("src");
        assert!(
            deterministic || checked > 0,
            "{name}: no rounding field checked"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
}

/// Bad input of the step kinds: one `error:` line, exit 2, no files.
#[test]
fn step_kinds_refuse_runs_they_cannot_record() {
    let d = tmp("step-bad");
    let base = |sampler: &str, datapath: &str| {
        format!(
            r#"{{"target": {{"gaussian": {{"mean": [0.5], "var": [1.0]}}}}, "format": {{"wl": 8, "fl": 4}},
                "rounding": "sr:4", "chains": 1, "steps": 10, "burn_in": 0, "seed": 1,
                "sampler": {sampler}, "datapath": "{datapath}"}}"#
        )
    };
    let files = [
        (
            "float",
            base(r#"{"sgld": {"variant": "lp-l", "eta": 0.1}}"#, "float"),
        ),
        (
            "hmc",
            base(r#"{"sghmc": {"variant": "lp-l", "eta": 0.1}}"#, "integer"),
        ),
        (
            "vc",
            base(r#"{"sgld": {"variant": "vc-l", "eta": 0.1}}"#, "integer"),
        ),
        (
            "ok",
            base(r#"{"sgld": {"variant": "lp-l", "eta": 0.1}}"#, "integer"),
        ),
        (
            "inexact",
            base(r#"{"sgld": {"variant": "lp-l", "eta": 0.1}}"#, "integer")
                .replace(r#""var": [1.0]"#, r#""var": [3.0]"#),
        ),
        ("broken", "{\"target\": ".to_string()),
    ];
    let path = |n: &str| d.with_extension(format!("{n}.json"));
    for (n, text) in &files {
        std::fs::write(path(n), text).unwrap();
    }
    let p = |n: &str| path(n).to_str().unwrap().to_string();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["sgld-step".into(), "--config".into(), p("float")],
            "\"datapath\": \"integer\"",
        ),
        (
            vec!["sgld-step".into(), "--config".into(), p("inexact")],
            "exactly coef codes",
        ),
        (
            vec!["sgld-step".into(), "--config".into(), p("hmc")],
            "lpmc vectors sghmc-step",
        ),
        (
            vec!["sgld-step".into(), "--config".into(), p("vc")],
            "lp-l and lp-f",
        ),
        (
            vec![
                "sgld-step".into(),
                "--config".into(),
                p("ok"),
                "--steps".into(),
                "0".into(),
            ],
            "--steps",
        ),
        (
            vec![
                "sgld-step".into(),
                "--config".into(),
                p("ok"),
                "--steps".into(),
                "20000000".into(),
            ],
            "1..=10000000",
        ),
        (
            vec!["sgld-step".into(), "--config".into(), p("broken")],
            "broken",
        ),
        (
            vec!["sgld-step".into(), "--config".into(), p("missing")],
            "missing",
        ),
        (vec!["sghmc-step".into()], "--config"),
    ];
    let dir = d.to_str().unwrap().to_string();
    for (args, needle) in cases {
        let mut a: Vec<&str> = vec!["vectors"];
        a.extend(args.iter().map(String::as_str));
        a.extend(["--out", &dir]);
        let out = lpmc(&a);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("error:") && err.contains(needle),
            "{args:?}: {err}"
        );
        assert!(!d.exists(), "{args:?} wrote {}", d.display());
    }
    for (n, _) in &files {
        let _ = std::fs::remove_file(path(n));
    }
}
