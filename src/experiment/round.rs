//! `lpmc round`: what a rounding does to one value — the neighbouring grid points, the
//! probability of rounding up in theory and measured over `n` roundings, the mean, variance,
//! bias and overflow count.

use crate::error::{Error, Result};
use crate::format::{fixed_text, Codes, Format};
use crate::round::{quantize_calls, theory, Rounding, CALL};
use crate::source::Source;
use crate::with_codes;
use lpmc_kernels::Code;
use serde::Serialize;

/// Settings of one exploration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RoundSettings {
    /// Target format (with its overflow rule).
    pub format: Format,
    /// Rounding mode.
    pub rounding: Rounding,
    /// The value to round; must be finite.
    pub value: f64,
    /// Number of roundings to measure, ≥ 1.
    pub n: u64,
    /// Seed of the random stream (stream index 0).
    pub seed: u64,
    /// Random-bit source.
    pub source: Source,
}

/// What `lpmc round` prints.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RoundReport {
    /// Word length.
    pub wl: u32,
    /// Fraction length.
    pub fl: u32,
    /// Grid step Δ = 2^−FL.
    pub delta: f64,
    /// Smallest and largest representable values.
    pub range: [f64; 2],
    /// Rounding mode, text form.
    pub rounding: String,
    /// Overflow rule.
    pub overflow: String,
    /// Random source, text form.
    pub source: String,
    /// Seed of the stream.
    pub seed: u64,
    /// The value rounded.
    pub value: f64,
    /// Random bits each rounding consumes.
    pub random_bits: u32,
    /// Lower neighbouring grid value (after the overflow rule), and its code.
    pub lo: f64,
    /// Code of `lo` in the format.
    pub lo_code: i64,
    /// Upper neighbouring grid value (after the overflow rule); equals `lo` on the grid.
    pub hi: f64,
    /// Code of `hi` in the format.
    pub hi_code: i64,
    /// `lo` and `hi` as the `fixed` crate prints them (absent when `fixed` has no type for
    /// the format).
    pub fixed: Option<[String; 2]>,
    /// Discarded fraction f of the value, in steps.
    pub fraction: f64,
    /// Probability of rounding to `hi`, closed form.
    pub p_up_theory: f64,
    /// Fraction of the `n` roundings that gave `hi` (0 when `lo == hi`).
    pub p_up: f64,
    /// Measured mean of the rounded values.
    pub mean: f64,
    /// Measured (population) variance of the rounded values.
    pub var: f64,
    /// Expected mean, closed form.
    pub mean_theory: f64,
    /// Expected variance, closed form.
    pub var_theory: f64,
    /// Measured `mean − value`.
    pub bias: f64,
    /// Expected `mean − value`.
    pub bias_theory: f64,
    /// Standard error of the measured mean, `√(var_theory/n)`.
    pub mean_stderr: f64,
    /// Number of roundings measured (1 for a deterministic mode).
    pub n: u64,
    /// Roundings whose code saturated or wrapped.
    pub overflows: u64,
}

/// Rounds `s.value` `s.n` times (once for a deterministic mode) and compares with the theory.
pub fn explore(s: &RoundSettings) -> Result<RoundReport> {
    if !s.value.is_finite() {
        return Err(Error::param("--value", s.value, "must be a finite number"));
    }
    if s.n == 0 {
        return Err(Error::param("--n", 0, "must be at least 1"));
    }
    let f = s.format;
    let n = if s.rounding.is_stochastic() { s.n } else { 1 };
    let th = theory(s.value, f, s.rounding);
    let ov = |c: i128| f.overflow().apply(c, f.wl()).0;
    let (lo_code, hi_code) = (ov(th.lo_code), ov(th.hi_code));

    let mut bits = s.source.stream(s.seed, 0)?;
    let xs = vec![s.value; CALL.min(n as usize)];
    let mut codes = Codes::zeros(f.container(), xs.len());
    // Moments of d = code − lo_code (every result is lo or hi unless the overflow rule
    // intervenes): an exact integer sum of d and an f64 sum of d².
    let (mut sum_d, mut sum_d2, mut ups, mut overflows) = (0i128, 0f64, 0u64, 0u64);
    let mut left = n;
    while left > 0 {
        let m = left.min(xs.len() as u64) as usize;
        if m < codes.len() {
            codes = Codes::zeros(f.container(), m);
        }
        overflows += quantize_calls(&xs[..m], f, s.rounding, &mut codes, &mut bits)?;
        with_codes!(&codes, v => for c in v.iter() {
            let d = c.to_i64() as i128 - lo_code as i128;
            sum_d += d;
            sum_d2 += (d as f64) * (d as f64);
            ups += (lo_code != hi_code && c.to_i64() == hi_code) as u64;
        });
        left -= m as u64;
    }
    let nf = n as f64;
    let mean_d = sum_d as f64 / nf;
    let mean_code = lo_code as f64 + mean_d;
    let var_code = (sum_d2 / nf - mean_d * mean_d).max(0.0);
    let delta = f.delta();
    let mean = mean_code * delta;
    Ok(RoundReport {
        wl: f.wl(),
        fl: f.fl(),
        delta,
        range: [f.min_value(), f.max_value()],
        rounding: s.rounding.to_string(),
        overflow: f.overflow().to_string(),
        source: s.source.to_string(),
        seed: s.seed,
        value: s.value,
        random_bits: s.rounding.bits_per_f64(),
        lo: f.value(lo_code),
        lo_code,
        hi: f.value(hi_code),
        hi_code,
        fixed: fixed_text(f, lo_code)
            .zip(fixed_text(f, hi_code))
            .map(|(a, b)| [a, b]),
        fraction: th.fraction,
        p_up_theory: th.p_up,
        p_up: ups as f64 / nf,
        mean,
        var: var_code * delta * delta,
        mean_theory: th.mean,
        var_theory: th.var,
        bias: mean - s.value,
        bias_theory: th.mean - s.value,
        mean_stderr: (th.var / nf).sqrt(),
        n,
        overflows,
    })
}
