//! A sampler bound to a target, run by the kernels' drivers.

use super::{ChainState, Datapath, Plane, Sampler, Storage};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::round::Rounding;
use crate::source::Bits;
use crate::target::Potential;
use lpmc_kernels::drivers::lockstep::{self, Keep, Kept};
use lpmc_kernels::drivers::{chain, reference, State};
use lpmc_kernels::portable::round_f64;
use lpmc_kernels::rules::{Events, Gradient, Step, Variant};
use lpmc_kernels::Platform;

/// Where the gradient comes from, decided once per (sampler, target).
#[derive(Clone, Debug)]
enum Source {
    /// Integer products of a diagonal Gaussian: precision codes (`coef`) and mean codes
    /// (`param`).
    IntGauss {
        prec: Vec<i64>,
        mean: Vec<i64>,
        prec_fl: u32,
    },
    /// A diagonal Gaussian in `f64`, inside the kernels.
    Gauss,
    /// A 1-D mixture, inside the kernels.
    Mixture,
    /// [`Target::stochastic_grad`], one step at a time.
    General,
}

/// A sampler bound to a target: the gradient's source decided and converted once, then
/// chains advanced by the kernels' drivers (`lpmc_kernels::drivers`): the chain driver for one
/// chain, the lockstep driver for many small chains, each on the platform
/// [`Platform::detect`] picks (every platform gives the same bits).
#[derive(Debug)]
pub struct Engine<'a> {
    sampler: &'a dyn Sampler,
    target: &'a dyn Potential,
    source: Source,
    platform: Platform,
}

/// Reusable buffers of one chain's calls.
#[derive(Clone, Debug, Default)]
pub struct Scratch {
    words: Vec<u64>,
    pos: Vec<f64>,
    grad: Vec<f64>,
}

/// Words of random-bit scratch a call keeps at least, so that short steps draw many steps'
/// words at once.
const CALL_WORDS: usize = 512;

impl<'a> Engine<'a> {
    /// `sampler` on `target`; an error if their dimensions differ.
    pub fn new(sampler: &'a dyn Sampler, target: &'a dyn Potential) -> Result<Self> {
        let d = sampler.dim();
        if target.dim() != d {
            return Err(Error::Config(format!(
                "dimension mismatch: the sampler has dimension {d} but the target {}",
                target.dim()
            )));
        }
        let setup = sampler.setup();
        let probe = sampler.kernel_step(Gradient::Given(&[]));
        let source = if let Some((mean, prec)) = target.diagonal_gaussian() {
            match int_gauss(setup, probe.variant, mean, prec) {
                Some((p, m)) => Source::IntGauss {
                    prec: p,
                    mean: m,
                    prec_fl: setup.formats.coef.fl(),
                },
                None => Source::Gauss,
            }
        } else if d == 1 && target.mixture_1d().is_some() {
            Source::Mixture
        } else {
            Source::General
        };
        Ok(Engine {
            sampler,
            target,
            source,
            platform: Platform::detect(),
        })
    }

    /// The same engine on `platform` (tests and benchmarks compare platforms).
    pub fn with_platform(mut self, platform: Platform) -> Self {
        self.platform = platform;
        self
    }

    /// The platform the drivers run on.
    pub fn platform(&self) -> Platform {
        self.platform
    }

    /// The gradient inside the kernels, or `None` when the target computes it.
    fn gradient(&self) -> Option<Gradient<'_>> {
        Some(match &self.source {
            Source::IntGauss {
                prec,
                mean,
                prec_fl,
            } => Gradient::IntGauss {
                prec,
                mean,
                prec_fl: *prec_fl,
            },
            Source::Gauss => {
                let (mean, prec) = self.target.diagonal_gaussian()?;
                Gradient::Gauss { prec, mean }
            }
            Source::Mixture => Gradient::Mixture(self.target.mixture_1d()?),
            Source::General => return None,
        })
    }

    /// The kernel step with the gradient inside the kernels (`None` when the target computes
    /// it, one step at a time).
    pub fn step(&self) -> Option<Step<'_>> {
        self.gradient().map(|g| self.sampler.kernel_step(g))
    }

    /// Whether the kernels compute the gradient in integers (a diagonal Gaussian with
    /// representable constants on the integer datapath).
    pub fn integer_gradient(&self) -> bool {
        matches!(self.source, Source::IntGauss { .. })
    }

    /// Whether chains of this sampler run in lockstep ([`Engine::run_lockstep`]).
    pub fn lockstep(&self) -> bool {
        self.step()
            .is_some_and(|s| lockstep::takes(&s, self.sampler.dim()))
    }

    /// `n` steps of one chain; overflow events are added to `st.events`.
    pub fn run(&self, st: &mut ChainState, bits: &mut Bits, n: u64) {
        self.run_with(st, bits, n, &mut Scratch::default())
    }

    /// [`Engine::run`] with reusable buffers.
    pub fn run_with(&self, st: &mut ChainState, bits: &mut Bits, n: u64, scratch: &mut Scratch) {
        let d = self.sampler.dim();
        if let Some(step) = self.step() {
            let need = step.layout(d).words();
            if scratch.words.len() < need.max(CALL_WORDS) {
                scratch.words.resize(need.max(CALL_WORDS), 0);
            }
            let ev = chain::run(
                &step,
                state(&mut st.x, st.v.as_mut()),
                &mut st.scale,
                n,
                bits,
                &mut scratch.words,
                self.platform,
            );
            st.events += ev;
            return;
        }
        // The target's gradient: one step at a time, its minibatch words between the lp-f
        // pre-rounding and the main part.
        scratch.pos.resize(d, 0.0);
        scratch.grad.resize(d, 0.0);
        let probe = self.sampler.kernel_step(Gradient::Given(&[]));
        let need = probe.layout(d).words().max(1);
        if scratch.words.len() < need {
            scratch.words.resize(need, 0);
        }
        for _ in 0..n {
            if probe.variant == Variant::LpF {
                let s = state(&mut st.x, st.v.as_mut());
                st.events +=
                    reference::pre_round(&probe, &s, bits, &mut scratch.words, &mut scratch.pos);
            } else {
                for (i, p) in scratch.pos.iter_mut().enumerate() {
                    *p = st.x.value(i);
                }
            }
            self.target
                .stochastic_grad(&scratch.pos, bits, &mut scratch.grad);
            let step = self.sampler.kernel_step(Gradient::Given(&scratch.grad));
            st.events += chain::run(
                &step,
                state(&mut st.x, st.v.as_mut()),
                &mut st.scale,
                1,
                bits,
                &mut scratch.words,
                self.platform,
            );
        }
    }

    /// `n` steps of the chains whose states are `x` (and `v`), chains × d, chain-major, chain
    /// `j` drawing from `bits[j]`, side by side; kept steps (`keep`) go to `kept`. Only when
    /// [`Engine::lockstep`] holds. Returns the chains' overflow events.
    ///
    /// # Panics
    /// If [`Engine::lockstep`] does not hold or the shapes disagree (see
    /// `lpmc_kernels::drivers::lockstep::run`).
    #[allow(clippy::too_many_arguments)]
    pub fn run_lockstep(
        &self,
        x: &mut Plane,
        v: Option<&mut Plane>,
        bits: &mut [Bits],
        n: u64,
        keep: Keep,
        kept: Option<Kept>,
        scratch: &mut Vec<u64>,
    ) -> Events {
        let step = self
            .step()
            .expect("run_lockstep: the kernels compute the gradient");
        let need = lockstep::scratch_words(&step, self.sampler.dim());
        if scratch.len() < need {
            scratch.resize(need, 0);
        }
        let mut b = bits;
        lockstep::run(
            &step,
            state(x, v),
            n,
            &mut b,
            keep,
            kept,
            scratch,
            self.platform,
        )
    }
}

/// The kernels' view of a chain's (or chains') state.
pub(crate) fn state<'s>(x: &'s mut Plane, v: Option<&'s mut Plane>) -> State<'s> {
    match x {
        Plane::F64(x) => State::F64 {
            x,
            v: v.map(|v| match v {
                Plane::F64(v) => &mut v[..],
                Plane::Codes { .. } => unreachable!("x and v share their storage kind"),
            }),
        },
        Plane::Codes { codes, .. } => State::Codes {
            x: codes.slice_mut(),
            v: v.map(|v| match v {
                Plane::Codes { codes, .. } => codes.slice_mut(),
                Plane::F64(_) => unreachable!("x and v share their storage kind"),
            }),
        },
    }
}

/// The integer gradient's constants, if it applies: the integer datapath, a quantized variant,
/// no gradient noise, and every precision exactly a `coef` code and every mean exactly a
/// `param` code.
fn int_gauss(
    setup: &super::Setup,
    variant: Variant,
    mean: &[f64],
    prec: &[f64],
) -> Option<(Vec<i64>, Vec<i64>)> {
    if setup.datapath != Datapath::Integer || setup.grad_noise != 0.0 || variant == Variant::Fp {
        return None;
    }
    let exact = |v: f64, f: Format| {
        let q = round_f64(v, f.fl(), Rounding::NearestEven, 0);
        let (c, over) = f.overflow().apply(q, f.wl());
        (!over && f.value(c) == v).then_some(c)
    };
    let (fx, fc) = (setup.formats.param, setup.formats.coef);
    let p: Option<Vec<i64>> = prec.iter().map(|&p| exact(p, fc)).collect();
    let m: Option<Vec<i64>> = mean.iter().map(|&m| exact(m, fx)).collect();
    Some((p?, m?))
}

impl Storage {
    /// Whether values are stored as codes.
    pub fn is_codes(self) -> bool {
        matches!(self, Storage::Codes(_))
    }
}
