//! Chains in lockstep: up to [`LANES`] independent chains of at most [`MAX_D`] coordinates
//! advanced together, one chain per lane: at every step and coordinate the stages run over
//! the group's chains at once.
//!
//! # Same bits as one chain at a time
//! Chain `j` draws only from its own stream, exactly the words (and in the order) a chain
//! alone draws ([`crate::layout`]). xoshiro streams are stepped side by side
//! ([`crate::bits::XoshiroSet`]: word `w` of every chain in one round, already laid out
//! `[word][chain]`); other sources fill each chain's words and transpose them. The final
//! states, the events and the streams' positions are those of [`super::reference`] on each
//! chain, tested bit-identical.
//!
//! # Kept samples
//! Step `t` of a call (1-based) is kept when [`Keep::kept`] says so; a kept step adds, per
//! chain and coordinate, the sample to [`Kept`]: exact integer sums of `c − c0` and
//! `(c − c0)²` for code states, Welford's update for `f64` states (the runner's own, in the
//! same order).

use super::{float, Consts, Draws, Plan, State, Work};
use crate::bits::{WordSource, Xoshiro, XoshiroSet};
use crate::lane::{Arith, Lane};
use crate::layout::{Fields, Layout, Region};
use crate::noise::box_muller_pair;
use crate::rules::{Events, Gradient, Noise, Step};
use crate::{Code, CodeSliceMut, Platform};

/// Chains per lockstep group.
pub const LANES: usize = 64;

/// Largest dimension the lockstep driver takes (larger chains vectorize across coordinates
/// in [`super::chain`]).
pub const MAX_D: usize = 32;

/// Which steps of a call are kept: step `t` (1-based) when `t ≥ first` and
/// `(t − first) % every == 0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keep {
    /// First kept step (≥ 1; beyond the call's steps: none kept).
    pub first: u64,
    /// Steps between kept steps, ≥ 1.
    pub every: u64,
}

impl Keep {
    /// No step of the call is kept.
    pub const NONE: Keep = Keep {
        first: u64::MAX,
        every: 1,
    };

    /// Whether step `t` (1-based) is kept.
    ///
    /// ```
    /// use lpmc_kernels::drivers::lockstep::Keep;
    /// let k = Keep { first: 2, every: 3 };
    /// assert_eq!((1..=9).filter(|&t| k.kept(t)).collect::<Vec<_>>(), [2, 5, 8]);
    /// ```
    #[inline]
    pub fn kept(&self, t: u64) -> bool {
        t >= self.first && (t - self.first).is_multiple_of(self.every.max(1))
    }

    /// Kept steps among `1..=steps`.
    pub fn count(&self, steps: u64) -> u64 {
        if self.first > steps {
            0
        } else {
            (steps - self.first) / self.every.max(1) + 1
        }
    }
}

/// Where kept samples go, chain-major (`chains × d`, chain `j`'s coordinates at `j·d..`).
#[derive(Debug)]
pub enum Kept<'a> {
    /// Code states: `s1 += c − c0`, `s2 += (c − c0)²` per kept step. The caller keeps
    /// `Σ(c − c0)² < 2^63`: at most [`max_kept`] kept steps per call.
    Codes {
        /// Reference code per chain and coordinate.
        c0: &'a [i64],
        /// Σ(c − c0).
        s1: &'a mut [i64],
        /// Σ(c − c0)².
        s2: &'a mut [i64],
    },
    /// `f64` states: Welford's update `n += 1; δ = x − mean; mean += δ/n; m2 += δ·(x − mean)`,
    /// with `n` kept samples before the call (the same for every chain).
    F64 {
        /// Samples already in `mean`/`m2`.
        n: u64,
        /// Running means.
        mean: &'a mut [f64],
        /// Running sums of squared deviations.
        m2: &'a mut [f64],
    },
}

/// Most kept steps one call may sum for positions of `wl` bits (so that `s2` cannot
/// overflow `i64`): `2^(62 − 2·wl)`, 0 when `wl > 31`.
pub fn max_kept(wl: u32) -> u64 {
    if wl > 31 {
        0
    } else {
        1 << (62 - 2 * wl)
    }
}

/// The random-bit streams of a group of chains, stream `j` for chain `j`: an object-safe view
/// of `[W]`, so that the kernels are compiled once and not once per source type.
pub trait Streams {
    /// Number of streams (one per chain).
    fn count(&self) -> usize;
    /// Stream `j` (`j < count()`).
    fn stream(&mut self, j: usize) -> &mut dyn WordSource;
}

impl<W: WordSource> Streams for [W] {
    fn count(&self) -> usize {
        self.len()
    }
    fn stream(&mut self, j: usize) -> &mut dyn WordSource {
        &mut self[j]
    }
}

impl<S: Streams + ?Sized> Streams for &mut S {
    fn count(&self) -> usize {
        (**self).count()
    }
    fn stream(&mut self, j: usize) -> &mut dyn WordSource {
        (**self).stream(j)
    }
}

/// Whether the lockstep driver takes `step` on `d` coordinates: an elementwise gradient (not
/// [`Gradient::Given`]; a mixture only in one dimension), no momentum rescaling, lanes of at
/// most 64 bits, `d ≤ MAX_D`.
pub fn takes(step: &Step, d: usize) -> bool {
    let grad_ok = match step.gradient {
        Gradient::Given(_) => false,
        Gradient::Mixture(_) => d == 1,
        _ => true,
    };
    let rescale = step.rescale.is_some() && float(step) && step.momentum() && !step.f64_state();
    grad_ok && !rescale && d <= MAX_D && d > 0 && step.lane_width() <= 64
}

/// Words of scratch a call needs (at least): one step's words of a group, twice.
pub fn scratch_words(step: &Step, d: usize) -> usize {
    2 * LANES * step.layout(d).words()
}

/// `steps` steps of every chain of `st` (chains × d values, chain-major; chain `j` draws from
/// `bits.stream(j)`), on `platform`; kept steps go to `kept`. Returns the overflow events of
/// all chains.
///
/// # Panics
/// Unless [`takes`] holds, the state matches the step and holds `bits.count()` chains,
/// `scratch` has [`scratch_words`] words, and `kept` (if any) has one entry per chain and
/// coordinate and at most [`max_kept`] kept steps.
#[allow(clippy::too_many_arguments)]
pub fn run(
    step: &Step,
    st: State,
    steps: u64,
    bits: &mut dyn Streams,
    keep: Keep,
    kept: Option<Kept>,
    scratch: &mut [u64],
    platform: Platform,
) -> Events {
    st.check(step);
    let m = bits.count();
    assert!(
        m > 0 && st.len().is_multiple_of(m),
        "lockstep: {} values for {m} chains",
        st.len()
    );
    let d = st.len() / m;
    assert!(
        takes(step, d),
        "lockstep: the step or d = {d} is not one the driver takes"
    );
    assert!(
        scratch.len() >= scratch_words(step, d),
        "lockstep: scratch too short"
    );
    if let Some(k) = &kept {
        let len = match k {
            Kept::Codes { c0, s1, s2 } => {
                assert!(
                    keep.count(steps) <= max_kept(step.x.wl),
                    "lockstep: too many kept steps for exact sums"
                );
                assert!(s1.len() == c0.len() && s2.len() == c0.len());
                c0.len()
            }
            Kept::F64 { mean, m2, .. } => {
                assert_eq!(mean.len(), m2.len());
                mean.len()
            }
        };
        assert_eq!(
            len,
            st.len(),
            "lockstep: one kept entry per chain and coordinate"
        );
    }
    if step.lane_width() == 32 {
        platform.lockstep_groups::<i32>(step, st, steps, bits, keep, kept, scratch)
    } else {
        platform.lockstep_groups::<i64>(step, st, steps, bits, keep, kept, scratch)
    }
}

/// One group's state, `[coordinate][lane]`.
struct Group<L> {
    /// Integer datapath: the codes in lanes.
    x: [[L; LANES]; MAX_D],
    v: [[L; LANES]; MAX_D],
    /// Float datapath: the codes (code states) or the values (`f64` states).
    cx: [[i64; LANES]; MAX_D],
    cv: [[i64; LANES]; MAX_D],
    fx: [[f64; LANES]; MAX_D],
    fv: [[f64; LANES]; MAX_D],
}

/// Reads one coordinate's field from every lane's words (`ws`: `[word][lane]`).
#[inline(always)]
fn lanes_of(f: &Fields, ws: &[u64], field: usize, out: &mut [u64; LANES]) {
    if f.width == 0 {
        return;
    }
    let (w, b) = f.at(field);
    let mask = if f.width == 64 {
        u64::MAX
    } else {
        (1u64 << f.width) - 1
    };
    let row = &ws[w * LANES..(w + 1) * LANES];
    for j in 0..LANES {
        out[j] = (row[j] >> b) & mask;
    }
}

/// Normals of coordinate `i` of a normal region for every lane: the pair `⌊i/2⌋`, computed at
/// even `i` (its sines kept in `sines` for `i + 1`).
#[inline(always)]
fn normals_of(f: &Fields, ws: &[u64], i: usize, sines: &mut [f64; LANES], out: &mut [f64; LANES]) {
    if f.width == 0 {
        return;
    }
    if i % 2 == 1 {
        out.copy_from_slice(sines);
        return;
    }
    let (mut w1, mut w2) = ([0u64; LANES], [0u64; LANES]);
    lanes_of(f, ws, i, &mut w1);
    lanes_of(f, ws, i + 1, &mut w2);
    for j in 0..LANES {
        (out[j], sines[j]) = box_muller_pair(w1[j], w2[j]);
    }
}

/// Coordinate `i`'s random inputs of every lane.
#[inline(always)]
fn gather(
    lay: &Layout,
    step: &Step,
    pre: &[u64],
    main: &[u64],
    i: usize,
    sines: &mut [[f64; LANES]; 3],
    d: &mut Draws<LANES>,
) {
    lanes_of(&lay.pre, pre, i, &mut d.pre);
    let r = |x: Region| lay.region(x);
    lanes_of(r(Region::RoundGrad), main, i, &mut d.ug);
    lanes_of(r(Region::RoundV), main, i, &mut d.uv);
    lanes_of(r(Region::RoundX), main, i, &mut d.ux);
    lanes_of(r(Region::QvcX0), main, i, &mut d.q[0]);
    lanes_of(r(Region::QvcX1), main, i, &mut d.q[1]);
    lanes_of(r(Region::QvcV0), main, i, &mut d.q[2]);
    lanes_of(r(Region::QvcV1), main, i, &mut d.q[3]);
    let [sg, s1, s2] = sines;
    normals_of(r(Region::GradNoise), main, i, sg, &mut d.zg);
    normals_of(r(Region::Normal1), main, i, s1, &mut d.z1);
    normals_of(r(Region::Normal2), main, i, s2, &mut d.z2);
    for (reg, out) in [(Region::Noise1, &mut d.s1), (Region::Noise2, &mut d.s2)] {
        let f = r(reg);
        if f.width == 0 {
            continue;
        }
        match step.noise {
            Noise::Clt { k, .. } => {
                let k = k as usize;
                out.fill(0);
                let mut u = [0u64; LANES];
                for m in 0..k {
                    lanes_of(f, main, i * k + m, &mut u);
                    for j in 0..LANES {
                        out[j] += u[j];
                    }
                }
            }
            _ => lanes_of(f, main, i, out),
        }
    }
}

/// Draws `n` words of every lane's stream into `out` (`[word][lane]`): xoshiro streams by
/// `set` (stepped together), others chain by chain into `raw` and transposed.
#[inline(always)]
fn draw(
    set: &mut Option<XoshiroSet<LANES>>,
    bits: &mut dyn Streams,
    g0: usize,
    lanes: usize,
    n: usize,
    raw: &mut [u64],
    out: &mut [u64],
) {
    if let Some(set) = set {
        for row in out[..n * LANES].chunks_exact_mut(LANES) {
            set.round(row.try_into().expect("a row of LANES words"));
        }
        return;
    }
    for j in 0..lanes {
        bits.stream(g0 + j).fill(&mut raw[j * n..(j + 1) * n]);
    }
    for (w, row) in out[..n * LANES].chunks_exact_mut(LANES).enumerate() {
        for j in 0..lanes {
            row[j] = raw[j * n + w];
        }
    }
}

/// Every group of the call in lanes `L`; inlined into each platform's build.
#[inline(always)]
pub(crate) fn groups<L: Lane>(
    step: &Step,
    mut st: State,
    steps: u64,
    bits: &mut dyn Streams,
    keep: Keep,
    mut kept: Option<Kept>,
    scratch: &mut [u64],
) -> Events {
    let m = bits.count();
    let d = st.len() / m;
    let plan = Plan::<L>::new(step, d);
    let lay = plan.layout;
    let wps = lay.words();
    let np = lay.pre_words;
    let (raw, ws) = scratch.split_at_mut(LANES * wps);
    let mut ev = Events::default();
    let mut draws = Draws::<LANES>::new();
    let mut consts = Consts::<L, LANES>::new();
    let mut work = Work::<L, LANES>::new();
    let is_float = float(step);
    let f64_state = step.f64_state();
    let hmc = step.momentum();
    let (dx, dv) = (step.x.delta(), step.v.delta());
    for g0 in (0..m).step_by(LANES) {
        let lanes = (m - g0).min(LANES);
        let mut g = Group {
            x: [[L::default(); LANES]; MAX_D],
            v: [[L::default(); LANES]; MAX_D],
            cx: [[0; LANES]; MAX_D],
            cv: [[0; LANES]; MAX_D],
            fx: [[0.0; LANES]; MAX_D],
            fv: [[0.0; LANES]; MAX_D],
        };
        load_group(&st, g0, lanes, d, &mut g);
        // All xoshiro: step them together.
        let mut set = {
            let mut gens = [Xoshiro::from_state([1, 0, 0, 0]); LANES];
            let mut all = true;
            for (j, gen) in gens[..lanes].iter_mut().enumerate() {
                match bits.stream(g0 + j).as_xoshiro() {
                    Some(x) => *gen = *x,
                    None => {
                        all = false;
                        break;
                    }
                }
            }
            all.then(|| XoshiroSet::<LANES>::load(&gens[..lanes]))
        };
        let mut sines = [[0.0f64; LANES]; 3];
        for t in 1..=steps {
            draw(&mut set, bits, g0, lanes, wps, raw, ws);
            let (pre, main) = ws[..wps * LANES].split_at(np * LANES);
            for i in 0..d {
                gather(&lay, step, pre, main, i, &mut sines, &mut draws);
                consts_of(&step.gradient, i, &mut consts);
                if is_float {
                    if !f64_state {
                        for j in 0..lanes {
                            g.fx[i][j] = g.cx[i][j] as f64 * dx;
                            g.fv[i][j] = g.cv[i][j] as f64 * dv;
                        }
                    }
                    let (xi, vi) = (&mut g.fx[i], &mut g.fv[i]);
                    plan.batch_float(
                        lanes,
                        xi,
                        vi,
                        &consts,
                        &draws,
                        &mut work,
                        &mut g.cx[i],
                        &mut g.cv[i],
                        1.0,
                        &mut ev,
                    );
                } else {
                    plan.batch_int(
                        lanes,
                        &mut g.x[i],
                        &mut g.v[i],
                        &consts,
                        &draws,
                        &mut work,
                        &mut ev,
                    );
                }
            }
            if keep.kept(t) {
                if let Some(k) = kept.as_mut() {
                    add_kept(k, &g, g0, lanes, d, is_float, f64_state, keep.count(t) - 1);
                }
            }
        }
        if let Some(set) = &set {
            let mut gens = [Xoshiro::from_state([1, 0, 0, 0]); LANES];
            set.store(&mut gens[..lanes]);
            for (j, gen) in gens[..lanes].iter().enumerate() {
                *bits.stream(g0 + j).as_xoshiro().expect("checked above") = *gen;
            }
        }
        store_group(&mut st, g0, lanes, d, &g, hmc, is_float);
    }
    ev
}

/// Coordinate `i`'s gradient constants broadcast to every lane.
#[inline(always)]
fn consts_of<L: Arith>(g: &Gradient, i: usize, c: &mut Consts<L, LANES>) {
    let at = |s: &[i64]| s[if s.len() == 1 { 0 } else { i }];
    let atf = |s: &[f64]| s[if s.len() == 1 { 0 } else { i }];
    match *g {
        Gradient::IntGauss { prec, mean, .. } => {
            c.a.fill(L::of(at(prec)));
            c.b.fill(L::of(at(mean)));
        }
        Gradient::Gauss { prec, mean } => {
            c.fa.fill(atf(prec));
            c.fb.fill(atf(mean));
        }
        _ => {}
    }
}

/// The group's state from the chains' containers.
fn load_group<L: Lane>(st: &State, g0: usize, lanes: usize, d: usize, g: &mut Group<L>) {
    fn codes(s: &CodeSliceMut, g0: usize, lanes: usize, d: usize, out: &mut [[i64; LANES]; MAX_D]) {
        fn go<C: Code>(
            s: &[C],
            g0: usize,
            lanes: usize,
            d: usize,
            out: &mut [[i64; LANES]; MAX_D],
        ) {
            for j in 0..lanes {
                for i in 0..d {
                    out[i][j] = s[(g0 + j) * d + i].to_i64();
                }
            }
        }
        match s {
            CodeSliceMut::I8(s) => go(s, g0, lanes, d, out),
            CodeSliceMut::I16(s) => go(s, g0, lanes, d, out),
            CodeSliceMut::I32(s) => go(s, g0, lanes, d, out),
            CodeSliceMut::I64(s) => go(s, g0, lanes, d, out),
        }
    }
    match st {
        State::Codes { x, v } => {
            codes(x, g0, lanes, d, &mut g.cx);
            if let Some(v) = v {
                codes(v, g0, lanes, d, &mut g.cv);
            }
            for i in 0..d {
                for j in 0..LANES {
                    g.x[i][j] = L::of(g.cx[i][j]);
                    g.v[i][j] = L::of(g.cv[i][j]);
                }
            }
        }
        State::F64 { x, v } => {
            for j in 0..lanes {
                for i in 0..d {
                    g.fx[i][j] = x[(g0 + j) * d + i];
                    if let Some(v) = v {
                        g.fv[i][j] = v[(g0 + j) * d + i];
                    }
                }
            }
        }
    }
}

/// The group's state back to the chains' containers.
fn store_group<L: Lane>(
    st: &mut State,
    g0: usize,
    lanes: usize,
    d: usize,
    g: &Group<L>,
    hmc: bool,
    is_float: bool,
) {
    fn codes(s: &mut CodeSliceMut, g0: usize, lanes: usize, d: usize, src: &[[i64; LANES]; MAX_D]) {
        fn go<C: Code>(
            s: &mut [C],
            g0: usize,
            lanes: usize,
            d: usize,
            src: &[[i64; LANES]; MAX_D],
        ) {
            for j in 0..lanes {
                for i in 0..d {
                    s[(g0 + j) * d + i] = C::from_i64(src[i][j]);
                }
            }
        }
        match s {
            CodeSliceMut::I8(s) => go(s, g0, lanes, d, src),
            CodeSliceMut::I16(s) => go(s, g0, lanes, d, src),
            CodeSliceMut::I32(s) => go(s, g0, lanes, d, src),
            CodeSliceMut::I64(s) => go(s, g0, lanes, d, src),
        }
    }
    match st {
        State::Codes { x, v } => {
            let (mut cx, mut cv) = (g.cx, g.cv);
            if !is_float {
                for i in 0..d {
                    for j in 0..lanes {
                        cx[i][j] = g.x[i][j].wide();
                        cv[i][j] = g.v[i][j].wide();
                    }
                }
            }
            codes(x, g0, lanes, d, &cx);
            if let (Some(v), true) = (v, hmc) {
                codes(v, g0, lanes, d, &cv);
            }
        }
        State::F64 { x, v } => {
            for j in 0..lanes {
                for i in 0..d {
                    x[(g0 + j) * d + i] = g.fx[i][j];
                    if let Some(v) = v {
                        v[(g0 + j) * d + i] = g.fv[i][j];
                    }
                }
            }
        }
    }
}

/// Adds the kept sample of every lane to `k` (`before` samples already in it).
#[allow(clippy::too_many_arguments)]
fn add_kept<L: Lane>(
    k: &mut Kept,
    g: &Group<L>,
    g0: usize,
    lanes: usize,
    d: usize,
    is_float: bool,
    f64_state: bool,
    before: u64,
) {
    match k {
        Kept::Codes { c0, s1, s2 } => {
            for i in 0..d {
                for j in 0..lanes {
                    let c = if is_float {
                        g.cx[i][j]
                    } else {
                        g.x[i][j].wide()
                    };
                    let at = (g0 + j) * d + i;
                    let e = c - c0[at];
                    s1[at] += e;
                    s2[at] += e * e;
                }
            }
        }
        Kept::F64 { n, mean, m2 } => {
            debug_assert!(f64_state);
            let cnt = (*n + before + 1) as f64;
            for i in 0..d {
                for j in 0..lanes {
                    let at = (g0 + j) * d + i;
                    let x = g.fx[i][j];
                    let delta = x - mean[at];
                    mean[at] += delta / cnt;
                    m2[at] += delta * (x - mean[at]);
                }
            }
        }
    }
}
