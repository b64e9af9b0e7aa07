//! Samplers: the SGLD and SGHMC update rules of PAPER.md, on the float and the integer
//! datapath (DESIGN.md §4).
//!
//! A [`Sampler`] holds one update rule; its [`Sampler::step`] advances one chain by one step
//! and is the only place the rule lives. The chain runner ([`crate::experiment::chains`]) owns
//! the chains, threads, burn-in, thinning and observers; samplers never print or touch files.
//!
//! # Per-chain state
//! A chain's state ([`ChainState`]) is its position `x` and, for SGHMC, momentum `v`, each
//! either `f64` (full precision: `fp`, and `-F` on the float datapath) or integer codes of a
//! [`Format`] (`-L`: `param`/`momentum`; `-F` on the integer datapath: `accum`).
//! [`Sampler::storage`] says which.
//!
//! # The gradient on the integer datapath
//! For a Gaussian target with diagonal covariance ([`Target::diagonal_gaussian`]) whose
//! precisions `1/σ²ᵢ` are exactly representable in the `coef` format and whose means are
//! exactly representable in the position's format, and with `grad_noise = 0`, the integer
//! datapath computes the gradient in integers: `pᵢ = prec_c,i·(x_c,i − μ_c,i)` exactly (codes,
//! `coef.fl + x.fl` fraction bits), then `Q_G` requantizes `p` to the `grad` format with the
//! configured rounding (random bits: `rounding.bits_per_code(coef.fl + x.fl − grad.fl)` per
//! coordinate, packed as in `lpmc_kernels::bits`). Its value is the exact `∇U(x)`, rounded
//! once. Every other case computes `∇Ũ` in `f64` from the dequantized state and rounds it with
//! `quantize_f64` (53 random bits per coordinate for `sr`).
//!
//! # Fused steps
//! [`Sampler::run`] advances a chain several steps. On the integer datapath, `lp-l` SGLD and
//! SGHMC with the integer gradient above, a `clt` or `table` noise generator (and for SGHMC a
//! momentum format in the position's container) run the fused kernels of
//! `lpmc_kernels::fused`, and `vc-l` SGLD and SGHMC with the integer gradient those of
//! `lpmc_kernels::vc` (calls of at least 256 dim-steps; smaller ones go step by step),
//! instead of [`Sampler::step`]: the same rule, the same random words in the same order, so
//! the same bits (tested in `tests/fused.rs`).
//!
//! # Random bits
//! Each chain draws from its own stream; one step takes, in this order: the target's
//! minibatch bits (if any), `d` gradient-noise normals (if `grad_noise > 0`), the bits of the
//! roundings of the gradient path (Q_W for `-F`, then Q_G), the Langevin noise (normals or
//! fixed-point noise codes), then the bits of the state roundings or VC quantizers. Each
//! sampler's `step` documents its exact order.
//!
//! ```
//! use lpmc::sampler::{Sampler, Setup, sgld::{Sgld, SgldVariant}};
//! use lpmc::target::{Gaussian, Target};
//! use lpmc::source::Source;
//! let target = Gaussian::diagonal(vec![0.0], vec![1.0]).unwrap();
//! let s = Sgld::new(SgldVariant::LpL, 0.01, Setup::paper(8, 4), 1).unwrap();
//! let mut st = s.init(&[0.0]).unwrap();
//! let mut ws = s.workspace();
//! let mut bits = Source::Xoshiro.stream(1, 0).unwrap();
//! for _ in 0..100 {
//!     s.step(&target, &mut st, &mut ws, &mut bits);
//! }
//! let mut x = [0.0];
//! s.position(&st, &mut x);
//! assert!(x[0].abs() < 8.0 && (x[0] * 16.0).fract() == 0.0); // on the Q(8,4) grid
//! ```

pub mod sghmc;
pub mod sgld;

use crate::error::{Error, Result};
use crate::format::{Container, Format};
use crate::noise::{IntNormal, NoiseGen};
use crate::round::Rounding;
use crate::source::Bits;
use crate::target::Target;
pub use lpmc_kernels::lockstep::Keep;
use lpmc_kernels::lockstep::Sums;
use lpmc_kernels::noise::box_muller;
use lpmc_kernels::portable::round_f64;
use lpmc_kernels::Platform;
use lpmc_kernels::{Code, CodeSliceMut};
use serde::{Deserialize, Serialize};

/// How a step is executed (DESIGN.md §4).
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
        }
    }
}

/// The state of one chain. Unused fields are empty.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChainState {
    /// Position, when stored in `f64`.
    pub x: Vec<f64>,
    /// Momentum, when stored in `f64`.
    pub v: Vec<f64>,
    /// Position codes, when stored in a format.
    pub xc: Vec<i64>,
    /// Momentum codes, when stored in a format.
    pub vc: Vec<i64>,
    /// Momentum scale S_v ∈ (0, 1] of Algorithm 1 (stored momentum = v/S_v); 1 when unused.
    pub scale: f64,
    /// Overflow events (saturations or wraps) of every rounding this chain made.
    pub events: u64,
}

/// Working buffers of one chain, reused across steps (no allocation in the loop).
#[derive(Clone, Debug, Default)]
pub struct Workspace {
    pub(crate) a: Vec<f64>,
    pub(crate) b: Vec<f64>,
    pub(crate) g: Vec<f64>,
    pub(crate) gc: Vec<i64>,
    pub(crate) q: Vec<i64>,
    pub(crate) z: Vec<f64>,
    pub(crate) n: Vec<i64>,
    pub(crate) acc: Vec<i64>,
    pub(crate) acc2: Vec<i64>,
    /// The integer gradient's precision and mean codes.
    pub(crate) pc: Vec<i64>,
    pub(crate) mc: Vec<i64>,
    /// What `pc` and `mc` were converted from ([`Core::int_gauss`] converts once per run).
    pub(crate) gauss: GaussSeen,
    /// Fused kernels: random words and the state in its container.
    pub(crate) words: Vec<u64>,
    pub(crate) codes: Codes,
    /// Lockstep kernels: kept sums (`c0`, `s1`, `s2`), per-chain events, random-word scratch.
    pub(crate) lk: [Vec<i64>; 3],
    pub(crate) lk_events: Vec<u64>,
    pub(crate) lk_words: Vec<u64>,
}

impl Workspace {
    /// Buffers for dimension `d`.
    pub fn new(d: usize) -> Self {
        Workspace {
            a: vec![0.0; d],
            b: vec![0.0; d],
            g: vec![0.0; d],
            gc: vec![0; d],
            q: vec![0; d],
            z: vec![0.0; 2 * d],
            n: vec![0; 2 * d],
            acc: vec![0; d],
            acc2: vec![0; d],
            ..Default::default()
        }
    }
}

/// Where a state quantity lives: `None` = `f64`, `Some(f)` = codes of `f`.
pub type Storage = Option<Format>;

/// One update rule.
pub trait Sampler: Send + Sync + std::fmt::Debug {
    /// Dimension d.
    fn dim(&self) -> usize;

    /// The state at position `x0` (length d) and zero momentum; `x0` is rounded to the
    /// position's storage with nearest-even (no random bits).
    fn init(&self, x0: &[f64]) -> Result<ChainState>;

    /// One step of the update rule; overflow events are added to `st.events`.
    fn step(&self, target: &dyn Target, st: &mut ChainState, ws: &mut Workspace, bits: &mut Bits);

    /// `n` steps: the same state, events and random words as `n` calls of
    /// [`Sampler::step`], by [`Sampler::run_fused`] when its fused kernel applies (see the
    /// [module docs](self)), else step by step.
    fn run(
        &self,
        target: &dyn Target,
        st: &mut ChainState,
        ws: &mut Workspace,
        bits: &mut Bits,
        n: u64,
    ) {
        if !self.run_fused(target, st, ws, bits, n) {
            for _ in 0..n {
                self.step(target, st, ws, bits);
            }
        }
    }

    /// `n` steps by a fused kernel, if one applies: `true` when done, `false` (and nothing
    /// done) otherwise, which is the default.
    fn run_fused(
        &self,
        target: &dyn Target,
        st: &mut ChainState,
        ws: &mut Workspace,
        bits: &mut Bits,
        n: u64,
    ) -> bool {
        let _ = (target, st, ws, bits, n);
        false
    }

    /// Whether [`Sampler::run_lockstep`] applies on `target` (default: no).
    fn lockstep(&self, target: &dyn Target) -> bool {
        let _ = target;
        false
    }

    /// `n` steps of each chain `states[j]`, drawing from `bits[j]`, by a kernel that steps
    /// the chains side by side (`lpmc_kernels::lockstep`): the same states, events and words
    /// as [`Sampler::run`] on each chain alone. Step `t` (1-based) with `keep.kept(t)` adds
    /// the position codes to `sums[j]` (which must have their reference codes set).
    /// Returns `false` (nothing done) when no such kernel applies, which is the default.
    #[allow(clippy::too_many_arguments)]
    fn run_lockstep(
        &self,
        target: &dyn Target,
        states: &mut [ChainState],
        ws: &mut Workspace,
        bits: &mut [Bits],
        n: u64,
        keep: Keep,
        sums: &mut [CodeSums],
    ) -> bool {
        let _ = (target, states, ws, bits, n, keep, sums);
        false
    }

    /// Whether [`Sampler::run`] takes a fused kernel on `target`.
    fn fused(&self, target: &dyn Target) -> bool {
        let _ = target;
        false
    }

    /// The position's value (length d) — what a sample is: `x` itself when it is stored in
    /// f64, else the value of each code of the position's format.
    fn position(&self, st: &ChainState, out: &mut [f64]) {
        match self.storage().0 {
            None => out.copy_from_slice(&st.x),
            Some(f) => {
                for (o, &c) in out.iter_mut().zip(&st.xc) {
                    *o = f.value(c);
                }
            }
        }
    }

    /// Storage of the position and of the momentum (`None` for SGLD's absent momentum is
    /// reported as `None` too).
    fn storage(&self) -> (Storage, Storage);

    /// A workspace sized for this sampler.
    fn workspace(&self) -> Workspace {
        Workspace::new(self.dim())
    }
}

/// The machinery every sampler shares: gradients, roundings, coefficient quantization and
/// exact wide accumulation.
#[derive(Clone, Debug)]
pub(crate) struct Core {
    pub setup: Setup,
    pub platform: Platform,
    pub int_noise: Option<IntNormal>,
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
        if setup.datapath == Datapath::Integer {
            check_wide_sum(&setup.formats)?;
        }
        let int_noise = (setup.datapath == Datapath::Integer)
            .then(|| IntNormal::new(setup.noise_gen, setup.formats.noise));
        Ok(Core {
            setup,
            platform: Platform::detect(),
            int_noise,
        })
    }

    /// The kernel implementation for a call on `n` elements: every platform gives the same
    /// bits; below [`SMALL`] elements the scalar reference has the least call overhead.
    fn platform_for(&self, n: usize) -> Platform {
        if n < SMALL {
            Platform::Portable
        } else {
            self.platform
        }
    }

    pub fn f(&self) -> &Formats {
        &self.setup.formats
    }

    pub fn integer(&self) -> bool {
        self.setup.datapath == Datapath::Integer
    }

    /// Rounds `src` to `f` with the configured rounding into `dst`; returns the events.
    pub fn round(&self, f: Format, src: &[f64], dst: &mut [i64], bits: &mut Bits) -> u64 {
        self.platform_for(src.len()).quantize_f64(
            f.spec(self.setup.rounding),
            f.fl(),
            src,
            dst,
            bits,
        )
    }

    /// Requantizes codes `src` with `src_fl` fraction bits to `f` into `dst`.
    pub fn requant(
        &self,
        src: &[i64],
        src_fl: u32,
        f: Format,
        dst: &mut [i64],
        bits: &mut Bits,
    ) -> u64 {
        let shift = src_fl as i32 - f.fl() as i32;
        self.platform_for(src.len())
            .requantize(f.spec(self.setup.rounding), shift, src, dst, bits)
    }

    /// A chain state at position `x0` (scale 1, no momentum): `x0` itself when the position
    /// is stored in f64 (`storage` `None`), else its nearest-even codes in that format (no
    /// random bits; a non-finite `x0` is then an error).
    pub fn init_position(&self, storage: Storage, x0: &[f64]) -> Result<ChainState> {
        let mut st = ChainState {
            scale: 1.0,
            ..Default::default()
        };
        match storage {
            None => st.x = x0.to_vec(),
            Some(f) => {
                if let Some(x) = x0.iter().find(|x| !x.is_finite()) {
                    return Err(Error::param("x0", x, "must be finite"));
                }
                st.xc = x0
                    .iter()
                    .map(|&x| {
                        let q = round_f64(x, f.fl(), Rounding::NearestEven, 0);
                        f.overflow().apply(q, f.wl()).0
                    })
                    .collect()
            }
        }
        Ok(st)
    }

    /// Quantizes a coefficient once to the `coef` format (nearest-even); an error if it does
    /// not fit.
    pub fn coef(&self, name: &str, c: f64) -> Result<i64> {
        let f = self.f().coef;
        let (code, over) = f
            .overflow()
            .apply(round_f64(c, f.fl(), Rounding::NearestEven, 0), f.wl());
        if over {
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

    /// `g ← ∇Ũ(x) + σ_g·ξ` in `ws.g`, then, if `quantize`, `g ← Q_G(g)` (codes in `ws.gc`,
    /// values in `ws.g`). Bits: target minibatch, d normals if σ_g > 0, Q_G's rounding bits.
    pub fn gradient(
        &self,
        target: &dyn Target,
        x: &[f64],
        quantize: bool,
        ws: &mut Workspace,
        bits: &mut Bits,
    ) -> u64 {
        let d = x.len();
        target.stochastic_grad(x, bits, &mut ws.g);
        let s = self.setup.grad_noise;
        if s > 0.0 {
            box_muller(bits, &mut ws.z[..d]);
            for i in 0..d {
                ws.g[i] += s * ws.z[i];
            }
        }
        if !quantize {
            return 0;
        }
        let f = self.f().grad;
        let ev = self.round(f, &ws.g, &mut ws.gc, bits);
        for i in 0..d {
            ws.g[i] = f.value(ws.gc[i]);
        }
        ev
    }

    /// The integer gradient's constants (see the [module docs](self)) for positions in `fx`:
    /// precision codes in `coef` into `ws.pc`, mean codes in `fx` into `ws.mc`; `true` iff the
    /// integer gradient applies (integer datapath, `grad_noise = 0`, diagonal Gaussian, both
    /// exactly representable). The conversion is kept in `ws` and redone only when its inputs
    /// change (the runner calls this once per kept step).
    pub fn int_gauss(&self, target: &dyn Target, fx: Format, ws: &mut Workspace) -> bool {
        if !self.integer() || self.setup.grad_noise != 0.0 {
            return false;
        }
        let Some((mean, prec)) = target.diagonal_gaussian() else {
            return false;
        };
        let exact = |v: f64, f: Format| {
            let q = round_f64(v, f.fl(), Rounding::NearestEven, 0);
            let (c, over) = f.overflow().apply(q, f.wl());
            (!over && f.value(c) == v).then_some(c)
        };
        let fc = self.f().coef;
        let seen = &ws.gauss;
        if seen.formats == Some((fx, fc)) && seen.mean == mean && seen.prec == prec {
            return seen.ok;
        }
        ws.pc.clear();
        ws.mc.clear();
        let mut ok = true;
        for (&m, &p) in mean.iter().zip(prec) {
            match (exact(p, fc), exact(m, fx)) {
                (Some(pc), Some(mc)) => {
                    ws.pc.push(pc);
                    ws.mc.push(mc);
                }
                _ => {
                    ok = false;
                    break;
                }
            }
        }
        ws.gauss = GaussSeen {
            formats: Some((fx, fc)),
            mean: mean.to_vec(),
            prec: prec.to_vec(),
            ok,
        };
        ok
    }

    /// The quantized gradient at the position codes `xc` of format `fx`: codes in `ws.gc`,
    /// values in `ws.g`. The integer gradient when [`Core::int_gauss`] holds, else
    /// [`Core::gradient`] at the values (which it writes to `ws.a`). Returns the events.
    pub fn gradient_codes(
        &self,
        target: &dyn Target,
        xc: &[i64],
        fx: Format,
        ws: &mut Workspace,
        bits: &mut Bits,
    ) -> u64 {
        let d = xc.len();
        if self.int_gauss(target, fx, ws) {
            // Exact in i64: |prec| ≤ 2^31 and |x − μ| < 2^32 (both at most 32-bit codes).
            for i in 0..d {
                ws.acc[i] = ws.pc[i] * (xc[i] - ws.mc[i]);
            }
            let g = self.f().grad;
            let fp = self.f().coef.fl() + fx.fl();
            let ev = self.requant(&ws.acc, fp, g, &mut ws.gc, bits);
            for i in 0..d {
                ws.g[i] = g.value(ws.gc[i]);
            }
            ev
        } else {
            for i in 0..d {
                ws.a[i] = fx.value(xc[i]);
            }
            self.gradient_at_a(target, ws, bits)
        }
    }

    /// The kernels' view of a format.
    pub fn fmt(f: Format) -> lpmc_kernels::fused::Fmt {
        lpmc_kernels::fused::Fmt {
            wl: f.wl(),
            fl: f.fl(),
            overflow: f.overflow(),
        }
    }

    /// The implementation of a fused call on `d` coordinates for `n` steps: the reference
    /// for tiny calls (the fast paths set up block buffers per call), else the detected one.
    pub fn fused_platform(&self, d: usize, n: u64) -> Platform {
        if (d as u64).saturating_mul(n) < 256 {
            Platform::Portable
        } else {
            self.platform
        }
    }

    /// [`Core::gradient`] at `x = ws.a`, quantized.
    pub fn gradient_at_a(&self, target: &dyn Target, ws: &mut Workspace, bits: &mut Bits) -> u64 {
        let a = std::mem::take(&mut ws.a);
        let ev = self.gradient(target, &a, true, ws, bits);
        ws.a = a;
        ev
    }

    /// Applies the accumulator's overflow rule to a wide sum; returns the code and whether it
    /// overflowed.
    pub fn acc(&self, sum: i128) -> (i64, bool) {
        let f = self.f().accum;
        f.overflow().apply(sum, f.wl())
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

/// The inputs of the last [`Core::int_gauss`] conversion and its answer: the position and
/// coefficient formats and the target's mean and precision (compared by value, so a
/// different target with the same numbers shares the codes, and any other is converted anew).
#[derive(Clone, Debug, Default)]
pub(crate) struct GaussSeen {
    formats: Option<(Format, Format)>,
    mean: Vec<f64>,
    prec: Vec<f64>,
    ok: bool,
}

/// A chain's state codes copied into their containers for a fused kernel: per container, slot
/// 0 holds x and slot 1 holds v.
#[derive(Clone, Debug, Default)]
pub(crate) struct Codes {
    pub(crate) s8: [Vec<i8>; 2],
    pub(crate) s16: [Vec<i16>; 2],
    pub(crate) s32: [Vec<i32>; 2],
    pub(crate) s64: [Vec<i64>; 2],
}

impl Codes {
    /// Runs `f` on `x` and `v` copied into the containers `cx` and `cv` (each tagged with its
    /// container, so the two may differ), then writes them back; returns what `f` returns.
    pub(crate) fn run(
        &mut self,
        (cx, x): (Container, &mut [i64]),
        (cv, v): (Container, &mut [i64]),
        f: impl FnOnce(CodeSliceMut, CodeSliceMut) -> u64,
    ) -> u64 {
        fn fill<'a, C: Code>(b: &'a mut Vec<C>, codes: &[i64]) -> &'a mut [C] {
            b.clear();
            b.extend(codes.iter().map(|&c| C::from_i64(c)));
            b
        }
        fn back<C: Code>(b: &[C], codes: &mut [i64]) {
            for (d, s) in codes.iter_mut().zip(b) {
                *d = s.to_i64();
            }
        }
        let Codes {
            s8: [x8, v8],
            s16: [x16, v16],
            s32: [x32, v32],
            s64: [x64, v64],
        } = self;
        macro_rules! tag {
            ($c:expr, $codes:expr, $b8:expr, $b16:expr, $b32:expr, $b64:expr) => {
                match $c {
                    Container::I8 => CodeSliceMut::I8(fill($b8, $codes)),
                    Container::I16 => CodeSliceMut::I16(fill($b16, $codes)),
                    Container::I32 => CodeSliceMut::I32(fill($b32, $codes)),
                    Container::I64 => CodeSliceMut::I64(fill($b64, $codes)),
                }
            };
        }
        let ev = f(
            tag!(cx, x, x8, x16, x32, x64),
            tag!(cv, v, v8, v16, v32, v64),
        );
        for (c, codes, b8, b16, b32, b64) in
            [(cx, x, x8, x16, x32, x64), (cv, v, v8, v16, v32, v64)]
        {
            match c {
                Container::I8 => back(b8, codes),
                Container::I16 => back(b16, codes),
                Container::I32 => back(b32, codes),
                Container::I64 => back(b64, codes),
            }
        }
        ev
    }
}

/// The exact moments of one chain's kept position codes: `n` samples and, per coordinate,
/// `s1 = Σ(c − c0)` and `s2 = Σ(c − c0)²` in integers, `c0` the first kept sample's codes.
/// No rounding happens until [`CodeSums::moments`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CodeSums {
    /// Reference codes (the first kept sample; empty before it).
    pub c0: Vec<i64>,
    /// Kept samples.
    pub n: u64,
    /// Σ(c − c0) per coordinate.
    pub s1: Vec<i128>,
    /// Σ(c − c0)² per coordinate.
    pub s2: Vec<i128>,
}

impl CodeSums {
    /// Adds one kept sample's codes (the first sets `c0`).
    pub fn add(&mut self, c: &[i64]) {
        if self.n == 0 {
            self.c0 = c.to_vec();
            self.s1 = vec![0; c.len()];
            self.s2 = vec![0; c.len()];
        } else {
            for (i, &ci) in c.iter().enumerate() {
                let e = (ci - self.c0[i]) as i128;
                self.s1[i] += e;
                self.s2[i] += e * e;
            }
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

/// Runs a lockstep kernel `f(x, v, sums, events)` on the codes of every chain of `states`
/// copied to the container `c` (chain-major, tagged), then writes back the codes and each
/// chain's events, and adds the kernel's kept sums to `sums` (`keep.count(n)` samples each).
#[allow(clippy::too_many_arguments)]
pub(crate) fn lockstep_in(
    codes: &mut Codes,
    c: Container,
    lk: &mut [Vec<i64>; 3],
    events: &mut Vec<u64>,
    states: &mut [ChainState],
    (n, keep): (u64, Keep),
    sums: &mut [CodeSums],
    f: impl FnOnce(CodeSliceMut, CodeSliceMut, Option<Sums>, &mut [u64]),
) {
    fn fill<'a, C: Code>(b: &'a mut Vec<C>, states: &[ChainState], v: bool) -> &'a mut [C] {
        b.clear();
        for st in states {
            let q = if v { &st.vc } else { &st.xc };
            b.extend(q.iter().map(|&c| C::from_i64(c)));
        }
        b
    }
    fn back<C: Code>(b: &[C], states: &mut [ChainState], v: bool) {
        let d = b.len() / states.len().max(1);
        for (st, chunk) in states.iter_mut().zip(b.chunks(d.max(1))) {
            let q = if v { &mut st.vc } else { &mut st.xc };
            for (dst, src) in q.iter_mut().zip(chunk) {
                *dst = src.to_i64();
            }
        }
    }
    let kept = keep.count(n);
    let [c0, s1, s2] = lk;
    c0.clear();
    if kept > 0 {
        for s in sums.iter() {
            c0.extend_from_slice(&s.c0);
        }
    }
    s1.clear();
    s1.resize(c0.len(), 0);
    s2.clear();
    s2.resize(c0.len(), 0);
    events.clear();
    events.resize(states.len(), 0);
    let sums_k = (kept > 0).then(|| Sums {
        c0: &c0[..],
        s1: &mut s1[..],
        s2: &mut s2[..],
    });
    let Codes {
        s8: [x8, v8],
        s16: [x16, v16],
        s32: [x32, v32],
        s64: [x64, v64],
    } = codes;
    macro_rules! both {
        ($x:ident, $v:ident, $tag:ident) => {{
            f(
                CodeSliceMut::$tag(fill($x, states, false)),
                CodeSliceMut::$tag(fill($v, states, true)),
                sums_k,
                events,
            );
            back($x, states, false);
            back($v, states, true);
        }};
    }
    match c {
        Container::I8 => both!(x8, v8, I8),
        Container::I16 => both!(x16, v16, I16),
        Container::I32 => both!(x32, v32, I32),
        Container::I64 => both!(x64, v64, I64),
    }
    let d = states.first().map_or(0, |st| st.xc.len());
    for (j, st) in states.iter_mut().enumerate() {
        st.events += events[j];
    }
    if kept > 0 {
        for (j, s) in sums.iter_mut().enumerate() {
            for i in 0..d {
                s.s1[i] += s1[j * d + i] as i128;
                s.s2[i] += s2[j * d + i] as i128;
            }
            s.n += kept;
        }
    }
}

/// Random-word scratch of a lockstep call: at least this many words, so that a call draws
/// many steps' words per fill.
pub(crate) const LOCKSTEP_WORDS: usize = 8192;

/// Whether a lockstep kernel takes chains of dimension `d` with positions of `wl` bits
/// (runner calls keep at most 4096 samples, which the kernel's `i64` sums must hold).
pub(crate) fn lockstep_fits(d: usize, wl: u32) -> bool {
    d <= lpmc_kernels::lockstep::MAX_D && lpmc_kernels::lockstep::max_kept(wl) >= 4096
}

/// Words of random-bit scratch a fused call keeps: at least this many, so that short steps
/// draw many steps' words at once.
pub(crate) const FUSED_WORDS: usize = 512;

/// Calls on fewer elements use the portable kernels.
const SMALL: usize = 32;

pub(crate) use lpmc_kernels::fused::align;

/// Fills `ws.z[..n]` with f64 normals (Box–Muller).
pub(crate) fn normals(ws: &mut Workspace, n: usize, bits: &mut Bits) {
    box_muller(bits, &mut ws.z[..n]);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exact code sums give the moments of the values to within a few ulps of a two-pass
    /// `f64` computation (which is itself accurate to ~n·ε relative), also far from `c0`.
    #[test]
    fn code_sums_match_two_pass_moments() {
        let mut g = lpmc_kernels::XoshiroLanes::new(5, 0);
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

    #[test]
    fn align_is_exact_or_floor() {
        assert_eq!(align(5, 2, 4), 20);
        assert_eq!(align(5, 4, 2), 1);
        assert_eq!(align(-5, 4, 2), -2);
        assert_eq!(align(-5, 200, 0), -1);
    }
}
