//! `lpmc bench`: integer throughput of the hot kernels and of whole runs, against an `f32`
//! float simulation of the same chain written the way NumPy/PyTorch users write it, measured
//! in the same process.
//!
//! # What is measured
//! - `requantize`: i16 → i8 codes with `sr:8` (elements/s);
//! - `sgld-lp-l` and `sghmc-lp-l`: the fused integer kernels on a d-dimensional Gaussian with
//!   8-bit state (dim-steps/s), on 1 thread and on all threads (one chain per thread, so the
//!   ratio is the multi-chain scaling);
//! - `sgld-vc-l` and `sghmc-vc-l`: the fused `vc-l` kernels (integer mean, Q^vc in `f64`)
//!   on the same setting, against the array-code Q^vc;
//! - `\[L\] 1 chain`: `lpmc run`'s chain runner on the \[L\] Gaussian experiment (SGLD `lp-l`,
//!   Q(8,3), 1-D, 1e7 steps, every sample kept), chain-steps/s and seconds;
//! - `chains 1-D sghmc`: the runner on 1e4 chains × 1e5 steps of 1-D SGHMC `lp-l` (full mode
//!   only; `--quick` runs 1e3 × 1e4 and says so).
//!
//! The baseline (`f32`) is the float simulation at its fastest: one fused in-place pass per
//! step over `f32` values, Box–Muller normals and 24-bit uniforms from xoshiro256++, the
//! rounding `x = clip(floor(x/Δ + u)·Δ, lo, hi)` — faster than the vectorised NumPy
//! float32 script a researcher writes (which makes a pass over memory per operation), so the
//! ratios do not flatter lpmc. Every rate is the median of several repeats (the
//! machine may be shared). Peak memory is the process's peak resident set (`VmHWM` of
//! `/proc/self/status`, Linux only).

use super::chains::{run_chains, ChainSpec, NoProgress};
use super::config::RunConfig;
use crate::error::{Error, Result};
use crate::format::Format;
use crate::noise::{IntNormal, NoiseGen};
use crate::round::Rounding;
use crate::sampler::{Engine, Sampler};
use lpmc_kernels::drivers::{chain, State};
use lpmc_kernels::rules::Gradient;
use lpmc_kernels::{Code, Overflow, Platform, Spec, WordSource, Xoshiro};
use serde::Serialize;
use std::time::Instant;

/// Settings of `lpmc bench`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BenchOptions {
    /// Small sizes and few repeats (a few seconds in all); the end-to-end rows are scaled down.
    pub quick: bool,
    /// Threads of the "all threads" columns (default: the available cores).
    pub threads: Option<usize>,
}

/// One row of the table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchRow {
    /// What runs.
    pub kernel: String,
    /// Formats of the quantities involved.
    pub formats: String,
    /// Rounding mode.
    pub rounding: String,
    /// The kernel implementation (`avx512`, `avx2`, `chunked`, `portable`).
    pub platform: String,
    /// Unit of the rates: `elements/s`, `dim-steps/s` or `chain-steps/s`.
    pub unit: String,
    /// Problem size (elements, dimensions, or chains × steps).
    pub size: String,
    /// Rate on one thread (per core), median of the repeats.
    pub per_core: f64,
    /// Threads of `all_threads`.
    pub threads: usize,
    /// Aggregate rate on `threads` threads (multi-chain rows), median of the repeats.
    pub all_threads: Option<f64>,
    /// `all_threads / per_core`.
    pub scaling: Option<f64>,
    /// Rate of the `f32` array-code baseline on one thread.
    pub f32_per_core: Option<f64>,
    /// `per_core / f32_per_core`.
    pub ratio_to_f32: Option<f64>,
    /// Wall-clock seconds of the whole job (end-to-end rows).
    pub seconds: Option<f64>,
    /// The target for this row, if any.
    pub target: Option<String>,
    /// Peak resident memory of the process after this row, bytes (`None` off Linux).
    pub peak_rss_bytes: Option<u64>,
}

/// What `lpmc bench` reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchReport {
    /// lpmc version.
    pub lpmc_version: String,
    /// The detected kernel implementation.
    pub platform: String,
    /// Cores available to the process.
    pub cores: usize,
    /// Whether `--quick` scaled the sizes down.
    pub quick: bool,
    /// What `--quick` changed, if anything.
    pub note: String,
    /// The rows.
    pub rows: Vec<BenchRow>,
    /// Peak resident memory of the process, bytes (`None` off Linux).
    pub peak_rss_bytes: Option<u64>,
}

/// Peak resident set size of this process (`VmHWM`), bytes; `None` where unavailable.
pub fn peak_rss() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Median of `reps` measurements of `work` (which returns the units it processed) in units/s.
fn median_rate(reps: usize, mut work: impl FnMut() -> f64) -> f64 {
    let mut rates: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            let units = work();
            units / t.elapsed().as_secs_f64().max(1e-9)
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    rates[rates.len() / 2]
}

/// Runs `work(thread)` on `threads` threads at once; returns the total units/s.
fn parallel_rate(threads: usize, reps: usize, work: impl Fn(usize) -> f64 + Sync) -> f64 {
    median_rate(reps, || {
        std::thread::scope(|s| {
            let work = &work;
            let hs: Vec<_> = (0..threads).map(|t| s.spawn(move || work(t))).collect();
            hs.into_iter().map(|h| h.join().unwrap_or(0.0)).sum()
        })
    })
}

/// 2^−24: a 24-bit uniform to `f32` in [0, 1).
const INV_2_24: f32 = 1.0 / 16_777_216.0;

/// Two `f32` uniforms in [0, 1) from one word (its two 24-bit halves' top bits), the
/// resolution of NumPy's `random(dtype=float32)`.
#[inline(always)]
fn uniform_pair(w: u64) -> (f32, f32) {
    (
        ((w >> 40) as i32) as f32 * INV_2_24,
        (((w >> 8) & 0xff_ffff) as i32) as f32 * INV_2_24,
    )
}

/// Two `f32` standard normals from one word by Box–Muller: `u1 ∈ (0, 1]`, `u2 ∈ [0, 1)`
/// (24 bits each), `√(−2 ln u1)·(cos 2πu2, sin 2πu2)`, with `ln`, `sin` and `cos` as short
/// branch-free polynomials (relative error ≲ 1e-7, `f32`'s own) so that the loop
/// vectorizes, as a fast float simulation would have it (a libm call per value would make the
/// baseline slower than NumPy's).
#[inline(always)]
fn normal_pair(w: u64) -> (f32, f32) {
    // Through i32 (exact below 2^25): a u64 → f32 conversion does not vectorize on x86.
    let u1 = (((w >> 40) + 1) as i32) as f32 * INV_2_24;
    let r = (-2.0 * ln_unit_f32(u1)).sqrt();
    // 2πu2 = (π/2)·(q + φ): the quadrant q from the top 2 of u2's 24 bits, φ ∈ [0, 1).
    let q = (w >> 30) & 3;
    let phi =
        (((w >> 8) & 0x3f_ffff) as i32) as f32 * (1.0 / 4_194_304.0) * std::f32::consts::FRAC_PI_2;
    let (s, c) = sin_cos_quarter(phi);
    // Rotation by q quarter turns: (s, c), (c, −s), (−s, −c), (−c, s).
    let (s, c) = if q & 1 == 0 { (s, c) } else { (c, -s) };
    let (s, c) = if q & 2 == 0 { (s, c) } else { (-s, -c) };
    (r * c, r * s)
}

/// `ln x` for `x ∈ (0, 1]`: `x = 2^e·m`, `m ∈ [√½, √2)`, `ln m = 2·atanh t`, `t = (m−1)/(m+1)`
/// (`|t| ≤ 0.172`: the series to t⁷ leaves < 2e-8).
#[inline(always)]
fn ln_unit_f32(x: f32) -> f32 {
    let bits = x.to_bits();
    let mut e = ((bits >> 23) & 0xff) as i32 - 127;
    let mut m = f32::from_bits((bits & 0x7f_ffff) | 0x3f80_0000);
    let big = m > std::f32::consts::SQRT_2;
    m = if big { 0.5 * m } else { m };
    e += big as i32;
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    let atanh = t * (1.0 + t2 * (1.0 / 3.0 + t2 * (1.0 / 5.0 + t2 * (1.0 / 7.0))));
    e as f32 * std::f32::consts::LN_2 + 2.0 * atanh
}

/// `(sin φ, cos φ)` for `φ ∈ [0, π/2)` by Taylor polynomials (to φ¹¹ and φ¹²: error < 6e-8).
#[inline(always)]
fn sin_cos_quarter(phi: f32) -> (f32, f32) {
    let z = phi * phi;
    let sin = phi
        * (1.0
            + z * (-1.0 / 6.0
                + z * (1.0 / 120.0
                    + z * (-1.0 / 5040.0 + z * (1.0 / 362_880.0 + z * (-1.0 / 39_916_800.0))))));
    let cos = 1.0
        + z * (-0.5
            + z * (1.0 / 24.0
                + z * (-1.0 / 720.0
                    + z * (1.0 / 40_320.0
                        + z * (-1.0 / 3_628_800.0 + z * (1.0 / 479_001_600.0))))));
    (sin, cos)
}

/// The float stochastic rounding `clip(floor(x/Δ + u)·Δ, lo, hi)` of one value; `Δ` is a
/// power of two, so `x·(1/Δ)` is `x/Δ` exactly (and a multiply).
#[inline(always)]
fn sr_f32(x: f32, u: f32, delta: f32, lo: f32, hi: f32) -> f32 {
    let y = x * (1.0 / delta) + u;
    // ⌊y⌋ through i32 (|y| < 2^31 here): `f32::floor` is a libm call without SSE4.1.
    let t = (y as i32) as f32;
    let floor = t - (y < t) as i32 as f32;
    (floor * delta).clamp(lo, hi)
}

/// Coordinates a baseline pass draws its words for at once (then a loop without calls,
/// which vectorizes).
const F32_CHUNK: usize = 512;

/// `f32` stochastic rounding of `xs` in place (one word per two values): the baseline of
/// `requantize`.
fn f32_sr(xs: &mut [f32], delta: f32, lo: f32, hi: f32, bits: &mut Xoshiro) {
    let mut wu = [0u64; F32_CHUNK / 2];
    for chunk in xs.chunks_mut(F32_CHUNK) {
        let wu = &mut wu[..chunk.len().div_ceil(2)];
        bits.fill(wu);
        for (pair, &w) in chunk.chunks_mut(2).zip(wu.iter()) {
            let (u1, u2) = uniform_pair(w);
            for (x, u) in pair.iter_mut().zip([u1, u2]) {
                *x = sr_f32(*x, u, delta, lo, hi);
            }
        }
    }
}

/// One `f32` SGLD `lp-l` step on N(0, I) in place, one fused pass:
/// `x ← clip(floor((x − η·x + √(2η)·z)/Δ + u)·Δ, −lim, lim − Δ)` (two words per two
/// coordinates: the normals, the uniforms).
fn f32_sgld(x: &mut [f32], eta: f32, delta: f32, lim: f32, bits: &mut Xoshiro) {
    let sd = (2.0 * eta).sqrt();
    let (mut wz, mut wu) = ([0u64; F32_CHUNK / 2], [0u64; F32_CHUNK / 2]);
    for chunk in x.chunks_mut(F32_CHUNK) {
        let m = chunk.len().div_ceil(2);
        bits.fill(&mut wz[..m]);
        bits.fill(&mut wu[..m]);
        for ((pair, &w1), &w2) in chunk.chunks_mut(2).zip(&wz[..m]).zip(&wu[..m]) {
            let (z1, z2) = normal_pair(w1);
            let (u1, u2) = uniform_pair(w2);
            for (x, (z, u)) in pair.iter_mut().zip([(z1, u1), (z2, u2)]) {
                *x = sr_f32(*x - eta * *x + sd * z, u, delta, -lim, lim - delta);
            }
        }
    }
}

/// One `f32` SGHMC `lp-l` step on N(0, I) in place with the exact integrator's constants
/// `k = [e, c_vg, c_xv, c_xg, s_v, a, s]`: `ξ_v = s_v·z₁`, `v' = e·v + c_vg·x + ξ_v`,
/// `x' = x + c_xv·v + c_xg·x + a·ξ_v + s·z₂`, both stochastically rounded; one fused pass
/// (four words per two coordinates).
fn f32_sghmc(x: &mut [f32], v: &mut [f32], k: [f32; 7], delta: f32, lim: f32, bits: &mut Xoshiro) {
    let [e, cvg, cxv, cxg, sv, a, s] = k;
    let (lo, hi) = (-lim, lim - delta);
    let mut w = [[0u64; F32_CHUNK / 2]; 4];
    for (xc, vc) in x.chunks_mut(F32_CHUNK).zip(v.chunks_mut(F32_CHUNK)) {
        let m = xc.len().div_ceil(2);
        for ws in &mut w {
            bits.fill(&mut ws[..m]);
        }
        for (p, (xp, vp)) in xc.chunks_mut(2).zip(vc.chunks_mut(2)).enumerate() {
            let z1 = normal_pair(w[0][p]);
            let z2 = normal_pair(w[1][p]);
            let (ua, ub) = uniform_pair(w[2][p]);
            let (uc, ud) = uniform_pair(w[3][p]);
            let lanes = [(z1.0, z2.0, ua, uc), (z1.1, z2.1, ub, ud)];
            for ((x, v), (z1, z2, uv, ux)) in xp.iter_mut().zip(vp.iter_mut()).zip(lanes) {
                let xi_v = sv * z1;
                let vn = e * *v + cvg * *x + xi_v;
                let xn = *x + cxv * *v + cxg * *x + a * xi_v + s * z2;
                *v = sr_f32(vn, uv, delta, lo, hi);
                *x = sr_f32(xn, ux, delta, lo, hi);
            }
        }
    }
}

/// The float Q^vc of \[S\] of one mean `mu` with variance `var`, clipped to
/// `[−lim, lim − Δ]`: for `var > Δ²/4`, `x = μ + √(var − Δ²/4)·z`, `q = round(x/Δ)`,
/// `r = x/Δ − q` and a ±Δ correction with P(±) = (1/4 + r² ± |r|)/2 in the direction of r;
/// otherwise SR of μ plus a ±Δ correction with P(±) = max(var/Δ² − f(1−f), 0)/2. `z`, `u1`
/// and `u2` are its normal and uniforms.
#[inline(always)]
fn qvc_f32(mu: f32, var: f32, delta: f32, lim: f32, z: f32, u1: f32, u2: f32) -> f32 {
    let v0 = delta * delta / 4.0;
    let (q, pp, pm) = if var > v0 {
        let x = (mu + (var - v0).sqrt() * z) / delta;
        let q = x.round();
        let r = x - q;
        let up = (0.25 + r * r + r.abs()) / 2.0;
        let dn = (0.25 + r * r - r.abs()) / 2.0;
        if r < 0.0 {
            (q, dn, up)
        } else {
            (q, up, dn)
        }
    } else {
        let y = mu / delta;
        let fl = y.floor();
        let f = y - fl;
        let w = (var / (delta * delta) - f * (1.0 - f)).max(0.0) / 2.0;
        (fl + (u1 < f) as u8 as f32, w, w)
    };
    let c = if u2 < pp {
        1.0
    } else if u2 < pp + pm {
        -1.0
    } else {
        0.0
    };
    ((q + c) * delta).clamp(-lim, lim - delta)
}

/// [`qvc_f32`] of every mean `mu(i)` into `out`, one fused pass (two words per value).
fn f32_qvc(
    out: &mut [f32],
    mu: impl Fn(usize) -> f32,
    var: f32,
    delta: f32,
    lim: f32,
    bits: &mut Xoshiro,
) {
    for (i, o) in out.iter_mut().enumerate() {
        let (z, _) = normal_pair(bits.next_word());
        let (u1, u2) = uniform_pair(bits.next_word());
        *o = qvc_f32(mu(i), var, delta, lim, z, u1, u2);
    }
}

/// The 8-bit kernel setting: param/momentum/grad Q(8,3), accum Q(24,16), coef Q(16,12),
/// noise Q(16,12) from `clt:4:8`, rounding `sr:8`.
struct Setting {
    x: Format,
    grad: Format,
    accum: Format,
    coef: Format,
    noise: IntNormal,
    rounding: Rounding,
}

impl Setting {
    fn paper8() -> Self {
        let f = |wl, fl| Format::new(wl, fl).expect("valid bench format");
        Setting {
            x: f(8, 3),
            grad: f(8, 3),
            accum: f(24, 16),
            coef: f(16, 12),
            noise: IntNormal::new(NoiseGen::Clt { k: 4, bits: 8 }, f(16, 12)),
            rounding: Rounding::Stochastic { bits: 8 },
        }
    }

    fn text(&self) -> String {
        format!(
            "x,v,g Q({},{}) acc Q({},{}) coef Q({},{}) noise {} Q({},{})",
            self.x.wl(),
            self.x.fl(),
            self.accum.wl(),
            self.accum.fl(),
            self.coef.wl(),
            self.coef.fl(),
            "clt:4:8",
            self.noise.format().wl(),
            self.noise.format().fl()
        )
    }
}

/// The sizes of one mode.
struct Sizes {
    reps: usize,
    requant_n: usize,
    requant_calls: usize,
    dim: usize,
    steps: u64,
    l_steps: u64,
    chains: usize,
    chain_steps: u64,
}

impl Sizes {
    fn of(quick: bool) -> Self {
        if quick {
            Sizes {
                reps: 3,
                requant_n: 1 << 14,
                requant_calls: 20,
                dim: 1 << 12,
                steps: 20,
                l_steps: 1_000_000,
                chains: 1000,
                chain_steps: 10_000,
            }
        } else {
            Sizes {
                reps: 7,
                requant_n: 1 << 16,
                requant_calls: 400,
                dim: 1 << 16,
                steps: 100,
                l_steps: 10_000_000,
                chains: 10_000,
                chain_steps: 100_000,
            }
        }
    }
}

/// Runs every benchmark and returns the report.
pub fn bench(opts: &BenchOptions) -> Result<BenchReport> {
    if opts.threads == Some(0) {
        return Err(Error::param("--threads", 0, "must be at least 1"));
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = opts.threads.unwrap_or(cores);
    let z = Sizes::of(opts.quick);
    let platform = Platform::detect();
    let mut rows = vec![
        requantize_row(&z, platform),
        sgld_row(&z, platform, threads),
        sghmc_row(&z, platform, threads),
        vc_row(&z, platform, threads, false),
        vc_row(&z, platform, threads, true),
    ];
    rows.push(l_row(&z, threads)?);
    rows.push(chains_row(&z, threads)?);
    let note = if opts.quick {
        "--quick: smaller sizes and 3 repeats; [L] runs 1e6 steps (target: 1e7), the many-chains row 1e3 chains × 1e4 steps (target: 1e4 × 1e5)".to_string()
    } else {
        String::new()
    };
    Ok(BenchReport {
        lpmc_version: env!("CARGO_PKG_VERSION").to_string(),
        platform: platform.name().to_string(),
        cores,
        quick: opts.quick,
        note,
        rows,
        peak_rss_bytes: peak_rss(),
    })
}

fn row(kernel: &str, formats: String, rounding: &str, platform: &str, unit: &str) -> BenchRow {
    BenchRow {
        kernel: kernel.to_string(),
        formats,
        rounding: rounding.to_string(),
        platform: platform.to_string(),
        unit: unit.to_string(),
        size: String::new(),
        per_core: 0.0,
        threads: 1,
        all_threads: None,
        scaling: None,
        f32_per_core: None,
        ratio_to_f32: None,
        seconds: None,
        target: None,
        peak_rss_bytes: None,
    }
}

/// Fills a fused-kernel row's size and rates: `rate` on one thread, `all` on `threads`
/// threads (one chain each), against the `f32` baseline's `f32_rate`; and the peak RSS so far.
fn kernel_rates(
    r: &mut BenchRow,
    z: &Sizes,
    d: usize,
    (rate, all, threads): (f64, f64, usize),
    f32_rate: f64,
) {
    r.size = format!("d = {d}, {} steps", z.steps);
    r.per_core = rate;
    r.threads = threads;
    r.all_threads = Some(all);
    r.scaling = Some(all / rate);
    r.f32_per_core = Some(f32_rate);
    r.ratio_to_f32 = Some(rate / f32_rate);
    r.peak_rss_bytes = peak_rss();
}

fn requantize_row(z: &Sizes, platform: Platform) -> BenchRow {
    let n = z.requant_n;
    let src: Vec<i16> = {
        let mut g = Xoshiro::new(1, 0);
        (0..n).map(|_| g.next_word() as i16).collect()
    };
    let mut dst = vec![0i8; n];
    let spec = Spec {
        wl: 8,
        rounding: Rounding::Stochastic { bits: 8 },
        overflow: Overflow::Saturate,
    };
    let mut bits = Xoshiro::new(2, 0);
    let rate = median_rate(z.reps, || {
        for _ in 0..z.requant_calls {
            platform.requantize(spec, 8, &src, &mut dst, &mut bits);
        }
        (n * z.requant_calls) as f64
    });
    let xs: Vec<f32> = src.iter().map(|&c| c as f32 / 256.0).collect();
    let f32_rate = median_rate(z.reps, || {
        let calls = (z.requant_calls / 10).max(1);
        for _ in 0..calls {
            let mut ys = xs.clone();
            f32_sr(&mut ys, 1.0 / 16.0, -8.0, 7.9375, &mut bits);
            std::hint::black_box(ys);
        }
        (n * calls) as f64
    });
    let mut r = row(
        "requantize",
        "i16 Q(16,12) -> i8 Q(8,4)".into(),
        "sr:8",
        platform.name(),
        "elements/s",
    );
    r.size = format!("{n} elements");
    r.per_core = rate;
    r.f32_per_core = Some(f32_rate);
    r.ratio_to_f32 = Some(rate / f32_rate);
    r.target = Some("≥ 3e9 elements/s/core".into());
    r.peak_rss_bytes = peak_rss();
    r
}

/// The sampler of the 8-bit kernel setting on the integer datapath.
fn kernel_sampler(s: &Setting, sampler: serde_json::Value, d: usize) -> Box<dyn Sampler> {
    let f = |f: Format| serde_json::json!({"wl": f.wl(), "fl": f.fl()});
    let cfg = serde_json::json!({
        "target": {"gaussian": {"mean": [0.0], "var": [1.0]}},
        "sampler": sampler,
        "formats": {"param": f(s.x), "momentum": f(s.x), "grad": f(s.grad), "accum": f(s.accum),
                    "coef": f(s.coef), "noise": f(s.noise.format())},
        "rounding": s.rounding.to_string(), "datapath": "integer", "noise_gen": "clt:4:8",
    });
    let cfg: RunConfig = serde_json::from_value(cfg).expect("the bench config is valid");
    cfg.build_sampler(d).expect("the bench sampler builds")
}

/// `steps` steps of one `d`-dimensional chain of `sampler` on N(0, I) by the chain driver,
/// 8-bit state from 0; returns the dim-steps done.
fn kernel_chain(sampler: &dyn Sampler, platform: Platform, d: usize, steps: u64, seed: u64) -> f64 {
    let one = [1i64 << sampler.setup().formats.coef.fl()];
    let step = sampler.kernel_step(Gradient::IntGauss {
        prec: &one,
        mean: &[0],
        prec_fl: sampler.setup().formats.coef.fl(),
    });
    let (mut x, mut v) = (vec![0i8; d], vec![0i8; d]);
    let st = State::Codes {
        x: i8::slice_mut(&mut x),
        v: step.momentum().then(|| i8::slice_mut(&mut v)),
    };
    let mut words = vec![0u64; step.layout(d).words().max(512)];
    let mut bits = Xoshiro::new(seed, 0);
    chain::run(&step, st, &mut 1.0, steps, &mut bits, &mut words, platform);
    (d as u64 * steps) as f64
}

fn sgld_row(z: &Sizes, platform: Platform, threads: usize) -> BenchRow {
    let s = Setting::paper8();
    let eta = 2e-3;
    let d = z.dim;
    let sampler = kernel_sampler(
        &s,
        serde_json::json!({"sgld": {"variant": "lp-l", "eta": eta}}),
        d,
    );
    let chain = |t: usize| kernel_chain(sampler.as_ref(), platform, d, z.steps, 3 + t as u64);
    let rate = median_rate(z.reps, || chain(0));
    let all = parallel_rate(threads, z.reps, chain);
    let mut bits = Xoshiro::new(4, 0);
    let f32_rate = median_rate(z.reps, || {
        let mut x = vec![0f32; d];
        let steps = (z.steps / 10).max(1);
        for _ in 0..steps {
            f32_sgld(&mut x, eta as f32, 0.125, 16.0, &mut bits);
        }
        std::hint::black_box(&x);
        (d as u64 * steps) as f64
    });
    let mut r = row(
        "sgld-lp-l, one chain, N(0,I)",
        s.text(),
        &s.rounding.to_string(),
        platform.name(),
        "dim-steps/s",
    );
    kernel_rates(&mut r, z, d, (rate, all, threads), f32_rate);
    r.target = Some("≥ 2e9 dim-steps/s/core; 2 threads ≥ 1.8×".into());
    r
}

fn sghmc_row(z: &Sizes, platform: Platform, threads: usize) -> BenchRow {
    use crate::sampler::sghmc::Coefs;
    let s = Setting::paper8();
    let k = Coefs::new(0.09, 2.0, 3.0, false);
    let (a, sx) = k.split();
    let sv = k.var_v.sqrt();
    let d = z.dim;
    let sampler = kernel_sampler(
        &s,
        serde_json::json!({"sghmc": {"variant": "lp-l", "eta": 0.09, "u": 2.0, "gamma": 3.0}}),
        d,
    );
    let chain = |t: usize| kernel_chain(sampler.as_ref(), platform, d, z.steps, 5 + t as u64);
    let rate = median_rate(z.reps, || chain(0));
    let all = parallel_rate(threads, z.reps, chain);
    let mut bits = Xoshiro::new(6, 0);
    let kf = [k.vv, k.vg, k.xv, k.xg, sv, a, sx].map(|v| v as f32);
    let f32_rate = median_rate(z.reps, || {
        let (mut x, mut v) = (vec![0f32; d], vec![0f32; d]);
        let steps = (z.steps / 10).max(1);
        for _ in 0..steps {
            f32_sghmc(&mut x, &mut v, kf, 0.125, 16.0, &mut bits);
        }
        std::hint::black_box((&x, &v));
        (d as u64 * steps) as f64
    });
    let mut r = row(
        "sghmc-lp-l, one chain, N(0,I)",
        s.text(),
        &s.rounding.to_string(),
        platform.name(),
        "dim-steps/s",
    );
    kernel_rates(&mut r, z, d, (rate, all, threads), f32_rate);
    r.target = Some("≥ 1e9 dim-steps/s/core; 2 threads ≥ 1.8×".into());
    r
}

/// The `vc-l` rules on the 8-bit setting: SGLD at η = 2e-3 (2η above Δ²/4) or SGHMC at
/// η = 0.09, u = 2, γ = 3 (Var ξ^v above Δ²/4, Var ξ^x below: both regimes), against the
/// array-code Q^vc ([`f32_qvc`]).
fn vc_row(z: &Sizes, platform: Platform, threads: usize, hmc: bool) -> BenchRow {
    use crate::sampler::sghmc::Coefs;
    let s = Setting::paper8();
    let eta = 2e-3;
    let k = Coefs::new(0.09, 2.0, 3.0, false);
    let d = z.dim;
    let cfg = if hmc {
        serde_json::json!({"sghmc": {"variant": "vc-l", "eta": 0.09, "u": 2.0, "gamma": 3.0}})
    } else {
        serde_json::json!({"sgld": {"variant": "vc-l", "eta": eta}})
    };
    let sampler = kernel_sampler(&s, cfg, d);
    let chain = |t: usize| kernel_chain(sampler.as_ref(), platform, d, z.steps, 9 + t as u64);
    let rate = median_rate(z.reps, || chain(0));
    let all = parallel_rate(threads, z.reps, chain);
    let mut bits = Xoshiro::new(10, 0);
    let (delta, lim) = (0.125f32, 16.0f32);
    let f32_rate = median_rate(z.reps, || {
        let (mut x, mut v) = (vec![0f32; d], vec![0f32; d]);
        let (mut xn, mut vn) = (vec![0f32; d], vec![0f32; d]);
        let steps = (z.steps / 10).max(1);
        for _ in 0..steps {
            if hmc {
                let kf = [k.vv, k.vg, k.xv, k.xg].map(|c| c as f32);
                let (x0, v0) = (&x, &v);
                let mv = |i: usize| kf[0] * v0[i] + kf[1] * x0[i];
                let mx = |i: usize| x0[i] + kf[2] * v0[i] + kf[3] * x0[i];
                f32_qvc(&mut vn, mv, k.var_v as f32, delta, lim, &mut bits);
                f32_qvc(&mut xn, mx, k.var_x as f32, delta, lim, &mut bits);
                std::mem::swap(&mut x, &mut xn);
                std::mem::swap(&mut v, &mut vn);
            } else {
                let x0 = &x;
                let m = |i: usize| x0[i] - eta as f32 * x0[i];
                f32_qvc(&mut xn, m, 2.0 * eta as f32, delta, lim, &mut bits);
                std::mem::swap(&mut x, &mut xn);
            }
        }
        std::hint::black_box((&x, &v));
        (d as u64 * steps) as f64
    });
    let name = if hmc {
        "sghmc-vc-l, one chain, N(0,I)"
    } else {
        "sgld-vc-l, one chain, N(0,I)"
    };
    let mut r = row(
        name,
        format!(
            "x,v,g Q({},{}) acc Q({},{}) coef Q({},{}), Q^vc in f64",
            s.x.wl(),
            s.x.fl(),
            s.accum.wl(),
            s.accum.fl(),
            s.coef.wl(),
            s.coef.fl()
        ),
        &s.rounding.to_string(),
        platform.name(),
        "dim-steps/s",
    );
    kernel_rates(&mut r, z, d, (rate, all, threads), f32_rate);
    r
}

/// A run config of the runner rows (integer datapath, 8-bit, CLT noise).
fn runner_config(sampler: serde_json::Value, fl: u32, chains: usize, steps: u64) -> RunConfig {
    let cfg = serde_json::json!({
        "target": {"gaussian": {"mean": [0.0], "var": [1.0]}},
        "sampler": sampler,
        "format": {"wl": 8, "fl": fl},
        "formats": {"accum": {"wl": 24, "fl": 16}, "coef": {"wl": 16, "fl": 12},
                    "noise": {"wl": 16, "fl": 12}},
        "rounding": "sr:8", "datapath": "integer", "noise_gen": "clt:4:8",
        "chains": chains, "steps": steps, "burn_in": 0, "thin": 1, "seed": 1,
        "max_sample_rows": 0
    });
    serde_json::from_value(cfg).expect("the bench configs are valid")
}

/// Runs a config through the chain runner; returns (chain-steps/s, seconds, the path taken:
/// `lockstep`, `fused` or `generic`).
fn run_config(cfg: &RunConfig, threads: Option<usize>) -> Result<(f64, f64, &'static str)> {
    let b = cfg.build()?;
    let spec = ChainSpec {
        chains: cfg.chains,
        steps: cfg.steps,
        burn_in: cfg.burn_in,
        thin: cfg.thin,
        seed: cfg.seed,
        source: cfg.source,
        x0: b.x0.clone(),
        max_rows: cfg.max_sample_rows,
        threads,
    };
    let (s, t) = (b.sampler.as_ref(), b.target.as_ref());
    let path = if Engine::new(s, t)?.lockstep() {
        "lockstep"
    } else {
        "chain"
    };
    let o = run_chains(s, t, &spec, &NoProgress)?;
    Ok((o.steps_per_s, o.wall_s, path))
}

fn l_row(z: &Sizes, threads: usize) -> Result<BenchRow> {
    let cfg = runner_config(
        serde_json::json!({"sgld": {"variant": "lp-l", "eta": 2e-3}}),
        3,
        1,
        z.l_steps,
    );
    let (rate, secs, path) = run_config(&cfg, Some(1))?;
    // The f32 baseline of one chain: the same array code on 1-element arrays.
    let mut bits = Xoshiro::new(7, 0);
    let f32_rate = median_rate(z.reps, || {
        let mut x = vec![0f32; 1];
        let steps = 100_000;
        for _ in 0..steps {
            f32_sgld(&mut x, 2e-3, 0.125, 16.0, &mut bits);
        }
        std::hint::black_box(&x);
        steps as f64
    });
    let mut r = row(
        "[L] SGLD lp-l, 1 chain, N(0,1), every sample kept",
        "Q(8,3), acc Q(24,16), coef Q(16,12), clt:4:8".into(),
        "sr:8",
        path,
        "chain-steps/s",
    );
    r.size = format!("1 chain × {} steps", z.l_steps);
    r.per_core = rate;
    r.threads = threads;
    r.seconds = Some(secs);
    r.f32_per_core = Some(f32_rate);
    r.ratio_to_f32 = Some(rate / f32_rate);
    r.target = Some("1e7 steps < 1 s".into());
    r.peak_rss_bytes = peak_rss();
    Ok(r)
}

fn chains_row(z: &Sizes, threads: usize) -> Result<BenchRow> {
    let mut cfg = runner_config(
        serde_json::json!({"sghmc": {"variant": "lp-l", "eta": 0.09, "u": 2.0, "gamma": 3.0}}),
        4,
        z.chains,
        z.chain_steps,
    );
    // Every sample kept (thin 1): the lockstep kernel sums the kept codes itself.
    cfg.thin = 1;
    let (all, secs, path) = run_config(&cfg, Some(threads))?;
    // One thread on a tenth of the chains gives the per-core rate.
    let mut one = cfg.clone();
    one.chains = (z.chains / 10).max(1);
    let (per_core, _, _) = run_config(&one, Some(1))?;
    // Baseline: the f32 array code over all chains at once (vectorized across chains).
    let mut bits = Xoshiro::new(8, 0);
    let k = crate::sampler::sghmc::Coefs::new(0.09, 2.0, 3.0, false);
    let (a, s) = k.split();
    let kf = [k.vv, k.vg, k.xv, k.xg, k.var_v.sqrt(), a, s].map(|v| v as f32);
    let f32_rate = median_rate(z.reps, || {
        let (mut x, mut v) = (vec![0f32; z.chains], vec![0f32; z.chains]);
        let steps = 20;
        for _ in 0..steps {
            f32_sghmc(&mut x, &mut v, kf, 0.0625, 8.0, &mut bits);
        }
        std::hint::black_box((&x, &v));
        (z.chains * steps) as f64
    });
    let mut r = row(
        "SGHMC lp-l, many 1-D chains, N(0,1), every sample kept",
        "Q(8,4), acc Q(24,16), coef Q(16,12), clt:4:8".into(),
        "sr:8",
        path,
        "chain-steps/s",
    );
    r.size = format!("{} chains × {} steps", z.chains, z.chain_steps);
    r.per_core = per_core;
    r.threads = threads;
    r.all_threads = Some(all);
    r.scaling = Some(all / per_core);
    r.seconds = Some(secs);
    r.f32_per_core = Some(f32_rate);
    r.ratio_to_f32 = Some(per_core / f32_rate);
    r.target = Some("1e4 chains × 1e5 steps < 2 s".into());
    r.peak_rss_bytes = peak_rss();
    Ok(r)
}

/// The report as a text table.
pub fn table(r: &BenchReport) -> String {
    let num = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3e}"));
    let mut s = format!(
        "lpmc {} bench: platform {}, {} cores{}\n",
        r.lpmc_version,
        r.platform,
        r.cores,
        if r.quick { " (--quick)" } else { "" }
    );
    if !r.note.is_empty() {
        s.push_str(&format!("{}\n", r.note));
    }
    s.push_str(
        "kernel | formats | rounding | platform | size | unit | 1 thread | all threads (n) | scaling | f32 array code | ratio | seconds | peak RSS MiB | target\n",
    );
    for w in &r.rows {
        s.push_str(&format!(
            "{} | {} | {} | {} | {} | {} | {:.3e} | {} ({}) | {} | {} | {} | {} | {} | {}\n",
            w.kernel,
            w.formats,
            w.rounding,
            w.platform,
            w.size,
            w.unit,
            w.per_core,
            num(w.all_threads),
            w.threads,
            w.scaling.map_or("-".into(), |v| format!("{v:.2}×")),
            num(w.f32_per_core),
            w.ratio_to_f32.map_or("-".into(), |v| format!("{v:.1}×")),
            w.seconds.map_or("-".into(), |v| format!("{v:.3}")),
            w.peak_rss_bytes
                .map_or("n/a".into(), |b| format!("{:.1}", b as f64 / 1048576.0)),
            w.target.clone().unwrap_or_default(),
        ));
    }
    s
}

#[cfg(test)]
mod baseline_tests {
    use super::*;

    /// The baseline's normals are standard: over n = 2·10⁵ values the mean has s.e. 1/√n ≈
    /// 0.0022 and the variance s.e. √(2/n) ≈ 0.0032 (Gaussian fourth moment 3); 5 s.e. each.
    /// The polynomials match `f64` ln/sin/cos to 1e-6.
    #[test]
    fn normals_are_standard_and_accurate() {
        let mut bits = Xoshiro::new(11, 0);
        let (mut s1, mut s2, mut n) = (0.0f64, 0.0f64, 0.0f64);
        for _ in 0..100_000 {
            let (a, b) = normal_pair(bits.next_word());
            for z in [a as f64, b as f64] {
                s1 += z;
                s2 += z * z;
                n += 1.0;
            }
        }
        let mean = s1 / n;
        let var = s2 / n - mean * mean;
        assert!(mean.abs() < 5.0 / n.sqrt(), "mean {mean}");
        assert!((var - 1.0).abs() < 5.0 * (2.0 / n).sqrt(), "var {var}");
        for k in 1..=1000 {
            let x = k as f32 / 1000.0;
            assert!(
                (ln_unit_f32(x) as f64 - (x as f64).ln()).abs() < 1e-6,
                "ln {x}"
            );
            let phi = x * std::f32::consts::FRAC_PI_2;
            let (s, c) = sin_cos_quarter(phi);
            assert!((s as f64 - (phi as f64).sin()).abs() < 1e-6, "sin {phi}");
            assert!((c as f64 - (phi as f64).cos()).abs() < 1e-6, "cos {phi}");
        }
    }
}
