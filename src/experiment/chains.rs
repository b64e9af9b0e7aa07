//! The chain runner: many independent chains of one [`Sampler`] on one [`Target`], run in
//! parallel over chains (rayon), with burn-in, thinning, moments of the kept samples and a
//! capped set of kept samples for output.
//!
//! # Determinism
//! Chain `c` draws from stream `(seed, c)` of the configured [`Source`] and nothing else;
//! chains are independent tasks and their results are combined in chain order, so every
//! output is the same bits for any number of threads.
//!
//! # Segments
//! Each chain advances by [`Sampler::run`] from one kept step to the next (at most
//! 4096 steps per call), so samplers with a fused kernel take many steps per call; the
//! results are those of stepping one at a time.
//!
//! # Lockstep groups
//! When the sampler has a lockstep kernel ([`Sampler::lockstep`]: small fused chains), the
//! chains run in groups of up to `lpmc_kernels::lockstep::LANES`, side by side, each still
//! drawing from its own stream: [`Sampler::run_lockstep`] advances a group up to 4096 steps
//! per call and sums the kept samples' codes inside the kernel. Only the last kept samples
//! that become output rows are taken one call at a time. A chain's bits do not depend on
//! its group.
//!
//! # Moments
//! Kept samples stored as codes are summed exactly ([`CodeSums`]: integer sums of
//! `c − c0` and `(c − c0)²`), rounded once at the end; `f64` state uses Welford's update.
//!
//! # Flat state
//! The final state of all chains is returned as flat planes, chains × dims, row-major: codes
//! in the container of their format ([`Codes`]) or `f64` ([`Plane`]).

use crate::error::{Error, Result};
use crate::format::{Codes, Format};
use crate::sampler::{CodeSums, Keep, Sampler, Storage};
use crate::source::Source;
use crate::target::Target;
use rayon::prelude::*;
use std::time::Instant;

/// What the runner runs.
#[derive(Clone, Debug, PartialEq)]
pub struct ChainSpec {
    /// Number of independent chains, ≥ 1.
    pub chains: usize,
    /// Steps per chain, ≥ 1.
    pub steps: u64,
    /// Steps discarded at the start of each chain, < `steps`.
    pub burn_in: u64,
    /// Keep every `thin`-th step after burn-in (≥ 1): steps `burn_in + thin·j`, j ≥ 1.
    pub thin: u64,
    /// Seed of every chain's stream.
    pub seed: u64,
    /// Random-bit source.
    pub source: Source,
    /// Initial position of every chain (length d).
    pub x0: Vec<f64>,
    /// Largest number of kept samples returned for output (rows of `samples.csv`).
    pub max_rows: usize,
    /// Worker threads (`None`: rayon's default, one per core).
    pub threads: Option<usize>,
}

impl ChainSpec {
    /// Kept samples per chain, `⌊(steps − burn_in)/thin⌋`.
    pub fn kept_per_chain(&self) -> u64 {
        (self.steps - self.burn_in) / self.thin
    }

    /// Returned rows per chain: `q = min(kept, max(1, max_rows/chains))` for the first chains
    /// until `max_rows` rows are reached (the last `q` kept samples of each).
    pub fn rows_of_chain(&self, c: usize) -> usize {
        if self.max_rows == 0 {
            return 0;
        }
        let q = ((self.max_rows / self.chains).max(1) as u64).min(self.kept_per_chain()) as usize;
        self.max_rows.saturating_sub(c * q).min(q)
    }
}

/// Receives progress: `add(n)` after `n` more chain-steps (thread-safe).
pub trait Progress: Sync {
    /// `n` more chain-steps are done.
    fn add(&self, n: u64);
}

/// No progress reporting.
pub struct NoProgress;

impl Progress for NoProgress {
    fn add(&self, _: u64) {}
}

/// A chains × dims plane of state.
#[derive(Clone, Debug, PartialEq)]
pub enum Plane {
    /// Full-precision values.
    F64(Vec<f64>),
    /// Codes of `format`, in its container.
    Codes {
        /// The format of the codes.
        format: Format,
        /// The codes, row-major (chain, dim).
        codes: Codes,
    },
}

/// What a run of the chains gives.
#[derive(Clone, Debug, PartialEq)]
pub struct ChainsOutput {
    /// Mean per dimension over all kept samples of all chains.
    pub mean: Vec<f64>,
    /// Variance (divisor n) per dimension over all kept samples of all chains.
    pub var: Vec<f64>,
    /// Number of kept samples (all chains).
    pub kept: u64,
    /// Overflow events (saturations/wraps) of every rounding of every chain.
    pub saturations: u64,
    /// The returned kept samples as `(chain, x)` rows, in chain order.
    pub rows: Vec<(usize, Vec<f64>)>,
    /// Final positions.
    pub final_x: Plane,
    /// Final momenta (SGHMC), or `None`.
    pub final_v: Option<Plane>,
    /// Wall-clock seconds of the chains.
    pub wall_s: f64,
    /// Chain-steps per second (all chains).
    pub steps_per_s: f64,
}

struct ChainOut {
    n: u64,
    mean: Vec<f64>,
    m2: Vec<f64>,
    rows: Vec<f64>,
    state: crate::sampler::ChainState,
}

/// Runs `spec.chains` chains of `sampler` on `target`.
pub fn run_chains(
    sampler: &dyn Sampler,
    target: &dyn Target,
    spec: &ChainSpec,
    progress: &dyn Progress,
) -> Result<ChainsOutput> {
    let d = sampler.dim();
    if spec.chains == 0 {
        return Err(Error::param("chains", 0, "must be at least 1"));
    }
    if spec.steps == 0 {
        return Err(Error::param("steps", 0, "must be at least 1"));
    }
    if spec.thin == 0 {
        return Err(Error::param("thin", 0, "must be at least 1"));
    }
    if spec.burn_in >= spec.steps {
        return Err(Error::param(
            "burn_in",
            spec.burn_in,
            format!("must be less than steps = {}", spec.steps),
        ));
    }
    if spec.x0.len() != d {
        return Err(Error::Config(format!(
            "dimension mismatch: x0 has {} entries but the target has dimension {d}",
            spec.x0.len()
        )));
    }
    let init = sampler.init(&spec.x0)?;
    spec.source.stream(spec.seed, 0)?;
    let t0 = Instant::now();
    let lock = sampler.lockstep(target);
    let work = || -> Vec<ChainOut> {
        // Lockstep groups, but at least as many groups as threads when the chains allow.
        let g = if lock {
            let lanes = lpmc_kernels::lockstep::LANES;
            spec.chains
                .div_ceil(rayon::current_num_threads())
                .clamp(1, lanes)
        } else {
            1
        };
        let groups: Vec<Vec<ChainOut>> = (0..spec.chains.div_ceil(g))
            .into_par_iter()
            .map(|k| {
                let chains = k * g..((k + 1) * g).min(spec.chains);
                run_group(sampler, target, spec, &init, chains, lock, progress)
            })
            .collect();
        groups.into_iter().flatten().collect()
    };
    let outs = match spec.threads {
        Some(t) => rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .map_err(|e| Error::Config(format!("cannot start {t} threads: {e}")))?
            .install(work),
        None => work(),
    };
    let wall_s = t0.elapsed().as_secs_f64();

    // Combine moments in chain order (Chan et al.'s pairwise update).
    let (mut n, mut mean, mut m2) = (0u64, vec![0.0; d], vec![0.0; d]);
    let mut saturations = 0;
    let mut rows = Vec::new();
    for (c, o) in outs.iter().enumerate() {
        saturations += o.state.events;
        if o.n > 0 {
            let (na, nb) = (n as f64, o.n as f64);
            let nt = na + nb;
            for i in 0..d {
                let delta = o.mean[i] - mean[i];
                mean[i] += delta * nb / nt;
                m2[i] += o.m2[i] + delta * delta * na * nb / nt;
            }
            n += o.n;
        }
        rows.extend(o.rows.chunks(d.max(1)).map(|r| (c, r.to_vec())));
    }
    let var = m2.iter().map(|m| m / n.max(1) as f64).collect();
    let (sx, sv) = sampler.storage();
    let final_x = plane(
        sx,
        spec.chains * d,
        outs.iter().map(|o| (&o.state.x, &o.state.xc)),
    );
    let final_v = (!outs[0].state.v.is_empty() || !outs[0].state.vc.is_empty()).then(|| {
        plane(
            sv,
            spec.chains * d,
            outs.iter().map(|o| (&o.state.v, &o.state.vc)),
        )
    });
    let total_steps = spec.steps as f64 * spec.chains as f64;
    Ok(ChainsOutput {
        mean,
        var,
        kept: n,
        saturations,
        rows,
        final_x,
        final_v,
        wall_s,
        steps_per_s: total_steps / wall_s.max(1e-9),
    })
}

/// Builds a flat plane from per-chain vectors.
fn plane<'a>(
    storage: Storage,
    len: usize,
    parts: impl Iterator<Item = (&'a Vec<f64>, &'a Vec<i64>)>,
) -> Plane {
    match storage {
        None => Plane::F64(parts.flat_map(|(f, _)| f.iter().copied()).collect()),
        Some(format) => {
            let all: Vec<i64> = parts.flat_map(|(_, c)| c.iter().copied()).collect();
            let mut codes = Codes::zeros(format.container(), len);
            crate::with_codes!(&mut codes, v => for (dst, &src) in v.iter_mut().zip(&all) {
                *dst = lpmc_kernels::Code::from_i64(src);
            });
            Plane::Codes { format, codes }
        }
    }
}

/// Progress is reported every this many steps of a chain; also the longest kernel call.
const PROGRESS_EVERY: u64 = 4096;

/// Moments of one chain's kept samples: exact code sums, or Welford's `f64` update.
enum Moments {
    Codes(CodeSums),
    F64 {
        n: u64,
        mean: Vec<f64>,
        m2: Vec<f64>,
    },
}

impl Moments {
    fn add(&mut self, st: &crate::sampler::ChainState, x: &[f64]) {
        match self {
            Moments::Codes(s) => s.add(&st.xc),
            Moments::F64 { n, mean, m2 } => {
                *n += 1;
                for i in 0..x.len() {
                    let delta = x[i] - mean[i];
                    mean[i] += delta / *n as f64;
                    m2[i] += delta * (x[i] - mean[i]);
                }
            }
        }
    }

    fn n(&self) -> u64 {
        match self {
            Moments::Codes(s) => s.n,
            Moments::F64 { n, .. } => *n,
        }
    }
}

/// Runs the chains `chains` (lockstep when `lock`) and returns their outputs in order.
fn run_group(
    sampler: &dyn Sampler,
    target: &dyn Target,
    spec: &ChainSpec,
    init: &crate::sampler::ChainState,
    chains: std::ops::Range<usize>,
    lock: bool,
    progress: &dyn Progress,
) -> Vec<ChainOut> {
    let d = sampler.dim();
    let m = chains.len();
    let mut bits: Vec<_> = chains
        .clone()
        .map(|c| {
            spec.source
                .stream(spec.seed, c as u64)
                .expect("source validated before the chains start")
        })
        .collect();
    let mut sts = vec![init.clone(); m];
    let mut ws = sampler.workspace();
    let kept = spec.kept_per_chain();
    let qs: Vec<u64> = chains.map(|c| spec.rows_of_chain(c) as u64).collect();
    let codes = sampler.storage().0.is_some();
    let mut sums = vec![CodeSums::default(); m];
    let (thin, first) = (spec.thin, spec.burn_in + spec.thin);
    let mut t = 0;
    // Kept samples 1..=n_lock are taken by the lockstep kernel; the rest (the rows) below.
    let n_lock = if lock && codes {
        kept - qs.iter().max().copied().unwrap_or(0)
    } else {
        0
    };
    if n_lock > 0 {
        let mut lockstep = |t: &mut u64, end: u64, sts: &mut [_], sums: &mut [CodeSums]| {
            while *t < end {
                let n = (end - *t).min(PROGRESS_EVERY);
                let keep = if *t < first {
                    Keep::NONE
                } else {
                    Keep {
                        first: thin - (*t - first) % thin,
                        every: thin,
                    }
                };
                let done = sampler.run_lockstep(target, sts, &mut ws, &mut bits, n, keep, sums);
                assert!(done, "Sampler::lockstep promised a lockstep kernel");
                *t += n;
                progress.add(n * m as u64);
            }
        };
        lockstep(&mut t, first, &mut sts, &mut []);
        for (s, st) in sums.iter_mut().zip(&sts) {
            s.add(&st.xc);
        }
        lockstep(&mut t, first + (n_lock - 1) * thin, &mut sts, &mut sums);
    }
    let t_lock = t;
    let mut outs = Vec::with_capacity(m);
    for (j, ((st, b), s)) in sts.into_iter().zip(&mut bits).zip(sums).enumerate() {
        let moments = if codes {
            Moments::Codes(s)
        } else {
            Moments::F64 {
                n: 0,
                mean: vec![0.0; d],
                m2: vec![0.0; d],
            }
        };
        outs.push(run_one(
            sampler, target, spec, st, &mut ws, b, t_lock, moments, qs[j], progress,
        ));
    }
    outs
}

/// Runs one chain from step `t` (its state `st`, its kept samples so far in `moments`) to the
/// end, one call per kept step, keeping the last `q` kept samples as rows.
#[allow(clippy::too_many_arguments)]
fn run_one(
    sampler: &dyn Sampler,
    target: &dyn Target,
    spec: &ChainSpec,
    mut st: crate::sampler::ChainState,
    ws: &mut crate::sampler::Workspace,
    bits: &mut crate::source::Bits,
    mut t: u64,
    mut moments: Moments,
    q: u64,
    progress: &dyn Progress,
) -> ChainOut {
    let d = sampler.dim();
    let kept = spec.kept_per_chain();
    let mut rows = Vec::with_capacity(q as usize * d);
    let mut x = vec![0.0; d];
    let mut pending = 0;
    while t < spec.steps {
        // Run up to the next kept step (or the end) in one call, so a fused kernel can take
        // many steps at once; progress is reported at least every PROGRESS_EVERY steps.
        let next_kept = if t < spec.burn_in {
            spec.burn_in + spec.thin
        } else {
            spec.burn_in + ((t - spec.burn_in) / spec.thin + 1) * spec.thin
        };
        let stop = next_kept.min(spec.steps).min(t + PROGRESS_EVERY);
        sampler.run(target, &mut st, ws, bits, stop - t);
        pending += stop - t;
        t = stop;
        if t > spec.burn_in && (t - spec.burn_in).is_multiple_of(spec.thin) {
            sampler.position(&st, &mut x);
            moments.add(&st, &x);
            if moments.n() > kept - q {
                rows.extend_from_slice(&x);
            }
        }
        if pending >= PROGRESS_EVERY {
            progress.add(pending);
            pending = 0;
        }
    }
    progress.add(pending);
    let (n, mean, m2) = match moments {
        Moments::Codes(s) => {
            let fl = sampler.storage().0.map_or(0, |f| f.fl());
            let (mean, m2) = s.moments(fl);
            (s.n, mean, m2)
        }
        Moments::F64 { n, mean, m2 } => (n, mean, m2),
    };
    ChainOut {
        n,
        mean,
        m2,
        rows,
        state: st,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::config::RunConfig;

    fn spec_of(c: &RunConfig, x0: Vec<f64>, threads: usize) -> ChainSpec {
        ChainSpec {
            chains: c.chains,
            steps: c.steps,
            burn_in: c.burn_in,
            thin: c.thin,
            seed: c.seed,
            source: c.source,
            x0,
            max_rows: 50,
            threads: Some(threads),
        }
    }

    /// Every output but the timings is the same for 1 and 3 threads, on the integer datapath
    /// with an LFSR source, a 2-D full-covariance target and SGHMC (x and v planes).
    #[test]
    fn thread_count_does_not_change_bits() {
        let c: RunConfig = serde_json::from_value(serde_json::json!({
            "target": {"gaussian": {"mean": [0.5, -1.0], "cov": [[1.0, 0.3], [0.3, 0.5]]}},
            "sampler": {"sghmc": {"variant": "lp-l"}},
            "formats": {"coef": {"wl": 16, "fl": 12}, "accum": {"wl": 32, "fl": 24}},
            "datapath": "integer", "noise_gen": "table:8", "source": "lfsr:32",
            "grad_noise": 0.2, "chains": 13, "steps": 200, "burn_in": 50, "thin": 3, "seed": 4
        }))
        .unwrap();
        let b = c.build().unwrap();
        let run = |t| {
            let mut o = run_chains(
                b.sampler.as_ref(),
                b.target.as_ref(),
                &spec_of(&c, b.x0.clone(), t),
                &NoProgress,
            )
            .unwrap();
            o.wall_s = 0.0;
            o.steps_per_s = 0.0;
            o
        };
        let (a, z) = (run(1), run(3));
        assert_eq!(a, z);
        assert_eq!(a.kept, 13 * 50);
        assert!(matches!(a.final_v, Some(Plane::Codes { .. })));
        // Quota: max(1, 50/13) = 3 rows per chain for the first 13 chains (39 ≤ 50 rows).
        assert_eq!(a.rows.len(), 39);
        assert_eq!(a.rows[3].0, 1);
    }
}
