//! The fast path compiled with AVX2 enabled, so the auto-vectorizer may use 256-bit integer
//! lanes. Same functions, same signatures, same bits as [`crate::chunked`].

use crate::bits::WordSource;
use crate::{chunked, Code, Spec};

/// [`chunked::requantize`] compiled for AVX2.
///
/// # Safety
/// The CPU must support AVX2 (checked by [`crate::Platform::avx2`]).
#[target_feature(enable = "avx2")]
pub unsafe fn requantize<I: Code, O: Code, W: WordSource + ?Sized>(
    spec: Spec,
    shift: i32,
    src: &[I],
    dst: &mut [O],
    bits: &mut W,
) -> u64 {
    chunked::requantize(spec, shift, src, dst, bits)
}

/// [`chunked::quantize_f64`] compiled for AVX2.
///
/// # Safety
/// The CPU must support AVX2 (checked by [`crate::Platform::avx2`]).
#[target_feature(enable = "avx2")]
pub unsafe fn quantize_f64<O: Code, W: WordSource + ?Sized>(
    spec: Spec,
    fl: u32,
    src: &[f64],
    dst: &mut [O],
    bits: &mut W,
) -> u64 {
    chunked::quantize_f64(spec, fl, src, dst, bits)
}
