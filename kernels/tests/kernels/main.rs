//! Tests of `lpmc-kernels` through its public API: the random-bit sources, the mode
//! semantics, the noise generators, and every fast path bit-identical to its scalar twin.
//!
//! They live here, not in `#[cfg(test)]` modules, so that the kernels (monomorphized over
//! platforms, lane widths and rounding modes) are compiled once, in the library, and not a
//! second time into a unit-test build of the crate.

mod bits;
mod drivers;
mod mode;
mod noise;
mod platform;
mod round_f64;
mod vc;
