//! The one place that chooses which implementation of a kernel runs.

use crate::bits::WordSource;
use crate::fused::{self, SghmcLpL, SgldLpL};
use crate::lockstep::{Keep, Streams, Sums};
use crate::vc::{self, SghmcVcL, SgldVcL};
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

    /// `Some(Avx2)` if the CPU supports AVX2.
    pub fn avx2() -> Option<Self> {
        #[cfg(target_arch = "x86_64")]
        {
            if cfg!(target_feature = "avx2") || std::arch::is_x86_feature_detected!("avx2") {
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

    /// `steps` fused SGLD `lp-l` steps of `x` on the integer datapath; returns the overflow
    /// events. Semantics and bit order: [`fused`] ([`fused::reference::sgld_lp_l`]); `words` is
    /// scratch of at least [`SgldLpL::words_per_step`] words (more lets the fast paths draw
    /// several steps' words at once).
    ///
    /// # Panics
    /// If `words` is too short.
    #[inline]
    pub fn sgld_lp_l<C: Code, W: WordSource + ?Sized>(
        self,
        p: &SgldLpL,
        x: &mut [C],
        steps: u64,
        mut bits: &mut W,
        words: &mut [u64],
    ) -> u64 {
        self.sgld_lp_l_in(p, C::slice_mut(x), steps, &mut bits, words)
    }

    /// [`Platform::sgld_lp_l`] on codes tagged with their container ([`Code::slice_mut`]), for
    /// callers that choose the container at run time (the samplers). The generic method
    /// erases its types into this one, so the kernel is compiled once.
    ///
    /// # Panics
    /// If `words` is too short.
    pub fn sgld_lp_l_in(
        self,
        p: &SgldLpL,
        x: CodeSliceMut,
        steps: u64,
        bits: &mut dyn WordSource,
        words: &mut [u64],
    ) -> u64 {
        match self {
            Platform::Portable => {
                with_slice_mut!(x, x => fused::reference::sgld_lp_l(p, x, steps, bits, words))
            }
            _ => fused::fast::sgld_lp_l(p, x, steps, bits, words, self),
        }
    }

    /// `steps` fused SGHMC `lp-l` steps of `(x, v)` on the integer datapath; returns the
    /// overflow events. Semantics and bit order: [`fused`] ([`fused::reference::sghmc_lp_l`]);
    /// `words` is scratch of at least [`SghmcLpL::words_per_step`] words.
    ///
    /// # Panics
    /// If `x.len() != v.len()` or `words` is too short.
    #[inline]
    pub fn sghmc_lp_l<C: Code, W: WordSource + ?Sized>(
        self,
        p: &SghmcLpL,
        x: &mut [C],
        v: &mut [C],
        steps: u64,
        mut bits: &mut W,
        words: &mut [u64],
    ) -> u64 {
        self.sghmc_lp_l_in(p, C::slice_mut(x), C::slice_mut(v), steps, &mut bits, words)
    }

    /// [`Platform::sghmc_lp_l`] on codes tagged with their container (see
    /// [`Platform::sgld_lp_l_in`]).
    ///
    /// # Panics
    /// If `x` and `v` are in different containers or of different lengths, or `words` is too
    /// short.
    pub fn sghmc_lp_l_in(
        self,
        p: &SghmcLpL,
        x: CodeSliceMut,
        v: CodeSliceMut,
        steps: u64,
        bits: &mut dyn WordSource,
        words: &mut [u64],
    ) -> u64 {
        match self {
            Platform::Portable => with_pair_mut!(x, v, (x, v) => {
                fused::reference::sghmc_lp_l(p, x, v, steps, bits, words)
            }),
            _ => fused::fast::sghmc_lp_l(p, x, v, steps, bits, words, self),
        }
    }

    /// `steps` fused SGLD `lp-l` steps of `bits.len()` independent chains in lockstep (see
    /// [`crate::lockstep`]): `x` is chains × d codes, chain-major, chain `j` draws from
    /// `bits[j]` only, exactly as [`Platform::sgld_lp_l`] on that chain alone would; kept
    /// steps ([`Keep`]) add their codes to `sums`; `events[j]` gains chain `j`'s overflow
    /// events. `scratch` needs at least [`SgldLpL::lockstep_scratch`] words (more lets a call
    /// draw several steps' words at once).
    ///
    /// # Panics
    /// If the shapes disagree, `d > `[`crate::lockstep::MAX_D`], `scratch` is too short or the
    /// kept steps exceed [`crate::lockstep::max_kept`].
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub fn sgld_lp_l_chains<C: Code, W: WordSource>(
        self,
        p: &SgldLpL,
        x: &mut [C],
        steps: u64,
        mut bits: &mut [W],
        keep: Keep,
        sums: Option<Sums>,
        events: &mut [u64],
        scratch: &mut [u64],
    ) {
        let x = C::slice_mut(x);
        self.sgld_lp_l_chains_in(p, x, steps, &mut bits, keep, sums, events, scratch)
    }

    /// [`Platform::sgld_lp_l_chains`] on codes tagged with their container ([`Code::slice_mut`])
    /// and the streams as a [`Streams`] object, for callers that choose the container at run
    /// time (the samplers); the generic method erases its types into this one. Panics as it.
    #[allow(clippy::too_many_arguments)]
    pub fn sgld_lp_l_chains_in(
        self,
        p: &SgldLpL,
        x: CodeSliceMut,
        steps: u64,
        bits: &mut dyn Streams,
        keep: Keep,
        sums: Option<Sums>,
        events: &mut [u64],
        scratch: &mut [u64],
    ) {
        use crate::lockstep::{fast, reference};
        with_slice_mut!(x, x => match self {
            Platform::Portable => {
                reference::sgld_lp_l(p, x, steps, bits, keep, sums, events, scratch)
            }
            _ => fast::sgld_lp_l(p, x, steps, bits, keep, sums, events, scratch, self),
        })
    }

    /// [`Platform::sgld_lp_l_chains`] for SGHMC `lp-l` ([`Platform::sghmc_lp_l`] per chain);
    /// `v` is laid out like `x`. `scratch`: at least [`SghmcLpL::lockstep_scratch`] words.
    ///
    /// # Panics
    /// As [`Platform::sgld_lp_l_chains`], or if `x.len() != v.len()`.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub fn sghmc_lp_l_chains<C: Code, W: WordSource>(
        self,
        p: &SghmcLpL,
        x: &mut [C],
        v: &mut [C],
        steps: u64,
        mut bits: &mut [W],
        keep: Keep,
        sums: Option<Sums>,
        events: &mut [u64],
        scratch: &mut [u64],
    ) {
        let (x, v) = (C::slice_mut(x), C::slice_mut(v));
        self.sghmc_lp_l_chains_in(p, x, v, steps, &mut bits, keep, sums, events, scratch)
    }

    /// [`Platform::sghmc_lp_l_chains`] on codes tagged with their container ([`Code::slice_mut`])
    /// and the streams as a [`Streams`] object, for callers that choose the container at run
    /// time (the samplers); the generic method erases its types into this one. Panics as it.
    #[allow(clippy::too_many_arguments)]
    pub fn sghmc_lp_l_chains_in(
        self,
        p: &SghmcLpL,
        x: CodeSliceMut,
        v: CodeSliceMut,
        steps: u64,
        bits: &mut dyn Streams,
        keep: Keep,
        sums: Option<Sums>,
        events: &mut [u64],
        scratch: &mut [u64],
    ) {
        use crate::lockstep::{fast, reference};
        with_pair_mut!(x, v, (x, v) => match self {
            Platform::Portable => {
                reference::sghmc_lp_l(p, x, v, steps, bits, keep, sums, events, scratch)
            }
            _ => fast::sghmc_lp_l(p, x, v, steps, bits, keep, sums, events, scratch, self),
        })
    }

    /// `steps` fused SGLD `vc-l` steps of `x` (codes tagged with their container,
    /// [`Code::slice_mut`]); returns the overflow events. Semantics and bit order:
    /// [`crate::vc`]; `words` is scratch of at least [`SgldVcL::words_per_step`] words.
    ///
    /// ```
    /// use lpmc_kernels::fused::{Fmt, GaussGrad};
    /// use lpmc_kernels::vc::SgldVcL;
    /// use lpmc_kernels::{Code, Overflow, Platform, Rounding, XoshiroLanes};
    /// let f = |wl, fl| Fmt { wl, fl, overflow: Overflow::Saturate };
    /// // N(0, 1) in Q(8, 3), η = 2^−6 in Q(16, 12), accumulator Q(24, 16).
    /// let p = SgldVcL {
    ///     rounding: Rounding::Stochastic { bits: 8 },
    ///     x: f(8, 3), grad: f(8, 3), accum: f(24, 16), coef_fl: 12,
    ///     eta: 64, var: 2.0 / 64.0,
    ///     target: GaussGrad { prec: &[4096], mean: &[0], prec_fl: 12 },
    /// };
    /// let mut x = [8i8; 5];
    /// let mut words = vec![0; p.words_per_step(x.len())];
    /// let mut bits = XoshiroLanes::new(1, 0);
    /// let ev = Platform::detect().sgld_vc_l(&p, i8::slice_mut(&mut x), 100, &mut bits, &mut words);
    /// assert_eq!(ev, 0);
    /// ```
    ///
    /// # Panics
    /// If `words` is too short.
    pub fn sgld_vc_l(
        self,
        p: &SgldVcL,
        x: CodeSliceMut,
        steps: u64,
        bits: &mut dyn WordSource,
        words: &mut [u64],
    ) -> u64 {
        match self {
            Platform::Portable => vc::reference::sgld_vc_l(p, x, steps, bits, words),
            _ => vc::fast::sgld_vc_l(p, x, steps, bits, words, self),
        }
    }

    /// `steps` fused SGHMC `vc-l` steps of `(x, v)` (each tagged with its own container);
    /// returns the overflow events. Semantics and bit order: [`crate::vc`]; `words` is
    /// scratch of at least [`SghmcVcL::words_per_step`] words.
    ///
    /// # Panics
    /// If `x.len() != v.len()` or `words` is too short.
    pub fn sghmc_vc_l(
        self,
        p: &SghmcVcL,
        x: CodeSliceMut,
        v: CodeSliceMut,
        steps: u64,
        bits: &mut dyn WordSource,
        words: &mut [u64],
    ) -> u64 {
        match self {
            Platform::Portable => vc::reference::sghmc_vc_l(p, x, v, steps, bits, words),
            _ => vc::fast::sghmc_vc_l(p, x, v, steps, bits, words, self),
        }
    }

    /// Fills `out` with the next `out.len()` words of `bits`, the same words on every
    /// platform ([`WordSource::fill`]); the per-ISA builds step [`crate::XoshiroLanes`] with
    /// SIMD. This is the random-bit rate the stochastic kernels draw at.
    pub fn fill_words<W: WordSource + ?Sized>(self, bits: &mut W, out: &mut [u64]) {
        match self {
            Platform::Portable | Platform::Chunked => bits.fill(out),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: an `Avx2` value is only handed out by `avx2()`, which checked support.
            Platform::Avx2 => unsafe { crate::x86::avx2::fill_words(bits, out) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: an `Avx512` value is only handed out by `avx512()`, which checked support.
            Platform::Avx512 => unsafe { crate::x86::avx512::fill_words(bits, out) },
            #[cfg(not(target_arch = "x86_64"))]
            Platform::Avx2 | Platform::Avx512 => unreachable!("x86 platforms only on x86-64"),
        }
    }
}
