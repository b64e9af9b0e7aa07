//! Which Gaussian generator a run uses, and the fixed-point normal of the integer datapath.
//!
//! Text form (the `noise_gen` config field): `box-muller` (default), `clt:K:B` (sum of `K`
//! uniform `B`-bit integers, `1 ≤ K ≤ 64`, `1 ≤ B ≤ 26`), `table:T` (inverse-CDF table with
//! `2^T` entries, `1 ≤ T ≤ 20`). The float datapath always draws [`box_muller`] normals; the
//! integer datapath draws codes of the `noise` format from the configured generator
//! ([`IntNormal`]).

use crate::error::{Error, Result};
use crate::format::Format;
use lpmc_kernels::noise::clt_var;
use lpmc_kernels::portable::round_f64;
use lpmc_kernels::Rounding;
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

    /// The generator as the kernels take it ([`lpmc_kernels::rules::Noise`]).
    pub fn kernel_noise(&self) -> lpmc_kernels::rules::Noise<'_> {
        use lpmc_kernels::rules::Noise;
        match self.gen {
            NoiseGen::BoxMuller => Noise::BoxMuller,
            NoiseGen::Clt { k, bits } => Noise::Clt {
                k,
                bits,
                shift: self.clt_shift,
            },
            NoiseGen::Table { bits } => Noise::Table {
                bits,
                table: &self.table,
            },
        }
    }

    /// The table of a `table:T` generator (empty otherwise).
    pub fn table(&self) -> &[i64] {
        &self.table
    }

    /// The CLT sum's shift to the noise format (0 for other generators).
    pub fn clt_shift(&self) -> i32 {
        self.clt_shift
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

    /// The exact law of a `clt:K:B` code: the sum of `K` uniform `B`-bit integers has the
    /// `K`-fold convolution of the uniform pmf; each sum maps to one code.
    fn clt_code_pmf(g: &IntNormal, k: u32, b: u32) -> Vec<(i64, f64)> {
        let n = 1usize << b;
        let mut pmf = vec![1.0 / n as f64; n];
        for _ in 1..k {
            // Convolution with the uniform pmf by a sliding window sum.
            let mut next = vec![0.0; pmf.len() + n - 1];
            let mut acc = 0.0;
            for (i, o) in next.iter_mut().enumerate() {
                if i < pmf.len() {
                    acc += pmf[i];
                }
                if i >= n {
                    acc -= pmf[i - n];
                }
                *o = acc / n as f64;
            }
            pmf = next;
        }
        let f = g.format();
        let off = k as i64 * (n as i64 - 1);
        pmf.iter()
            .enumerate()
            .map(|(s, &p)| {
                let t = 2 * s as i64 - off;
                let q =
                    lpmc_kernels::portable::round_code(t, g.clt_shift(), Rounding::NearestEven, 0);
                (f.overflow().apply(q, f.wl()).0, p)
            })
            .collect()
    }

    fn sd_of(pmf: &[(i64, f64)], delta: f64) -> (f64, f64) {
        let m: f64 = pmf.iter().map(|&(c, p)| c as f64 * p).sum();
        let v: f64 = pmf.iter().map(|&(c, p)| (c as f64 - m).powi(2) * p).sum();
        (m * delta, v.sqrt() * delta)
    }

    /// [`IntNormal::sd`] of `clt:K:B` (the CLT variance plus Sheppard's Δ²/12 when bits are
    /// dropped) against the exact law of the codes: the Sheppard term is exact for a
    /// smooth density and off by at most a fraction of Δ²/12 here, so agreement to 0.2 % of the
    /// sd (Δ²/12 is 2e-7 of the variance at FL = 10) is the formula's accuracy; the mean is
    /// exactly 0 by symmetry (nearest-even rounds ±t alike).
    #[test]
    fn clt_sd_matches_the_exact_law() {
        let f = Format::new(16, 10).unwrap();
        for (k, b) in [(4, 16), (2, 3), (4, 8), (1, 12)] {
            let g = IntNormal::new(NoiseGen::Clt { k, bits: b }, f);
            let (m, sd) = sd_of(&clt_code_pmf(&g, k, b), f.delta());
            assert!(m.abs() < 1e-12, "clt:{k}:{b}: mean {m}");
            assert!(
                (sd / g.sd() - 1.0).abs() < 2e-3,
                "clt:{k}:{b}: exact {sd} vs {}",
                g.sd()
            );
            assert!((g.sd() - 1.0).abs() < 0.45, "clt:{k}:{b}: sd {}", g.sd());
        }
    }

    /// A `table:T` generator's sd is its table's exact sd, near 1, and the table is
    /// antisymmetric (entry j = −entry 2^T−1−j), so its mean is 0.
    #[test]
    fn table_is_symmetric_and_near_unit_sd() {
        let f = Format::new(16, 10).unwrap();
        for t in [4, 8, 12] {
            let g = IntNormal::new(NoiseGen::Table { bits: t }, f);
            let tab = g.table();
            assert_eq!(tab.len(), 1 << t);
            for j in 0..tab.len() {
                assert_eq!(tab[j], -tab[tab.len() - 1 - j], "table:{t} entry {j}");
            }
            let pmf: Vec<(i64, f64)> = tab.iter().map(|&c| (c, 1.0 / tab.len() as f64)).collect();
            let (m, sd) = sd_of(&pmf, f.delta());
            assert!(m.abs() < 1e-12 && (sd - g.sd()).abs() < 1e-12);
            assert!((sd - 1.0).abs() < 0.15, "table:{t}: sd {sd}");
        }
    }
}
