//! One-dimensional analytic laws: a Gaussian or a finite mixture of Gaussians, with what the
//! exact Wasserstein evaluator needs: the distribution function in both tails, quantiles by a
//! safeguarded root finder, and truncated moments about an interval's centre
//! ([`Dist1::centered_moments`]) computed without cancellation.

use libm::erfc;
use serde::Serialize;

/// A 1-D law the evaluator can integrate against exactly.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dist1 {
    /// N(mean, sd²), `sd > 0`.
    Gaussian {
        /// Mean.
        mean: f64,
        /// Standard deviation, > 0.
        sd: f64,
    },
    /// Σ w_k N(mean_k, sd_k²), weights positive and summing to 1.
    Mixture {
        /// Component weights.
        weights: Vec<f64>,
        /// Component means.
        means: Vec<f64>,
        /// Component standard deviations, > 0.
        sds: Vec<f64>,
    },
}

/// Standard normal density.
pub fn phi(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Standard normal CDF, accurate in both tails (via `erfc`).
pub fn big_phi(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// Standard normal survival function `1 − Φ(z) = Φ(−z)`, accurate in the upper tail.
pub fn big_phi_c(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// Standard normal quantile `Φ⁻¹`, given both `p` and `q = 1 − p` (the caller computes `q`
/// exactly when it can, so that upper quantiles keep their relative accuracy).
///
/// Acklam's rational approximation (relative error < 1.2e−9) refined by one Halley step on
/// `Φ(z) − p` (or `Φc(z) − q` in the upper half), which brings it to full double precision.
/// `p = 0` gives −∞ and `q = 0` gives +∞.
///
/// ```
/// use lpmc::target::dist1::norm_quantile;
/// assert!((norm_quantile(0.975, 0.025) - 1.959963984540054).abs() < 1e-15);
/// assert_eq!(norm_quantile(0.0, 1.0), f64::NEG_INFINITY);
/// ```
pub fn norm_quantile(p: f64, q: f64) -> f64 {
    if p <= q {
        norm_quantile_lower(p)
    } else {
        -norm_quantile_lower(q)
    }
}

/// `Φ⁻¹(p)` for `p ≤ ½` (accurate relative to `p`).
fn norm_quantile_lower(p: f64) -> f64 {
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p.is_nan() {
        return f64::NAN;
    }
    const A: [f64; 6] = [
        -3.969683028665376e+01,
        2.209460984245205e+02,
        -2.759285104469687e+02,
        1.383_577_518_672_69e2,
        -3.066479806614716e+01,
        2.506628277459239e+00,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e+01,
        1.615858368580409e+02,
        -1.556989798598866e+02,
        6.680131188771972e+01,
        -1.328068155288572e+01,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-03,
        -3.223964580411365e-01,
        -2.400758277161838e+00,
        -2.549732539343734e+00,
        4.374664141464968e+00,
        2.938163982698783e+00,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-03,
        3.224671290700398e-01,
        2.445134137142996e+00,
        3.754408661907416e+00,
    ];
    let z = if p < 0.02425 {
        let t = (-2.0 * p.ln()).sqrt();
        (((((C[0] * t + C[1]) * t + C[2]) * t + C[3]) * t + C[4]) * t + C[5])
            / ((((D[0] * t + D[1]) * t + D[2]) * t + D[3]) * t + 1.0)
    } else {
        let t = p - 0.5;
        let r = t * t;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * t
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    };
    // One Halley step on Φ(z) − p; e/φ(z) is computed as a ratio so that it stays finite
    // in the far tail.
    let e = big_phi(z) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (0.5 * z * z).exp();
    let z1 = z - u / (1.0 + 0.5 * z * u);
    if z1.is_finite() {
        z1
    } else {
        z
    }
}

/// Moments of a law restricted to an interval, about a common centre `center`:
/// `m_j = ∫_a^b (y − center)^j dF(y)` for `j = 0, 1, 2` (so `m0 = F(b) − F(a)`).
///
/// With these, `∫_a^b (x − y)² dF(y) = m0·(x − c)² − 2(x − c)·m1 + m2` for any `x`: every term
/// is of the size of the result when `x` lies near the interval, which is what keeps the
/// exact W2 free of cancellation.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CenteredMoments {
    /// The centre c: the midpoint of a finite interval, the finite end of a half-line, the
    /// mean of the law for the whole line.
    pub center: f64,
    /// Probability of the interval.
    pub m0: f64,
    /// First moment about the centre (units of x).
    pub m1: f64,
    /// Second moment about the centre (units of x²).
    pub m2: f64,
}

impl CenteredMoments {
    /// `∫_a^b (x − y)² dF(y)` from the centred moments.
    #[inline]
    pub fn squared_distance(&self, x: f64) -> f64 {
        let d = x - self.center;
        (self.m0 * d * d - 2.0 * d * self.m1 + self.m2).max(0.0)
    }

    /// `∫_a^b (x − y) dF(y) = m0·(x − c) − m1` (signed).
    #[inline]
    pub fn signed_distance(&self, x: f64) -> f64 {
        self.m0 * (x - self.center) - self.m1
    }
}

/// Truncated moments of the standard normal on `[α, β]` about a centre `u_c`, as
/// `(P, E[(u − u_c)·1], E[(u − u_c)²·1])` restricted to the interval (i.e. unnormalised:
/// the second and third entries are already multiplied by P). Cases:
/// - narrow finite interval (half-width r ≤ ½, r·|mid| ≤ ½): centre = midpoint, series of
///   `φ(mid + t) = φ(mid)·Σ_j He_j(−mid) t^j/j!` integrated term by term over `[−r, r]`;
/// - half-line `[t, ∞)` with t ≥ 3 (and its mirror): centre = the finite end, Laplace's
///   continued fraction for the Mills ratio, written so that `E[u] − t` and `Var` come out
///   directly (no difference of large numbers);
/// - otherwise the closed forms `∫uφ = φ(α) − φ(β)`, `∫u²φ = P + αφ(α) − βφ(β)` shifted to
///   the centre (moderate intervals, where they lose at most a couple of digits).
fn std_centered(alpha: f64, beta: f64, uc: f64) -> (f64, f64, f64) {
    if alpha >= beta {
        return (0.0, 0.0, 0.0);
    }
    if beta == f64::INFINITY && alpha >= 3.0 {
        let (p, m1, m2) = std_upper_tail(alpha);
        let s = alpha - uc;
        return (p, m1 + s * p, m2 + 2.0 * s * m1 + s * s * p);
    }
    if alpha == f64::NEG_INFINITY && beta <= -3.0 {
        let (p, m1, m2) = std_upper_tail(-beta);
        let s = beta - uc;
        return (p, -m1 + s * p, m2 - 2.0 * s * m1 + s * s * p);
    }
    // Closed forms, with P from the tail where it is small.
    let p = if alpha >= 0.0 {
        big_phi_c(alpha) - big_phi_c(beta)
    } else if beta <= 0.0 {
        big_phi(beta) - big_phi(alpha)
    } else {
        1.0 - big_phi(alpha) - big_phi_c(beta)
    };
    if p <= 0.0 {
        return (0.0, 0.0, 0.0);
    }
    let (pa, pb) = (phi_ext(alpha), phi_ext(beta));
    let (apa, bpb) = (uphi_ext(alpha), uphi_ext(beta));
    let e1 = (pa - pb) / p; // E[u | interval]
    let e2 = 1.0 + (apa - bpb) / p; // E[u² | interval]
    let var = (e2 - e1 * e1).max(0.0);
    let off = e1 - uc;
    (p, p * off, p * (var + off * off))
}

/// [`std_centered`] on the finite interval `[mid − r, mid + r]` about its midpoint.
fn std_centered_finite(mid: f64, r: f64) -> (f64, f64, f64) {
    if r.is_nan() || r <= 0.0 {
        return (0.0, 0.0, 0.0);
    }
    if r <= NARROW && r * mid.abs() <= NARROW {
        let (p, m1, m2, _) = narrow_moments(mid, r, phi(mid));
        (p, m1, m2)
    } else if r <= 0.5 && r * mid.abs() <= 0.5 {
        std_series(mid, r)
    } else {
        std_centered(mid - r, mid + r, mid)
    }
}

/// Bound on `r` and `r·|mid|` below which [`narrow_moments`] is exact to double precision.
pub(crate) const NARROW: f64 = 1e-3;

/// The Hermite series of [`std_series`] cut after `He_6`, for `r ≤ 10⁻³` and
/// `r·|mid| ≤ 10⁻³` (the first omitted terms are below 10⁻¹⁸ of the results): returns
/// `(P, ∫t dΦ, ∫t² dΦ, φ(mid + r))` over `[mid − r, mid + r]`, `t = u − mid`, given
/// `phi_mid = φ(mid)`. No loop and no `exp`: the hot path of the exact W2 sweep for large n.
#[inline]
pub(crate) fn narrow_moments(mid: f64, r: f64, phi_mid: f64) -> (f64, f64, f64, f64) {
    let x = -mid;
    let x2 = x * x;
    // c_j = He_j(x)/j!.
    let c1 = x;
    let c2 = (x2 - 1.0) * 0.5;
    let c3 = x * (x2 - 3.0) * (1.0 / 6.0);
    let c4 = (x2 * (x2 - 6.0) + 3.0) * (1.0 / 24.0);
    let c5 = x * (x2 * (x2 - 10.0) + 15.0) * (1.0 / 120.0);
    let c6 = (x2 * (x2 * (x2 - 15.0) + 45.0) - 15.0) * (1.0 / 720.0);
    let r2 = r * r;
    if r.max(r * mid.abs()) <= 1e-5 {
        // The r⁶ terms are below (10⁻⁵)⁴ = 10⁻²⁰ of the results: stop at r⁴.
        let scale = 2.0 * r * phi_mid;
        let i0 = 1.0 + r2 * (c2 * (1.0 / 3.0) + r2 * c4 * 0.2);
        let i1 = r2 * (c1 * (1.0 / 3.0) + r2 * c3 * 0.2);
        let i2 = r2 * (1.0 / 3.0 + r2 * c2 * 0.2);
        return (
            scale * i0,
            scale * i1,
            scale * i2,
            phi_mid * exp_small(-mid * r - 0.5 * r2),
        );
    }
    let i0 = 1.0 + r2 * (c2 * (1.0 / 3.0) + r2 * (c4 * 0.2 + r2 * c6 * (1.0 / 7.0)));
    let i1 = r2 * (c1 * (1.0 / 3.0) + r2 * (c3 * 0.2 + r2 * c5 * (1.0 / 7.0)));
    let i2 = r2 * (1.0 / 3.0 + r2 * (c2 * 0.2 + r2 * c4 * (1.0 / 7.0)));
    let scale = 2.0 * r * phi_mid;
    // φ(mid + r) = φ(mid)·e^t, t = −mid·r − r²/2, |t| ≤ 1.0005e−3.
    (
        scale * i0,
        scale * i1,
        scale * i2,
        phi_mid * exp_small(-mid * r - 0.5 * r2),
    )
}

/// `e^t` for `|t| ≤ 2.5·10⁻³` by its Taylor polynomial to `t⁶` (error < t⁷/7! < 10⁻²¹),
/// evaluated in Estrin's form (three short independent chains instead of one long Horner
/// chain: it sits on the critical path of the W2 sweep).
#[inline]
pub(crate) fn exp_small(t: f64) -> f64 {
    let t2 = t * t;
    let t4 = t2 * t2;
    (1.0 + t)
        + t2 * (0.5 + t * (1.0 / 6.0))
        + t4 * ((1.0 / 24.0 + t * (1.0 / 120.0)) + t2 * (1.0 / 720.0))
}

/// φ(u), 0 at ±∞.
fn phi_ext(u: f64) -> f64 {
    if u.is_finite() {
        phi(u)
    } else {
        0.0
    }
}

/// u·φ(u), 0 at ±∞.
fn uphi_ext(u: f64) -> f64 {
    if u.is_finite() {
        u * phi(u)
    } else {
        0.0
    }
}

/// `(P, ∫t dΦ, ∫t² dΦ)` over `[mid − r, mid + r]` with `t = u − mid`, by the Hermite series
/// `e^{−mid·t − t²/2} = Σ_j He_j(−mid) t^j / j!` (terms fall at least as `(½)^j`).
fn std_series(mid: f64, r: f64) -> (f64, f64, f64) {
    let x = -mid;
    let r2 = r * r;
    // c_j = He_j(x)/j!, by He_{j+1} = x He_j − j He_{j−1}, i.e.
    // c_{j+1} = (x c_j − c_{j−1}) / (j + 1).
    let (mut c_prev, mut c) = (0.0f64, 1.0f64);
    // ∫_{−r}^{r} t^k dt = 2 r^{k+1}/(k+1) for even k, 0 for odd k.
    let (mut i0, mut i1, mut i2) = (0.0f64, 0.0f64, 0.0f64);
    let mut rj = 1.0f64; // r^j
    for j in 0..60usize {
        if j % 2 == 0 {
            // t^j and t^{j+2} are even: contribute to I0 and I2.
            i0 += c * rj / (j + 1) as f64;
            i2 += c * rj * r2 / (j + 3) as f64;
        } else {
            i1 += c * rj * r / (j + 2) as f64;
        }
        // Stop once two consecutive terms are below 1e−17 of the size of the second moment
        // (~r²), the scale every result is compared with. (Two, because He_j(0) = 0 for odd
        // j; consecutive Hermite polynomials have no common root.)
        if j >= 3 && c.abs() * rj < 1e-17 * r2 && c_prev.abs() * rj < 1e-17 * r2 * r {
            break;
        }
        let next = (x * c - c_prev) / (j + 1) as f64;
        c_prev = c;
        c = next;
        rj *= r;
    }
    // Each integral carries the common factor 2r (from ∫ t^k = 2 r^{k+1}/(k+1)) and φ(mid).
    let scale = 2.0 * r * phi(mid);
    (scale * i0, scale * i1, scale * i2)
}

/// `(P, ∫(u − t) dΦ, ∫(u − t)² dΦ)` over `[t, ∞)` for t ≥ 3, by Laplace's continued fraction
/// `D_j = t + (j+1)/D_{j+1}` (Mills ratio `Φc(t)/φ(t) = 1/D_0`): `E[u] − t = 1/D_1` and
/// `E[(u − t)²] = 2/(D_1 D_2)`.
fn std_upper_tail(t: f64) -> (f64, f64, f64) {
    let mut d = [0.0f64; 3];
    let mut dj = t;
    for j in (0..200usize).rev() {
        // dj holds D_{j+1}; D_j = t + (j+1)/D_{j+1}.
        dj = t + (j + 1) as f64 / dj;
        if j < 3 {
            d[j] = dj;
        }
    }
    let p = big_phi_c(t);
    let e1 = 1.0 / d[1];
    let e2 = 2.0 / (d[1] * d[2]);
    (p, p * e1, p * e2)
}

/// Weight of the single component of a Gaussian.
static ONE: [f64; 1] = [1.0];

impl Dist1 {
    /// The components as three slices `(weights, means, sds)`, without allocating.
    pub fn parts(&self) -> (&[f64], &[f64], &[f64]) {
        match self {
            Dist1::Gaussian { mean, sd } => {
                (&ONE, std::slice::from_ref(mean), std::slice::from_ref(sd))
            }
            Dist1::Mixture {
                weights,
                means,
                sds,
            } => (weights, means, sds),
        }
    }

    /// Checks that the law is well formed: finite parameters, sd > 0, weights > 0 summing to
    /// 1 within 1e−9, equal lengths.
    pub fn validate(&self) -> crate::Result<()> {
        let (w, m, s) = self.parts();
        if w.is_empty() || w.len() != m.len() || w.len() != s.len() {
            return Err(crate::Error::Config(format!(
                "1-D law: {} weights, {} means and {} sds (need the same non-zero count)",
                w.len(),
                m.len(),
                s.len()
            )));
        }
        for (name, v) in [("weight", w), ("mean", m), ("sd", s)] {
            if let Some(x) = v.iter().find(|x| !x.is_finite()) {
                return Err(crate::Error::param(name, x, "must be finite"));
            }
        }
        if let Some(x) = s.iter().find(|&&x| x <= 0.0) {
            return Err(crate::Error::param("sd", x, "must be > 0"));
        }
        if let Some(x) = w.iter().find(|&&x| x <= 0.0) {
            return Err(crate::Error::param("weight", x, "must be > 0"));
        }
        let total: f64 = w.iter().sum();
        if (total - 1.0).abs() > 1e-9 {
            return Err(crate::Error::param("sum of weights", total, "must be 1"));
        }
        Ok(())
    }

    /// Survival function `1 − F(x)`, accurate in the upper tail.
    pub fn sf(&self, x: f64) -> f64 {
        let (w, m, s) = self.parts();
        (0..w.len())
            .map(|k| w[k] * big_phi_c((x - m[k]) / s[k]))
            .sum()
    }

    /// Quantile `F⁻¹(p)`; `p` outside `(0, 1)` gives ∓∞ (NaN for NaN).
    pub fn quantile(&self, p: f64) -> f64 {
        self.quantile_pq(p, 1.0 - p)
    }

    /// Quantile given both `p` and `q = 1 − p` (pass an exactly computed `q` to keep upper
    /// quantiles accurate). A Gaussian inverts `Φ` directly ([`norm_quantile`]); a mixture
    /// solves `F(x) = p` (or `1 − F(x) = q` when `q < p`) by Newton's method safeguarded by
    /// bisection inside the bracket `[min_k, max_k] (m_k + s_k Φ⁻¹(p))`, which always holds
    /// the root because F is a convex combination of the component CDFs.
    pub fn quantile_pq(&self, p: f64, q: f64) -> f64 {
        if p.is_nan() || q.is_nan() {
            return f64::NAN;
        }
        if p <= 0.0 {
            return f64::NEG_INFINITY;
        }
        if q <= 0.0 {
            return f64::INFINITY;
        }
        let z = norm_quantile(p, q);
        let (w, m, s) = self.parts();
        if w.len() == 1 {
            return m[0] + s[0] * z;
        }
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for k in 0..w.len() {
            let x = m[k] + s[k] * z;
            lo = lo.min(x);
            hi = hi.max(x);
        }
        if lo == hi {
            return lo;
        }
        let lower = p <= q;
        // g(x) = ln F(x) − ln p (or ln q − ln(1 − F(x)) in the upper half): increasing, root
        // at the quantile, and nearly linear in the tails, where Newton on F itself would
        // crawl (its steps there are only ~ s/|z|). g' = f/F (or f/(1 − F)).
        let (lp, lq) = (p.ln(), q.ln());
        let mut x = 0.5 * (lo + hi);
        for _ in 0..200 {
            let (gx, dg) = if lower {
                let c = self.cdf(x);
                (c.ln() - lp, self.pdf(x) / c)
            } else {
                let c = self.sf(x);
                (lq - c.ln(), self.pdf(x) / c)
            };
            if gx == 0.0 {
                return x;
            }
            if gx < 0.0 {
                lo = x;
            } else {
                hi = x;
            }
            let mut next = x - gx / dg;
            if next.is_nan() || next <= lo || next >= hi {
                next = 0.5 * (lo + hi);
            }
            if (next - x).abs() <= 4.0 * f64::EPSILON * x.abs().max(f64::MIN_POSITIVE)
                || hi - lo <= 4.0 * f64::EPSILON * lo.abs().max(hi.abs())
            {
                return next;
            }
            x = next;
        }
        x
    }

    /// Truncated moments of the law on `[a, b]` about the interval's centre (see
    /// [`CenteredMoments`]); `a` may be −∞ and `b` +∞. Each component's moments are computed
    /// in its own standardised coordinates without cancellation (see the module docs of
    /// `wasserstein` and `docs/evaluator.md`) and summed with their weights.
    pub fn centered_moments(&self, a: f64, b: f64) -> CenteredMoments {
        let center = match (a.is_finite(), b.is_finite()) {
            (true, true) => 0.5 * (a + b),
            (true, false) => a,
            (false, true) => b,
            (false, false) => self.mean(),
        };
        let (w, m, s) = self.parts();
        let mut out = CenteredMoments {
            center,
            ..Default::default()
        };
        // Half-width from b − a directly (exact for nearby a, b), not from a difference of
        // standardised ends, so narrow intervals keep their relative accuracy.
        let half = 0.5 * (b - a);
        for k in 0..w.len() {
            let uc = (center - m[k]) / s[k];
            let (p, m1, m2) = if half.is_finite() {
                std_centered_finite(uc, half / s[k])
            } else {
                std_centered((a - m[k]) / s[k], (b - m[k]) / s[k], uc)
            };
            out.m0 += w[k] * p;
            out.m1 += w[k] * s[k] * m1;
            out.m2 += w[k] * s[k] * s[k] * m2;
        }
        out
    }

    /// The components as `(weight, mean, sd)`.
    pub fn components(&self) -> Vec<(f64, f64, f64)> {
        match self {
            Dist1::Gaussian { mean, sd } => vec![(1.0, *mean, *sd)],
            Dist1::Mixture {
                weights,
                means,
                sds,
            } => weights
                .iter()
                .zip(means)
                .zip(sds)
                .map(|((&w, &m), &s)| (w, m, s))
                .collect(),
        }
    }

    /// Density at `x`.
    pub fn pdf(&self, x: f64) -> f64 {
        let (w, m, s) = self.parts();
        (0..w.len())
            .map(|k| w[k] * phi((x - m[k]) / s[k]) / s[k])
            .sum()
    }

    /// Derivative of the density at `x`: `Σ_k −w_k φ(z_k) z_k / s_k²`, `z_k = (x − m_k)/s_k`.
    pub fn pdf_derivative(&self, x: f64) -> f64 {
        let (w, m, s) = self.parts();
        (0..w.len())
            .map(|k| {
                let z = (x - m[k]) / s[k];
                -w[k] * phi(z) * z / (s[k] * s[k])
            })
            .sum()
    }

    /// Distribution function at `x`.
    pub fn cdf(&self, x: f64) -> f64 {
        let (w, m, s) = self.parts();
        (0..w.len())
            .map(|k| w[k] * big_phi((x - m[k]) / s[k]))
            .sum()
    }

    /// Mean.
    pub fn mean(&self) -> f64 {
        self.components().iter().map(|&(w, m, _)| w * m).sum()
    }

    /// Variance.
    pub fn var(&self) -> f64 {
        let mu = self.mean();
        self.components()
            .iter()
            .map(|&(w, m, s)| w * (s * s + (m - mu) * (m - mu)))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_and_cdf() {
        let d = Dist1::Mixture {
            weights: vec![0.5, 0.5],
            means: vec![-1.0, 1.0],
            sds: vec![0.5, 0.5],
        };
        assert!(d.mean().abs() < 1e-15);
        assert!((d.var() - 1.25).abs() < 1e-15);
        assert!((d.cdf(0.0) - 0.5).abs() < 1e-15);
        let e = big_phi(1.959963984540054) - 0.975;
        assert!(e.abs() < 1e-12, "{e}");
        // Φ(−37) ≈ φ(37)/37 ≈ 5.4e−300: the lower tail keeps its relative accuracy.
        let t = big_phi(-37.0);
        assert!(t > 5.0e-300 && t < 6.0e-300, "{t}");
        // The density integrates to 1 (trapezoid on a fine grid).
        let h = 1e-3;
        let total: f64 = (-8000..8000).map(|i| d.pdf(i as f64 * h) * h).sum();
        assert!((total - 1.0).abs() < 1e-9);
    }

    #[test]
    fn quantiles_invert_the_cdf() {
        let d = Dist1::Mixture {
            weights: vec![0.2, 0.5, 0.3],
            means: vec![-3.0, 0.0, 4.0],
            sds: vec![0.3, 1.0, 2.0],
        };
        for &p in &[1e-300, 1e-12, 0.01, 0.3, 0.5, 0.77, 0.999] {
            let x = d.quantile(p);
            // x is known to ~2 ulps at best, which moves F by f(x)·2ε|x|.
            let tol = 1e-13 + 8.0 * f64::EPSILON * x.abs() * d.pdf(x) / p;
            let err = ((d.cdf(x) - p) / p).abs();
            assert!(err < tol, "p = {p}: {err} vs {tol}");
        }
        // Upper tail through q = 1 − p given exactly.
        for &q in &[1e-15, 1e-200] {
            let x = d.quantile_pq(1.0 - q, q);
            let tol = 1e-13 + 8.0 * f64::EPSILON * x.abs() * d.pdf(x) / q;
            assert!(((d.sf(x) - q) / q).abs() < tol, "q = {q}");
        }
        assert_eq!(d.quantile(0.0), f64::NEG_INFINITY);
        assert_eq!(d.quantile(1.0), f64::INFINITY);
        let g = Dist1::Gaussian { mean: 1.0, sd: 2.0 };
        assert!((g.quantile(0.975) - (1.0 + 2.0 * 1.959963984540054)).abs() < 1e-14);
    }

    /// Every branch of the truncated moments (series, closed form, continued-fraction tails)
    /// against Gauss–Legendre quadrature of ∫ (y − c)^j f(y) dy.
    #[test]
    fn centered_moments_match_quadrature() {
        use crate::wasserstein::quad::integrate;
        let d = Dist1::Mixture {
            weights: vec![0.4, 0.6],
            means: vec![-1.0, 2.0],
            sds: vec![0.5, 1.5],
        };
        let cases = [
            (-0.2, 0.1),   // narrow: series for both components
            (0.9, 1.1),    // mid exactly on a component mean
            (-3.0, 4.0),   // wide: closed form
            (5.0, 9.0),    // far, wide
            (-30.0, -1.2), // stands in for a lower tail
            (2.2, 2.2 + 1e-6),
        ];
        for &(a, b) in &cases {
            let m = d.centered_moments(a, b);
            let c = m.center;
            let panels = 200;
            // In the offset t = y − c, so that narrow intervals keep their digits.
            let (ta, tb) = (a - c, b - c);
            let q0 = integrate(|t| d.pdf(c + t), ta, tb, panels);
            let q1 = integrate(|t| t * d.pdf(c + t), ta, tb, panels);
            let q2 = integrate(|t| t * t * d.pdf(c + t), ta, tb, panels);
            let h = 0.5 * (b - a);
            assert!(
                (m.m0 - q0).abs() <= 1e-13 * q0,
                "m0 on [{a}, {b}]: {} vs {q0}",
                m.m0
            );
            assert!(
                (m.m1 - q1).abs() <= 1e-13 * q0 * h,
                "m1 on [{a}, {b}]: {} vs {q1}",
                m.m1
            );
            assert!(
                (m.m2 - q2).abs() <= 1e-12 * q2,
                "m2 on [{a}, {b}]: {} vs {q2}",
                m.m2
            );
        }
        // Half-lines: the continued fraction (t ≥ 3) and the closed form (t < 3) against
        // quadrature over a long finite range (the remaining mass is < 1e−40).
        let g = Dist1::Gaussian { mean: 0.0, sd: 1.0 };
        for &t in &[2.5, 3.0, 6.0, 20.0] {
            let m = g.centered_moments(t, f64::INFINITY);
            let q0 = integrate(|y| g.pdf(y), t, t + 15.0, 3000);
            let q1 = integrate(|y| (y - t) * g.pdf(y), t, t + 15.0, 3000);
            let q2 = integrate(|y| (y - t).powi(2) * g.pdf(y), t, t + 15.0, 3000);
            assert!((m.m0 - q0).abs() <= 1e-12 * q0, "t = {t}");
            assert!((m.m1 - q1).abs() <= 1e-12 * q1, "t = {t}: {} vs {q1}", m.m1);
            assert!((m.m2 - q2).abs() <= 1e-11 * q2, "t = {t}: {} vs {q2}", m.m2);
            let l = g.centered_moments(f64::NEG_INFINITY, -t);
            assert!((l.m0 - m.m0).abs() <= 1e-15 * m.m0);
            assert!((l.m1 + m.m1).abs() <= 1e-15 * m.m1 && (l.m2 - m.m2).abs() <= 1e-15 * m.m2);
        }
        // The whole line: centre = mean, m1 = 0, m2 = variance.
        let w = d.centered_moments(f64::NEG_INFINITY, f64::INFINITY);
        assert!((w.m0 - 1.0).abs() < 1e-15 && w.m1.abs() < 1e-14);
        assert!((w.m2 - d.var()).abs() < 1e-13);
    }

    /// The closed short series (two tiers) against the general Hermite series at the edges of
    /// their ranges.
    #[test]
    fn narrow_series_tiers_match_general_series() {
        for &(mid, r) in &[
            (0.3, 0.99e-5),
            (-1.0, 1e-5),
            (50.0, 1.9e-7),
            (0.0, 0.99e-3),
            (-0.99, 1e-3),
            (30.0, 3.3e-5),
        ] {
            let (p, m1, m2, end) = narrow_moments(mid, r, phi(mid));
            let (q, n1, n2) = std_series(mid, r);
            assert!((p - q).abs() <= 2e-16 * q, "P at ({mid}, {r})");
            assert!(
                (m1 - n1).abs() <= 1e-15 * q * r,
                "m1 at ({mid}, {r}): {m1} vs {n1}"
            );
            assert!((m2 - n2).abs() <= 1e-15 * n2, "m2 at ({mid}, {r})");
            // φ(u) computed directly carries a relative error ~ε·u²/2 from its exponent.
            let tol = 4.0 * f64::EPSILON * (1.0 + (mid + r) * (mid + r));
            assert!(
                (end - phi(mid + r)).abs() <= tol * end,
                "φ(end) at ({mid}, {r})"
            );
        }
    }
}
