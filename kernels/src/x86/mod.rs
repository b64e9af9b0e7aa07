//! Per-ISA builds of the fast paths: the same functions compiled with the ISA's target
//! features enabled, so the auto-vectorizer uses its vectors. One macro writes every shim;
//! the modules differ only in their feature list.

/// The shims of one ISA: `$features` enabled on the fast paths of [`crate::chunked`] and
/// [`crate::drivers`].
macro_rules! isa {
    ($name:literal, $features:literal) => {
        use crate::bits::WordSource;
        use crate::drivers::lockstep::{Keep, Kept, Streams};
        use crate::drivers::State;
        use crate::lane::Lane;
        use crate::rules::{Events, Step};
        use crate::{chunked, Code, Spec};

        #[doc = concat!("[`chunked::requantize`] compiled for ", $name, ".")]
        ///
        /// # Safety
        /// The CPU must support the enabled features (checked by [`crate::Platform`]'s
        /// constructors).
        #[target_feature(enable = $features)]
        pub unsafe fn requantize<I: Code, O: Code, W: WordSource + ?Sized>(
            spec: Spec,
            shift: i32,
            src: &[I],
            dst: &mut [O],
            bits: &mut W,
        ) -> u64 {
            chunked::requantize(spec, shift, src, dst, bits)
        }

        #[doc = concat!("[`chunked::quantize_f64`] compiled for ", $name, ".")]
        ///
        /// # Safety
        /// As [`requantize`].
        #[target_feature(enable = $features)]
        pub unsafe fn quantize_f64<O: Code, W: WordSource + ?Sized>(
            spec: Spec,
            fl: u32,
            src: &[f64],
            dst: &mut [O],
            bits: &mut W,
        ) -> u64 {
            chunked::quantize_f64(spec, fl, src, dst, bits)
        }

        #[doc = concat!("[`crate::drivers::chain`]'s steps compiled for ", $name, ".")]
        ///
        /// # Safety
        /// As [`requantize`].
        #[target_feature(enable = $features)]
        pub(crate) unsafe fn chain<L: Lane>(
            step: &Step,
            st: State,
            n: u64,
            bits: &mut dyn WordSource,
            words: &mut [u64],
        ) -> Events {
            crate::drivers::chain::steps::<L>(step, st, n, bits, words)
        }

        #[doc = concat!("[`crate::drivers::lockstep`]'s groups compiled for ", $name, ".")]
        ///
        /// # Safety
        /// As [`requantize`].
        #[allow(clippy::too_many_arguments)]
        #[target_feature(enable = $features)]
        pub(crate) unsafe fn lockstep<L: Lane>(
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
    };
}

/// The fast paths compiled with AVX2 (256-bit integer and `f64` lanes).
pub mod avx2 {
    isa!("AVX2", "avx2,bmi1,bmi2");
}

/// The fast paths compiled with AVX-512 F/BW/VL/DQ (512-bit lanes, native 64-bit rotates and
/// narrowing stores).
pub mod avx512 {
    isa!(
        "AVX-512",
        "avx2,avx512f,avx512bw,avx512vl,avx512dq,bmi1,bmi2"
    );
}
