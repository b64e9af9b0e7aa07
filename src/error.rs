//! The one error type of lpmc. Every message names the bad value and what is allowed; the
//! CLI prints it as `error: …` and exits with code 2.

use std::path::PathBuf;

/// Everything that can go wrong in lpmc, one variant per cause.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A word length outside the allowed range.
    #[error("word length WL = {wl} is out of range: {what} allows {min}..={max}")]
    WordLength {
        /// The offending value.
        wl: i64,
        /// Which kind of quantity the format is for.
        what: &'static str,
        /// Smallest allowed WL.
        min: u32,
        /// Largest allowed WL.
        max: u32,
    },
    /// A fraction length outside `0..=62`.
    #[error("fraction length FL = {0} is out of range: allowed 0..={max}", max = crate::format::MAX_FL)]
    FractionLength(i64),
    /// A rounding or overflow name that does not parse.
    #[error(transparent)]
    Mode(#[from] lpmc_kernels::ParseModeError),
    /// An LFSR width or taps that cannot be used.
    #[error(transparent)]
    Lfsr(#[from] lpmc_kernels::LfsrError),
    /// A numeric parameter outside its domain (NaN, negative, zero where positive is needed).
    #[error("{name} = {value} is invalid: {allowed}")]
    Param {
        /// Parameter name as the user wrote it.
        name: String,
        /// The offending value, formatted.
        value: String,
        /// The allowed range or rule.
        allowed: String,
    },
    /// A configuration that does not parse or does not fit together.
    #[error("{0}")]
    Config(String),
    /// A figure that cannot be drawn (no finite data, mismatched shapes, bad bins or range).
    #[error("{0}")]
    Plot(String),
    /// A run that needs more memory (or another resource) than it may use.
    #[error("{0}")]
    Resource(String),
    /// Warnings under `--strict`: the CLI exits with code 3 instead of 2.
    #[error("{0}")]
    Strict(String),
    /// A data set that is missing, truncated, corrupt or cannot be fetched (the message names
    /// the command that fetches it).
    #[error("{0}")]
    Data(String),
    /// The run was stopped before it finished (Ctrl-C in the Python module).
    #[error("interrupted: the run was stopped before it finished; nothing was written")]
    Interrupted,
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file involved.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
}

impl Error {
    /// A [`Error::Param`] from its parts. A number whose decimal form is long (`1e300`
    /// written out) is shown in exponent form ([`crate::diagnostics::num`]).
    pub fn param(
        name: impl Into<String>,
        value: impl ToString,
        allowed: impl Into<String>,
    ) -> Self {
        let text = value.to_string();
        let value = match text.parse::<f64>() {
            Ok(x) if text.len() > 16 => crate::diagnostics::num(x),
            _ => text,
        };
        Error::Param {
            name: name.into(),
            value,
            allowed: allowed.into(),
        }
    }
}

/// `Result` with lpmc's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
