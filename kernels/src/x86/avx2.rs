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
    let mut bits = super::OnPlatform {
        bits,
        platform: crate::Platform::Avx2,
    };
    chunked::requantize(spec, shift, src, dst, &mut bits)
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
    let mut bits = super::OnPlatform {
        bits,
        platform: crate::Platform::Avx2,
    };
    chunked::quantize_f64(spec, fl, src, dst, &mut bits)
}

/// [`crate::fused::fast::sgld_lanes`] compiled for Avx2, words drawn with its SIMD step.
///
/// # Safety
/// The CPU must support the enabled features (checked by [`crate::Platform::avx2`]).
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn sgld_lanes<L: crate::fused::Lane>(
    p: &crate::fused::SgldLpL,
    x: &mut crate::CodeSliceMut,
    steps: u64,
    bits: &mut dyn WordSource,
    words: &mut [u64],
) -> u64 {
    let mut bits = super::OnPlatform {
        bits,
        platform: crate::Platform::Avx2,
    };
    crate::fused::fast::sgld_lanes::<L>(p, x, steps, &mut bits, words)
}

/// [`crate::fused::fast::sghmc_lanes`] compiled for Avx2, words drawn with its SIMD step.
///
/// # Safety
/// The CPU must support the enabled features (checked by [`crate::Platform::avx2`]).
#[target_feature(enable = "avx2")]
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
        platform: crate::Platform::Avx2,
    };
    crate::fused::fast::sghmc_lanes::<L>(p, x, v, steps, &mut bits, words)
}

/// [`crate::vc::fast::sgld_vc_lanes`] compiled for Avx2, words drawn with its SIMD step.
///
/// # Safety
/// The CPU must support the enabled features (checked by [`crate::Platform::avx2`]).
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn sgld_vc_lanes(
    p: &crate::vc::SgldVcL,
    x: &mut crate::CodeSliceMut,
    steps: u64,
    bits: &mut dyn WordSource,
    words: &mut [u64],
) -> u64 {
    let mut bits = super::OnPlatform {
        bits,
        platform: crate::Platform::Avx2,
    };
    crate::vc::fast::sgld_vc_lanes(p, x, steps, &mut bits, words)
}

/// [`crate::vc::fast::sghmc_vc_lanes`] compiled for Avx2, words drawn with its SIMD step.
///
/// # Safety
/// The CPU must support the enabled features (checked by [`crate::Platform::avx2`]).
#[target_feature(enable = "avx2")]
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
        platform: crate::Platform::Avx2,
    };
    crate::vc::fast::sghmc_vc_lanes(p, x, v, steps, &mut bits, words)
}

/// [`WordSource::fill`] compiled for AVX2.
///
/// # Safety
/// The CPU must support the enabled features (checked by [`crate::Platform::avx2`]).
#[target_feature(enable = "avx2")]
pub unsafe fn fill_words<W: WordSource + ?Sized>(bits: &mut W, out: &mut [u64]) {
    bits.fill_on(crate::Platform::Avx2, out)
}

/// Steps the eight xoshiro256++ lanes `out.len() / 8` times, writing each round's outputs
/// (lane 0 first) to consecutive words of `out`; `s[i][l]` is state word `i` of lane `l`.
/// The step is the reference one (`crate::bits`), on two 4×64-bit vectors per state word:
/// `out = rotl(s0 + s3, 23) + s0; t = s1 << 17; s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3;
/// s2 ^= t; s3 = rotl(s3, 45)`.
///
/// # Safety
/// The CPU must support AVX2. `out.len()` must be a multiple of 8.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn xoshiro_rounds(s: &mut [[u64; 8]; 4], out: &mut [u64]) {
    use core::arch::x86_64::*;
    debug_assert_eq!(out.len() % 8, 0);
    #[inline(always)]
    fn rotl<const L: i32, const R: i32>(x: __m256i) -> __m256i {
        // SAFETY: only called from this AVX2 function's body (inlined), where AVX2 is enabled.
        unsafe { _mm256_or_si256(_mm256_slli_epi64::<L>(x), _mm256_srli_epi64::<R>(x)) }
    }
    // SAFETY: each `s[i]` is 8 contiguous u64 (64 bytes): two unaligned 32-byte loads.
    let ld = |a: &[u64; 8]| unsafe {
        let p = a.as_ptr().cast::<__m256i>();
        [_mm256_loadu_si256(p), _mm256_loadu_si256(p.add(1))]
    };
    let (mut s0, mut s1, mut s2, mut s3) = (ld(&s[0]), ld(&s[1]), ld(&s[2]), ld(&s[3]));
    for b in out.chunks_exact_mut(8) {
        let p = b.as_mut_ptr().cast::<__m256i>();
        for h in 0..2 {
            let r = _mm256_add_epi64(rotl::<23, 41>(_mm256_add_epi64(s0[h], s3[h])), s0[h]);
            let t = _mm256_slli_epi64::<17>(s1[h]);
            s2[h] = _mm256_xor_si256(s2[h], s0[h]);
            s3[h] = _mm256_xor_si256(s3[h], s1[h]);
            s1[h] = _mm256_xor_si256(s1[h], s2[h]);
            s0[h] = _mm256_xor_si256(s0[h], s3[h]);
            s2[h] = _mm256_xor_si256(s2[h], t);
            s3[h] = rotl::<45, 19>(s3[h]);
            // SAFETY: `b` is 8 u64 (64 bytes); half `h` is the 32 bytes at offset 32·h.
            unsafe { _mm256_storeu_si256(p.add(h), r) };
        }
    }
    for (a, v) in s.iter_mut().zip([s0, s1, s2, s3]) {
        let p = a.as_mut_ptr().cast::<__m256i>();
        // SAFETY: `a` is 8 contiguous u64 (64 bytes): two unaligned 32-byte stores.
        unsafe {
            _mm256_storeu_si256(p, v[0]);
            _mm256_storeu_si256(p.add(1), v[1]);
        }
    }
}

/// [`crate::lockstep::fast::advance`] compiled for Avx2: one group's steps.
///
/// # Safety
/// The CPU must support the enabled features (checked by [`crate::Platform::avx2`]).
#[target_feature(enable = "avx2")]
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
