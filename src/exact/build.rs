//! The transition rows of each lattice variant, from the engine's own description of a step
//! ([`lpmc_kernels::rules::Step`]: the rule's coefficients, the formats, the gradient source
//! and the noise generator, as the drivers run them) and the one-step laws of [`super::law`].
//! Every function mirrors one stage of the rules (`lpmc_kernels::rules::sgld`,
//! `lpmc_kernels::rules::sghmc`, `lpmc_kernels::rules::stages`) in the same order of
//! operations; `docs/theory.md` ("Exact transition laws") derives each.

use super::law::{qvc_law, round_code_law, round_gauss, round_point, Coded, REACH};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::target::dist1::{big_phi, big_phi_c};
use crate::target::Target;
use crate::vc::qvc_variance;
use lpmc_kernels::lane::{align, Fmt};
use lpmc_kernels::rules::stages::mixture_grad;
use lpmc_kernels::rules::{Datapath, Gradient, Noise, Step, Variant};
use lpmc_kernels::{Overflow, Rounding};

/// The exact rows' view of a sampler bound to a target: the kernel step the engine runs
/// (`lpmc::sampler::Engine::step`, or the sampler's step with the target's own gradient) and
/// its formats as [`Format`]s.
#[derive(Clone, Copy, Debug)]
pub struct Model<'a> {
    /// The step, as the drivers run it.
    pub step: Step<'a>,
    /// The target (its gradient when the step's gradient is [`Gradient::Given`]).
    pub target: &'a dyn Target,
    /// The position's storage format.
    pub fx: Format,
    /// The momentum's storage format (SGHMC; the position's for SGLD).
    pub fv: Format,
    /// The gradient's format.
    pub fg: Format,
    /// The accumulator (integer datapath).
    pub fa: Format,
    /// The noise codes' format (integer datapath).
    pub fnoise: Format,
}

/// The [`Format`] of a kernel format.
fn format(f: Fmt) -> Result<Format> {
    Ok(Format::new(f.wl, f.fl)?.with_overflow(f.overflow))
}

impl<'a> Model<'a> {
    /// The model of `step` on `target`.
    pub fn new(step: Step<'a>, target: &'a dyn Target) -> Result<Self> {
        Ok(Model {
            step,
            target,
            fx: format(step.x)?,
            fv: format(step.v)?,
            fg: format(step.grad)?,
            fa: format(step.accum)?,
            fnoise: format(step.noise_fmt)?,
        })
    }

    /// Whether the step computes on the float datapath.
    pub fn float(&self) -> bool {
        self.step.datapath == Datapath::Float
    }
}

/// The law of the quantized gradient at one position code: `(grad value, probability)` and
/// the probability of a Q_G overflow event.
#[derive(Clone, Debug, Default)]
pub struct GradLaw {
    /// `(gradient code, its value, probability)`.
    pub outcomes: Vec<(i64, f64, f64)>,
    /// P(Q_G overflows).
    pub event: f64,
}

/// The law of the gradient stage (`lpmc_kernels::rules::stages::GradStage`) at code `xc` of
/// the position: the integer gradient `prec_c·(x − μ_c)` requantized to `grad` by
/// [`Step::grad_shift`] bits ([`Gradient::IntGauss`]), else the `f64` gradient at the
/// position's value — `prec·(x − μ)`, the mixture's [`mixture_grad`] or [`Target::grad`],
/// as the step computes it — plus `grad_noise`·N(0, 1), rounded to `grad`.
pub fn grad_law(m: &Model, xc: i64) -> GradLaw {
    let st = &m.step;
    let fg = m.fg;
    let coded = if let Gradient::IntGauss { prec, mean, .. } = st.gradient {
        let p = prec[0] as i128 * (xc as i128 - mean[0] as i128);
        Coded::from_pairs(
            round_code_law(p, st.grad_shift(), st.rounding).into_iter(),
            fg,
        )
    } else {
        let x = m.fx.value(xc);
        let g = match st.gradient {
            Gradient::Gauss { prec, mean } => prec[0] * (x - mean[0]),
            Gradient::Mixture(mix) => mixture_grad(&mix, x),
            _ => {
                let mut g = [0.0];
                m.target.grad(&[x], &mut g);
                g[0]
            }
        };
        let scale = (fg.fl() as f64).exp2();
        if st.grad_noise > 0.0 {
            let law = round_gauss(g * scale, st.grad_noise * scale, st.rounding);
            Coded::from_pmf(&law, fg)
        } else {
            Coded::from_pairs(round_point(g * scale, st.rounding).into_iter(), fg)
        }
    };
    GradLaw {
        outcomes: coded
            .codes
            .iter()
            .filter(|e| e.1 > 0.0)
            .map(|&(c, p)| (c, fg.value(c), p))
            .collect(),
        event: coded.event,
    }
}

/// The exact pmf `(code, probability)` of the integer datapath's noise codes
/// (`lpmc_kernels::rules::stages::NoiseStage`, `f` the noise format): Box–Muller rounds an
/// (ideal) standard normal to the noise format (nearest, the mass beyond the Box–Muller bound
/// of 8.57 is < 10⁻¹⁷ and is kept on the extreme codes of the window); `clt:K:B` is the K-fold
/// convolution of a uniform on B bits, centred, shifted with nearest-even and brought into the
/// format by its overflow rule; `table:T` counts the table's entries.
pub fn noise_pmf(noise: Noise, f: Format) -> Result<Vec<(i64, f64)>> {
    let sat = |c: i128| f.overflow().apply(c, f.wl()).0;
    let mut out: std::collections::BTreeMap<i64, f64> = Default::default();
    match noise {
        Noise::BoxMuller => {
            let s = (f.fl() as f64).exp2();
            let lo = (-REACH * s).floor() as i64 - 1;
            let hi = (REACH * s).ceil() as i64 + 1;
            // P(a ≤ Z < b), from the side of the origin that keeps relative accuracy.
            let mass = |a: f64, b: f64| {
                if b <= 0.0 {
                    big_phi(b) - big_phi(a)
                } else if a >= 0.0 {
                    big_phi_c(a) - big_phi_c(b)
                } else {
                    1.0 - big_phi(a) - big_phi_c(b)
                }
            };
            for c in lo..=hi {
                let a = if c == lo {
                    f64::NEG_INFINITY
                } else {
                    (c as f64 - 0.5) / s
                };
                let b = if c == hi {
                    f64::INFINITY
                } else {
                    (c as f64 + 0.5) / s
                };
                *out.entry(sat(c as i128)).or_default() += mass(a, b).max(0.0);
            }
        }
        Noise::Table { bits, table } => {
            let w = 1.0 / (bits as f64).exp2();
            for &c in table {
                *out.entry(c).or_default() += w;
            }
        }
        Noise::Clt { k, bits, shift } => {
            let width = (1u64 << bits) as usize;
            let support = k as usize * (width - 1) + 1;
            if support > MAX_CLT_SUPPORT {
                return Err(Error::Config(format!(
                    "noise_gen clt:{k}:{bits}: the exact law of a sum of {k} uniforms on {bits} bits has {support} values, more than the exact solver's limit of {MAX_CLT_SUPPORT}; use fewer uniform bits (B ≤ {}) for `lpmc exact`",
                    ((MAX_CLT_SUPPORT / k as usize) as f64).log2().floor()
                )));
            }
            // pmf of S = Σ u_i by repeated moving sums of width 2^bits.
            let mut pmf = vec![1.0f64];
            let w = 1.0 / width as f64;
            for _ in 0..k {
                let mut next = vec![0.0f64; pmf.len() + width - 1];
                let mut acc = 0.0f64;
                for (i, slot) in next.iter_mut().enumerate() {
                    if i < pmf.len() {
                        acc += pmf[i];
                    }
                    if i >= width && i - width < pmf.len() {
                        acc -= pmf[i - width];
                    }
                    *slot = (acc * w).max(0.0);
                }
                pmf = next;
            }
            let offset = k as i64 * (width as i64 - 1);
            for (s, &p) in pmf.iter().enumerate() {
                let t = 2 * s as i64 - offset;
                let c = lpmc_kernels::portable::round_code(t, shift, Rounding::NearestEven, 0);
                *out.entry(sat(c)).or_default() += p;
            }
        }
    }
    Ok(out.into_iter().filter(|e| e.1 > 0.0).collect())
}

/// Largest number of values of a `clt` sum whose law is computed exactly.
pub const MAX_CLT_SUPPORT: usize = 1 << 24;

/// Rows as they are built: runs of consecutive columns and their probabilities, row by row
/// (columns pushed in ascending order), the entries below a threshold dropped and their mass
/// recorded. [`super::chain::Chain::append`] stores them.
#[derive(Clone, Debug, Default)]
pub struct Rows {
    /// First column of each run.
    pub run_col: Vec<u32>,
    /// Length of each run.
    pub run_len: Vec<u32>,
    /// The probabilities, run by run.
    pub vals: Vec<f64>,
    /// Number of runs pushed when each row ended.
    pub row_runs: Vec<usize>,
    /// Expected overflow events of each row's step.
    pub events: Vec<f64>,
    /// Largest mass dropped from one row.
    pub max_lost: f64,
    prune: f64,
    next: Option<u32>,
    lost: f64,
}

impl Rows {
    /// No rows yet; entries below `prune` will be dropped.
    pub fn new(prune: f64) -> Self {
        Rows {
            prune,
            ..Default::default()
        }
    }

    /// Adds probability `p` at column `col` (greater than the row's previous columns); zero
    /// and negative `p` are skipped, `p` below the threshold dropped.
    #[inline]
    pub fn push(&mut self, col: u32, p: f64) {
        if p <= 0.0 {
            self.next = None;
            return;
        }
        if p < self.prune {
            self.lost += p;
            self.next = None;
            return;
        }
        if self.next == Some(col) {
            *self.run_len.last_mut().expect("a run is open") += 1;
        } else {
            self.run_col.push(col);
            self.run_len.push(1);
        }
        self.vals.push(p);
        self.next = col.checked_add(1);
    }

    /// Ends the current row, whose step has `events` expected overflow events.
    pub fn end_row(&mut self, events: f64) {
        self.row_runs.push(self.run_col.len());
        self.events.push(events);
        self.max_lost = self.max_lost.max(self.lost);
        self.lost = 0.0;
        self.next = None;
    }

    /// Rows ended so far.
    pub fn rows(&self) -> usize {
        self.row_runs.len()
    }

    /// Stored probabilities.
    pub fn entries(&self) -> usize {
        self.vals.len()
    }
}

/// Per-thread buffers of the row builders.
#[derive(Clone, Debug, Default)]
pub struct Scratch {
    /// One value per state (the general accumulator, [`RowAcc`]), allocated on first use.
    dense: Vec<f64>,
    /// The (v', x') rectangle of the float SGHMC `lp-l` rows.
    grid: Vec<f64>,
    /// One position law.
    xs: Vec<f64>,
    /// One momentum code's row after the overflow rules.
    line: Vec<f64>,
    /// Per grid column: the clipped position code and whether that was an overflow.
    xmap: Vec<(i64, bool)>,
    /// `(μ_x, μ_v, probability)` of a row's gradient outcomes.
    means: Vec<(f64, f64, f64)>,
}

/// One row accumulated over a dense vector of all states, and the expected overflow
/// events: the general path, for any law and overflow rule.
pub struct RowAcc<'a> {
    dense: &'a mut [f64],
    touched: Vec<u32>,
    /// Expected overflow events of the step.
    pub events: f64,
}

impl<'a> RowAcc<'a> {
    /// A row of a chain on `n` states over the scratch's dense vector.
    pub fn new(scratch: &'a mut Scratch, n: usize) -> Self {
        if scratch.dense.len() < n {
            scratch.dense.resize(n, 0.0);
        }
        RowAcc {
            dense: &mut scratch.dense[..n],
            touched: Vec::new(),
            events: 0.0,
        }
    }

    /// Adds probability `p > 0` to state `j`.
    #[inline]
    pub fn add(&mut self, j: usize, p: f64) {
        if self.dense[j] == 0.0 {
            self.touched.push(j as u32);
        }
        self.dense[j] += p;
    }

    /// Ends the row into `out` (ascending columns), clearing the scratch.
    pub fn finish(mut self, out: &mut Rows) {
        self.touched.sort_unstable();
        self.touched.dedup();
        for &j in &self.touched {
            let v = self.dense[j as usize];
            self.dense[j as usize] = 0.0;
            out.push(j, v);
        }
        out.end_row(self.events);
    }
}

/// SGLD on the codes of `param` (`lpmc_kernels::rules::sgld`): the row of code `xc` (state
/// index `xc − min_code`).
pub fn sgld_row(
    m: &Model,
    grads: &[GradLaw],
    noise: &[(i64, f64)],
    xc: i64,
    scratch: &mut Scratch,
    out: &mut Rows,
) {
    let mut row = RowAcc::new(scratch, m.fx.codes() as usize);
    sgld_laws(m, grads, noise, xc, &mut row);
    row.finish(out);
}

/// The laws of [`sgld_row`] into `row`.
fn sgld_laws(m: &Model, grads: &[GradLaw], noise: &[(i64, f64)], xc: i64, row: &mut RowAcc) {
    let st = &m.step;
    let fx = m.fx;
    let base = fx.min_code();
    let g = &grads[(xc - base) as usize];
    row.events += g.event;
    if m.float() {
        let a = fx.value(xc);
        let scale = (fx.fl() as f64).exp2();
        let [eta, sig, ..] = st.coefs;
        for &(_, gv, pg) in &g.outcomes {
            let mean = a - eta * gv;
            let law = match st.variant {
                Variant::LpL => {
                    Coded::from_pmf(&round_gauss(mean * scale, sig * scale, st.rounding), fx)
                }
                _ => qvc_law(mean, st.vc_var[0], fx),
            };
            put(row, &law, pg, |c| (c - base) as usize);
        }
        return;
    }
    let [eta_c, noise_c, ..] = st.int_coefs;
    let fa = m.fa;
    let (fc, fg, fl_a, fnz) = (st.coef_fl, st.grad.fl, fa.fl(), st.noise_fmt.fl);
    for &(gc, _, pg) in &g.outcomes {
        let sum0 =
            align(xc as i128, fx.fl(), fl_a) - align(eta_c as i128 * gc as i128, fc + fg, fl_a);
        if st.variant == Variant::VcL {
            let (code, over) = fa.overflow().apply(sum0, fa.wl());
            row.events += pg * over as u8 as f64;
            let law = qvc_law(fa.value(code), st.vc_var[0], fx);
            put(row, &law, pg, |c| (c - base) as usize);
            continue;
        }
        for &(n, pn) in noise {
            let sum = sum0 + align(noise_c as i128 * n as i128, fc + fnz, fl_a);
            let (code, over) = fa.overflow().apply(sum, fa.wl());
            let w = pg * pn;
            row.events += w * over as u8 as f64;
            let shift = fl_a as i32 - fx.fl() as i32;
            let law = Coded::from_pairs(
                round_code_law(code as i128, shift, st.rounding).into_iter(),
                fx,
            );
            put(row, &law, w, |c| (c - base) as usize);
        }
    }
}

/// Adds `w·law` to the row, mapping codes to states with `idx`; counts the law's events.
fn put(row: &mut RowAcc, law: &Coded, w: f64, idx: impl Fn(i64) -> usize) {
    row.events += w * law.event;
    for &(c, p) in &law.codes {
        if p > 0.0 {
            row.add(idx(c), w * p);
        }
    }
}

/// Gauss–Legendre nodes and weights on [−1, 1] (Newton on P_n from Chebyshev guesses).
pub fn gauss_legendre(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut xs = vec![0.0; n];
    let mut ws = vec![0.0; n];
    for i in 0..n {
        let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
        let mut dp = 1.0;
        for _ in 0..100 {
            let (mut p0, mut p1) = (1.0, x);
            for k in 2..=n {
                let p2 = ((2 * k - 1) as f64 * x * p1 - (k - 1) as f64 * p0) / k as f64;
                p0 = p1;
                p1 = p2;
            }
            dp = n as f64 * (x * p1 - p0) / (x * x - 1.0);
            let dx = p1 / dp;
            x -= dx;
            if dx.abs() < 1e-16 {
                break;
            }
        }
        xs[i] = x;
        ws[i] = 2.0 / ((1.0 - x * x) * dp * dp);
    }
    (xs, ws)
}

/// The breakpoints in `[0, 1)` of a rounding's P(up) as a function of the fraction (where
/// the integrand of the float SGHMC momentum law is not smooth).
fn breakpoints(r: Rounding) -> Vec<f64> {
    match r {
        Rounding::NearestEven | Rounding::NearestAway => vec![0.0, 0.5],
        Rounding::Stochastic { bits } => {
            let n = 1u64 << bits;
            (0..n).map(|m| m as f64 / n as f64).collect()
        }
        Rounding::StochasticCorrected { bits } => {
            let n = 1u64 << bits;
            let mut v = vec![0.0];
            v.extend((1..=n).map(|m| (m as f64 - 0.5) / n as f64));
            v
        }
        _ => vec![0.0],
    }
}

/// Largest number of quadrature pieces of one float SGHMC `lp-l` row.
pub const MAX_PIECES: usize = 1 << 16;

/// SGHMC context shared by all rows.
pub struct SghmcCtx<'a> {
    /// The sampler's step and formats.
    pub m: &'a Model<'a>,
    /// Gradient law per position code.
    pub grads: &'a [GradLaw],
    /// Noise pmf (integer datapath).
    pub noise: &'a [(i64, f64)],
    /// Gauss–Legendre rules (4 and 8 points) of the float `lp-l` quadrature.
    pub gl: [(Vec<f64>, Vec<f64>); 2],
    /// The position's law given its pre-rounding mean (float `lp-l`).
    pub xk: Option<XKernel>,
}

/// The law of the rounded code of `N(m, t²)` (code units) as a function of the mean `m`,
/// for a fixed `t` and rounding: [`round_gauss`] tabulated at the means `j/J` of one cell
/// (plus two on each side) and interpolated by 4-point Lagrange in `m` (every mode but
/// `toward-zero` is invariant under integer shifts, so one cell suffices). The law is a
/// Gaussian smoothing at scale t, so the interpolation error is about `(1/(J·t))⁴/24` of the
/// probabilities' fourth derivative; J = ⌈45/t⌉ keeps it near 10⁻¹⁴. `toward-zero`, or a t
/// so small that J would exceed 2^16, evaluates [`round_gauss`] directly; t = 0 is the point
/// law [`round_point`].
#[derive(Clone, Debug)]
pub struct XKernel {
    t: f64,
    rounding: Rounding,
    j: usize,
    r_lo: i64,
    width: usize,
    table: Vec<f64>,
}

impl XKernel {
    /// The kernel of sd `t` ≥ 0 and `rounding`.
    pub fn new(t: f64, rounding: Rounding) -> Self {
        let direct = XKernel {
            t,
            rounding,
            j: 0,
            r_lo: 0,
            width: 0,
            table: Vec::new(),
        };
        if t <= 0.0 {
            return direct;
        }
        let j = (45.0 / t).ceil();
        if rounding == Rounding::TowardZero || j.is_nan() || j > 65536.0 {
            return direct;
        }
        let j = j as usize;
        let r_lo = (-REACH * t).floor() as i64 - 4;
        let r_hi = (1.0 + REACH * t).ceil() as i64 + 4;
        let width = (r_hi - r_lo + 1) as usize;
        let mut table = vec![0.0; (j + 5) * width];
        for k in 0..j + 5 {
            let m = (k as f64 - 2.0) / j as f64;
            let law = round_gauss(m, t, rounding);
            for (c, p) in law.iter() {
                let r = (c - r_lo) as usize;
                if r < width {
                    table[k * width + r] = p;
                }
            }
        }
        XKernel {
            t,
            rounding,
            j,
            r_lo,
            width,
            table,
        }
    }

    /// The probabilities of the rounded `N(m, t²)` on consecutive unclipped codes into `out`;
    /// returns the first code. Interpolated values below 0 (round-off in the far tails)
    /// are 0.
    #[inline]
    pub fn eval(&self, m: f64, out: &mut Vec<f64>) -> i64 {
        out.clear();
        if self.j == 0 {
            if self.t > 0.0 {
                let law = round_gauss(m, self.t, self.rounding);
                out.extend_from_slice(&law.p);
                return law.lo;
            }
            let [(lo, p0), (_, p1)] = round_point(m, self.rounding);
            out.extend([p0, p1]);
            return lo as i64;
        }
        let fl = m.floor();
        let u = (m - fl) * self.j as f64;
        let k0 = (u.floor() as usize).min(self.j - 1);
        let w = lagrange4(u - k0 as f64);
        let wd = self.width;
        let t = &self.table[(k0 + 1) * wd..(k0 + 5) * wd];
        let (t0, t1, t2, t3) = (&t[..wd], &t[wd..2 * wd], &t[2 * wd..3 * wd], &t[3 * wd..]);
        out.extend(
            (0..wd).map(|r| (w[0] * t0[r] + w[1] * t1[r] + w[2] * t2[r] + w[3] * t3[r]).max(0.0)),
        );
        fl as i64 + self.r_lo
    }

    /// Adds `a·law` to `lo_row` and `b·law` to `hi_row` (each from their first element), the
    /// law being [`XKernel::eval`]'s at mean `m` (first code [`XKernel::first_code`], `width`
    /// codes), in one pass over the table. Needs the tabulated kernel
    /// ([`XKernel::tabulated`]); the sums are those of `eval` followed by the two scaled
    /// additions, bit for bit.
    #[inline]
    pub fn add_pair(&self, m: f64, (a, b): (f64, f64), lo_row: &mut [f64], hi_row: &mut [f64]) {
        debug_assert!(self.tabulated());
        let fl = m.floor();
        let u = (m - fl) * self.j as f64;
        let k0 = (u.floor() as usize).min(self.j - 1);
        let w = lagrange4(u - k0 as f64);
        let wd = self.width;
        let t = &self.table[(k0 + 1) * wd..(k0 + 5) * wd];
        let (t0, t1, t2, t3) = (&t[..wd], &t[wd..2 * wd], &t[2 * wd..3 * wd], &t[3 * wd..]);
        let (g0, g1) = (&mut lo_row[..wd], &mut hi_row[..wd]);
        for r in 0..wd {
            let p = (w[0] * t0[r] + w[1] * t1[r] + w[2] * t2[r] + w[3] * t3[r]).max(0.0);
            g0[r] += a * p;
            g1[r] += b * p;
        }
    }

    /// The first code of the tabulated law at mean `m` (as [`XKernel::add_pair`] returns it).
    #[inline]
    pub fn first_code(&self, m: f64) -> i64 {
        m.floor() as i64 + self.r_lo
    }

    /// Whether the law is interpolated from a table (else evaluated directly).
    pub fn tabulated(&self) -> bool {
        self.j > 0
    }

    /// Unclipped codes `[lo, hi]` that hold [`XKernel::eval`]'s output for every mean in
    /// `[m_lo, m_hi]` (one code of slack on each side for the round-off of the means).
    pub fn span(&self, m_lo: f64, m_hi: f64) -> (i64, i64) {
        let (a, b) = (m_lo.floor() as i64, m_hi.floor() as i64);
        if self.j > 0 {
            (a + self.r_lo - 1, b + self.r_lo + self.width as i64)
        } else if self.t > 0.0 {
            let (a, b) = (
                (m_lo - REACH * self.t).floor() as i64,
                (m_hi + REACH * self.t).floor() as i64,
            );
            (a - 3, b + 3)
        } else {
            (a - 1, b + 2)
        }
    }
}

/// The 4-point Lagrange weights at fractional position `s` ∈ [0, 1) of the nodes at offsets
/// −1, 0, 1, 2 (table rows k0 + 1 … k0 + 4 for the cell k0).
#[inline]
fn lagrange4(s: f64) -> [f64; 4] {
    [
        -s * (s - 1.0) * (s - 2.0) / 6.0,
        (s + 1.0) * (s - 1.0) * (s - 2.0) / 2.0,
        -(s + 1.0) * s * (s - 2.0) / 2.0,
        (s + 1.0) * s * (s - 1.0) / 6.0,
    ]
}

/// SGHMC on (x, v) codes (`lpmc_kernels::rules::sghmc`): the row of state `(xc, vc)`, state
/// index `(v − v_min)·N_x + (x − x_min)`.
pub fn sghmc_row(
    ctx: &SghmcCtx,
    xc: i64,
    vc: i64,
    scratch: &mut Scratch,
    out: &mut Rows,
) -> Result<()> {
    let m = ctx.m;
    if m.float() && m.step.variant == Variant::LpL {
        return sghmc_lpl_float_row(ctx, xc, vc, scratch, out);
    }
    let n = (m.fx.codes() * m.fv.codes()) as usize;
    let mut row = RowAcc::new(scratch, n);
    sghmc_laws(ctx, xc, vc, &mut row);
    row.finish(out);
    Ok(())
}

/// The laws of [`sghmc_row`] into `row` (every case but float `lp-l`).
fn sghmc_laws(ctx: &SghmcCtx, xc: i64, vc: i64, row: &mut RowAcc) {
    let m = ctx.m;
    let st = &m.step;
    let (fx, fv) = (m.fx, m.fv);
    let (xb, vb) = (fx.min_code(), fv.min_code());
    let nx = (fx.max_code() - xb + 1) as usize;
    let idx = |x: i64, v: i64| (v - vb) as usize * nx + (x - xb) as usize;
    let g = &ctx.grads[(xc - xb) as usize];
    row.events += g.event;
    let [vv, vg, xv, xg, ..] = st.coefs;
    let [var_x, var_v, cov] = st.vc_var;
    if m.float() {
        let (x, v) = (fx.value(xc), fv.value(vc));
        for &(_, gv, pg) in &g.outcomes {
            let mx = x + xv * v + xg * gv;
            let mv = vv * v + vg * gv;
            match st.variant {
                Variant::VcL => {
                    let lv = qvc_law(mv, var_v, fv);
                    let lx = qvc_law(mx, var_x, fx);
                    product(row, &lx, &lv, pg, &idx);
                }
                _ => {
                    let c = [[var_x, cov], [cov, var_v]];
                    joint(row, [mx, mv], c, fx, fv, pg, &idx);
                }
            }
        }
        return;
    }
    let [e, cvg, cxv, cxg, nv, nxv, nx_] = st.int_coefs.map(|c| c as i128);
    let fa = m.fa;
    let (fc, fg, fl_a, fnz) = (st.coef_fl, st.grad.fl, fa.fl(), st.noise_fmt.fl);
    let acc = |sum: i128| fa.overflow().apply(sum, fa.wl());
    let (x, v) = (xc as i128, vc as i128);
    for &(gc, _, pg) in &g.outcomes {
        let gi = gc as i128;
        let sv0 = align(e * v, fc + fv.fl(), fl_a) + align(cvg * gi, fc + fg, fl_a);
        let sx0 = align(x, fx.fl(), fl_a)
            + align(cxv * v, fc + fv.fl(), fl_a)
            + align(cxg * gi, fc + fg, fl_a);
        match st.variant {
            Variant::LpL => {
                let shift_v = fl_a as i32 - fv.fl() as i32;
                let shift_x = fl_a as i32 - fx.fl() as i32;
                for &(n1, p1) in ctx.noise {
                    let n1 = n1 as i128;
                    let (cv, ov) = acc(sv0 + align(nv * n1, fc + fnz, fl_a));
                    let lv = Coded::from_pairs(
                        round_code_law(cv as i128, shift_v, st.rounding).into_iter(),
                        fv,
                    );
                    let sx1 = sx0 + align(nxv * n1, fc + fnz, fl_a);
                    // x' given n1: mix over n2.
                    let mut pairs: Vec<(i128, f64)> = Vec::with_capacity(2 * ctx.noise.len());
                    let mut ev_x = 0.0;
                    for &(n2, p2) in ctx.noise {
                        let (cx, ox) = acc(sx1 + align(nx_ * n2 as i128, fc + fnz, fl_a));
                        ev_x += p2 * ox as u8 as f64;
                        for (c, p) in round_code_law(cx as i128, shift_x, st.rounding) {
                            if p > 0.0 {
                                pairs.push((c, p2 * p));
                            }
                        }
                    }
                    let lx = Coded::from_pairs(pairs.into_iter(), fx);
                    let w = pg * p1;
                    row.events += w * (ov as u8 as f64 + ev_x);
                    product(row, &lx, &lv, w, &idx);
                }
            }
            _ => {
                let (cv, ov) = acc(sv0);
                let (cx, ox) = acc(sx0);
                row.events += pg * (ov as u8 as f64 + ox as u8 as f64);
                let (mx, mv) = (fa.value(cx), fa.value(cv));
                if st.variant == Variant::VcL {
                    let lv = qvc_law(mv, var_v, fv);
                    let lx = qvc_law(mx, var_x, fx);
                    product(row, &lx, &lv, pg, &idx);
                } else {
                    let c = [[var_x, cov], [cov, var_v]];
                    joint(row, [mx, mv], c, fx, fv, pg, &idx);
                }
            }
        }
    }
}

/// Adds `w·(x-law ⊗ v-law)` and both laws' events.
fn product(row: &mut RowAcc, lx: &Coded, lv: &Coded, w: f64, idx: &impl Fn(i64, i64) -> usize) {
    row.events += w * (lx.event + lv.event);
    for &(cv, pv) in &lv.codes {
        if pv <= 0.0 {
            continue;
        }
        for &(cx, px) in &lx.codes {
            if px > 0.0 {
                row.add(idx(cx, cv), w * pv * px);
            }
        }
    }
}

/// The law of `lpmc::vc::qvc_joint` (sequential conditioning, as it computes it): the
/// coordinate with the smaller variance in code units first, then the other given it.
fn joint(
    row: &mut RowAcc,
    mu: [f64; 2],
    cov: [[f64; 2]; 2],
    fx: Format,
    fv: Format,
    w: f64,
    idx: &impl Fn(i64, i64) -> usize,
) {
    let formats = [fx, fv];
    let c = [cov[0][0], cov[1][1]];
    let cij = 0.5 * (cov[0][1] + cov[1][0]);
    let code_var = |k: usize| {
        let d = formats[k].delta();
        c[k] / (d * d)
    };
    let i = if code_var(1) < code_var(0) { 1 } else { 0 };
    let j = 1 - i;
    let li = qvc_law(mu[i], c[i], formats[i]);
    let vi = qvc_variance(mu[i], c[i], formats[i]);
    let (beta, s) = if vi > 0.0 && cij.is_finite() {
        (cij / vi, c[j] - cij * cij / vi)
    } else {
        (0.0, c[j])
    };
    row.events += w * li.event;
    for &(ti, pi) in &li.codes {
        if pi <= 0.0 {
            continue;
        }
        let a = mu[j] + beta * (formats[i].value(ti) - mu[i]);
        let lj = qvc_law(a, s, formats[j]);
        row.events += w * pi * lj.event;
        for &(tj, pj) in &lj.codes {
            if pj > 0.0 {
                let (cx, cv) = if i == 0 { (ti, tj) } else { (tj, ti) };
                row.add(idx(cx, cv), w * pi * pj);
            }
        }
    }
}

/// Float SGHMC `lp-l` (`lpmc_kernels::rules::sghmc`, then `Q_V`, `Q_W`): the row of state
/// `(xc, vc)`. For each gradient outcome g the noise-free means are
/// `m_x = x + c_xv·v + c_xg·g`, `m_v = e·v + c_vg·g` (the rule's sums without their noise
/// terms); with `w` the momentum's pre-rounding value in its codes,
/// `w ~ N(μ_v, t_v²)` (μ_v = m_v·2^FL_v, t_v = √Var_v·2^FL_v) and, given w, the position's
/// pre-rounding value is `N(μ_x + β·(w − μ_v), t_x²)` in its codes (the x-noise's part along
/// z₁, β = (a·√Var_v)·2^FL_x/t_v, plus its independent part t_x = s·2^FL_x). The joint row
/// is ∫ density(w) · [v' law at w] ⊗ [x' law given w] dw: v' is ⌊w⌋ or ⌊w⌋ + 1 with the
/// engine's P(up) at w; x' is the tabulated [`XKernel`] law at the mean given w. The
/// integral runs over w within [`REACH`] sd, split at every breakpoint of P(up) and into
/// pieces of at most half the integrand's smoothness scale ℓ = min(t_v, t_x/|β|), each by
/// 4- or 8-point Gauss–Legendre.
///
/// The row is accumulated in a dense rectangle of unclipped (v', x') codes (each node adds
/// two contiguous slices), then the overflow rules map it to states, in ascending order
/// (saturation; other rules take the general [`RowAcc`]).
fn sghmc_lpl_float_row(
    ctx: &SghmcCtx,
    xc: i64,
    vc: i64,
    sc: &mut Scratch,
    out: &mut Rows,
) -> Result<()> {
    let m = ctx.m;
    let st = &m.step;
    let (fx, fv) = (m.fx, m.fv);
    let [vv, vg, xv, xg, sv, asv, sd] = st.coefs;
    let (scx, scv) = ((fx.fl() as f64).exp2(), (fv.fl() as f64).exp2());
    let (t_v, t_x) = (sv * scv, sd * scx);
    let beta = asv * scx / t_v;
    let xk = ctx
        .xk
        .as_ref()
        .expect("the float lp-l context has its kernel");
    let g = &ctx.grads[(xc - fx.min_code()) as usize];
    let (x, v) = (fx.value(xc), fv.value(vc));
    sc.means.clear();
    for &(_, gv, pg) in &g.outcomes {
        let mx = x + xv * v + xg * gv;
        let mv = vv * v + vg * gv;
        sc.means.push((mx * scx, mv * scv, pg));
    }
    // The rectangle of unclipped codes every outcome reaches.
    let reach_x = beta.abs() * REACH * t_v;
    let (mut v0, mut v1, mut x0, mut x1) = (i64::MAX, i64::MIN, i64::MAX, i64::MIN);
    for &(mu_x, mu_v, _) in &sc.means {
        v0 = v0.min((mu_v - REACH * t_v).floor() as i64);
        v1 = v1.max((mu_v + REACH * t_v).floor() as i64 + 1);
        let (a, b) = xk.span(mu_x - reach_x, mu_x + reach_x);
        x0 = x0.min(a);
        x1 = x1.max(b);
    }
    let (nvg, nxg) = ((v1 - v0 + 1) as usize, (x1 - x0 + 1) as usize);
    sc.grid.clear();
    sc.grid.resize(nvg * nxg, 0.0);
    let means = std::mem::take(&mut sc.means);
    for &(mu_x, mu_v, pg) in &means {
        lpl_float_outcome(ctx, (mu_x, mu_v, t_x, t_v, beta), pg, (v0, x0, nxg), sc)?;
    }
    sc.means = means;
    emit_grid(m, v0, (x0, nxg), g.event, sc, out);
    Ok(())
}

/// One gradient outcome of [`sghmc_lpl_float_row`] (means μ_x, μ_v in codes, probability
/// `pg`) into the rectangle whose first row is v' = `v0` and first column x' = `x0`.
fn lpl_float_outcome(
    ctx: &SghmcCtx,
    (mu_x, mu_v, t_x, t_v, beta): (f64, f64, f64, f64, f64),
    pg: f64,
    (v0, x0, nxg): (i64, i64, usize),
    sc: &mut Scratch,
) -> Result<()> {
    let rounding = ctx.m.step.rounding;
    let ell = if beta != 0.0 {
        t_v.min(t_x / beta.abs())
    } else {
        t_v
    };
    let width = (0.5 * ell).min(1.0);
    let bps = breakpoints(rounding);
    let (lo, hi) = (mu_v - REACH * t_v, mu_v + REACH * t_v);
    let cells = (hi.floor() - lo.floor() + 1.0) as usize;
    let sub = (1.0 / width).ceil() as usize;
    let pieces = cells * bps.len() * sub.max(1);
    if pieces > MAX_PIECES {
        return Err(Error::Config(format!(
            "the exact SGHMC lp-l law on the float datapath needs {pieces} quadrature pieces per row (more than {MAX_PIECES}): the rounding {rounding} has too many breakpoints per momentum code, or the position noise is too small against the grid"
        )));
    }
    let xk = ctx
        .xk
        .as_ref()
        .expect("the float lp-l context has its kernel");
    let inv_tv = 1.0 / t_v;
    let tabulated = xk.tabulated();
    let Scratch { grid, xs, .. } = sc;
    let mut edges: Vec<f64> = Vec::with_capacity(bps.len() + 1);
    for cell in lo.floor() as i64..=hi.floor() as i64 {
        edges.clear();
        edges.extend(bps.iter().map(|b| cell as f64 + b));
        edges.push(cell as f64 + 1.0);
        for pair in edges.windows(2) {
            let (pa, pb) = (pair[0].max(lo), pair[1].min(hi));
            if pb <= pa {
                continue;
            }
            let k = ((pb - pa) / width).ceil().max(1.0) as usize;
            let h = (pb - pa) / k as f64;
            // 4 points suffice when the piece is small against ℓ (error ≈ (h/ℓ)^8/7·10⁻⁴).
            let (gx, gw) = &ctx.gl[if h <= 0.15 * ell { 0 } else { 1 }];
            for q in 0..k {
                let (qa, qb) = (pa + q as f64 * h, pa + (q + 1) as f64 * h);
                let (c, r) = (0.5 * (qa + qb), 0.5 * (qb - qa));
                for (x, wt) in gx.iter().zip(gw) {
                    let w = c + r * x;
                    let z = (w - mu_v) * inv_tv;
                    let dens = crate::target::dist1::phi(z) * inv_tv * r * wt * pg;
                    if dens == 0.0 {
                        continue;
                    }
                    let mx = mu_x + beta * (w - mu_v);
                    let up = rounding.p_up_f64(w);
                    let fw = w.floor() as i64;
                    let (a, b) = (dens * (1.0 - up), dens * up);
                    let row = (fw - v0) as usize * nxg;
                    if tabulated {
                        // The law's first code is known before it is evaluated.
                        let at = row + (xk.first_code(mx) - x0) as usize;
                        let (lo, hi) = grid[at..].split_at_mut(nxg);
                        xk.add_pair(mx, (a, b), lo, hi);
                        continue;
                    }
                    let base = xk.eval(mx, xs);
                    let at = row + (base - x0) as usize;
                    let len = xs.len();
                    for (row, pv) in [(at, a), (at + nxg, b)] {
                        if pv > 0.0 {
                            for (gc, &p) in grid[row..row + len].iter_mut().zip(xs.iter()) {
                                *gc += pv * p;
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// Maps the rectangle of unclipped (v', x') codes to states by the overflow rules and ends
/// the row in `out` (`g_event`: the Q_G overflow probability); an overflow event is counted
/// per quantity whose rule changed the code, as the engine counts them.
fn emit_grid(
    m: &Model,
    v0: i64,
    (x0, nxg): (i64, usize),
    g_event: f64,
    sc: &mut Scratch,
    out: &mut Rows,
) {
    let (fx, fv) = (m.fx, m.fv);
    let (xb, vb) = (fx.min_code(), fv.min_code());
    let nx = fx.codes() as usize;
    let (ox, ov) = (fx.overflow(), fv.overflow());
    let mut events = g_event;
    sc.xmap.clear();
    sc.xmap
        .extend((0..nxg).map(|k| ox.apply((x0 + k as i64) as i128, fx.wl())));
    let saturating = ox == Overflow::Saturate && ov == Overflow::Saturate;
    if !saturating {
        let grid = std::mem::take(&mut sc.grid);
        let xmap = std::mem::take(&mut sc.xmap);
        let mut row = RowAcc::new(sc, nx * fv.codes() as usize);
        for (r, line) in grid.chunks(nxg).enumerate() {
            let (cv, evv) = ov.apply((v0 + r as i64) as i128, fv.wl());
            for (&p, &(cx, evx)) in line.iter().zip(&xmap) {
                if p > 0.0 {
                    row.events += p * (evv as u8 + evx as u8) as f64;
                    row.add((cv - vb) as usize * nx + (cx - xb) as usize, p);
                }
            }
        }
        row.events += events;
        row.finish(out);
        sc.grid = grid;
        sc.xmap = xmap;
        return;
    }
    // Saturation is monotone: clipped codes ascend with the unclipped ones, so each clipped
    // momentum code's line is summed and emitted in column order.
    let (cx_lo, cx_hi) = (sc.xmap[0].0, sc.xmap[nxg - 1].0);
    let width = (cx_hi - cx_lo + 1) as usize;
    sc.line.clear();
    sc.line.resize(width, 0.0);
    let Scratch {
        grid, line, xmap, ..
    } = sc;
    let flush = |line: &mut [f64], cv: i64, out: &mut Rows| {
        let at = (cv - vb) as usize * nx + (cx_lo - xb) as usize;
        for (k, p) in line.iter_mut().enumerate() {
            out.push((at + k) as u32, *p);
            *p = 0.0;
        }
    };
    let mut cur: Option<i64> = None;
    for (r, g) in grid.chunks(nxg).enumerate() {
        let (cv, evv) = ov.apply((v0 + r as i64) as i128, fv.wl());
        if cur != Some(cv) {
            if let Some(c) = cur {
                flush(line, c, out);
            }
            cur = Some(cv);
        }
        for (&p, &(cx, evx)) in g.iter().zip(xmap.iter()) {
            if p > 0.0 {
                line[(cx - cx_lo) as usize] += p;
                events += p * (evv as u8 + evx as u8) as f64;
            }
        }
    }
    if let Some(c) = cur {
        flush(line, c, out);
    }
    out.end_row(events);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-pass [`XKernel::add_pair`] is `eval` followed by the two scaled additions, bit
    /// for bit (the same products and sums in the same order), and its first code is the one
    /// `eval` returns; the interpolated law sums to 1 within the table's stated accuracy
    /// (≈ 10⁻¹⁴ per probability, ~18 probabilities: 10⁻¹² is ample).
    #[test]
    fn add_pair_equals_eval_then_scaled_adds() {
        for rounding in [
            Rounding::StochasticExact,
            Rounding::NearestAway,
            Rounding::Stochastic { bits: 3 },
        ] {
            let xk = XKernel::new(0.43, rounding);
            assert!(xk.tabulated());
            let mut law = Vec::new();
            for &m in &[-3.71, -0.5, 0.0, 0.013, 2.999_999, 17.25] {
                let first = xk.eval(m, &mut law);
                assert_eq!(first, xk.first_code(m), "mean {m}");
                let total: f64 = law.iter().sum();
                assert!((total - 1.0).abs() < 1e-12, "mean {m}: law sums to {total}");
                let (a, b) = (0.3, 0.7e-3);
                let start: Vec<f64> = (0..2 * law.len()).map(|k| k as f64 * 1e-3).collect();
                let mut want = start.clone();
                let (lo, hi) = want.split_at_mut(law.len());
                for ((l, h), &p) in lo.iter_mut().zip(hi.iter_mut()).zip(&law) {
                    *l += a * p;
                    *h += b * p;
                }
                let mut got = start.clone();
                let (lo, hi) = got.split_at_mut(law.len());
                xk.add_pair(m, (a, b), lo, hi);
                assert_eq!(got, want, "mean {m}");
            }
        }
    }
}
