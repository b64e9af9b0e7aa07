//! The one place that chooses which implementation of a kernel runs.

use crate::bits::WordSource;
use crate::drivers::lockstep::{Keep, Kept, Streams};
use crate::drivers::State;
use crate::lane::Lane;
use crate::rules::{Events, Step};
use crate::{chunked, portable, Code, CodeSlice, CodeSliceMut, Spec};

/// An implementation of the kernels. All give identical bits; they differ in speed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    /// [`crate::portable`]: the scalar reference.
    Portable,
    /// [`crate::chunked`]: the blockwise fast path, compiled for the baseline target.
    Chunked,
    /// The blockwise fast path compiled with AVX2 (x86-64 only).
    Avx2,
    /// The blockwise fast path compiled with AVX-512 F/BW/VL/DQ (x86-64 only).
    Avx512,
}

impl Platform {
    /// The fastest implementation this CPU supports.
    pub fn detect() -> Self {
        Self::avx512()
            .or_else(Self::avx2)
            .unwrap_or(Platform::Chunked)
    }

    /// `Some(Avx512)` if the CPU supports AVX-512 F, BW, VL and DQ (and AVX2).
    pub fn avx512() -> Option<Self> {
        #[cfg(target_arch = "x86_64")]
        {
            if cfg!(all(
                target_feature = "avx512f",
                target_feature = "avx512bw",
                target_feature = "avx512vl",
                target_feature = "avx512dq"
            )) || (std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512bw")
                && std::arch::is_x86_feature_detected!("avx512vl")
                && std::arch::is_x86_feature_detected!("avx512dq")
                && std::arch::is_x86_feature_detected!("bmi1")
                && std::arch::is_x86_feature_detected!("bmi2"))
            {
                return Some(Platform::Avx512);
            }
        }
        None
    }

    /// `Some(Avx2)` if the CPU supports AVX2 (and BMI1/BMI2).
    pub fn avx2() -> Option<Self> {
        #[cfg(target_arch = "x86_64")]
        {
            if cfg!(all(target_feature = "avx2", target_feature = "bmi2"))
                || (std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("bmi1")
                    && std::arch::is_x86_feature_detected!("bmi2"))
            {
                return Some(Platform::Avx2);
            }
        }
        None
    }

    /// Every implementation available on this CPU, the reference first (for tests and
    /// benchmarks).
    pub fn all() -> Vec<Self> {
        let mut v = vec![Platform::Portable, Platform::Chunked];
        v.extend(Self::avx2());
        v.extend(Self::avx512());
        v
    }

    /// Short lower-case name (`portable`, `chunked`, `avx2`, `avx512`).
    pub fn name(self) -> &'static str {
        match self {
            Platform::Portable => "portable",
            Platform::Chunked => "chunked",
            Platform::Avx2 => "avx2",
            Platform::Avx512 => "avx512",
        }
    }

    /// Requantizes `src` (codes with `shift` more fraction bits than the target) into `dst`;
    /// returns the number of overflow events. Semantics: [`portable::requantize`].
    ///
    /// # Panics
    /// If `src.len() != dst.len()`.
    #[inline]
    pub fn requantize<I: Code, O: Code, W: WordSource + ?Sized>(
        self,
        spec: Spec,
        shift: i32,
        src: &[I],
        dst: &mut [O],
        mut bits: &mut W,
    ) -> u64 {
        self.requantize_in(spec, shift, I::slice(src), O::slice_mut(dst), &mut bits)
    }

    /// [`Platform::requantize`] with the containers and the source type erased, so that the
    /// kernels are compiled once, here, and not again in every crate and test that calls them.
    fn requantize_in(
        self,
        spec: Spec,
        shift: i32,
        src: CodeSlice,
        dst: CodeSliceMut,
        bits: &mut dyn WordSource,
    ) -> u64 {
        with_slice!(src, s => with_slice_mut!(dst, d => self.requantize_on(spec, shift, s, d, bits)))
    }

    fn requantize_on<I: Code, O: Code>(
        self,
        spec: Spec,
        shift: i32,
        src: &[I],
        dst: &mut [O],
        bits: &mut dyn WordSource,
    ) -> u64 {
        match self {
            Platform::Portable => portable::requantize(spec, shift, src, dst, bits),
            Platform::Chunked => chunked::requantize(spec, shift, src, dst, bits),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: an `Avx2` value is only handed out by `avx2()`, which checked support.
            Platform::Avx2 => unsafe { crate::x86::avx2::requantize(spec, shift, src, dst, bits) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: an `Avx512` value is only handed out by `avx512()`, which checked support.
            Platform::Avx512 => unsafe {
                crate::x86::avx512::requantize(spec, shift, src, dst, bits)
            },
            #[cfg(not(target_arch = "x86_64"))]
            Platform::Avx2 | Platform::Avx512 => unreachable!("x86 platforms only on x86-64"),
        }
    }

    /// Rounds `src` to codes with `fl` fraction bits into `dst`; returns the number of events.
    /// Semantics: [`portable::quantize_f64`].
    ///
    /// # Panics
    /// If `src.len() != dst.len()`.
    #[inline]
    pub fn quantize_f64<O: Code, W: WordSource + ?Sized>(
        self,
        spec: Spec,
        fl: u32,
        src: &[f64],
        dst: &mut [O],
        mut bits: &mut W,
    ) -> u64 {
        self.quantize_f64_in(spec, fl, src, O::slice_mut(dst), &mut bits)
    }

    /// [`Platform::quantize_f64`], types erased as in [`Platform::requantize_in`].
    fn quantize_f64_in(
        self,
        spec: Spec,
        fl: u32,
        src: &[f64],
        dst: CodeSliceMut,
        bits: &mut dyn WordSource,
    ) -> u64 {
        with_slice_mut!(dst, d => match self {
            Platform::Portable => portable::quantize_f64(spec, fl, src, d, bits),
            Platform::Chunked => chunked::quantize_f64(spec, fl, src, d, bits),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: an `Avx2` value is only handed out by `avx2()`, which checked support.
            Platform::Avx2 => unsafe { crate::x86::avx2::quantize_f64(spec, fl, src, d, bits) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: an `Avx512` value is only handed out by `avx512()`, which checked support.
            Platform::Avx512 => unsafe {
                crate::x86::avx512::quantize_f64(spec, fl, src, d, bits)
            },
            #[cfg(not(target_arch = "x86_64"))]
            Platform::Avx2 | Platform::Avx512 => unreachable!("x86 platforms only on x86-64"),
        })
    }

    /// The chain driver's steps in lanes `L` on this platform ([`crate::drivers::chain`]).
    pub(crate) fn chain_steps<L: Lane>(
        self,
        step: &Step,
        st: State,
        n: u64,
        bits: &mut dyn WordSource,
        words: &mut [u64],
    ) -> Events {
        match self {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: an `Avx2` value is only handed out by `avx2()`, which checked support.
            Platform::Avx2 => unsafe { crate::x86::avx2::chain::<L>(step, st, n, bits, words) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: an `Avx512` value is only handed out by `avx512()`, which checked support.
            Platform::Avx512 => unsafe { crate::x86::avx512::chain::<L>(step, st, n, bits, words) },
            _ => chain_baseline::<L>(step, st, n, bits, words),
        }
    }

    /// The lockstep driver's groups in lanes `L` on this platform
    /// ([`crate::drivers::lockstep`]).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn lockstep_groups<L: Lane>(
        self,
        step: &Step,
        st: State,
        n: u64,
        bits: &mut dyn Streams,
        keep: Keep,
        kept: Option<Kept>,
        scratch: &mut [u64],
    ) -> Events {
        match self {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: an `Avx2` value is only handed out by `avx2()`, which checked support.
            Platform::Avx2 => unsafe {
                crate::x86::avx2::lockstep::<L>(step, st, n, bits, keep, kept, scratch)
            },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: an `Avx512` value is only handed out by `avx512()`, which checked support.
            Platform::Avx512 => unsafe {
                crate::x86::avx512::lockstep::<L>(step, st, n, bits, keep, kept, scratch)
            },
            _ => lockstep_baseline::<L>(step, st, n, bits, keep, kept, scratch),
        }
    }
}

/// The chain driver for the baseline target, out of line: compiled once per lane type.
#[inline(never)]
fn chain_baseline<L: Lane>(
    step: &Step,
    st: State,
    n: u64,
    bits: &mut dyn WordSource,
    words: &mut [u64],
) -> Events {
    crate::drivers::chain::steps::<L>(step, st, n, bits, words)
}

/// The lockstep driver for the baseline target, out of line.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn lockstep_baseline<L: Lane>(
    step: &Step,
    st: State,
    n: u64,
    bits: &mut dyn Streams,
    keep: Keep,
    kept: Option<Kept>,
    scratch: &mut [u64],
) -> Events {
    crate::drivers::lockstep::groups::<L>(step, st, n, bits, keep, kept, scratch)
}
