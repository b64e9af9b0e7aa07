//! One-step laws of the engine's quantizers: the exact pmf of the code a rounding, an
//! overflow rule, a noise generator or a variance-corrected quantizer produces from a given
//! input law.
//!
//! Inputs come in three kinds, as in the samplers: a point (an `f64`, or an integer code with
//! extra fraction bits), and a Gaussian in code units (the float datapath's pre-rounding value
//! `mean + sd·z`). Every probability is taken from the engine's own definitions:
//! [`Rounding::p_up_f64`] / [`Rounding::p_up_code`] for P(up), [`Overflow::apply`](lpmc_kernels::Overflow::apply) for the
//! overflow rule, [`lpmc_kernels::rules::vc::qvc_code`]'s categorical law for Q^vc.

use crate::format::Format;
use crate::target::dist1::{big_phi, big_phi_c, phi};
use lpmc_kernels::rules::vc::{code_var, V0};
use lpmc_kernels::Rounding;

/// Half-width, in standard deviations, of the Gaussian windows: the engine's Box–Muller
/// normals never exceed √(2·53·ln 2) ≈ 8.57 in magnitude, so nothing beyond is ever drawn
/// (and the Gaussian mass beyond is 10⁻¹⁷).
pub const REACH: f64 = 8.6;

/// A pmf on the consecutive integers `lo, lo + 1, …` (possibly unnormalized).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pmf {
    /// The integer of `p[0]`.
    pub lo: i64,
    /// Probabilities.
    pub p: Vec<f64>,
}

impl Pmf {
    /// A point mass at `k`.
    pub fn point(k: i64) -> Self {
        Pmf {
            lo: k,
            p: vec![1.0],
        }
    }

    /// `(value, probability)` pairs with positive probability.
    pub fn iter(&self) -> impl Iterator<Item = (i64, f64)> + '_ {
        self.p
            .iter()
            .enumerate()
            .filter(|(_, &w)| w > 0.0)
            .map(move |(i, &w)| (self.lo + i as i64, w))
    }

    /// Total mass.
    pub fn total(&self) -> f64 {
        self.p.iter().sum()
    }
}

/// A pmf of state codes after an overflow rule, with the probability that the rule fired
/// (an overflow event).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Coded {
    /// `(code, probability)`, codes inside the format, each code once, ascending.
    pub codes: Vec<(i64, f64)>,
    /// Probability of an overflow event.
    pub event: f64,
}

impl Coded {
    /// Applies `format`'s overflow rule to the unclipped codes of `pmf`.
    pub fn from_pmf(pmf: &Pmf, format: Format) -> Self {
        Self::from_pairs(pmf.iter().map(|(k, w)| (k as i128, w)), format)
    }

    /// Applies `format`'s overflow rule to unclipped `(code, probability)` pairs.
    pub fn from_pairs(pairs: impl Iterator<Item = (i128, f64)>, format: Format) -> Self {
        let mut out: Vec<(i64, f64)> = Vec::new();
        let mut event = 0.0;
        for (k, w) in pairs {
            let (c, over) = format.overflow().apply(k, format.wl());
            if over {
                event += w;
            }
            out.push((c, w));
        }
        out.sort_unstable_by_key(|e| e.0);
        let mut merged: Vec<(i64, f64)> = Vec::with_capacity(out.len());
        for (c, w) in out {
            match merged.last_mut() {
                Some(last) if last.0 == c => last.1 += w,
                _ => merged.push((c, w)),
            }
        }
        Coded {
            codes: merged,
            event,
        }
    }
}

/// The law of `round_f64(y·Δ, fl, rounding, u)` over the random word `u`, for `y` the input
/// in code units (finite): `⌊y⌋` and `⌊y⌋ + 1` with P(up) = [`Rounding::p_up_f64`].
pub fn round_point(y: f64, rounding: Rounding) -> [(i128, f64); 2] {
    let f = y.floor() as i128;
    let p = rounding.p_up_f64(y);
    [(f, 1.0 - p), (f + 1, p)]
}

/// The law of `round_code(k, shift, rounding, u)` over the random bits `u`: the code shifted
/// exactly when `shift ≤ 0`, else `k >> shift` and one more with P(up) =
/// [`Rounding::p_up_code`].
pub fn round_code_law(k: i128, shift: i32, rounding: Rounding) -> [(i128, f64); 2] {
    if shift <= 0 {
        return [(k << (-shift) as u32, 1.0), (0, 0.0)];
    }
    let s = shift as u32;
    let floor = k >> s;
    let d = (k & ((1i128 << s) - 1)) as u64;
    let p = rounding.p_up_code(d, s, floor & 1 == 1, k < 0);
    [(floor, 1.0 - p), (floor + 1, p)]
}

/// `x·Φ(x) + φ(x)`, the antiderivative of Φ.
fn psi(x: f64) -> f64 {
    x * big_phi(x) + phi(x)
}

/// The law of the rounded code of `Y ~ N(mu, t²)` (code units, t > 0), before overflow:
/// `P(out = c)` for every code whose probability is not below the Gaussian reach (the mass
/// beyond the window is put on its end codes, so the pmf sums to 1 up to round-off).
///
/// With F, S the CDF and survival function of Y, P(out ≤ c) is, per mode: `floor` F(c+1);
/// nearest F(c+½) (ties have probability 0); `toward-zero` F(c+1) for c ≥ 0, F(c) for
/// c < 0; `sr` ∫_c^{c+1} F (P(up) = f; the engine's ⌈f·2^53⌉/2^53 differs by ≤ 2^−53);
/// `sr:R` the right Riemann sum (1/N)·Σ_{m=1..N} F(c + m/N), N = 2^R; `src:R` the midpoint
/// sum (1/N)·Σ_{m=1..N} F(c + (m − ½)/N). Each is evaluated from below (F) left of the mean
/// and from above (S) right of it, so both tails keep their relative accuracy. The sums run
/// over the fine points within the window only (the others contribute 0 or 1/N each); when
/// N·t ≥ 16 they are replaced by their Euler–Maclaurin expansion to order N⁻⁴, whose
/// remainder is O((2πNt)⁻⁶) < 10⁻¹².
pub fn round_gauss(mu: f64, t: f64, rounding: Rounding) -> Pmf {
    let lo = (mu - REACH * t).floor() as i64 - 2;
    let hi = (mu + REACH * t).floor() as i64 + 2;
    // below[c] = P(out ≤ c) for c < mu, above[c] = P(out > c) for c ≥ mu.
    let cdf = |c: i64| -> (f64, bool) {
        let upper = c as f64 >= mu;
        (cumulative(mu, t, rounding, c, upper), upper)
    };
    let mut p = Vec::with_capacity((hi - lo + 1) as usize);
    let mut prev = cdf(lo - 1);
    for c in lo..=hi {
        let cur = if c == hi { (0.0, true) } else { cdf(c) };
        let w = match (prev.1, cur.1) {
            (false, false) => cur.0 - prev.0,
            (true, true) => prev.0 - cur.0,
            // From below to above: P(out = c) = 1 − P(≤ c−1) − P(> c).
            (false, true) => 1.0 - prev.0 - cur.0,
            (true, false) => unreachable!("codes ascend"),
        };
        let w = if c == lo { w + prev_mass(prev) } else { w };
        p.push(w.max(0.0));
        prev = cur;
    }
    Pmf { lo, p }
}

/// The mass strictly below the window's first code (`P(out ≤ lo − 1)`).
fn prev_mass(prev: (f64, bool)) -> f64 {
    if prev.1 {
        1.0 - prev.0
    } else {
        prev.0
    }
}

/// `P(out ≤ c)` (`upper` false) or `P(out > c)` (`upper` true) for Y ~ N(mu, t²).
fn cumulative(mu: f64, t: f64, rounding: Rounding, c: i64, upper: bool) -> f64 {
    let c = c as f64;
    let z = |y: f64| (y - mu) / t;
    let tail = |y: f64| {
        if upper {
            big_phi_c(z(y))
        } else {
            big_phi(z(y))
        }
    };
    match rounding {
        Rounding::Floor => tail(c + 1.0),
        Rounding::NearestEven | Rounding::NearestAway => tail(c + 0.5),
        Rounding::TowardZero => tail(if c >= 0.0 { c + 1.0 } else { c }),
        Rounding::StochasticExact => integral(mu, t, c, upper),
        Rounding::Stochastic { bits } => riemann(mu, t, c, bits, false, upper),
        Rounding::StochasticCorrected { bits } => riemann(mu, t, c, bits, true, upper),
    }
}

/// ∫_c^{c+1} F (lower) or ∫_c^{c+1} S (upper).
fn integral(mu: f64, t: f64, c: f64, upper: bool) -> f64 {
    let (a, b) = ((c - mu) / t, (c + 1.0 - mu) / t);
    let v = if upper {
        t * (psi(-a) - psi(-b))
    } else {
        t * (psi(b) - psi(a))
    };
    v.clamp(0.0, 1.0)
}

/// (1/N)·Σ_m F(c + x_m) (lower) or (1/N)·Σ_m S(c + x_m) (upper), x_m = m/N (`mid` false,
/// m = 1..N) or (m − ½)/N (`mid` true).
fn riemann(mu: f64, t: f64, c: f64, bits: u32, mid: bool, upper: bool) -> f64 {
    let n = (bits as f64).exp2();
    if n * t >= 16.0 {
        return euler_maclaurin(mu, t, c, n, mid, upper);
    }
    let off = if mid { -0.5 } else { 0.0 };
    // Fine points m with |c + (m + off)/N − mu| ≤ REACH·t are summed; below the window F = 0
    // (S = 1), above F = 1 (S = 0).
    let x = |m: f64| c + (m + off) / n;
    let m_lo = (((mu - REACH * t - c) * n - off).ceil()).max(1.0);
    let m_hi = (((mu + REACH * t - c) * n - off).floor()).min(n);
    let mut sum = 0.0;
    if m_lo <= m_hi {
        let mut m = m_lo;
        while m <= m_hi {
            let zz = (x(m) - mu) / t;
            sum += if upper { big_phi_c(zz) } else { big_phi(zz) };
            m += 1.0;
        }
    }
    // Points beyond the window: F = 1 above it (S = 1 below it).
    let (below, above) = if m_lo > m_hi {
        // The whole cell is on one side of the window.
        if x(1.0) > mu {
            (0.0, n)
        } else {
            (n, 0.0)
        }
    } else {
        (m_lo - 1.0, n - m_hi)
    };
    sum += if upper { below } else { above };
    (sum / n).clamp(0.0, 1.0)
}

/// The Euler–Maclaurin form of [`riemann`]: with f the density of Y,
/// right sums: ∫F + (F(c+1) − F(c))/(2N) + (f(c+1) − f(c))/(12N²) − (f''(c+1) − f''(c))/(720N⁴);
/// midpoint sums: ∫F − (f(c+1) − f(c))/(24N²) + 7(f''(c+1) − f''(c))/(5760N⁴);
/// for S replace F by S and f by −f.
fn euler_maclaurin(mu: f64, t: f64, c: f64, n: f64, mid: bool, upper: bool) -> f64 {
    let (a, b) = ((c - mu) / t, (c + 1.0 - mu) / t);
    let dens = |z: f64| phi(z) / t;
    let dens2 = |z: f64| phi(z) * (z * z - 1.0) / (t * t * t);
    let sign = if upper { -1.0 } else { 1.0 };
    let df = sign * (dens(b) - dens(a));
    let df2 = sign * (dens2(b) - dens2(a));
    let base = integral(mu, t, c, upper);
    let v = if mid {
        base - df / (24.0 * n * n) + 7.0 * df2 / (5760.0 * n.powi(4))
    } else {
        let tail = |z: f64| if upper { big_phi_c(z) } else { big_phi(z) };
        base + (tail(b) - tail(a)) / (2.0 * n) + df / (12.0 * n * n) - df2 / (720.0 * n.powi(4))
    };
    v.clamp(0.0, 1.0)
}

/// The law of [`lpmc_kernels::rules::vc::qvc_code`]`(y, v, z, words)` over the normal `z` and the two
/// words (code units, before overflow), for a finite mean `y` and a variance `v ≥ 0`.
///
/// - v > v0 = ¼: x = y + √(v − v0)·z, q = nearest(x), r = x − q; θ = q + 1 with probability
///   (v0 + r² + r)/2, q − 1 with (v0 + r² − r)/2, q otherwise (the sign flip of the
///   categorical for r < 0 gives the same two formulas). Integrated over x cell by cell with
///   the truncated Gaussian moments of r (closed forms in Φ, φ).
/// - v ≤ v0: q = ⌊y⌋ + 1 with P = [`Rounding::p_up_f64`] of exact SR, then ±1 each with
///   probability w/2, w = max(v − f(1−f), 0).
///
/// The engine compares the categorical probabilities with 53-bit uniforms, which moves each
/// by at most 2^−52.
pub fn qvc_code_law(y: f64, v: f64) -> Pmf {
    if v > V0 {
        let sd = (v - V0).sqrt();
        let q_lo = (y - REACH * sd).round() as i64 - 1;
        let q_hi = (y + REACH * sd).round() as i64 + 1;
        let mut p = vec![0.0; (q_hi - q_lo + 3) as usize];
        for q in q_lo..=q_hi {
            // r = x − q on [−½, ½), x ~ N(y, sd²): r ~ N(m, sd²) truncated, m = y − q.
            let m = y - q as f64;
            let (al, be) = ((-0.5 - m) / sd, (0.5 - m) / sd);
            let m0 = if al > 0.0 {
                big_phi_c(al) - big_phi_c(be)
            } else {
                big_phi(be) - big_phi(al)
            };
            if m0 <= 0.0 {
                continue;
            }
            let (pa, pb) = (phi(al), phi(be));
            // E[(r − m)] and E[(r − m)²] on the cell, times its mass.
            let c1 = sd * (pa - pb);
            let c2 = sd * sd * (m0 + al * pa - be * pb);
            let m1 = m * m0 + c1;
            let m2 = m * m * m0 + 2.0 * m * c1 + c2;
            let i = (q - q_lo + 1) as usize;
            p[i + 1] += 0.5 * (V0 * m0 + m2 + m1);
            p[i - 1] += 0.5 * (V0 * m0 + m2 - m1);
            p[i] += (1.0 - V0) * m0 - m2;
        }
        for w in &mut p {
            *w = w.max(0.0);
        }
        Pmf { lo: q_lo - 1, p }
    } else {
        let f0 = y.floor();
        let f = y - f0;
        let w = (v - f * (1.0 - f)).max(0.0);
        let up = Rounding::StochasticExact.p_up_f64(y);
        let lo = f0 as i64 - 1;
        let (a, b) = (1.0 - up, up);
        Pmf {
            lo,
            p: vec![
                a * w / 2.0,
                a * (1.0 - w) + b * w / 2.0,
                b * (1.0 - w) + a * w / 2.0,
                b * w / 2.0,
            ],
        }
    }
}

/// The law of `lpmc::vc::qvc(mu, var, format, z, …)` (value units), overflow applied: `mu`
/// and `var` converted to code units exactly as `qvc` does.
pub fn qvc_law(mu: f64, var: f64, format: Format) -> Coded {
    let y = mu * (format.fl() as f64).exp2();
    let v = code_var(var, format.fl());
    Coded::from_pmf(&qvc_code_law(y, v), format)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Gaussian law of every mode against a direct numerical integral of the engine's
    /// P(up): composite Gauss–Legendre on every piece between the rounding's breakpoints
    /// (an independent route); the two agree to 1e-11 in every code (the Euler–Maclaurin
    /// remainder at N·t = 18 is ≈ 10⁻¹²).
    #[test]
    fn gaussian_law_matches_quadrature_of_p_up() {
        use crate::wasserstein::quad::gauss_legendre;
        let (xs, ws) = gauss_legendre(16);
        for (mu, t) in [
            (0.3, 0.7),
            (-5.21, 2.3),
            (10.5, 0.05),
            (0.0, 0.4),
            (3.77, 6.0),
        ] {
            for rounding in [
                Rounding::Floor,
                Rounding::NearestEven,
                Rounding::NearestAway,
                Rounding::TowardZero,
                Rounding::StochasticExact,
                Rounding::Stochastic { bits: 0 },
                Rounding::Stochastic { bits: 3 },
                Rounding::Stochastic { bits: 7 },
                Rounding::Stochastic { bits: 12 },
                Rounding::StochasticCorrected { bits: 2 },
                Rounding::StochasticCorrected { bits: 9 },
            ] {
                let law = round_gauss(mu, t, rounding);
                assert!((law.total() - 1.0).abs() < 1e-13, "{rounding} total");
                // Pieces of 1/fine code: a power of two that holds every breakpoint of P(up)
                // (m/2^R for sr:R, (m − ½)/2^R for src:R: 2^(R+1) per code) and is below t/8,
                // so 16-point Gauss–Legendre on each piece integrates a smooth Gaussian
                // piece to round-off.
                let grid = match rounding {
                    Rounding::Stochastic { bits } | Rounding::StochasticCorrected { bits } => {
                        2f64.powi(bits as i32 + 1)
                    }
                    _ => 2.0,
                };
                let fine = grid.max((8.0 / t).log2().ceil().exp2()).max(64.0);
                for (c, w) in law.iter().filter(|(_, w)| *w > 1e-6) {
                    let mut q = 0.0;
                    let lo = (c - 1) as f64;
                    let pieces = (2.0 * fine) as usize;
                    for k in 0..pieces {
                        let a = lo + k as f64 / fine;
                        let b = a + 1.0 / fine;
                        for (x, wt) in xs.iter().zip(&ws) {
                            let y = 0.5 * (a + b) + 0.5 * (b - a) * x;
                            let dens = phi((y - mu) / t) / t;
                            let p = rounding.p_up_f64(y);
                            let fl = y.floor() as i64;
                            let pc = if fl == c {
                                1.0 - p
                            } else if fl + 1 == c {
                                p
                            } else {
                                0.0
                            };
                            q += 0.5 * (b - a) * wt * dens * pc;
                        }
                    }
                    assert!(
                        (q - w).abs() < 1e-11,
                        "{rounding} mu={mu} t={t} c={c}: {w} vs {q}"
                    );
                }
                // The mean: E[out] = mu − E[bias]; sr:R is biased by −E[frac(N·f)]/N ≈ −1/(2N)
                // when N·t ≫ 1, src:R by ≈ 0.
                let mean: f64 = law.iter().map(|(c, w)| c as f64 * w).sum();
                let bias = match rounding {
                    Rounding::Stochastic { bits } if t * 2f64.powi(bits as i32) > 4.0 => {
                        Some(-0.5 / 2f64.powi(bits as i32))
                    }
                    Rounding::StochasticCorrected { bits } if t * 2f64.powi(bits as i32) > 4.0 => {
                        Some(0.0)
                    }
                    Rounding::StochasticExact => Some(0.0),
                    _ => None,
                };
                if let Some(b) = bias {
                    assert!(
                        (mean - mu - b).abs() < 1e-9,
                        "{rounding} mu={mu} t={t}: mean {mean}"
                    );
                }
            }
        }
    }

    /// The Euler–Maclaurin form equals the direct sum where both apply.
    #[test]
    fn euler_maclaurin_equals_the_direct_sum() {
        for (mu, t) in [(0.3, 2.0), (-3.1, 5.0)] {
            for bits in [4u32, 6] {
                for mid in [false, true] {
                    for c in -6..6 {
                        for upper in [false, true] {
                            let n = 2f64.powi(bits as i32);
                            assert!(n * t >= 16.0);
                            let em = euler_maclaurin(mu, t, c as f64, n, mid, upper);
                            let off = if mid { -0.5 } else { 0.0 };
                            let direct: f64 = (1..=n as i64)
                                .map(|m| {
                                    let z = (c as f64 + (m as f64 + off) / n - mu) / t;
                                    if upper {
                                        big_phi_c(z)
                                    } else {
                                        big_phi(z)
                                    }
                                })
                                .sum::<f64>()
                                / n;
                            assert!(
                                (em - direct).abs() < 1e-12,
                                "{mu} {t} {bits} {mid} {c}: {em} vs {direct}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// The Q^vc law against the engine: 4·10⁵ draws of `qvc_code` per setting; each code's
    /// frequency within 5 binomial standard errors (plus 1e-4 for the rare codes).
    #[test]
    fn qvc_law_matches_qvc_code_draws() {
        use lpmc_kernels::rules::vc::qvc_code;
        use lpmc_kernels::{WordSource, Xoshiro};
        let n = 400_000;
        for (y, v) in [
            (0.3, 0.1),
            (4.8, 0.0),
            (-2.5, 0.25),
            (1.37, 0.26),
            (0.0, 3.0),
            (-7.9, 40.0),
        ] {
            let law = qvc_code_law(y, v);
            assert!((law.total() - 1.0).abs() < 1e-13);
            let mut bits = Xoshiro::new(3, 1);
            let mut counts = std::collections::BTreeMap::new();
            for _ in 0..n {
                let z = crate::vc::tests::normal(&mut bits);
                let w = [bits.next_word(), bits.next_word()];
                *counts.entry(qvc_code(y, v, z, w) as i64).or_insert(0u64) += 1;
            }
            for (c, p) in law.iter() {
                let f = *counts.get(&c).unwrap_or(&0) as f64 / n as f64;
                let se = (p * (1.0 - p) / n as f64).sqrt();
                assert!(
                    (f - p).abs() < 5.0 * se + 1e-4,
                    "y={y} v={v} c={c}: {f} vs {p}"
                );
            }
            let seen: u64 = counts
                .iter()
                .filter(|(c, _)| law.iter().all(|(k, _)| k != **c))
                .map(|(_, n)| n)
                .sum();
            assert_eq!(seen, 0, "draws outside the law's support");
        }
    }
}
