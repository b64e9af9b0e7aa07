//! A finite Markov chain stored by sparse rows, its stationary law and its second eigenvalue.
//!
//! - [`Chain`]: row `i` lists `(column, probability)` pairs (CSR: `u32` columns, `f64`
//!   probabilities), each row summing to 1.
//! - [`Chain::stationary`]: GTH state reduction (Grassmann–Taksar–Heyman: no subtractions,
//!   so accurate even for slowly mixing chains) when the chain is banded and small enough
//!   (`n·band² ≤` [`GTH_WORK`]), else restarted GMRES on `(I − Pᵀ)π = 0`; either way the
//!   residual `‖πP − π‖₁` of the returned law is measured and reported.
//! - [`Chain::second_eigenvalue`]: Arnoldi on the deflated operator `v ↦ Pᵀv − π·(1ᵀv)`
//!   (which has P's eigenvalues except 1, replaced by 0); the largest-modulus eigenvalue of
//!   the Hessenberg matrix (QR algorithm, [`hessenberg_eigenvalues`]) estimates λ₂.

use crate::error::{Error, Result};

/// Largest `n·band²` (multiply–adds) for which the banded GTH reduction is used.
pub const GTH_WORK: f64 = 3e9;

/// A Markov chain by sparse rows.
#[derive(Clone, Debug, Default)]
pub struct Chain {
    /// Number of states.
    pub n: usize,
    /// Row `i` is `cols/vals[ptr[i]..ptr[i+1]]`, columns ascending.
    pub ptr: Vec<usize>,
    /// Column of each stored probability.
    pub cols: Vec<u32>,
    /// Stored probabilities.
    pub vals: Vec<f64>,
}

/// How the stationary law was obtained.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Stationary {
    /// π, summing to 1.
    pub pi: Vec<f64>,
    /// `gth` or `gmres`.
    pub method: &'static str,
    /// `‖πP − π‖₁`.
    pub residual: f64,
    /// Iterations (matrix–vector products) of GMRES; 0 for GTH.
    pub iterations: usize,
}

impl Chain {
    /// An empty chain on `n` states.
    pub fn with_states(n: usize) -> Self {
        Chain {
            n,
            ptr: vec![0],
            ..Default::default()
        }
    }

    /// Appends the next row (pairs with ascending columns).
    pub fn push_row(&mut self, row: &[(u32, f64)]) {
        for &(c, v) in row {
            self.cols.push(c);
            self.vals.push(v);
        }
        self.ptr.push(self.cols.len());
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> (&[u32], &[f64]) {
        let (a, b) = (self.ptr[i], self.ptr[i + 1]);
        (&self.cols[a..b], &self.vals[a..b])
    }

    /// Stored probabilities.
    pub fn entries(&self) -> usize {
        self.vals.len()
    }

    /// `y = xP` (a row vector times P).
    pub fn left_mul(&self, x: &[f64], y: &mut [f64]) {
        y.iter_mut().for_each(|v| *v = 0.0);
        for i in 0..self.n {
            let xi = x[i];
            if xi == 0.0 {
                continue;
            }
            let (c, v) = self.row(i);
            for (&j, &p) in c.iter().zip(v) {
                y[j as usize] += xi * p;
            }
        }
    }

    /// Largest `|i − j|` over stored entries.
    pub fn band(&self) -> usize {
        (0..self.n)
            .map(|i| {
                let (c, _) = self.row(i);
                match (c.first(), c.last()) {
                    (Some(&a), Some(&b)) => (i.abs_diff(a as usize)).max(i.abs_diff(b as usize)),
                    _ => 0,
                }
            })
            .max()
            .unwrap_or(0)
    }

    /// `‖πP − π‖₁`.
    pub fn residual(&self, pi: &[f64]) -> f64 {
        let mut y = vec![0.0; self.n];
        self.left_mul(pi, &mut y);
        y.iter().zip(pi).map(|(a, b)| (a - b).abs()).sum()
    }

    /// The stationary law (see the module docs). `tol` is the target of `‖πP − π‖₁` for
    /// GMRES; `max_iter` bounds its matrix–vector products.
    pub fn stationary(&self, tol: f64, max_iter: usize) -> Result<Stationary> {
        let band = self.band();
        let (pi, method, iterations) = if (self.n as f64) * (band as f64 + 1.0).powi(2) <= GTH_WORK
        {
            (self.gth(band)?, "gth", 0)
        } else {
            let (pi, it) = self.gmres(tol, max_iter);
            (pi, "gmres", it)
        };
        let residual = self.residual(&pi);
        Ok(Stationary {
            pi,
            method,
            residual,
            iterations,
        })
    }

    /// GTH state reduction on the band (from the last state down), then back substitution.
    fn gth(&self, band: usize) -> Result<Vec<f64>> {
        let n = self.n;
        let width = 2 * band + 1;
        let mut a = vec![0.0f64; n * width];
        let at = |i: usize, j: usize| i * width + j + band - i;
        for i in 0..n {
            let (c, v) = self.row(i);
            for (&j, &p) in c.iter().zip(v) {
                a[at(i, j as usize)] += p;
            }
        }
        for k in (1..n).rev() {
            let j0 = k.saturating_sub(band);
            let s: f64 = (j0..k).map(|j| a[at(k, j)]).sum();
            if s <= 1e-300 {
                return Err(Error::Config(format!(
                    "the exact chain is reducible: state {k} of {n} has no transition to a lower state (the noise is negligible against the drift, or a deterministic rounding traps the chain); no unique stationary law"
                )));
            }
            for i in j0..k {
                a[at(i, k)] /= s;
            }
            for i in j0..k {
                let aik = a[at(i, k)];
                if aik == 0.0 {
                    continue;
                }
                for j in j0..k {
                    a[at(i, j)] += aik * a[at(k, j)];
                }
            }
        }
        let mut pi = vec![0.0f64; n];
        pi[0] = 1.0;
        for k in 1..n {
            let i0 = k.saturating_sub(band);
            pi[k] = (i0..k).map(|i| pi[i] * a[at(i, k)]).sum();
        }
        let total: f64 = pi.iter().sum();
        pi.iter_mut().for_each(|x| *x /= total);
        Ok(pi)
    }

    /// Restarted GMRES(m) on `(I − Pᵀ)x = 0` from the uniform law: each cycle solves
    /// `(I − Pᵀ)δ = −(I − Pᵀ)x` in the Krylov space, then `x += δ`, normalized; stops when
    /// `‖xP − x‖₁ ≤ tol` or after `max_iter` products. Returns x and the products used.
    fn gmres(&self, tol: f64, max_iter: usize) -> (Vec<f64>, usize) {
        let n = self.n;
        let m = 60.min(n);
        let apply = |x: &[f64], y: &mut [f64]| {
            self.left_mul(x, y);
            for (yi, xi) in y.iter_mut().zip(x) {
                *yi = xi - *yi;
            }
        };
        let mut x = vec![1.0 / n as f64; n];
        // A few power steps smooth the start.
        let mut y = vec![0.0; n];
        for _ in 0..5 {
            self.left_mul(&x, &mut y);
            std::mem::swap(&mut x, &mut y);
        }
        let mut used = 5;
        let mut r = vec![0.0; n];
        while used < max_iter {
            apply(&x, &mut r);
            used += 1;
            let rn1: f64 = r.iter().map(|v| v.abs()).sum();
            if rn1 <= tol {
                break;
            }
            r.iter_mut().for_each(|v| *v = -*v);
            let beta = norm2(&r);
            let mut v: Vec<Vec<f64>> = vec![r.iter().map(|a| a / beta).collect()];
            let mut h = vec![vec![0.0f64; m]; m + 1];
            let (mut cs, mut sn) = (vec![0.0; m], vec![0.0; m]);
            let mut g = vec![0.0; m + 1];
            g[0] = beta;
            let mut k_done = 0;
            for k in 0..m {
                let mut w = vec![0.0; n];
                apply(&v[k], &mut w);
                used += 1;
                for (j, vj) in v.iter().enumerate() {
                    let hj = dot(&w, vj);
                    h[j][k] = hj;
                    axpy(-hj, vj, &mut w);
                }
                let hn = norm2(&w);
                h[k + 1][k] = hn;
                for j in 0..k {
                    let t = cs[j] * h[j][k] + sn[j] * h[j + 1][k];
                    h[j + 1][k] = -sn[j] * h[j][k] + cs[j] * h[j + 1][k];
                    h[j][k] = t;
                }
                let d = (h[k][k] * h[k][k] + h[k + 1][k] * h[k + 1][k]).sqrt();
                if d == 0.0 {
                    k_done = k;
                    break;
                }
                cs[k] = h[k][k] / d;
                sn[k] = h[k + 1][k] / d;
                h[k][k] = d;
                h[k + 1][k] = 0.0;
                g[k + 1] = -sn[k] * g[k];
                g[k] *= cs[k];
                k_done = k + 1;
                if g[k + 1].abs() <= 1e-3 * tol / (n as f64).sqrt() || hn == 0.0 || used >= max_iter
                {
                    break;
                }
                w.iter_mut().for_each(|a| *a /= hn);
                v.push(w);
            }
            // Back substitution for the k_done coefficients.
            let mut yk = vec![0.0; k_done];
            for i in (0..k_done).rev() {
                let mut s = g[i];
                for j in i + 1..k_done {
                    s -= h[i][j] * yk[j];
                }
                yk[i] = s / h[i][i];
            }
            for (j, &c) in yk.iter().enumerate() {
                axpy(c, &v[j], &mut x);
            }
            let total: f64 = x.iter().sum();
            x.iter_mut().for_each(|a| *a /= total);
        }
        // Round-off can leave tiny negative entries far in the tails.
        x.iter_mut().for_each(|a| *a = a.max(0.0));
        let total: f64 = x.iter().sum();
        x.iter_mut().for_each(|a| *a /= total);
        (x, used)
    }

    /// λ₂: the largest-modulus eigenvalue of P other than the stationary 1, by `m`-step
    /// Arnoldi on `v ↦ Pᵀv − π·(1ᵀv)` from a fixed pseudo-random start of zero sum. The
    /// zero-sum vectors are invariant under Pᵀ (`1ᵀPᵀv = (P1)ᵀv = 1ᵀv`) and hold every
    /// eigenvector but π's, so the Krylov space is exhausted after `n − 1` steps: the estimate
    /// is exact (up to round-off) when `m ≥ n − 1`; the deflation keeps round-off from
    /// growing a component along π. Returns `(λ₂ as (re, im), the modulus change from m/2 to m steps)` — the
    /// second number says how converged the estimate is.
    pub fn second_eigenvalue(&self, pi: &[f64], m: usize) -> ((f64, f64), f64) {
        let n = self.n;
        if n < 2 {
            return ((0.0, 0.0), 0.0);
        }
        let m = m.min(n - 1).max(1);
        let apply = |x: &[f64], y: &mut [f64]| {
            self.left_mul(x, y);
            let s: f64 = x.iter().sum();
            for (yi, p) in y.iter_mut().zip(pi) {
                *yi -= p * s;
            }
        };
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut start: Vec<f64> = (0..n)
            .map(|_| {
                state = lpmc_kernels::bits::mix64(state.wrapping_add(0x9E37_79B9_7F4A_7C15));
                (state >> 11) as f64 / 9_007_199_254_740_992.0 - 0.5
            })
            .collect();
        let mean = start.iter().sum::<f64>() / n as f64;
        start.iter_mut().for_each(|a| *a -= mean);
        let nb = norm2(&start);
        start.iter_mut().for_each(|a| *a /= nb);
        let mut v = vec![start];
        let mut h = vec![vec![0.0f64; m]; m + 1];
        let mut steps = m;
        for k in 0..m {
            let mut w = vec![0.0; n];
            apply(&v[k], &mut w);
            // Two passes of Gram–Schmidt keep the basis orthogonal.
            for _ in 0..2 {
                for (j, vj) in v.iter().enumerate() {
                    let c = dot(&w, vj);
                    h[j][k] += c;
                    axpy(-c, vj, &mut w);
                }
            }
            let hn = norm2(&w);
            h[k + 1][k] = hn;
            if hn <= 1e-14 {
                steps = k + 1;
                break;
            }
            w.iter_mut().for_each(|a| *a /= hn);
            v.push(w);
        }
        let top = |k: usize| -> (f64, f64) {
            let sub: Vec<Vec<f64>> = (0..k).map(|i| h[i][..k].to_vec()).collect();
            hessenberg_eigenvalues(sub)
                .into_iter()
                .max_by(|a, b| a.0.hypot(a.1).total_cmp(&b.0.hypot(b.1)))
                .unwrap_or((0.0, 0.0))
        };
        let full = top(steps);
        let half = top((steps / 2).max(1));
        (full, (full.0.hypot(full.1) - half.0.hypot(half.1)).abs())
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm2(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

fn axpy(c: f64, x: &[f64], y: &mut [f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += c * xi;
    }
}

/// Eigenvalues `(re, im)` of a real upper Hessenberg matrix (row-major, square) by the
/// shifted QR algorithm with Francis double steps (EISPACK's `hqr`).
///
/// ```
/// use lpmc::exact::chain::hessenberg_eigenvalues;
/// // A rotation by 90° scaled by ½: eigenvalues ±i/2.
/// let ev = hessenberg_eigenvalues(vec![vec![0.0, -0.5], vec![0.5, 0.0]]);
/// assert!(ev.iter().all(|e| e.0.abs() < 1e-15 && (e.1.abs() - 0.5).abs() < 1e-15));
/// ```
pub fn hessenberg_eigenvalues(mut a: Vec<Vec<f64>>) -> Vec<(f64, f64)> {
    let n = a.len();
    let mut wr = vec![0.0; n];
    let mut wi = vec![0.0; n];
    let anorm: f64 = (0..n)
        .flat_map(|i| (i.saturating_sub(1)..n).map(move |j| (i, j)))
        .map(|(i, j)| a[i][j].abs())
        .sum();
    let mut nn = n as isize - 1;
    let mut t = 0.0;
    while nn >= 0 {
        let mut its = 0;
        loop {
            let mut l = nn;
            while l >= 1 {
                let s = a[l as usize - 1][l as usize - 1].abs() + a[l as usize][l as usize].abs();
                let s = if s == 0.0 { anorm } else { s };
                if a[l as usize][l as usize - 1].abs() + s == s {
                    a[l as usize][l as usize - 1] = 0.0;
                    break;
                }
                l -= 1;
            }
            let nu = nn as usize;
            let x = a[nu][nu];
            if l == nn {
                wr[nu] = x + t;
                wi[nu] = 0.0;
                nn -= 1;
                break;
            }
            let y = a[nu - 1][nu - 1];
            let w = a[nu][nu - 1] * a[nu - 1][nu];
            if l == nn - 1 {
                let p = 0.5 * (y - x);
                let q = p * p + w;
                let z = q.abs().sqrt();
                let x = x + t;
                if q >= 0.0 {
                    let z = p + z.copysign(p);
                    wr[nu - 1] = x + z;
                    wr[nu] = if z != 0.0 { x - w / z } else { x + z };
                    wi[nu - 1] = 0.0;
                    wi[nu] = 0.0;
                } else {
                    wr[nu - 1] = x + p;
                    wr[nu] = x + p;
                    wi[nu - 1] = -z;
                    wi[nu] = z;
                }
                nn -= 2;
                break;
            }
            if its == 60 {
                // No convergence: report the diagonal of what is left.
                for i in 0..=nu {
                    wr[i] = a[i][i] + t;
                }
                return wr.into_iter().zip(wi).collect();
            }
            let (mut x, mut y, mut w) = (x, y, w);
            if its == 10 || its == 20 {
                t += x;
                for i in 0..=nu {
                    a[i][i] -= x;
                }
                let s = a[nu][nu - 1].abs() + a[nu - 1][nu - 2].abs();
                x = 0.75 * s;
                y = x;
                w = -0.4375 * s * s;
            }
            its += 1;
            let lu = l as usize;
            let mut m = nu - 2;
            let (mut p, mut q, mut r);
            loop {
                let z = a[m][m];
                let r0 = x - z;
                let s0 = y - z;
                p = (r0 * s0 - w) / a[m + 1][m] + a[m][m + 1];
                q = a[m + 1][m + 1] - z - r0 - s0;
                r = a[m + 2][m + 1];
                let s = p.abs() + q.abs() + r.abs();
                p /= s;
                q /= s;
                r /= s;
                if m == lu {
                    break;
                }
                let u = a[m][m - 1].abs() * (q.abs() + r.abs());
                let v = p.abs() * (a[m - 1][m - 1].abs() + z.abs() + a[m + 1][m + 1].abs());
                if u + v == v {
                    break;
                }
                m -= 1;
            }
            for i in m + 2..=nu {
                a[i][i - 2] = 0.0;
                if i != m + 2 {
                    a[i][i - 3] = 0.0;
                }
            }
            let mut k = m;
            while k < nu {
                if k != m {
                    p = a[k][k - 1];
                    q = a[k + 1][k - 1];
                    r = if k + 1 != nu { a[k + 2][k - 1] } else { 0.0 };
                    x = p.abs() + q.abs() + r.abs();
                    if x != 0.0 {
                        p /= x;
                        q /= x;
                        r /= x;
                    }
                }
                let s = (p * p + q * q + r * r).sqrt().copysign(p);
                if s != 0.0 {
                    if k == m {
                        if l as usize != m {
                            a[k][k - 1] = -a[k][k - 1];
                        }
                    } else {
                        a[k][k - 1] = -s * x;
                    }
                    p += s;
                    x = p / s;
                    y = q / s;
                    let z = r / s;
                    q /= p;
                    r /= p;
                    for j in k..=nu {
                        let mut pp = a[k][j] + q * a[k + 1][j];
                        if k + 1 != nu {
                            pp += r * a[k + 2][j];
                            a[k + 2][j] -= pp * z;
                        }
                        a[k + 1][j] -= pp * y;
                        a[k][j] -= pp * x;
                    }
                    let mmin = if nu < k + 3 { nu } else { k + 3 };
                    for i in lu..=mmin {
                        let mut pp = x * a[i][k] + y * a[i][k + 1];
                        if k + 1 != nu {
                            pp += z * a[i][k + 2];
                            a[i][k + 2] -= pp * r;
                        }
                        a[i][k + 1] -= pp * q;
                        a[i][k] -= pp;
                    }
                }
                k += 1;
            }
        }
    }
    wr.into_iter().zip(wi).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A birth–death chain (reversible, known law) solved by GTH and by GMRES; λ₂ of a
    /// two-state chain is 1 − p − q.
    #[test]
    fn stationary_and_spectrum_of_known_chains() {
        let n = 300;
        let mut c = Chain::with_states(n);
        // Up with 0.3, down with 0.5 (reflecting): π_k ∝ 0.6^k.
        for i in 0..n {
            let mut row = Vec::new();
            if i > 0 {
                row.push(((i - 1) as u32, 0.5));
            }
            let stay = 1.0 - if i > 0 { 0.5 } else { 0.0 } - if i + 1 < n { 0.3 } else { 0.0 };
            row.push((i as u32, stay));
            if i + 1 < n {
                row.push(((i + 1) as u32, 0.3));
            }
            c.push_row(&row);
        }
        let s = c.stationary(1e-14, 10_000).unwrap();
        assert_eq!(s.method, "gth");
        let z: f64 = (0..n).map(|k| 0.6f64.powi(k as i32)).sum();
        for k in 0..40 {
            let want = 0.6f64.powi(k as i32) / z;
            assert!((s.pi[k] / want - 1.0).abs() < 1e-12, "{k}");
        }
        // GMRES on a faster-mixing chain (lazy walk with drift on a cycle: uniform law).
        let m = 64;
        let mut cyc = Chain::with_states(m);
        for i in 0..m {
            let mut row = [((i + m - 1) % m, 0.2), (i, 0.5), ((i + 1) % m, 0.3)];
            row.sort_by_key(|e| e.0);
            let row: Vec<(u32, f64)> = row.iter().map(|&(j, p)| (j as u32, p)).collect();
            cyc.push_row(&row);
        }
        let (pi, it) = cyc.gmres(1e-14, 20_000);
        assert!(it > 0 && cyc.residual(&pi) < 1e-12, "{}", cyc.residual(&pi));
        assert!(pi.iter().all(|p| (p * m as f64 - 1.0).abs() < 1e-10));
        // λ₂ of the strongly non-normal birth–death chain is not asserted (its Ritz values
        // converge slowly); the two-state chain's is exact.
        let mut two = Chain::with_states(2);
        two.push_row(&[(0, 0.9), (1, 0.1)]);
        two.push_row(&[(0, 0.3), (1, 0.7)]);
        let s2 = two.stationary(1e-15, 100).unwrap();
        assert!((s2.pi[0] - 0.75).abs() < 1e-15);
        let ((l2, _), _) = two.second_eigenvalue(&s2.pi, 10);
        assert!((l2 - 0.6).abs() < 1e-12, "{l2}");
    }

    /// The QR algorithm on matrices with known eigenvalues (a companion matrix of
    /// (x − 1)(x − 2)(x² + 1)(x + 3)).
    #[test]
    fn hessenberg_eigenvalues_of_a_companion_matrix() {
        // x⁵ + a4x⁴ + … : (x−1)(x−2)(x+3) = x³ − 7x + 6; times (x² + 1): x⁵ − 6x³ + 6x² − 7x + 6.
        let coef = [6.0, -7.0, 6.0, -6.0, 0.0]; // a0..a4
        let n = 5;
        let mut a = vec![vec![0.0; n]; n];
        for i in 1..n {
            a[i][i - 1] = 1.0;
        }
        for i in 0..n {
            a[i][n - 1] = -coef[i];
        }
        let mut ev = hessenberg_eigenvalues(a);
        ev.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.total_cmp(&y.1)));
        let want = [(-3.0, 0.0), (0.0, -1.0), (0.0, 1.0), (1.0, 0.0), (2.0, 0.0)];
        for (e, w) in ev.iter().zip(want) {
            assert!(
                (e.0 - w.0).abs() < 1e-9 && (e.1 - w.1).abs() < 1e-9,
                "{ev:?}"
            );
        }
    }
}
