//! The run config of `lpmc run`: JSON or TOML (by file extension), every field documented in
//! `docs/config.md`, unknown fields rejected, defaults = the papers' settings.
//!
//! ```
//! use lpmc::experiment::config::RunConfig;
//! let c: RunConfig = serde_json::from_str(r#"{
//!     "target": {"gaussian": {"mean": [0.0], "var": [1.0]}},
//!     "sampler": {"sghmc": {"variant": "lp-l", "eta": 0.09, "u": 2.0, "gamma": 3.0}},
//!     "format": {"wl": 8, "fl": 4}, "rounding": "sr", "datapath": "float",
//!     "grad_noise": 0.0, "chains": 100, "steps": 400, "burn_in": 200, "thin": 10, "seed": 1}"#).unwrap();
//! let built = c.build().unwrap();
//! assert_eq!(built.sampler.dim(), 1);
//! assert!(serde_json::from_str::<RunConfig>(r#"{"target": "paper-mixture", "sampler": {"sgld": {}}, "stepz": 3}"#).is_err());
//! ```

use crate::error::{Error, Result};
use crate::format::Format;
use crate::noise::NoiseGen;
use crate::round::Rounding;
use crate::sampler::sghmc::{Sghmc, SghmcParams, SghmcVariant};
use crate::sampler::sgld::{Sgld, SgldVariant};
use crate::sampler::{Datapath, Formats, Sampler, Setup};
use crate::source::Source;
use crate::target::{Target, TargetConfig};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A whole run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// The distribution to sample.
    pub target: TargetConfig,
    /// The sampler and its parameters.
    pub sampler: SamplerConfig,
    /// The default format of every quantity; Q(8, 4) by default (\[S\] §4.1).
    #[serde(default = "default_format")]
    pub format: Format,
    /// Per-quantity formats, each defaulting to `format`.
    #[serde(default)]
    pub formats: FormatOverrides,
    /// Rounding of every quantization; `sr` (exact stochastic rounding) by default.
    #[serde(default = "default_rounding")]
    pub rounding: Rounding,
    /// `float` (default) or `integer`.
    #[serde(default)]
    pub datapath: Datapath,
    /// σ_g ≥ 0: standard deviation of the Gaussian noise added to the gradient (default 0).
    #[serde(default)]
    pub grad_noise: f64,
    /// Gaussian generator of the integer datapath (default `box-muller`).
    #[serde(default)]
    pub noise_gen: NoiseGen,
    /// Random-bit source (default `xoshiro`).
    #[serde(default)]
    pub source: Source,
    /// Independent chains (default 1000).
    #[serde(default = "default_chains")]
    pub chains: usize,
    /// Steps per chain (default 10000).
    #[serde(default = "default_steps")]
    pub steps: u64,
    /// Steps discarded at the start of each chain (default 1000); must be < `steps`.
    #[serde(default = "default_burn_in")]
    pub burn_in: u64,
    /// Keep every `thin`-th step after burn-in (default 1).
    #[serde(default = "default_thin")]
    pub thin: u64,
    /// Seed of every random stream (default 0); `--seed` overrides it.
    #[serde(default)]
    pub seed: u64,
    /// Initial position (length d); default the origin (\[L\]: θ₀ = 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x0: Option<Vec<f64>>,
    /// Largest number of rows of `samples.csv` (default 100000; 0 writes only the header).
    #[serde(default = "default_max_rows")]
    pub max_sample_rows: usize,
}

fn default_format() -> Format {
    Format::new(8, 4).expect("Q(8,4) is valid")
}
fn default_rounding() -> Rounding {
    Rounding::StochasticExact
}
fn default_chains() -> usize {
    1000
}
fn default_steps() -> u64 {
    10_000
}
fn default_burn_in() -> u64 {
    1000
}
fn default_thin() -> u64 {
    1
}
fn default_max_rows() -> usize {
    100_000
}

/// Per-quantity formats; a missing one is the run's `format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormatOverrides {
    /// Position x of `-L` variants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<Format>,
    /// Momentum v of `-L` SGHMC variants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub momentum: Option<Format>,
    /// Gradient Q_G.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grad: Option<Format>,
    /// Wide accumulator (integer datapath) and the `-F` master copy on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accum: Option<Format>,
    /// Coefficients on the integer datapath.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coef: Option<Format>,
    /// Noise codes on the integer datapath.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise: Option<Format>,
}

/// The `sampler` section: `{"sgld": {...}}` or `{"sghmc": {...}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum SamplerConfig {
    /// Stochastic gradient Langevin dynamics.
    Sgld(SgldConfig),
    /// Stochastic gradient Hamiltonian Monte Carlo.
    Sghmc(SghmcConfig),
}

/// SGLD parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SgldConfig {
    /// `fp`, `lp-f`, `lp-l` (default) or `vc-l`.
    #[serde(default)]
    pub variant: SgldVariant,
    /// Step η > 0 (default 2e-3, \[L\]'s Gaussian experiment).
    #[serde(default = "default_sgld_eta")]
    pub eta: f64,
}

fn default_sgld_eta() -> f64 {
    2e-3
}

/// SGHMC parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SghmcConfig {
    /// `fp`, `lp-f`, `lp-l` (default), `vc-l` or `vc-joint`.
    #[serde(default)]
    pub variant: SghmcVariant,
    /// Step η > 0 (default 0.09, \[S\] §4.1 Gaussian).
    #[serde(default = "default_sghmc_eta")]
    pub eta: f64,
    /// Inverse mass u > 0 (default 2).
    #[serde(default = "default_u")]
    pub u: f64,
    /// Friction γ > 0 (default 3).
    #[serde(default = "default_gamma")]
    pub gamma: f64,
    /// Use the published `+` sign of the x-update's gradient term (default false).
    #[serde(default)]
    pub paper_sign: bool,
    /// Momentum rescaling S_v of \[S\] Algorithm 1 (default false; float datapath only).
    #[serde(default)]
    pub rescale_momentum: bool,
    /// VC variants store momentum in Q(WL+2, FL) as the \[S\] code does (default false).
    #[serde(default)]
    pub vc_wide_momentum: bool,
    /// Headroom c ≥ 1 of the momentum rescaling: S = min(1, max|v̄|/(c·V_max)) (default 1,
    /// the \[S\] code's `vel_scaling`).
    #[serde(default = "default_headroom")]
    pub rescale_headroom: f64,
}

fn default_headroom() -> f64 {
    1.0
}

fn default_sghmc_eta() -> f64 {
    0.09
}
fn default_u() -> f64 {
    2.0
}
fn default_gamma() -> f64 {
    3.0
}

/// A validated, built run.
#[derive(Debug)]
pub struct Built {
    /// The target.
    pub target: Box<dyn Target>,
    /// The sampler.
    pub sampler: Box<dyn Sampler>,
    /// The initial position.
    pub x0: Vec<f64>,
}

/// The text of [`RunConfig::builtin`], the example config of issue #3.
pub const BUILTIN_CONFIG: &str = r#"{"target": {"gaussian": {"mean": [0.0], "var": [1.0]}},
 "sampler": {"sghmc": {"variant": "lp-l", "eta": 0.09, "u": 2.0, "gamma": 3.0}},
 "format": {"wl": 8, "fl": 4}, "rounding": "sr", "datapath": "float",
 "grad_noise": 0.0, "chains": 10000, "steps": 4000, "burn_in": 2000, "thin": 10, "seed": 1}"#;

impl RunConfig {
    /// The built-in run `lpmc run` performs when given no config: \[S\] §4.1, SGHMC `lp-l` on
    /// N(0, 1) at η = 0.09, u = 2, γ = 3, 8-bit Q(8, 4), exact SR, 10000 chains × 4000 steps
    /// (text: [`BUILTIN_CONFIG`]).
    pub fn builtin() -> Self {
        serde_json::from_str(BUILTIN_CONFIG).expect("the built-in config is valid (tested)")
    }

    /// Reads a config: `.toml` files as TOML, everything else as JSON. Errors are one line.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let toml = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
        if toml {
            toml::from_str(&text).map_err(|e| {
                let at = e.span().map_or(String::new(), |s| {
                    format!(" at line {}", text[..s.start].matches('\n').count() + 1)
                });
                Error::Config(format!(
                    "{}: {}{at}",
                    path.display(),
                    e.message().replace('\n', " ")
                ))
            })
        } else {
            serde_json::from_str(&text)
                .map_err(|e| Error::Config(format!("{}: {e}", path.display())))
        }
    }

    /// The config with every per-quantity format filled in (what `result.json` records).
    pub fn resolved(&self) -> Self {
        let f = self.formats();
        let mut c = self.clone();
        c.formats = FormatOverrides {
            param: Some(f.param),
            momentum: Some(f.momentum),
            grad: Some(f.grad),
            accum: Some(f.accum),
            coef: Some(f.coef),
            noise: Some(f.noise),
        };
        c
    }

    /// The per-quantity formats.
    pub fn formats(&self) -> Formats {
        let o = &self.formats;
        let f = self.format;
        Formats {
            param: o.param.unwrap_or(f),
            momentum: o.momentum.unwrap_or(f),
            grad: o.grad.unwrap_or(f),
            accum: o.accum.unwrap_or(f),
            coef: o.coef.unwrap_or(f),
            noise: o.noise.unwrap_or(f),
        }
    }

    /// Validates everything and builds the target and the sampler.
    pub fn build(&self) -> Result<Built> {
        let target = self.target.build()?;
        let d = target.dim();
        let x0 = match &self.x0 {
            None => vec![0.0; d],
            Some(x) if x.len() != d => {
                return Err(Error::Config(format!(
                    "dimension mismatch: x0 has {} entries but the target has dimension {d}",
                    x.len()
                )))
            }
            Some(x) => {
                crate::target::check_finite("x0", x)?;
                x.clone()
            }
        };
        if self.chains == 0 {
            return Err(Error::param("chains", 0, "must be at least 1"));
        }
        if self.steps == 0 {
            return Err(Error::param("steps", 0, "must be at least 1"));
        }
        if self.thin == 0 {
            return Err(Error::param("thin", 0, "must be at least 1"));
        }
        if self.burn_in >= self.steps {
            return Err(Error::param(
                "burn_in",
                self.burn_in,
                format!("must be less than steps = {}", self.steps),
            ));
        }
        let sampler = self.build_sampler(d)?;
        Ok(Built {
            target,
            sampler,
            x0,
        })
    }
}

impl RunConfig {
    /// The config's sampler in dimension `d` (the target's), without building the target.
    pub fn build_sampler(&self, d: usize) -> Result<Box<dyn Sampler>> {
        let setup = Setup {
            formats: self.formats(),
            rounding: self.rounding,
            datapath: self.datapath,
            grad_noise: self.grad_noise,
            noise_gen: self.noise_gen,
        };
        Ok(match &self.sampler {
            SamplerConfig::Sgld(s) => Box::new(Sgld::new(s.variant, s.eta, setup, d)?),
            SamplerConfig::Sghmc(s) => Box::new(Sghmc::new(
                s.variant,
                SghmcParams {
                    eta: s.eta,
                    u: s.u,
                    gamma: s.gamma,
                    paper_sign: s.paper_sign,
                    rescale_momentum: s.rescale_momentum,
                    vc_wide_momentum: s.vc_wide_momentum,
                    rescale_headroom: s.rescale_headroom,
                },
                setup,
                d,
            )?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The built-in config is the issue's example, and it builds.
    #[test]
    fn builtin_config_is_valid() {
        let c = RunConfig::builtin();
        assert_eq!((c.chains, c.steps, c.seed), (10000, 4000, 1));
        assert!(c.build().is_ok());
    }
}
