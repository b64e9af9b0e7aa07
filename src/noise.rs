//! Which Gaussian generator a run uses, and the fixed-point normal of the integer datapath.
//!
//! Text form (the `noise_gen` config field): `box-muller` (default), `clt:K:B` (sum of `K`
//! uniform `B`-bit integers, `1 ≤ K ≤ 64`, `1 ≤ B ≤ 26`), `table:T` (inverse-CDF table with
//! `2^T` entries, `1 ≤ T ≤ 20`). The float datapath always draws [`box_muller`](lpmc_kernels::noise::box_muller) normals; the
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
    /// `f64` Box–Muller ([`box_muller`](lpmc_kernels::noise::box_muller)); on the integer datapath rounded to the `noise` format
    /// (nearest-even).
    #[default]
    BoxMuller,
    /// Centred sum of `k` uniform `bits`-bit integers ([`clt`](lpmc_kernels::noise::clt)).
    Clt {
        /// Number of uniforms summed, 1..=64.
        k: u32,
        /// Bits per uniform, 1..=26.
        bits: u32,
    },
    /// Inverse-CDF table with `2^bits` entries ([`table`](lpmc_kernels::noise::table)).
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
/// - `clt:K:B`: the centred sum `T` ([`clt`](lpmc_kernels::noise::clt)) with `s = round(log2 sd_T)` implicit fraction
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

    /// The exact pmf of the output codes, `(code, probability)` in increasing code order, for
    /// `clt:K:B` with `K·2^B ≤ 2^20` and for `table:T`; `None` for `box-muller` (an `f64`
    /// normal) and larger CLT sums. The `clt` pmf is the `K`-fold convolution of the uniform
    /// law on `0..2^B`, mapped through `T = 2S − K(2^B − 1)`, the nearest-even shift and the
    /// overflow rule, exactly as the kernels' noise stage maps each draw.
    pub fn pmf(&self) -> Option<Vec<(i64, f64)>> {
        self.exact_law().map(|(pmf, _)| pmf)
    }

    /// [`IntNormal::pmf`] and the probability that a draw left the range (before the
    /// overflow rule).
    fn exact_law(&self) -> Option<(Vec<(i64, f64)>, f64)> {
        let f = self.format;
        let sat = |c: i128| f.overflow().apply(c, f.wl()).0;
        let mut by_code = std::collections::BTreeMap::new();
        let mut clip = 0.0;
        match self.gen {
            NoiseGen::BoxMuller => return None,
            NoiseGen::Clt { k, bits } => {
                let m = 1usize << bits;
                if (k as u64) * (m as u64) > CLT_EXACT_MAX {
                    return None;
                }
                // pmf of S = Σ u, u uniform on 0..m, by k sliding-window convolutions.
                let mut p = vec![1.0 / m as f64; m];
                for _ in 1..k {
                    let mut q = vec![0.0; p.len() + m - 1];
                    let mut window = 0.0;
                    for (j, slot) in q.iter_mut().enumerate() {
                        if j < p.len() {
                            window += p[j];
                        }
                        if j >= m {
                            window -= p[j - m];
                        }
                        *slot = window / m as f64;
                    }
                    p = q;
                }
                let offset = k as i64 * (m as i64 - 1);
                for (sum, &prob) in p.iter().enumerate() {
                    let t = 2 * sum as i64 - offset;
                    let raw = lpmc_kernels::portable::round_code(
                        t,
                        self.clt_shift,
                        Rounding::NearestEven,
                        0,
                    );
                    if raw < f.min_code() as i128 || raw > f.max_code() as i128 {
                        clip += prob;
                    }
                    *by_code.entry(sat(raw)).or_insert(0.0) += prob;
                }
            }
            NoiseGen::Table { bits } => {
                let w = 1.0 / self.table.len() as f64;
                for &c in &self.table {
                    *by_code.entry(c).or_insert(0.0) += w;
                }
                // Entries j with Φ⁻¹((j + ½)/2^T) rounding beyond the range ends.
                let n = (1u64 << bits) as f64;
                let (lo, hi) = (
                    f.min_value() - f.delta() / 2.0,
                    f.max_value() + f.delta() / 2.0,
                );
                let above = (n - (statrs_cdf(hi) * n - 0.5).ceil()).max(0.0);
                let below = (statrs_cdf(lo) * n - 0.5).ceil().max(0.0);
                clip = (above + below) / n;
            }
        }
        Some((by_code.into_iter().collect(), clip))
    }

    /// The largest magnitude of an output code (after the overflow rule): what bounds the
    /// noise term of the integer datapath's sums.
    pub fn max_abs_code(&self) -> u64 {
        let f = self.format;
        let top = f.min_code().unsigned_abs();
        match self.gen {
            NoiseGen::BoxMuller => {
                ((BOX_MULLER_MAX * f.delta().recip()).ceil() as u64 + 1).min(top)
            }
            NoiseGen::Clt { k, bits } => {
                let m = (k as u64 * ((1u64 << bits) - 1)) as u128;
                let shifted = if self.clt_shift >= 0 {
                    (m >> self.clt_shift) + 1
                } else {
                    m << (-self.clt_shift) as u32
                };
                shifted.min(top as u128) as u64
            }
            NoiseGen::Table { .. } => self
                .table
                .iter()
                .map(|c| c.unsigned_abs())
                .max()
                .unwrap_or(0),
        }
    }

    /// The law of the output values `n·2^−FL`, clipping by the format's range included: from
    /// [`IntNormal::pmf`] when it exists, else from the Gaussian of the generator's variance
    /// rounded to the format (`box-muller`, large CLT sums). Compare [`NoiseLaw::sd`] with
    /// [`IntNormal::sd`] (what the coefficients assume): they differ when the range clips.
    pub fn law(&self) -> NoiseLaw {
        let f = self.format;
        let delta = f.delta();
        let (lo, hi) = (f.min_value(), f.max_value());
        if let Some((pmf, clip)) = self.exact_law() {
            let mean: f64 = pmf.iter().map(|&(c, p)| p * f.value(c)).sum();
            let var: f64 = pmf
                .iter()
                .map(|&(c, p)| p * (f.value(c) - mean).powi(2))
                .sum();
            return NoiseLaw {
                mean,
                sd: var.sqrt(),
                clip,
                exact: true,
            };
        }
        // Gaussian N(0, s²) rounded to Δ (Sheppard: + Δ²/12), clipped to [lo, hi].
        let s = match self.gen {
            NoiseGen::Clt { k, bits } => {
                clt_var(k, bits).sqrt() * (-(clt_fraction_bits(k, bits) as f64)).exp2()
            }
            _ => 1.0,
        };
        let (a, b) = ((lo - delta / 2.0) / s, (hi + delta / 2.0) / s);
        let (pa, pb) = (statrs_cdf(a), statrs_cdf(b));
        let (da, db) = (normal_pdf(a), normal_pdf(b));
        let (ca, cb) = (lo / s, hi / s);
        let mean = s * (ca * pa + cb * (1.0 - pb) + da - db);
        let second = (pb - pa) - (b * db - a * da) + ca * ca * pa + cb * cb * (1.0 - pb);
        let rounding = if matches!(self.gen, NoiseGen::Clt { .. }) && self.clt_shift <= 0 {
            0.0
        } else {
            delta * delta / 12.0
        };
        let var = (s * s * second - mean * mean + rounding).max(0.0);
        let clip = if matches!(self.gen, NoiseGen::BoxMuller) && hi >= BOX_MULLER_MAX {
            0.0
        } else {
            pa + (1.0 - pb)
        };
        NoiseLaw {
            mean,
            sd: var.sqrt(),
            clip,
            exact: false,
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

/// Largest magnitude of a Box–Muller normal, `√(2·53·ln 2)` (`u1 ≥ 2^−53`).
pub const BOX_MULLER_MAX: f64 = 8.571_674_227_5;

/// Largest `K·2^B` for which [`IntNormal::law`] convolves the `clt:K:B` pmf exactly (above
/// it the law is the Gaussian of the same variance, which the CLT sum is close to).
const CLT_EXACT_MAX: u64 = 1 << 20;

/// Largest relative rounding error of the noise the default noise format allows: its own
/// rounding error (s.d. Δ/√12) is below 1 % of the generator's s.d.
pub const NOISE_ROUNDING_MAX: f64 = 0.01;

impl NoiseGen {
    /// The noise format the integer datapath uses when `formats.noise` is not given: the
    /// narrowest that holds every value the generator makes and whose own rounding error is
    /// under 1 % of its s.d. ([`NOISE_ROUNDING_MAX`]):
    ///
    /// - `box-muller`: FL 5 (Δ/√12 = 0.009), integer bits for |z| ≤ 8.57: Q(10, 5);
    /// - `clt:K:B`: the sum's own `s = round(log2 sd_T)` fraction bits (no rounding at all),
    ///   WL for `±K(2^B − 1)`; above 32 bits the lowest bits are dropped (FL lowered);
    /// - `table:T`: FL 5, WL for the largest entry `Φ⁻¹(1 − 2^−(T+1))`.
    ///
    /// ```
    /// use lpmc::noise::NoiseGen;
    /// let f = NoiseGen::Clt { k: 4, bits: 8 }.default_format();
    /// assert_eq!((f.wl(), f.fl()), (11, 8)); // ±1020 with 8 fraction bits, exact
    /// assert_eq!((NoiseGen::BoxMuller.default_format().wl(), NoiseGen::BoxMuller.default_format().fl()), (10, 5));
    /// ```
    pub fn default_format(self) -> Format {
        // Smallest FL with Δ/√12 < 1 % of a unit s.d.
        let fine_fl = (0..=crate::format::MAX_FL)
            .find(|&fl| (-(fl as f64)).exp2() / 12f64.sqrt() < NOISE_ROUNDING_MAX)
            .unwrap_or(crate::format::MAX_FL);
        let wl_for = |max_code: u64| bits_for_magnitude(max_code).max(crate::format::MIN_WL);
        let (wl, fl) = match self {
            NoiseGen::BoxMuller => {
                let m = (BOX_MULLER_MAX * (fine_fl as f64).exp2()).ceil() as u64;
                (wl_for(m), fine_fl)
            }
            NoiseGen::Clt { k, bits } => {
                let s = clt_fraction_bits(k, bits).max(0) as u32;
                let m = k as u64 * ((1u64 << bits) - 1);
                let wl = wl_for(m);
                let drop = wl.saturating_sub(crate::format::MAX_STORED_WL);
                (wl - drop, s.saturating_sub(drop))
            }
            NoiseGen::Table { bits } => {
                let top = inverse_normal_cdf(1.0 - 0.5 / (1u64 << bits) as f64);
                let m = (top * (fine_fl as f64).exp2()).round() as u64;
                (wl_for(m), fine_fl)
            }
        };
        Format::new(wl, fl).expect("a noise format within 2..=32 bits")
    }
}

/// Bits (sign included) of the narrowest two's complement word holding `−m..=m`.
///
/// ```
/// use lpmc::noise::bits_for_magnitude;
/// assert_eq!((bits_for_magnitude(0), bits_for_magnitude(127), bits_for_magnitude(128)), (1, 8, 9));
/// ```
pub fn bits_for_magnitude(m: u64) -> u32 {
    65 - m.leading_zeros()
}

/// `s = round(log2 sd_T)`: the implicit fraction bits of the `clt:K:B` sum `T` (its values are
/// `T·2^−s`).
fn clt_fraction_bits(k: u32, bits: u32) -> i32 {
    (0.5 * clt_var(k, bits).log2()).round() as i32
}

/// The law of a generator's output values after the noise format's rounding and overflow
/// rule ([`IntNormal::law`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NoiseLaw {
    /// Mean of the values.
    pub mean: f64,
    /// Standard deviation of the values (including the clipping of the range ends).
    pub sd: f64,
    /// Probability that a draw lies outside the noise format's range (and saturates or wraps).
    pub clip: f64,
    /// Whether the law was computed exactly from the generator's pmf (`clt` up to
    /// `K·2^B ≤ 2^20`, `table`) rather than from the Gaussian of the same variance.
    pub exact: bool,
}

/// Φ(x), the standard normal cdf.
fn statrs_cdf(x: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    Normal::standard().cdf(x)
}

/// φ(x), the standard normal density.
fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
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
