//! What the CLI's subcommands do, as library functions: each takes validated settings and
//! returns a serializable report (files, when any, are written atomically by [`crate::output`]).

pub mod bench;
pub mod chains;
pub mod classify;
pub mod config;
pub mod eval;
pub mod exact;
pub mod memory;
pub mod round;
pub mod run;
pub mod vectors;
