//! Rounding values to formats: the checked library API over the kernels, and the theory of
//! what one rounding does to one value.
//!
//! The modes ([`Rounding`]) and overflow rules ([`Overflow`]) are defined, with their exact
//! bit semantics, in `lpmc_kernels`; this module validates inputs, dispatches on the container
//! of the target format and states the closed forms the tests and `lpmc round` compare with.
//!
//! ```
//! use lpmc::format::Format;
//! use lpmc::round::{round_f64, Rounding};
//! use lpmc_kernels::Xoshiro;
//! let f = Format::new(8, 4).unwrap();
//! let mut bits = Xoshiro::new(7, 0);
//! // 0.30 lies between 0.25 (code 4) and 0.3125 (code 5).
//! assert_eq!(round_f64(0.30, f, Rounding::NearestEven, &mut bits).unwrap().code, 5);
//! assert_eq!(round_f64(0.30, f, Rounding::Floor, &mut bits).unwrap().code, 4);
//! let c = round_f64(0.30, f, Rounding::Stochastic { bits: 6 }, &mut bits).unwrap().code;
//! assert!(c == 4 || c == 5);
//! assert!(round_f64(f64::NAN, f, Rounding::Floor, &mut bits).is_err());
//! ```

use crate::error::{Error, Result};
use crate::format::{Codes, Format};
use crate::with_codes;
use lpmc_kernels::bits::Leap;
use lpmc_kernels::{Code, Platform, WordSource};
pub use lpmc_kernels::{Overflow, Rounding};
use serde::Serialize;

/// One rounded value: its code and whether the overflow rule changed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rounded {
    /// The code in the target format.
    pub code: i64,
    /// Whether the code saturated or wrapped.
    pub overflow: bool,
}

/// Rounds one finite `x` to `format`, drawing the mode's random bits (one word) from `bits`.
pub fn round_f64<W: WordSource + ?Sized>(
    x: f64,
    format: Format,
    rounding: Rounding,
    bits: &mut W,
) -> Result<Rounded> {
    if !x.is_finite() {
        return Err(Error::param("value", x, "must be a finite number"));
    }
    let mut out = [0i64];
    let ev =
        Platform::Portable.quantize_f64(format.spec(rounding), format.fl(), &[x], &mut out, bits);
    Ok(Rounded {
        code: out[0],
        overflow: ev > 0,
    })
}

/// Rounds `src` to `format` into `dst` (which must be in the format's container and of the
/// same length), with the fastest kernel this CPU has. Returns the number of overflow events;
/// NaN and ±∞ are events too (NaN → 0, ±∞ → the extreme codes).
pub fn quantize<W: WordSource + ?Sized>(
    src: &[f64],
    format: Format,
    rounding: Rounding,
    dst: &mut Codes,
    bits: &mut W,
) -> Result<u64> {
    check_dst(format, dst, src.len())?;
    let p = Platform::detect();
    let spec = format.spec(rounding);
    Ok(with_codes!(dst, d => p.quantize_f64(spec, format.fl(), src, d, bits)))
}

/// Elements per kernel call of [`quantize_calls`]. The random-bit packing (`⌊64/R⌋` draws
/// per word) restarts at each call, so the call size is part of what a seed means: fixed, it
/// keeps results reproducible.
pub const CALL: usize = 1 << 14;

/// [`quantize`] in kernel calls of [`CALL`] elements: rounds `src` to `format` into `dst`
/// (the format's container, same length), drawing from `bits`, one call per `CALL` inputs.
/// Returns the number of overflow events. This is `lpmc round`'s loop and the Python
/// `quantize`'s, so the same seed gives the same codes.
pub fn quantize_calls<W: WordSource + ?Sized>(
    src: &[f64],
    format: Format,
    rounding: Rounding,
    dst: &mut Codes,
    bits: &mut W,
) -> Result<u64> {
    check_dst(format, dst, src.len())?;
    let p = Platform::detect();
    let spec = format.spec(rounding);
    Ok(with_codes!(dst, d => src
        .chunks(CALL)
        .zip(d.chunks_mut(CALL))
        .map(|(s, o)| p.quantize_f64(spec, format.fl(), s, o, &mut *bits))
        .sum()))
}

/// Where [`quantize_par`] puts the codes of each kernel call.
pub trait CodeSink: Sync {
    /// One output element (a code, a value, …).
    type Out: Send;
    /// Writes the outputs of one call's `codes` (in the format's container) into `out`, of
    /// the same length.
    fn put<O: Code>(&self, codes: &[O], out: &mut [Self::Out]);
}

/// Codes out, in the container `O` (the format's, for exact codes).
pub struct AsCodes<O>(core::marker::PhantomData<O>);

impl<O> Default for AsCodes<O> {
    fn default() -> Self {
        AsCodes(core::marker::PhantomData)
    }
}

impl<O: Code + Send + Sync> CodeSink for AsCodes<O> {
    type Out = O;
    fn put<C: Code>(&self, codes: &[C], out: &mut [O]) {
        for (o, c) in out.iter_mut().zip(codes) {
            *o = O::from_i64(c.to_i64());
        }
    }
}

/// Values out: code · Δ as `f64` (exact) or `f32` (rounded to nearest once).
pub struct AsValues<F> {
    /// Δ = 2^−FL, the value of code 1.
    pub delta: f64,
    _out: core::marker::PhantomData<F>,
}

impl<F> AsValues<F> {
    /// Values of codes with Δ = `delta`.
    pub fn new(delta: f64) -> Self {
        AsValues {
            delta,
            _out: core::marker::PhantomData,
        }
    }
}

impl CodeSink for AsValues<f64> {
    type Out = f64;
    fn put<C: Code>(&self, codes: &[C], out: &mut [f64]) {
        for (o, c) in out.iter_mut().zip(codes) {
            *o = c.to_i64() as f64 * self.delta;
        }
    }
}

impl CodeSink for AsValues<f32> {
    type Out = f32;
    fn put<C: Code>(&self, codes: &[C], out: &mut [f32]) {
        for (o, c) in out.iter_mut().zip(codes) {
            *o = (c.to_i64() as f64 * self.delta) as f32;
        }
    }
}

/// Kernel calls per batch of [`quantize_par`]: one batch's words are drawn while the previous
/// batch is rounded (64 calls = 2^20 elements, 8 MiB of words for exact `sr`).
const CALLS_PER_BATCH: usize = 64;

/// [`quantize_calls`] over rayon's pool, for finite input: rounds `src` (any float type) to
/// `format` in calls of [`CALL`] elements and hands each call's codes to `sink`, which writes
/// `out` (same length as `src`). Returns the number of overflow events.
///
/// The words of every call are those it would draw from `bits` in stream order (a call of m
/// elements takes `words_for(m, R)` words, R = [`Rounding::bits_per_f64`]): the codes, the
/// events and the state of `bits` afterwards are those of [`quantize_calls`], for any number
/// of threads. A xoshiro256++ stream is jumped to each call's first word ([`Leap`]), so every
/// call draws its own words, in parallel and in cache; any other source is drawn a batch of
/// calls ahead of the calls that replay its words. A non-finite input is an error naming the
/// first one (its index), and then `out` holds partial results.
///
/// ```
/// use lpmc::format::Format;
/// use lpmc::round::{quantize_par, AsValues, Rounding};
/// use lpmc_kernels::Xoshiro;
/// let f = Format::new(8, 4).unwrap();
/// let xs = [0.30f32, -1.0, 100.0];
/// let mut out = [0f64; 3];
/// let sink = AsValues::<f64>::new(f.delta());
/// let events = quantize_par(&xs, f, Rounding::NearestEven, &mut out, &sink, &mut Xoshiro::new(1, 0)).unwrap();
/// assert_eq!((out, events), ([0.3125, -1.0, 7.9375], 1)); // 100 saturates
/// ```
pub fn quantize_par<T, K, W>(
    src: &[T],
    format: Format,
    rounding: Rounding,
    out: &mut [K::Out],
    sink: &K,
    bits: &mut W,
) -> Result<u64>
where
    T: Copy + Into<f64> + Sync,
    K: CodeSink,
    W: WordSource + Send + ?Sized,
{
    use lpmc_kernels::bits::words_for;
    use rayon::prelude::*;
    check_len(src.len(), out.len())?;
    let r = rounding.bits_per_f64();
    let per_call = words_for(CALL, r);
    let p = Platform::detect();
    let spec = format.spec(rounding);
    let container = format.container();
    // Rounds call `k` (elements `k·CALL ..`) drawing from `words`: its events, or the error
    // of a non-finite input.
    let round_call = |k: usize, s: &[T], o: &mut [K::Out], words: &mut dyn WordSource| {
        let input: Vec<f64> = s.iter().map(|&x| x.into()).collect();
        // Branch-free, so it vectorizes; the position only when something failed.
        if !input.iter().fold(true, |ok, x| ok & x.is_finite()) {
            let i = input.iter().position(|x| !x.is_finite()).unwrap_or(0);
            return Err(Error::param(
                format!("x[{}]", k * CALL + i),
                input[i],
                "must be a finite number",
            ));
        }
        let mut codes = Codes::zeros(container, s.len());
        Ok(with_codes!(&mut codes, c => {
            let ev = p.quantize_f64(spec, format.fl(), &input, c, words);
            sink.put(c, o);
            ev
        }))
    };
    let calls = src.len().div_ceil(CALL);
    if let Some(gen) = bits.as_xoshiro() {
        // Call k starts at word k·per_call: jump there from the previous call's start.
        let mut starts = Vec::with_capacity(calls);
        let mut at = *gen;
        if calls > 1 {
            let leap = leap(per_call as u64);
            for _ in 0..calls {
                starts.push(at);
                leap.apply(&mut at);
            }
        } else {
            starts.push(at);
        }
        let results: Vec<Result<u64>> = src
            .par_chunks(CALL)
            .zip(out.par_chunks_mut(CALL))
            .zip(starts.par_iter())
            .enumerate()
            .map(|(k, ((s, o), start))| round_call(k, s, o, &mut start.clone()))
            .collect();
        // The stream ends where the last call's words end.
        if let Some(last) = starts.last() {
            *gen = *last;
            let tail = words_for(src.len() - (calls - 1) * CALL, r);
            for _ in 0..tail {
                gen.next_word();
            }
        }
        return results.into_iter().sum();
    }
    let batch = CALL * CALLS_PER_BATCH;
    let batch_words = |b: usize| {
        let m = src.len().saturating_sub(b * batch).min(batch);
        (m / CALL) * per_call + words_for(m % CALL, r)
    };
    // Rounds batch `b` from its words: its events, or the error of its first failing call
    // (a non-finite input, or a call that drew more words than it was given).
    let round_batch = |b: usize, words: &[u64], out: &mut [K::Out]| -> Result<u64> {
        let from = b * batch;
        let src = &src[from..(from + batch).min(src.len())];
        let results: Vec<Result<u64>> = src
            .par_chunks(CALL)
            .zip(out.par_chunks_mut(CALL))
            .enumerate()
            .map(|(k, (s, o))| {
                let at = k * per_call;
                let mut replay = Replay {
                    words: &words[at..at + words_for(s.len(), r)],
                    drawn: 0,
                };
                let events = round_call(b * CALLS_PER_BATCH + k, s, o, &mut replay)?;
                if replay.drawn > replay.words.len() {
                    return Err(Error::Config(format!(
                        "internal: a {rounding} kernel call drew more than words_for(n, {r}) words"
                    )));
                }
                Ok(events)
            })
            .collect();
        results.into_iter().sum()
    };
    let batches = src.len().div_ceil(batch);
    let mut words = vec![0u64; batch_words(0)];
    bits.fill(&mut words);
    let mut next = Vec::new();
    let mut events = 0;
    for (b, out) in out.chunks_mut(batch).enumerate() {
        next.resize(
            if b + 1 < batches {
                batch_words(b + 1)
            } else {
                0
            },
            0,
        );
        let (_, done) = rayon::join(|| bits.fill(&mut next), || round_batch(b, &words, out));
        events += done?;
        std::mem::swap(&mut words, &mut next);
    }
    Ok(events)
}

/// The jump of `words` xoshiro words, built once per length for the process (a few call
/// lengths occur, one per random-bit count R; each costs about a millisecond to build).
fn leap(words: u64) -> std::sync::Arc<Leap> {
    use std::sync::{Arc, Mutex, OnceLock};
    static LEAPS: OnceLock<Mutex<Vec<Arc<Leap>>>> = OnceLock::new();
    let cache = LEAPS.get_or_init(|| Mutex::new(Vec::new()));
    let mut cache = cache
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(l) = cache.iter().find(|l| l.words() == words) {
        return l.clone();
    }
    let l = Arc::new(Leap::new(words));
    cache.push(l.clone());
    l
}

/// The words of one kernel call, drawn beforehand, replayed in order (zeros past the end,
/// counted in `drawn` so that [`quantize_par`] can refuse the result).
struct Replay<'a> {
    words: &'a [u64],
    drawn: usize,
}

impl WordSource for Replay<'_> {
    fn next_word(&mut self) -> u64 {
        let w = self.words.get(self.drawn).copied().unwrap_or(0);
        self.drawn += 1;
        w
    }
}

/// Requantizes codes `src` of a format with `src_fl` fraction bits to `format` into `dst`.
/// Returns the number of overflow events.
pub fn requantize<W: WordSource + ?Sized>(
    src: &Codes,
    src_fl: u32,
    format: Format,
    rounding: Rounding,
    dst: &mut Codes,
    bits: &mut W,
) -> Result<u64> {
    check_dst(format, dst, src.len())?;
    let p = Platform::detect();
    let spec = format.spec(rounding);
    let shift = src_fl as i32 - format.fl() as i32;
    Ok(with_codes!(src, s => with_codes!(dst, d => p.requantize(spec, shift, s, d, bits))))
}

fn check_dst(format: Format, dst: &Codes, n: usize) -> Result<()> {
    if dst.container() != format.container() {
        return Err(Error::Config(format!(
            "destination holds {:?} codes but the format {format} needs {:?}",
            dst.container(),
            format.container()
        )));
    }
    check_len(n, dst.len())
}

/// `inputs` values into `outputs` places: equal, or a dimension-mismatch error.
fn check_len(inputs: usize, outputs: usize) -> Result<()> {
    if inputs != outputs {
        return Err(Error::Config(format!(
            "dimension mismatch: {inputs} inputs but {outputs} outputs"
        )));
    }
    Ok(())
}

/// What rounding one value does, in closed form.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Theory {
    /// Code below or at the value, `⌊x/Δ⌋` (before overflow).
    pub lo_code: i128,
    /// Code above or at the value, `⌈x/Δ⌉` (before overflow).
    pub hi_code: i128,
    /// Discarded fraction `f = x/Δ − ⌊x/Δ⌋ ∈ [0, 1)`, rounded toward 0 ([`fraction`]).
    pub fraction: f64,
    /// Probability that the result is the upper neighbour (before overflow).
    pub p_up: f64,
    /// Expected value of the result, overflow rule included.
    pub mean: f64,
    /// Variance of the result, overflow rule included: `p(1−p)·(v_hi − v_lo)²`, which is
    /// `Δ²·p(1−p)` away from the range edges.
    pub var: f64,
}

/// `P(up)` of `rounding` for `f64` input `y = x/Δ` (finite, `|y| < 2^126`), from the exact
/// discarded fraction `f = y − ⌊y⌋` (the kernels' rule, never `y − ⌊y⌋` rounded in `f64`).
///
/// - `sr`: `⌈f·2^53⌉/2^53` (= `f` when `|y| ≥ 1`); `sr:R`: `⌊f·2^R⌋/2^R`;
///   `src:R`: `round_half_even(f·2^R)/2^R`; deterministic modes: 0 or 1.
///
/// ```
/// use lpmc::round::{p_up, Rounding};
/// // y = −1.6·10^−19: f = 1 − 1.6·10^−19, whose top 3 bits are 111.
/// assert_eq!(p_up(Rounding::Stochastic { bits: 3 }, -1.6e-19), 0.875);
/// ```
pub fn p_up(rounding: Rounding, y: f64) -> f64 {
    use lpmc_kernels::portable::{frac_ceil_bits, frac_cmp_half, frac_floor_bits, frac_rne_bits};
    use std::cmp::Ordering;
    let exp2 = |r: u32| (1u64 << r) as f64;
    let half = frac_cmp_half(y);
    match rounding {
        Rounding::Floor => 0.0,
        Rounding::TowardZero => (y < 0.0 && y != y.floor()) as u8 as f64,
        Rounding::NearestEven => {
            (half == Ordering::Greater || (half == Ordering::Equal && (y.floor() as i128) & 1 == 1))
                as u8 as f64
        }
        Rounding::NearestAway => {
            (half == Ordering::Greater || (half == Ordering::Equal && y >= 0.0)) as u8 as f64
        }
        Rounding::StochasticExact => frac_ceil_bits(y, 53) as f64 / exp2(53),
        Rounding::Stochastic { bits } => frac_floor_bits(y, bits) as f64 / exp2(bits),
        Rounding::StochasticCorrected { bits } => frac_rne_bits(y, bits) as f64 / exp2(bits),
    }
}

/// The discarded fraction `f = y − ⌊y⌋` of a finite `y`, rounded toward 0 to `f64`: exact
/// unless `−1 < y < 0` has bits below 2^−53 (there `1 + y` is not an `f64`; rounding down
/// keeps the result below 1).
///
/// ```
/// use lpmc::round::fraction;
/// assert_eq!(fraction(-0.25), 0.75);
/// assert!(fraction(-1e-20) < 1.0);
/// ```
pub fn fraction(y: f64) -> f64 {
    let f = y - y.floor();
    // −1 < y < 0: f = 1 + y rounded to nearest; f − 1 is exact (Sterbenz, f ∈ [½, 1]) when
    // it matters, and exceeds y iff the rounding went up.
    if y < 0.0 && y > -1.0 && f - 1.0 > y {
        f.next_down()
    } else {
        f
    }
}

/// The closed form of rounding the finite value `x` to `format` with `rounding`.
///
/// ```
/// use lpmc::format::Format;
/// use lpmc::round::{theory, Rounding};
/// let t = theory(0.30, Format::new(8, 4).unwrap(), Rounding::Stochastic { bits: 2 });
/// // x/Δ = 4.8: f = 0.8, sr:2 keeps 0.75 of it.
/// assert_eq!((t.lo_code, t.hi_code, t.p_up), (4, 5, 0.75));
/// assert!((t.mean - (0.25 + 0.75 * 0.0625)).abs() < 1e-15);
/// ```
pub fn theory(x: f64, format: Format, rounding: Rounding) -> Theory {
    let y = x * (format.fl() as f64).exp2();
    let lo = y.floor() as i128;
    let hi = y.ceil() as i128;
    let p = if lo == hi { 0.0 } else { p_up(rounding, y) };
    let value = |c: i128| format.value(format.overflow().apply(c, format.wl()).0);
    let (vlo, vhi) = (value(lo), value(hi));
    Theory {
        lo_code: lo,
        hi_code: hi,
        fraction: fraction(y),
        p_up: p,
        mean: vlo + p * (vhi - vlo),
        var: p * (1.0 - p) * (vhi - vlo).powi(2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lpmc_kernels::Xoshiro;

    #[test]
    fn parallel_calls_equal_sequential_calls() {
        use crate::source::Source;
        // Two full batches, 3 full calls and a partial one, every packing count (R = 3
        // packs 21 per word, so calls end mid-word), both overflow rules, both sources
        // (xoshiro jumps to each call, LFSR words are drawn in batches); and the short
        // lengths around one call.
        let long = 2 * CALLS_PER_BATCH * CALL + 3 * CALL + 1001;
        let mut state = 12345u64;
        let all: Vec<f64> = (0..long)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 20.0
            })
            .collect();
        for n in [long, 2 * CALL, CALL + 1, CALL, 5] {
            let xs = &all[..n];
            for name in [
                "sr",
                "sr:3",
                "sr:8",
                "src:5",
                "nearest-even",
                "floor",
                "sr:32",
            ] {
                for (src, ov) in [
                    (Source::Xoshiro, Overflow::Saturate),
                    (
                        Source::Lfsr {
                            width: 32,
                            taps: None,
                        },
                        Overflow::Wrap,
                    ),
                ] {
                    let f = Format::new(8, 4).unwrap().with_overflow(ov);
                    let rounding: Rounding = name.parse().unwrap();
                    let (mut a, mut b) = (src.stream(9, 0).unwrap(), src.stream(9, 0).unwrap());
                    let mut ca = Codes::zeros(f.container(), n);
                    let ea = quantize_calls(xs, f, rounding, &mut ca, &mut a).unwrap();
                    let mut cb = vec![0i8; n];
                    let eb = quantize_par(xs, f, rounding, &mut cb, &AsCodes::default(), &mut b);
                    assert_eq!((ea, ca), (eb.unwrap(), Codes::I8(cb)), "{name}, n = {n}");
                    // A fifth of the inputs lie outside [−8, 8).
                    assert!(n < CALL || ea > 0, "{name}: the inputs overflow Q(8, 4)");
                    assert_eq!(a.next_word(), b.next_word(), "{name}, n = {n}: state after");
                }
            }
        }
    }

    #[test]
    fn parallel_calls_refuse_non_finite_input_by_index() {
        let f = Format::new(8, 4).unwrap();
        let n = CALLS_PER_BATCH * CALL + 2 * CALL + 7;
        let mut xs = vec![0.5f32; n];
        let bad = CALLS_PER_BATCH * CALL + CALL + 3;
        xs[bad] = f32::NAN;
        xs[n - 1] = f32::INFINITY;
        let mut out = vec![0f64; n];
        let sink = AsValues::<f64>::new(f.delta());
        let err = quantize_par(
            &xs,
            f,
            Rounding::NearestEven,
            &mut out,
            &sink,
            &mut Xoshiro::new(0, 0),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains(&format!("x[{bad}]")), "{err}");
        let mut short = vec![0f64; n - 1];
        assert!(quantize_par(
            &xs,
            f,
            Rounding::NearestEven,
            &mut short,
            &sink,
            &mut Xoshiro::new(0, 0)
        )
        .is_err());
    }

    #[test]
    fn requantize_checks_shapes() {
        let f = Format::new(8, 4).unwrap();
        let src = Codes::I16(vec![1, 2, 3]);
        let mut bits = Xoshiro::new(0, 0);
        let mut wrong_len = Codes::I8(vec![0; 2]);
        assert!(requantize(&src, 8, f, Rounding::Floor, &mut wrong_len, &mut bits).is_err());
        let mut wrong_kind = Codes::I16(vec![0; 3]);
        assert!(requantize(&src, 8, f, Rounding::Floor, &mut wrong_kind, &mut bits).is_err());
        let mut ok = Codes::I8(vec![0; 3]);
        assert_eq!(
            requantize(&src, 4, f, Rounding::Floor, &mut ok, &mut bits).unwrap(),
            0
        );
        assert_eq!(ok, Codes::I8(vec![1, 2, 3]));
    }
}
