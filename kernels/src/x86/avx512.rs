//! The fast path compiled with AVX-512 (F, BW, VL, DQ) enabled: the auto-vectorizer gets
//! 512-bit integer lanes, native 64-bit rotates for the xoshiro step (`vprolq`) and
//! byte/word narrowing stores (`vpmovwb`). Same functions, same signatures, same bits as
//! [`crate::chunked`].

use crate::bits::WordSource;
use crate::{chunked, Code, Spec};

/// [`chunked::requantize`] compiled for AVX-512.
///
/// # Safety
/// The CPU must support AVX-512 F, BW, VL and DQ (checked by [`crate::Platform::avx512`]).
#[target_feature(enable = "avx2,avx512f,avx512bw,avx512vl,avx512dq,bmi1,bmi2")]
pub unsafe fn requantize<I: Code, O: Code, W: WordSource + ?Sized>(
    spec: Spec,
    shift: i32,
    src: &[I],
    dst: &mut [O],
    bits: &mut W,
) -> u64 {
    chunked::requantize(spec, shift, src, dst, bits)
}

/// [`chunked::quantize_f64`] compiled for AVX-512.
///
/// # Safety
/// The CPU must support AVX-512 F, BW, VL and DQ (checked by [`crate::Platform::avx512`]).
#[target_feature(enable = "avx2,avx512f,avx512bw,avx512vl,avx512dq,bmi1,bmi2")]
pub unsafe fn quantize_f64<O: Code, W: WordSource + ?Sized>(
    spec: Spec,
    fl: u32,
    src: &[f64],
    dst: &mut [O],
    bits: &mut W,
) -> u64 {
    chunked::quantize_f64(spec, fl, src, dst, bits)
}
