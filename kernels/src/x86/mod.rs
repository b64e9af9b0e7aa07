//! Per-ISA builds of the fast path.
pub mod avx2;
