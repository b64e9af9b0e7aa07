//! One xoshiro256++ generator per stream, the definition the `xoshiro` vectors and
//! `hw/rtl/lpmc_xoshiro256pp.v` implement:
//!
//! `key = mix64(mix64(seed) ^ stream)`, state `s[i] = mix64(key + (i+1)·φ)` for `i = 0..4`
//! (wrapping adds, `φ = 0x9E3779B97F4A7C15`, `mix64` the SplitMix64 output function), word `j`
//! of the stream = the `j`-th output `rotl(s0 + s3, 23) + s0` of xoshiro256++.
//!
//! This is the engine's planned one-generator-per-stream layout; until `lpmc_kernels` has
//! that generator this module carries it, and the kernels' type replaces it here.

use lpmc_kernels::bits::{mix64, PHI};
use lpmc_kernels::WordSource;

/// The xoshiro256++ state `[s0, s1, s2, s3]` that starts stream `(seed, stream)`.
///
/// ```
/// use lpmc::vectors::xoshiro::stream_state;
/// assert_ne!(stream_state(1, 0), stream_state(1, 1));
/// assert!(stream_state(0, 0).iter().any(|&w| w != 0));
/// ```
pub fn stream_state(seed: u64, stream: u64) -> [u64; 4] {
    let key = mix64(mix64(seed) ^ stream);
    std::array::from_fn(|i| mix64(key.wrapping_add((i as u64 + 1).wrapping_mul(PHI))))
}

/// A xoshiro256++ generator (reference algorithm of Blackman and Vigna).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Xoshiro256pp {
    s: [u64; 4],
}

impl Xoshiro256pp {
    /// The stream `(seed, stream)` ([`stream_state`]).
    pub fn new(seed: u64, stream: u64) -> Self {
        Xoshiro256pp {
            s: stream_state(seed, stream),
        }
    }

    /// The current state `[s0, s1, s2, s3]` (the next output is computed from it).
    pub fn state(&self) -> [u64; 4] {
        self.s
    }
}

impl WordSource for Xoshiro256pp {
    fn next_word(&mut self) -> u64 {
        let s = &mut self.s;
        let out = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_xoshiro::rand_core::{Rng, SeedableRng};

    /// Same outputs as `rand_xoshiro`'s xoshiro256++ from the same state (its seed bytes are
    /// the state words, little-endian), and the stream state as the documented formula.
    #[test]
    fn matches_rand_xoshiro() {
        for (seed, stream) in [(0u64, 0u64), (1, 7), (u64::MAX, 3)] {
            let st = stream_state(seed, stream);
            let mut bytes = [0u8; 32];
            for (i, w) in st.iter().enumerate() {
                bytes[8 * i..8 * i + 8].copy_from_slice(&w.to_le_bytes());
            }
            let mut theirs = rand_xoshiro::Xoshiro256PlusPlus::from_seed(bytes);
            let mut ours = Xoshiro256pp::new(seed, stream);
            for _ in 0..100 {
                assert_eq!(ours.next_word(), theirs.next_u64());
            }
            let key = mix64(mix64(seed) ^ stream);
            assert_eq!(st[2], mix64(key.wrapping_add(3u64.wrapping_mul(PHI))));
        }
    }
}
