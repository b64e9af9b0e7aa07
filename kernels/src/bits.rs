//! Random-bit sources and the rules by which kernels take bits from them.
//!
//! # Words
//! Every source is a sequence of 64-bit words ([`WordSource`]). Two sources exist:
//! - [`Xoshiro`], the default: one xoshiro256++ generator per stream (32 bytes of state);
//!   word `j` of the stream is its `j`-th output.
//! - [`Lfsr`], a Galois linear-feedback shift register of configurable width and taps, the
//!   cheapest source silicon has; a word is 64 successive output bits, first bit in bit 0.
//!
//! # Stream derivation
//! A stream is named by `(seed, stream)` and nothing else (a chain index, a shard number, ...).
//! The xoshiro256++ state of stream `(seed, stream)` is `s[i] = mix64(k + (i + 1)·φ)` for
//! `i = 0..4`, where `k = mix64(mix64(seed) ^ stream)`, `φ = 0x9E37_79B9_7F4A_7C15` and `mix64`
//! is the SplitMix64 output function ([`mix64`]): the first four outputs of a SplitMix64
//! generator seeded with `k`, the seeding xoshiro's authors recommend.
//!
//! # Packing (which bits an element of a call consumes)
//! A call of [`crate::Platform::requantize`] or [`crate::Platform::quantize_f64`] that needs
//! `R` bits per element (`1 ≤ R ≤ 64`) takes `p = ⌊64/R⌋` elements from each word: element `i`
//! of the call uses word `⌊i/p⌋` of the words the call draws, bits `[(i mod p)·R, (i mod p)·R + R)`
//! (bit 0 the least significant). A call on `n` elements draws exactly `⌈n/p⌉` words, in order;
//! unused high bits of a word are dropped. `R = 0` draws nothing. [`words_for`] gives the
//! count; [`unpack`] applies the rule. A sampler step packs its regions by the rule of
//! [`crate::layout`].

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

    /// The stream as a xoshiro256++ generator, if it is one (the lockstep kernels step many
    /// such generators side by side with SIMD); `None` otherwise (the default).
    fn as_xoshiro(&mut self) -> Option<&mut Xoshiro> {
        None
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
    fn as_xoshiro(&mut self) -> Option<&mut Xoshiro> {
        (**self).as_xoshiro()
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

/// One xoshiro256++ generator: the stream of [`Xoshiro::new`] (see the [module docs](self)
/// for the derivation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Xoshiro {
    s: [u64; 4],
}

impl Xoshiro {
    /// The stream `(seed, stream)`.
    ///
    /// ```
    /// use lpmc_kernels::{WordSource, Xoshiro};
    /// let mut a = Xoshiro::new(7, 0);
    /// let mut b = Xoshiro::new(7, 0);
    /// assert_eq!(a.next_word(), b.next_word());
    /// assert_ne!(Xoshiro::new(7, 1).next_word(), Xoshiro::new(7, 0).next_word());
    /// ```
    pub fn new(seed: u64, stream: u64) -> Self {
        let k = mix64(mix64(seed) ^ stream);
        let s = core::array::from_fn(|i| mix64(k.wrapping_add((i as u64 + 1).wrapping_mul(PHI))));
        Self::from_state(s)
    }

    /// A generator from an explicit state `[s0, s1, s2, s3]` (as in the reference C code),
    /// which must not be all zero.
    ///
    /// # Panics
    /// If every word of `s` is zero.
    pub fn from_state(s: [u64; 4]) -> Self {
        assert!(
            s.iter().any(|&w| w != 0),
            "xoshiro256++ state must not be all zero"
        );
        Xoshiro { s }
    }

    /// The current state `[s0, s1, s2, s3]`: the next output is `rotl(s0 + s3, 23) + s0`.
    pub fn state(&self) -> [u64; 4] {
        self.s
    }

    /// One step of xoshiro256++ on state words `s`; returns the output.
    #[inline(always)]
    pub(crate) fn step(s: &mut [u64; 4]) -> u64 {
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }
}

impl WordSource for Xoshiro {
    #[inline]
    fn next_word(&mut self) -> u64 {
        Xoshiro::step(&mut self.s)
    }

    #[inline]
    fn fill(&mut self, out: &mut [u64]) {
        let mut s = self.s;
        for w in out {
            *w = Xoshiro::step(&mut s);
        }
        self.s = s;
    }

    fn as_xoshiro(&mut self) -> Option<&mut Xoshiro> {
        Some(self)
    }
}

/// A jump `k` words ahead in any xoshiro256++ stream: the `k`-th power of the generator's
/// state transition.
///
/// The transition (`t = s1 << 17; s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t;
/// s3 = rotl(s3, 45)`) is linear over GF(2) in the 256 state bits (only the output
/// `rotl(s0 + s3, 23) + s0` is not), so it is a 256 × 256 bit matrix `T`, held here as its 256
/// columns `T^k·e_j`. A jumped generator's next word is word `k` of the stream, exactly: it
/// lets a caller start many pieces of one stream at once, each at its own offset, with the bits
/// of drawing them in order. [`Leap::new`] costs about `2·log2 k` matrix products (each 2^18
/// word operations, ≈ 0.1 ms); [`Leap::apply`] 1024.
///
/// ```
/// use lpmc_kernels::{bits::Leap, WordSource, Xoshiro};
/// let mut walked = Xoshiro::new(3, 1);
/// let mut jumped = walked;
/// for _ in 0..1000 {
///     walked.next_word();
/// }
/// Leap::new(1000).apply(&mut jumped);
/// assert_eq!(jumped, walked);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leap {
    /// Column `j`: the image of state bit `j` (bit `j % 64` of word `j / 64`).
    columns: [[u64; 4]; 256],
    /// The jump, in words.
    words: u64,
}

impl Leap {
    /// The jump of `words` words (0: the identity).
    pub fn new(words: u64) -> Self {
        let unit = |j: usize| {
            let mut s = [0u64; 4];
            s[j / 64] = 1 << (j % 64);
            s
        };
        let mut power = Leap {
            columns: core::array::from_fn(|j| {
                let mut s = unit(j);
                Xoshiro::step(&mut s);
                s
            }),
            words: 1,
        };
        let mut jump = Leap {
            columns: core::array::from_fn(unit),
            words: 0,
        };
        // Square and multiply: `power` runs through T^(2^i), `jump` collects the set bits.
        let mut rest = words;
        while rest > 0 {
            if rest & 1 == 1 {
                jump = power.after(&jump);
            }
            rest >>= 1;
            if rest > 0 {
                power = power.after(&power);
            }
        }
        jump
    }

    /// The jump's length, in words.
    pub fn words(&self) -> u64 {
        self.words
    }

    /// Moves `gen` forward by [`Leap::words`] words, as that many `next_word` calls would.
    pub fn apply(&self, gen: &mut Xoshiro) {
        gen.s = self.image(gen.s);
    }

    /// `M·s`: the XOR of the columns of the set bits of `s`.
    fn image(&self, s: [u64; 4]) -> [u64; 4] {
        let mut out = [0u64; 4];
        for (j, col) in self.columns.iter().enumerate() {
            let take = 0u64.wrapping_sub((s[j / 64] >> (j % 64)) & 1);
            for (o, c) in out.iter_mut().zip(col) {
                *o ^= c & take;
            }
        }
        out
    }

    /// `self ∘ first`: the jump of `first` then `self`.
    fn after(&self, first: &Leap) -> Leap {
        Leap {
            columns: core::array::from_fn(|j| self.image(first.columns[j])),
            words: self.words + first.words,
        }
    }
}

/// Generators stepped side by side: state word `i` of generator `j` at `s[i][j]`, so one
/// round ([`XoshiroSet::round`]) computes output `t` of every generator with SIMD lanes. The
/// outputs are those of each [`Xoshiro`] alone.
#[derive(Clone, Debug)]
pub struct XoshiroSet<const N: usize> {
    s: [[u64; N]; 4],
}

impl<const N: usize> XoshiroSet<N> {
    /// Generators `gens[j]` in slot `j`; slots beyond `gens.len()` get a fixed non-zero state
    /// whose outputs are never used.
    pub fn load(gens: &[Xoshiro]) -> Self {
        assert!(gens.len() <= N, "XoshiroSet: more generators than slots");
        let mut s = [[1u64; N]; 4];
        for (j, g) in gens.iter().enumerate() {
            for (row, &w) in s.iter_mut().zip(&g.s) {
                row[j] = w;
            }
        }
        XoshiroSet { s }
    }

    /// Writes the states back to `gens` (slot `j` to `gens[j]`).
    pub fn store(&self, gens: &mut [Xoshiro]) {
        for (j, g) in gens.iter_mut().enumerate() {
            for i in 0..4 {
                g.s[i] = self.s[i][j];
            }
        }
    }

    /// One output of every generator: `out[j]` is generator `j`'s next word.
    #[inline(always)]
    pub fn round(&mut self, out: &mut [u64; N]) {
        let [s0, s1, s2, s3] = &mut self.s;
        for j in 0..N {
            out[j] = s0[j]
                .wrapping_add(s3[j])
                .rotate_left(23)
                .wrapping_add(s0[j]);
            let t = s1[j] << 17;
            s2[j] ^= s0[j];
            s3[j] ^= s1[j];
            s1[j] ^= s2[j];
            s0[j] ^= s3[j];
            s2[j] ^= t;
            s3[j] = s3[j].rotate_left(45);
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
