//! `noise` vectors: the integer datapath's Gaussian noise codes, one row per output of the
//! generator run alone over stream `(seed, stream)` ([`generate`]: the uniforms packed from
//! the stream's first word by the per-call packing rule, each code computed by the kernels'
//! own noise stage, the one a step runs).
//!
//! - `clt:K:B`: columns `uniforms` (the output's K uniform B-bit integers, uniform m in bits
//!   `[m·B, m·B + B)`), `sum` (the centred sum `T = 2·Σu − K(2^B − 1)`), `noise` (`T`
//!   rounded by `shift` bits, nearest-even, then the overflow rule), `overflow`.
//! - `table:T`: columns `index` (the T-bit index), `noise` (`table[index]`); the table is
//!   written as `table.hex` (one code per line, the ROM image) and `table.csv`.
//!
//! Every row is recomputed from the stream's words by the documented packing rule and checked
//! against the generator's output.

use super::requantize::MAX_VECTORS;
use super::rules::{integer_rounding, overflow, packing};
use super::{bit_length, int, Rtl, VectorSet};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::noise::{IntNormal, NoiseGen};
use crate::source::Source;
use lpmc_kernels::bits::{unpack, words_for};
use lpmc_kernels::lane::{Ov, RoundF64, Rq};
use lpmc_kernels::portable::round_code;
use lpmc_kernels::rules::stages::NoiseStage;
use lpmc_kernels::rules::Noise as KernelGen;
use lpmc_kernels::{Rounding, WordSource};
use num_bigint::BigInt;
use serde_json::json;

/// Settings of a `noise` set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NoiseSettings {
    /// The generator: `clt:K:B` or `table:T`.
    pub gen: NoiseGen,
    /// The noise format (WL ≤ 32) and its overflow rule.
    pub format: Format,
    /// Random-bit source.
    pub source: Source,
    /// Seed.
    pub seed: u64,
    /// Stream index.
    pub stream: u64,
    /// Number of outputs.
    pub n: usize,
}

/// The `noise` vector set of `s`.
pub fn produce(s: &NoiseSettings) -> Result<VectorSet> {
    if s.n == 0 || s.n > MAX_VECTORS {
        return Err(Error::param(
            "--n",
            s.n,
            format!("must be in 1..={MAX_VECTORS}"),
        ));
    }
    let f = s.format.check_stored("the noise format")?;
    if s.gen == NoiseGen::BoxMuller {
        return Err(Error::param(
            "--gen",
            s.gen,
            "noise vectors need an integer generator: clt:K:B or table:T",
        ));
    }
    let g = IntNormal::new(s.gen, f);
    let bits0 = s.source.stream(s.seed, s.stream)?;
    let mut want = vec![0i64; s.n];
    generate(&g, &mut bits0.clone(), &mut want);

    let mut set = VectorSet::new("noise");
    set.param("generator", s.gen.to_string());
    set.param("format", json!({"wl": f.wl(), "fl": f.fl()}));
    set.param("overflow", f.overflow().to_string());
    set.param("sd", g.sd());
    set.param("source", s.source.to_string());
    set.param("seed", s.seed);
    set.param("stream", s.stream);
    let sat = |c: i128| f.overflow().apply(c, f.wl());
    match g.kernel_noise() {
        KernelGen::Clt { k, bits: b, shift } => {
            let mut words = vec![0u64; words_for(s.n * k as usize, b)];
            bits0.clone().fill(&mut words);
            let max = k as u128 * ((1u128 << b) - 1);
            let sum_w = bit_length(max) + 1;
            let t = &mut set.table;
            t.column(
                "uniforms",
                k * b,
                false,
                format!("the {k} uniform {b}-bit integers u_m of the output, u_m in bits [{b}·m, {b}·m + {b})"),
            );
            t.column(
                "sum",
                sum_w,
                true,
                format!("the centred sum T = 2·Σu_m − {max}, an integer with {shift} implicit fraction bits"),
            );
            t.column(
                "noise",
                f.wl(),
                true,
                format!("noise code, Q({}, {})", f.wl(), f.fl()),
            );
            t.column(
                "overflow",
                1,
                false,
                "1 iff the overflow rule changed the rounded code",
            );
            for (i, &w) in want.iter().enumerate() {
                let mut bundle = BigInt::from(0);
                let mut sum = 0i128;
                for m in 0..k as usize {
                    let u = unpack(&words, i * k as usize + m, b);
                    sum += u as i128;
                    bundle |= BigInt::from(u) << (m * b as usize);
                }
                let big_t = 2 * sum - max as i128;
                let (code, ev) = sat(round_code(big_t as i64, shift, Rounding::NearestEven, 0));
                assert_eq!(code, w, "noise output {i}");
                t.push(vec![bundle, int(big_t), int(code), int(ev as u8)]);
            }
            set.param("k", k);
            set.param("b", b);
            set.param("shift", shift);
            set.param("words_drawn", words.len());
            set.rule("packing", packing(b));
            set.rule(
                "uniforms",
                format!("output i takes uniforms iK … iK + K − 1 (K = {k}) of the call's uniform sequence"),
            );
            set.rule(
                "rounding",
                integer_rounding(Rounding::NearestEven, shift)
                    .replace("k >>", "T >>")
                    .replace("k <<", "T <<")
                    .replace("and k ≥ 0", "and T ≥ 0"),
            );
            set.rule("overflow", overflow(f.overflow(), f.wl()));
            set.formula = format!(
                "sum = 2·Σ_m uniforms[{b}m +: {b}] − {max}; noise, overflow = overflow_rule(round_nearest_even(sum >> {shift}))"
            );
            set.rtl = Some(Rtl {
                module: "lpmc_noise_clt".into(),
                testbench: "tb_noise_clt".into(),
                parameters: serde_json::from_value(json!({
                    "K": k, "B": b, "Shift": shift, "Wl": f.wl(),
                    "Wrap": (f.overflow() == lpmc_kernels::Overflow::Wrap) as u8,
                }))
                .expect("object"),
            });
        }
        KernelGen::BoxMuller => unreachable!("checked above: an integer generator"),
        KernelGen::Table { bits: tb, table } => {
            let mut words = vec![0u64; words_for(s.n, tb)];
            bits0.clone().fill(&mut words);
            let t = &mut set.table;
            t.column("index", tb, false, format!("the {tb}-bit table index"));
            t.column(
                "noise",
                f.wl(),
                true,
                format!("table[index], Q({}, {})", f.wl(), f.fl()),
            );
            for (i, &w) in want.iter().enumerate() {
                let j = unpack(&words, i, tb);
                assert_eq!(table[j as usize], w, "table output {i}");
                t.push(vec![int(j), int(w)]);
            }
            let mut rom = super::Table::default();
            rom.column("code", f.wl(), true, "table entry");
            for &c in table {
                rom.push(vec![int(c)]);
            }
            set.files.push(("table.hex".into(), rom.hex(0)));
            set.files.push(("table.csv".into(), rom.csv()));
            set.param("t", tb);
            set.param("words_drawn", words.len());
            set.rule("packing", packing(tb));
            set.rule(
                "table",
                "entry j = round_nearest_even(Φ⁻¹((j + ½)/2^T)·2^fl), saturated to wl bits (table.hex, table.csv)",
            );
            set.formula = "noise = table[index]".into();
            set.rtl = Some(Rtl {
                module: "lpmc_noise_table".into(),
                testbench: "tb_noise_table".into(),
                parameters: serde_json::from_value(json!({"T": tb, "Wl": f.wl()})).expect("object"),
            });
        }
    }
    Ok(set)
}

/// `out.len()` codes of the integer generator `g` (`clt:K:B` or `table:T`) run alone over
/// `bits`: the `K·n` uniforms (or `n` indices) packed from the first word drawn
/// ([`words_for`], [`unpack`]), each code by the kernels' noise stage ([`NoiseStage`], the
/// lanes a sampler step runs). Returns the overflow events.
///
/// # Panics
/// If `g` is `box-muller`.
pub fn generate(g: &IntNormal, bits: &mut dyn WordSource, out: &mut [i64]) -> u64 {
    let f = crate::sampler::fmt(g.format());
    let noise = g.kernel_noise();
    let (k, b, shift) = match noise {
        KernelGen::Clt { k, bits, shift } => (k, bits, shift),
        KernelGen::Table { bits, .. } => (1, bits, 1),
        KernelGen::BoxMuller => panic!("generate: an integer generator"),
    };
    let stage = NoiseStage::<i64> {
        noise,
        offset: k as i64 * ((1i64 << b) - 1),
        rq: Rq::new(shift, Rounding::NearestEven),
        ov: Ov::new(f),
        rf: RoundF64::new(f, Rounding::NearestEven),
    };
    let n = out.len();
    let mut words = vec![0u64; words_for(n * k as usize, b)];
    bits.fill(&mut words);
    let raw: Vec<u64> = (0..n)
        .map(|i| {
            (0..k as usize)
                .map(|m| unpack(&words, i * k as usize + m, b))
                .sum()
        })
        .collect();
    match noise {
        KernelGen::Table { table, .. } => {
            stage.table(table, &raw, out);
            0
        }
        _ => {
            let sums: Vec<i64> = raw.iter().map(|&r| r as i64).collect();
            stage.clt(&sums, out)
        }
    }
}
