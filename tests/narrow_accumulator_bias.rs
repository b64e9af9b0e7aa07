//! The stationary mean offset of SGLD `lp-l` on the integer datapath with a narrow
//! accumulator, from the exact transition law (docs/theory.md, "Truncated products shift the
//! stationary mean").
//!
//! Setting: N(0, 1), every quantity Q(8, 6), `sr:8`, η = 0.01, so η_c = 1 and c_n = 8 codes
//! of Q(8, 6). The accumulator has 6 fraction bits while the products η_c·g and c_n·n have
//! 12: both are floored to 6 bits. The chain on the 256 codes of x is a finite Markov chain
//! whose transition row from x is the law of
//! `x' = sat(x − ⌊η_c·g/64⌋ + ⌊c_n·n/64⌋)` (g = x exactly here) over the noise code n; its
//! stationary mean is computed here exactly and compared with Monte Carlo runs of the engine.

use lpmc::experiment::chains::{run_chains, ChainSpec, NoProgress};
use lpmc::experiment::config::RunConfig;
use lpmc::format::Format;
use lpmc::noise::{IntNormal, NoiseGen};
use lpmc_kernels::lane::align;

fn config(noise_gen: &str, formats: serde_json::Value) -> RunConfig {
    serde_json::from_value(serde_json::json!({
        "target": {"gaussian": {"mean": [0.0], "var": [1.0]}},
        "sampler": {"sgld": {"variant": "lp-l", "eta": 0.01}},
        "format": {"wl": 8, "fl": 6}, "formats": formats,
        "rounding": "sr:8", "datapath": "integer", "noise_gen": noise_gen,
        "chains": 2000, "steps": 3000, "burn_in": 2000, "thin": 10, "max_sample_rows": 0
    }))
    .unwrap()
}

/// Everything Q(8, 6), the accumulator `accum`.
fn narrow(accum: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"coef": {"wl": 8, "fl": 6}, "noise": {"wl": 8, "fl": 6}, "accum": accum})
}

/// The noise code pmf: the generator's exact one, or for `box-muller` the Gaussian's mass on
/// each nearest-even rounding cell `[(k − ½)Δ, (k + ½)Δ)` (ties have probability 0), the
/// range ends taking the tails (saturation).
fn noise_pmf(gen: NoiseGen, f: Format) -> Vec<(i64, f64)> {
    if let Some(p) = IntNormal::new(gen, f).pmf() {
        return p;
    }
    use statrs::distribution::{ContinuousCDF, Normal};
    let phi = |x: f64| Normal::standard().cdf(x);
    let d = f.delta();
    (f.min_code()..=f.max_code())
        .map(|k| {
            let lo = if k == f.min_code() {
                f64::NEG_INFINITY
            } else {
                (k as f64 - 0.5) * d
            };
            let hi = if k == f.max_code() {
                f64::INFINITY
            } else {
                (k as f64 + 0.5) * d
            };
            (k, phi(hi) - phi(lo))
        })
        .collect()
}

/// The exact stationary law (probability of each code of `param`, from the lowest) of the
/// integer `lp-l` step of `c`, built from the engine's constants: the sampler's coefficient
/// codes, the resolved formats, the noise pmf, `align` and the overflow rules. Requires the
/// diagonal target's gradient to be exact (prec = 1, mean 0: g = x) and `sr:R` rounding.
fn stationary(c: &RunConfig) -> (Format, Vec<f64>) {
    let built = c.build().unwrap();
    let f = built.formats;
    let (eta, cn) = (
        built.coefficients[0].2 as i128,
        built.coefficients[1].2 as i128,
    );
    let (fa, fc, fx) = (f.accum.fl(), f.coef.fl(), f.param.fl());
    let pmf = noise_pmf(c.noise_gen, f.noise);
    let r = match c.rounding {
        lpmc::Rounding::Stochastic { bits } => bits,
        other => panic!("test written for sr:R, not {other}"),
    };
    let n = f.param.codes() as usize;
    let lo = f.param.min_code();
    let mut p = vec![vec![0.0; n]; n];
    for (i, row) in p.iter_mut().enumerate() {
        let x = lo + i as i64;
        // The gradient prec·(x − 0) = 2^fc·x requantized to grad's FL is exactly x (fx = fg).
        let g = f.grad.overflow().apply(x as i128, f.grad.wl()).0 as i128;
        for &(nz, prob) in &pmf {
            let s = align(x as i128, fx, fa) - align(eta * g, fc + f.grad.fl(), fa)
                + align(cn * nz as i128, fc + f.noise.fl(), fa);
            let (a, _) = f.accum.overflow().apply(s, f.accum.wl());
            // sr:R from fa to fx fraction bits: P(up) = ⌊frac·2^R⌋/2^R.
            let shift = fa - fx;
            let (down, p_up) = if shift == 0 {
                (a as i128, 0.0)
            } else {
                let frac = (a as i128) & ((1i128 << shift) - 1);
                let top = if shift >= r {
                    frac >> (shift - r)
                } else {
                    frac << (r - shift)
                };
                ((a as i128) >> shift, top as f64 / (1u64 << r) as f64)
            };
            for (code, q) in [(down, 1.0 - p_up), (down + 1, p_up)] {
                if q > 0.0 {
                    let xc = f.param.overflow().apply(code, f.param.wl()).0;
                    row[(xc - lo) as usize] += prob * q;
                }
            }
        }
    }
    // Power iteration from the uniform law: the chain contracts by about η per step.
    let mut pi = vec![1.0 / n as f64; n];
    for _ in 0..20_000 {
        let mut next = vec![0.0; n];
        for (i, row) in p.iter().enumerate() {
            for (j, &q) in row.iter().enumerate() {
                next[j] += pi[i] * q;
            }
        }
        let change: f64 = next.iter().zip(&pi).map(|(a, b)| (a - b).abs()).sum();
        pi = next;
        if change < 1e-15 {
            break;
        }
    }
    (f.param, pi)
}

fn mean(f: Format, pi: &[f64]) -> f64 {
    pi.iter()
        .enumerate()
        .map(|(i, p)| p * f.value(f.min_code() + i as i64))
        .sum()
}

/// Monte Carlo mean of the engine's chains: 10 independent runs (seeds 1..=10) of 2000
/// chains; returns their mean and its standard error sd/√10 (the runs are independent).
fn monte_carlo(c: &RunConfig) -> (f64, f64) {
    let built = c.build().unwrap();
    let means: Vec<f64> = (1..=10)
        .map(|seed| {
            let spec = ChainSpec {
                chains: c.chains,
                steps: c.steps,
                burn_in: c.burn_in,
                thin: c.thin,
                seed,
                source: c.source,
                x0: built.x0.clone(),
                max_rows: 0,
                threads: None,
            };
            run_chains(
                built.sampler.as_ref(),
                built.target.as_ref(),
                &spec,
                &NoProgress,
            )
            .unwrap()
            .mean[0]
        })
        .collect();
    let m = means.iter().sum::<f64>() / 10.0;
    let sd = (means.iter().map(|x| (x - m).powi(2)).sum::<f64>() / 9.0).sqrt();
    (m, sd / 10f64.sqrt())
}

/// With the 8-bit accumulator the exact stationary mean of the `clt:4:8` chain is offset by
/// about +0.07 (≈ 4.5 codes) and the engine's chains agree with it; with `box-muller` noise in
/// the same formats the offset nearly cancels, and with the exact accumulator it vanishes.
///
/// Tolerances: the Monte Carlo mean must lie within 5 standard errors of the exact one (the
/// burn-in of 2000 steps is 31 relaxation times 1/η_c = 64 steps, so the start's bias is
/// e^−31); the offset itself is more than 10 standard errors, so it is not noise. The
/// box-muller and exact-accumulator means are exact-law numbers (no sampling error): their
/// bound 0.01 is a seventh of the clt offset.
#[test]
fn narrow_accumulator_offsets_the_stationary_mean() {
    let clt = config("clt:4:8", narrow(serde_json::json!({"wl": 8, "fl": 6})));
    let (f, pi) = stationary(&clt);
    let exact = mean(f, &pi);
    let (mc, se) = monte_carlo(&clt);
    assert!(
        (mc - exact).abs() < 5.0 * se,
        "MC {mc} ± {se} vs exact {exact}"
    );
    assert!(
        exact > 10.0 * se && exact > 0.05,
        "offset {exact} (se {se})"
    );

    let bm = config("box-muller", narrow(serde_json::json!({"wl": 8, "fl": 6})));
    let (f, pi) = stationary(&bm);
    let bm_mean = mean(f, &pi);
    assert!(bm_mean.abs() < 0.01, "box-muller {bm_mean}");

    // The same coefficients and noise, the accumulator of the default rule (exact sums).
    let wide = config(
        "clt:4:8",
        serde_json::json!({"coef": {"wl": 8, "fl": 6}, "noise": {"wl": 8, "fl": 6}}),
    );
    let a = wide.formats().accum;
    assert!(a.fl() >= 12, "exact accumulator {a}");
    let (f, pi) = stationary(&wide);
    let wide_mean = mean(f, &pi);
    assert!(wide_mean.abs() < 0.01, "exact accumulator {wide_mean}");
}

/// The offset is the difference of the two truncations' mean errors (docs/theory.md): at
/// stationarity E[x'] = E[x], so with accumulator step Δ_a = 2^−6 and the clamp's mean
/// correction κ, `η_c·E[x] = Δ_a·(E[f_g] − E[f_n]) + c_n·E[n] + κ` where f_g, f_n ∈ [0, 1)
/// are the discarded fractions of the two products. Checked to 1e-9 on the exact law (the
/// power iteration's residual is below 1e-15 per step).
#[test]
fn the_offset_is_the_difference_of_the_truncation_errors() {
    let c = config("clt:4:8", narrow(serde_json::json!({"wl": 8, "fl": 6})));
    let (f, pi) = stationary(&c);
    let built = c.build().unwrap();
    let codes: Vec<i64> = built.coefficients.iter().map(|c| c.2).collect();
    assert_eq!(codes, [1, 8], "η_c and c_n in codes of Q(8, 6)");
    let pmf = noise_pmf(c.noise_gen, built.formats.noise);
    let lo = f.min_code();
    // In codes of 2^-6: E[x'] − E[x] = −E⌊x/64⌋ + E⌊8n/64⌋ + E[clamp].
    let e_fg: f64 = pi
        .iter()
        .enumerate()
        .map(|(i, p)| p * (lo + i as i64).rem_euclid(64) as f64 / 64.0)
        .sum();
    let e_fn: f64 = pmf
        .iter()
        .map(|&(n, p)| p * (8 * n).rem_euclid(64) as f64 / 64.0)
        .sum();
    let e_n: f64 = pmf.iter().map(|&(n, p)| p * n as f64).sum();
    let mut clamp = 0.0;
    for (i, p) in pi.iter().enumerate() {
        let x = lo + i as i64;
        for &(n, q) in &pmf {
            let s = x - x.div_euclid(64) + (8 * n).div_euclid(64);
            clamp += p * q * (s.clamp(-128, 127) - s) as f64;
        }
    }
    let mean_codes = mean(f, &pi) * 64.0;
    // −E⌊x/64⌋ = −E[x]/64 + E[f_g];  E⌊8n/64⌋ = E[n]/8 − E[f_n].
    let balance = -mean_codes / 64.0 + e_fg + e_n / 8.0 - e_fn + clamp;
    assert!(balance.abs() < 1e-9, "balance {balance}");
    // The clt:4:8 sum is even, so n = RNE(T/4) is even 3/4 of the time: E[f_n] < 7/16.
    assert!(e_fn < 0.43 && e_fg > 0.45, "E[f_n] {e_fn}, E[f_g] {e_fg}");
}
