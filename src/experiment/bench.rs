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
//! - `[L] 1 chain`: `lpmc run`'s chain runner on the \[L\] Gaussian experiment (SGLD `lp-l`,
//!   Q(8,3), 1-D, 1e7 steps, every sample kept), chain-steps/s and seconds;
//! - `chains 1-D sghmc`: the runner on 1e4 chains × 1e5 steps of 1-D SGHMC `lp-l` (full mode
//!   only; `--quick` runs 1e3 × 1e4 and says so).
//!
//! The baseline (`f32`) does what array code does: whole-array operations, each allocating
//! its temporary, `f32` values, a fresh array of uniforms per rounding:
//! `x = clip(floor(x/Δ + U)·Δ, lo, hi)`. Every rate is the median of several repeats (the
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

/// `n` uniforms in [0, 1) as `f32` (24 random bits each), a fresh array like `rand(n)`.
fn uniforms(bits: &mut Xoshiro, n: usize) -> Vec<f32> {
    let mut w = vec![0u64; n];
    bits.fill(&mut w);
    w.iter()
        .map(|&w| (w >> 40) as f32 * (1.0 / 16_777_216.0))
        .collect()
}

/// `n` standard normals as `f32` by Box–Muller on two uniform arrays, like `randn(n)`.
fn normals(bits: &mut Xoshiro, n: usize) -> Vec<f32> {
    let u1 = uniforms(bits, n);
    let u2 = uniforms(bits, n);
    let r: Vec<f32> = u1.iter().map(|&u| (-2.0 * (1.0 - u).ln()).sqrt()).collect();
    let c: Vec<f32> = u2
        .iter()
        .map(|&u| (2.0 * std::f32::consts::PI * u).cos())
        .collect();
    r.iter().zip(&c).map(|(a, b)| a * b).collect()
}

/// The array-code stochastic rounding `clip(floor(x/Δ + U)·Δ, lo, hi)`, one temporary per
/// operation.
fn f32_sr(x: &[f32], delta: f32, lo: f32, hi: f32, bits: &mut Xoshiro) -> Vec<f32> {
    let u = uniforms(bits, x.len());
    let t1: Vec<f32> = x.iter().map(|v| v / delta).collect();
    let t2: Vec<f32> = t1.iter().zip(&u).map(|(a, b)| a + b).collect();
    let t3: Vec<f32> = t2.iter().map(|v| v.floor()).collect();
    let t4: Vec<f32> = t3.iter().map(|v| v * delta).collect();
    t4.iter().map(|v| v.clamp(lo, hi)).collect()
}

/// One `f32` array-code SGLD `lp-l` step on N(0, I): `x = Q(x − η·x + √(2η)·randn)`.
fn f32_sgld(x: &[f32], eta: f32, delta: f32, lim: f32, bits: &mut Xoshiro) -> Vec<f32> {
    let g: Vec<f32> = x.to_vec(); // ∇U = x
    let z = normals(bits, x.len());
    let a: Vec<f32> = g.iter().map(|v| eta * v).collect();
    let b: Vec<f32> = z.iter().map(|v| (2.0 * eta).sqrt() * v).collect();
    let y: Vec<f32> = x
        .iter()
        .zip(&a)
        .zip(&b)
        .map(|((x, a), b)| x - a + b)
        .collect();
    f32_sr(&y, delta, -lim, lim - delta, bits)
}

/// One `f32` array-code SGHMC `lp-l` step on N(0, I) with the exact integrator's constants
/// `k = [e, c_vg, c_xv, c_xg, s_v, a, s]`.
fn f32_sghmc(
    x: &[f32],
    v: &[f32],
    k: [f32; 7],
    delta: f32,
    lim: f32,
    bits: &mut Xoshiro,
) -> (Vec<f32>, Vec<f32>) {
    let [e, cvg, cxv, cxg, sv, a, s] = k;
    let g: Vec<f32> = x.to_vec();
    let z1 = normals(bits, x.len());
    let z2 = normals(bits, x.len());
    let xi_v: Vec<f32> = z1.iter().map(|z| sv * z).collect();
    let vn: Vec<f32> = (0..x.len())
        .map(|i| e * v[i] + cvg * g[i] + xi_v[i])
        .collect();
    let xn: Vec<f32> = (0..x.len())
        .map(|i| x[i] + cxv * v[i] + cxg * g[i] + a * xi_v[i] + s * z2[i])
        .collect();
    (
        f32_sr(&vn, delta, -lim, lim - delta, bits),
        f32_sr(&xn, delta, -lim, lim - delta, bits),
    )
}

/// The array-code Q^vc of \[S\] on means `mu` with variance `var`, clipped to
/// `[−lim, lim − Δ]`: for `var > Δ²/4`, `x = μ + √(var − Δ²/4)·randn`, `q = round(x/Δ)·Δ`,
/// `r = x/Δ − q/Δ` and a ±Δ correction with P(±) = (1/4 + r² ± |r|)/2 in the direction of
/// r; otherwise SR of μ plus a ±Δ correction with P(±) = max(var/Δ² − f(1−f), 0)/2. Every
/// operation a whole-array temporary, as `torch.where` code writes it.
fn f32_qvc(mu: &[f32], var: f32, delta: f32, lim: f32, bits: &mut Xoshiro) -> Vec<f32> {
    let n = mu.len();
    let v0 = delta * delta / 4.0;
    let (q, pp, pm): (Vec<f32>, Vec<f32>, Vec<f32>) = if var > v0 {
        let z = normals(bits, n);
        let x: Vec<f32> = (0..n).map(|i| mu[i] + (var - v0).sqrt() * z[i]).collect();
        let q: Vec<f32> = x.iter().map(|v| (v / delta).round()).collect();
        let r: Vec<f32> = (0..n).map(|i| x[i] / delta - q[i]).collect();
        let up: Vec<f32> = r.iter().map(|r| (0.25 + r * r + r.abs()) / 2.0).collect();
        let dn: Vec<f32> = r.iter().map(|r| (0.25 + r * r - r.abs()) / 2.0).collect();
        // The correction points the way r does: swap the two for r < 0.
        let pp = (0..n)
            .map(|i| if r[i] < 0.0 { dn[i] } else { up[i] })
            .collect();
        let pm = (0..n)
            .map(|i| if r[i] < 0.0 { up[i] } else { dn[i] })
            .collect();
        (q, pp, pm)
    } else {
        let y: Vec<f32> = mu.iter().map(|v| v / delta).collect();
        let fl: Vec<f32> = y.iter().map(|v| v.floor()).collect();
        let f: Vec<f32> = (0..n).map(|i| y[i] - fl[i]).collect();
        let u = uniforms(bits, n);
        let q: Vec<f32> = (0..n).map(|i| fl[i] + (u[i] < f[i]) as u8 as f32).collect();
        let w: Vec<f32> = f
            .iter()
            .map(|f| (var / (delta * delta) - f * (1.0 - f)).max(0.0) / 2.0)
            .collect();
        (q, w.clone(), w)
    };
    let u = uniforms(bits, n);
    let c: Vec<f32> = (0..n)
        .map(|i| {
            if u[i] < pp[i] {
                1.0
            } else if u[i] < pp[i] + pm[i] {
                -1.0
            } else {
                0.0
            }
        })
        .collect();
    (0..n)
        .map(|i| ((q[i] + c[i]) * delta).clamp(-lim, lim - delta))
        .collect()
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
            std::hint::black_box(f32_sr(&xs, 1.0 / 16.0, -8.0, 7.9375, &mut bits));
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
            x = f32_sgld(&x, eta as f32, 0.125, 16.0, &mut bits);
        }
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
            (v, x) = f32_sghmc(&x, &v, kf, 0.125, 16.0, &mut bits);
        }
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
        let steps = (z.steps / 10).max(1);
        for _ in 0..steps {
            if hmc {
                let kf = [k.vv, k.vg, k.xv, k.xg].map(|c| c as f32);
                let mv: Vec<f32> = (0..d).map(|i| kf[0] * v[i] + kf[1] * x[i]).collect();
                let mx: Vec<f32> = (0..d).map(|i| x[i] + kf[2] * v[i] + kf[3] * x[i]).collect();
                v = f32_qvc(&mv, k.var_v as f32, delta, lim, &mut bits);
                x = f32_qvc(&mx, k.var_x as f32, delta, lim, &mut bits);
            } else {
                let m: Vec<f32> = x.iter().map(|x| x - eta as f32 * x).collect();
                x = f32_qvc(&m, 2.0 * eta as f32, delta, lim, &mut bits);
            }
        }
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
            x = f32_sgld(&x, 2e-3, 0.125, 16.0, &mut bits);
        }
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
            (v, x) = f32_sghmc(&x, &v, kf, 0.0625, 8.0, &mut bits);
        }
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
