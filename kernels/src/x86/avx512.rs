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
    let mut bits = super::OnPlatform {
        bits,
        platform: crate::Platform::Avx512,
    };
    chunked::requantize(spec, shift, src, dst, &mut bits)
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
    let mut bits = super::OnPlatform {
        bits,
        platform: crate::Platform::Avx512,
    };
    chunked::quantize_f64(spec, fl, src, dst, &mut bits)
}

/// [`crate::fused::fast::sgld_lanes`] compiled for Avx512, words drawn with its SIMD step.
///
/// # Safety
/// The CPU must support the enabled features (checked by [`crate::Platform::avx512`]).
#[target_feature(enable = "avx2,avx512f,avx512bw,avx512vl,avx512dq,bmi1,bmi2")]
pub(crate) unsafe fn sgld_lanes<L: crate::fused::Lane>(
    p: &crate::fused::SgldLpL,
    x: &mut crate::CodeSliceMut,
    steps: u64,
    bits: &mut dyn WordSource,
    words: &mut [u64],
) -> u64 {
    let mut bits = super::OnPlatform {
        bits,
        platform: crate::Platform::Avx512,
    };
    crate::fused::fast::sgld_lanes::<L>(p, x, steps, &mut bits, words)
}

/// [`crate::fused::fast::sghmc_lanes`] compiled for Avx512, words drawn with its SIMD step.
///
/// # Safety
/// The CPU must support the enabled features (checked by [`crate::Platform::avx512`]).
#[target_feature(enable = "avx2,avx512f,avx512bw,avx512vl,avx512dq,bmi1,bmi2")]
pub(crate) unsafe fn sghmc_lanes<L: crate::fused::Lane>(
    p: &crate::fused::SghmcLpL,
    x: &mut crate::CodeSliceMut,
    v: &mut crate::CodeSliceMut,
    steps: u64,
    bits: &mut dyn WordSource,
    words: &mut [u64],
) -> u64 {
    let mut bits = super::OnPlatform {
        bits,
        platform: crate::Platform::Avx512,
    };
    crate::fused::fast::sghmc_lanes::<L>(p, x, v, steps, &mut bits, words)
}

/// [`crate::vc::fast::sgld_vc_lanes`] compiled for Avx512, words drawn with its SIMD step.
///
/// # Safety
/// The CPU must support the enabled features (checked by [`crate::Platform::avx512`]).
#[target_feature(enable = "avx2,avx512f,avx512bw,avx512vl,avx512dq,bmi1,bmi2")]
pub(crate) unsafe fn sgld_vc_lanes(
    p: &crate::vc::SgldVcL,
    x: &mut crate::CodeSliceMut,
    steps: u64,
    bits: &mut dyn WordSource,
    words: &mut [u64],
) -> u64 {
    let mut bits = super::OnPlatform {
        bits,
        platform: crate::Platform::Avx512,
    };
    crate::vc::fast::sgld_vc_lanes(p, x, steps, &mut bits, words)
}

/// [`crate::vc::fast::sghmc_vc_lanes`] compiled for Avx512, words drawn with its SIMD step.
///
/// # Safety
/// The CPU must support the enabled features (checked by [`crate::Platform::avx512`]).
#[target_feature(enable = "avx2,avx512f,avx512bw,avx512vl,avx512dq,bmi1,bmi2")]
pub(crate) unsafe fn sghmc_vc_lanes(
    p: &crate::vc::SghmcVcL,
    x: &mut crate::CodeSliceMut,
    v: &mut crate::CodeSliceMut,
    steps: u64,
    bits: &mut dyn WordSource,
    words: &mut [u64],
) -> u64 {
    let mut bits = super::OnPlatform {
        bits,
        platform: crate::Platform::Avx512,
    };
    crate::vc::fast::sghmc_vc_lanes(p, x, v, steps, &mut bits, words)
}

/// [`WordSource::fill`] compiled for AVX-512.
///
/// # Safety
/// The CPU must support the enabled features (checked by [`crate::Platform::avx512`]).
#[target_feature(enable = "avx2,avx512f,avx512bw,avx512vl,avx512dq,bmi1,bmi2")]
pub unsafe fn fill_words<W: WordSource + ?Sized>(bits: &mut W, out: &mut [u64]) {
    bits.fill_on(crate::Platform::Avx512, out)
}

/// Steps the eight xoshiro256++ lanes `out.len() / 8` times, writing each round's outputs
/// (lane 0 first) to consecutive words of `out`; `s[i][l]` is state word `i` of lane `l`.
/// The reference step (`crate::bits`) on one 8×64-bit vector per state word, with native
/// rotates (`vprolq`).
///
/// # Safety
/// The CPU must support AVX-512F. `out.len()` must be a multiple of 8.
#[target_feature(enable = "avx2,avx512f,avx512bw,avx512vl,avx512dq,bmi1,bmi2")]
pub(crate) unsafe fn xoshiro_rounds(s: &mut [[u64; 8]; 4], out: &mut [u64]) {
    use core::arch::x86_64::*;
    debug_assert_eq!(out.len() % 8, 0);
    // SAFETY: each `s[i]` is 8 contiguous u64 (64 bytes): one unaligned 64-byte load.
    let ld = |a: &[u64; 8]| unsafe { _mm512_loadu_si512(a.as_ptr().cast()) };
    let (mut s0, mut s1, mut s2, mut s3) = (ld(&s[0]), ld(&s[1]), ld(&s[2]), ld(&s[3]));
    for b in out.chunks_exact_mut(8) {
        let r = _mm512_add_epi64(_mm512_rol_epi64::<23>(_mm512_add_epi64(s0, s3)), s0);
        let t = _mm512_slli_epi64::<17>(s1);
        s2 = _mm512_xor_si512(s2, s0);
        s3 = _mm512_xor_si512(s3, s1);
        s1 = _mm512_xor_si512(s1, s2);
        s0 = _mm512_xor_si512(s0, s3);
        s2 = _mm512_xor_si512(s2, t);
        s3 = _mm512_rol_epi64::<45>(s3);
        // SAFETY: `b` is 8 u64 (64 bytes): one unaligned 64-byte store.
        unsafe { _mm512_storeu_si512(b.as_mut_ptr().cast(), r) };
    }
    for (a, v) in s.iter_mut().zip([s0, s1, s2, s3]) {
        // SAFETY: `a` is 8 contiguous u64 (64 bytes): one unaligned 64-byte store.
        unsafe { _mm512_storeu_si512(a.as_mut_ptr().cast(), v) };
    }
}

/// [`crate::lockstep::fast::advance`] compiled for Avx512: one group's steps.
///
/// # Safety
/// The CPU must support the enabled features (checked by [`crate::Platform::avx512`]).
#[target_feature(enable = "avx2,avx512f,avx512bw,avx512vl,avx512dq,bmi1,bmi2")]
pub(crate) unsafe fn lockstep_advance<R, L>(
    cx: &crate::lockstep::fast::Call<R, L>,
    g: &mut crate::lockstep::fast::Group<L>,
    bits: &mut dyn crate::lockstep::Streams,
    scratch: &mut [u64],
) where
    R: crate::lockstep::fast::Rule<L>,
    L: crate::fused::Lane,
{
    crate::lockstep::fast::advance(cx, g, bits, scratch)
}
