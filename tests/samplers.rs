//! Acceptance tests of the samplers against the closed forms of `lpmc::theory` (docs/theory.md).
//!
//! # Tolerances
//! Each test runs `C` independent chains and keeps `K` samples per chain spaced `T` steps
//! apart after a burn-in. The variance estimate s² of n = C·K samples has standard error
//! `SE = σ²·√(2·F/n)` for near-Gaussian data, where F = 1 + 2·Σ_{k≥1} ρ_k² accounts for the
//! correlation of samples within a chain: for a linear (AR) chain with spectral radius r per
//! step, the correlation of x at lag kT is at most r^{kT}, that of x² at most r^{2kT}, so
//! F ≤ 1 + 2·r^{2T}/(1 − r^{2T}). Chains are independent, so nothing else correlates.
//! Assertions use 4·SE (plus the closed form's own stated accuracy where it has one).
//! The burn-in makes the initial-condition bias `σ²·r^{2·burn_in}` negligible against SE.

use lpmc::experiment::chains::{run_chains, ChainSpec, NoProgress};
use lpmc::experiment::config::RunConfig;
use lpmc::theory::{
    sghmc_linear, sghmc_stationary_cov, sgld_stationary_var, spectral_radius, SghmcGaussian,
    SgldGaussian,
};
use serde_json::json;

/// Runs a config given as JSON (burn-in, thin, steps, chains taken from it); returns the
/// variance of dimension 0 and the number of kept samples.
fn var_of(cfg: serde_json::Value) -> (f64, f64) {
    let c: RunConfig = serde_json::from_value(cfg).unwrap();
    let b = c.build().unwrap();
    let spec = ChainSpec {
        chains: c.chains,
        steps: c.steps,
        burn_in: c.burn_in,
        thin: c.thin,
        seed: c.seed,
        source: c.source,
        x0: b.x0.clone(),
        max_rows: 0,
        threads: None,
    };
    let out = run_chains(b.sampler.as_ref(), b.target.as_ref(), &spec, &NoProgress).unwrap();
    (out.var[0], out.kept as f64)
}

/// The correlation factor F for spectral radius `r` per step and spacing `t` steps.
fn corr_factor(r: f64, t: u64) -> f64 {
    let q = r.powi(2 * t as i32);
    1.0 + 2.0 * q / (1.0 - q)
}

/// \[L\] Gaussian: N(0,1), Q(8,3), η = 2e-3, σ_g = 0.1. Naive SGLDLP-L inflates the variance
/// to (2η + q)/(2η − η²) = 1.650; VC gives ≈ 1.008 and LP-F ≈ 1.0.
///
/// The chain is x' = (1 − η)x + noise, r = 1 − η; T = 750 gives r^{2T} = e^{−3}, F ≈ 1.105.
/// Burn-in 2000: bias ≤ σ²·e^{−8} ≈ 5e−4.
#[test]
fn sgld_gaussian_lp_l_vc_lpf() {
    let mut p = SgldGaussian::new(2e-3, 0.0, 1.0);
    p.grad_noise = 0.1;
    let delta = 0.125;
    let (chains, thin, burn_in, keep) = (3000u64, 750u64, 2000u64, 4u64);
    let f = corr_factor(1.0 - 2e-3, thin);
    for (variant, tv, paper) in [
        ("lp-l", lpmc::theory::SgldVariant::LpL, 1.650),
        ("vc-l", lpmc::theory::SgldVariant::VcL, 1.008),
        ("lp-f", lpmc::theory::SgldVariant::LpF, 1.0),
    ] {
        let want = sgld_stationary_var(tv, &p, delta).unwrap();
        // The closed forms reproduce [S]'s and [L]'s numbers (LP-F: Var of the f64 x, 1 + O(η)).
        assert!(
            (want - paper).abs() < 0.01,
            "{variant}: theory {want} vs {paper}"
        );
        let (var, n) = var_of(json!({
            "target": {"gaussian": {"mean": [0.0], "var": [1.0]}},
            "sampler": {"sgld": {"variant": variant, "eta": 2e-3}},
            "format": {"wl": 8, "fl": 3}, "grad_noise": 0.1,
            "chains": chains, "steps": burn_in + keep * thin, "burn_in": burn_in,
            "thin": thin, "seed": 11
        }));
        let se = want * (2.0 * f / n).sqrt();
        eprintln!("sgld {variant}: Var {var:.4} theory {want:.4} SE {se:.4}");
        assert!(
            (var - want).abs() < 4.0 * se,
            "{variant}: Var {var} vs {want} ± 4·{se}"
        );
    }
}

/// \[S\] Gaussian: N(0,1), η = 0.09, u = 2, γ = 3, Q(8,4). Stationary Var x from the discrete
/// Lyapunov equation: 1.031 (fp), 1.440 (paper_sign), 0.824 (paper VC), and vc-joint keeps
/// the x–v covariance so it matches fp's 1.031.
///
/// r = the spectral radius of each variant's transition matrix A (`theory::sghmc_linear`);
/// T = 50 steps; burn-in 300.
#[test]
fn sghmc_gaussian_variants() {
    use lpmc::theory::SghmcVariant as T;
    let (chains, thin, burn_in, keep) = (4000u64, 50u64, 300u64, 20u64);
    let d = 1.0 / 16.0;
    let cases = [
        ("fp", false, T::Fp, 1.031),
        ("fp", true, T::Fp, 1.440),
        ("vc-l", false, T::VcL, 0.824),
        ("vc-joint", false, T::VcJoint, 1.031),
        ("lp-l", false, T::LpL, f64::NAN),
        ("lp-f", false, T::LpF, f64::NAN),
    ];
    for (variant, paper_sign, tv, paper) in cases {
        let mut p = SghmcGaussian::new(0.09, 2.0, 3.0, 1.0);
        p.paper_sign = paper_sign;
        let want = sghmc_stationary_cov(tv, &p, d, d).unwrap()[0][0];
        if paper.is_finite() {
            assert!((want - paper).abs() < 1e-3, "{variant}: theory {want}");
        }
        let r = spectral_radius(sghmc_linear(tv, &p, d, d).unwrap().a);
        let f = corr_factor(r, thin);
        let (var, n) = var_of(json!({
            "target": {"gaussian": {"mean": [0.0], "var": [1.0]}},
            "sampler": {"sghmc": {"variant": variant, "eta": 0.09, "u": 2.0, "gamma": 3.0,
                                  "paper_sign": paper_sign}},
            "format": {"wl": 8, "fl": 4},
            "chains": chains, "steps": burn_in + keep * thin, "burn_in": burn_in,
            "thin": thin, "seed": 5
        }));
        let se = want * (2.0 * f / n).sqrt();
        // lp-l / lp-f: the closed form models the fractional positions as Gaussian; allow
        // 1% of model error on top of the Monte-Carlo error.
        eprintln!(
            "sghmc {variant} paper_sign={paper_sign}: Var x {var:.4} theory {want:.4} SE {se:.4}"
        );
        let model = if paper.is_finite() { 0.0 } else { 0.01 * want };
        assert!(
            (var - want).abs() < 4.0 * se + model,
            "{variant} paper_sign={paper_sign}: Var x {var} vs {want} ± 4·{se}"
        );
    }
}

/// The integer datapath converges to the float one as the coefficient, noise and accumulator
/// bits grow: SGHMCLP-L on N(0,1) at \[S\]'s settings, coef and noise in Q(k+4, k), accum in
/// Q(2k+8, 2k) (exact products: 2k ≥ FL_coef + max(FL_grad, FL_noise, FL_param)).
///
/// At k = 3 the coefficient (u/γ²)(γη+e−1) ≈ 0.0074 rounds to 0 and e^{−γη} to 0.75, a
/// visible change of the stationary law; at k = 20 every coefficient is exact to 1e−6 and the
/// difference to the float run must be within Monte-Carlo error: both runs have SE as in
/// `sghmc_gaussian_variants`, the difference √2·SE.
#[test]
fn integer_datapath_converges_to_float() {
    let (chains, thin, burn_in, keep) = (3000u64, 50u64, 300u64, 20u64);
    let base = |datapath: &str, k: u32| {
        json!({
            "target": {"gaussian": {"mean": [0.0], "var": [1.0]}},
            "sampler": {"sghmc": {"variant": "lp-l", "eta": 0.09, "u": 2.0, "gamma": 3.0}},
            "format": {"wl": 8, "fl": 4},
            "formats": {"coef": {"wl": k + 4, "fl": k}, "noise": {"wl": k + 4, "fl": k},
                        "accum": {"wl": 2 * k + 8, "fl": 2 * k}},
            "datapath": datapath,
            "chains": chains, "steps": burn_in + keep * thin, "burn_in": burn_in,
            "thin": thin, "seed": 8
        })
    };
    let (vf, n) = var_of(base("float", 3));
    // F ≈ 1 here (r^{2T} < 1e−7, see sghmc_gaussian_variants).
    let se_diff = vf * (2.0 * 2.0 / n).sqrt();
    let errs: Vec<f64> = [3u32, 6, 20]
        .iter()
        .map(|&k| (var_of(base("integer", k)).0 - vf).abs())
        .collect();
    eprintln!("integer vs float |ΔVar| at k = 3, 6, 20: {errs:?} (float {vf:.4}, SE of diff {se_diff:.4})");
    assert!(
        errs[0] > 6.0 * se_diff,
        "coarse coefficients: {errs:?}, se {se_diff}"
    );
    assert!(
        errs[2] < 4.0 * se_diff,
        "fine coefficients: {errs:?}, se {se_diff}"
    );
    assert!(errs[0] > errs[1] && errs[0] > errs[2], "{errs:?}");
}

/// The naive SGLDLP-L closed form at two more (η, FL) pairs than \[L\]'s: (5e−3, 3) and
/// (2e−3, 4). r = 1 − η; T chosen with r^{2T} ≤ e^{−3} (F ≤ 1.105), burn-in ≥ 5/η.
#[test]
fn sgld_lp_l_closed_form_at_more_settings() {
    for (eta, fl, thin, burn_in) in [(5e-3, 3u32, 300u64, 1000u64), (2e-3, 4, 750, 2500)] {
        let mut p = SgldGaussian::new(eta, 0.0, 1.0);
        p.grad_noise = 0.1;
        let want =
            sgld_stationary_var(lpmc::theory::SgldVariant::LpL, &p, (-(fl as f64)).exp2()).unwrap();
        let keep = 4;
        let (var, n) = var_of(json!({
            "target": {"gaussian": {"mean": [0.0], "var": [1.0]}},
            "sampler": {"sgld": {"variant": "lp-l", "eta": eta}},
            "format": {"wl": 8, "fl": fl}, "grad_noise": 0.1,
            "chains": 2500, "steps": burn_in + keep * thin, "burn_in": burn_in,
            "thin": thin, "seed": 21
        }));
        let se = want * (2.0 * corr_factor(1.0 - eta, thin) / n).sqrt();
        eprintln!("sgld lp-l eta={eta} fl={fl}: Var {var:.4} theory {want:.4} SE {se:.4}");
        assert!(want > 1.1, "the setting shows the inflation: {want}");
        assert!(
            (var - want).abs() < 4.0 * se,
            "eta={eta} fl={fl}: {var} vs {want} ± 4·{se}"
        );
    }
}

/// The fixed-point generators (CLT, table) on the integer datapath at fine coefficients give
/// the float datapath's stationary variance (same derivation as
/// `integer_datapath_converges_to_float`; the CLT and table laws have the right variance,
/// and the chain is linear up to the state rounding, so the stationary variance depends on
/// the noise only through its variance).
#[test]
fn fixed_point_noise_generators_match_float() {
    let (chains, thin, burn_in, keep) = (2000u64, 50u64, 300u64, 20u64);
    let cfg = |datapath: &str, gen: &str| {
        json!({
            "target": {"gaussian": {"mean": [0.0], "var": [1.0]}},
            "sampler": {"sghmc": {"variant": "lp-l", "eta": 0.09, "u": 2.0, "gamma": 3.0}},
            "format": {"wl": 8, "fl": 4},
            "formats": {"coef": {"wl": 24, "fl": 20}, "noise": {"wl": 24, "fl": 20},
                        "accum": {"wl": 48, "fl": 40}},
            "datapath": datapath, "noise_gen": gen,
            "chains": chains, "steps": burn_in + keep * thin, "burn_in": burn_in,
            "thin": thin, "seed": 4
        })
    };
    let (vf, n) = var_of(cfg("float", "box-muller"));
    let se_diff = vf * (2.0 * 2.0 / n).sqrt();
    for gen in ["clt:4:16", "table:12"] {
        let (vi, _) = var_of(cfg("integer", gen));
        eprintln!("{gen}: Var {vi:.4} float {vf:.4} SE of diff {se_diff:.4}");
        assert!((vi - vf).abs() < 4.0 * se_diff, "{gen}: {vi} vs {vf}");
    }
}
