//! Which Gaussian generator a run uses, and the fixed-point normal of the integer datapath.
//!
//! Text form (the `noise_gen` config field): `box-muller` (default), `clt:K:B` (sum of `K`
//! uniform `B`-bit integers, `1 ≤ K ≤ 64`, `1 ≤ B ≤ 26`), `table:T` (inverse-CDF table with
//! `2^T` entries, `1 ≤ T ≤ 20`). The float datapath always draws [`box_muller`] normals; the
//! integer datapath draws codes of the `noise` format from the configured generator
//! ([`IntNormal`]).

use crate::error::{Error, Result};
use crate::format::Format;
use lpmc_kernels::noise::{box_muller, clt, clt_var, table};
use lpmc_kernels::portable::round_f64;
use lpmc_kernels::{Rounding, WordSource};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A Gaussian noise generator.
///
/// ```
/// use lpmc::noise::NoiseGen;
/// assert_eq!("clt:4:16".parse::<NoiseGen>().unwrap(), NoiseGen::Clt { k: 4, bits: 16 });
/// assert_eq!(NoiseGen::Table { bits: 10 }.to_string(), "table:10");
/// assert!("clt:0:8".parse::<NoiseGen>().is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum NoiseGen {
    /// `f64` Box–Muller ([`box_muller`]); on the integer datapath rounded to the `noise` format
    /// (nearest-even).
    #[default]
    BoxMuller,
    /// Centred sum of `k` uniform `bits`-bit integers ([`clt`]).
    Clt {
        /// Number of uniforms summed, 1..=64.
        k: u32,
        /// Bits per uniform, 1..=26.
        bits: u32,
    },
    /// Inverse-CDF table with `2^bits` entries ([`table`]).
    Table {
        /// Index bits, 1..=20.
        bits: u32,
    },
}

impl fmt::Display for NoiseGen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoiseGen::BoxMuller => f.write_str("box-muller"),
            NoiseGen::Clt { k, bits } => write!(f, "clt:{k}:{bits}"),
            NoiseGen::Table { bits } => write!(f, "table:{bits}"),
        }
    }
}

impl FromStr for NoiseGen {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            Error::Config(format!(
                "unknown noise generator `{s}`: expected box-muller, clt:K:B (K in 1..=64, B in 1..=26) or table:T (T in 1..=20)"
            ))
        };
        let parts: Vec<&str> = s.split(':').collect();
        let num = |p: &str, lo: u32, hi: u32| -> Result<u32> {
            match p.parse::<u32>() {
                Ok(v) if (lo..=hi).contains(&v) => Ok(v),
                _ => Err(bad()),
            }
        };
        match parts.as_slice() {
            ["box-muller"] => Ok(NoiseGen::BoxMuller),
            ["clt", k, b] => Ok(NoiseGen::Clt {
                k: num(k, 1, 64)?,
                bits: num(b, 1, 26)?,
            }),
            ["table", t] => Ok(NoiseGen::Table {
                bits: num(t, 1, 20)?,
            }),
            _ => Err(bad()),
        }
    }
}

impl TryFrom<String> for NoiseGen {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<NoiseGen> for String {
    fn from(g: NoiseGen) -> String {
        g.to_string()
    }
}

/// A fixed-point normal generator: fills codes `n` of the `noise` format whose values
/// `n·2^−FL` have mean 0 and standard deviation [`IntNormal::sd`] (close to 1; the integer
/// datapath folds `1/sd` into its noise coefficients).
///
/// - `box-muller`: `n = round_nearest_even(z·2^FL)`, saturated to the noise WL
///   (two words per pair of outputs); `sd` = 1 (the rounding adds Δ²/12, ignored).
/// - `clt:K:B`: the centred sum `T` ([`clt`]) with `s = round(log2 sd_T)` implicit fraction
///   bits, brought to FL by a nearest-even shift; `sd² = Var T/4^s` (+ Δ²/12 when bits are
///   dropped, Sheppard's correction).
/// - `table:T`: `n = table[u]`, entries `round_nearest_even(Φ⁻¹((j + ½)/2^T)·2^FL)`
///   saturated to the noise WL; `sd` is the exact standard deviation of the table.
#[derive(Clone, Debug, PartialEq)]
pub struct IntNormal {
    gen: NoiseGen,
    format: Format,
    table: Vec<i64>,
    clt_shift: i32,
    sd: f64,
}

impl IntNormal {
    /// The generator `gen` producing codes of `format`.
    pub fn new(gen: NoiseGen, format: Format) -> Self {
        let fl = format.fl() as i32;
        let delta = format.delta();
        let sat = |c: i128| format.overflow().apply(c, format.wl()).0;
        match gen {
            NoiseGen::BoxMuller => IntNormal {
                gen,
                format,
                table: Vec::new(),
                clt_shift: 0,
                sd: 1.0,
            },
            NoiseGen::Clt { k, bits } => {
                let var_t = clt_var(k, bits);
                let s = (0.5 * var_t.log2()).round() as i32;
                // Codes carry fl fraction bits, T carries s: shift by s − fl.
                let shift = s - fl;
                let mut var = var_t / 4f64.powi(s);
                if shift > 0 {
                    var += delta * delta / 12.0;
                }
                IntNormal {
                    gen,
                    format,
                    table: Vec::new(),
                    clt_shift: shift,
                    sd: var.sqrt(),
                }
            }
            NoiseGen::Table { bits } => {
                let n = 1usize << bits;
                let table: Vec<i64> = (0..n)
                    .map(|j| {
                        let p = (j as f64 + 0.5) / n as f64;
                        let z = inverse_normal_cdf(p);
                        sat(round_f64(z, fl as u32, Rounding::NearestEven, 0))
                    })
                    .collect();
                let mean = table.iter().map(|&c| c as f64).sum::<f64>() / n as f64;
                let var = table
                    .iter()
                    .map(|&c| (c as f64 - mean).powi(2))
                    .sum::<f64>()
                    / n as f64;
                IntNormal {
                    gen,
                    format,
                    table,
                    clt_shift: 0,
                    sd: var.sqrt() * delta,
                }
            }
        }
    }

    /// Standard deviation of the output values `n·2^−FL`.
    pub fn sd(&self) -> f64 {
        self.sd
    }

    /// The noise format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The generator as the fused kernels take it ([`lpmc_kernels::fused::NoiseGen`]; same
    /// codes and bits as [`IntNormal::fill`]), or `None` for `box-muller`, whose `f64`
    /// normals the fused kernels do not compute.
    pub fn kernel_gen(&self) -> Option<lpmc_kernels::fused::NoiseGen<'_>> {
        match self.gen {
            NoiseGen::BoxMuller => None,
            NoiseGen::Clt { k, bits } => Some(lpmc_kernels::fused::NoiseGen::Clt {
                k,
                bits,
                shift: self.clt_shift,
            }),
            NoiseGen::Table { bits } => Some(lpmc_kernels::fused::NoiseGen::Table {
                bits,
                table: &self.table,
            }),
        }
    }

    /// Fills `out` with noise codes; `scratch` (same length) is working space for the
    /// Box–Muller `f64`s. Bits: exactly those of the generator's kernel for `out.len()` outputs.
    pub fn fill<W: WordSource + ?Sized>(&self, bits: &mut W, out: &mut [i64], scratch: &mut [f64]) {
        let f = self.format;
        let sat = |c: i128| f.overflow().apply(c, f.wl()).0;
        match self.gen {
            NoiseGen::BoxMuller => {
                box_muller(bits, scratch);
                for (o, &z) in out.iter_mut().zip(scratch.iter()) {
                    *o = sat(round_f64(z, f.fl(), Rounding::NearestEven, 0));
                }
            }
            NoiseGen::Clt { k, bits: b } => {
                clt(k, b, bits, out);
                for o in out.iter_mut() {
                    *o = sat(lpmc_kernels::portable::round_code(
                        *o,
                        self.clt_shift,
                        Rounding::NearestEven,
                        0,
                    ));
                }
            }
            NoiseGen::Table { bits: t } => table(&self.table, t, bits, out),
        }
    }
}

/// Φ⁻¹(p) for `p ∈ (0, 1)`.
pub fn inverse_normal_cdf(p: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    Normal::standard().inverse_cdf(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lpmc_kernels::XoshiroLanes;

    /// Every generator's measured value s.d. matches [`IntNormal::sd`]: n = 10⁵ draws, the
    /// relative standard error of a s.d. estimate is ≈ 1/√(2n) ≈ 0.0022 (a little more for
    /// the light-tailed CLT and table laws); 5 SE.
    #[test]
    fn sd_matches_measurement() {
        let f = Format::new(16, 10).unwrap();
        for gen in [
            NoiseGen::BoxMuller,
            NoiseGen::Clt { k: 4, bits: 16 },
            NoiseGen::Clt { k: 2, bits: 3 },
            NoiseGen::Table { bits: 8 },
        ] {
            let g = IntNormal::new(gen, f);
            let n = 100_000;
            let mut out = vec![0i64; n];
            let mut scratch = vec![0.0; n];
            g.fill(&mut XoshiroLanes::new(4, 0), &mut out, &mut scratch);
            let vals: Vec<f64> = out.iter().map(|&c| f.value(c)).collect();
            let m = vals.iter().sum::<f64>() / n as f64;
            let sd = (vals.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n as f64).sqrt();
            let tol = 5.0 / (2.0 * n as f64).sqrt();
            assert!((sd / g.sd() - 1.0).abs() < tol, "{gen}: {sd} vs {}", g.sd());
            assert!(
                m.abs() < 5.0 * g.sd() / (n as f64).sqrt(),
                "{gen}: mean {m}"
            );
            assert!((g.sd() - 1.0).abs() < 0.45, "{gen}: sd {}", g.sd());
        }
    }
}
