//! # lpmc
//!
//! A bit-accurate fixed-point simulation engine for low-precision Bayesian sampling
//! (SGLD and SGHMC in fixed point). Parameters, momenta and accumulators are stored as real
//! integer codes ([`format`](mod@format)), rounded with hardware-faithful modes ([`round`]) drawing from
//! documented random-bit streams ([`source`]); the hot loops live in the `lpmc_kernels` crate.
//!
//! The reference results are those of \[S\] (Wang, Chen, Song, Zhang, arXiv:2310.16320) and \[L\]
//! (Zhang, Wilson and De Sa, ICML 2022); the README lists them under References.

#![deny(missing_docs)]
// Numerical code indexes several arrays with one counter; iterator zips would hide the math.
#![allow(clippy::needless_range_loop)]

pub mod classifier;
pub mod data;
pub mod diagnostics;
pub mod error;
pub mod exact;
pub mod experiment;
pub mod format;
pub mod noise;
pub mod output;
pub mod plot;
pub mod reproduce;
pub mod round;
pub mod sampler;
pub mod source;
pub mod sweep;
pub mod target;
pub mod theory;
pub mod vc;
pub mod vectors;
pub mod wasserstein;

pub use error::{Error, Result};
pub use format::Format;
pub use round::{Overflow, Rounding};
pub use source::Source;
