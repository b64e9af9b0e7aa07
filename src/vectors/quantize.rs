//! `quantize` vectors: an `f64` rounded to a fixed-point format with R random bits, then
//! saturated or wrapped — the golden model of a float-to-fixed converter (and of the float
//! datapath's roundings). `hw/` has no RTL for it.
//!
//! Columns: `in` (the input's IEEE-754 binary64 bit pattern, unsigned, 64 bits), `bits` (the
//! R random bits consumed), `out` (code, signed), `overflow` (0/1). The outputs are the
//! library's `quantize_f64` kernel's over one call; every row is checked against
//! `lpmc_kernels::portable::round_f64` + the overflow rule.
//!
//! Inputs: the edge cases ([`edge_values`]: ties of both signs and parities and the `f64`s one
//! ulp either side of them, tiny values of both signs, the range ends and values beyond them,
//! ±∞ and NaN), then `n` values uniform on the range widened by 4 steps each side, from
//! stream `(seed, 2^64 − 1)`; or the values of a file.

use super::requantize::{DEFAULT_N, INPUT_STREAM, MAX_VECTORS};
use super::rules::{f64_rounding, overflow, packing};
use super::{int, VectorSet};
use crate::error::{Error, Result};
use crate::format::{Codes, Format};
use crate::round::Rounding;
use crate::source::Source;
use crate::with_codes;
use lpmc_kernels::bits::{unpack, words_for};
use lpmc_kernels::portable::round_f64;
use lpmc_kernels::{Overflow, Platform, WordSource};
use serde_json::json;

/// Settings of a `quantize` set.
#[derive(Clone, Debug, PartialEq)]
pub struct QuantizeSettings {
    /// Output format, with the overflow rule.
    pub output: Format,
    /// The rounding.
    pub rounding: Rounding,
    /// Random values after the edge cases (`None`: the default; `None` with `inputs`).
    pub n: Option<usize>,
    /// The input values, instead of the generated ones.
    pub inputs: Option<Vec<f64>>,
    /// Random-bit source of the rounding.
    pub source: Source,
    /// Seed of the random bits and of the random inputs.
    pub seed: u64,
    /// Stream index of the random bits.
    pub stream: u64,
}

/// The edge-case inputs for `format`, in order.
pub fn edge_values(format: Format) -> Vec<f64> {
    let d = format.delta();
    let (lo, hi) = (format.min_code() as f64, format.max_code() as f64);
    let mut v = Vec::new();
    for m in [0.0, 1.0, 2.0, -1.0, -2.0, -3.0, hi, hi - 1.0, lo, lo + 1.0] {
        let t = (m + 0.5) * d;
        v.extend([t, t.next_up(), t.next_down()]);
    }
    for t in [
        f64::from_bits(1),
        1e-300,
        d * 2f64.powi(-60),
        d * 2f64.powi(-54),
        d * 0.25,
    ] {
        v.extend([t, -t, -0.5 * d + t, 0.5 * d - t]);
    }
    v.extend([
        0.0,
        -0.0,
        d,
        -d,
        hi * d,
        lo * d,
        (hi + 1.0) * d,
        (lo - 1.0) * d,
    ]);
    v.extend([1e300, -1e300, f64::INFINITY, f64::NEG_INFINITY, f64::NAN]);
    v
}

fn inputs(s: &QuantizeSettings) -> Result<Vec<f64>> {
    if let Some(xs) = &s.inputs {
        if s.n.is_some() {
            return Err(Error::Config(
                "--n and --inputs exclude each other: the file gives every input".into(),
            ));
        }
        if xs.is_empty() || xs.len() > MAX_VECTORS {
            return Err(Error::param(
                "--inputs",
                format!("{} values", xs.len()),
                format!("must hold 1..={MAX_VECTORS} values"),
            ));
        }
        return Ok(xs.clone());
    }
    let n = s.n.unwrap_or(DEFAULT_N);
    let mut xs = edge_values(s.output);
    if n > MAX_VECTORS - xs.len() {
        return Err(Error::param(
            "--n",
            n,
            format!("must be at most {MAX_VECTORS} minus the edge cases"),
        ));
    }
    let f = s.output;
    let (a, b) = (
        f.min_value() - 4.0 * f.delta(),
        f.max_value() + 4.0 * f.delta(),
    );
    let mut g = Source::Xoshiro.stream(s.seed, INPUT_STREAM)?;
    xs.extend((0..n).map(|_| a + (b - a) * ((g.next_word() >> 11) as f64 / 2f64.powi(53))));
    Ok(xs)
}

/// The reference of one element: `round_f64` and the overflow rule, NaN and ±∞ as the
/// kernels treat them.
fn reference(x: f64, f: Format, rounding: Rounding, u: u64) -> (i64, bool) {
    if x.is_nan() {
        return (0, true);
    }
    let rule = if x.is_infinite() {
        Overflow::Saturate
    } else {
        f.overflow()
    };
    rule.apply(round_f64(x, f.fl(), rounding, u), f.wl())
}

/// The `quantize` vector set of `s`.
pub fn produce(s: &QuantizeSettings) -> Result<VectorSet> {
    let f = s.output;
    let xs = inputs(s)?;
    let r = s.rounding.bits_per_f64();
    let bits0 = s.source.stream(s.seed, s.stream)?;
    let mut bits = bits0.clone();
    let mut dst = Codes::zeros(f.container(), xs.len());
    let p = Platform::detect();
    let events =
        with_codes!(&mut dst, d => p.quantize_f64(f.spec(s.rounding), f.fl(), &xs, d, &mut bits));
    let mut words = vec![0u64; words_for(xs.len(), r)];
    bits0.clone().fill(&mut words);

    let mut set = VectorSet::new("quantize");
    let t = &mut set.table;
    t.column(
        "in",
        64,
        false,
        "the input x as its IEEE-754 binary64 bit pattern",
    );
    t.column(
        "bits",
        r,
        false,
        format!("the {r} random bits u the rounding consumed (0 when it draws none)"),
    );
    t.column(
        "out",
        f.wl(),
        true,
        format!("output code, Q({}, {})", f.wl(), f.fl()),
    );
    t.column(
        "overflow",
        1,
        false,
        "1 iff the code saturated or wrapped (NaN and ±∞ too)",
    );
    let mut ref_events = 0;
    for (i, &x) in xs.iter().enumerate() {
        let u = if r == 0 { 0 } else { unpack(&words, i, r) };
        let (want, ev) = reference(x, f, s.rounding, u);
        assert_eq!(
            dst.get(i),
            want,
            "kernel and reference disagree on {x:e} (u = {u})"
        );
        ref_events += ev as u64;
        t.push(vec![int(x.to_bits()), int(u), int(want), int(ev as u8)]);
    }
    assert_eq!(events, ref_events, "overflow count");
    set.param("out", json!({"wl": f.wl(), "fl": f.fl()}));
    set.param("rounding", s.rounding.to_string());
    set.param("overflow", f.overflow().to_string());
    set.param("random_bits", r);
    set.param("source", s.source.to_string());
    set.param("seed", s.seed);
    set.param("stream", s.stream);
    set.param("words_drawn", words.len());
    set.param("overflow_events", events);
    set.param(
        "inputs",
        if s.inputs.is_some() {
            json!("file")
        } else {
            json!({"edge_cases": edge_values(f).len(), "random": xs.len() - edge_values(f).len()})
        },
    );
    set.rule("rounding", f64_rounding(s.rounding, f.fl()));
    set.rule("overflow", overflow(f.overflow(), f.wl()));
    set.rule("packing", packing(r));
    set.formula =
        "out, overflow = overflow_rule(round(f64::from_bits(in)·2^fl, u = bits))".to_string();
    Ok(set)
}
