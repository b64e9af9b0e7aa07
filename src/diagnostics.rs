//! Diagnostics: what a config cannot sample well, said before and after the run.
//!
//! A [`Warning`] has a stable `code`, a one-line `message` that names the quantity, the
//! numbers and what to change, and the same numbers as JSON `values`. Runs keep going; the
//! warnings land in `result.json` (`warnings`), on stderr (one line each), in a sweep's
//! `points.csv` (`warnings`, `warning_codes`) and in `lpmc reproduce`'s `REPORT.md`; `--strict`
//! turns them into exit code 3.
//!
//! Before the run ([`before_run`], from the resolved config and the built sampler):
//!
//! | code | when |
//! |---|---|
//! | `coef-zero` | a coefficient rounds to 0 in `coef` (its term vanishes from every step) |
//! | `coef-imprecise` | a coefficient's relative rounding error exceeds 1 % |
//! | `accum-narrow` | the accumulator truncates a product or may overflow: the sum is not exact |
//! | `noise-clipped` | the noise format clips more than 1 % of the generator's draws, or the noise s.d. differs by more than 1 % from what the coefficients assume |
//! | `noise-coarse` | the noise's own rounding error exceeds 1 % of its s.d. |
//! | `target-range` | some of the target's mass within ±4 s.d. lies outside the state's range |
//! | `momentum-range` | SGHMC: ±4 s.d. of the stationary momentum (s.d. √u) leaves the momentum's range |
//! | `x0-range` | the initial position lies outside the state's range (it starts saturated) |
//! | `unstable-step` | on a Gaussian target the noise-free update is not a contraction (SGLD: η/σ² ≥ 2) |
//! | `gradient-f64` | integer datapath: the diagonal Gaussian's precision or mean is not exact in its format, so the gradient is computed in `f64` |
//!
//! After the run ([`after_chains`], [`metric_warnings`]):
//!
//! | code | when |
//! |---|---|
//! | `saturation` | a quantity (param, momentum, grad, accum, noise) overflows in more than 1 % of dim-steps |
//! | `chain-frozen` | every kept sample of a coordinate is the same value although the target has variance |
//! | `metric-missing` | a metric could not be computed (no samples, an evaluator error, overflow of f64) |

use crate::experiment::chains::ChainsOutput;
use crate::experiment::config::{best_precision_fl, Built, RunConfig, SamplerConfig};
use crate::format::Format;
use crate::noise::{IntNormal, NoiseGen};
use crate::sampler::sghmc::{Coefs, SghmcVariant};
use crate::sampler::sgld::SgldVariant;
use crate::sampler::Datapath;
use crate::target::Target;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Relative error of a coefficient above which it is reported (1 %).
pub const COEF_TOLERANCE: f64 = 0.01;
/// Relative error the suggested coefficient format holds it to (0.1 %).
pub const COEF_TARGET: f64 = 0.001;
/// Overflow events per dim-step above which a quantity is reported (1 %).
pub const SATURATION_RATE: f64 = 0.01;
/// Standard deviations of the target that must lie inside the state's range.
pub const RANGE_SDS: f64 = 4.0;

/// One diagnostic.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    /// Stable identifier (`coef-zero`, `saturation`, …; see the [module docs](self)).
    pub code: String,
    /// One line for a person: the quantity, its numbers, what to change.
    pub message: String,
    /// The numbers of the message as JSON.
    pub values: Value,
}

impl Warning {
    fn new(code: &str, message: String, values: Value) -> Self {
        Warning {
            code: code.into(),
            message,
            values,
        }
    }
}

impl std::fmt::Display for Warning {
    /// `[code] message`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] {}", self.code, self.message)
    }
}

/// The codes of `warnings`, each once, in first-seen order, joined by `;` (the
/// `warning_codes` column of `points.csv`).
pub fn codes(warnings: &[Warning]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for w in warnings {
        if !seen.contains(&w.code.as_str()) {
            seen.push(&w.code);
        }
    }
    seen.join(";")
}

/// A number for a message: 6 significant digits, in exponent form outside `[1e-4, 1e7)`.
///
/// ```
/// use lpmc::diagnostics::num;
/// assert_eq!((num(0.01), num(1.0 / 3.0), num(1e300), num(-7.875)), ("0.01".into(), "0.333333".into(), "1e300".into(), "-7.875".into()));
/// ```
pub fn num(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 || !x.is_finite() {
        return x.to_string();
    }
    if !(1e-4..1e7).contains(&a) {
        let s = format!("{x:.5e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let m = if m.contains('.') {
            m.trim_end_matches('0').trim_end_matches('.')
        } else {
            m
        };
        return format!("{m}e{e}");
    }
    let decimals = (5 - a.log10().floor() as i32).max(0) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// `Q(WL, FL)`.
fn q(f: Format) -> String {
    format!("Q({}, {})", f.wl(), f.fl())
}

fn fmt_json(f: Format) -> Value {
    json!({"wl": f.wl(), "fl": f.fl()})
}

/// Every diagnostic that the resolved `config` and its built sampler give before a run.
pub fn before_run(config: &RunConfig, built: &Built) -> Vec<Warning> {
    let mut w = Vec::new();
    coefficient_warnings(built, &mut w);
    if config.datapath == Datapath::Integer && !built.coefficients.is_empty() {
        accum_warnings(config, built, &mut w);
        noise_warnings(config, built, &mut w);
        gradient_warnings(config, built, &mut w);
    }
    range_warnings(config, built, &mut w);
    stability_warnings(config, built, &mut w);
    w
}

/// The smallest `Q(wl, fl)` (best-precision FL at each WL) holding `v` to a relative error
/// of at most [`COEF_TARGET`], if any up to 32 bits does.
pub fn coef_format_for(v: f64) -> Option<Format> {
    (2..=crate::format::MAX_STORED_WL).find_map(|wl| {
        let fl = best_precision_fl(v, wl)?;
        let f = Format::new(wl, fl).ok()?;
        let code = lpmc_kernels::portable::round_f64(v, fl, crate::Rounding::NearestEven, 0);
        let err = ((code as f64) * f.delta() - v).abs() / v.abs();
        (err <= COEF_TARGET).then_some(f)
    })
}

fn coefficient_warnings(built: &Built, w: &mut Vec<Warning>) {
    let f = built.formats.coef;
    for &(name, exact, code) in &built.coefficients {
        if exact == 0.0 || !exact.is_finite() {
            continue;
        }
        let value = f.value(code);
        let rel = (value - exact).abs() / exact.abs();
        if code != 0 && rel <= COEF_TOLERANCE {
            continue;
        }
        let hold = coef_format_for(exact);
        let suggest = hold.map_or("no format of at most 32 bits".to_string(), |h| {
            format!(
                "{} (`formats.coef`: {{\"wl\": {}, \"fl\": {}}})",
                q(h),
                h.wl(),
                h.fl()
            )
        });
        let values = json!({
            "name": name, "exact": exact, "quantized": value, "code": code,
            "relative_error": rel, "format": fmt_json(f),
            "suggested": hold.map(fmt_json),
        });
        if code == 0 {
            w.push(Warning::new(
                "coef-zero",
                format!(
                    "coefficient {name} = {} rounds to 0 in coef {}: its term drops out of every step; {suggest} holds it to 0.1 %, or omit formats.coef for the default",
                    num(exact),
                    q(f)
                ),
                values,
            ));
        } else {
            w.push(Warning::new(
                "coef-imprecise",
                format!(
                    "coefficient {name} = {} is {} in coef {} ({:.2} % off); {suggest} holds it to 0.1 %, or omit formats.coef for the default",
                    num(exact),
                    num(value),
                    q(f),
                    100.0 * rel
                ),
                values,
            ));
        }
    }
}

fn accum_warnings(config: &RunConfig, built: &Built, w: &mut Vec<Warning>) {
    let a = built.formats.accum;
    let fv = built.sampler.storage().1.and_then(|s| s.format());
    let Some(exact) = config.exact_accum(&built.formats, &built.coefficients, fv) else {
        return;
    };
    let truncates = a.fl() < exact.fl();
    let int_bits = |f: Format| f.wl() as i64 - f.fl() as i64;
    let may_overflow = int_bits(a) < int_bits(exact);
    if !(truncates || may_overflow) {
        return;
    }
    let mut why = Vec::new();
    if truncates {
        why.push(format!(
            "its FL {} drops the low {} bits of the widest product (each truncated product is biased by up to one accum step toward −∞)",
            a.fl(),
            exact.fl() - a.fl()
        ));
    }
    if may_overflow {
        why.push(format!(
            "its {} integer bits can overflow where the sum needs {}",
            int_bits(a),
            int_bits(exact)
        ));
    }
    w.push(Warning::new(
        "accum-narrow",
        format!(
            "accumulator {} is too narrow for an exact sum: {}; an exact sum needs {} (`formats.accum`: {{\"wl\": {}, \"fl\": {}}}), the default when formats.accum is omitted",
            q(a),
            why.join("; "),
            q(exact),
            exact.wl(),
            exact.fl()
        ),
        json!({"format": fmt_json(a), "exact": fmt_json(exact), "truncates": truncates, "may_overflow": may_overflow}),
    ));
}

/// Whether the step draws fixed-point noise codes (integer datapath, not a VC variant).
fn uses_int_noise(config: &RunConfig) -> bool {
    config.datapath == Datapath::Integer
        && match &config.sampler {
            SamplerConfig::Sgld(s) => matches!(s.variant, SgldVariant::LpF | SgldVariant::LpL),
            SamplerConfig::Sghmc(s) => matches!(s.variant, SghmcVariant::LpF | SghmcVariant::LpL),
        }
}

fn noise_warnings(config: &RunConfig, built: &Built, w: &mut Vec<Warning>) {
    if !uses_int_noise(config) {
        return;
    }
    let f = built.formats.noise;
    let gen = IntNormal::new(config.noise_gen, f);
    let law = gen.law();
    let assumed = gen.sd();
    let ratio = law.sd / assumed;
    let default = config.noise_gen.default_format();
    if law.clip > SATURATION_RATE || (ratio - 1.0).abs() > 0.01 {
        w.push(Warning::new(
            "noise-clipped",
            format!(
                "noise format {} (range [{}, {}]) clips {:.2} % of {} draws: the noise s.d. is {:.4}, the coefficients assume {:.4}, so the injected noise variance is {:.1} % of what the step asks; {} holds every draw (the default when formats.noise is omitted)",
                q(f),
                num(f.min_value()),
                num(f.max_value()),
                100.0 * law.clip,
                config.noise_gen,
                law.sd,
                assumed,
                100.0 * ratio * ratio,
                q(default)
            ),
            json!({"format": fmt_json(f), "generator": config.noise_gen.to_string(), "clipped": law.clip,
                   "sd": law.sd, "assumed_sd": assumed, "exact": law.exact, "suggested": fmt_json(default)}),
        ));
    }
    let rounds = match config.noise_gen {
        NoiseGen::Clt { k, bits } => {
            (f.fl() as i32) < (0.5 * lpmc_kernels::noise::clt_var(k, bits).log2()).round() as i32
        }
        _ => true,
    };
    let err = if rounds {
        f.delta() / 12f64.sqrt() / assumed
    } else {
        0.0
    };
    if err > crate::noise::NOISE_ROUNDING_MAX {
        w.push(Warning::new(
            "noise-coarse",
            format!(
                "noise format {} rounds the {} normal with an error of {:.1} % of its s.d. (Δ/√12 = {:.4}); {} keeps it under 1 % (the default when formats.noise is omitted)",
                q(f),
                config.noise_gen,
                100.0 * err,
                f.delta() / 12f64.sqrt(),
                q(default)
            ),
            json!({"format": fmt_json(f), "relative_error": err, "suggested": fmt_json(default)}),
        ));
    }
}

fn gradient_warnings(config: &RunConfig, built: &Built, w: &mut Vec<Warning>) {
    if config.grad_noise != 0.0 {
        return;
    }
    let Some((mean, prec)) = built.target.diagonal_gaussian() else {
        return;
    };
    let (fc, fx) = (built.formats.coef, built.formats.param);
    let exact = |v: f64, f: Format| {
        let c = lpmc_kernels::portable::round_f64(v, f.fl(), crate::Rounding::NearestEven, 0);
        c >= f.min_code() as i128 && c <= f.max_code() as i128 && (c as f64) * f.delta() == v
    };
    let bad_prec = prec.iter().position(|&p| !exact(p, fc));
    let bad_mean = mean.iter().position(|&m| !exact(m, fx));
    let (what, i, v, f) = match (bad_prec, bad_mean) {
        (Some(i), _) => ("precision 1/σ²", i, prec[i], fc),
        (None, Some(i)) => ("mean", i, mean[i], fx),
        (None, None) => return,
    };
    let quantity = if bad_prec.is_some() { "coef" } else { "param" };
    w.push(Warning::new(
        "gradient-f64",
        format!(
            "the integer gradient needs every precision exact in coef and every mean exact in param, but the {what} of dimension {i}, {}, is not exact in {quantity} {}: the gradient is computed in f64 and rounded to grad instead of prec·(x − μ) in integers",
            num(v),
            q(f)
        ),
        json!({"what": what, "dimension": i, "value": v, "format": fmt_json(f)}),
    ));
}

fn range_warnings(config: &RunConfig, built: &Built, w: &mut Vec<Warning>) {
    let target = built.target.as_ref();
    let (sx, sv) = built.sampler.storage();
    let (sx, sv) = (sx.format(), sv.and_then(|s| s.format()));
    if let Some(f) = sx {
        let d = target.dim();
        let (lo, hi) = (f.min_value(), f.max_value());
        let mut worst: Option<(usize, f64, f64, f64)> = None;
        let mut count = 0;
        for i in 0..d {
            let law = target.marginal(i);
            let (m, sd) = (law.mean(), law.var().sqrt());
            if !(m - RANGE_SDS * sd >= lo && m + RANGE_SDS * sd <= hi) {
                count += 1;
                let half = f.delta() / 2.0;
                let outside = law.cdf(lo - half) + (1.0 - law.cdf(hi + half));
                if worst.is_none_or(|(_, _, _, o)| outside > o) {
                    worst = Some((i, m, sd, outside));
                }
            }
        }
        if let Some((i, m, sd, outside)) = worst {
            let reach = (m - RANGE_SDS * sd).abs().max((m + RANGE_SDS * sd).abs());
            let int_bits = if reach.is_finite() && reach > 0.0 {
                (reach.log2().floor() as i64 + 2).max(1)
            } else {
                1
            };
            let need_wl = int_bits + f.fl() as i64;
            let hint = if need_wl <= 32 {
                format!(
                    "a format with {int_bits} integer bits holds it, e.g. Q({need_wl}, {})",
                    f.fl()
                )
            } else {
                "no format of at most 32 bits holds it at this FL".to_string()
            };
            let also = if count > 1 {
                format!(" ({count} of {d} dimensions are affected; the worst is shown)")
            } else {
                String::new()
            };
            w.push(Warning::new(
                "target-range",
                format!(
                    "target dimension {i} (mean {}, s.d. {}): mean ± 4 s.d. = [{}, {}] is not inside the state's range [{}, {}] of {}; {:.3} % of its mass lies outside and saturates{also}; {hint}",
                    num(m),
                    num(sd),
                    num(m - RANGE_SDS * sd),
                    num(m + RANGE_SDS * sd),
                    num(lo),
                    num(hi),
                    q(f),
                    100.0 * outside
                ),
                json!({"dimension": i, "mean": m, "sd": sd, "range": [lo, hi], "format": fmt_json(f),
                       "mass_outside": outside, "dimensions_affected": count}),
            ));
        }
        if let Some(x0) = &config.x0 {
            if let Some((i, &x)) = x0
                .iter()
                .enumerate()
                .find(|(_, &x)| x < lo - f.delta() / 2.0 || x > hi + f.delta() / 2.0)
            {
                w.push(Warning::new(
                    "x0-range",
                    format!(
                        "x0[{i}] = {} lies outside the state's range [{}, {}] of {}: every chain starts saturated at the range end",
                        num(x),
                        num(lo),
                        num(hi),
                        q(f)
                    ),
                    json!({"dimension": i, "x0": x, "range": [lo, hi], "format": fmt_json(f)}),
                ));
            }
        }
    }
    if let (SamplerConfig::Sghmc(s), Some(fv)) = (&config.sampler, sv) {
        // The stationary momentum of SGHMC with inverse mass u is N(0, u) in every coordinate.
        let sd = s.u.sqrt();
        if RANGE_SDS * sd > fv.max_value() {
            let outside =
                2.0 * crate::target::dist1::big_phi_c((fv.max_value() + fv.delta() / 2.0) / sd);
            w.push(Warning::new(
                "momentum-range",
                format!(
                    "the stationary momentum N(0, u = {}) has ± 4 s.d. = ±{} beyond the momentum range [{}, {}] of {}; {:.3} % of it saturates",
                    num(s.u),
                    num(RANGE_SDS * sd),
                    num(fv.min_value()),
                    num(fv.max_value()),
                    q(fv),
                    100.0 * outside
                ),
                json!({"sd": sd, "range": [fv.min_value(), fv.max_value()], "format": fmt_json(fv), "mass_outside": outside}),
            ));
        }
    }
}

fn stability_warnings(config: &RunConfig, built: &Built, w: &mut Vec<Warning>) {
    let Some((_, prec)) = built.target.diagonal_gaussian() else {
        return;
    };
    let Some(p) = prec
        .iter()
        .copied()
        .filter(|p| p.is_finite())
        .reduce(f64::max)
    else {
        return;
    };
    match &config.sampler {
        SamplerConfig::Sgld(s) => {
            let r = (1.0 - s.eta * p).abs();
            if r >= 1.0 {
                w.push(Warning::new(
                    "unstable-step",
                    format!(
                        "SGLD with eta = {} on a target of precision 1/σ² = {}: the noise-free update x ← (1 − η/σ²)·x has factor {} (|·| ≥ 1), so the chain diverges to the range ends; it needs eta < 2σ² = {}",
                        num(s.eta),
                        num(p),
                        num(1.0 - s.eta * p),
                        num(2.0 / p)
                    ),
                    json!({"eta": s.eta, "precision": p, "factor": 1.0 - s.eta * p, "eta_max": 2.0 / p}),
                ));
            }
        }
        SamplerConfig::Sghmc(s) => {
            let k = Coefs::new(s.eta, s.u, s.gamma, s.paper_sign);
            // (x, v) ← A (x, v) with g = p·x: A = [[1 + c_xg·p, c_xv], [c_vg·p, e]].
            let (a, b, c, d) = (1.0 + k.xg * p, k.xv, k.vg * p, k.vv);
            let (tr, det) = (a + d, a * d - b * c);
            let disc = tr * tr - 4.0 * det;
            let rho = if disc >= 0.0 {
                ((tr.abs() + disc.sqrt()) / 2.0).abs()
            } else {
                det.abs().sqrt()
            };
            if rho >= 1.0 || rho.is_nan() {
                w.push(Warning::new(
                    "unstable-step",
                    format!(
                        "SGHMC with eta = {}, u = {}, gamma = {} on a target of precision {}: the noise-free update of (x, v) has spectral radius {} (≥ 1), so the chain diverges to the range ends; lower eta or u",
                        num(s.eta),
                        num(s.u),
                        num(s.gamma),
                        num(p),
                        num(rho)
                    ),
                    json!({"eta": s.eta, "u": s.u, "gamma": s.gamma, "precision": p, "spectral_radius": rho}),
                ));
            }
        }
    }
}

/// The diagnostics of a finished run of the chains: the saturation rate per quantity
/// ([`ChainsOutput::events`]) and frozen coordinates.
pub fn after_chains(config: &RunConfig, target: &dyn Target, out: &ChainsOutput) -> Vec<Warning> {
    let mut w = Vec::new();
    let d = target.dim();
    let dim_steps = config.chains as f64 * config.steps as f64 * d as f64;
    let e = out.events;
    let per = [
        ("param", e.param),
        ("momentum", e.momentum),
        ("grad", e.grad),
        ("accum", e.accum),
        ("noise", e.noise),
    ];
    for (quantity, n) in per {
        let rate = n as f64 / dim_steps;
        if rate > SATURATION_RATE {
            w.push(Warning::new(
                "saturation",
                format!(
                    "{n} overflow events in {quantity}: {:.2} per 100 dim-steps (over 1): the range of the {quantity} format is too small for this run; see the range, step and coefficient warnings",
                    100.0 * rate
                ),
                json!({"quantity": quantity, "events": n, "rate": rate}),
            ));
        }
    }
    let tvar = target.var();
    let frozen: Vec<usize> = (0..d)
        .filter(|&i| out.kept > 1 && out.var[i] == 0.0 && tvar[i] > 0.0)
        .collect();
    if let Some(&i) = frozen.first() {
        w.push(Warning::new(
            "chain-frozen",
            format!(
                "every kept sample of dimension {i} is {} ({} of {d} dimensions have variance 0, the target's is {}): the chains never moved; look for a coefficient that rounds to 0 or a state format too coarse for the step",
                num(out.mean[i]),
                frozen.len(),
                num(tvar[i])
            ),
            json!({"dimensions": frozen, "value": out.mean[i]}),
        ));
    }
    w
}

/// Why the metrics of `names` with a missing value (`None` or not finite) could not be
/// computed, one warning listing them: no samples (`rows` = 0), the evaluator's error, or an
/// overflow of `f64` for a target or samples too far out (|x| > 1e150, whose squares
/// overflow); `sample_max` is the largest |sample|.
pub fn metric_warnings(
    values: &[(&str, Option<f64>)],
    rows: usize,
    eval_error: Option<&str>,
    target: &dyn Target,
    sample_max: f64,
) -> Vec<Warning> {
    let missing: Vec<&str> = values
        .iter()
        .filter(|(_, v)| !v.is_some_and(f64::is_finite))
        .map(|(n, _)| *n)
        .collect();
    if missing.is_empty() {
        return Vec::new();
    }
    let reach = (0..target.dim())
        .map(|i| {
            let l = target.marginal(i);
            l.mean().abs() + RANGE_SDS * l.var().sqrt()
        })
        .fold(sample_max, f64::max);
    let reason = if rows == 0 {
        "no kept samples were returned (max_sample_rows = 0 or no kept step): raise max_sample_rows"
            .to_string()
    } else if let Some(e) = eval_error {
        format!("the evaluator failed: {e}")
    } else if reach > 1e150 || reach.is_nan() {
        format!(
            "the target or the samples reach |x| = {}, whose squares overflow f64 (above 1.8e308)",
            num(reach)
        )
    } else {
        "the result was not a finite number (degenerate samples or target)".to_string()
    };
    vec![Warning::new(
        "metric-missing",
        format!("{} could not be computed: {reason}", missing.join(", ")),
        json!({"metrics": missing, "reason": reason}),
    )]
}
