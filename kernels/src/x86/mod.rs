//! Per-ISA builds of the fast path.
pub mod avx2;
pub mod avx512;

use crate::bits::WordSource;
use crate::Platform;

/// A source whose bulk draws ([`WordSource::fill`]) go through `platform`'s SIMD step
/// ([`WordSource::fill_on`]); same words as `bits` itself.
pub(crate) struct OnPlatform<'a, W: ?Sized> {
    /// The wrapped source.
    pub(crate) bits: &'a mut W,
    /// The platform whose SIMD step draws the bulk words.
    pub(crate) platform: Platform,
}

impl<W: WordSource + ?Sized> WordSource for OnPlatform<'_, W> {
    #[inline]
    fn next_word(&mut self) -> u64 {
        self.bits.next_word()
    }
    #[inline]
    fn fill(&mut self, out: &mut [u64]) {
        self.bits.fill_on(self.platform, out)
    }
}
