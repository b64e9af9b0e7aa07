//! Fixed-point number formats: word length, fraction length, overflow rule, and the typed
//! storage that holds their codes.
//!
//! A [`Format`] is signed two's complement with word length WL (sign bit included) and
//! fraction length FL: code `k ∈ [−2^(WL−1), 2^(WL−1) − 1]` stands for the value `k·2^−FL`,
//! Δ = 2^−FL. FL may exceed WL (a pure-fraction range). Codes live in the smallest of
//! `i8`/`i16`/`i32`/`i64` that holds WL bits ([`Container`]), which is bit-for-bit the `fixed`
//! crate's `FixedI8/16/32/64<FL>` ([`with_fixed`] gives the typed view); a WL narrower than its
//! container is enforced by the overflow rule, so a 6-bit format has exactly 64 codes.

use crate::error::{Error, Result};
use lpmc_kernels::{Code, Overflow, Rounding, Spec};
use serde::{Deserialize, Serialize};

/// Largest fraction length.
pub const MAX_FL: u32 = 62;
/// Largest word length of a stored quantity (parameter, momentum, gradient, coefficient).
pub const MAX_STORED_WL: u32 = 32;
/// Largest word length of an accumulator.
pub const MAX_WL: u32 = 64;
/// Smallest word length (a sign bit and one more).
pub const MIN_WL: u32 = 2;

/// A signed fixed-point format: WL bits in all (2..=64), FL of them fractional (0..=62), and
/// the overflow rule applied after rounding.
///
/// ```
/// use lpmc::format::Format;
/// let f = Format::new(8, 4).unwrap();
/// assert_eq!((f.min_code(), f.max_code()), (-128, 127));
/// assert_eq!((f.min_value(), f.max_value(), f.delta()), (-8.0, 7.9375, 0.0625));
/// assert!(Format::new(0, 4).is_err() && Format::new(8, 63).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "FormatFields", into = "FormatFields")]
pub struct Format {
    wl: u32,
    fl: u32,
    overflow: Overflow,
}

/// The serialized form of a [`Format`]: `{"wl": 8, "fl": 4, "overflow": "saturate"}`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FormatFields {
    wl: i64,
    fl: i64,
    #[serde(default)]
    overflow: Overflow,
}

impl TryFrom<FormatFields> for Format {
    type Error = Error;
    fn try_from(f: FormatFields) -> Result<Self> {
        Ok(Format::from_i64(f.wl, f.fl)?.with_overflow(f.overflow))
    }
}

impl From<Format> for FormatFields {
    fn from(f: Format) -> Self {
        FormatFields {
            wl: f.wl.into(),
            fl: f.fl.into(),
            overflow: f.overflow,
        }
    }
}

impl Format {
    /// A saturating format with `wl` bits (2..=64) and `fl` fraction bits (0..=62).
    pub fn new(wl: u32, fl: u32) -> Result<Self> {
        Self::from_i64(wl.into(), fl.into())
    }

    /// [`Format::new`] from any integers, so that a negative or huge user value is reported
    /// as it was given.
    pub fn from_i64(wl: i64, fl: i64) -> Result<Self> {
        if !(MIN_WL as i64..=MAX_WL as i64).contains(&wl) {
            return Err(Error::WordLength {
                wl,
                what: "a format",
                min: MIN_WL,
                max: MAX_WL,
            });
        }
        if !(0..=MAX_FL as i64).contains(&fl) {
            return Err(Error::FractionLength(fl));
        }
        Ok(Format {
            wl: wl as u32,
            fl: fl as u32,
            overflow: Overflow::Saturate,
        })
    }

    /// The same format with another overflow rule.
    pub fn with_overflow(self, overflow: Overflow) -> Self {
        Format { overflow, ..self }
    }

    /// Checks that the format fits a stored quantity (WL ≤ 32); `what` names it in the error.
    pub fn check_stored(self, what: &'static str) -> Result<Self> {
        if self.wl > MAX_STORED_WL {
            return Err(Error::WordLength {
                wl: self.wl.into(),
                what,
                min: MIN_WL,
                max: MAX_STORED_WL,
            });
        }
        Ok(self)
    }

    /// Word length in bits, sign included.
    pub fn wl(self) -> u32 {
        self.wl
    }

    /// Fraction length in bits.
    pub fn fl(self) -> u32 {
        self.fl
    }

    /// Overflow rule.
    pub fn overflow(self) -> Overflow {
        self.overflow
    }

    /// Grid step Δ = 2^−FL.
    pub fn delta(self) -> f64 {
        // 2^−FL built from its exponent bits: exact and free (FL ≤ 62 keeps it normal).
        f64::from_bits(((1023 - self.fl) as u64) << 52)
    }

    /// Smallest code, −2^(WL−1).
    pub fn min_code(self) -> i64 {
        (-1i64) << (self.wl - 1)
    }

    /// Largest code, 2^(WL−1) − 1.
    pub fn max_code(self) -> i64 {
        (((1u64 << (self.wl - 1)) - 1) as i64).max(0)
    }

    /// Smallest value, −2^(WL−1)·Δ.
    pub fn min_value(self) -> f64 {
        self.value(self.min_code())
    }

    /// Largest value, (2^(WL−1) − 1)·Δ.
    pub fn max_value(self) -> f64 {
        self.value(self.max_code())
    }

    /// The value of a code, `k·Δ` (exact for `|k| < 2^53`).
    pub fn value(self, code: i64) -> f64 {
        code as f64 * self.delta()
    }

    /// The smallest container that holds WL bits.
    pub fn container(self) -> Container {
        Container::for_wl(self.wl)
    }

    /// The kernel spec that rounds to this format with `rounding`.
    pub fn spec(self, rounding: Rounding) -> Spec {
        Spec {
            wl: self.wl,
            rounding,
            overflow: self.overflow,
        }
    }

    /// Number of codes, 2^WL.
    pub fn codes(self) -> u128 {
        1u128 << self.wl
    }
}

impl std::fmt::Display for Format {
    /// `Q<WL>.<FL>` style: `wl=8 fl=4 saturate`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "wl={} fl={} {}", self.wl, self.fl, self.overflow)
    }
}

/// The integer type a format's codes are stored in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Container {
    /// `i8` (`FixedI8`), WL ≤ 8.
    I8,
    /// `i16` (`FixedI16`), WL ≤ 16.
    I16,
    /// `i32` (`FixedI32`), WL ≤ 32.
    I32,
    /// `i64` (`FixedI64`), WL ≤ 64.
    I64,
}

impl Container {
    /// The smallest container for `wl` bits.
    pub fn for_wl(wl: u32) -> Self {
        match wl {
            0..=8 => Container::I8,
            9..=16 => Container::I16,
            17..=32 => Container::I32,
            _ => Container::I64,
        }
    }

    /// Width in bits.
    pub fn bits(self) -> u32 {
        match self {
            Container::I8 => 8,
            Container::I16 => 16,
            Container::I32 => 32,
            Container::I64 => 64,
        }
    }
}

/// A vector of codes in the container of their format — the storage the kernels work on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Codes {
    /// Codes of a format with WL ≤ 8.
    I8(Vec<i8>),
    /// Codes of a format with WL ≤ 16.
    I16(Vec<i16>),
    /// Codes of a format with WL ≤ 32.
    I32(Vec<i32>),
    /// Codes of a format with WL ≤ 64.
    I64(Vec<i64>),
}

/// Runs `$body` with `$v` bound to the `Vec` inside a [`Codes`], whatever its container.
#[macro_export]
macro_rules! with_codes {
    ($codes:expr, $v:ident => $body:expr) => {
        match $codes {
            $crate::format::Codes::I8($v) => $body,
            $crate::format::Codes::I16($v) => $body,
            $crate::format::Codes::I32($v) => $body,
            $crate::format::Codes::I64($v) => $body,
        }
    };
}

impl Codes {
    /// `n` zero codes in `container`.
    pub fn zeros(container: Container, n: usize) -> Self {
        match container {
            Container::I8 => Codes::I8(vec![0; n]),
            Container::I16 => Codes::I16(vec![0; n]),
            Container::I32 => Codes::I32(vec![0; n]),
            Container::I64 => Codes::I64(vec![0; n]),
        }
    }

    /// Number of codes.
    pub fn len(&self) -> usize {
        with_codes!(self, v => v.len())
    }

    /// Whether there are no codes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Code `i`, sign-extended.
    pub fn get(&self, i: usize) -> i64 {
        with_codes!(self, v => v[i].to_i64())
    }

    /// Sets code `i` to the low bits of `c`.
    pub fn set(&mut self, i: usize, c: i64) {
        with_codes!(self, v => v[i] = lpmc_kernels::Code::from_i64(c))
    }

    /// The codes as a slice tagged with its container, as the kernels take them.
    pub fn slice_mut(&mut self) -> lpmc_kernels::CodeSliceMut<'_> {
        with_codes!(self, v => lpmc_kernels::Code::slice_mut(&mut v[..]))
    }

    /// Codes `range` as a tagged slice.
    pub fn range_mut(&mut self, range: std::ops::Range<usize>) -> lpmc_kernels::CodeSliceMut<'_> {
        with_codes!(self, v => lpmc_kernels::Code::slice_mut(&mut v[range]))
    }

    /// All codes, sign-extended.
    pub fn to_i64(&self) -> Vec<i64> {
        with_codes!(self, v => v.iter().map(|c| c.to_i64()).collect())
    }

    /// The container.
    pub fn container(&self) -> Container {
        match self {
            Codes::I8(_) => Container::I8,
            Codes::I16(_) => Container::I16,
            Codes::I32(_) => Container::I32,
            Codes::I64(_) => Container::I64,
        }
    }
}

/// Something done with a concrete `fixed` type; see [`with_fixed`].
pub trait FixedVisitor {
    /// What the visit returns.
    type Out;
    /// Called with `F` = the `fixed` type of the format (e.g. `FixedI8<U4>` for WL = 8, FL = 4).
    fn visit<F: fixed::traits::FixedSigned>(self) -> Self::Out;
}

/// The one dispatch point from a runtime (container, FL) to the `fixed` crate's type.
///
/// Returns `None` when FL exceeds the container's width (e.g. WL = 8, FL = 10: legal in lpmc,
/// but `fixed` has no `FixedI8<U10>`); such formats are handled on raw codes only.
///
/// ```
/// use lpmc::format::{with_fixed, FixedVisitor, Format};
/// struct Name;
/// impl FixedVisitor for Name {
///     type Out = String;
///     fn visit<F: fixed::traits::FixedSigned>(self) -> String {
///         format!("{} integer + {} fraction bits", F::INT_NBITS, F::FRAC_NBITS)
///     }
/// }
/// let f = Format::new(6, 4).unwrap();
/// assert_eq!(with_fixed(f, Name).unwrap(), "4 integer + 4 fraction bits"); // FixedI8<U4>
/// ```
pub fn with_fixed<V: FixedVisitor>(format: Format, v: V) -> Option<V::Out> {
    use fixed::types::extra::*;
    use fixed::{FixedI16, FixedI32, FixedI64, FixedI8};
    macro_rules! arms {
        ($($c:ident $t:ident [$($n:literal $u:ident)*])*) => {
            match (format.container(), format.fl()) {
                $($( (Container::$c, $n) => Some(v.visit::<$t<$u>>()), )*)*
                _ => None,
            }
        };
    }
    arms! {
        I8 FixedI8 [0 U0 1 U1 2 U2 3 U3 4 U4 5 U5 6 U6 7 U7 8 U8]
        I16 FixedI16 [0 U0 1 U1 2 U2 3 U3 4 U4 5 U5 6 U6 7 U7 8 U8 9 U9 10 U10 11 U11 12 U12
            13 U13 14 U14 15 U15 16 U16]
        I32 FixedI32 [0 U0 1 U1 2 U2 3 U3 4 U4 5 U5 6 U6 7 U7 8 U8 9 U9 10 U10 11 U11 12 U12
            13 U13 14 U14 15 U15 16 U16 17 U17 18 U18 19 U19 20 U20 21 U21 22 U22 23 U23 24 U24
            25 U25 26 U26 27 U27 28 U28 29 U29 30 U30 31 U31 32 U32]
        I64 FixedI64 [0 U0 1 U1 2 U2 3 U3 4 U4 5 U5 6 U6 7 U7 8 U8 9 U9 10 U10 11 U11 12 U12
            13 U13 14 U14 15 U15 16 U16 17 U17 18 U18 19 U19 20 U20 21 U21 22 U22 23 U23 24 U24
            25 U25 26 U26 27 U27 28 U28 29 U29 30 U30 31 U31 32 U32 33 U33 34 U34 35 U35 36 U36
            37 U37 38 U38 39 U39 40 U40 41 U41 42 U42 43 U43 44 U44 45 U45 46 U46 47 U47 48 U48
            49 U49 50 U50 51 U51 52 U52 53 U53 54 U54 55 U55 56 U56 57 U57 58 U58 59 U59 60 U60
            61 U61 62 U62]
    }
}

/// The exact decimal value of a code of `format` as the `fixed` crate prints it (e.g. `"0.3125"`), or `None` when no
/// `fixed` type exists for the format (see [`with_fixed`]).
pub fn fixed_text(format: Format, code: i64) -> Option<String> {
    struct Text(i64);
    impl FixedVisitor for Text {
        type Out = Option<String>;
        fn visit<F: fixed::traits::FixedSigned>(self) -> Option<String> {
            let bits = F::Bits::try_from(self.0).ok()?;
            // Δ = 2^−FL has exactly FL decimal digits, so FL digits print the exact value.
            Some(format!("{:.*}", F::FRAC_NBITS as usize, F::from_bits(bits)))
        }
    }
    with_fixed(format, Text(code)).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_for_every_wl_fl() {
        for wl in MIN_WL..=MAX_WL {
            for fl in 0..=MAX_FL {
                let f = Format::new(wl, fl).unwrap();
                assert_eq!(
                    f.max_code() as i128 - f.min_code() as i128 + 1,
                    f.codes() as i128
                );
                assert_eq!(f.min_value(), -(2f64.powi(wl as i32 - 1 - fl as i32)));
                assert!(f.container().bits() >= wl);
                assert_eq!(f.delta(), 2f64.powi(-(fl as i32)));
            }
        }
        assert!(Format::from_i64(1, 0).is_err());
        assert!(Format::from_i64(65, 0).is_err());
        assert!(Format::from_i64(8, -1).is_err());
        assert!(Format::from_i64(8, 63).is_err());
        assert!(Format::new(40, 4).unwrap().check_stored("param").is_err());
        assert!(Format::new(32, 4).unwrap().check_stored("param").is_ok());
    }

    #[test]
    fn fixed_types_cover_the_container() {
        for wl in MIN_WL..=MAX_WL {
            for fl in 0..=MAX_FL {
                let f = Format::new(wl, fl).unwrap();
                let text = fixed_text(f, -1);
                assert_eq!(
                    text.is_some(),
                    fl <= f.container().bits(),
                    "wl={wl} fl={fl}"
                );
                if let Some(t) = text {
                    assert_eq!(t.parse::<f64>().unwrap(), -f.delta(), "wl={wl} fl={fl}");
                }
            }
        }
    }

    #[test]
    fn serde_form() {
        let f: Format = serde_json::from_str(r#"{"wl": 6, "fl": 2, "overflow": "wrap"}"#).unwrap();
        assert_eq!(f, Format::new(6, 2).unwrap().with_overflow(Overflow::Wrap));
        let back: Format = serde_json::from_str(&serde_json::to_string(&f).unwrap()).unwrap();
        assert_eq!(back, f);
        for bad in [
            r#"{"wl": 0, "fl": 2}"#,
            r#"{"wl": 8, "fl": 63}"#,
            r#"{"wl": 8, "fl": 2, "bits": 3}"#,
            r#"{"wl": 8, "fl": 2, "overflow": "clamp"}"#,
        ] {
            let e = serde_json::from_str::<Format>(bad).unwrap_err().to_string();
            assert!(!e.is_empty());
        }
    }
}
