//! Rounding and overflow modes: the exact semantics every kernel implements.
//!
//! A *rounding* takes a value with more fraction bits than the target format (a wide integer
//! code, or an `f64`) to an integer code of the target format; the *overflow rule* then brings
//! that code into the format's word length. Rounding first, then overflow.
//!
//! Throughout, `y` is the input expressed in units of the target's Δ = 2^−FL, `⌊y⌋` its floor
//! (two's complement truncation) and `f = y − ⌊y⌋ ∈ [0, 1)` the discarded fraction.

use core::fmt;
use core::str::FromStr;

/// Largest `R` accepted by [`Rounding::Stochastic`] and [`Rounding::StochasticCorrected`].
pub const MAX_RANDOM_BITS: u32 = 32;

/// Random bits one element consumes when an `f64` is rounded by [`Rounding::StochasticExact`].
pub const F64_EXACT_BITS: u32 = 53;

/// How a value between two grid points is brought onto the grid.
///
/// | mode | result (in units of Δ) | random bits per element |
/// |---|---|---|
/// | `NearestEven` | nearest, ties to the even code | 0 |
/// | `NearestAway` | nearest, ties away from zero | 0 |
/// | `Floor` | `⌊y⌋` (two's complement truncation) | 0 |
/// | `TowardZero` | `⌊y⌋` for `y ≥ 0`, `⌈y⌉` for `y < 0` | 0 |
/// | `Stochastic { bits: R }` | `⌊y⌋ + ((⌊f·2^R⌋ + u) >> R)`, `u` uniform on `R` bits | `R` |
/// | `StochasticExact` | `⌊y⌋ + 1` with probability `f` (all discarded bits compared) | discarded bits (integer input, 0 if none), 53 (`f64` input) |
/// | `StochasticCorrected { bits: R }` | `⌊y⌋ + ((t + u) >> R)`, `t = round_half_even(f·2^R) ∈ [0, 2^R]` | `R` |
///
/// `Stochastic { bits: R }` is the hardware unit: keep the `R` most significant discarded bits,
/// add `R` random bits, let the carry into the kept LSB decide, drop the rest. Its
/// `P(up) = ⌊f·2^R⌋/2^R`, biased towards −∞ by less than 2^−R of a step; `R = 0` is truncation.
/// `StochasticCorrected` rounds the fraction to `R` bits (ties to even) before comparing, so
/// its bias is at most 2^−(R+1) of a step. For `f64` input `StochasticExact` draws 53 bits `u`
/// and rounds up iff `u < f·2^53`: `P(up) = ⌈f·2^53⌉/2^53`, which equals `f` whenever
/// `|y| ≥ 1` (then `f` is a multiple of 2^−53).
///
/// Text form (parsing and display): `nearest-even`, `nearest-away`, `floor`, `toward-zero`,
/// `sr`, `sr:R`, `src:R`.
///
/// ```
/// use lpmc_kernels::Rounding;
/// let r: Rounding = "sr:6".parse().unwrap();
/// assert_eq!(r, Rounding::Stochastic { bits: 6 });
/// assert_eq!(r.to_string(), "sr:6");
/// assert!("sr:99".parse::<Rounding>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rounding {
    /// Round to nearest, ties to even (IEEE default).
    NearestEven,
    /// Round to nearest, ties away from zero.
    NearestAway,
    /// Round toward −∞: two's complement truncation of the discarded bits.
    Floor,
    /// Round toward zero.
    TowardZero,
    /// Hardware stochastic rounding with `bits` random bits (0..=32).
    Stochastic {
        /// Number of random bits `R` added to the `R` most significant discarded bits.
        bits: u32,
    },
    /// Exact stochastic rounding: `P(up)` equals the discarded fraction.
    StochasticExact,
    /// Stochastic rounding of the fraction rounded to `bits` bits (ties to even), 0..=32.
    StochasticCorrected {
        /// Number of random bits `R`; the fraction is first rounded to `R` bits.
        bits: u32,
    },
}

impl Rounding {
    /// Whether the mode consumes random bits at all.
    pub fn is_stochastic(self) -> bool {
        matches!(
            self,
            Rounding::Stochastic { .. }
                | Rounding::StochasticExact
                | Rounding::StochasticCorrected { .. }
        )
    }

    /// Random bits one element consumes when a code with `discarded` more fraction bits than
    /// the target is requantized (`discarded ≤ 0` means no bits are dropped).
    ///
    /// The count depends only on the mode and the shift, never on the data.
    pub fn bits_per_code(self, discarded: i32) -> u32 {
        match self {
            Rounding::Stochastic { bits } | Rounding::StochasticCorrected { bits } => bits,
            Rounding::StochasticExact => discarded.max(0) as u32,
            _ => 0,
        }
    }

    /// Random bits one element consumes when an `f64` is rounded.
    pub fn bits_per_f64(self) -> u32 {
        match self {
            Rounding::Stochastic { bits } | Rounding::StochasticCorrected { bits } => bits,
            Rounding::StochasticExact => F64_EXACT_BITS,
            _ => 0,
        }
    }

    /// The exact probability that [`crate::portable::round_code`] rounds a code up, given its
    /// `s` discarded bits `d` (`0 ≤ d < 2^s`, `1 ≤ s ≤ 63`), the floor `⌊y⌋ = k >> s` being
    /// odd (`floor_odd`, used by `NearestEven`) and the code negative (`negative`, used by
    /// `NearestAway` and `TowardZero`): the fraction of the `2^bits_per_code(s)` random words
    /// for which the result is `⌊y⌋ + 1`.
    ///
    /// `Floor` 0; `TowardZero` 1 iff negative and `d ≠ 0`; nearest modes 0 or 1 (ties by
    /// parity / sign); `Stochastic { R }` `top_R(d)/2^R`; `StochasticExact` `d/2^s`;
    /// `StochasticCorrected { R }` `rne_R(d)/2^R`. Every value is a dyadic rational, exact in
    /// `f64` for `s ≤ 53` (beyond, `d/2^s` is rounded once).
    ///
    /// ```
    /// use lpmc_kernels::Rounding;
    /// // .1011 (11/16) with sr:2 keeps the bits 10: P(up) = 2/4.
    /// assert_eq!(Rounding::Stochastic { bits: 2 }.p_up_code(0b1011, 4, false, false), 0.5);
    /// assert_eq!(Rounding::StochasticExact.p_up_code(0b1011, 4, false, false), 11.0 / 16.0);
    /// // src:2 rounds .1011 to .11 first: 3/4.
    /// assert_eq!(Rounding::StochasticCorrected { bits: 2 }.p_up_code(0b1011, 4, false, false), 0.75);
    /// assert_eq!(Rounding::NearestEven.p_up_code(0b1000, 4, true, false), 1.0);
    /// ```
    pub fn p_up_code(self, d: u64, s: u32, floor_odd: bool, negative: bool) -> f64 {
        let half = 1u64 << (s - 1);
        let frac = |num: u64, r: u32| num as f64 / (r as f64).exp2();
        match self {
            Rounding::Floor => 0.0,
            Rounding::TowardZero => (negative && d != 0) as u8 as f64,
            Rounding::NearestEven => (d > half || (d == half && floor_odd)) as u8 as f64,
            Rounding::NearestAway => (d > half || (d == half && !negative)) as u8 as f64,
            Rounding::Stochastic { bits } => frac(crate::portable::top_bits(d, s, bits), bits),
            Rounding::StochasticExact => frac(d, s),
            Rounding::StochasticCorrected { bits } => {
                frac(crate::portable::rne_bits(d, s, bits), bits)
            }
        }
    }

    /// The exact probability that [`crate::portable::round_f64`] rounds up an `f64` whose
    /// value in units of the target's Δ is `y` (finite, `|y| < 2^126`): with `f = y − ⌊y⌋`
    /// (exact), `StochasticExact` gives `⌈f·2^53⌉/2^53` (it draws 53 bits `u` and rounds up
    /// iff `u < f·2^53`), `Stochastic { R }` `⌊f·2^R⌋/2^R`, `StochasticCorrected { R }`
    /// `round_half_even(f·2^R)/2^R`, deterministic modes 0 or 1 as `round_f64` decides.
    ///
    /// ```
    /// use lpmc_kernels::Rounding;
    /// assert_eq!(Rounding::Stochastic { bits: 1 }.p_up_f64(4.8), 0.5);
    /// assert_eq!(Rounding::StochasticExact.p_up_f64(4.75), 0.75);
    /// assert_eq!(Rounding::TowardZero.p_up_f64(-4.8), 1.0);
    /// assert_eq!(Rounding::NearestEven.p_up_f64(4.5), 0.0);
    /// ```
    pub fn p_up_f64(self, y: f64) -> f64 {
        use crate::portable::{frac_ceil_bits, frac_cmp_half, frac_floor_bits, frac_rne_bits};
        use core::cmp::Ordering;
        let floor = y.floor();
        let pow = |r: u32| (r as f64).exp2();
        let half = frac_cmp_half(y);
        match self {
            Rounding::Floor => 0.0,
            Rounding::TowardZero => (y < 0.0 && y != floor) as u8 as f64,
            Rounding::NearestEven => {
                (half == Ordering::Greater || (half == Ordering::Equal && (floor as i128) & 1 == 1))
                    as u8 as f64
            }
            Rounding::NearestAway => {
                (half == Ordering::Greater || (half == Ordering::Equal && y >= 0.0)) as u8 as f64
            }
            Rounding::Stochastic { bits } => frac_floor_bits(y, bits) as f64 / pow(bits),
            Rounding::StochasticExact => frac_ceil_bits(y, 53) as f64 / pow(53),
            Rounding::StochasticCorrected { bits } => frac_rne_bits(y, bits) as f64 / pow(bits),
        }
    }
}

impl fmt::Display for Rounding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rounding::NearestEven => f.write_str("nearest-even"),
            Rounding::NearestAway => f.write_str("nearest-away"),
            Rounding::Floor => f.write_str("floor"),
            Rounding::TowardZero => f.write_str("toward-zero"),
            Rounding::Stochastic { bits } => write!(f, "sr:{bits}"),
            Rounding::StochasticExact => f.write_str("sr"),
            Rounding::StochasticCorrected { bits } => write!(f, "src:{bits}"),
        }
    }
}

/// Why a rounding or overflow name did not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseModeError(pub String);

impl fmt::Display for ParseModeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseModeError {}

impl FromStr for Rounding {
    type Err = ParseModeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parse_bits = |name: &str, r: &str| -> Result<u32, ParseModeError> {
            match r.parse::<u32>() {
                Ok(b) if b <= MAX_RANDOM_BITS => Ok(b),
                _ => Err(ParseModeError(format!(
                    "rounding `{s}`: the number of random bits in `{name}:R` must be an integer in 0..={MAX_RANDOM_BITS}, got `{r}`"
                ))),
            }
        };
        match s {
            "nearest-even" | "nearest" | "rne" => Ok(Rounding::NearestEven),
            "nearest-away" => Ok(Rounding::NearestAway),
            "floor" | "truncate" => Ok(Rounding::Floor),
            "toward-zero" => Ok(Rounding::TowardZero),
            "sr" | "stochastic" => Ok(Rounding::StochasticExact),
            _ => {
                if let Some(r) = s.strip_prefix("sr:") {
                    Ok(Rounding::Stochastic {
                        bits: parse_bits("sr", r)?,
                    })
                } else if let Some(r) = s.strip_prefix("src:") {
                    Ok(Rounding::StochasticCorrected {
                        bits: parse_bits("src", r)?,
                    })
                } else {
                    Err(ParseModeError(format!(
                        "unknown rounding `{s}`: expected one of nearest-even, nearest-away, floor, toward-zero, sr, sr:R, src:R (R in 0..={MAX_RANDOM_BITS})"
                    )))
                }
            }
        }
    }
}

/// What happens to a rounded code outside the word length's range
/// `[−2^(WL−1), 2^(WL−1) − 1]`.
///
/// ```
/// use lpmc_kernels::Overflow;
/// assert_eq!(Overflow::Saturate.apply(130, 8), (127, true));
/// assert_eq!(Overflow::Wrap.apply(130, 8), (-126, true));
/// assert_eq!(Overflow::Wrap.apply(-5, 8), (-5, false));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Overflow {
    /// Clamp to the nearest representable code (QPyTorch's behaviour).
    #[default]
    Saturate,
    /// Keep the low WL bits, two's complement (most silicon).
    Wrap,
}

impl Overflow {
    /// Brings `code` into `wl` bits (`2 ≤ wl ≤ 64`); returns the result and whether it changed
    /// (an overflow *event*).
    #[inline]
    pub fn apply(self, code: i128, wl: u32) -> (i64, bool) {
        let max = (1i128 << (wl - 1)) - 1;
        let min = -(1i128 << (wl - 1));
        let out = match self {
            Overflow::Saturate => code.clamp(min, max),
            Overflow::Wrap => (code << (128 - wl)) >> (128 - wl),
        };
        (out as i64, out != code)
    }
}

impl fmt::Display for Overflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Overflow::Saturate => "saturate",
            Overflow::Wrap => "wrap",
        })
    }
}

impl FromStr for Overflow {
    type Err = ParseModeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "saturate" => Ok(Overflow::Saturate),
            "wrap" => Ok(Overflow::Wrap),
            _ => Err(ParseModeError(format!(
                "unknown overflow rule `{s}`: expected `saturate` or `wrap`"
            ))),
        }
    }
}

#[cfg(feature = "serde")]
mod serde_text {
    //! Rounding and overflow modes serialize as their text form.
    use super::{Overflow, Rounding};

    macro_rules! via_text {
        ($t:ty) => {
            impl serde::Serialize for $t {
                fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                    s.collect_str(self)
                }
            }
            impl<'de> serde::Deserialize<'de> for $t {
                fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                    text.parse().map_err(serde::de::Error::custom)
                }
            }
        };
    }
    via_text!(Rounding);
    via_text!(Overflow);
}
