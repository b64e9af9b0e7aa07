//! Lanes: the number types the rules compute in, and the rounding and overflow rules written
//! as branch-free lane code.
//!
//! A rule ([`crate::rules`]) is written once, generic over its lane:
//! - integer lanes [`i32`], [`i64`], [`i128`] for the integer datapath: exact products and
//!   sums of codes, aligned by shifts ([`Arith::align`]), the accumulator's overflow rule
//!   ([`Ov`]) and the requantization ([`Rq`]). The scalar reference computes in `i128`, where
//!   every sum the formats allow is exact; the fast paths use `i32` (16 lanes per 512-bit
//!   vector) or `i64` when the bounds of the step ([`crate::rules::Step::lane_width`]) prove
//!   that every intermediate fits, so all three give the same codes.
//! - [`f64`] for the float datapath: the same sums as `f64` arithmetic, in the same order
//!   (alignment and accumulator overflow are the identity there).
//!
//! The rounding of an `f64` to a code ([`RoundF64`]) is the lane form of
//! [`crate::portable::round_f64`].

use crate::portable::{f64_up_in, rounding_bits, small_int_to_i64};
use crate::{Overflow, Rounding};
use core::fmt::Debug;
use core::ops::{Add, AddAssign, BitAnd, Mul, Shl, Shr, Sub};

/// A fixed-point format as the kernels see it: word length, fraction length, overflow rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fmt {
    /// Word length in bits, sign included (2..=64; stored quantities ≤ 32).
    pub wl: u32,
    /// Fraction length in bits (0..=62).
    pub fl: u32,
    /// What happens to codes outside `wl` bits.
    pub overflow: Overflow,
}

impl Fmt {
    /// Largest magnitude of a code, `2^(wl−1)`.
    pub fn max_code(self) -> u128 {
        1u128 << (self.wl.clamp(1, 100) - 1)
    }

    /// Δ = 2^−fl.
    pub fn delta(self) -> f64 {
        pow2(-(self.fl as i32))
    }
}

/// 2^e as an `f64`, exact for `−1022 ≤ e ≤ 1023`.
#[inline(always)]
pub fn pow2(e: i32) -> f64 {
    f64::from_bits(((1023 + e) as u64) << 52)
}

/// A code with `from` fraction bits expressed with `to` fraction bits: exact when `to ≥ from`
/// (shift capped at 126), otherwise truncated toward −∞ (the accumulator drops bits below its
/// LSB). The `i128` definition the lane form [`Arith::align`] follows.
///
/// ```
/// use lpmc_kernels::lane::align;
/// assert_eq!(align(5, 2, 4), 20);
/// assert_eq!(align(-5, 4, 2), -2);
/// ```
#[inline]
pub fn align(v: i128, from: u32, to: u32) -> i128 {
    if to >= from {
        v << (to - from).min(126)
    } else {
        let s = from - to;
        if s >= 127 {
            if v < 0 {
                -1
            } else {
                0
            }
        } else {
            v >> s
        }
    }
}

/// The alignment of a term from `from` to `to` fraction bits in `bits`-bit lanes: a left
/// shift `l` or a floor right shift `r` (capped at `bits − 1`, the floor of every value).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shift {
    /// Exact left shift.
    pub l: u32,
    /// Floor right shift.
    pub r: u32,
}

impl Shift {
    /// No alignment.
    pub const NONE: Shift = Shift { l: 0, r: 0 };

    /// From `from` to `to` fraction bits in lanes of `bits` bits.
    pub fn new(from: u32, to: u32, bits: u32) -> Self {
        if to >= from {
            Shift {
                l: (to - from).min(bits - 1),
                r: 0,
            }
        } else {
            Shift {
                l: 0,
                r: (from - to).min(bits - 1),
            }
        }
    }
}

/// The arithmetic a rule is written in: integer lanes or `f64` (see the [module docs](self)).
pub trait Arith:
    Copy + Debug + Default + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self>
{
    /// Lane width in bits (`f64`: 64).
    const BITS: u32;
    /// The term aligned to the accumulator: `(v << l) >> r` in integers, `v` in `f64`.
    fn align(self, s: Shift) -> Self;
    /// The accumulator's overflow rule: `(value, event)`; `f64` never overflows.
    fn overflow(self, ov: &Ov<Self>) -> (Self, bool);
    /// `v` in the lane (an `i64` code or integer coefficient; `f64`: its value as a number).
    fn of(v: i64) -> Self;
    /// An `f64` coefficient in the lane (`f64` lanes; integer lanes truncate, and no integer
    /// rule takes one).
    fn of_f64(v: f64) -> Self;
    /// The lane as an `f64` (integers: the nearest `f64`).
    fn to_f64(self) -> f64;
    /// The value of the lane as a code with `fl` fraction bits (`f64` lanes hold values
    /// already and return themselves).
    fn value(self, fl: u32) -> f64;
    /// A code with `fl` fraction bits in the lane: integer lanes hold the code, `f64` lanes
    /// its value.
    fn from_code(c: i64, fl: u32) -> Self;
}

/// An integer lane type (see the [module docs](self)). `U` is its unsigned twin, used for
/// random bits and the discarded bits of a rounding.
pub trait Lane:
    Arith + Ord + Shl<u32, Output = Self> + Shr<u32, Output = Self> + BitAnd<Output = Self>
{
    /// The unsigned lane of the same width.
    type U: Copy
        + Debug
        + Default
        + Ord
        + Add<Output = Self::U>
        + AddAssign
        + Shl<u32, Output = Self::U>
        + Shr<u32, Output = Self::U>
        + BitAnd<Output = Self::U>;
    /// 1.
    const ONE: Self;
    /// The lane's value as `i64` (callers pass values that fit).
    fn wide(self) -> i64;
    /// The lane as `i128`.
    fn wider(self) -> i128;
    /// `v` truncated to the lane (callers pass values that fit).
    fn of128(v: i128) -> Self;
    /// The lane's bits as unsigned.
    fn ubits(self) -> Self::U;
    /// Unsigned bits as a signed lane (callers pass values below `2^(BITS−1)`).
    fn signed(u: Self::U) -> Self;
    /// `v` truncated to the unsigned lane.
    fn u(v: u64) -> Self::U;
    /// `v` truncated to the unsigned lane (masks of `i128` lanes need more than 64 bits).
    fn uw(v: u128) -> Self::U;
    /// `b` as 0 or 1.
    fn flag(b: bool) -> Self::U;
}

macro_rules! int_lane {
    ($s:ty, $u:ty) => {
        impl Arith for $s {
            const BITS: u32 = <$s>::BITS;
            #[inline(always)]
            fn align(self, s: Shift) -> Self {
                (self << s.l) >> s.r
            }
            #[inline(always)]
            fn overflow(self, ov: &Ov<Self>) -> (Self, bool) {
                ov.apply(self)
            }
            #[inline(always)]
            fn of(v: i64) -> Self {
                v as $s
            }
            #[inline(always)]
            fn of_f64(v: f64) -> Self {
                v as $s
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn value(self, fl: u32) -> f64 {
                self as f64 * pow2(-(fl as i32))
            }
            #[inline(always)]
            fn from_code(c: i64, _: u32) -> Self {
                c as $s
            }
        }
        impl Lane for $s {
            type U = $u;
            const ONE: Self = 1;
            #[inline(always)]
            fn wide(self) -> i64 {
                self as i64
            }
            #[inline(always)]
            fn wider(self) -> i128 {
                self as i128
            }
            #[inline(always)]
            fn of128(v: i128) -> Self {
                v as $s
            }
            #[inline(always)]
            fn ubits(self) -> $u {
                self as $u
            }
            #[inline(always)]
            fn signed(u: $u) -> Self {
                u as $s
            }
            #[inline(always)]
            fn u(v: u64) -> $u {
                v as $u
            }
            #[inline(always)]
            fn uw(v: u128) -> $u {
                v as $u
            }
            #[inline(always)]
            fn flag(b: bool) -> $u {
                b as $u
            }
        }
    };
}
int_lane!(i32, u32);
int_lane!(i64, u64);
int_lane!(i128, u128);

impl Arith for f64 {
    const BITS: u32 = 64;
    #[inline(always)]
    fn align(self, _: Shift) -> Self {
        self
    }
    #[inline(always)]
    fn overflow(self, _: &Ov<Self>) -> (Self, bool) {
        (self, false)
    }
    #[inline(always)]
    fn of(v: i64) -> Self {
        v as f64
    }
    #[inline(always)]
    fn of_f64(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn value(self, _: u32) -> f64 {
        self
    }
    #[inline(always)]
    fn from_code(c: i64, fl: u32) -> Self {
        c as f64 * pow2(-(fl as i32))
    }
}

/// The rounding mode as a const generic: 0 floor, 1 toward-zero, 2 nearest-even,
/// 3 nearest-away, 4 sr:R, 5 sr (exact), 6 src:R.
pub fn mode_id(r: Rounding) -> u8 {
    match r {
        Rounding::Floor => 0,
        Rounding::TowardZero => 1,
        Rounding::NearestEven => 2,
        Rounding::NearestAway => 3,
        Rounding::Stochastic { .. } => 4,
        Rounding::StochasticExact => 5,
        Rounding::StochasticCorrected { .. } => 6,
    }
}

/// The mode id of nearest-even (noise conversions).
pub const NEAREST_EVEN: u8 = 2;

/// `$body` with the const `$M` set to the mode id `$mode` (see [`mode_id`]): one copy of
/// `$body` per mode. Only element loops are wrapped in it, so that the code around them is
/// compiled once and not once per mode.
macro_rules! with_mode {
    ($mode:expr, $M:ident => $body:expr) => {
        match $mode {
            0 => {
                const $M: u8 = 0;
                $body
            }
            1 => {
                const $M: u8 = 1;
                $body
            }
            2 => {
                const $M: u8 = 2;
                $body
            }
            3 => {
                const $M: u8 = 3;
                $body
            }
            4 => {
                const $M: u8 = 4;
                $body
            }
            5 => {
                const $M: u8 = 5;
                $body
            }
            _ => {
                const $M: u8 = 6;
                $body
            }
        }
    };
}
pub(crate) use with_mode;

/// One rounding (before overflow) of codes by a fixed shift, as branch-free lane code: the
/// lane form of [`crate::portable::round_code`].
///
/// Same results as `round_code` for codes `k` whose magnitude, and for `s ≤ 0` whose shifted
/// value `|k|·2^−s`, stays below `2^(BITS−2)`, with `s ≤ BITS − 2` and at most `BITS − 2`
/// random bits (the lane-width bounds of [`crate::rules::Step::lane_width`] guarantee it): the
/// discarded bits `d < 2^s`, the carry sums `top_R(d) + u`, `rne_R(d) + u` (`< 2^(R+1)`) and
/// `d + u` (`< 2^(s+1)`) then fit the unsigned lane, and `⌊k/2^s⌋ + 1` fits.
#[derive(Clone, Copy, Debug)]
pub struct Rq<L: Lane> {
    /// max(s, 1): the shift used by the rounding formulas.
    s: u32,
    /// max(−s, 0): the exact left shift when nothing is discarded.
    left: u32,
    /// s ≤ 0: no rounding, the result is `k << left`.
    exact: bool,
    mask: L::U,
    half: L::U,
    /// R (random bits of sr:R / src:R).
    r: u32,
    /// `top_R(d) = (d >> a) << b`.
    a: u32,
    b: u32,
    /// src:R with R < s: round d to R bits (ties to even) first.
    rne: bool,
    rmask: L::U,
    rhalf: L::U,
}

impl<L: Lane> Rq<L> {
    /// Rounding by `shift` bits (`shift ≤ BITS − 2`) with `rounding`.
    pub fn new(shift: i32, rounding: Rounding) -> Self {
        let s = shift.max(1) as u32;
        let r = match rounding {
            Rounding::Stochastic { bits } | Rounding::StochasticCorrected { bits } => bits,
            _ => 0,
        };
        let a = s.saturating_sub(r);
        let rne = matches!(rounding, Rounding::StochasticCorrected { .. }) && r < s;
        let low = |n: u32| -> u128 {
            if n == 0 {
                0
            } else {
                (1u128 << n.min(127)) - 1
            }
        };
        Rq {
            s,
            left: (-shift).max(0) as u32,
            exact: shift <= 0,
            mask: L::uw(low(s)),
            half: L::uw(1u128 << (s - 1)),
            r,
            a,
            b: r.saturating_sub(s),
            rne,
            rmask: L::uw(low(a)),
            rhalf: L::uw(if a >= 1 { 1u128 << (a - 1) } else { 0 }),
        }
    }

    /// `k` rounded with `u` random bits, mode `M` (see [`mode_id`]).
    #[inline(always)]
    pub fn round<const M: u8>(&self, k: L, u: L::U) -> L {
        let s = self.s;
        let d = k.ubits() & self.mask;
        let fl = k >> s;
        let z = L::U::default();
        let up: L::U = match M {
            0 => z,
            1 => L::flag((k < L::default()) & (d != z)),
            2 => L::flag((d > self.half) | ((d == self.half) & (fl & L::ONE == L::ONE))),
            3 => L::flag((d > self.half) | ((d == self.half) & (k >= L::default()))),
            4 => (((d >> self.a) << self.b) + u) >> self.r,
            5 => (d + u) >> s,
            _ => {
                let plain = (d >> self.a) << self.b;
                let q = d >> self.a;
                let rem = d & self.rmask;
                let one = L::flag(true);
                let t = q + L::flag((rem > self.rhalf) | ((rem == self.rhalf) & (q & one == one)));
                let t = if self.rne { t } else { plain };
                (t + u) >> self.r
            }
        };
        let rounded = fl + L::signed(up);
        if self.exact {
            k << self.left
        } else {
            rounded
        }
    }
}

/// An overflow rule as branch-free lane code: `(result, event)`. A format at least as wide as
/// the lane gets the lane's own range (the lane-width bounds keep every value inside it).
#[derive(Clone, Copy, Debug)]
pub struct Ov<L> {
    wrap: bool,
    sh: u32,
    min: L,
    max: L,
}

impl<L: Arith> Ov<L> {
    /// The rule of format `f` in lanes `L`.
    pub fn new(f: Fmt) -> Self {
        let wl = f.wl.min(L::BITS).clamp(2, 64);
        let max = ((1u64 << (wl - 1)) - 1) as i64;
        Ov {
            wrap: f.overflow == Overflow::Wrap,
            sh: L::BITS - wl,
            min: L::of(-max - 1),
            max: L::of(max),
        }
    }
}

impl<L: Lane> Ov<L> {
    /// `q` brought into the format: `(code, event)`.
    #[inline(always)]
    pub fn apply(&self, q: L) -> (L, bool) {
        let w = (q << self.sh) >> self.sh;
        let c = q.max(self.min).min(self.max);
        let out = if self.wrap { w } else { c };
        (out, out != q)
    }
}

/// From this magnitude (in units of Δ) on, an `f64` takes [`crate::portable::round_f64`]'s own
/// path: `2^51`, below which [`small_int_to_i64`] converts the rounded value and its `+1` exactly.
const LANE_LIMIT: f64 = 2_251_799_813_685_248.0;

/// The rounding of an `f64` to a code of `fl` fraction bits and its overflow rule, as
/// branch-free `f64`/`i64` lane code: the lane form of
/// [`crate::portable::quantize_f64_one`] for finite values with `|x·2^fl| < 2^51`; other
/// values (NaN, ±∞, huge) are flagged by [`RoundF64::special`] and the caller redoes them
/// with the reference.
#[derive(Clone, Copy, Debug)]
pub struct RoundF64 {
    scale: f64,
    r: u32,
    wrap: bool,
    sh: u32,
    min: i64,
    max: i64,
}

impl RoundF64 {
    /// Rounding to format `f` with `rounding` (its `R` for `sr:R` / `src:R`).
    pub fn new(f: Fmt, rounding: Rounding) -> Self {
        let wl = f.wl.clamp(2, 64);
        let max = ((1u64 << (wl - 1)) - 1) as i64;
        RoundF64 {
            scale: pow2(f.fl as i32),
            r: rounding_bits(rounding),
            wrap: f.overflow == Overflow::Wrap,
            sh: 64 - wl,
            min: -max - 1,
            max,
        }
    }

    /// Whether `x` needs the reference path (NaN, ±∞ or `|x·2^fl| ≥ 2^51`).
    #[inline(always)]
    pub fn special(&self, x: f64) -> bool {
        // NaN compares false: special too.
        (x * self.scale).abs().partial_cmp(&LANE_LIMIT) != Some(core::cmp::Ordering::Less)
    }

    /// `x` rounded with random bits `u` in mode `M` (the reference's own decision,
    /// [`crate::portable::round_f64`]'s exact fraction parts), then the overflow rule:
    /// `(code, event)`. Exact for values that are not [`RoundF64::special`] (those give code 0 here).
    #[inline(always)]
    pub fn round<const M: u8>(&self, x: f64, u: u64) -> (i64, bool) {
        let y = x * self.scale;
        let y = if y.abs() < LANE_LIMIT { y } else { 0.0 };
        let floor = y.floor();
        let q = small_int_to_i64(floor) + f64_up_in::<M>(y, floor, self.r, u) as i64;
        let c = if self.wrap {
            (q << self.sh) >> self.sh
        } else {
            q.max(self.min).min(self.max)
        };
        (c, c != q)
    }
}

/// `i64` codes into lanes (`f64` lanes get the codes as numbers; use [`from_codes_f64`] for
/// values).
#[inline(always)]
pub fn from_codes_i64<L: Arith>(c: &[i64], out: &mut [L]) {
    for (o, &v) in out.iter_mut().zip(c) {
        *o = L::of(v);
    }
}

/// The values `c·2^−fl` of codes.
#[inline(always)]
pub fn from_codes_f64(c: &[i64], fl: u32, out: &mut [f64]) {
    let s = pow2(-(fl as i32));
    for (o, &v) in out.iter_mut().zip(c) {
        *o = v as f64 * s;
    }
}
