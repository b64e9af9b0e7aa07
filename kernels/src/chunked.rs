//! The fast path: blockwise, branch-free, written for the auto-vectorizer.
//!
//! A block is `32` words' worth of elements; its random words are drawn with one
//! [`WordSource::fill`] (so xoshiro lanes step in lockstep), the per-mode rounding is chosen
//! once per call, and the inner loop is straight-line integer code. Results are bit-identical
//! to [`crate::portable`] (tested for every mode, container pair and shift).

use crate::bits::WordSource;
use crate::portable::{self, nan_code, round_f64};
use crate::{Code, Overflow, Rounding, Spec};

/// Words drawn per block.
const BLOCK_WORDS: usize = 32;
/// Elements per block when a mode draws no random bits.
const BLOCK_PLAIN: usize = 256;

/// Block geometry of a call with `r` random bits per element.
struct Packing {
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
                per: usize::MAX,
                block: BLOCK_PLAIN,
                umask: 0,
            },
            Some(per) => Packing {
                per: per as usize,
                block: per as usize * BLOCK_WORDS,
                umask: u64::MAX >> (64 - r),
            },
        }
    }
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
    let s = shift as u32;
    let mask = (1u64 << s) - 1;
    let half = 1u64 << (s - 1);
    match spec.rounding {
        Rounding::Floor => run(spec, src, dst, bits, r, |k, _| k >> s),
        Rounding::TowardZero => run(spec, src, dst, bits, r, |k, _| {
            let d = k as u64 & mask;
            (k >> s) + ((k < 0) & (d != 0)) as i64
        }),
        Rounding::NearestEven => run(spec, src, dst, bits, r, |k, _| {
            let d = k as u64 & mask;
            let fl = k >> s;
            fl + ((d > half) | ((d == half) & (fl & 1 == 1))) as i64
        }),
        Rounding::NearestAway => run(spec, src, dst, bits, r, |k, _| {
            let d = k as u64 & mask;
            (k >> s) + ((d > half) | ((d == half) & (k >= 0))) as i64
        }),
        Rounding::Stochastic { bits: rr } => {
            let (a, b) = (s.saturating_sub(rr), rr.saturating_sub(s));
            run(spec, src, dst, bits, r, |k, u| {
                let t = ((k as u64 & mask) >> a) << b;
                (k >> s) + ((t + u) >> rr) as i64
            })
        }
        Rounding::StochasticExact => run(spec, src, dst, bits, r, |k, u| {
            (k >> s) + (((k as u64 & mask) + u) >> s) as i64
        }),
        Rounding::StochasticCorrected { bits: rr } => {
            if rr >= s {
                let b = rr - s;
                run(spec, src, dst, bits, r, |k, u| {
                    (k >> s) + ((((k as u64 & mask) << b) + u) >> rr) as i64
                })
            } else {
                let sh = s - rr;
                let rmask = (1u64 << sh) - 1;
                let rhalf = 1u64 << (sh - 1);
                run(spec, src, dst, bits, r, |k, u| {
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

/// The block loop: `round(k, u)` gives the rounded code in `i64` (no overflow possible for
/// `1 ≤ shift ≤ 62`), then the overflow rule, branch-free.
#[inline(always)]
fn run<I: Code, O: Code, W: WordSource + ?Sized>(
    spec: Spec,
    src: &[I],
    dst: &mut [O],
    bits: &mut W,
    r: u32,
    round: impl Fn(i64, u64) -> i64,
) -> u64 {
    let wl = spec.wl;
    let max = ((1u64 << (wl - 1)) - 1) as i64;
    let min = -max - 1;
    let sh = 64 - wl;
    let wrap = spec.overflow == Overflow::Wrap;
    let mut events = 0u64;
    let mut words = [0u64; BLOCK_WORDS];
    let Packing { per, block, umask } = Packing::new(r);
    for (sb, db) in src.chunks(block).zip(dst.chunks_mut(block)) {
        if r > 0 {
            let n = sb.len().div_ceil(per);
            bits.fill(&mut words[..n]);
        }
        let mut ev = 0u64;
        for (i, (s, d)) in sb.iter().zip(db.iter_mut()).enumerate() {
            let u = if r == 0 {
                0
            } else {
                (words[i / per] >> ((i % per) as u32 * r)) & umask
            };
            let q = round(s.to_i64(), u);
            let c = if wrap {
                (q << sh) >> sh
            } else {
                q.clamp(min, max)
            };
            ev += (c != q) as u64;
            *d = O::from_i64(c);
        }
        events += ev;
    }
    events
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
    let mut events = 0u64;
    let mut words = [0u64; BLOCK_WORDS];
    let Packing { per, block, umask } = Packing::new(r);
    for (sb, db) in src.chunks(block).zip(dst.chunks_mut(block)) {
        if r > 0 {
            let n = sb.len().div_ceil(per);
            bits.fill(&mut words[..n]);
        }
        for (i, (&x, d)) in sb.iter().zip(db.iter_mut()).enumerate() {
            let u = if r == 0 {
                0
            } else {
                (words[i / per] >> ((i % per) as u32 * r)) & umask
            };
            let (c, ev) = if x.is_nan() {
                nan_code()
            } else {
                let rule = if x.is_infinite() {
                    Overflow::Saturate
                } else {
                    spec.overflow
                };
                rule.apply(round_f64(x, fl, spec.rounding, u), spec.wl)
            };
            events += ev as u64;
            *d = O::from_i64(c);
        }
    }
    events
}
