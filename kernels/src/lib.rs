//! # lpmc-kernels
//!
//! The hot integer kernels of lpmc and the random-bit sources they draw from. No allocation,
//! no I/O; the kernels take formats as runtime word lengths and shifts.
//!
//! Layout, after `blake3`:
//! - [`mode`]: the exact semantics of every rounding and overflow mode;
//! - [`bits`]: random-bit sources ([`Xoshiro`], [`Lfsr`]) and the packing rule of the
//!   slice kernels; [`layout`]: where a sampler step's random fields are;
//! - [`lane`]: the lane types the rules compute in, and rounding and overflow as lane code;
//! - [`rules`]: the update rule of each sampler, written once and generic over the lane, and
//!   the description of a step ([`rules::Step`]);
//! - [`drivers`]: run any rule — one chain × many coordinates ([`drivers::chain`]), many
//!   chains in lockstep ([`drivers::lockstep`]), and the scalar reference
//!   ([`drivers::reference`]);
//! - [`noise`]: Gaussian noise generators (`f64` Box–Muller, fixed-point CLT and table);
//! - [`portable`]: the scalar rounding definitions and slice kernels — obviously correct,
//!   element by element; [`chunked`]: their blockwise, branch-free fast path;
//! - `x86::avx2`, `x86::avx512`: the fast paths compiled for AVX2 / AVX-512, written by one
//!   macro;
//! - [`platform`]: the one place that chooses a path ([`Platform::detect`]).
//!
//! Every fast path is tested bit-identical to the reference on random inputs and odd lengths
//! (`kernels/tests/kernels/`).
//!
//! ```
//! use lpmc_kernels::{Overflow, Platform, Rounding, Spec, Xoshiro};
//! // i16 codes with 8 fraction bits -> 8-bit codes with 4 fraction bits, hardware SR with 8 bits.
//! let spec = Spec { wl: 8, rounding: Rounding::Stochastic { bits: 8 }, overflow: Overflow::Saturate };
//! let src = [0x0180i16, -0x0008, 0x7fff];
//! let mut dst = [0i8; 3];
//! let mut bits = Xoshiro::new(1, 0);
//! let events = Platform::detect().requantize(spec, 4, &src, &mut dst, &mut bits);
//! assert_eq!(dst[0], 0x18);              // 1.5 is on the grid: no rounding
//! assert!(dst[1] == -1 || dst[1] == 0);  // -1/32 lies between -1/16 and 0
//! assert_eq!((dst[2], events), (127, 1)); // 127.99 saturates to 7.9375
//! ```

#![deny(missing_docs)]

/// `match` on a [`CodeSlice`]: `$body` with `$v` bound to the typed slice, for each container.
macro_rules! with_slice {
    ($s:expr, $v:ident => $body:expr) => {
        match $s {
            $crate::CodeSlice::I8($v) => $body,
            $crate::CodeSlice::I16($v) => $body,
            $crate::CodeSlice::I32($v) => $body,
            $crate::CodeSlice::I64($v) => $body,
        }
    };
}

/// [`with_slice!`] for a [`CodeSliceMut`].
macro_rules! with_slice_mut {
    ($s:expr, $v:ident => $body:expr) => {
        match $s {
            $crate::CodeSliceMut::I8($v) => $body,
            $crate::CodeSliceMut::I16($v) => $body,
            $crate::CodeSliceMut::I32($v) => $body,
            $crate::CodeSliceMut::I64($v) => $body,
        }
    };
}

pub mod bits;
pub mod chunked;
pub mod drivers;
pub mod lane;
pub mod layout;
pub mod mode;
pub mod noise;
pub mod platform;
pub mod portable;
pub mod rules;
#[cfg(target_arch = "x86_64")]
mod x86;

pub use bits::{Lfsr, LfsrError, WordSource, Xoshiro};
pub use mode::{Overflow, ParseModeError, Rounding};
pub use platform::Platform;

/// What a kernel rounds to: the target word length, the rounding and the overflow rule.
///
/// `wl` is in `2..=64` and at most the bit width of the destination container; the kernels
/// do not check it (callers build specs from validated formats).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spec {
    /// Target word length in bits, sign included.
    pub wl: u32,
    /// How values between grid points are rounded.
    pub rounding: Rounding,
    /// What happens to codes outside the word length.
    pub overflow: Overflow,
}

/// A signed integer container a code can live in: `i8`, `i16`, `i32` or `i64`.
pub trait Code: Copy + Default + PartialEq + core::fmt::Debug + Send + Sync + 'static {
    /// Width of the container in bits.
    const BITS: u32;
    /// Sign-extends the code to `i64`.
    fn to_i64(self) -> i64;
    /// Keeps the low `BITS` bits of `v` (callers pass values already in range).
    fn from_i64(v: i64) -> Self;
    /// `s` tagged with its container, so that a kernel can be compiled once for all four
    /// containers and chosen at run time ([`Platform`]'s methods do this).
    fn slice(s: &[Self]) -> CodeSlice<'_>;
    /// [`Code::slice`] for a mutable slice.
    fn slice_mut(s: &mut [Self]) -> CodeSliceMut<'_>;
}

/// A slice of codes in one of the four containers (see [`Code::slice`]).
#[derive(Debug)]
pub enum CodeSlice<'a> {
    /// `i8` codes.
    I8(&'a [i8]),
    /// `i16` codes.
    I16(&'a [i16]),
    /// `i32` codes.
    I32(&'a [i32]),
    /// `i64` codes.
    I64(&'a [i64]),
}

/// A mutable slice of codes in one of the four containers (see [`Code::slice_mut`]).
#[derive(Debug)]
pub enum CodeSliceMut<'a> {
    /// `i8` codes.
    I8(&'a mut [i8]),
    /// `i16` codes.
    I16(&'a mut [i16]),
    /// `i32` codes.
    I32(&'a mut [i32]),
    /// `i64` codes.
    I64(&'a mut [i64]),
}

impl CodeSliceMut<'_> {
    /// Number of codes.
    pub fn len(&self) -> usize {
        match self {
            CodeSliceMut::I8(s) => s.len(),
            CodeSliceMut::I16(s) => s.len(),
            CodeSliceMut::I32(s) => s.len(),
            CodeSliceMut::I64(s) => s.len(),
        }
    }

    /// Whether there are no codes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Code `i`, sign-extended (element access for scalar code; kernels use whole slices).
    ///
    /// # Panics
    /// If `i` is out of bounds.
    pub fn get(&self, i: usize) -> i64 {
        with_slice_mut!(self, s => s[i].to_i64())
    }

    /// Sets code `i` to the low bits of `v` ([`Code::from_i64`]).
    ///
    /// # Panics
    /// If `i` is out of bounds.
    pub fn set(&mut self, i: usize, v: i64) {
        with_slice_mut!(self, s => s[i] = Code::from_i64(v))
    }
}

macro_rules! impl_code {
    ($($t:ident $v:ident),*) => {$(
        impl Code for $t {
            const BITS: u32 = <$t>::BITS;
            #[inline(always)]
            fn to_i64(self) -> i64 {
                self as i64
            }
            #[inline(always)]
            fn from_i64(v: i64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn slice(s: &[Self]) -> CodeSlice<'_> {
                CodeSlice::$v(s)
            }
            #[inline(always)]
            fn slice_mut(s: &mut [Self]) -> CodeSliceMut<'_> {
                CodeSliceMut::$v(s)
            }
        }
    )*};
}
impl_code!(i8 I8, i16 I16, i32 I32, i64 I64);
