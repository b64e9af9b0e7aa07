//! Per-ISA builds of the fast path.
pub mod avx2;
pub mod avx512;
