//! `lfsr` and `xoshiro` vectors: one row per 64-bit output word of a random stream
//! `(seed, stream)`, with the generator's state before the word.
//!
//! - `lfsr`: the Galois LFSR of `--source lfsr:W[:0xTAPS]`, built exactly as a run builds
//!   stream `(seed, stream)` (`Source::stream`). Columns `state` (W bits), `word` (64 bits).
//! - `xoshiro`: one xoshiro256++ per stream ([`super::xoshiro`]). Columns `s0`…`s3` (the
//!   state before the word), `word`.

use super::requantize::MAX_VECTORS;
use super::xoshiro::{stream_state, Xoshiro256pp};
use super::{int, Rtl, VectorSet};
use crate::error::{Error, Result};
use crate::source::{Bits, Source};
use lpmc_kernels::WordSource;
use serde_json::json;

/// Settings of a stream set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StreamSettings {
    /// The source (`lfsr:…` for the `lfsr` kind; ignored by `xoshiro`).
    pub source: Source,
    /// Seed.
    pub seed: u64,
    /// Stream index (a chain index in a run).
    pub stream: u64,
    /// Number of words, 1..=MAX_VECTORS.
    pub n: usize,
}

fn check_n(n: usize) -> Result<()> {
    if n == 0 || n > MAX_VECTORS {
        return Err(Error::param(
            "--n",
            n,
            format!("must be in 1..={MAX_VECTORS}"),
        ));
    }
    Ok(())
}

/// A 64-bit value as a Verilog literal (`64'h…`), for testbench parameters.
pub fn verilog_u64(v: u64) -> String {
    format!("64'h{v:016x}")
}

/// The `lfsr` vector set of `s`.
pub fn lfsr(s: &StreamSettings) -> Result<VectorSet> {
    check_n(s.n)?;
    let Source::Lfsr { .. } = s.source else {
        return Err(Error::param(
            "--source",
            s.source,
            "the lfsr kind needs lfsr, lfsr:W or lfsr:W:0xTAPS",
        ));
    };
    let Bits::Lfsr(mut l) = s.source.stream(s.seed, s.stream)? else {
        unreachable!("an lfsr source builds an LFSR")
    };
    let (w, taps, init) = (l.width(), l.taps(), l.state());
    let mut set = VectorSet::new("lfsr");
    set.table.column(
        "state",
        w,
        false,
        format!("the {w}-bit register before the word"),
    );
    set.table.column(
        "word",
        64,
        false,
        "the next 64 output bits, the first in bit 0",
    );
    for _ in 0..s.n {
        let st = l.state();
        let word = l.next_word();
        set.table.push(vec![int(st), int(word)]);
    }
    set.param("source", s.source.to_string());
    set.param("width", w);
    set.param("taps", format!("{taps:#x}"));
    set.param("initial_state", format!("{init:#x}"));
    set.param("seed", s.seed);
    set.param("stream", s.stream);
    set.rule(
        "step",
        "out = s & 1; s = (s >> 1) ^ (out ? taps : 0); a word is 64 steps, step b's output in bit b",
    );
    set.rule(
        "seeding",
        if matches!(s.source, Source::Lfsr { taps: None, .. }) {
            "initial state = mix64(mix64(seed) ^ stream) masked to width bits, 1 if that is 0 (mix64: the SplitMix64 output function)"
        } else {
            "initial state = mix64(mix64(seed) ^ stream) masked to width bits, 1 if that is 0 (mix64: the SplitMix64 output function); explicit taps"
        },
    );
    set.formula = "word[b] = bit 0 of the state after b steps from state; next row's state = the state after 64 steps".into();
    set.rtl = Some(Rtl {
        module: "lpmc_lfsr".into(),
        testbench: "tb_lfsr".into(),
        parameters: serde_json::from_value(json!({"Width": w, "Taps": verilog_u64(taps)}))
            .expect("object"),
    });
    Ok(set)
}

/// The `xoshiro` vector set of `s`.
pub fn xoshiro(s: &StreamSettings) -> Result<VectorSet> {
    check_n(s.n)?;
    let mut g = Xoshiro256pp::new(s.seed, s.stream);
    let mut set = VectorSet::new("xoshiro");
    for i in 0..4 {
        set.table.column(
            &format!("s{i}"),
            64,
            false,
            format!("state word s{i} before the output"),
        );
    }
    set.table
        .column("word", 64, false, "the output rotl(s0 + s3, 23) + s0");
    for _ in 0..s.n {
        let st = g.state();
        let w = g.next_word();
        set.table
            .push(vec![int(st[0]), int(st[1]), int(st[2]), int(st[3]), int(w)]);
    }
    let st = stream_state(s.seed, s.stream);
    set.param("generator", "xoshiro256++");
    set.param("seed", s.seed);
    set.param("stream", s.stream);
    set.param(
        "initial_state",
        st.iter().map(|w| format!("{w:#018x}")).collect::<Vec<_>>(),
    );
    set.rule(
        "seeding",
        "key = mix64(mix64(seed) ^ stream); s[i] = mix64(key + (i+1)·0x9E3779B97F4A7C15) for i = 0..4 (wrapping adds; mix64(z): z = (z ^ z>>30)·0xBF58476D1CE4E5B9; z = (z ^ z>>27)·0x94D049BB133111EB; z ^ z>>31)",
    );
    set.rule(
        "step",
        "word = rotl(s0 + s3, 23) + s0; t = s1 << 17; s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 45)",
    );
    set.formula =
        "word = rotl(s0 + s3, 23) + s0 (mod 2^64); the next row's s0..s3 = one step of this row's"
            .into();
    set.rtl = Some(Rtl {
        module: "lpmc_xoshiro256pp".into(),
        testbench: "tb_xoshiro".into(),
        parameters: serde_json::from_value(
            json!({"Seed": verilog_u64(s.seed), "Stream": verilog_u64(s.stream)}),
        )
        .expect("object"),
    });
    Ok(set)
}
