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

use crate::diagnostics::num;
use crate::error::{Error, Result};
use crate::format::Format;
use crate::noise::NoiseGen;
use crate::round::Rounding;
use crate::sampler::sghmc::{Coefs, Sghmc, SghmcParams, SghmcVariant};
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
    /// The default format of the stored quantities (param, momentum, grad, and on the float
    /// datapath every quantity); Q(8, 4) by default (\[S\] §4.1).
    #[serde(default = "default_format")]
    pub format: Format,
    /// Per-quantity formats. A missing one is `format`, except on the integer datapath, where
    /// a missing `coef`, `accum` or `noise` gets a format that holds it
    /// ([`RunConfig::formats`]).
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
    /// Budget in bytes of the kept samples a run returns (8 bytes per coordinate of a row,
    /// rows of `samples.csv` and the evaluator's input), ≥ 1; absent: 64 MiB
    /// ([`DEFAULT_MAX_SAMPLES_BYTES`]). `--max-samples-bytes` overrides it. The streamed
    /// per-dimension moments always cover every kept sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_samples_bytes: Option<u64>,
    /// What the evaluator computes after the run (docs/evaluator.md); absent: the defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation: Option<EvaluationConfig>,
}

/// The default budget of returned kept samples, 64 MiB.
pub const DEFAULT_MAX_SAMPLES_BYTES: u64 = 64 << 20;

/// Above this many dimensions a run writes its per-dimension moments to `moments.csv`
/// instead of `result.json` and is scored in O(n·d) memory (marginal, sliced and diagonal
/// Bures W2; docs/evaluator.md).
pub const HIGH_DIM: usize = 1000;

/// The `evaluation` section of a run config.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluationConfig {
    /// Random directions of sliced W2 (d > 1); 0 skips it. Default 64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slices: Option<usize>,
    /// Compute the exact W2/W1 of every marginal (default true); false skips them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marginals: Option<bool>,
    /// Also write `marginals.csv` (`dim,w2,w1`) with the distance of every marginal
    /// (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marginals_csv: Option<bool>,
}

impl EvaluationConfig {
    /// Sliced-W2 directions (default 64, the evaluator's).
    pub fn slices(&self) -> usize {
        self.slices.unwrap_or(64)
    }
    /// Whether the marginals are scored (default true).
    pub fn marginals(&self) -> bool {
        self.marginals.unwrap_or(true)
    }
    /// Whether `marginals.csv` is written (default false).
    pub fn marginals_csv(&self) -> bool {
        self.marginals_csv.unwrap_or(false)
    }
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

/// Per-quantity formats as given; a missing one is resolved by [`RunConfig::formats`].
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
    /// The resolved per-quantity formats the sampler was built with.
    pub formats: Formats,
    /// The sampler's coefficients quantized to `coef` (integer datapath), as
    /// `(name, exact value, code)`; empty when the step runs in `f64`.
    pub coefficients: Vec<Coefficient>,
}

/// The field path of a deserialization error for a message: `sampler.sgld.eta`, or empty for
/// the whole document (serde_path_to_error writes `.`).
pub fn field_path(p: &str) -> String {
    if p == "." || p == "?" {
        String::new()
    } else {
        p.to_string()
    }
}

/// `FIELD: message`, or the message alone for an error of the whole document.
fn with_path(path: String, msg: String) -> String {
    let at = field_path(&path);
    let msg = msg.replace('\n', " ");
    if at.is_empty() {
        msg
    } else {
        format!("{at}: {msg}")
    }
}

/// A run config from JSON text; the error names the field it is about (`chains: invalid
/// type: string "ten", expected usize at line 3 column 14`).
pub fn from_json_text(text: &str) -> std::result::Result<RunConfig, String> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de)
        .map_err(|e| with_path(e.path().to_string(), e.into_inner().to_string()))
}

/// A run config from a JSON value; the error names the field it is about.
pub fn from_json_value(v: serde_json::Value) -> std::result::Result<RunConfig, String> {
    serde_path_to_error::deserialize(v)
        .map_err(|e| with_path(e.path().to_string(), e.into_inner().to_string()))
}

/// A TOML error as one line: `FILE: message at line N`.
fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> Error {
    let at = e.span().map_or(String::new(), |s| {
        format!(
            " at line {}",
            text[..s.start.min(text.len())].matches('\n').count() + 1
        )
    });
    Error::Config(format!(
        "{}: {}{at}",
        path.display(),
        e.message().replace('\n', " ")
    ))
}

/// A built sampler with what the format rule and the diagnostics read from it.
struct SamplerParts {
    coefficients: Vec<Coefficient>,
    momentum: Option<Format>,
    sampler: Box<dyn Sampler>,
}

/// A sampler coefficient on the integer datapath: `(name, exact value, code in coef)`.
pub type Coefficient = (&'static str, f64, i64);

/// The names of SGLD's integer coefficients, in the order of `Sgld::int_coefs` (as
/// `Sgld::new` names them in its errors).
const SGLD_COEFFICIENTS: [&str; 2] = ["eta", "sqrt(2·eta·T)/s_n"];

/// The names of SGHMC's integer coefficients, in the order of `Sghmc::int_coefs`
/// `[e, c_vg, c_xv, c_xg, n_v, n_xv, n_x]` (as `Sghmc::new` names them in its errors).
const SGHMC_COEFFICIENTS: [&str; 7] = [
    "exp(-gamma·eta)",
    "-(u/gamma)(1-e)",
    "(1-e)/gamma",
    "∓(u/gamma²)(gamma·eta+e-1)",
    "sqrt(Var_v)/s_n",
    "(Cov/sqrt(Var_v))/s_n",
    "sqrt(Var_x-Cov²/Var_v)/s_n",
];

/// Word length of a coefficient's own best-precision format when `formats.coef` is not
/// given (MATLAB `fi`'s default for constants).
pub const COEF_DEFAULT_WL: u32 = 16;

/// The largest fraction length `fl` (0..=62) at which `v` rounded to nearest-even still fits
/// `wl` bits: the best-precision fraction length of a constant (MATLAB `fi`'s rule). `None`
/// when `v` does not fit `wl` bits even at FL 0 (or is not finite).
///
/// ```
/// use lpmc::experiment::config::best_precision_fl;
/// assert_eq!(best_precision_fl(std::f64::consts::PI, 16), Some(13)); // fi(pi): Q(16, 13)
/// assert_eq!(best_precision_fl(0.01, 16), Some(21));
/// assert_eq!(best_precision_fl(1e6, 16), None);
/// ```
pub fn best_precision_fl(v: f64, wl: u32) -> Option<u32> {
    if !v.is_finite() {
        return None;
    }
    let f = Format::new(wl, 0).ok()?;
    (0..=crate::format::MAX_FL).rev().find(|&fl| fits(v, fl, f))
}

/// Whether `v` rounded nearest-even to `fl` fraction bits fits the word of `f`.
fn fits(v: f64, fl: u32, f: Format) -> bool {
    let q = lpmc_kernels::portable::round_f64(v, fl, Rounding::NearestEven, 0);
    q >= f.min_code() as i128 && q <= f.max_code() as i128
}

/// The code of `v` rounded nearest-even to `fl` fraction bits (before any overflow rule).
fn code_at(v: f64, fl: u32) -> i128 {
    lpmc_kernels::portable::round_f64(v, fl, Rounding::NearestEven, 0)
}

/// Bits (sign included) of the narrowest word holding the code `c` and `−|c|`.
fn bits_of(c: i128) -> u32 {
    crate::noise::bits_for_magnitude(c.unsigned_abs().min(u64::MAX as u128) as u64)
}

/// The diagonal of the precision of a Gaussian target with diagonal covariance (`var`, or a
/// `cov` whose off-diagonal entries are all 0), as the integer gradient uses it; empty for
/// every other target.
fn diagonal_precisions(t: &TargetConfig) -> Vec<f64> {
    match t {
        TargetConfig::Gaussian(g) => match (&g.var, &g.cov) {
            (Some(v), None) => v
                .expand("gaussian.var", g.dim())
                .unwrap_or_default()
                .iter()
                .map(|v| 1.0 / v)
                .collect(),
            (None, Some(c)) => {
                let diagonal = c
                    .iter()
                    .enumerate()
                    .all(|(i, row)| row.iter().enumerate().all(|(j, &x)| i == j || x == 0.0));
                if diagonal {
                    c.iter()
                        .enumerate()
                        .map(|(i, row)| 1.0 / row.get(i).copied().unwrap_or(f64::NAN))
                        .collect()
                } else {
                    Vec::new()
                }
            }
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// The text of [`RunConfig::builtin`]: the built-in default run (SGHMC `lp-l` on N(0, 1) in Q(8, 4)).
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
            let de = toml::Deserializer::parse(&text).map_err(|e| toml_error(path, &text, &e))?;
            serde_path_to_error::deserialize(de).map_err(|e| {
                let at = field_path(&e.path().to_string());
                let inner = e.into_inner();
                let mut msg = toml_error(path, &text, &inner).to_string();
                if !at.is_empty() {
                    let prefix = format!("{}: ", path.display());
                    msg = msg.replacen(&prefix, &format!("{prefix}{at}: "), 1);
                }
                Error::Config(msg)
            })
        } else {
            from_json_text(&text).map_err(|e| Error::Config(format!("{}: {e}", path.display())))
        }
    }

    /// The dimension of the target as the config gives it (without building it).
    pub fn target_dim(&self) -> usize {
        crate::experiment::memory::config_dim(self)
    }

    /// The budget of returned kept samples in bytes ([`RunConfig::max_samples_bytes`]).
    pub fn samples_budget(&self) -> u64 {
        self.max_samples_bytes.unwrap_or(DEFAULT_MAX_SAMPLES_BYTES)
    }

    /// The most rows of `d` coordinates a run returns: `max_sample_rows`, lowered so that
    /// the rows fit the samples budget (8 bytes a coordinate).
    pub fn sample_rows_cap(&self, d: usize) -> usize {
        let by_budget = self.samples_budget() / (8 * d.max(1) as u64);
        self.max_sample_rows
            .min(by_budget.min(usize::MAX as u64) as usize)
    }

    /// The `evaluation` section, defaults filled in.
    pub fn evaluation(&self) -> EvaluationConfig {
        self.evaluation.clone().unwrap_or_default()
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

    /// The resolved per-quantity formats. A format given in `formats` is used as it is; a
    /// missing `param`, `momentum` or `grad` is `format`. On the float datapath a missing
    /// `coef`, `accum` or `noise` is `format` too (they are not used). On the integer
    /// datapath each missing one gets a format that holds it:
    ///
    /// 1. `noise`: [`NoiseGen::default_format`] (every value of the generator, own rounding
    ///    error under 1 % of its s.d.);
    /// 2. `coef`: every coefficient at least as precise as in its own best-precision format
    ///    of [`COEF_DEFAULT_WL`] = 16 bits ([`best_precision_fl`]): FL = the largest of the
    ///    coefficients' best-precision FLs, WL the narrowest holding every coefficient and the
    ///    diagonal Gaussian target's precisions that are exact at that FL (so the integer
    ///    gradient applies); when that needs more than 32 bits the precisions are left out,
    ///    then FL is lowered until the coefficients fit 32 bits;
    /// 3. `accum`: the exact width of its sums: FL = the largest fraction length of any term
    ///    (`x`, `coef·grad`, `coef·noise`, `coef·v`), WL the narrowest holding the largest
    ///    possible sum of the terms' magnitudes (state, gradient and noise codes at their
    ///    formats' range ends, the actual coefficient codes), at most 64 bits (above that FL
    ///    is lowered and products are truncated).
    ///
    /// When a coefficient cannot be computed (e.g. it is not finite), `coef` and `accum`
    /// stay `format` and [`RunConfig::build`] reports the coefficient.
    pub fn formats(&self) -> Formats {
        let f = self.stated_formats();
        if self.datapath != Datapath::Integer {
            return f;
        }
        self.resolve_integer(f)
    }

    /// Every quantity as given, a missing one `format` (no derived defaults).
    fn stated_formats(&self) -> Formats {
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

    /// The names of the formats [`RunConfig::formats`] derived rather than took from the
    /// config (`coef`, `accum`, `noise` on the integer datapath when not given).
    pub fn derived_formats(&self) -> Vec<&'static str> {
        if self.datapath != Datapath::Integer {
            return Vec::new();
        }
        let o = &self.formats;
        [("coef", o.coef), ("accum", o.accum), ("noise", o.noise)]
            .into_iter()
            .filter(|(_, f)| f.is_none())
            .map(|(n, _)| n)
            .collect()
    }

    /// Fills the integer datapath's missing `noise`, `coef`, `accum` (see [`RunConfig::formats`]).
    fn resolve_integer(&self, mut f: Formats) -> Formats {
        let o = self.formats;
        if o.noise.is_none() {
            f.noise = self.noise_gen.default_format();
        }
        // The exact coefficients, from a sampler whose coef format holds any value below 2^31.
        let wide = Format::new(32, 0).expect("Q(32, 0) is valid");
        let probe = Formats {
            coef: wide,
            accum: Format::new(64, 0).expect("Q(64, 0) is valid"),
            ..f
        };
        let Ok(SamplerParts {
            coefficients: coefs,
            momentum: fv,
            ..
        }) = self.build_parts(probe, 1)
        else {
            return f;
        };
        let exact: Vec<f64> = coefs.iter().map(|c| c.1).collect();
        if o.coef.is_none() {
            if let Some(c) = default_coef(&exact, &diagonal_precisions(&self.target)) {
                f.coef = c;
            }
        }
        if o.accum.is_none() {
            if let Some(a) = self.default_accum(&f, fv, &exact) {
                f.accum = a;
            }
        }
        f
    }

    /// Checks that the sampler's constants are finite numbers (η, u, γ within range of each
    /// other): SGLD's √(2η), SGHMC's integrator constants ([`Coefs`]).
    pub(crate) fn check_constants(&self) -> Result<()> {
        match &self.sampler {
            SamplerConfig::Sgld(s) => {
                if s.eta.is_finite() && !(2.0 * s.eta).is_finite() {
                    return Err(Error::param(
                        "sampler.sgld.eta",
                        s.eta,
                        "must be below 8.98e307 (√(2η) overflows f64)",
                    ));
                }
            }
            SamplerConfig::Sghmc(s) => {
                if ![s.eta, s.u, s.gamma]
                    .iter()
                    .all(|v| v.is_finite() && *v > 0.0)
                {
                    return Ok(()); // Sghmc::new names the bad parameter.
                }
                let k = Coefs::new(s.eta, s.u, s.gamma, s.paper_sign);
                let named = [
                    ("exp(-gamma·eta)", k.vv),
                    ("(u/gamma)(1-e)", k.vg),
                    ("(1-e)/gamma", k.xv),
                    ("(u/gamma²)(gamma·eta+e-1)", k.xg),
                    ("Var_v = u(1-e²)", k.var_v),
                    ("Var_x", k.var_x),
                    ("Cov", k.cov),
                ];
                if let Some((name, v)) = named.iter().find(|(_, v)| !v.is_finite()) {
                    return Err(Error::Config(format!(
                        "sampler.sghmc: eta = {}, u = {}, gamma = {} give the integrator constant {name} = {v}, not a finite number: keep u/gamma and u/gamma² within f64 range",
                        num(s.eta), num(s.u), num(s.gamma)
                    )));
                }
                if k.var_v <= 0.0 {
                    return Err(Error::Config(format!(
                        "sampler.sghmc: eta = {}, gamma = {}: gamma·eta = {} is so small that the momentum noise variance Var_v = u(1-e²) is 0: raise gamma·eta",
                        num(s.eta), num(s.gamma), num(s.gamma * s.eta)
                    )));
                }
            }
        }
        Ok(())
    }

    /// The config's sampler in dimension `d` (the target's), without building the target,
    /// with the resolved formats of [`RunConfig::formats`].
    pub fn build_sampler(&self, d: usize) -> Result<Box<dyn Sampler>> {
        Ok(self.build_parts(self.formats(), d)?.sampler)
    }

    /// The sampler of this config with `formats` in dimension `d`, with its coefficients and
    /// momentum storage.
    fn build_parts(&self, formats: Formats, d: usize) -> Result<SamplerParts> {
        let setup = Setup {
            formats,
            rounding: self.rounding,
            datapath: self.datapath,
            grad_noise: self.grad_noise,
            noise_gen: self.noise_gen,
            temperature: self.target.temperature(),
        };
        let temperature = setup.temperature;
        let integer = self.datapath == Datapath::Integer;
        // What the coefficients' noise parts are divided by (the generator's s.d.).
        let sd = crate::noise::IntNormal::new(self.noise_gen, formats.noise).sd();
        Ok(match &self.sampler {
            SamplerConfig::Sgld(s) => {
                let sampler = Sgld::new(s.variant, s.eta, setup, d)?;
                let coefficients = if integer && s.variant != SgldVariant::Fp {
                    let exact = [s.eta, (2.0 * s.eta * temperature).sqrt() / sd];
                    SGLD_COEFFICIENTS
                        .iter()
                        .zip(exact)
                        .zip(sampler.int_coefs())
                        .map(|((&n, v), c)| (n, v, c))
                        .collect()
                } else {
                    Vec::new()
                };
                SamplerParts {
                    coefficients,
                    momentum: None,
                    sampler: Box::new(sampler),
                }
            }
            SamplerConfig::Sghmc(s) => {
                let sampler = Sghmc::new(
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
                )?;
                let coefficients = if integer && s.variant != SghmcVariant::Fp {
                    let k = sampler.coefs();
                    let (a, sx) = k.split();
                    let sv = k.var_v.sqrt();
                    let exact = [k.vv, k.vg, k.xv, k.xg, sv / sd, a * sv / sd, sx / sd];
                    SGHMC_COEFFICIENTS
                        .iter()
                        .zip(exact)
                        .zip(sampler.int_coefs())
                        .map(|((&n, v), c)| (n, v, c))
                        .collect()
                } else {
                    Vec::new()
                };
                SamplerParts {
                    coefficients,
                    momentum: Some(sampler.momentum_format()),
                    sampler: Box::new(sampler),
                }
            }
        })
    }

    /// The accumulator in which the integer step's sums are exact for the formats `f`, the
    /// sampler's coefficients `(name, exact, code)` and momentum storage `fv` (what
    /// [`RunConfig::formats`] takes when `formats.accum` is not given); `None` when a
    /// coefficient does not fit `f.coef`.
    pub fn exact_accum(
        &self,
        f: &Formats,
        coefficients: &[Coefficient],
        fv: Option<Format>,
    ) -> Option<Format> {
        let exact: Vec<f64> = coefficients.iter().map(|c| c.1).collect();
        self.default_accum(f, fv, &exact)
    }

    /// The exact-sum accumulator of [`RunConfig::formats`] for the formats `f` (coef and
    /// noise resolved), the momentum storage `fv` and the exact coefficients; `None` when a
    /// coefficient does not fit `f.coef`.
    fn default_accum(&self, f: &Formats, fv: Option<Format>, exact: &[f64]) -> Option<Format> {
        let fc = f.coef.fl();
        let mut codes = Vec::with_capacity(exact.len());
        for &c in exact {
            let q = code_at(c, fc);
            if !fits(c, fc, f.coef) {
                return None;
            }
            codes.push(q.unsigned_abs() as f64);
        }
        let top = |q: Format| q.min_code().unsigned_abs() as f64;
        let noise = crate::noise::IntNormal::new(self.noise_gen, f.noise).max_abs_code() as f64;
        let (x, g, nz) = (
            (f.param.fl(), top(f.param)),
            (fc + f.grad.fl(), top(f.grad)),
            fc + f.noise.fl(),
        );
        // (fraction bits, largest magnitude in units of 2^−fraction bits) of each term, per sum.
        let sums: Vec<Vec<(u32, f64)>> = match &self.sampler {
            SamplerConfig::Sgld(s) => {
                let (eta, cn) = (codes[0], codes[1]);
                let mut t = vec![x, (g.0, eta * g.1)];
                if s.variant != SgldVariant::VcL {
                    t.push((nz, cn * noise));
                }
                vec![t]
            }
            SamplerConfig::Sghmc(s) => {
                let v = fv.unwrap_or(f.momentum);
                let v = if s.variant == SghmcVariant::LpF {
                    f.momentum
                } else {
                    v
                };
                let [e, cvg, cxv, cxg, nv, nxv, nx] = <[f64; 7]>::try_from(codes).ok()?;
                let vt = fc + v.fl();
                let mut sv = vec![(vt, e * top(v)), (g.0, cvg * g.1)];
                let mut sx = vec![x, (vt, cxv * top(v)), (g.0, cxg * g.1)];
                if !matches!(s.variant, SghmcVariant::VcL | SghmcVariant::VcJoint) {
                    sv.push((nz, nv * noise));
                    sx.push((nz, nxv * noise));
                    sx.push((nz, nx * noise));
                }
                vec![sv, sx]
            }
        };
        let fl = sums
            .iter()
            .flatten()
            .map(|t| t.0)
            .max()?
            .min(crate::format::MAX_FL);
        // Largest |sum| in units of 2^−fl (f64: at most a few ulps high, never low by more
        // than that; the width is rounded up to whole bits anyway).
        let width = |fl: u32| -> u32 {
            sums.iter()
                .map(|t| {
                    let m: f64 = t
                        .iter()
                        .map(|&(tf, mag)| mag * ((fl as f64) - tf as f64).exp2())
                        .sum();
                    if m < 1.0 {
                        crate::format::MIN_WL
                    } else {
                        (m.log2().floor() as u32 + 2).max(crate::format::MIN_WL)
                    }
                })
                .max()
                .unwrap_or(crate::format::MIN_WL)
        };
        let mut fl = fl;
        let mut wl = width(fl);
        while wl > crate::format::MAX_WL && fl > 0 {
            let over = wl - crate::format::MAX_WL;
            fl = fl.saturating_sub(over);
            wl = width(fl);
        }
        Format::new(wl.min(crate::format::MAX_WL), fl).ok()
    }

    /// Validates everything and builds the target and the sampler. A target whose data
    /// would need more memory than the process may use
    /// ([`crate::experiment::memory::check`]) is refused before anything is allocated.
    pub fn build(&self) -> Result<Built> {
        let full_cov = match &self.target {
            TargetConfig::Gaussian(g) if g.cov.is_some() => {
                let d = g.dim();
                format!(
                    "the target's full covariance ({d}×{d}, held as Σ, its Cholesky factor and Σ⁻¹)"
                )
            }
            _ => "the target".to_string(),
        };
        crate::experiment::memory::check(
            crate::experiment::memory::target_bytes(self),
            None,
            &full_cov,
            "its size (`n`, `dim`, or the covariance's dimension; a diagonal covariance given as `var` needs O(d))",
        )?;
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
        if self.max_samples_bytes == Some(0) {
            return Err(Error::param(
                "max_samples_bytes (--max-samples-bytes)",
                0,
                "the budget of returned samples must be at least 1 byte (e.g. 64MiB); use max_sample_rows = 0 to return no rows",
            ));
        }
        if self.burn_in >= self.steps {
            return Err(Error::param(
                "burn_in",
                self.burn_in,
                format!("must be less than steps = {}", self.steps),
            ));
        }
        self.check_constants()?;
        let formats = self.formats();
        let SamplerParts {
            coefficients,
            sampler,
            ..
        } = self.build_parts(formats, d)?;
        Ok(Built {
            target,
            sampler,
            x0,
            formats,
            coefficients,
        })
    }
}

/// The default coef format of [`RunConfig::formats`] for the exact coefficients `coefs` and
/// the target's diagonal precisions `precs`; `None` when no coefficient is nonzero and
/// finite or one does not fit 32 bits.
fn default_coef(coefs: &[f64], precs: &[f64]) -> Option<Format> {
    let max_wl = crate::format::MAX_STORED_WL;
    let own: Vec<u32> = coefs
        .iter()
        .filter(|c| **c != 0.0)
        .map(|&c| best_precision_fl(c, COEF_DEFAULT_WL))
        .collect::<Option<_>>()?;
    let fl0 = own.into_iter().max()?;
    let width = |fl: u32, with_precs: bool| -> u32 {
        let exact_precs = precs.iter().filter(|&&p| {
            with_precs && p.is_finite() && (code_at(p, fl) as f64) * (-(fl as f64)).exp2() == p
        });
        coefs
            .iter()
            .chain(exact_precs)
            .map(|&v| bits_of(code_at(v, fl)))
            .max()
            .unwrap_or(crate::format::MIN_WL)
            .max(crate::format::MIN_WL)
    };
    for with_precs in [true, false] {
        let w = width(fl0, with_precs);
        if w <= max_wl {
            return Format::new(w, fl0).ok();
        }
    }
    (0..fl0)
        .rev()
        .map(|fl| (width(fl, false), fl))
        .find(|&(w, _)| w <= max_wl)
        .and_then(|(w, fl)| Format::new(w, fl).ok())
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
