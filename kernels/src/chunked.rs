//! The fast path: blockwise, branch-free, written for the auto-vectorizer.
//!
//! A block's random words are drawn with one [`WordSource::fill`] (so xoshiro lanes step in
//! lockstep, with SIMD on the x86 platforms), the per-mode rounding and the overflow rule are
//! chosen once per call, and the inner loop is straight-line integer code. Requantization runs
//! in the narrowest lanes in which every intermediate is exact: `i16` lanes for `i8`/`i16`
//! codes with shift ≤ 15 and ≤ 15 random bits, `i32` lanes for codes up to `i32` with shift
//! ≤ 31 and ≤ 31 random bits, `i64` otherwise. The random bits are first unpacked to one lane
//! per element, with the power-of-two packings (`R` = 1, 2, 4, 8, 16) specialized. Results are
//! bit-identical to [`crate::portable`] (tested for every mode, container pair, shift and
//! packing).

use crate::bits::WordSource;
use crate::lane::{mode_id, with_mode, Fmt, RoundF64};
use crate::mode::F64_EXACT_BITS;
use crate::portable::{self, quantize_f64_one};
use crate::{Code, Overflow, Rounding, Spec};

/// Words drawn per block.
const BLOCK_WORDS: usize = 32;
/// Elements per block when a mode draws no random bits.
const BLOCK_PLAIN: usize = 256;

/// Block geometry of a call with `r` random bits per element.
struct Packing {
    /// Bits per element.
    r: u32,
    /// Elements per word (`⌊64/r⌋`; unused when `r = 0`).
    per: usize,
    /// Elements per block: whole words only, so blocks never split a word.
    block: usize,
    /// Mask of the low `r` bits.
    umask: u64,
}

impl Packing {
    fn new(r: u32) -> Self {
        match 64u32.checked_div(r) {
            None => Packing {
                r,
                per: usize::MAX,
                block: BLOCK_PLAIN,
                umask: 0,
            },
            Some(per) => Packing {
                r,
                per: per as usize,
                block: per as usize * BLOCK_WORDS,
                umask: u64::MAX >> (64 - r),
            },
        }
    }

    /// The bits of element `i` of a block whose words are `words` (the packing rule of
    /// [`crate::bits`]; 0 when `r = 0`).
    #[inline(always)]
    fn at(&self, words: &[u64], i: usize) -> u64 {
        if self.r == 0 {
            0
        } else {
            (words[i / self.per] >> ((i % self.per) as u32 * self.r)) & self.umask
        }
    }
}

/// The block loop of the `i64` paths: each block's words drawn with one `fill`, then
/// `block(src, dst, packing, words)`; returns the sum of the blocks' events.
#[inline(always)]
fn by_blocks<S, D, W: WordSource + ?Sized>(
    r: u32,
    src: &[S],
    dst: &mut [D],
    bits: &mut W,
    mut block: impl FnMut(&[S], &mut [D], &Packing, &[u64]) -> u64,
) -> u64 {
    let pk = Packing::new(r);
    let mut words = [0u64; BLOCK_WORDS];
    let mut events = 0u64;
    for (sb, db) in src.chunks(pk.block).zip(dst.chunks_mut(pk.block)) {
        if r > 0 {
            bits.fill(&mut words[..sb.len().div_ceil(pk.per)]);
        }
        events += block(sb, db, &pk, &words);
    }
    events
}

/// Requantizes `src` into `dst`; same contract and same bits as [`portable::requantize`].
///
/// # Panics
/// If `src.len() != dst.len()`.
#[inline(always)]
pub fn requantize<I: Code, O: Code, W: WordSource + ?Sized>(
    spec: Spec,
    shift: i32,
    src: &[I],
    dst: &mut [O],
    bits: &mut W,
) -> u64 {
    assert_eq!(src.len(), dst.len(), "requantize: length mismatch");
    let r = spec.rounding.bits_per_code(shift);
    if shift <= 0 || shift >= 63 {
        // No rounding (exact left shift; may leave i64), or a shift too wide for i64 lanes:
        // the reference does these exactly and they are never hot.
        return portable::requantize(spec, shift, src, dst, bits);
    }
    // The narrowest lanes in which every intermediate is exact (see `lanes16`/`lanes32`).
    // (`const` conditions: the lane paths are not even instantiated for wider containers.)
    if const { I::BITS <= 16 && O::BITS <= 16 } && shift <= 15 && r <= 15 {
        return lanes16::requantize(spec, shift as u32, r, src, dst, bits);
    }
    if const { I::BITS <= 32 && O::BITS <= 32 } && shift <= 31 && r <= 31 {
        return lanes32::requantize(spec, shift as u32, r, src, dst, bits);
    }
    let s = shift as u32;
    by_blocks(r, src, dst, bits, |sb, db, pk, words| {
        by_mode(spec, s, sb, db, |i| pk.at(words, i))
    })
}

/// One block in `i64` lanes: the mode's rounding of element `i` with bits `u(i)`, then the
/// overflow rule, branch-free. The mode is chosen here, per block, so that the block loop
/// around it (drawing the words) is compiled once and not once per mode.
#[inline(always)]
fn by_mode<I: Code, O: Code>(
    spec: Spec,
    s: u32,
    src: &[I],
    dst: &mut [O],
    u: impl Fn(usize) -> u64,
) -> u64 {
    let mask = (1u64 << s) - 1;
    let half = 1u64 << (s - 1);
    match spec.rounding {
        Rounding::Floor => run(spec, src, dst, u, |k, _| k >> s),
        Rounding::TowardZero => run(spec, src, dst, u, |k, _| {
            let d = k as u64 & mask;
            (k >> s) + ((k < 0) & (d != 0)) as i64
        }),
        Rounding::NearestEven => run(spec, src, dst, u, |k, _| {
            let d = k as u64 & mask;
            let fl = k >> s;
            fl + ((d > half) | ((d == half) & (fl & 1 == 1))) as i64
        }),
        Rounding::NearestAway => run(spec, src, dst, u, |k, _| {
            let d = k as u64 & mask;
            (k >> s) + ((d > half) | ((d == half) & (k >= 0))) as i64
        }),
        Rounding::Stochastic { bits: rr } => {
            let (a, b) = (s.saturating_sub(rr), rr.saturating_sub(s));
            run(spec, src, dst, u, |k, u| {
                let t = ((k as u64 & mask) >> a) << b;
                (k >> s) + ((t + u) >> rr) as i64
            })
        }
        Rounding::StochasticExact => run(spec, src, dst, u, |k, u| {
            (k >> s) + (((k as u64 & mask) + u) >> s) as i64
        }),
        Rounding::StochasticCorrected { bits: rr } => {
            if rr >= s {
                let b = rr - s;
                run(spec, src, dst, u, |k, u| {
                    (k >> s) + ((((k as u64 & mask) << b) + u) >> rr) as i64
                })
            } else {
                let sh = s - rr;
                let rmask = (1u64 << sh) - 1;
                let rhalf = 1u64 << (sh - 1);
                run(spec, src, dst, u, |k, u| {
                    let d = k as u64 & mask;
                    let q = d >> sh;
                    let rem = d & rmask;
                    let t = q + ((rem > rhalf) | ((rem == rhalf) & (q & 1 == 1))) as u64;
                    (k >> s) + ((t + u) >> rr) as i64
                })
            }
        }
    }
}

/// Elements per block of the narrow-lane paths (rounded down to whole words).
const NARROW_BLOCK: usize = 512;

/// Generates a requantize path computing in `$s`/`$u` lanes instead of `i64`.
///
/// Exactness, for codes `k` of at most `B` bits (`B` = lane width), `1 ≤ s ≤ B − 1` and
/// `R ≤ B − 1` random bits: `⌊k/2^s⌋ + 1 ≤ 2^(B−2) + 1` fits; the discarded bits `d < 2^s`;
/// the carry sums `top_R(d) + u`, `rne_R(d) + u` (`< 2^(R+1)`) and `d + u` (`≤ 2^(s+1) − 2`)
/// fit in `B` unsigned bits; the rounded code and both overflow rules with `wl ≤ B` stay in
/// range. So every result equals the `i64` one bit for bit.
macro_rules! narrow_lanes {
    ($(#[$doc:meta])* $m:ident, $s:ty, $u:ty) => {
        $(#[$doc])*
        mod $m {
            use super::*;

            /// Requantize with `1 ≤ s < lane bits`, `r < lane bits`, containers no wider
            /// than the lanes.
            #[inline(always)]
            pub(super) fn requantize<I: Code, O: Code, W: WordSource + ?Sized>(
                spec: Spec,
                s: u32,
                r: u32,
                src: &[I],
                dst: &mut [O],
                bits: &mut W,
            ) -> u64 {
                let per = match 64u32.checked_div(r) {
                    Some(p) => p as usize,
                    None => NARROW_BLOCK,
                };
                let block = per * (NARROW_BLOCK / per);
                let mut words = [0u64; NARROW_BLOCK / 2];
                let mut us: [$u; NARROW_BLOCK] = [0; NARROW_BLOCK];
                let mut events = 0u64;
                for (sb, db) in src.chunks(block).zip(dst.chunks_mut(block)) {
                    let n = sb.len();
                    if r > 0 {
                        let nw = n.div_ceil(per);
                        bits.fill(&mut words[..nw]);
                        unpack(r, &words[..nw], &mut us[..nw * per]);
                    }
                    events += if spec.overflow == Overflow::Wrap {
                        by_mode::<I, O, true>(spec, s, sb, db, &us[..n])
                    } else {
                        by_mode::<I, O, false>(spec, s, sb, db, &us[..n])
                    };
                }
                events
            }

            /// One block: chooses the rounding (per block, so that the block loop and the
            /// unpacking around it are compiled once); the closures are the `i64` ones in
            /// lane types.
            #[inline(always)]
            fn by_mode<I: Code, O: Code, const WRAP: bool>(
                spec: Spec,
                s: u32,
                src: &[I],
                dst: &mut [O],
                us: &[$u],
            ) -> u64 {
                let mask = ((1u64 << s) - 1) as $u;
                let half: $u = 1 << (s - 1);
                let wl = spec.wl;
                match spec.rounding {
                    Rounding::Floor => run::<I, O, WRAP>(wl, src, dst, us, |k, _| k >> s),
                    Rounding::TowardZero => run::<I, O, WRAP>(wl, src, dst, us, |k, _| {
                        let d = k as $u & mask;
                        (k >> s) + ((k < 0) & (d != 0)) as $s
                    }),
                    Rounding::NearestEven => run::<I, O, WRAP>(wl, src, dst, us, |k, _| {
                        let d = k as $u & mask;
                        let fl = k >> s;
                        fl + ((d > half) | ((d == half) & (fl & 1 == 1))) as $s
                    }),
                    Rounding::NearestAway => run::<I, O, WRAP>(wl, src, dst, us, |k, _| {
                        let d = k as $u & mask;
                        (k >> s) + ((d > half) | ((d == half) & (k >= 0))) as $s
                    }),
                    Rounding::Stochastic { bits: rr } => {
                        let (a, b) = (s.saturating_sub(rr), rr.saturating_sub(s));
                        run::<I, O, WRAP>(wl, src, dst, us, |k, u| {
                            let t = ((k as $u & mask) >> a) << b;
                            (k >> s) + ((t + u) >> rr) as $s
                        })
                    }
                    Rounding::StochasticExact => run::<I, O, WRAP>(wl, src, dst, us, |k, u| {
                        (k >> s) + (((k as $u & mask) + u) >> s) as $s
                    }),
                    Rounding::StochasticCorrected { bits: rr } => {
                        if rr >= s {
                            let b = rr - s;
                            run::<I, O, WRAP>(wl, src, dst, us, |k, u| {
                                (k >> s) + ((((k as $u & mask) << b) + u) >> rr) as $s
                            })
                        } else {
                            let sh = s - rr;
                            let rmask: $u = (1 << sh) - 1;
                            let rhalf: $u = 1 << (sh - 1);
                            run::<I, O, WRAP>(wl, src, dst, us, |k, u| {
                                let d = k as $u & mask;
                                let q = d >> sh;
                                let rem = d & rmask;
                                let t = q + ((rem > rhalf) | ((rem == rhalf) & (q & 1 == 1))) as $u;
                                (k >> s) + ((t + u) >> rr) as $s
                            })
                        }
                    }
                }
            }

            /// The element loop of one block: round and apply the overflow rule in
            /// straight-line lane code.
            #[inline(always)]
            fn run<I: Code, O: Code, const WRAP: bool>(
                wl: u32,
                src: &[I],
                dst: &mut [O],
                us: &[$u],
                round: impl Fn($s, $u) -> $s,
            ) -> u64 {
                let max = ((1i64 << (wl - 1)) - 1) as $s;
                let min = (-(1i64 << (wl - 1))) as $s;
                let sh = <$s>::BITS - wl;
                // At most NARROW_BLOCK events per block: fits the lane type.
                let mut ev: $u = 0;
                for ((x, d), &u) in src.iter().zip(dst.iter_mut()).zip(us) {
                    let q = round(x.to_i64() as $s, u);
                    let c = if WRAP { (q << sh) >> sh } else { q.max(min).min(max) };
                    ev += (c != q) as $u;
                    *d = O::from_i64(c as i64);
                }
                ev as u64
            }

            /// `out[j·p + i]` = bits `[i·r, i·r + r)` of `words[j]` with `p = ⌊64/r⌋`
            /// (the packing rule of [`crate::bits`]); `out.len() = words.len()·p`,
            /// `1 ≤ r < lane bits`. The power-of-two packings are specialized.
            #[inline(always)]
            fn unpack(r: u32, words: &[u64], out: &mut [$u]) {
                match r {
                    1 => unpack_const::<1>(words, out),
                    2 => unpack_const::<2>(words, out),
                    4 => unpack_const::<4>(words, out),
                    8 => {
                        for (w, c) in words.iter().zip(out.chunks_exact_mut(8)) {
                            for (o, b) in c.iter_mut().zip(w.to_le_bytes()) {
                                *o = b as $u;
                            }
                        }
                    }
                    16 => unpack_const::<16>(words, out),
                    _ => {
                        let per = (64 / r) as usize;
                        let m = (1u64 << r) - 1;
                        for (w, c) in words.iter().zip(out.chunks_exact_mut(per)) {
                            let mut w = *w;
                            for o in c {
                                *o = (w & m) as $u;
                                w >>= r;
                            }
                        }
                    }
                }
            }

            /// [`unpack`] for a compile-time `R` dividing 64: constant shifts, unrolled.
            #[inline(always)]
            fn unpack_const<const R: u32>(words: &[u64], out: &mut [$u]) {
                for (w, c) in words.iter().zip(out.chunks_exact_mut((64 / R) as usize)) {
                    for (j, o) in c.iter_mut().enumerate() {
                        *o = ((w >> (j as u32 * R)) & ((1u64 << R) - 1)) as $u;
                    }
                }
            }
        }
    };
}

narrow_lanes!(
    /// `i16` lanes: `i8`/`i16` codes, shift ≤ 15, at most 15 random bits.
    lanes16, i16, u16
);
narrow_lanes!(
    /// `i32` lanes: codes up to `i32`, shift ≤ 31, at most 31 random bits.
    lanes32, i32, u32
);

/// The element loop of one block: `round(k, u(i))` gives the rounded code in `i64` (no
/// overflow possible for `1 ≤ shift ≤ 62`), then the overflow rule, branch-free.
#[inline(always)]
fn run<I: Code, O: Code>(
    spec: Spec,
    src: &[I],
    dst: &mut [O],
    u: impl Fn(usize) -> u64,
    round: impl Fn(i64, u64) -> i64,
) -> u64 {
    let wl = spec.wl;
    let max = ((1u64 << (wl - 1)) - 1) as i64;
    let min = -max - 1;
    let sh = 64 - wl;
    let wrap = spec.overflow == Overflow::Wrap;
    let mut ev = 0u64;
    for (i, (s, d)) in src.iter().zip(dst.iter_mut()).enumerate() {
        let q = round(s.to_i64(), u(i));
        let c = if wrap {
            (q << sh) >> sh
        } else {
            q.clamp(min, max)
        };
        ev += (c != q) as u64;
        *d = O::from_i64(c);
    }
    ev
}

/// Rounds `src` to codes with `fl` fraction bits; same contract and same bits as
/// [`portable::quantize_f64`].
///
/// # Panics
/// If `src.len() != dst.len()`.
#[inline(always)]
pub fn quantize_f64<O: Code, W: WordSource + ?Sized>(
    spec: Spec,
    fl: u32,
    src: &[f64],
    dst: &mut [O],
    bits: &mut W,
) -> u64 {
    assert_eq!(src.len(), dst.len(), "quantize_f64: length mismatch");
    let r = spec.rounding.bits_per_f64();
    if r <= F64_EXACT_BITS && fl <= 1000 {
        return f64_by_mode(spec, fl, r, src, dst, bits);
    }
    by_blocks(r, src, dst, bits, |sb, db, pk, words| {
        let mut events = 0u64;
        for (i, (&x, d)) in sb.iter().zip(db.iter_mut()).enumerate() {
            let (c, ev) = quantize_f64_one(x, fl, spec, pk.at(words, i));
            events += ev as u64;
            *d = O::from_i64(c);
        }
        events
    })
}

/// Elements per block of the `f64` path (rounded down to whole words).
const F64_BLOCK: usize = 256;

/// Chooses the rounding of the `f64` path once: the element loop is [`RoundF64::round`] (the
/// reference's own round-up decision, exact in every mode) with the mode as a const.
#[inline(always)]
fn f64_by_mode<O: Code, W: WordSource + ?Sized>(
    spec: Spec,
    fl: u32,
    r: u32,
    src: &[f64],
    dst: &mut [O],
    bits: &mut W,
) -> u64 {
    let fmt = Fmt {
        wl: spec.wl,
        fl,
        overflow: spec.overflow,
    };
    let unit = RoundF64::new(fmt, spec.rounding);
    with_mode!(mode_id(spec.rounding), M => {
        f64_run::<O, W, M>(&unit, spec, fl, r, src, dst, bits)
    })
}

/// The `f64` block loop: every element through [`RoundF64::round`]'s branch-free lane code
/// (which gives the [`RoundF64::special`] values, NaN, ±∞ and huge, code 0 and no event);
/// a block that had any of those then redoes just them with the reference rule.
#[inline(always)]
fn f64_run<O: Code, W: WordSource + ?Sized, const M: u8>(
    unit: &RoundF64,
    spec: Spec,
    fl: u32,
    r: u32,
    src: &[f64],
    dst: &mut [O],
    bits: &mut W,
) -> u64 {
    let per = match 64u32.checked_div(r) {
        Some(p) => p as usize,
        None => F64_BLOCK,
    };
    let block = per * (F64_BLOCK / per);
    let mut words = [0u64; F64_BLOCK];
    let mut us = [0u64; F64_BLOCK];
    let mut events = 0u64;
    for (sb, db) in src.chunks(block).zip(dst.chunks_mut(block)) {
        let n = sb.len();
        if r > 0 {
            let nw = n.div_ceil(per);
            bits.fill(&mut words[..nw]);
            unpack_u64(r, &words[..nw], &mut us[..nw * per]);
        }
        let mut special = false;
        for ((&x, d), &u) in sb.iter().zip(db.iter_mut()).zip(&us[..n]) {
            special |= unit.special(x);
            let (c, ev) = unit.round::<M>(x, u);
            events += ev as u64;
            *d = O::from_i64(c);
        }
        if special {
            for ((&x, d), &u) in sb.iter().zip(db.iter_mut()).zip(&us[..n]) {
                if unit.special(x) {
                    let (c, ev) = quantize_f64_one(x, fl, spec, u);
                    events += ev as u64;
                    *d = O::from_i64(c);
                }
            }
        }
    }
    events
}

/// `out[j·p + i]` = bits `[i·r, i·r + r)` of `words[j]`, `p = ⌊64/r⌋`, `1 ≤ r ≤ 64` (the
/// packing rule of [`crate::bits`]); `out.len() = words.len()·p`.
#[inline(always)]
fn unpack_u64(r: u32, words: &[u64], out: &mut [u64]) {
    if r == 8 {
        for (w, c) in words.iter().zip(out.chunks_exact_mut(8)) {
            for (o, b) in c.iter_mut().zip(w.to_le_bytes()) {
                *o = b as u64;
            }
        }
        return;
    }
    let per = (64 / r) as usize;
    let m = u64::MAX >> (64 - r);
    if per == 1 {
        // R > 32: one element per word, its low R bits.
        for (o, w) in out.iter_mut().zip(words) {
            *o = w & m;
        }
        return;
    }
    for (&w, c) in words.iter().zip(out.chunks_exact_mut(per)) {
        // i·R ≤ 64 − R < 64: every shift is in range.
        for (i, o) in c.iter_mut().enumerate() {
            *o = (w >> (i as u32 * r)) & m;
        }
    }
}
