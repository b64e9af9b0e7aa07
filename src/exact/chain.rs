//! A finite Markov chain stored by sparse rows, its stationary law and its second eigenvalue.
//!
//! - [`Chain`]: row `i` is a list of runs of consecutive columns (`u32` first column, `u32`
//!   length) and their `f64` probabilities, each row summing to 1. Lattice chains' rows are
//!   short runs (SGHMC: one run of position codes per momentum code), so the columns cost
//!   about one byte per probability instead of four, and `πP` adds contiguous slices.
//! - [`Chain::left_mul`]: `y = xP`, in parallel over a fixed partition of the rows (each part
//!   into its own vector, the parts summed in order), so the result does not depend on the
//!   number of threads.
//! - [`Chain::stationary`]: GTH state reduction (Grassmann–Taksar–Heyman: no subtractions,
//!   so accurate even for slowly mixing chains) when the chain is banded and small enough
//!   (`n·band² ≤` [`GTH_WORK`]), else restarted GMRES on `(I − Pᵀ)π = 0`; either way the
//!   residual `‖πP − π‖₁` of the returned law is measured and reported. GMRES's first cycle
//!   is an Arnoldi process on the zero-sum vectors, so its Hessenberg matrix also gives λ₂.
//! - [`Chain::second_eigenvalue`]: Arnoldi on the deflated operator `v ↦ Pᵀv − π·(1ᵀv)`
//!   (which has P's eigenvalues except 1, replaced by 0); the largest-modulus eigenvalue of
//!   the Hessenberg matrix (QR algorithm, [`hessenberg_eigenvalues`]) estimates λ₂.

use crate::error::{Error, Result};
use rayon::prelude::*;

/// Largest `n·band²` (multiply–adds) for which the banded GTH reduction is used.
pub const GTH_WORK: f64 = 3e9;

/// Fewest Arnoldi steps of GMRES's first cycle whose Ritz values are taken as λ₂ (fewer, and
/// [`Chain::second_eigenvalue`] runs its own Arnoldi process).
pub const MIN_RITZ_STEPS: usize = 40;

/// A Markov chain by sparse rows of runs.
#[derive(Clone, Debug)]
pub struct Chain {
    /// Number of states.
    pub n: usize,
    /// Row `i`'s runs are `row_run[i]..row_run[i+1]`.
    row_run: Vec<usize>,
    /// Row `i`'s probabilities are `vals[row_val[i]..row_val[i+1]]`.
    row_val: Vec<usize>,
    /// First column of each run.
    run_col: Vec<u32>,
    /// Length of each run.
    run_len: Vec<u32>,
    /// Stored probabilities, row by row, run by run.
    vals: Vec<f64>,
}

/// λ₂ as Arnoldi estimates it: `(re, im)` and the change of its modulus between the
/// estimates with [`fewer_steps`] and all the steps (how converged it is: Ritz values of the
/// dominant eigenvalues converge faster than geometrically, so the change bounds the error
/// of the last estimate in practice).
pub type Lambda2 = ((f64, f64), f64);

/// The shorter Arnoldi run whose estimate the last is compared with: ⌈3k/4⌉ of `k` steps.
pub fn fewer_steps(k: usize) -> usize {
    (3 * k).div_ceil(4).min(k.saturating_sub(1)).max(1)
}

/// How the stationary law was obtained.
#[derive(Clone, Debug, PartialEq)]
pub struct Stationary {
    /// π, summing to 1.
    pub pi: Vec<f64>,
    /// `gth` or `gmres`.
    pub method: &'static str,
    /// `‖πP − π‖₁`.
    pub residual: f64,
    /// Iterations (matrix–vector products) of GMRES; 0 for GTH.
    pub iterations: usize,
    /// λ₂ from GMRES's first cycle when it took at least [`MIN_RITZ_STEPS`] steps (or
    /// exhausted the space); `None` otherwise.
    pub lambda2: Option<Lambda2>,
}

impl Chain {
    /// An empty chain on `n` states.
    pub fn with_states(n: usize) -> Self {
        Chain {
            n,
            row_run: vec![0],
            row_val: vec![0],
            run_col: Vec::new(),
            run_len: Vec::new(),
            vals: Vec::new(),
        }
    }

    /// Appends the next row (pairs with ascending columns); consecutive columns become one
    /// run.
    pub fn push_row(&mut self, row: &[(u32, f64)]) {
        let mut next = None;
        for &(c, v) in row {
            if next == Some(c) {
                *self.run_len.last_mut().expect("a run is open") += 1;
            } else {
                self.run_col.push(c);
                self.run_len.push(1);
            }
            next = c.checked_add(1);
            self.vals.push(v);
        }
        self.end_row();
    }

    /// Appends one run `(first column, probabilities)` to the row being built (runs in
    /// ascending, non-overlapping column order); [`Chain::end_row`] closes the row.
    pub fn push_run(&mut self, col: u32, vals: &[f64]) {
        if vals.is_empty() {
            return;
        }
        self.run_col.push(col);
        self.run_len.push(vals.len() as u32);
        self.vals.extend_from_slice(vals);
    }

    /// Appends built rows.
    pub fn append(&mut self, rows: &super::build::Rows) {
        let (r0, v0) = (self.run_col.len(), self.vals.len());
        self.run_col.extend_from_slice(&rows.run_col);
        self.run_len.extend_from_slice(&rows.run_len);
        self.vals.extend_from_slice(&rows.vals);
        let mut runs = 0;
        let mut vals = v0;
        for &end in &rows.row_runs {
            for &l in &rows.run_len[runs..end] {
                vals += l as usize;
            }
            runs = end;
            self.row_run.push(r0 + end);
            self.row_val.push(vals);
        }
    }

    /// Closes the row being built.
    pub fn end_row(&mut self) {
        self.row_run.push(self.run_col.len());
        self.row_val.push(self.vals.len());
    }

    /// Rows built so far.
    pub fn rows(&self) -> usize {
        self.row_run.len() - 1
    }

    /// Row `i` as `(column, probability)` pairs, columns ascending.
    pub fn row(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let runs = self.row_run[i]..self.row_run[i + 1];
        let mut off = self.row_val[i];
        runs.flat_map(move |r| {
            let (c, l) = (self.run_col[r] as usize, self.run_len[r] as usize);
            let start = off;
            off += l;
            (0..l).map(move |k| (c + k, self.vals[start + k]))
        })
    }

    /// Stored probabilities.
    pub fn entries(&self) -> usize {
        self.vals.len()
    }

    /// Bytes of the stored rows.
    pub fn bytes(&self) -> usize {
        8 * (self.vals.len() + 2 * self.row_run.len()) + 8 * self.run_col.len()
    }

    /// `y += x_rows·P_rows` for the rows `rows` (a row vector times those rows of P).
    fn left_mul_rows(&self, rows: std::ops::Range<usize>, x: &[f64], y: &mut [f64]) {
        for i in rows {
            let xi = x[i];
            if xi == 0.0 {
                continue;
            }
            let mut off = self.row_val[i];
            for r in self.row_run[i]..self.row_run[i + 1] {
                let (c, l) = (self.run_col[r] as usize, self.run_len[r] as usize);
                for (yj, &p) in y[c..c + l].iter_mut().zip(&self.vals[off..off + l]) {
                    *yj += xi * p;
                }
                off += l;
            }
        }
    }

    /// The fixed partition of the rows for [`Chain::left_mul`]: up to 8 parts of about equal
    /// stored probabilities (fewer for small chains, and at most 2^24 partial values in all),
    /// a function of the chain only.
    fn parts(&self) -> Vec<usize> {
        let by_size = (self.entries() >> 20).max(1);
        let by_memory = ((1usize << 24) / self.n.max(1)).max(1);
        let k = by_size.min(by_memory).min(8);
        let total = self.entries();
        let mut bounds = vec![0];
        for j in 1..k {
            let target = total / k * j;
            let i = self.row_val.partition_point(|&v| v < target).min(self.n);
            bounds.push(i.max(*bounds.last().expect("bounds start at 0")));
        }
        bounds.push(self.n);
        bounds
    }

    /// `y = xP` (a row vector times P), the same bits for any number of threads.
    pub fn left_mul(&self, x: &[f64], y: &mut [f64]) {
        let bounds = self.parts();
        if bounds.len() == 2 {
            y.iter_mut().for_each(|v| *v = 0.0);
            self.left_mul_rows(0..self.n, x, y);
            return;
        }
        let partial: Vec<Vec<f64>> = bounds
            .par_windows(2)
            .map(|w| {
                let mut p = vec![0.0; self.n];
                self.left_mul_rows(w[0]..w[1], x, &mut p);
                p
            })
            .collect();
        const BLOCK: usize = 1 << 14;
        y.par_chunks_mut(BLOCK).enumerate().for_each(|(b, out)| {
            let (at, len) = (b * BLOCK, out.len());
            out.iter_mut().for_each(|v| *v = 0.0);
            for p in &partial {
                for (o, &v) in out.iter_mut().zip(&p[at..at + len]) {
                    *o += v;
                }
            }
        });
    }

    /// Largest `|i − j|` over stored entries.
    pub fn band(&self) -> usize {
        (0..self.n)
            .map(|i| {
                let (a, b) = (self.row_run[i], self.row_run[i + 1]);
                if a == b {
                    return 0;
                }
                let first = self.run_col[a] as usize;
                let last = self.run_col[b - 1] as usize + self.run_len[b - 1] as usize - 1;
                i.abs_diff(first).max(i.abs_diff(last))
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
        let (pi, method, iterations, lambda2) =
            if (self.n as f64) * (band as f64 + 1.0).powi(2) <= GTH_WORK {
                (self.gth(band)?, "gth", 0, None)
            } else {
                let g = self.gmres(tol, max_iter);
                (g.x, "gmres", g.used, g.lambda2)
            };
        let residual = self.residual(&pi);
        Ok(Stationary {
            pi,
            method,
            residual,
            iterations,
            lambda2,
        })
    }

    /// GTH state reduction on the band (from the last state down), then back substitution.
    fn gth(&self, band: usize) -> Result<Vec<f64>> {
        let n = self.n;
        let width = 2 * band + 1;
        let mut a = vec![0.0f64; n * width];
        let at = |i: usize, j: usize| i * width + j + band - i;
        for i in 0..n {
            for (j, p) in self.row(i) {
                a[at(i, j)] += p;
            }
        }
        gth_banded(&mut a, n, band).map_err(|k| {
            Error::Config(format!(
                "the exact chain is reducible: state {k} of {n} has no transition to a lower state (the noise is negligible against the drift, or a deterministic rounding traps the chain); no unique stationary law"
            ))
        })
    }

    /// Restarted GMRES(m) on `(I − Pᵀ)x = 0` from the uniform law (after five power steps):
    /// each cycle solves `(I − Pᵀ)δ = −(I − Pᵀ)x` in the Krylov space, then `x += δ`,
    /// normalized; stops when `‖xP − x‖₁ ≤ tol` or after `max_iter` products.
    ///
    /// The residuals have zero sum and Pᵀ keeps the zero-sum vectors, so every Krylov vector
    /// is projected onto them (removing round-off only); the first cycle is then an Arnoldi
    /// process of Pᵀ on the zero-sum vectors, whose Ritz values `1 − θ` (θ the Hessenberg
    /// matrix's eigenvalues) estimate λ₂ as [`Chain::second_eigenvalue`] does — over the
    /// steps taken while the cycle's residual is above 10⁻¹⁰ of its start (later Krylov
    /// vectors are mostly round-off).
    fn gmres(&self, tol: f64, max_iter: usize) -> Gmres {
        let n = self.n;
        let m = 60.min(n);
        let apply = |x: &[f64], y: &mut [f64]| {
            self.left_mul(x, y);
            for (yi, xi) in y.iter_mut().zip(x) {
                *yi = xi - *yi;
            }
            let mean = y.iter().sum::<f64>() / n as f64;
            y.iter_mut().for_each(|v| *v -= mean);
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
        let mut lambda2 = None;
        let mut first = true;
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
            // The Hessenberg matrix before the Givens rotations (first cycle: λ₂).
            let mut raw = vec![vec![0.0f64; m]; m + 1];
            let (mut cs, mut sn) = (vec![0.0; m], vec![0.0; m]);
            let mut g = vec![0.0; m + 1];
            g[0] = beta;
            let mut k_done = 0;
            let mut exhausted = false;
            // Steps while the residual is still above 10⁻¹⁰ of the cycle's start: beyond,
            // the new Krylov vectors are mostly round-off and their Ritz values meaningless.
            let mut k_info = 0;
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
                for j in 0..=k + 1 {
                    raw[j][k] = h[j][k];
                }
                for j in 0..k {
                    let t = cs[j] * h[j][k] + sn[j] * h[j + 1][k];
                    h[j + 1][k] = -sn[j] * h[j][k] + cs[j] * h[j + 1][k];
                    h[j][k] = t;
                }
                let d = (h[k][k] * h[k][k] + h[k + 1][k] * h[k + 1][k]).sqrt();
                if d == 0.0 {
                    k_done = k;
                    exhausted = true;
                    break;
                }
                cs[k] = h[k][k] / d;
                sn[k] = h[k + 1][k] / d;
                h[k][k] = d;
                h[k + 1][k] = 0.0;
                g[k + 1] = -sn[k] * g[k];
                g[k] *= cs[k];
                k_done = k + 1;
                if g[k].abs() > 1e-10 * beta {
                    k_info = k_done;
                }
                exhausted |= hn == 0.0 || k_done + 1 >= n;
                if g[k + 1].abs() <= 1e-3 * tol / (n as f64).sqrt() || exhausted || used >= max_iter
                {
                    break;
                }
                w.iter_mut().for_each(|a| *a /= hn);
                v.push(w);
            }
            // A basis of the whole zero-sum space gives P's eigenvalues whatever its last
            // vectors are made of.
            let k_ritz = if exhausted { k_done } else { k_info };
            if first && (exhausted || k_info >= MIN_RITZ_STEPS) && k_ritz > 0 {
                let top = |k: usize| {
                    let sub: Vec<Vec<f64>> = (0..k).map(|i| raw[i][..k].to_vec()).collect();
                    hessenberg_eigenvalues(sub)
                        .into_iter()
                        .map(|(re, im)| (1.0 - re, -im))
                        .max_by(|a, b| a.0.hypot(a.1).total_cmp(&b.0.hypot(b.1)))
                        .unwrap_or((0.0, 0.0))
                };
                let full = top(k_ritz);
                let fewer = top(fewer_steps(k_ritz));
                lambda2 = Some((full, (full.0.hypot(full.1) - fewer.0.hypot(fewer.1)).abs()));
            }
            first = false;
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
        Gmres { x, used, lambda2 }
    }

    /// λ₂: the largest-modulus eigenvalue of P other than the stationary 1, by `m`-step
    /// Arnoldi on `v ↦ Pᵀv − π·(1ᵀv)` from a fixed pseudo-random start of zero sum. The
    /// zero-sum vectors are invariant under Pᵀ (`1ᵀPᵀv = (P1)ᵀv = 1ᵀv`) and hold every
    /// eigenvector but π's, so the Krylov space is exhausted after `n − 1` steps: the estimate
    /// is exact (up to round-off) when `m ≥ n − 1`; the deflation keeps round-off from
    /// growing a component along π. Returns `(λ₂ as (re, im), the modulus change from
    /// [`fewer_steps`] to m steps)` — the second number says how converged the estimate is.
    pub fn second_eigenvalue(&self, pi: &[f64], m: usize) -> Lambda2 {
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
        let fewer = top(fewer_steps(steps));
        (full, (full.0.hypot(full.1) - fewer.0.hypot(fewer.1)).abs())
    }
}

/// What GMRES returns: the law, the products used and λ₂ from its first cycle.
struct Gmres {
    x: Vec<f64>,
    used: usize,
    lambda2: Option<Lambda2>,
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

/// The stationary law of an `n`-state chain whose transition matrix is banded (`P[i][j] = 0`
/// for `|i − j| > band`), stored row by row as `a[i·(2·band + 1) + j + band − i]`, by the
/// Grassmann–Taksar–Heyman state reduction (from the last state down: no subtractions, so it
/// stays accurate for slowly mixing chains), then back substitution; `a` is overwritten.
/// `Err(k)` when state `k` has no transition to a lower state (the chain is reducible).
pub(crate) fn gth_banded(
    a: &mut [f64],
    n: usize,
    band: usize,
) -> std::result::Result<Vec<f64>, usize> {
    let width = 2 * band + 1;
    let at = |i: usize, j: usize| i * width + j + band - i;
    for k in (1..n).rev() {
        let j0 = k.saturating_sub(band);
        let s: f64 = (j0..k).map(|j| a[at(k, j)]).sum();
        if s <= 1e-300 {
            return Err(k);
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
        // GMRES on a lazy walk with drift on a cycle (uniform law).
        let cyc = cycle(64);
        let g = cyc.gmres(1e-14, 20_000);
        assert!(
            g.used > 0 && cyc.residual(&g.x) < 1e-12,
            "{}",
            cyc.residual(&g.x)
        );
        assert!(g.x.iter().all(|p| (p * 64.0 - 1.0).abs() < 1e-10));
        // Arnoldi with m = n − 1 exhausts the 15 zero-sum dimensions of 16 states, so it gives
        // P's eigenvalues but 1 (up to round-off): on the cycle λ_k = 0.5 + 0.3ω^k + 0.2ω^−k,
        // ω = e^{2πi/16}, the largest modulus at k = ±1.
        let cyc = cycle(16);
        let th = std::f64::consts::TAU / 16.0;
        let want = (0.5 + 0.5 * th.cos()).hypot(0.1 * th.sin());
        let ((re, im), _) = cyc.second_eigenvalue(&[1.0 / 16.0; 16], 15);
        assert!((re.hypot(im) - want).abs() < 1e-12, "{re} {im} vs {want}");
        // GMRES's first cycle on the same cycle with one stickier state (not doubly
        // stochastic, so the uniform start is not stationary) exhausts the space too, and its
        // Ritz values give the same λ₂ as that exact Arnoldi run.
        let mut sticky = Chain::with_states(16);
        for i in 0..16 {
            let (l, s, r) = if i == 0 {
                (0.05, 0.8, 0.15)
            } else {
                (0.2, 0.5, 0.3)
            };
            let mut row = [((i + 15) % 16, l), (i, s), ((i + 1) % 16, r)];
            row.sort_by_key(|e| e.0);
            let row: Vec<(u32, f64)> = row.iter().map(|&(j, p)| (j as u32, p)).collect();
            sticky.push_row(&row);
        }
        let g = sticky.gmres(1e-15, 20_000);
        assert!(sticky.residual(&g.x) < 1e-14);
        let ((re, im), _) = g.lambda2.expect("the first cycle exhausts the space");
        let ((re2, im2), _) = sticky.second_eigenvalue(&g.x, 15);
        assert!(
            (re.hypot(im) - re2.hypot(im2)).abs() < 1e-12,
            "{re} {im} vs {re2} {im2}"
        );
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

    /// The lazy walk with drift on a cycle of `m` states: left 0.2, stay 0.5, right 0.3.
    fn cycle(m: usize) -> Chain {
        let mut cyc = Chain::with_states(m);
        for i in 0..m {
            let mut row = [((i + m - 1) % m, 0.2), (i, 0.5), ((i + 1) % m, 0.3)];
            row.sort_by_key(|e| e.0);
            let row: Vec<(u32, f64)> = row.iter().map(|&(j, p)| (j as u32, p)).collect();
            cyc.push_row(&row);
        }
        cyc
    }

    /// The parallel `xP` (a chain of more than 2^20 entries, so several parts) gives the same
    /// bits with one thread and with the pool, and agrees with the plain row-by-row sum to
    /// 1e-13 relative (only the order of the additions differs; each y_j sums ≤ 1024 positive
    /// terms, so the two differ by at most ~1024·2^−53 ≈ 1.1e-13 relative); runs are stored as runs.
    #[test]
    fn left_mul_is_deterministic_and_correct() {
        let (n, w) = (4096usize, 1024usize);
        let mut c = Chain::with_states(n);
        let mut state = 1u64;
        let mut rnd = || {
            state = lpmc_kernels::bits::mix64(state.wrapping_add(0x9E37_79B9_7F4A_7C15));
            (state >> 11) as f64 / 9_007_199_254_740_992.0
        };
        for i in 0..n {
            // Two runs per row: w/2 columns from i, w/2 from (i + n/2), wrapping.
            let mut row: Vec<(u32, f64)> = (0..w)
                .map(|k| {
                    let j = (i + k % (w / 2) + (k / (w / 2)) * (n / 2)) % n;
                    (j as u32, rnd())
                })
                .collect();
            let total: f64 = row.iter().map(|e| e.1).sum();
            row.iter_mut().for_each(|e| e.1 /= total);
            row.sort_by_key(|e| e.0);
            c.push_row(&row);
        }
        assert!(c.entries() > 1 << 20 && c.parts().len() > 2);
        assert!(c.run_col.len() <= 4 * n, "{} runs", c.run_col.len());
        let x: Vec<f64> = (0..n).map(|_| rnd()).collect();
        let mut y = vec![0.0; n];
        c.left_mul(&x, &mut y);
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let mut y1 = vec![0.0; n];
        one.install(|| c.left_mul(&x, &mut y1));
        assert_eq!(y, y1);
        let mut plain = vec![0.0; n];
        for (i, xi) in x.iter().enumerate() {
            for (j, p) in c.row(i) {
                plain[j] += xi * p;
            }
        }
        for (a, b) in y.iter().zip(&plain) {
            assert!((a - b).abs() <= 1.2e-13 * b, "{a} vs {b}");
        }
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
