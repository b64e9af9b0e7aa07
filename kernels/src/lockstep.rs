//! Chains in lockstep: many independent chains of one fused step ([`crate::fused`]: SGLD or
//! SGHMC `lp-l` on the integer datapath) advanced together, one chain per SIMD lane.
//!
//! A chain of small dimension is a scalar recurrence: the fused kernels vectorize across
//! coordinates, which a 1-D chain does not have. Here [`LANES`] chains run side by side: at
//! every step and coordinate the update of [`crate::fused`] is computed for all lanes at once.
//!
//! # Same bits as one chain at a time
//! Chain `j` draws only from its own stream `bits[j]`, exactly the words (and in the order) the
//! single-chain kernel draws: per step [`SgldLpL::words_per_step`] words, unpacked by the
//! region layout of the [`crate::fused`] module docs. Each lane's words for a batch of steps
//! are drawn in one [`WordSource::fill_on`] (SIMD xoshiro) and transposed to
//! `[step][word][lane]`, so that lane `j` of vector `w` is chain `j`'s word `w`. The final
//! state, the events and the streams' positions are those of running each chain alone
//! ([`reference`](mod@reference)), for any number of chains, tested bit-identical.
//!
//! # Kept samples
//! Step `t` of a call (1-based) is kept when [`Keep::kept`] says so; for a kept step the
//! kernel adds, per chain and coordinate, `c − c0` and `(c − c0)²` of the position code `c`
//! to [`Sums`]: the exact integer moments of the kept samples, with no per-sample call.

use crate::bits::{words_for, WordSource};
use crate::fused::fast::{HmcElemL, SgldElemL};
use crate::fused::{
    mode_id, with_mode, Fmt, GaussGrad, Lane, NoiseGen, OvL, RqL, SghmcLpL, SgldLpL,
};
use crate::{Code, Platform, Rounding};

/// Chains per lockstep group: one 512-bit vector of `i32` lanes (when the step's
/// `fits_i32` holds), else two of `i64` lanes.
pub const LANES: usize = 16;

/// Largest dimension the lockstep kernels take (larger chains vectorize across coordinates
/// in [`crate::fused`]).
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
    /// use lpmc_kernels::lockstep::Keep;
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

/// Exact sums of kept position codes, chain-major (`chains × d`, chain `j`'s coordinates at
/// `j·d..`): `s1 += c − c0`, `s2 += (c − c0)²` for every kept step.
///
/// The caller keeps `Σ|c − c0|² < 2^63` per call: with `|c − c0| < 2^wl`, at most
/// `2^(63 − 2·wl)` kept steps (checked, see [`max_kept`]).
#[derive(Debug)]
pub struct Sums<'a> {
    /// Reference code per chain and coordinate (e.g. the first kept sample).
    pub c0: &'a [i64],
    /// Σ(c − c0).
    pub s1: &'a mut [i64],
    /// Σ(c − c0)².
    pub s2: &'a mut [i64],
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
/// of `[W]`, so that the lockstep kernels are compiled once and not once per source type.
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

/// Words of scratch a call needs for one step of `d` coordinates, `LANES` lanes (two copies:
/// drawn and transposed); more lets a call draw several steps at once.
fn scratch_per_step(wps: usize) -> usize {
    2 * LANES * wps
}

impl SgldLpL<'_> {
    /// Scratch words [`Platform::sgld_lp_l_chains`] needs at least, for dimension `d`.
    pub fn lockstep_scratch(&self, d: usize) -> usize {
        scratch_per_step(self.words_per_step(d))
    }
}

impl SghmcLpL<'_> {
    /// Scratch words [`Platform::sghmc_lp_l_chains`] needs at least, for dimension `d`.
    pub fn lockstep_scratch(&self, d: usize) -> usize {
        scratch_per_step(self.words_per_step(d))
    }
}

/// Panics unless the shapes agree; returns `d`.
#[allow(clippy::too_many_arguments)]
fn check_shapes(
    x: &[impl Code],
    v: Option<&[impl Code]>,
    bits: &dyn Streams,
    sums: &Option<Sums>,
    events: &[u64],
    steps: u64,
    keep: Keep,
    wl: u32,
) -> usize {
    let m = bits.count();
    assert!(
        m > 0 && x.len().is_multiple_of(m),
        "lockstep: x has {} codes for {m} chains",
        x.len()
    );
    let d = x.len() / m;
    assert!(d <= MAX_D, "lockstep: d = {d} > {MAX_D}");
    assert_eq!(events.len(), m, "lockstep: one event count per chain");
    if let Some(v) = v {
        assert_eq!(v.len(), x.len(), "lockstep: x and v lengths differ");
    }
    if let Some(s) = sums {
        assert!(
            s.c0.len() == x.len() && s.s1.len() == x.len() && s.s2.len() == x.len(),
            "lockstep: sums must have chains × d entries"
        );
        assert!(
            keep.count(steps) <= max_kept(wl),
            "lockstep: too many kept steps for exact i64 sums"
        );
    }
    d
}

/// The scalar twins: each chain alone, one step at a time, by
/// [`crate::fused::reference`], and the kept codes summed one by one.
pub mod reference {
    use super::*;

    #[allow(clippy::too_many_arguments)]
    fn chains<C: Code>(
        wps: usize,
        mut step: impl FnMut(&mut [C], Option<&mut [C]>, &mut dyn WordSource, &mut [u64]) -> u64,
        x: &mut [C],
        mut v: Option<&mut [C]>,
        steps: u64,
        bits: &mut dyn Streams,
        keep: Keep,
        mut sums: Option<Sums>,
        events: &mut [u64],
        scratch: &mut [u64],
    ) {
        let d = x.len() / bits.count();
        let words = &mut scratch[..wps];
        for (j, ev) in events.iter_mut().enumerate() {
            let b = bits.stream(j);
            let r = j * d..(j + 1) * d;
            for t in 1..=steps {
                let vj = v.as_deref_mut().map(|v| &mut v[r.clone()]);
                *ev += step(&mut x[r.clone()], vj, &mut *b, words);
                if let Some(s) = sums.as_mut().filter(|_| keep.kept(t)) {
                    for i in r.clone() {
                        let c = x[i].to_i64() - s.c0[i];
                        s.s1[i] += c;
                        s.s2[i] += c * c;
                    }
                }
            }
        }
    }

    /// [`Platform::sgld_lp_l_chains`], chain by chain.
    #[allow(clippy::too_many_arguments)]
    pub fn sgld_lp_l<C: Code>(
        p: &SgldLpL,
        x: &mut [C],
        steps: u64,
        bits: &mut dyn Streams,
        keep: Keep,
        sums: Option<Sums>,
        events: &mut [u64],
        scratch: &mut [u64],
    ) {
        let d = check_shapes(x, None::<&[C]>, bits, &sums, events, steps, keep, p.x.wl);
        let step = |x: &mut [C], _: Option<&mut [C]>, b: &mut dyn WordSource, w: &mut [u64]| {
            crate::fused::reference::sgld_lp_l(p, x, 1, b, w)
        };
        chains(
            p.words_per_step(d),
            step,
            x,
            None,
            steps,
            bits,
            keep,
            sums,
            events,
            scratch,
        );
    }

    /// [`Platform::sghmc_lp_l_chains`], chain by chain.
    #[allow(clippy::too_many_arguments)]
    pub fn sghmc_lp_l<C: Code>(
        p: &SghmcLpL,
        x: &mut [C],
        v: &mut [C],
        steps: u64,
        bits: &mut dyn Streams,
        keep: Keep,
        sums: Option<Sums>,
        events: &mut [u64],
        scratch: &mut [u64],
    ) {
        let d = check_shapes(x, Some(&*v), bits, &sums, events, steps, keep, p.x.wl);
        let step = |x: &mut [C], v: Option<&mut [C]>, b: &mut dyn WordSource, w: &mut [u64]| {
            let v = v.expect("sghmc has a momentum");
            crate::fused::reference::sghmc_lp_l(p, x, v, 1, b, w)
        };
        chains(
            p.words_per_step(d),
            step,
            x,
            Some(v),
            steps,
            bits,
            keep,
            sums,
            events,
            scratch,
        );
    }
}

/// The lane path: [`LANES`] chains per group, each group's state transposed to
/// `[coordinate][lane]` for the call, words transposed to `[step][word][lane]`, and the
/// per-element rule of [`crate::fused::fast`] run across lanes.
pub mod fast {
    use super::*;

    /// A fused step's per-element rule in lanes `L`, the same signature for SGLD (no
    /// momentum) and SGHMC.
    pub(crate) trait Rule<L: Lane> {
        /// One coordinate of one chain: `(x', v', events)`; `u` = bits of Q_G, Q_V, Q_W.
        #[allow(clippy::too_many_arguments)]
        fn lane<const M: u8>(
            &self,
            x: L,
            v: L,
            pr: L,
            mu: L,
            u: [L::U; 3],
            n1: L,
            n2: L,
        ) -> (L, L, L::U);
    }

    impl<L: Lane> Rule<L> for SgldElemL<L> {
        #[inline(always)]
        fn lane<const M: u8>(
            &self,
            x: L,
            _: L,
            pr: L,
            mu: L,
            u: [L::U; 3],
            n1: L,
            _: L,
        ) -> (L, L, L::U) {
            let (c, e) = self.step::<M>(x, pr, mu, u[0], n1, u[2]);
            (c, L::default(), e)
        }
    }

    impl<L: Lane> Rule<L> for HmcElemL<L> {
        #[inline(always)]
        fn lane<const M: u8>(
            &self,
            x: L,
            v: L,
            pr: L,
            mu: L,
            u: [L::U; 3],
            n1: L,
            n2: L,
        ) -> (L, L, L::U) {
            self.step::<M>(x, v, pr, mu, u, n1, n2)
        }
    }

    /// Where a step's bits are: the start word of each region, bits per element, and the
    /// noise generator.
    pub(crate) struct Layout<'a, L: Lane> {
        d: usize,
        wps: usize,
        /// Q_G, Q_V (SGLD: 0 bits), Q_W: (first word, bits per element).
        g: (usize, u32),
        v: (usize, u32),
        x: (usize, u32),
        /// First word of the noise region.
        n: usize,
        gen: NoiseGen<'a>,
        nrq: RqL<L>,
        nov: OvL<L>,
        momentum: bool,
    }

    impl<'a, L: Lane> Layout<'a, L> {
        #[allow(clippy::too_many_arguments)]
        fn new(
            d: usize,
            (rg, rv, rx): (u32, u32, u32),
            gen: NoiseGen<'a>,
            nfmt: Fmt,
            momentum: bool,
        ) -> Self {
            let codes = if momentum { 2 * d } else { d };
            let ng = words_for(d, rg);
            let nn = gen.words(codes);
            let nv = words_for(d, rv);
            let nx = words_for(d, rx);
            let shift = match gen {
                NoiseGen::Clt { shift, .. } => shift,
                NoiseGen::Table { .. } => 1,
            };
            Layout {
                d,
                wps: ng + nn + nv + nx,
                g: (0, rg),
                n: ng,
                v: (ng + nn, rv),
                x: (ng + nn + nv, rx),
                gen,
                nrq: RqL::new(shift, Rounding::NearestEven),
                nov: OvL::new(nfmt),
                momentum,
            }
        }
    }

    /// A position in a step's words: the next element of a region of `r`-bit elements (the
    /// packing rule of [`crate::bits`]), advanced without divisions.
    #[derive(Clone, Copy, Debug)]
    struct Cursor {
        w: usize,
        sh: u32,
        r: u32,
        mask: u64,
    }

    impl Cursor {
        /// Element `i` of the region of `r`-bit elements starting at word `start`.
        fn at(start: usize, r: u32, i: usize) -> Self {
            let (w, sh) = match 64u32.checked_div(r) {
                None => (start, 0),
                Some(per) => (start + i / per as usize, (i % per as usize) as u32 * r),
            };
            let mask = if r == 0 { 0 } else { u64::MAX >> (64 - r) };
            Cursor { w, sh, r, mask }
        }

        /// This element's bits in every lane (`ws`: one step's words, `[word][lane]`), then
        /// on to the next element.
        #[inline(always)]
        fn take(&mut self, ws: &[u64]) -> [u64; LANES] {
            let mut out = [0u64; LANES];
            if self.r == 0 {
                return out;
            }
            let src = &ws[self.w * LANES..(self.w + 1) * LANES];
            for j in 0..LANES {
                out[j] = (src[j] >> self.sh) & self.mask;
            }
            self.sh += self.r;
            if self.sh + self.r > 64 {
                self.sh = 0;
                self.w += 1;
            }
            out
        }
    }

    impl<L: Lane> Layout<'_, L> {
        /// The next noise code of every lane from the cursor `c` of the noise region.
        #[inline(always)]
        fn noise(&self, ws: &[u64], c: &mut Cursor) -> [L; LANES] {
            let mut out = [L::default(); LANES];
            match self.gen {
                NoiseGen::Clt { k, bits, .. } => {
                    let mut s = [L::default(); LANES];
                    for _ in 0..k {
                        let u = c.take(ws);
                        for j in 0..LANES {
                            s[j] = s[j] + L::of(u[j] as i64);
                        }
                    }
                    let off = L::of(k as i64 * ((1i64 << bits) - 1));
                    let zero = L::U::default();
                    for j in 0..LANES {
                        out[j] = self
                            .nov
                            .apply(self.nrq.round::<2>(s[j] + s[j] - off, zero))
                            .0;
                    }
                }
                NoiseGen::Table { table, .. } => {
                    let u = c.take(ws);
                    for j in 0..LANES {
                        out[j] = L::of(table[u[j] as usize]);
                    }
                }
            }
            out
        }

        /// Cursors at the first element of each region: Q_G, noise code 0, noise code `d`
        /// (SGHMC's second noise), Q_V, Q_W.
        fn cursors(&self) -> [Cursor; 5] {
            let (k, bits) = match self.gen {
                NoiseGen::Clt { k, bits, .. } => (k as usize, bits),
                NoiseGen::Table { bits, .. } => (1, bits),
            };
            [
                Cursor::at(self.g.0, self.g.1, 0),
                Cursor::at(self.n, bits, 0),
                Cursor::at(self.n, bits, self.d * k),
                Cursor::at(self.v.0, self.v.1, 0),
                Cursor::at(self.x.0, self.x.1, 0),
            ]
        }
    }

    /// One group of up to [`LANES`] chains, `[coordinate][lane]`: loaded from the callers'
    /// containers before the steps and stored after them, so that the stepping code
    /// ([`advance`]) is compiled once for every container.
    pub(crate) struct Group<L> {
        xs: [[L; LANES]; MAX_D],
        vs: [[L; LANES]; MAX_D],
        c0: [[i64; LANES]; MAX_D],
        s1: [[i64; LANES]; MAX_D],
        s2: [[i64; LANES]; MAX_D],
        ev: [u64; LANES],
        /// First chain of the group and number of chains in it (≤ [`LANES`]).
        g0: usize,
        lanes: usize,
    }

    /// What every group of a call shares: the rule, where the bits are, the target's
    /// constants, the call's steps and kept steps, and the platform drawing the words.
    pub(crate) struct Call<'a, R, L: Lane> {
        // By value, not by reference: loads through a reference held in a struct are not
        // known not to alias the group's stores, which kept the lane loop from vectorizing.
        rule: R,
        lay: Layout<'a, L>,
        consts: [(L, L); MAX_D],
        mode: u8,
        platform: Platform,
        steps: u64,
        keep: Keep,
        summing: bool,
    }

    /// Runs every group of [`LANES`] chains; see [`Platform::sghmc_lp_l_chains`].
    #[allow(clippy::too_many_arguments)]
    fn run<R: Rule<L>, L: Lane, C: Code>(
        cx: &Call<R, L>,
        x: &mut [C],
        mut v: Option<&mut [C]>,
        bits: &mut dyn Streams,
        mut sums: Option<Sums>,
        events: &mut [u64],
        scratch: &mut [u64],
    ) {
        let d = cx.lay.d;
        let m = bits.count();
        for g0 in (0..m).step_by(LANES) {
            let lanes = (m - g0).min(LANES);
            let mut g = Group {
                xs: [[L::default(); LANES]; MAX_D],
                vs: [[L::default(); LANES]; MAX_D],
                c0: [[0i64; LANES]; MAX_D],
                s1: [[0i64; LANES]; MAX_D],
                s2: [[0i64; LANES]; MAX_D],
                ev: [0u64; LANES],
                g0,
                lanes,
            };
            for j in 0..lanes {
                for i in 0..d {
                    let at = (g0 + j) * d + i;
                    g.xs[i][j] = L::of(x[at].to_i64());
                    if let Some(v) = v.as_deref() {
                        g.vs[i][j] = L::of(v[at].to_i64());
                    }
                    if let Some(s) = sums.as_ref() {
                        g.c0[i][j] = s.c0[at];
                    }
                }
            }
            match cx.platform {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: an `Avx2` value is only handed out by `avx2()`, which checked support.
                Platform::Avx2 => unsafe {
                    crate::x86::avx2::lockstep_advance(cx, &mut g, bits, scratch)
                },
                #[cfg(target_arch = "x86_64")]
                // SAFETY: an `Avx512` value is only handed out by `avx512()`, which checked
                // support.
                Platform::Avx512 => unsafe {
                    crate::x86::avx512::lockstep_advance(cx, &mut g, bits, scratch)
                },
                _ => advance_chunked(cx, &mut g, bits, scratch),
            }
            for j in 0..lanes {
                events[g0 + j] += g.ev[j];
                for i in 0..d {
                    let at = (g0 + j) * d + i;
                    x[at] = C::from_i64(g.xs[i][j].wide());
                    if let Some(v) = v.as_deref_mut() {
                        v[at] = C::from_i64(g.vs[i][j].wide());
                    }
                    if let Some(s) = sums.as_mut() {
                        s.s1[at] += g.s1[i][j];
                        s.s2[at] += g.s2[i][j];
                    }
                }
            }
        }
    }

    /// [`advance`] for the baseline target, out of line: compiled once per rule and lane
    /// type, not once per container of the caller.
    #[inline(never)]
    fn advance_chunked<R: Rule<L>, L: Lane>(
        cx: &Call<R, L>,
        g: &mut Group<L>,
        bits: &mut dyn Streams,
        scratch: &mut [u64],
    ) {
        advance(cx, g, bits, scratch)
    }

    /// The call's steps of one group, the step loop monomorphized on the rounding mode; inlined
    /// into each platform's build (`x86::*::lockstep_advance`).
    #[inline(always)]
    pub(crate) fn advance<R: Rule<L>, L: Lane>(
        cx: &Call<R, L>,
        g: &mut Group<L>,
        bits: &mut dyn Streams,
        scratch: &mut [u64],
    ) {
        let (lay, rule, steps) = (&cx.lay, &cx.rule, cx.steps);
        let (d, wps) = (lay.d, lay.wps);
        let per_step = LANES * wps;
        let k = (scratch.len() / (2 * per_step)).max(1);
        assert!(scratch.len() >= 2 * per_step, "lockstep: scratch too short");
        let (raw, tr) = scratch.split_at_mut(k * per_step);
        let starts = lay.cursors();
        let (g0, lanes) = (g.g0, g.lanes);
        let (xs, vs, ev) = (&mut g.xs, &mut g.vs, &mut g.ev);
        // Steps until the next kept step (0: none kept in this call).
        let every = cx.keep.every.max(1);
        let mut to_keep = if cx.summing && cx.keep.first <= steps {
            cx.keep.first
        } else {
            0
        };
        // Lanes without a chain read zero words: zeroed once (as far as this call's batches
        // reach), never written after.
        if lanes < LANES {
            tr[..(k as u64).min(steps) as usize * per_step].fill(0);
        }
        let mut t = 0u64;
        while t < steps {
            let kk = (k as u64).min(steps - t) as usize;
            let n = kk * wps;
            for j in 0..lanes {
                bits.stream(g0 + j)
                    .fill_on(cx.platform, &mut raw[j * n..(j + 1) * n]);
            }
            // Transpose to [word][lane]: a full group word by word (one contiguous row of
            // stores per word, loads from the 16 lanes' rows), a partial one lane by lane.
            let tr_n = &mut tr[..n * LANES];
            if lanes == LANES {
                let rows: [&[u64]; LANES] = std::array::from_fn(|j| &raw[j * n..(j + 1) * n]);
                for (w, dst) in tr_n.chunks_exact_mut(LANES).enumerate() {
                    for (d, row) in dst.iter_mut().zip(&rows) {
                        *d = row[w];
                    }
                }
            } else {
                for (j, row) in raw.chunks_exact(n.max(1)).take(lanes).enumerate() {
                    for (dst, &w) in tr_n.chunks_exact_mut(LANES).zip(row) {
                        dst[j] = w;
                    }
                }
            }
            with_mode!(cx.mode, M => {
                for s in 0..kk {
                    let ws = &tr[s * per_step..(s + 1) * per_step];
                    let [mut cg, mut cn1, mut cn2, mut cv, mut cx_] = starts;
                    for i in 0..d {
                        let (pr, mu) = cx.consts[i];
                        let ug = cg.take(ws);
                        let n1 = lay.noise(ws, &mut cn1);
                        let n2 = if lay.momentum {
                            lay.noise(ws, &mut cn2)
                        } else {
                            [L::default(); LANES]
                        };
                        let uv = cv.take(ws);
                        let ux = cx_.take(ws);
                        let (xi, vi) = (&mut xs[i], &mut vs[i]);
                        for j in 0..LANES {
                            let u = [L::u(ug[j]), L::u(uv[j]), L::u(ux[j])];
                            let (cx, cv, e) = rule.lane::<M>(xi[j], vi[j], pr, mu, u, n1[j], n2[j]);
                            xi[j] = cx;
                            vi[j] = cv;
                            ev[j] += L::uwide(e);
                        }
                    }
                    // Kept: a countdown instead of a division per step.
                    if to_keep == 1 {
                        to_keep = every;
                        let kept = xs.iter().zip(&g.c0).zip(g.s1.iter_mut().zip(&mut g.s2));
                        for ((x, c0), (s1, s2)) in kept.take(d) {
                            for j in 0..LANES {
                                let c = x[j].wide() - c0[j];
                                s1[j] += c;
                                s2[j] += c * c;
                            }
                        }
                    } else {
                        to_keep = to_keep.saturating_sub(1);
                    }
                }
            });
            t += kk as u64;
        }
    }

    /// The constants of the target per coordinate, in lanes.
    fn consts<L: Lane>(target: &GaussGrad, d: usize) -> [(L, L); MAX_D] {
        let mut c = [(L::default(), L::default()); MAX_D];
        for (i, c) in c[..d].iter_mut().enumerate() {
            let (pr, mu) = target.at(i);
            *c = (L::of(pr), L::of(mu));
        }
        c
    }

    /// Same contract and bits as [`reference::sgld_lp_l`]; random words drawn with
    /// `platform`'s SIMD step; `i32` lanes when [`SgldLpL::fits_i32`], else `i64` lanes when
    /// [`SgldLpL::fits_i64`], else the reference.
    #[allow(clippy::too_many_arguments)]
    pub fn sgld_lp_l<C: Code>(
        p: &SgldLpL,
        x: &mut [C],
        steps: u64,
        bits: &mut dyn Streams,
        keep: Keep,
        sums: Option<Sums>,
        events: &mut [u64],
        scratch: &mut [u64],
        platform: Platform,
    ) {
        let narrow = p.fits_i32();
        if !narrow && !p.fits_i64() {
            return reference::sgld_lp_l(p, x, steps, bits, keep, sums, events, scratch);
        }
        let d = check_shapes(x, None::<&[C]>, bits, &sums, events, steps, keep, p.x.wl);
        let (rg, rx) = p.round_bits();
        macro_rules! go {
            ($l:ty) => {{
                let lay = Layout::<$l>::new(d, (rg, 0, rx), p.noise, p.noise_fmt, false);
                let cx = Call {
                    rule: SgldElemL::<$l>::of(p),
                    lay,
                    consts: consts(&p.target, d),
                    mode: mode_id(p.rounding),
                    platform,
                    steps,
                    keep,
                    summing: sums.is_some(),
                };
                run(&cx, x, None, bits, sums, events, scratch)
            }};
        }
        if narrow {
            go!(i32)
        } else {
            go!(i64)
        }
    }

    /// Same contract and bits as [`reference::sghmc_lp_l`]; random words drawn with
    /// `platform`'s SIMD step; lanes chosen as in [`sgld_lp_l`].
    #[allow(clippy::too_many_arguments)]
    pub fn sghmc_lp_l<C: Code>(
        p: &SghmcLpL,
        x: &mut [C],
        v: &mut [C],
        steps: u64,
        bits: &mut dyn Streams,
        keep: Keep,
        sums: Option<Sums>,
        events: &mut [u64],
        scratch: &mut [u64],
        platform: Platform,
    ) {
        let narrow = p.fits_i32();
        if !narrow && !p.fits_i64() {
            return reference::sghmc_lp_l(p, x, v, steps, bits, keep, sums, events, scratch);
        }
        let d = check_shapes(x, Some(&*v), bits, &sums, events, steps, keep, p.x.wl);
        macro_rules! go {
            ($l:ty) => {{
                let lay = Layout::<$l>::new(d, p.round_bits(), p.noise, p.noise_fmt, true);
                let cx = Call {
                    rule: HmcElemL::<$l>::of(p),
                    lay,
                    consts: consts(&p.target, d),
                    mode: mode_id(p.rounding),
                    platform,
                    steps,
                    keep,
                    summing: sums.is_some(),
                };
                run(&cx, x, Some(v), bits, sums, events, scratch)
            }};
        }
        if narrow {
            go!(i32)
        } else {
            go!(i64)
        }
    }
}
