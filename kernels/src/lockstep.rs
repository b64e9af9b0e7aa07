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
//! ([`reference`]), for any number of chains, tested bit-identical.
//!
//! # Kept samples
//! Step `t` of a call (1-based) is kept when [`Keep::kept`] says so; for a kept step the
//! kernel adds, per chain and coordinate, `c − c0` and `(c − c0)²` of the position code `c`
//! to [`Sums`]: the exact integer moments of the kept samples, with no per-sample call.

use crate::bits::{words_for, WordSource};
use crate::fused::fast::{HmcElemL, SgldElemL};
use crate::fused::{mode_id, Fmt, GaussGrad, Lane, NoiseGen, OvL, RqL, SghmcLpL, SgldLpL};
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
        rule: &'a R,
        lay: &'a Layout<'a, L>,
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
                _ => advance(cx, &mut g, bits, scratch),
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

    /// The call's steps of one group, monomorphized on the rounding mode; inlined into each
    /// platform's build (`x86::*::lockstep_advance`).
    #[inline(always)]
    pub(crate) fn advance<R: Rule<L>, L: Lane>(
        cx: &Call<R, L>,
        g: &mut Group<L>,
        bits: &mut dyn Streams,
        scratch: &mut [u64],
    ) {
        match cx.mode {
            0 => advance_in::<R, L, 0>(cx, g, bits, scratch),
            1 => advance_in::<R, L, 1>(cx, g, bits, scratch),
            2 => advance_in::<R, L, 2>(cx, g, bits, scratch),
            3 => advance_in::<R, L, 3>(cx, g, bits, scratch),
            4 => advance_in::<R, L, 4>(cx, g, bits, scratch),
            5 => advance_in::<R, L, 5>(cx, g, bits, scratch),
            _ => advance_in::<R, L, 6>(cx, g, bits, scratch),
        }
    }

    #[inline(always)]
    fn advance_in<R: Rule<L>, L: Lane, const M: u8>(
        cx: &Call<R, L>,
        g: &mut Group<L>,
        bits: &mut dyn Streams,
        scratch: &mut [u64],
    ) {
        let (lay, rule, steps) = (cx.lay, cx.rule, cx.steps);
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
        let mut t = 0u64;
        while t < steps {
            let kk = (k as u64).min(steps - t) as usize;
            let n = kk * wps;
            for j in 0..lanes {
                bits.stream(g0 + j)
                    .fill_on(cx.platform, &mut raw[j * n..(j + 1) * n]);
            }
            // Transpose to [word][lane], one lane's row at a time (contiguous loads,
            // stride-LANES stores); lanes without a chain get zero words.
            let tr_n = &mut tr[..n * LANES];
            for j in 0..LANES {
                if j < lanes {
                    let row = &raw[j * n..(j + 1) * n];
                    for (dst, &w) in tr_n.chunks_exact_mut(LANES).zip(row) {
                        dst[j] = w;
                    }
                } else {
                    for dst in tr_n.chunks_exact_mut(LANES) {
                        dst[j] = 0;
                    }
                }
            }
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
                    rule: &SgldElemL::<$l>::of(p),
                    lay: &lay,
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
                    rule: &HmcElemL::<$l>::of(p),
                    lay: &lay,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fused::tests::{codes, families, gens, ROUNDINGS};
    use crate::XoshiroLanes;

    /// Every platform against the chain-by-chain reference: final x and v, per-chain events,
    /// kept sums and the next word of every stream; chain counts below, at and above a lane
    /// group, several dimensions, one-step and many-step scratch.
    fn check_all<C: Code>() {
        let mut g = XoshiroLanes::new(91, C::BITS as u64);
        let table: Vec<i64> = codes(&mut g, 64, 9);
        let mut case = 0u64;
        // Which lane widths the fast path took: [i64, i32].
        let mut lanes_seen = [false; 2];
        for (fx, fg, fa, fc, fnz) in families(C::BITS) {
            for gen in gens(&table) {
                for &rounding in ROUNDINGS.iter().step_by(2) {
                    for (m, d) in [(1usize, 1usize), (3, 2), (16, 1), (21, 5)] {
                        case += 1;
                        let per_dim = case.is_multiple_of(2);
                        let np = if per_dim { d } else { 1 };
                        let prec = codes(&mut g, np, 6);
                        let mean = codes(&mut g, np, fx.wl.min(6));
                        let mk = |g: &mut XoshiroLanes| -> Vec<C> {
                            codes(g, m * d, fx.wl)
                                .into_iter()
                                .map(C::from_i64)
                                .collect()
                        };
                        let (x0, v0) = (mk(&mut g), mk(&mut g));
                        let c0 = codes(&mut g, m * d, fx.wl);
                        let cf = codes(&mut g, 7, 10);
                        let target = GaussGrad {
                            prec: &prec,
                            mean: &mean,
                            prec_fl: fc,
                        };
                        let sgld = SgldLpL {
                            rounding,
                            x: fx,
                            grad: fg,
                            accum: fa,
                            coef_fl: fc,
                            eta: cf[0],
                            noise_coef: cf[1],
                            target,
                            noise: gen,
                            noise_fmt: fnz,
                        };
                        let hmc = SghmcLpL {
                            rounding,
                            x: fx,
                            v: fx,
                            grad: fg,
                            accum: fa,
                            coef_fl: fc,
                            coefs: cf.clone().try_into().unwrap(),
                            target,
                            noise: gen,
                            noise_fmt: fnz,
                        };
                        for fits in [sgld.fits_i64(), hmc.fits_i64()] {
                            lanes_seen[0] |= fits;
                        }
                        lanes_seen[1] |= sgld.fits_i32() || hmc.fits_i32();
                        let steps = 23;
                        let keep = Keep {
                            first: 1 + case % 4,
                            every: 1 + case % 3,
                        };
                        let streams = |k: u64| -> Vec<XoshiroLanes> {
                            (0..m as u64)
                                .map(|j| XoshiroLanes::new(case, 10 * j + k))
                                .collect()
                        };
                        let ctx = format!(
                            "i{} {fx:?} {fa:?} {gen:?} {rounding} m={m} d={d} {keep:?}",
                            C::BITS
                        );
                        let run = |p: Platform, extra: usize, hmc_run: bool| {
                            let (mut x, mut v) = (x0.clone(), v0.clone());
                            let mut bits = streams(hmc_run as u64);
                            let (mut s1, mut s2) = (vec![0; m * d], vec![0; m * d]);
                            // Exact i64 sums need narrow positions (see `max_kept`).
                            let sums = (max_kept(fx.wl) >= steps).then_some(Sums {
                                c0: &c0,
                                s1: &mut s1,
                                s2: &mut s2,
                            });
                            let mut ev = vec![0u64; m];
                            if hmc_run {
                                let mut sc = vec![0; hmc.lockstep_scratch(d) + extra];
                                p.sghmc_lp_l_chains(
                                    &hmc, &mut x, &mut v, steps, &mut bits, keep, sums, &mut ev,
                                    &mut sc,
                                );
                            } else {
                                let mut sc = vec![0; sgld.lockstep_scratch(d) + extra];
                                p.sgld_lp_l_chains(
                                    &sgld, &mut x, steps, &mut bits, keep, sums, &mut ev, &mut sc,
                                );
                            }
                            let tails: Vec<u64> = bits.iter_mut().map(|b| b.next_word()).collect();
                            let xs: Vec<i64> = x.iter().map(|c| c.to_i64()).collect();
                            let vs: Vec<i64> = v.iter().map(|c| c.to_i64()).collect();
                            (xs, vs, ev, s1, s2, tails)
                        };
                        for hmc_run in [false, true] {
                            let want = run(Platform::Portable, 0, hmc_run);
                            for p in Platform::all() {
                                for extra in [0usize, 3000] {
                                    let got = run(p, extra, hmc_run);
                                    assert_eq!(
                                        got,
                                        want,
                                        "{} hmc={hmc_run} extra={extra} {ctx}",
                                        p.name()
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
        // 8- and 16-bit states take both lane widths; the test families' 32-bit states fit
        // neither (they run the reference), as in the single-chain tests.
        if C::BITS < 32 {
            assert_eq!(lanes_seen, [true, true], "both lane widths exercised");
        } else {
            assert!(!lanes_seen[1], "32-bit states never fit i32 lanes");
        }
    }

    #[test]
    fn lockstep_bit_identical_i8() {
        check_all::<i8>();
    }

    #[test]
    fn lockstep_bit_identical_i16() {
        check_all::<i16>();
    }

    #[test]
    fn lockstep_bit_identical_i32() {
        check_all::<i32>();
    }

    /// The reference is the single-chain kernel: chain `j` of a lockstep call ends where
    /// `steps` calls of [`crate::fused::reference::sghmc_lp_l`] on chain `j` alone end.
    #[test]
    fn reference_is_one_chain_at_a_time() {
        let t = [4096i64];
        let m = [0i64];
        let f = |wl, fl| Fmt {
            wl,
            fl,
            overflow: crate::Overflow::Saturate,
        };
        let p = SghmcLpL {
            rounding: Rounding::Stochastic { bits: 8 },
            x: f(8, 3),
            v: f(8, 3),
            grad: f(8, 3),
            accum: f(24, 16),
            coef_fl: 12,
            coefs: [3900, -200, 300, -10, 700, 20, 5],
            target: GaussGrad {
                prec: &t,
                mean: &m,
                prec_fl: 12,
            },
            noise: NoiseGen::Clt {
                k: 4,
                bits: 8,
                shift: -2,
            },
            noise_fmt: f(16, 12),
        };
        let (chains, d, steps) = (5, 2, 40);
        let x0: Vec<i8> = (0..chains * d).map(|i| i as i8 - 4).collect();
        let (mut x, mut v) = (x0.clone(), vec![0i8; chains * d]);
        let mut bits: Vec<XoshiroLanes> = (0..chains as u64)
            .map(|j| XoshiroLanes::new(3, j))
            .collect();
        let mut ev = vec![0; chains];
        let mut sc = vec![0; p.lockstep_scratch(d)];
        Platform::detect().sghmc_lp_l_chains(
            &p,
            &mut x,
            &mut v,
            steps,
            &mut bits,
            Keep::NONE,
            None,
            &mut ev,
            &mut sc,
        );
        let mut words = vec![0; p.words_per_step(d)];
        for j in 0..chains {
            let (mut xj, mut vj) = (x0[j * d..(j + 1) * d].to_vec(), vec![0i8; d]);
            let mut b = XoshiroLanes::new(3, j as u64);
            let mut e = 0;
            for _ in 0..steps {
                e += crate::fused::reference::sghmc_lp_l(
                    &p, &mut xj, &mut vj, 1, &mut b, &mut words,
                );
            }
            assert_eq!(xj, &x[j * d..(j + 1) * d]);
            assert_eq!(vj, &v[j * d..(j + 1) * d]);
            assert_eq!(e, ev[j]);
        }
        assert_ne!(x, x0, "the chains moved");
    }
}
