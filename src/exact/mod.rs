//! The exact stationary law of a 1-D lattice chain: no Monte Carlo.
//!
//! A 1-D chain whose state lives on a fixed-point lattice — SGLD `lp-l`/`vc-l` on the 2^WL
//! codes of `param`, SGHMC `lp-l`/`vc-l`/`vc-joint` on the 2^(WL_x + WL_v) pairs of position
//! and momentum codes — is a finite Markov chain. Its transition row from a state is the law
//! of one sampler step, computed from the step the engine runs
//! ([`crate::sampler::Engine::step`]: the rule's coefficients, formats, gradient source and
//! noise generator) and the rules' definitions ([`law`], [`build`]): P(up) of the rounding
//! ([`lpmc_kernels::Rounding::p_up_f64`], [`lpmc_kernels::Rounding::p_up_code`]), the overflow
//! rule ([`lpmc_kernels::Overflow::apply`]), the integer sums ([`lpmc_kernels::lane::align`]),
//! the noise law (Gaussian on the float datapath, the exact pmf of the fixed-point generator
//! on the integer one), Q_G (the integer gradient when the engine uses it, else the `f64`
//! gradient plus gradient noise, rounded) and the variance-corrected quantizers of
//! [`lpmc_kernels::rules::vc`]. The stationary law ([`chain::Chain::stationary`]) then gives the moments,
//! W2/W1 to the target, the saturation rate and the relaxation time exactly (up to the
//! solver's reported residual).
//!
//! `lp-f` and `fp` keep a full-precision state (a continuous state space) and are refused,
//! as are targets of dimension d > 1, the momentum rescaling (a continuous scale in the
//! state) and minibatch gradients (the law of a minibatch mean is not enumerated).
//!
//! ```
//! use lpmc::experiment::config::RunConfig;
//! use lpmc::exact::{solve, Limits};
//! let c: RunConfig = serde_json::from_str(r#"{
//!     "target": {"gaussian": {"mean": [0.0], "var": [1.0]}},
//!     "sampler": {"sgld": {"variant": "lp-l", "eta": 0.002}},
//!     "format": {"wl": 8, "fl": 3}, "grad_noise": 0.1}"#).unwrap();
//! let s = solve(&c, &Limits::default()).unwrap();
//! assert!((s.metrics.var[0] - 1.650).abs() < 1e-3); // \[L\]'s Gaussian, naive SGLDLP-L
//! ```

pub mod build;
pub mod chain;
pub mod law;

use crate::error::{Error, Result};
use crate::experiment::config::{RunConfig, SamplerConfig};
use crate::format::Format;
use crate::sampler::sghmc::SghmcVariant;
use crate::sampler::sgld::SgldVariant;
use crate::sampler::{Engine, Sampler};
use crate::target::{Target, TargetConfig};
use build::{GradLaw, Model, Rows, Scratch, SghmcCtx};
use chain::Chain;
use lpmc_kernels::rules::{Dynamics, Gradient, Variant};
use rayon::prelude::*;
use serde::Serialize;
use std::time::Instant;

/// Default largest number of states (2^22).
pub const MAX_STATES: usize = 1 << 22;
/// Default largest number of stored transition probabilities (2^27, 1.5 GiB).
pub const MAX_ENTRIES: usize = 1 << 27;

/// Chains whose rows would store more than this many probabilities in all drop the entries
/// below [`PRUNE`].
pub const PRUNE_ABOVE: usize = 1 << 24;
/// Transition probabilities below this are dropped in large chains (see [`PRUNE_ABOVE`]);
/// the largest mass dropped from one row is reported as `pruned_mass`.
pub const PRUNE: f64 = 1e-18;

/// Size limits of an exact solve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest number of states.
    pub max_states: usize,
    /// Largest number of stored transition probabilities (12 bytes each).
    pub max_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_states: MAX_STATES,
            max_entries: MAX_ENTRIES,
        }
    }
}

/// The `metrics` of `exact.json`. Units: x (and v) values; `saturation_rate` in events per
/// step.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExactMetrics {
    /// Stationary mean of x (one element: the target is 1-D).
    pub mean: Vec<f64>,
    /// Stationary variance of x.
    pub var: Vec<f64>,
    /// The target's mean.
    pub target_mean: Vec<f64>,
    /// The target's variance.
    pub target_var: Vec<f64>,
    /// Exact W2 between the stationary x-marginal and the target.
    pub w2: f64,
    /// Exact W1 between the stationary x-marginal and the target.
    pub w1: f64,
    /// SGHMC: stationary mean of v.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_v: Option<f64>,
    /// SGHMC: stationary variance of v.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub var_v: Option<f64>,
    /// SGHMC: stationary covariance of x and v.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cov_xv: Option<f64>,
    /// Expected overflow events (saturations or wraps) per step at stationarity, counted as
    /// `lpmc run` counts `saturations` (so comparable with `saturations / (chains·steps)`).
    pub saturation_rate: f64,
    /// |λ₂|, the second largest eigenvalue modulus of the transition matrix.
    pub lambda2_abs: f64,
    /// λ₂ as `[re, im]`.
    pub lambda2: [f64; 2],
    /// Change of |λ₂| between the Arnoldi estimates with ⌈3m/4⌉ and m steps (its accuracy).
    pub lambda2_change: f64,
    /// Spectral gap 1 − |λ₂|.
    pub spectral_gap: f64,
    /// Relaxation time 1/(1 − |λ₂|) in steps (`null` if the gap is 0).
    pub relaxation_steps: Option<f64>,
    /// `‖πP − π‖₁` of the returned law.
    pub residual: f64,
    /// Largest probability mass dropped from one row (entries below 1e-18 in chains of more
    /// than 2^24 stored probabilities; 0 otherwise).
    pub pruned_mass: f64,
    /// `gth` (direct) or `gmres` (iterative).
    pub solver: String,
    /// Matrix–vector products of the iterative solver (0 for GTH).
    pub iterations: usize,
    /// Seconds to build the transition rows.
    pub build_s: f64,
    /// Seconds to solve and analyse.
    pub solve_s: f64,
}

/// A solved chain.
#[derive(Clone, Debug)]
pub struct Solved {
    /// Position format (the lattice of x).
    pub x_format: Format,
    /// Momentum storage format (SGHMC).
    pub v_format: Option<Format>,
    /// Number of states.
    pub states: usize,
    /// Stored transition probabilities.
    pub entries: usize,
    /// Stationary law of x over the codes `x_format.min_code()..=max_code()`.
    pub x_pmf: Vec<f64>,
    /// SGHMC: the joint law, index `(v − v_min)·N_x + (x − x_min)`.
    pub joint: Option<Vec<f64>>,
    /// The metrics.
    pub metrics: ExactMetrics,
}

/// The built target, the built sampler (dimension 1) and the number of states.
type Prepared = (Box<dyn Target>, Box<dyn Sampler>, usize);

/// Checks that `config` describes a lattice chain the exact solver takes, and builds the
/// target and the sampler (dimension 1) and counts the states. Errors name the field and what
/// is allowed.
fn prepare(config: &RunConfig, limits: &Limits) -> Result<Prepared> {
    let built = config.build()?;
    let target = built.target;
    if target.dim() != 1 {
        return Err(Error::param(
            "target dimension",
            target.dim(),
            "lpmc exact needs a 1-D target (a Gaussian, a mixture or the [S] script posterior of dimension 1)",
        ));
    }
    if let TargetConfig::Posterior(p) = &config.target {
        if p.minibatch.is_some() {
            return Err(Error::Config(
                "target.posterior.minibatch: lpmc exact needs the full-batch gradient (the law of a minibatch mean is not enumerated); remove `minibatch`".into(),
            ));
        }
    }
    let continuous = |name: &str| {
        Error::Config(format!(
            "variant `{name}` keeps a full-precision state (a continuous state space): lpmc exact needs a state on the lattice (sgld: lp-l, vc-l; sghmc: lp-l, vc-l, vc-joint)"
        ))
    };
    match &config.sampler {
        SamplerConfig::Sgld(s) => match s.variant {
            SgldVariant::Fp => return Err(continuous("fp")),
            SgldVariant::LpF => return Err(continuous("lp-f")),
            _ => {}
        },
        SamplerConfig::Sghmc(s) => {
            match s.variant {
                SghmcVariant::Fp => return Err(continuous("fp")),
                SghmcVariant::LpF => return Err(continuous("lp-f")),
                _ => {}
            }
            if s.rescale_momentum {
                return Err(Error::Config(
                    "sampler.sghmc.rescale_momentum: the momentum scale S is a continuous part of the state; lpmc exact needs rescale_momentum = false".into(),
                ));
            }
        }
    }
    let sampler = built.sampler;
    let step = sampler.kernel_step(Gradient::Given(&[]));
    let bits = match step.dynamics {
        Dynamics::Sgld => step.x.wl,
        Dynamics::Sghmc => step.x.wl + step.v.wl,
    };
    let states = if bits >= 63 {
        usize::MAX
    } else {
        1usize << bits
    };
    if states > limits.max_states {
        return Err(Error::param(
            "number of states",
            format!("2^{bits}"),
            format!(
                "the exact chain has at most {} states (2^{}): use fewer bits in the state formats",
                limits.max_states,
                limits.max_states.trailing_zeros()
            ),
        ));
    }
    Ok((target, sampler, states))
}

/// Checks that `config` is a chain [`solve`] takes (1-D target, lattice variant, state count
/// within `limits`), without building it.
pub fn check(config: &RunConfig, limits: &Limits) -> Result<()> {
    prepare(config, limits).map(|_| ())
}

/// Builds the chain of `config`, solves for its stationary law and computes the metrics.
pub fn solve(config: &RunConfig, limits: &Limits) -> Result<Solved> {
    let t0 = Instant::now();
    let (target, sampler, n) = prepare(config, limits)?;
    let (target, sampler) = (target.as_ref(), sampler.as_ref());
    // The step the engine runs: its gradient source (the integer Gaussian gradient when the
    // engine uses it), or, for targets whose gradient the target computes, the sampler's step
    // with the target's gradient.
    let engine = Engine::new(sampler, target)?;
    let step = engine
        .step()
        .unwrap_or_else(|| sampler.kernel_step(Gradient::Given(&[])));
    debug_assert_eq!(
        engine.integer_gradient(),
        matches!(step.gradient, Gradient::IntGauss { .. })
    );
    let model = Model::new(step, target)?;
    let hmc = step.dynamics == Dynamics::Sghmc;
    let fx = model.fx;
    let fv = hmc.then_some(model.fv);
    let nx = fx.codes() as usize;
    let grads: Vec<GradLaw> = (fx.min_code()..=fx.max_code())
        .into_par_iter()
        .map(|xc| build::grad_law(&model, xc))
        .collect();
    let noise = if step.int_noise() {
        build::noise_pmf(step.noise, model.fnoise)?
    } else {
        Vec::new()
    };
    let ctx = hmc.then(|| {
        let float_lpl = step.variant == Variant::LpL && model.float();
        let t_x = step.coefs[6] * (fx.fl() as f64).exp2();
        SghmcCtx {
            m: &model,
            grads: &grads,
            noise: &noise,
            gl: [build::gauss_legendre(4), build::gauss_legendre(8)],
            xk: float_lpl.then(|| build::XKernel::new(t_x, step.rounding)),
        }
    });
    let row_of = |i: usize, scratch: &mut Scratch, out: &mut Rows| -> Result<()> {
        match &ctx {
            None => {
                build::sgld_row(
                    &model,
                    &grads,
                    &noise,
                    fx.min_code() + i as i64,
                    scratch,
                    out,
                );
                Ok(())
            }
            Some(ctx) => {
                let xc = fx.min_code() + (i % nx) as i64;
                let vc = fv.map_or(0, |f| f.min_code()) + (i / nx) as i64;
                build::sghmc_row(ctx, xc, vc, scratch, out)
            }
        }
    };
    // Early size check from the row of the state nearest the target mean (v = 0).
    let mean = target.mean()[0];
    let x_mid =
        ((mean * (fx.fl() as f64).exp2()).round() as i64).clamp(fx.min_code(), fx.max_code());
    let v_mid = fv.map_or(0, |f| (-f.min_code()) as usize);
    let probe = v_mid * nx + (x_mid - fx.min_code()) as usize;
    let mut probe_row = Rows::new(0.0);
    row_of(probe, &mut Scratch::default(), &mut probe_row)?;
    let estimate = probe_row.entries().saturating_mul(n);
    // Large chains drop the entries below PRUNE (their mass is recorded).
    let prune = if estimate > PRUNE_ABOVE { PRUNE } else { 0.0 };
    let kept = probe_row.vals.iter().filter(|&&p| p >= prune).count();
    let estimate = kept.saturating_mul(n);
    if estimate > limits.max_entries.saturating_mul(3) / 2 {
        return Err(Error::param(
            "transition probabilities to store",
            format!("about {estimate} ({kept} per row × {n} states)"),
            format!(
                "at most {} (--max-entries): use fewer state bits, or a momentum/position noise that spans fewer codes per step",
                limits.max_entries
            ),
        ));
    }
    const CHUNK: usize = 256;
    let nchunks = n.div_ceil(CHUNK);
    let mut chain = Chain::with_states(n);
    let mut events = Vec::with_capacity(n);
    let mut pruned_mass = 0.0f64;
    // Batches of chunks in parallel, appended in order (bounded extra memory).
    let batch = 4 * rayon::current_num_threads().max(1);
    for b0 in (0..nchunks).step_by(batch) {
        let rows: Vec<Result<Rows>> = (b0..(b0 + batch).min(nchunks))
            .into_par_iter()
            .map_init(Scratch::default, |scratch, c| {
                let mut out = Rows::new(prune);
                for i in c * CHUNK..((c + 1) * CHUNK).min(n) {
                    row_of(i, scratch, &mut out)?;
                }
                Ok(out)
            })
            .collect();
        for chunk in rows {
            let chunk = chunk?;
            if chain.entries() + chunk.entries() > limits.max_entries {
                return Err(Error::param(
                    "transition probabilities to store",
                    format!("more than {}", limits.max_entries),
                    format!(
                        "at most {} (--max-entries): use fewer state bits",
                        limits.max_entries
                    ),
                ));
            }
            chain.append(&chunk);
            events.extend_from_slice(&chunk.events);
            pruned_mass = pruned_mass.max(chunk.max_lost);
        }
    }
    debug_assert_eq!(chain.rows(), n);
    let build_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let st = chain.stationary(1e-13, 20_000)?;
    let (l2, l2_change) = match st.lambda2 {
        Some(l) => l,
        None => chain.second_eigenvalue(&st.pi, if n <= 200 { n - 1 } else { 80 }),
    };
    let pi = &st.pi;
    // x-marginal, moments.
    let mut x_pmf = vec![0.0; nx];
    for (i, &p) in pi.iter().enumerate() {
        x_pmf[i % nx] += p;
    }
    let xv: Vec<f64> = (fx.min_code()..=fx.max_code())
        .map(|c| fx.value(c))
        .collect();
    let mean_x: f64 = x_pmf.iter().zip(&xv).map(|(p, x)| p * x).sum();
    let var_x: f64 = x_pmf
        .iter()
        .zip(&xv)
        .map(|(p, x)| p * (x - mean_x).powi(2))
        .sum();
    let (mut mean_v, mut var_v, mut cov_xv) = (None, None, None);
    if let Some(f) = fv {
        let value_v = |i: usize| f.value(f.min_code() + (i / nx) as i64);
        let mv: f64 = pi.iter().enumerate().map(|(i, p)| p * value_v(i)).sum();
        let vv: f64 = pi
            .iter()
            .enumerate()
            .map(|(i, p)| p * (value_v(i) - mv).powi(2))
            .sum();
        let cxv: f64 = pi
            .iter()
            .enumerate()
            .map(|(i, p)| p * (xv[i % nx] - mean_x) * (value_v(i) - mv))
            .sum();
        mean_v = Some(mv);
        var_v = Some(vv);
        cov_xv = Some(cxv);
    }
    let law = target.marginal(0);
    let d = crate::wasserstein::exact1d::to_law_weighted(&xv, &x_pmf, &law)?;
    let saturation_rate: f64 = pi.iter().zip(&events).map(|(p, e)| p * e).sum();
    let l2abs = l2.0.hypot(l2.1);
    let gap = 1.0 - l2abs;
    let metrics = ExactMetrics {
        mean: vec![mean_x],
        var: vec![var_x],
        target_mean: vec![law.mean()],
        target_var: vec![law.var()],
        w2: d.w2,
        w1: d.w1,
        mean_v,
        var_v,
        cov_xv,
        saturation_rate,
        lambda2_abs: l2abs,
        lambda2: [l2.0, l2.1],
        lambda2_change: l2_change,
        spectral_gap: gap,
        relaxation_steps: (gap > 0.0).then(|| 1.0 / gap),
        residual: st.residual,
        pruned_mass,
        solver: st.method.to_string(),
        iterations: st.iterations,
        build_s,
        solve_s: t1.elapsed().as_secs_f64(),
    };
    let joint = fv.map(|_| st.pi.clone());
    Ok(Solved {
        x_format: fx,
        v_format: fv,
        states: n,
        entries: chain.entries(),
        x_pmf,
        joint,
        metrics,
    })
}
