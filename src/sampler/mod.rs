//! Samplers: the SGLD and SGHMC update rules of \[S\] and \[L\] (`docs/theory.md`), on the
//! float and the integer datapath (`docs/config.md`).
//!
//! A [`Sampler`] holds one update rule's constants — the step, the formats, the quantized
//! coefficients, the noise generator — and describes a step as the kernels run it
//! ([`Sampler::kernel_step`], an [`lpmc_kernels::rules::Step`]). The rule itself, written once
//! for every variant and both datapaths, lives in `lpmc_kernels::rules`; how it is run (one
//! chain × many coordinates, many chains in lockstep, which instruction set) is the driver's
//! business ([`Engine`]). [`Sampler::step`] runs one step by the scalar reference driver, the
//! definition every fast path is tested against.
//!
//! # Per-chain state
//! A chain's state ([`ChainState`]) is its position and, for SGHMC, momentum, each a
//! [`Plane`]: `f64` (`fp`, and `lp-f` on the float datapath) or codes of a [`Format`] in the
//! format's own container (`i8`…`i64`): `param`/`momentum` for `-L` and VC, `accum` for `lp-f`
//! on the integer datapath. [`Sampler::storage`] says which.
//!
//! # The gradient
//! For a Gaussian target with diagonal covariance ([`Target::diagonal_gaussian`]) whose
//! precisions are exactly representable in the `coef` format and whose means are exactly
//! representable in the position's format, with `grad_noise = 0`, the integer datapath computes
//! the gradient in integers: `prec_c,i·(x_c,i − μ_c,i)` exactly, then `Q_G` requantizes it to
//! the `grad` format. Every other case computes `∇Ũ` in `f64` at the dequantized position (a
//! diagonal Gaussian and a 1-D mixture inside the kernels; other targets by
//! [`Target::stochastic_grad`], one step at a time), adds `σ_g·ξ` and rounds it with `Q_G`.
//!
//! # Random bits
//! Each chain draws from its own stream; the fields one step takes are laid out by
//! `lpmc_kernels::layout` (per step: the `lp-f` pre-rounding's fields, then the target's
//! minibatch words if it draws any, then the main part: normals, Q^vc words, `Q_G`, noise
//! codes, `Q_V`, `Q_W`), documented in `docs/config.md`.
//!
//! ```
//! use lpmc::sampler::{Sampler, Setup, sgld::{Sgld, SgldVariant}};
//! use lpmc::target::{Gaussian, Target};
//! use lpmc::source::Source;
//! let target = Gaussian::diagonal(vec![0.0], vec![1.0]).unwrap();
//! let s = Sgld::new(SgldVariant::LpL, 0.01, Setup::paper(8, 4), 1).unwrap();
//! let mut st = s.init(&[0.0]).unwrap();
//! let mut bits = Source::Xoshiro.stream(1, 0).unwrap();
//! for _ in 0..100 {
//!     s.step(&target, &mut st, &mut bits).unwrap();
//! }
//! let mut x = [0.0];
//! s.position(&st, &mut x);
//! assert!(x[0].abs() < 8.0 && (x[0] * 16.0).fract() == 0.0); // on the Q(8,4) grid
//! ```

mod engine;
pub mod sghmc;
pub mod sgld;

pub(crate) use engine::state;
pub use engine::{Engine, Scratch};
pub use lpmc_kernels::drivers::lockstep::Keep;
pub use lpmc_kernels::rules::Events;

use crate::error::{Error, Result};
use crate::format::{Codes, Format};
use crate::noise::{IntNormal, NoiseGen};
use crate::round::Rounding;
use crate::source::Bits;
use crate::target::Target;
use lpmc_kernels::lane::Fmt;
use lpmc_kernels::portable::round_f64;
use lpmc_kernels::rules::{Dynamics, Gradient, Rescale, Step, Variant};
use serde::{Deserialize, Serialize};

/// How a step is executed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Datapath {
    /// The papers' model: the update in `f64` from the dequantized state, one rounding to the
    /// state format.
    #[default]
    Float,
    /// The hardware model: coefficients quantized once to `coef`, exact products and sums in
    /// the wide `accum` format, one rounding to the state format, fixed-point noise.
    Integer,
}

impl Datapath {
    fn kernel(self) -> lpmc_kernels::rules::Datapath {
        match self {
            Datapath::Float => lpmc_kernels::rules::Datapath::Float,
            Datapath::Integer => lpmc_kernels::rules::Datapath::Integer,
        }
    }
}

/// The format of every quantity a sampler touches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Formats {
    /// Position x of `-L` variants (Q_W).
    pub param: Format,
    /// Momentum v of `-L` SGHMC variants.
    pub momentum: Format,
    /// Gradient (Q_G).
    pub grad: Format,
    /// The wide sum of the integer datapath and the master copy of `-F` on it.
    pub accum: Format,
    /// Coefficients (η, e^{−γη}, …) on the integer datapath.
    pub coef: Format,
    /// Standard-normal noise codes on the integer datapath.
    pub noise: Format,
}

impl Formats {
    /// Every quantity in `f`.
    pub fn all(f: Format) -> Self {
        Formats {
            param: f,
            momentum: f,
            grad: f,
            accum: f,
            coef: f,
            noise: f,
        }
    }

    /// Checks the stored formats (WL ≤ 32; the accumulator may have up to 64 bits).
    pub fn check(&self) -> Result<()> {
        self.param.check_stored("the param format")?;
        self.momentum.check_stored("the momentum format")?;
        self.grad.check_stored("the grad format")?;
        self.coef.check_stored("the coef format")?;
        self.noise.check_stored("the noise format")?;
        Ok(())
    }
}

/// Everything a sampler needs besides its own parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Setup {
    /// Formats per quantity.
    pub formats: Formats,
    /// Rounding of every quantization (Q_W, Q_G, the state rounding; SR by default).
    pub rounding: Rounding,
    /// Float or integer datapath.
    pub datapath: Datapath,
    /// Standard deviation σ_g ≥ 0 of the Gaussian noise added to the exact gradient.
    pub grad_noise: f64,
    /// Gaussian generator of the integer datapath.
    pub noise_gen: NoiseGen,
    /// Temperature T > 0 of the sampled law `exp(−U/T)`: every injected noise variance is
    /// multiplied by T (1 for the analytic targets; `1/N` for a classifier whose potential is
    /// the per-datum loss, see [`crate::classifier`]).
    pub temperature: f64,
}

impl Setup {
    /// The papers' setting: every quantity in Q(`wl`, `fl`), stochastic rounding, float
    /// datapath, exact gradients.
    pub fn paper(wl: u32, fl: u32) -> Self {
        Setup {
            formats: Formats::all(Format::new(wl, fl).expect("valid paper format")),
            rounding: Rounding::StochasticExact,
            datapath: Datapath::Float,
            grad_noise: 0.0,
            noise_gen: NoiseGen::BoxMuller,
            temperature: 1.0,
        }
    }
}

/// Where a state quantity lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// Full-precision `f64`.
    F64,
    /// Codes of a format, in its container.
    Codes(Format),
}

impl Storage {
    /// The format of a code state.
    pub fn format(self) -> Option<Format> {
        match self {
            Storage::F64 => None,
            Storage::Codes(f) => Some(f),
        }
    }
}

/// Values of one state quantity for one or many chains (chains × d, chain-major): `f64`, or
/// codes of a format in its container.
#[derive(Clone, Debug, PartialEq)]
pub enum Plane {
    /// Full-precision values.
    F64(Vec<f64>),
    /// Codes of `format`.
    Codes {
        /// The format of the codes.
        format: Format,
        /// The codes.
        codes: Codes,
    },
}

impl Plane {
    /// `n` zeros of `storage`.
    pub fn zeros(storage: Storage, n: usize) -> Self {
        match storage {
            Storage::F64 => Plane::F64(vec![0.0; n]),
            Storage::Codes(f) => Plane::Codes {
                format: f,
                codes: Codes::zeros(f.container(), n),
            },
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Plane::F64(v) => v.len(),
            Plane::Codes { codes, .. } => codes.len(),
        }
    }

    /// Whether the plane is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Value `i` (the code's value for code planes).
    pub fn value(&self, i: usize) -> f64 {
        match self {
            Plane::F64(v) => v[i],
            Plane::Codes { format, codes } => format.value(codes.get(i)),
        }
    }

    /// `n` copies of this plane, concatenated (the initial state of `n` chains).
    pub fn repeat(&self, n: usize) -> Self {
        match self {
            Plane::F64(v) => Plane::F64(v.repeat(n)),
            Plane::Codes { format, codes } => Plane::Codes {
                format: *format,
                codes: crate::with_codes!(codes, c => c.repeat(n).into()),
            },
        }
    }
}

macro_rules! codes_from_vec {
    ($($t:ident $v:ident),*) => {$(
        impl From<Vec<$t>> for Codes {
            fn from(v: Vec<$t>) -> Self {
                Codes::$v(v)
            }
        }
    )*};
}
codes_from_vec!(i8 I8, i16 I16, i32 I32, i64 I64);

/// The state of one chain.
#[derive(Clone, Debug, PartialEq)]
pub struct ChainState {
    /// Position.
    pub x: Plane,
    /// Momentum (SGHMC), or `None`.
    pub v: Option<Plane>,
    /// Momentum scale S_v ∈ (0, 1] of \[S\] Algorithm 1 (stored momentum = v/S_v); 1 when
    /// unused.
    pub scale: f64,
    /// Overflow events of every rounding this chain made, per quantity.
    pub events: Events,
}

/// One update rule: its constants and the description of a step as the kernels run it.
pub trait Sampler: Send + Sync + std::fmt::Debug {
    /// Dimension d.
    fn dim(&self) -> usize;

    /// The formats, rounding, datapath, gradient noise and noise generator.
    fn setup(&self) -> &Setup;

    /// Storage of the position and of the momentum (`None`: no momentum).
    fn storage(&self) -> (Storage, Option<Storage>);

    /// One step with the gradient `gradient`, as the kernels take it.
    fn kernel_step<'a>(&'a self, gradient: Gradient<'a>) -> Step<'a>;

    /// The state at position `x0` (length d) and zero momentum; `x0` is rounded to the
    /// position's storage with nearest-even (no random bits; a non-finite `x0` is then an
    /// error).
    fn init(&self, x0: &[f64]) -> Result<ChainState> {
        let (sx, sv) = self.storage();
        let x = match sx {
            Storage::F64 => Plane::F64(x0.to_vec()),
            Storage::Codes(f) => {
                if let Some(x) = x0.iter().find(|x| !x.is_finite()) {
                    return Err(Error::param("x0", x, "must be finite"));
                }
                let mut codes = Codes::zeros(f.container(), x0.len());
                for (i, &x) in x0.iter().enumerate() {
                    let q = round_f64(x, f.fl(), Rounding::NearestEven, 0);
                    codes.set(i, f.overflow().apply(q, f.wl()).0);
                }
                Plane::Codes { format: f, codes }
            }
        };
        Ok(ChainState {
            x,
            v: sv.map(|s| Plane::zeros(s, x0.len())),
            scale: 1.0,
            events: Events::default(),
        })
    }

    /// One step of the update rule by the scalar reference; overflow events are added to
    /// `st.events`. An error if the target does not fit the sampler (its dimension).
    fn step(&self, target: &dyn Target, st: &mut ChainState, bits: &mut Bits) -> Result<()>
    where
        Self: Sized,
    {
        Engine::new(self, target)?
            .with_platform(lpmc_kernels::Platform::Portable)
            .run(st, bits, 1);
        Ok(())
    }

    /// The position's value (length d) — what a sample is.
    fn position(&self, st: &ChainState, out: &mut [f64]) {
        for (i, o) in out.iter_mut().enumerate() {
            *o = st.x.value(i);
        }
    }
}

/// The kernels' view of a format.
pub(crate) fn fmt(f: Format) -> Fmt {
    Fmt {
        wl: f.wl(),
        fl: f.fl(),
        overflow: f.overflow(),
    }
}

/// What the samplers share: the setup checks, coefficient quantization and the assembly of a
/// kernel step.
#[derive(Clone, Debug)]
pub(crate) struct Core {
    pub setup: Setup,
    pub int_noise: Option<IntNormal>,
}

/// A sampler's own part of a kernel step (everything but the shared setup and the gradient).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Rule {
    pub dynamics: Dynamics,
    pub variant: Variant,
    pub x: Format,
    pub v: Format,
    pub int_coefs: [i64; 7],
    pub coefs: [f64; 7],
    pub vc_var: [f64; 3],
    pub rescale: Option<Rescale>,
}

impl Core {
    pub fn new(setup: Setup) -> Result<Self> {
        setup.formats.check()?;
        if !(setup.grad_noise.is_finite() && setup.grad_noise >= 0.0) {
            return Err(Error::param(
                "grad_noise",
                setup.grad_noise,
                "must be a finite number ≥ 0",
            ));
        }
        if !(setup.temperature.is_finite() && setup.temperature > 0.0) {
            return Err(Error::param(
                "temperature",
                setup.temperature,
                "must be a finite number > 0",
            ));
        }
        if setup.datapath == Datapath::Integer {
            check_wide_sum(&setup.formats)?;
        }
        let int_noise = (setup.datapath == Datapath::Integer)
            .then(|| IntNormal::new(setup.noise_gen, setup.formats.noise));
        Ok(Core { setup, int_noise })
    }

    pub fn f(&self) -> &Formats {
        &self.setup.formats
    }

    pub fn integer(&self) -> bool {
        self.setup.datapath == Datapath::Integer
    }

    /// The noise generator's standard deviation (1 on the float datapath).
    pub fn noise_sd(&self) -> f64 {
        self.int_noise.as_ref().map_or(1.0, |n| n.sd())
    }

    /// Quantizes a coefficient once to the `coef` format (nearest-even); an error if it does
    /// not fit.
    pub fn coef(&self, name: &str, c: f64) -> Result<i64> {
        let f = self.f().coef;
        let (code, over) = f
            .overflow()
            .apply(round_f64(c, f.fl(), Rounding::NearestEven, 0), f.wl());
        if over || !c.is_finite() {
            return Err(Error::param(
                format!("coefficient {name}"),
                c,
                format!(
                    "must fit the coef format ({f}: [{}, {}])",
                    f.min_value(),
                    f.max_value()
                ),
            ));
        }
        Ok(code)
    }

    /// The kernel step of `rule` with `gradient`.
    pub fn step<'a>(&'a self, rule: &Rule, gradient: Gradient<'a>) -> Step<'a> {
        let f = self.f();
        Step {
            dynamics: rule.dynamics,
            variant: rule.variant,
            datapath: self.setup.datapath.kernel(),
            rounding: self.setup.rounding,
            x: fmt(rule.x),
            v: fmt(rule.v),
            param: fmt(f.param),
            grad: fmt(f.grad),
            accum: fmt(f.accum),
            noise_fmt: fmt(f.noise),
            coef_fl: f.coef.fl(),
            int_coefs: rule.int_coefs,
            coefs: rule.coefs,
            vc_var: rule.vc_var,
            gradient,
            grad_noise: self.setup.grad_noise,
            noise: self
                .int_noise
                .as_ref()
                .map_or(lpmc_kernels::rules::Noise::BoxMuller, |n| n.kernel_noise()),
            rescale: rule.rescale,
        }
    }
}

/// Checks that every term of the integer datapath's wide sums fits 124 bits once aligned to
/// `accum` (so a sum of at most 5 terms cannot overflow `i128`).
fn check_wide_sum(f: &Formats) -> Result<()> {
    let fa = f.accum.fl() as i64;
    let c = f.coef;
    let mut need = 0i64;
    for q in [f.grad, f.noise, f.param, f.momentum, f.accum] {
        let up = |fl: i64| (fa - fl).max(0);
        need = need
            .max(c.wl() as i64 + q.wl() as i64 + up(c.fl() as i64 + q.fl() as i64))
            .max(q.wl() as i64 + up(q.fl() as i64));
    }
    if need > 124 {
        return Err(Error::Config(format!(
            "integer datapath: accum FL = {fa} is too far above the other formats' fraction lengths: a product aligned to it needs {need} bits (at most 124)"
        )));
    }
    Ok(())
}

/// The exact moments of kept position codes: `n` samples and, per coordinate,
/// `s1 = Σ(c − c0)` and `s2 = Σ(c − c0)²` in integers around reference codes `c0`. No
/// rounding happens until [`CodeSums::moments`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CodeSums {
    /// Reference codes (set by [`CodeSums::around`] or the first added sample).
    pub c0: Vec<i64>,
    /// Kept samples.
    pub n: u64,
    /// Σ(c − c0) per coordinate.
    pub s1: Vec<i128>,
    /// Σ(c − c0)² per coordinate.
    pub s2: Vec<i128>,
}

impl CodeSums {
    /// Empty sums around the reference codes `c0`.
    pub fn around(c0: Vec<i64>) -> Self {
        let d = c0.len();
        CodeSums {
            c0,
            n: 0,
            s1: vec![0; d],
            s2: vec![0; d],
        }
    }

    /// Adds one kept sample's codes (the first sets `c0` unless it is set).
    pub fn add(&mut self, c: &[i64]) {
        if self.c0.is_empty() {
            *self = CodeSums::around(c.to_vec());
        }
        for (i, &ci) in c.iter().enumerate() {
            let e = (ci - self.c0[i]) as i128;
            self.s1[i] += e;
            self.s2[i] += e * e;
        }
        self.n += 1;
    }

    /// Mean and sum of squared deviations (`M2`, variance × n) per coordinate of the values
    /// `c·2^−fl`. `M2 = (n·s2 − s1²)/n` is formed exactly in `i128` when it fits, so each
    /// result is one or two roundings from the exact value.
    ///
    /// ```
    /// use lpmc::sampler::CodeSums;
    /// let mut s = CodeSums::default();
    /// for c in [3, 5, 7] { s.add(&[c]); }
    /// let (mean, m2) = s.moments(1); // values 1.5, 2.5, 3.5
    /// assert_eq!((mean[0], m2[0]), (2.5, 2.0));
    /// ```
    pub fn moments(&self, fl: u32) -> (Vec<f64>, Vec<f64>) {
        let n = self.n.max(1);
        let scale = (-(fl as f64)).exp2();
        let mut mean = Vec::with_capacity(self.c0.len());
        let mut m2 = Vec::with_capacity(self.c0.len());
        for i in 0..self.c0.len() {
            let (s1, s2) = (self.s1[i], self.s2[i]);
            // c0 + s1/n: exact integer part plus the remainder's quotient.
            let (q, r) = (s1.div_euclid(n as i128), s1.rem_euclid(n as i128));
            mean.push(((self.c0[i] as i128 + q) as f64 + r as f64 / n as f64) * scale);
            let exact = (n as i128)
                .checked_mul(s2)
                .zip(s1.checked_mul(s1))
                .and_then(|(a, b)| a.checked_sub(b));
            let dev = match exact {
                Some(num) => num as f64 / n as f64,
                None => s2 as f64 - (s1 as f64) * (s1 as f64) / n as f64,
            };
            m2.push(dev * scale * scale);
        }
        (mean, m2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exact code sums give the moments of the values to within a few ulps of a two-pass
    /// `f64` computation (which is itself accurate to ~n·ε relative), also far from `c0`.
    #[test]
    fn code_sums_match_two_pass_moments() {
        let mut g = lpmc_kernels::Xoshiro::new(5, 0);
        use lpmc_kernels::WordSource;
        let codes: Vec<i64> = (0..1000)
            .map(|i| ((g.next_word() >> 54) as i64 - 512) + if i == 0 { 30_000 } else { 0 })
            .collect();
        let mut s = CodeSums::default();
        for &c in &codes {
            s.add(&[c]);
        }
        let fl = 7;
        let v: Vec<f64> = codes.iter().map(|&c| c as f64 / 128.0).collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let m2: f64 = v.iter().map(|x| (x - mean) * (x - mean)).sum();
        let (sm, sm2) = s.moments(fl);
        assert_eq!(s.n, 1000);
        assert!(
            (sm[0] - mean).abs() <= 1e-12 * mean.abs(),
            "{} {mean}",
            sm[0]
        );
        assert!((sm2[0] - m2).abs() <= 1e-12 * m2, "{} {m2}", sm2[0]);
    }
}
