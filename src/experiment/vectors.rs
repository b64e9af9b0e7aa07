//! `lpmc vectors KIND --out DIR`: produce one vector set ([`crate::vectors`]) and write it.

use crate::error::{Error, Result};
use crate::vectors::noise::NoiseSettings;
use crate::vectors::quantize::QuantizeSettings;
use crate::vectors::requantize::RequantizeSettings;
use crate::vectors::step::StepSettings;
use crate::vectors::stream::StreamSettings;
use crate::vectors::{VectorSet, Written};
use std::path::Path;

/// A kind of vector set with its settings.
#[derive(Clone, Debug, PartialEq)]
pub enum VectorKind {
    /// A rounding unit on integer input.
    Requantize(RequantizeSettings),
    /// A rounding unit on `f64` input.
    Quantize(QuantizeSettings),
    /// The words of an LFSR stream.
    Lfsr(StreamSettings),
    /// The words of a xoshiro256++ stream.
    Xoshiro(StreamSettings),
    /// An integer noise generator.
    Noise(NoiseSettings),
    /// One sampler update lane (`sgld-step`, `sghmc-step`).
    Step(Box<StepSettings>),
}

impl VectorKind {
    /// The set (nothing written).
    pub fn produce(&self) -> Result<VectorSet> {
        match self {
            VectorKind::Requantize(s) => crate::vectors::requantize::produce(s),
            VectorKind::Quantize(s) => crate::vectors::quantize::produce(s),
            VectorKind::Lfsr(s) => crate::vectors::stream::lfsr(s),
            VectorKind::Xoshiro(s) => crate::vectors::stream::xoshiro(s),
            VectorKind::Noise(s) => crate::vectors::noise::produce(s),
            VectorKind::Step(s) => crate::vectors::step::produce(s),
        }
    }
}

/// Produces the set of `kind` and writes it into `out` (nothing is written on bad input).
pub fn vectors(kind: &VectorKind, out: &Path) -> Result<Written> {
    kind.produce()?.write(out)
}

/// Reads a file of one item per line (blank lines and `#` comments skipped), parsing each
/// with `parse`; an error names the file, the line and the text.
fn read_lines<T>(path: &Path, what: &str, parse: impl Fn(&str) -> Option<T>) -> Result<Vec<T>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.split('#').next().unwrap_or("").trim();
        if l.is_empty() {
            continue;
        }
        out.push(parse(l).ok_or_else(|| {
            Error::param(
                format!("{} line {}", path.display(), i + 1),
                format!("`{l}`"),
                format!("must be {what}"),
            )
        })?);
    }
    Ok(out)
}

/// Input codes for `requantize --inputs`: one signed decimal integer per line.
pub fn read_codes(path: &Path) -> Result<Vec<i64>> {
    read_lines(path, "a signed decimal integer code", |l| l.parse().ok())
}

/// Input values for `quantize --inputs`: one number per line (decimal, `inf`, `-inf`,
/// `NaN`), or an IEEE-754 bit pattern written `0x…` (16 hex digits at most).
pub fn read_values(path: &Path) -> Result<Vec<f64>> {
    read_lines(path, "a number or a 0x bit pattern", |l| {
        match l.strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16).ok().map(f64::from_bits),
            None => l.parse().ok(),
        }
    })
}
