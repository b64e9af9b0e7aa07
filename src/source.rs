//! Which random-bit source a run draws from, and the per-stream generators it builds.
//!
//! Text form: `xoshiro` (default: [`Xoshiro`], one xoshiro256++ generator per stream), `lfsr` (a
//! 32-bit Galois LFSR with maximal-length taps), `lfsr:W` (width `W` with its default taps),
//! `lfsr:W:0xTAPS` (explicit taps). Every stream is named by `(seed, stream index)` only; the
//! derivations are documented on [`Xoshiro`] and [`Lfsr::stream`].

use crate::error::{Error, Result};
use lpmc_kernels::{Lfsr, WordSource, Xoshiro};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A kind of random-bit source.
///
/// ```
/// use lpmc::source::Source;
/// let s: Source = "lfsr:16".parse().unwrap();
/// assert_eq!(s, Source::Lfsr { width: 16, taps: None });
/// assert_eq!(s.to_string(), "lfsr:16");
/// assert!("lfsr:13".parse::<Source>().is_err()); // no default taps for 13 bits
/// assert!("lfsr:13:0x1c80".parse::<Source>().is_ok()); // explicit taps
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Source {
    /// One xoshiro256++ generator per stream ([`Xoshiro`]).
    #[default]
    Xoshiro,
    /// A Galois LFSR ([`Lfsr`]).
    Lfsr {
        /// Register width in bits, 2..=64.
        width: u32,
        /// Feedback mask; `None` for the width's default maximal-length taps.
        taps: Option<u64>,
    },
}

impl Source {
    /// The generator of stream `stream` under `seed`.
    pub fn stream(self, seed: u64, stream: u64) -> Result<Bits> {
        Ok(match self {
            Source::Xoshiro => Bits::Xoshiro(Xoshiro::new(seed, stream)),
            Source::Lfsr { width, taps: None } => Bits::Lfsr(Lfsr::stream(width, seed, stream)?),
            Source::Lfsr {
                width,
                taps: Some(t),
            } => Bits::Lfsr(Lfsr::new(
                width,
                t,
                lpmc_kernels::bits::mix64(seed) ^ stream,
            )?),
        })
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Xoshiro => f.write_str("xoshiro"),
            Source::Lfsr { width, taps: None } => write!(f, "lfsr:{width}"),
            Source::Lfsr {
                width,
                taps: Some(t),
            } => write!(f, "lfsr:{width}:{t:#x}"),
        }
    }
}

impl FromStr for Source {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            Error::Config(format!(
                "unknown random source `{s}`: expected xoshiro, lfsr, lfsr:WIDTH or lfsr:WIDTH:0xTAPS (WIDTH in 2..=64)"
            ))
        };
        let mut parts = s.split(':');
        match parts.next() {
            Some("xoshiro") if parts.next().is_none() => Ok(Source::Xoshiro),
            Some("lfsr") => {
                let width = match parts.next() {
                    None => 32,
                    Some(w) => w.parse().map_err(|_| bad())?,
                };
                let taps = match parts.next() {
                    None => None,
                    Some(t) => {
                        let hex = t.strip_prefix("0x").ok_or_else(bad)?;
                        Some(u64::from_str_radix(hex, 16).map_err(|_| bad())?)
                    }
                };
                if parts.next().is_some() {
                    return Err(bad());
                }
                let src = Source::Lfsr { width, taps };
                src.stream(0, 0)?; // validate width and taps now, not at first use
                Ok(src)
            }
            _ => Err(bad()),
        }
    }
}

impl TryFrom<String> for Source {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<Source> for String {
    fn from(s: Source) -> String {
        s.to_string()
    }
}

/// A generator built by [`Source::stream`]. Not boxed: each chain owns one and the hot loop
/// should not chase a pointer per word.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Bits {
    /// A xoshiro256++ generator.
    Xoshiro(Xoshiro),
    /// A Galois LFSR.
    Lfsr(Lfsr),
}

impl WordSource for Bits {
    #[inline]
    fn next_word(&mut self) -> u64 {
        match self {
            Bits::Xoshiro(x) => x.next_word(),
            Bits::Lfsr(l) => l.next_word(),
        }
    }
    fn fill(&mut self, out: &mut [u64]) {
        match self {
            Bits::Xoshiro(x) => x.fill(out),
            Bits::Lfsr(l) => l.fill(out),
        }
    }
    fn as_xoshiro(&mut self) -> Option<&mut Xoshiro> {
        match self {
            Bits::Xoshiro(x) => Some(x),
            Bits::Lfsr(_) => None,
        }
    }
}
