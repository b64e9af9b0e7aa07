//! Verdicts of the claim checks, decided from numbers with their uncertainty.
//!
//! A claim "a ≤ b" between two noisy estimates (value ± standard error) is decided with the
//! difference d = b − a and its standard error s = √(se_a² + se_b²) (the estimates come from
//! independent chains):
//!
//! - PASS when d > z·s (a is below b by more than the noise),
//! - FAIL when d < −z·s (a is above b by more than the noise),
//! - INCONCLUSIVE otherwise (the difference is within noise),
//!
//! with z = [`Z`] = 2 (a two-sided 95% level for a normal difference). A closeness check
//! "measured ≈ expected" passes when |measured − expected| ≤ z·se + tol, tol the stated
//! model tolerance. INFO reports a number without deciding anything.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// Number of standard errors a difference must exceed to count as resolved (≈ 95%).
pub const Z: f64 = 2.0;

/// The outcome of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    /// The claim holds beyond the noise.
    Pass,
    /// The claim is broken beyond the noise.
    Fail,
    /// The data cannot decide: the difference is within noise.
    Inconclusive,
    /// A number reported without a pass/fail decision.
    Info,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Inconclusive => "INCONCLUSIVE",
            Verdict::Info => "INFO",
        })
    }
}

/// A measured number and its standard error (same units; se ≥ 0, 0 for exact values).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Estimate {
    /// The point estimate.
    pub value: f64,
    /// Its standard error.
    pub se: f64,
}

impl Estimate {
    /// An estimate from its value and standard error.
    pub fn new(value: f64, se: f64) -> Self {
        Estimate { value, se }
    }
}

impl fmt::Display for Estimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ± {}", num(self.value), num(self.se))
    }
}

/// A number with 4 significant digits (scientific outside 1e-3..1e5).
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    let a = x.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        format!("{x:.3e}")
    } else {
        let digits = if a == 0.0 {
            3
        } else {
            (3 - a.log10().floor() as i32).max(0) as usize
        };
        format!("{x:.digits$}")
    }
}

/// One decided (or reported) check, with the numbers that decided it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Check {
    /// Short stable identifier (e.g. `sghmc_le_sgld.gaussian.lp-l`).
    pub id: String,
    /// The claim in words.
    pub claim: String,
    /// The outcome.
    pub verdict: Verdict,
    /// How the numbers decided it, in words with the numbers.
    pub detail: String,
    /// Every number that entered the decision, by name.
    pub numbers: BTreeMap<String, f64>,
}

/// Decides "a ≤ b" from two estimates (see the module doc); `a_name`, `b_name` label them.
pub fn check_le(
    id: impl Into<String>,
    claim: impl Into<String>,
    (a_name, a): (&str, Estimate),
    (b_name, b): (&str, Estimate),
) -> Check {
    let d = b.value - a.value;
    let s = (a.se * a.se + b.se * b.se).sqrt();
    let verdict = if !(d.is_finite() && s.is_finite()) {
        Verdict::Inconclusive
    } else if d > Z * s {
        Verdict::Pass
    } else if d < -Z * s {
        Verdict::Fail
    } else {
        Verdict::Inconclusive
    };
    let sigmas = if s > 0.0 { d / s } else { f64::NAN };
    let why = match verdict {
        Verdict::Pass => format!("b − a = {} = {:.1} σ > {Z} σ", num(d), sigmas),
        Verdict::Fail => format!("b − a = {} = {:.1} σ < −{Z} σ", num(d), sigmas),
        _ => format!(
            "b − a = {} = {:.1} σ, within ±{Z} σ (difference within noise)",
            num(d),
            sigmas
        ),
    };
    let detail = format!("a = {a_name} = {a}; b = {b_name} = {b}; {why}");
    let numbers = BTreeMap::from([
        ("a".to_string(), a.value),
        ("a_se".to_string(), a.se),
        ("b".to_string(), b.value),
        ("b_se".to_string(), b.se),
        ("diff".to_string(), d),
        ("diff_se".to_string(), s),
        ("z".to_string(), Z),
    ]);
    Check {
        id: id.into(),
        claim: claim.into(),
        verdict,
        detail,
        numbers,
    }
}

/// Decides "measured ≈ expected": PASS when |m − e| ≤ [`Z`]·se + `tol`, FAIL otherwise.
pub fn check_close(
    id: impl Into<String>,
    claim: impl Into<String>,
    measured: Estimate,
    expected: f64,
    tol: f64,
) -> Check {
    let dev = (measured.value - expected).abs();
    let allowed = Z * measured.se + tol;
    let verdict = if dev <= allowed {
        Verdict::Pass
    } else {
        Verdict::Fail
    };
    let cmp = if verdict == Verdict::Pass { "≤" } else { ">" };
    let detail = format!(
        "measured {measured} vs expected {}: |diff| = {} {cmp} {Z}·se + tol = {}",
        num(expected),
        num(dev),
        num(allowed)
    );
    let numbers = BTreeMap::from([
        ("measured".to_string(), measured.value),
        ("measured_se".to_string(), measured.se),
        ("expected".to_string(), expected),
        ("tol".to_string(), tol),
        ("abs_diff".to_string(), dev),
    ]);
    Check {
        id: id.into(),
        claim: claim.into(),
        verdict,
        detail,
        numbers,
    }
}

/// A reported number without a decision.
pub fn info(
    id: impl Into<String>,
    claim: impl Into<String>,
    detail: impl Into<String>,
    numbers: &[(&str, f64)],
) -> Check {
    Check {
        id: id.into(),
        claim: claim.into(),
        verdict: Verdict::Info,
        detail: detail.into(),
        numbers: numbers.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
    }
}

/// Least-squares line y = a + b·x with the standard error of the slope b:
/// se_b = √(Σr²/(n − 2) / Σ(x − x̄)²). Returns `(b, se_b, a)`; `None` for fewer than 3 points
/// or constant x.
pub fn fit_slope(points: &[(f64, f64)]) -> Option<(f64, f64, f64)> {
    let n = points.len();
    if n < 3 {
        return None;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n as f64;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n as f64;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let b = sxy / sxx;
    let a = my - b * mx;
    let rss: f64 = points.iter().map(|p| (p.1 - a - b * p.0).powi(2)).sum();
    Some((b, (rss / (n - 2) as f64 / sxx).sqrt(), a))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 0.03 ± 0.002 vs 0.05 ± 0.002: d = 0.02, s = 0.00283, 7.1 σ > 2 σ → PASS.
    #[test]
    fn le_pass_when_resolved() {
        let c = check_le(
            "t",
            "a ≤ b",
            ("a", Estimate::new(0.03, 0.002)),
            ("b", Estimate::new(0.05, 0.002)),
        );
        assert_eq!(c.verdict, Verdict::Pass);
        assert!((c.numbers["diff"] - 0.02).abs() < 1e-15);
        assert!(c.detail.contains("7.1 σ"), "{}", c.detail);
    }

    /// a = 0.08 ± 0.003 above b = 0.05 ± 0.004: d = −0.03, s = 0.005, −6 σ → FAIL.
    #[test]
    fn le_fail_when_reversed_beyond_noise() {
        let c = check_le(
            "t",
            "a ≤ b",
            ("a", Estimate::new(0.08, 0.003)),
            ("b", Estimate::new(0.05, 0.004)),
        );
        assert_eq!(c.verdict, Verdict::Fail);
        assert!(c.detail.contains("-6.0 σ"), "{}", c.detail);
    }

    /// 0.050 ± 0.004 vs 0.055 ± 0.003: d = 0.005, s = 0.005, 1 σ → INCONCLUSIVE; the
    /// boundary d = 2s exactly is not resolved either.
    #[test]
    fn le_inconclusive_within_noise() {
        let c = check_le(
            "t",
            "a ≤ b",
            ("a", Estimate::new(0.050, 0.004)),
            ("b", Estimate::new(0.055, 0.003)),
        );
        assert_eq!(c.verdict, Verdict::Inconclusive);
        assert!(c.detail.contains("within noise"));
        let edge = check_le(
            "t",
            "a ≤ b",
            ("a", Estimate::new(0.0, 0.5)),
            ("b", Estimate::new(1.0, 0.0)),
        );
        assert_eq!(edge.verdict, Verdict::Inconclusive);
    }

    /// |1.657 − 1.650| = 0.007 ≤ 2·0.004 + 0.001 passes; 1.70 does not.
    #[test]
    fn close_pass_and_fail() {
        let ok = check_close("t", "≈", Estimate::new(1.657, 0.004), 1.650, 0.001);
        assert_eq!(ok.verdict, Verdict::Pass);
        let bad = check_close("t", "≈", Estimate::new(1.70, 0.004), 1.650, 0.001);
        assert_eq!(bad.verdict, Verdict::Fail);
    }

    /// An exact line y = 1 + 0.5x has slope 0.5 and zero standard error.
    #[test]
    fn slope_of_a_line() {
        let pts: Vec<(f64, f64)> = (0..5).map(|i| (i as f64, 1.0 + 0.5 * i as f64)).collect();
        let (b, se, a) = fit_slope(&pts).unwrap();
        assert!((b - 0.5).abs() < 1e-12 && se < 1e-12 && (a - 1.0).abs() < 1e-12);
        assert!(fit_slope(&pts[..2]).is_none());
    }

    #[test]
    fn numbers_print_with_four_digits() {
        assert_eq!(num(1.65017), "1.650");
        assert_eq!(num(0.0123456), "0.01235");
        assert_eq!(num(1.5e-5), "1.500e-5");
    }
}
