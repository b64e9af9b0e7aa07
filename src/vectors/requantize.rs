//! `requantize` vectors: a wide code rounded to a narrower format with R random bits, then
//! saturated or wrapped — the rounding unit of every fixed-point datapath.
//!
//! Columns, exactly: `in` (input code, signed, `in.wl` bits), `bits` (the R random bits the
//! element consumed, unsigned, R bits), `out` (output code, signed, `out.wl` bits),
//! `overflow` (0/1). The outputs are those of the library's requantize kernel
//! (`Platform::detect().requantize`, one call over all inputs, so the random bits follow the
//! packing rule over the whole call), and every row is checked against the scalar rule
//! `lpmc_kernels::portable::round_code` + `Overflow::apply` before it is written.
//!
//! Inputs: the edge cases ([`edge_codes`]: both extremes, zero and ±1, ties and the codes one
//! LSB either side of them for both signs and both parities, the codes that overflow on both
//! sides), then `n` codes uniform over the input range from stream `(seed, 2^64 − 1)` of the
//! xoshiro source; or the codes of a file.

use super::rules::{integer_rounding, overflow, packing, rtl_mode, rtl_r};
use super::{int, Rtl, VectorSet};
use crate::error::{Error, Result};
use crate::format::{Codes, Format};
use crate::round::Rounding;
use crate::source::Source;
use crate::with_codes;
use lpmc_kernels::bits::{unpack, words_for};
use lpmc_kernels::portable::round_code;
use lpmc_kernels::{Code, Platform, WordSource};
use serde_json::json;

/// Stream index of the random inputs (the random bits use `stream`).
pub const INPUT_STREAM: u64 = u64::MAX;
/// Default number of random codes after the edge cases.
pub const DEFAULT_N: usize = 1000;
/// Largest number of vectors of one set.
pub const MAX_VECTORS: usize = 10_000_000;

/// Settings of a `requantize` set.
#[derive(Clone, Debug, PartialEq)]
pub struct RequantizeSettings {
    /// Format of the input codes (its overflow rule is unused).
    pub input: Format,
    /// Output format, with the overflow rule.
    pub output: Format,
    /// The rounding.
    pub rounding: Rounding,
    /// Random codes after the edge cases (`None`: [`DEFAULT_N`]; must be `None` with `inputs`).
    pub n: Option<usize>,
    /// The input codes, instead of the generated ones.
    pub inputs: Option<Vec<i64>>,
    /// Random-bit source of the rounding.
    pub source: Source,
    /// Seed of the random bits and of the random inputs.
    pub seed: u64,
    /// Stream index of the random bits.
    pub stream: u64,
}

/// The edge-case input codes for `input` → `output`, in order, without repeats.
pub fn edge_codes(input: Format, output: Format) -> Vec<i64> {
    let (imin, imax) = (input.min_code() as i128, input.max_code() as i128);
    let (omin, omax) = (output.min_code() as i128, output.max_code() as i128);
    let s = input.fl() as i32 - output.fl() as i32;
    let mut v: Vec<i128> = vec![imin, imin + 1, -1, 0, 1, imax - 1, imax];
    if s > 0 {
        let s = s as u32;
        let one = 1i128 << s;
        let half = one / 2;
        // Ties (and one LSB either side) above kept codes of both signs and parities.
        for m in [0, 1, 2, 3, -1, -2, -3, -4, omax, omax - 1, omin, omin + 1] {
            let base = m * one;
            v.extend([
                base + half,
                base + half - 1,
                base + half + 1,
                base + one - 1,
            ]);
        }
        for m in [imax >> s, imin >> s, (imax >> s) - 1, (imin >> s) + 1] {
            v.extend([m * one + half, m * one + half + 1, m * one + half - 1]);
        }
        // Overflow: just above the largest output code and just below the smallest.
        v.extend([
            (omax + 1) * one,
            omax * one + one - 1,
            omax * one + half,
            omax * one + 1,
        ]);
        v.extend([
            omin * one - 1,
            omin * one,
            (omin - 1) * one + half,
            omin * one - half,
        ]);
    } else {
        let l = (-s) as u32;
        v.extend([omax >> l, (omax >> l) + 1, omin >> l, (omin >> l) - 1]);
    }
    let mut out = Vec::new();
    for c in v {
        if (imin..=imax).contains(&c) && !out.contains(&(c as i64)) {
            out.push(c as i64);
        }
    }
    out
}

/// The input codes of a set: the given ones (checked against the input range) or the edge
/// cases followed by `n` random codes.
fn inputs(s: &RequantizeSettings) -> Result<Vec<i64>> {
    let f = s.input;
    if let Some(codes) = &s.inputs {
        if s.n.is_some() {
            return Err(Error::Config(
                "--n and --inputs exclude each other: the file gives every input".into(),
            ));
        }
        if codes.is_empty() || codes.len() > MAX_VECTORS {
            return Err(Error::param(
                "--inputs",
                format!("{} codes", codes.len()),
                format!("must hold 1..={MAX_VECTORS} codes"),
            ));
        }
        for (i, &c) in codes.iter().enumerate() {
            if c < f.min_code() || c > f.max_code() {
                return Err(Error::param(
                    format!("--inputs line {}", i + 1),
                    c,
                    format!(
                        "must be a code of the input format Q({}, {}): {}..={}",
                        f.wl(),
                        f.fl(),
                        f.min_code(),
                        f.max_code()
                    ),
                ));
            }
        }
        return Ok(codes.clone());
    }
    let n = s.n.unwrap_or(DEFAULT_N);
    let mut codes = edge_codes(f, s.output);
    if n > MAX_VECTORS - codes.len() {
        return Err(Error::param(
            "--n",
            n,
            format!("must be at most {MAX_VECTORS} minus the edge cases"),
        ));
    }
    let mut g = Source::Xoshiro.stream(s.seed, INPUT_STREAM)?;
    codes.extend((0..n).map(|_| (g.next_word() as i64) >> (64 - f.wl())));
    Ok(codes)
}

/// The `requantize` vector set of `s`.
pub fn produce(s: &RequantizeSettings) -> Result<VectorSet> {
    let (fi, fo) = (s.input, s.output);
    let ks = inputs(s)?;
    let shift = fi.fl() as i32 - fo.fl() as i32;
    let r = s.rounding.bits_per_code(shift);
    let spec = fo.spec(s.rounding);

    // The kernel, as the engine runs it.
    let src = codes_of(fi, &ks);
    let mut dst = Codes::zeros(fo.container(), ks.len());
    let bits0 = s.source.stream(s.seed, s.stream)?;
    let mut bits = bits0.clone();
    let p = Platform::detect();
    let events = with_codes!(&src, a => with_codes!(&mut dst, b => p.requantize(spec, shift, a, b, &mut bits)));
    // The random bits each element saw, by the packing rule over the same words.
    let mut words = vec![0u64; words_for(ks.len(), r)];
    bits0.clone().fill(&mut words);

    let mut set = VectorSet::new("requantize");
    let t = &mut set.table;
    t.column(
        "in",
        fi.wl(),
        true,
        format!(
            "input code k, Q({}, {}): value k·2^−{}",
            fi.wl(),
            fi.fl(),
            fi.fl()
        ),
    );
    t.column(
        "bits",
        r,
        false,
        format!("the {r} random bits u the rounding consumed (0 when it draws none)"),
    );
    t.column(
        "out",
        fo.wl(),
        true,
        format!("output code, Q({}, {})", fo.wl(), fo.fl()),
    );
    t.column(
        "overflow",
        1,
        false,
        "1 iff the overflow rule changed the rounded code",
    );
    let mut ref_events = 0u64;
    for (i, &k) in ks.iter().enumerate() {
        let u = if r == 0 { 0 } else { unpack(&words, i, r) };
        let (want, ev) = fo
            .overflow()
            .apply(round_code(k, shift, s.rounding, u), fo.wl());
        let got = dst.get(i);
        assert_eq!(got, want, "kernel and reference disagree on {k} (u = {u})");
        ref_events += ev as u64;
        t.push(vec![int(k), int(u), int(got), int(ev as u8)]);
    }
    assert_eq!(events, ref_events, "overflow count");

    set.param("in", json!({"wl": fi.wl(), "fl": fi.fl()}));
    set.param("out", json!({"wl": fo.wl(), "fl": fo.fl()}));
    set.param("rounding", s.rounding.to_string());
    set.param("overflow", fo.overflow().to_string());
    set.param("shift", shift);
    set.param("random_bits", r);
    set.param("source", s.source.to_string());
    set.param("seed", s.seed);
    set.param("stream", s.stream);
    set.param("words_drawn", words.len());
    set.param("overflow_events", events);
    match &s.inputs {
        Some(_) => set.param("inputs", "file"),
        None => {
            let edges = edge_codes(fi, fo).len();
            set.param(
                "inputs",
                json!({"edge_cases": edges, "random": ks.len() - edges,
                       "random_from": format!("stream (seed, {INPUT_STREAM}) of xoshiro: code = (word as i64) >> {}", 64 - fi.wl())}),
            );
        }
    }
    set.rule("rounding", integer_rounding(s.rounding, shift));
    set.rule("overflow", overflow(fo.overflow(), fo.wl()));
    set.rule("packing", packing(r));
    set.rule("order", "rounding first, then the overflow rule");
    set.formula = format!(
        "out, overflow = overflow_rule(round(in, s = {shift}, u = bits)): see rules.rounding and rules.overflow"
    );
    set.rtl = Some(Rtl {
        module: "lpmc_requantize".into(),
        testbench: "tb_requantize".into(),
        parameters: serde_json::from_value(json!({
            "InWl": fi.wl(), "InFl": fi.fl(), "OutWl": fo.wl(), "OutFl": fo.fl(),
            "Mode": rtl_mode(s.rounding), "R": rtl_r(s.rounding),
            "Wrap": (fo.overflow() == lpmc_kernels::Overflow::Wrap) as u8,
        }))
        .expect("object"),
    });
    Ok(set)
}

/// `ks` in the container of `f`.
fn codes_of(f: Format, ks: &[i64]) -> Codes {
    let mut c = Codes::zeros(f.container(), ks.len());
    with_codes!(&mut c, v => for (d, &k) in v.iter_mut().zip(ks) { *d = Code::from_i64(k) });
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_codes_hold_ties_both_signs_and_overflow() {
        let fi = Format::new(12, 6).unwrap();
        let fo = Format::new(6, 2).unwrap();
        let e = edge_codes(fi, fo);
        // s = 4: ties have d = 8; both signs; codes that overflow on both sides.
        assert!(e.iter().any(|&k| k > 0 && k & 15 == 8));
        assert!(e.iter().any(|&k| k < 0 && k & 15 == 8));
        assert!(e.iter().any(|&k| (k >> 4) > fo.max_code()));
        assert!(e.iter().any(|&k| (k >> 4) < fo.min_code()));
        assert!(e.contains(&fi.min_code()) && e.contains(&fi.max_code()));
        let mut sorted = e.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), e.len());
    }
}
