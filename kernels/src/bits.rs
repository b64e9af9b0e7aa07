//! Random-bit sources and the rule by which kernels take bits from them.
//!
//! # Words
//! Every source is a sequence of 64-bit words ([`WordSource`]). Two sources exist:
//! - [`XoshiroLanes`], the default: eight xoshiro256++ generators ("lanes") stepped in
//!   lockstep; word `j` of the stream is the `⌊j/8⌋`-th output of lane `j mod 8`. The order is
//!   part of the semantics, so a kernel that steps all lanes at once with SIMD and one that steps
//!   them one at a time produce the same words.
//! - [`Lfsr`], a Galois linear-feedback shift register of configurable width and taps, the
//!   cheapest source silicon has; a word is 64 successive output bits, first bit in bit 0.
//!
//! # Stream derivation
//! A stream is named by `(seed, stream)` and nothing else (a chain index, a shard number, ...).
//! Lane `l` (0..8) of stream `(seed, stream)` starts from the xoshiro256++ state
//! `s[i] = mix64(k + (i + 1)·φ)` for `i = 0..4`, where
//! `k = mix64(mix64(mix64(seed) ^ stream) ^ l)`, `φ = 0x9E37_79B9_7F4A_7C15` and `mix64` is the
//! SplitMix64 output function ([`mix64`]). That is, the lane state is the first four outputs of
//! a SplitMix64 generator seeded with `k` — the seeding that xoshiro's authors recommend.
//!
//! # Packing (which bits an element consumes)
//! A kernel that needs `R` bits per element (`1 ≤ R ≤ 64`) takes `p = ⌊64/R⌋` elements from
//! each word: element `i` of the call uses word `⌊i/p⌋` of the words the call draws, bits
//! `[(i mod p)·R, (i mod p)·R + R)` (bit 0 the least significant). A call on `n` elements draws
//! exactly `⌈n/p⌉` words, in order; unused high bits of a word are dropped. `R = 0` draws
//! nothing. [`words_for`] gives the count; [`unpack`] applies the rule.

/// A source of uniformly distributed 64-bit words.
pub trait WordSource {
    /// The next word of the stream.
    fn next_word(&mut self) -> u64;

    /// Fills `out` with the next `out.len()` words, in stream order.
    fn fill(&mut self, out: &mut [u64]) {
        for w in out {
            *w = self.next_word();
        }
    }

    /// [`fill`](Self::fill) on behalf of a kernel running on `platform`: the same words, drawn
    /// with that platform's SIMD where the source has a SIMD step ([`XoshiroLanes`] does).
    #[inline]
    fn fill_on(&mut self, platform: crate::Platform, out: &mut [u64]) {
        let _ = platform;
        self.fill(out)
    }
}

impl<S: WordSource + ?Sized> WordSource for &mut S {
    fn next_word(&mut self) -> u64 {
        (**self).next_word()
    }
    #[inline]
    fn fill(&mut self, out: &mut [u64]) {
        (**self).fill(out)
    }
    #[inline]
    fn fill_on(&mut self, platform: crate::Platform, out: &mut [u64]) {
        (**self).fill_on(platform, out)
    }
}

/// Golden-ratio increment of SplitMix64.
pub const PHI: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 output function (Stafford's "mix13"): a bijection on `u64` with good
/// avalanche, used to derive stream states.
#[inline]
pub const fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Number of lanes of [`XoshiroLanes`].
pub const LANES: usize = 8;

/// Eight xoshiro256++ generators stepped in lockstep (see the [module docs](self) for the word
/// order and the stream derivation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XoshiroLanes {
    // Structure of arrays: s[i][l] is state word i of lane l.
    s: [[u64; LANES]; 4],
    next: usize,
}

impl XoshiroLanes {
    /// The stream `(seed, stream)`.
    ///
    /// ```
    /// use lpmc_kernels::{WordSource, XoshiroLanes};
    /// let mut a = XoshiroLanes::new(7, 0);
    /// let mut b = XoshiroLanes::new(7, 0);
    /// assert_eq!(a.next_word(), b.next_word());
    /// assert_ne!(XoshiroLanes::new(7, 1).next_word(), XoshiroLanes::new(7, 0).next_word());
    /// ```
    pub fn new(seed: u64, stream: u64) -> Self {
        let base = mix64(mix64(seed) ^ stream);
        let mut states = [[0u64; 4]; LANES];
        for (l, st) in states.iter_mut().enumerate() {
            let k = mix64(base ^ l as u64);
            for (i, w) in st.iter_mut().enumerate() {
                *w = mix64(k.wrapping_add((i as u64 + 1).wrapping_mul(PHI)));
            }
        }
        Self::from_lane_states(states)
    }

    /// A stream from explicit lane states (`states[l]` is `[s0, s1, s2, s3]` of lane `l`, as in
    /// the reference C code). No state may be all zero.
    pub fn from_lane_states(states: [[u64; 4]; LANES]) -> Self {
        let mut s = [[0u64; LANES]; 4];
        for (l, st) in states.iter().enumerate() {
            assert!(
                st.iter().any(|&w| w != 0),
                "xoshiro256++ state must not be all zero"
            );
            for i in 0..4 {
                s[i][l] = st[i];
            }
        }
        XoshiroLanes { s, next: 0 }
    }

    /// The current lane states, in the layout [`XoshiroLanes::from_lane_states`] takes
    /// (`[l]` is `[s0, s1, s2, s3]` of lane `l`); with the position within the round
    /// (`next`) not included, so this names the stream only at a round boundary.
    pub fn lane_states(&self) -> [[u64; 4]; LANES] {
        std::array::from_fn(|l| [self.s[0][l], self.s[1][l], self.s[2][l], self.s[3][l]])
    }

    /// Steps lane `l` once and returns its output (reference xoshiro256++).
    #[inline(always)]
    fn step_lane(&mut self, l: usize) -> u64 {
        let [s0, s1, s2, s3] = &mut self.s;
        let result = s0[l]
            .wrapping_add(s3[l])
            .rotate_left(23)
            .wrapping_add(s0[l]);
        let t = s1[l] << 17;
        s2[l] ^= s0[l];
        s3[l] ^= s1[l];
        s1[l] ^= s2[l];
        s0[l] ^= s3[l];
        s2[l] ^= t;
        s3[l] = s3[l].rotate_left(45);
        result
    }

    /// Steps all lanes once, writing lane `l`'s output to `out[l]`. Requires `next == 0`.
    #[inline(always)]
    fn step_all(&mut self, out: &mut [u64; LANES]) {
        let [s0, s1, s2, s3] = &mut self.s;
        for l in 0..LANES {
            out[l] = s0[l]
                .wrapping_add(s3[l])
                .rotate_left(23)
                .wrapping_add(s0[l]);
            let t = s1[l] << 17;
            s2[l] ^= s0[l];
            s3[l] ^= s1[l];
            s1[l] ^= s2[l];
            s0[l] ^= s3[l];
            s2[l] ^= t;
            s3[l] = s3[l].rotate_left(45);
        }
    }
}

impl WordSource for XoshiroLanes {
    #[inline]
    fn next_word(&mut self) -> u64 {
        let w = self.step_lane(self.next);
        self.next = (self.next + 1) % LANES;
        w
    }

    #[inline]
    fn fill(&mut self, out: &mut [u64]) {
        self.fill_on(crate::Platform::Portable, out)
    }

    /// Words up to the next lane-0 boundary one at a time, then whole rounds of all eight
    /// lanes with `platform`'s SIMD step (AVX2: two 4×64-bit vectors per state word;
    /// AVX-512: one 8×64-bit vector), then the tail one at a time. Same words on every
    /// platform: the round order is the documented word order.
    #[inline]
    fn fill_on(&mut self, platform: crate::Platform, out: &mut [u64]) {
        let mut i = 0;
        while i < out.len() && self.next != 0 {
            out[i] = self.next_word();
            i += 1;
        }
        let whole = (out.len() - i) / LANES * LANES;
        let (body, tail) = out[i..].split_at_mut(whole);
        match platform {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: an `Avx2` value is only handed out by `Platform::avx2()`, which checked
            // support.
            crate::Platform::Avx2 => unsafe { crate::x86::avx2::xoshiro_rounds(&mut self.s, body) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: an `Avx512` value is only handed out by `Platform::avx512()`, which
            // checked support.
            crate::Platform::Avx512 => unsafe {
                crate::x86::avx512::xoshiro_rounds(&mut self.s, body)
            },
            _ => {
                for b in body.chunks_exact_mut(LANES) {
                    self.step_all(b.try_into().expect("chunk of LANES words"));
                }
            }
        }
        for w in tail {
            *w = self.next_word();
        }
    }
}

/// Maximal-length Galois taps for the widths that have a default (see [`Lfsr::default_taps`]).
///
/// Bit `b` of a mask stands for the term `x^(b+1)` of the feedback polynomial
/// `x^w + … + 1`; each of these polynomials is primitive (the tests prove it), so the register
/// visits all `2^w − 1` non-zero states.
const DEFAULT_TAPS: [(u32, u64); 9] = [
    (3, 0x6),
    (4, 0xC),
    (5, 0x14),
    (7, 0x60),
    (8, 0xB8),
    (12, 0xE08),
    (16, 0xB400),
    (32, 0x8020_0003),
    (64, 0xD800_0000_0000_0000),
];

/// Why an LFSR could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LfsrError(pub String);

impl core::fmt::Display for LfsrError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LfsrError {}

/// A Galois linear-feedback shift register of `width` bits.
///
/// One step: `out = s & 1; s >>= 1; if out == 1 { s ^= taps }`; the output bit is `out`.
/// A word ([`WordSource::next_word`]) is 64 steps, the first output in bit 0. With
/// maximal-length taps the state sequence has period `2^width − 1`.
///
/// ```
/// use lpmc_kernels::Lfsr;
/// let mut r = Lfsr::new(4, Lfsr::default_taps(4).unwrap(), 1).unwrap();
/// let start = r.state();
/// let period = (1..).find(|_| { r.step(); r.state() == start }).unwrap();
/// assert_eq!(period, 15);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lfsr {
    width: u32,
    taps: u64,
    state: u64,
}

impl Lfsr {
    /// The default maximal-length taps for `width` (3, 4, 5, 7, 8, 12, 16, 32, 64), if any.
    pub fn default_taps(width: u32) -> Option<u64> {
        DEFAULT_TAPS
            .iter()
            .find(|(w, _)| *w == width)
            .map(|&(_, t)| t)
    }

    /// A register of `width` bits (2..=64) with feedback mask `taps` (its bit `width − 1` must
    /// be set and no bit above it) and initial state derived from `seed`: `mix64(seed)` masked
    /// to `width` bits, or 1 if that is zero.
    pub fn new(width: u32, taps: u64, seed: u64) -> Result<Self, LfsrError> {
        if !(2..=64).contains(&width) {
            return Err(LfsrError(format!(
                "LFSR width must be in 2..=64, got {width}"
            )));
        }
        let mask = if width == 64 {
            u64::MAX
        } else {
            (1u64 << width) - 1
        };
        if taps & !mask != 0 || taps >> (width - 1) & 1 == 0 {
            return Err(LfsrError(format!(
                "LFSR taps {taps:#x} must have bit {} set and no bit at or above bit {width}",
                width - 1
            )));
        }
        let mut state = mix64(seed) & mask;
        if state == 0 {
            state = 1;
        }
        Ok(Lfsr { width, taps, state })
    }

    /// The stream `(seed, stream)` with the default taps of `width`: the initial state is
    /// derived from `mix64(mix64(seed) ^ stream)`.
    pub fn stream(width: u32, seed: u64, stream: u64) -> Result<Self, LfsrError> {
        let taps = Self::default_taps(width).ok_or_else(|| {
            LfsrError(format!(
                "no default LFSR taps for width {width}: widths with defaults are {}",
                DEFAULT_TAPS.map(|(w, _)| w.to_string()).join(", ")
            ))
        })?;
        Self::new(width, taps, mix64(seed) ^ stream)
    }

    /// Register width in bits.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Feedback mask.
    pub fn taps(&self) -> u64 {
        self.taps
    }

    /// Current state (never zero).
    pub fn state(&self) -> u64 {
        self.state
    }

    /// One step; returns the output bit (0 or 1).
    #[inline]
    pub fn step(&mut self) -> u64 {
        let out = self.state & 1;
        self.state = (self.state >> 1) ^ (self.taps & out.wrapping_neg());
        out
    }
}

impl WordSource for Lfsr {
    fn next_word(&mut self) -> u64 {
        let mut w = 0;
        for b in 0..64 {
            w |= self.step() << b;
        }
        w
    }
}

/// Words a call on `n` elements with `bits` random bits each draws (see the packing rule in
/// the [module docs](self)).
#[inline]
pub const fn words_for(n: usize, bits: u32) -> usize {
    match 64u32.checked_div(bits) {
        None => 0,
        Some(per) => n.div_ceil(per as usize),
    }
}

/// The `bits` random bits of element `i` of a call, taken from the call's `words` by the
/// packing rule. `bits` must be in 1..=64.
#[inline(always)]
pub fn unpack(words: &[u64], i: usize, bits: u32) -> u64 {
    let per = (64 / bits) as usize;
    let w = words[i / per];
    let sh = (i % per) as u32 * bits;
    if bits == 64 {
        w
    } else {
        (w >> sh) & ((1u64 << bits) - 1)
    }
}
