//! The chain runner: many independent chains of one [`Sampler`] on one [`Target`], run in
//! parallel over chains (rayon), with burn-in, thinning, moments of the kept samples and a
//! capped set of kept samples for output.
//!
//! # Determinism
//! Chain `c` draws from stream `(seed, c)` of the configured [`Source`] and nothing else;
//! chains are independent tasks and their results are combined in chain order, so every
//! output is the same bits for any number of threads.
//!
//! # Layouts
//! Small chains (d ≤ `lpmc_kernels::drivers::lockstep::MAX_D`, a gradient the kernels
//! compute) run in lockstep groups of up to `lpmc_kernels::drivers::lockstep::LANES` chains
//! ([`Engine::run_lockstep`]), with the kept samples summed inside the kernel; the others run
//! one chain at a time ([`Engine::run`]), from one kept step to the next. A chain's bits do
//! not depend on its group or layout.
//!
//! # Moments
//! Kept samples stored as codes are summed exactly over all chains (integer sums of `c − c0`
//! and `(c − c0)²`, `c0` the initial codes), rounded once at the end; `f64` states use
//! Welford's update per chain, combined in chain order. Either way the result does not depend
//! on the thread count.
//!
//! # Memory
//! The state of every chain is held in one plane per quantity, codes in their format's
//! container (1e6 one-dimensional 8-bit chains: 1 MB each); random-bit state exists only for
//! the chains being stepped; per chain the runner keeps nothing else but, for `f64` states,
//! two `f64` per coordinate, and the output rows.

use crate::error::{Error, Result};
use crate::sampler::{ChainState, CodeSums, Engine, Events, Keep, Plane, Sampler, Storage};
use crate::source::Source;
use crate::target::Target;
use lpmc_kernels::drivers::lockstep::{max_kept, Kept, LANES};

/// Chains per lockstep task: large enough that a task's fixed costs (scratch, stream
/// loads, the kept-sum buffers) vanish against its steps, small enough that a few hundred
/// tasks balance the threads for a million chains. A multiple of [`LANES`].
pub(crate) const TASK_CHAINS: usize = 64 * LANES;
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
    /// Whether the run should stop (asked before every kernel call; a stopped run returns
    /// [`Error::Interrupted`] and nothing of it). Never, by default.
    fn stopped(&self) -> bool {
        false
    }
}

/// No progress reporting.
pub struct NoProgress;

impl Progress for NoProgress {
    fn add(&self, _: u64) {}
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
    /// The same events per quantity.
    pub events: Events,
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

/// Progress is reported at least every this many steps of a chain; also the longest kernel
/// call.
const PROGRESS_EVERY: u64 = 4096;

/// What one group of chains gives.
struct GroupOut {
    x: Plane,
    v: Option<Plane>,
    events: Events,
    /// Code states: Σ(c − c0), Σ(c − c0)² over the group's chains and kept samples, per
    /// coordinate.
    s1: Vec<i128>,
    s2: Vec<i128>,
    /// `f64` states: per chain and coordinate, the running mean and M2 (chain-major).
    mean: Vec<f64>,
    m2: Vec<f64>,
    /// Rows per chain, flat.
    rows: Vec<Vec<f64>>,
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
    let engine = Engine::new(sampler, target)?;
    let init = sampler.init(&spec.x0)?;
    spec.source.stream(spec.seed, 0)?;
    let t0 = Instant::now();
    let lock = engine.lockstep();
    let work = || -> Vec<GroupOut> {
        // Lockstep tasks of up to TASK_CHAINS chains (the kernel steps them LANES at a time
        // and sets up its scratch once per task), at least as many tasks as threads when the
        // chains allow.
        let g = if lock {
            spec.chains
                .div_ceil(rayon::current_num_threads())
                .clamp(1, TASK_CHAINS)
        } else {
            1
        };
        (0..spec.chains.div_ceil(g))
            .into_par_iter()
            .map(|k| {
                let chains = k * g..((k + 1) * g).min(spec.chains);
                run_group(&engine, spec, &init, chains, lock, progress)
            })
            .collect()
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
    if progress.stopped() {
        return Err(Error::Interrupted);
    }

    let kept = spec.kept_per_chain();
    let (sx, sv) = sampler.storage();
    let mut events = Events::default();
    for o in &outs {
        events += o.events;
    }
    // Moments: exact code sums over every chain, or Chan's pairwise update in chain order.
    let (mean, var) = match sx {
        Storage::Codes(f) => {
            let mut sums = CodeSums::around(codes_of(&init.x));
            sums.n = kept * spec.chains as u64;
            for o in &outs {
                for i in 0..d {
                    sums.s1[i] += o.s1[i];
                    sums.s2[i] += o.s2[i];
                }
            }
            let (mean, m2) = sums.moments(f.fl());
            let n = sums.n.max(1) as f64;
            (mean, m2.iter().map(|m| m / n).collect())
        }
        Storage::F64 => {
            let (mut n, mut mean, mut m2) = (0u64, vec![0.0; d], vec![0.0; d]);
            for o in &outs {
                for (cm, cm2) in o.mean.chunks(d.max(1)).zip(o.m2.chunks(d.max(1))) {
                    if kept == 0 {
                        continue;
                    }
                    let (na, nb) = (n as f64, kept as f64);
                    let nt = na + nb;
                    for i in 0..d {
                        let delta = cm[i] - mean[i];
                        mean[i] += delta * nb / nt;
                        m2[i] += cm2[i] + delta * delta * na * nb / nt;
                    }
                    n += kept;
                }
            }
            let n = n.max(1) as f64;
            (mean, m2.iter().map(|m| m / n).collect())
        }
    };
    let mut rows = Vec::new();
    let mut c = 0;
    for o in &outs {
        for r in &o.rows {
            rows.extend(r.chunks(d.max(1)).map(|x| (c, x.to_vec())));
            c += 1;
        }
    }
    let final_x = concat(outs.iter().map(|o| &o.x), sx, spec.chains * d);
    let final_v = sv.map(|s| concat(outs.iter().filter_map(|o| o.v.as_ref()), s, spec.chains * d));
    let total_steps = spec.steps as f64 * spec.chains as f64;
    Ok(ChainsOutput {
        mean,
        var,
        kept: kept * spec.chains as u64,
        saturations: events.total(),
        events,
        rows,
        final_x,
        final_v,
        wall_s,
        steps_per_s: total_steps / wall_s.max(1e-9),
    })
}

/// The codes of a code plane, sign-extended.
fn codes_of(p: &Plane) -> Vec<i64> {
    match p {
        Plane::Codes { codes, .. } => codes.to_i64(),
        Plane::F64(_) => Vec::new(),
    }
}

/// The groups' planes, concatenated in chain order.
fn concat<'a>(parts: impl Iterator<Item = &'a Plane>, storage: Storage, len: usize) -> Plane {
    let mut out = Plane::zeros(storage, len);
    let mut at = 0;
    for p in parts {
        match (&mut out, p) {
            (Plane::F64(o), Plane::F64(s)) => o[at..at + s.len()].copy_from_slice(s),
            (Plane::Codes { codes: o, .. }, Plane::Codes { codes: s, .. }) => {
                for i in 0..s.len() {
                    o.set(at + i, s.get(i));
                }
            }
            _ => unreachable!("one storage kind per run"),
        }
        at += p.len();
    }
    out
}

/// The kept-sample bookkeeping of one group: which kept samples become rows, and the sums.
struct Kept1<'a> {
    spec: &'a ChainSpec,
    d: usize,
    /// Rows per chain (its last `q` kept samples).
    qs: Vec<u64>,
    /// Initial codes per chain and coordinate (code states).
    c0: Vec<i64>,
}

impl Kept1<'_> {
    /// Step (1-based, of the run) of kept sample `k` (1-based).
    fn step_of(&self, k: u64) -> u64 {
        self.spec.burn_in + k * self.spec.thin
    }

    /// Kept samples at or before step `t`.
    fn before(&self, t: u64) -> u64 {
        if t <= self.spec.burn_in {
            0
        } else {
            ((t - self.spec.burn_in) / self.spec.thin).min(self.spec.kept_per_chain())
        }
    }
}

/// Runs the chains `chains` (lockstep when `lock`), each from the initial state.
fn run_group(
    engine: &Engine,
    spec: &ChainSpec,
    init: &ChainState,
    chains: std::ops::Range<usize>,
    lock: bool,
    progress: &dyn Progress,
) -> GroupOut {
    let m = chains.len();
    let d = init.x.len();
    let mut bits: Vec<_> = chains
        .clone()
        .map(|c| {
            spec.source
                .stream(spec.seed, c as u64)
                .expect("source validated before the chains start")
        })
        .collect();
    let kept = spec.kept_per_chain();
    let k1 = Kept1 {
        spec,
        d,
        qs: chains
            .clone()
            .map(|c| spec.rows_of_chain(c) as u64)
            .collect(),
        c0: codes_of(&init.x).repeat(m),
    };
    let codes = matches!(init.x, Plane::Codes { .. });
    let mut out = GroupOut {
        x: init.x.repeat(m),
        v: init.v.as_ref().map(|v| v.repeat(m)),
        events: Events::default(),
        s1: vec![0; d],
        s2: vec![0; d],
        mean: if codes { Vec::new() } else { vec![0.0; m * d] },
        m2: if codes { Vec::new() } else { vec![0.0; m * d] },
        rows: k1
            .qs
            .iter()
            .map(|&q| Vec::with_capacity(q as usize * d))
            .collect(),
    };
    let wl = match &init.x {
        Plane::Codes { format, .. } => format.wl(),
        Plane::F64(_) => 0,
    };
    let qmax = k1.qs.iter().copied().max().unwrap_or(0);
    let mut scratch = Vec::new();
    let mut s1 = vec![0i64; if codes { m * d } else { 0 }];
    let mut s2 = s1.clone();
    let mut t = 0u64;
    if lock {
        while t < spec.steps {
            if progress.stopped() {
                return out;
            }
            // Up to the next row's kept step, at most PROGRESS_EVERY steps, and at most as
            // many kept steps as exact i64 sums hold.
            let done = k1.before(t);
            let mut stop = (t + PROGRESS_EVERY).min(spec.steps);
            let row_from = kept - qmax + 1;
            if done < kept {
                if done + 1 >= row_from {
                    stop = stop.min(k1.step_of(done + 1));
                } else if row_from <= kept {
                    stop = stop.min(k1.step_of(row_from));
                }
            }
            let cap = if codes { max_kept(wl) } else { u64::MAX };
            if cap == 0 {
                if done < kept {
                    stop = stop.min(k1.step_of(done + 1));
                }
            } else if k1.before(stop) - done > cap {
                stop = k1.step_of(done + cap);
            }
            let n = stop - t;
            let in_call = k1.before(stop) - done;
            let in_kernel = in_call > 0 && cap > 0;
            let keep = if in_kernel {
                Keep {
                    first: k1.step_of(done + 1) - t,
                    every: spec.thin,
                }
            } else {
                Keep::NONE
            };
            if in_kernel && codes {
                s1.fill(0);
                s2.fill(0);
            }
            let kept_to = match (in_kernel, codes) {
                (false, _) => None,
                (true, true) => Some(Kept::Codes {
                    c0: &k1.c0,
                    s1: &mut s1,
                    s2: &mut s2,
                }),
                (true, false) => Some(Kept::F64 {
                    n: done,
                    mean: &mut out.mean,
                    m2: &mut out.m2,
                }),
            };
            out.events += engine.run_lockstep(
                &mut out.x,
                out.v.as_mut(),
                &mut bits,
                n,
                keep,
                kept_to,
                &mut scratch,
            );
            if in_kernel && codes {
                for (j, (a, b)) in s1.iter().zip(&s2).enumerate() {
                    out.s1[j % d] += *a as i128;
                    out.s2[j % d] += *b as i128;
                }
            }
            t = stop;
            let now = k1.before(t);
            if now > done && k1.step_of(now) == t {
                if !in_kernel {
                    add_plane(
                        &out.x,
                        &k1,
                        &mut out.s1,
                        &mut out.s2,
                        &mut out.mean,
                        &mut out.m2,
                        now,
                    );
                }
                for (j, q) in k1.qs.iter().enumerate() {
                    if now > kept - q {
                        for i in 0..d {
                            out.rows[j].push(out.x.value(j * d + i));
                        }
                    }
                }
            }
            progress.add(n * m as u64);
        }
        return out;
    }
    // One chain at a time, from one kept step to the next.
    let mut scr = crate::sampler::Scratch::default();
    for j in 0..m {
        let mut st = ChainState {
            x: init.x.clone(),
            v: init.v.clone(),
            scale: init.scale,
            events: Events::default(),
        };
        let mut t = 0u64;
        let mut pending = 0;
        while t < spec.steps {
            if progress.stopped() {
                return out;
            }
            let done = k1.before(t);
            let next = if done < kept {
                k1.step_of(done + 1)
            } else {
                spec.steps
            };
            let stop = next.min(spec.steps).min(t + PROGRESS_EVERY);
            engine.run_with(&mut st, &mut bits[j], stop - t, &mut scr);
            pending += stop - t;
            t = stop;
            let now = k1.before(t);
            if now > done && k1.step_of(now) == t {
                let sub = Kept1 {
                    spec,
                    d,
                    qs: Vec::new(),
                    // f64 states have no initial codes (`c0` is empty).
                    c0: k1.c0.get(j * d..(j + 1) * d).unwrap_or_default().to_vec(),
                };
                let (mean, m2) = if codes {
                    (&mut out.mean[..], &mut out.m2[..])
                } else {
                    (
                        &mut out.mean[j * d..(j + 1) * d],
                        &mut out.m2[j * d..(j + 1) * d],
                    )
                };
                add_plane(&st.x, &sub, &mut out.s1, &mut out.s2, mean, m2, now);
                if now > kept - k1.qs[j] {
                    for i in 0..d {
                        out.rows[j].push(st.x.value(i));
                    }
                }
            }
            if pending >= PROGRESS_EVERY {
                progress.add(pending);
                pending = 0;
            }
        }
        progress.add(pending);
        out.events += st.events;
        write_chain(&mut out.x, j, d, &st.x);
        if let (Some(v), Some(sv)) = (out.v.as_mut(), st.v.as_ref()) {
            write_chain(v, j, d, sv);
        }
    }
    out
}

/// Chain `j`'s `d` values of `src` into `dst`.
fn write_chain(dst: &mut Plane, j: usize, d: usize, src: &Plane) {
    match (dst, src) {
        (Plane::F64(o), Plane::F64(s)) => o[j * d..(j + 1) * d].copy_from_slice(s),
        (Plane::Codes { codes: o, .. }, Plane::Codes { codes: s, .. }) => {
            for i in 0..d {
                o.set(j * d + i, s.get(i));
            }
        }
        _ => unreachable!("one storage kind per run"),
    }
}

/// Adds the samples in `x` (its chains × d values; `n`-th kept sample of each) to the sums:
/// code states to the exact sums around `k.c0`, `f64` states by Welford's update.
fn add_plane(
    x: &Plane,
    k: &Kept1,
    s1: &mut [i128],
    s2: &mut [i128],
    mean: &mut [f64],
    m2: &mut [f64],
    n: u64,
) {
    let d = k.d;
    match x {
        Plane::Codes { codes, .. } => {
            // Chain by chain (no `at % d` per code: a division per element dominated a kept
            // step at large d); integer sums, so the order does not change them.
            let len = codes.len();
            for start in (0..len).step_by(d.max(1)) {
                for i in 0..d.min(len - start) {
                    let at = start + i;
                    let e = (codes.get(at) - k.c0[at]) as i128;
                    s1[i] += e;
                    s2[i] += e * e;
                }
            }
        }
        Plane::F64(v) => {
            for (at, &xv) in v.iter().enumerate() {
                let delta = xv - mean[at];
                mean[at] += delta / n as f64;
                m2[at] += delta * (xv - mean[at]);
            }
        }
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
