//! The default formats of the integer datapath (docs/config.md, "Default formats on the
//! integer datapath"): explicit formats are kept bit for bit, derived ones hold their
//! quantities, and the obvious 8-bit integer config samples its target.

use lpmc::experiment::chains::{run_chains, ChainSpec, NoProgress};
use lpmc::experiment::config::RunConfig;
use lpmc::format::Format;

fn cfg(v: serde_json::Value) -> RunConfig {
    serde_json::from_value(v).unwrap()
}

/// Given formats are used as given, on both datapaths, and the float datapath derives
/// nothing: every quantity not given there is `format`.
#[test]
fn explicit_formats_are_never_changed() {
    let f = |wl, fl| Format::new(wl, fl).unwrap();
    let c = cfg(serde_json::json!({
        "target": {"gaussian": {"mean": [0.0], "var": [1.0]}},
        "sampler": {"sghmc": {}}, "datapath": "integer", "format": {"wl": 8, "fl": 6},
        "formats": {"coef": {"wl": 8, "fl": 6}, "accum": {"wl": 8, "fl": 6}, "noise": {"wl": 8, "fl": 6}}
    }));
    let r = c.formats();
    assert_eq!((r.coef, r.accum, r.noise), (f(8, 6), f(8, 6), f(8, 6)));
    assert!(c.derived_formats().is_empty());
    let mut float = c.clone();
    float.datapath = lpmc::sampler::Datapath::Float;
    float.formats = Default::default();
    let r = float.formats();
    assert_eq!((r.coef, r.accum, r.noise), (f(8, 6), f(8, 6), f(8, 6)));
}

/// Derived formats hold what they are for: every coefficient of SGLD and SGHMC (several
/// settings) to within its own 16-bit best precision, i.e. a relative error of at most
/// 2^−15 (a 16-bit word keeps at least 15 significant bits of a nonzero constant, so half a
/// step of it is ≤ 2^−15 of the value); the accumulator is the exact width that the
/// diagnostics compute (so `accum-narrow` never fires on a default), and no noise, coefficient
/// or accumulator diagnostic fires.
#[test]
fn derived_formats_hold_their_quantities() {
    let samplers = [
        serde_json::json!({"sgld": {"eta": 0.01}}),
        serde_json::json!({"sgld": {"eta": 1e-5, "variant": "lp-f"}}),
        serde_json::json!({"sgld": {"eta": 0.3, "variant": "vc-l"}}),
        serde_json::json!({"sghmc": {}}),
        serde_json::json!({"sghmc": {"eta": 0.01, "u": 7.0, "gamma": 4.0}}),
        serde_json::json!({"sghmc": {"eta": 0.1, "u": 1.0, "gamma": 3.0, "variant": "lp-f"}}),
    ];
    for s in samplers {
        for gen in ["box-muller", "clt:4:8", "clt:2:16", "table:10"] {
            let c = cfg(serde_json::json!({
                "target": {"gaussian": {"mean": [0.5], "var": [2.0]}}, "sampler": s,
                "datapath": "integer", "noise_gen": gen, "format": {"wl": 10, "fl": 6}
            }));
            let b = c.build().unwrap();
            assert_eq!(c.derived_formats(), ["coef", "accum", "noise"]);
            for &(name, exact, code) in &b.coefficients {
                let rel = (b.formats.coef.value(code) - exact).abs() / exact.abs();
                assert!(
                    rel <= 2f64.powi(-15),
                    "{s} {gen}: {name} = {exact} off by {rel}"
                );
            }
            let ws = lpmc::diagnostics::before_run(&c, &b);
            let codes = lpmc::diagnostics::codes(&ws);
            assert!(
                !["coef-", "accum-", "noise-", "gradient-f64"]
                    .iter()
                    .any(|k| codes.contains(k)),
                "{s} {gen}: {codes}"
            );
        }
    }
}

/// The obvious integer config — `format` Q(8, 4) only, SGLD `lp-l`, η = 0.01, on
/// N((0, 0.5, −0.5), diag(1, 2, 0.5)), 20 chains × 2000 steps — samples its target: with η, the
/// noise and the accumulator in Q(8, 4) it drove every chain to −7.75; with the derived
/// formats each coordinate's mean is within 5 standard errors of the target's and fewer than
/// 1 % of the dim-steps saturate.
///
/// Standard error of a mean: the chain x ← (1 − η/σ²)x + noise relaxes in 100σ² steps, so
/// 1000 kept steps are ≈ 1000/(2·100σ²) = 5/σ² independent samples per chain and the s.e.
/// over 20 chains is σ/√(100/σ²) = σ²/10.
#[test]
fn the_obvious_integer_config_samples_its_target() {
    let c = cfg(serde_json::json!({
        "target": {"gaussian": {"mean": [0.0, 0.5, -0.5], "var": [1.0, 2.0, 0.5]}},
        "sampler": {"sgld": {"variant": "lp-l", "eta": 0.01}},
        "format": {"wl": 8, "fl": 4}, "datapath": "integer",
        "chains": 20, "steps": 2000, "burn_in": 1000, "seed": 0
    }));
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
    for (i, (&m, (&mu, &var))) in out
        .mean
        .iter()
        .zip([0.0, 0.5, -0.5].iter().zip(&[1.0, 2.0, 0.5]))
        .enumerate()
    {
        let se = var / 10.0;
        assert!(
            (m - mu).abs() < 5.0 * se,
            "dimension {i}: mean {m}, target {mu} (se {se})"
        );
    }
    let dim_steps = (c.chains as u64 * c.steps * 3) as f64;
    assert!(
        (out.saturations as f64) < 0.01 * dim_steps,
        "{} saturations",
        out.saturations
    );
}
