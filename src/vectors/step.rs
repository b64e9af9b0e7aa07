//! `sgld-step` and `sghmc-step` vectors: every coordinate of every step of chain 0 of
//! `lpmc run CONFIG`, as the scalar reference driver computes it
//! (`lpmc_kernels::drivers::reference::run_observed`, the driver every fast path is tested
//! bit-identical to), on the stream `(seed, 0)` that `lpmc run` gives chain 0 and from the
//! state it starts chain 0 in. So with `burn_in` 0 and `thin` 1, `x_out` of step `k` is the
//! `k`-th kept sample of chain 0 in that run's `samples.csv` (in codes).
//!
//! One row per (step, coordinate), steps outer. Columns (SGHMC's momentum columns only for
//! SGHMC; `rand_pre` and `pos` only for `lp-f`, `rand_x`/`rand_v` only for `lp-l`, `*_raw`
//! only for the integer generators):
//!
//! | column | meaning |
//! |---|---|
//! | `step`, `i` | step (0-based) and coordinate |
//! | `x_in`, `v_in` | state codes before the step |
//! | `prec`, `mean` | the coordinate's precision (`coef` codes) and mean (`param` codes) |
//! | `rand_pre`, `pos`, `pos_overflow` | `lp-f`: Q_W's random bits, the gradient's argument Q_W(x) |
//! | `rand_grad`, `grad`, `grad_overflow` | Q_G's random bits, the gradient code |
//! | `noise1_raw`, `noise1`, … | the generator's raw output (clt: Σ of its K uniforms; table: the index), the noise code |
//! | `noise_overflows` | how many of the coordinate's noise codes the noise format clipped |
//! | `accum_v`, `accum_x`, `accum_overflows` | the wide sums after the accumulator's overflow rule, and how many it changed |
//! | `rand_v`, `v_out`, `v_overflow`, `rand_x`, `x_out`, `x_overflow` | the state roundings |
//!
//! Every random word a step draws is in `words.csv` (`step,index,word`) and `words.hex`;
//! `vectors.json` gives the regions the fields are taken from (`parameters.layout`).

use super::requantize::MAX_VECTORS;
use super::rules::{integer_rounding, overflow, rtl_mode, rtl_r};
use super::{bit_length, int, Rtl, Table, VectorSet};
use crate::error::{Error, Result};
use crate::experiment::config::RunConfig;
use crate::sampler::{state, Engine};
use lpmc_kernels::drivers::reference::{run_observed, Coordinate, Observer};
use lpmc_kernels::lane::Fmt;
use lpmc_kernels::layout::{Layout, Region};
use lpmc_kernels::rules::{Dynamics, Events, Gradient, Noise, Step, Variant};
use lpmc_kernels::Overflow;
use num_bigint::BigInt;
use serde_json::{json, Value};

/// Settings of a step set.
#[derive(Clone, Debug, PartialEq)]
pub struct StepSettings {
    /// The sampler the kind names (`sgld-step`: SGLD); the config must run it.
    pub dynamics: Dynamics,
    /// The run whose chain 0 is recorded (its seed, source, sampler, target and x0).
    pub config: RunConfig,
    /// Steps recorded, from the first (steps × dimension ≤ 10^7).
    pub steps: u64,
}

/// One coordinate of one step, owned.
#[derive(Clone, Copy, Debug)]
struct Row {
    step: u64,
    i: usize,
    x_in: i128,
    v_in: i128,
    pre: u64,
    rand_grad: u64,
    rand_v: u64,
    rand_x: u64,
    raw: [u64; 2],
    pos: i128,
    grad: i128,
    noise: [i128; 2],
    accum: [i128; 2],
    x_out: i128,
    v_out: i128,
    events: Events,
}

/// Records every coordinate, and each step's words once.
#[derive(Default)]
struct Recorder {
    rows: Vec<Row>,
    words: Vec<(u64, Vec<u64>)>,
}

impl Observer for Recorder {
    fn coordinate(&mut self, c: &Coordinate) {
        if c.i == 0 {
            let (pre, main) = c.words;
            self.words
                .push((c.step, pre.iter().chain(main).copied().collect()));
        }
        self.rows.push(Row {
            step: c.step,
            i: c.i,
            x_in: c.x_in,
            v_in: c.v_in,
            pre: c.fields.pre,
            rand_grad: c.fields.grad,
            rand_v: c.fields.v,
            rand_x: c.fields.x,
            raw: c.fields.noise,
            pos: c.pos,
            grad: c.grad,
            noise: c.noise,
            accum: c.accum,
            x_out: c.x_out,
            v_out: c.v_out,
            events: c.events,
        });
    }
}

/// The kind's name.
fn kind_name(d: Dynamics) -> &'static str {
    match d {
        Dynamics::Sgld => "sgld-step",
        Dynamics::Sghmc => "sghmc-step",
    }
}

/// A code as a sized Verilog literal (`-16'sd5`), for a testbench parameter.
fn verilog_const(code: i64, wl: u32) -> String {
    if code < 0 {
        format!("-{wl}'sd{}", code.unsigned_abs())
    } else {
        format!("{wl}'sd{code}")
    }
}

/// The step set of `s`.
pub fn produce(s: &StepSettings) -> Result<VectorSet> {
    let kind = kind_name(s.dynamics);
    let built = s.config.build()?;
    let d = built.target.dim();
    let max_steps = (MAX_VECTORS / d.max(1)) as u64;
    if s.steps == 0 || s.steps > max_steps {
        return Err(Error::param(
            "--steps",
            s.steps,
            format!("must be in 1..={max_steps} (steps × dimension {d} ≤ {MAX_VECTORS} vectors)"),
        ));
    }
    let engine = Engine::new(built.sampler.as_ref(), built.target.as_ref())?;
    let step = match engine.step() {
        Some(step) if engine.integer_gradient() => step,
        _ => {
            return Err(Error::Config(format!(
                "{kind} vectors record an integer step: the config needs \"datapath\": \"integer\", no grad_noise, and a Gaussian target with a diagonal precision whose precisions 1/var are exactly coef codes and whose means are exactly param codes (this run's gradient is computed in f64)"
            )))
        }
    };
    if step.dynamics != s.dynamics {
        let other = kind_name(step.dynamics);
        return Err(Error::Config(format!(
            "the config runs {}, not {}: use `lpmc vectors {other}`",
            other.trim_end_matches("-step").to_uppercase(),
            kind.trim_end_matches("-step").to_uppercase()
        )));
    }
    if !matches!(step.variant, Variant::LpL | Variant::LpF) {
        return Err(Error::Config(format!(
            "{kind} vectors cover the lp-l and lp-f variants; {} draws Q^vc from 53-bit uniforms in f64, which no integer lane computes",
            step.variant
        )));
    }
    let Gradient::IntGauss { prec, mean, .. } = step.gradient else {
        unreachable!("integer_gradient() means IntGauss")
    };
    let lay = step.layout(d);
    let mut init = built.sampler.init(&built.x0)?;
    let mut bits = s.config.source.stream(s.config.seed, 0)?;
    let mut words = vec![0u64; lay.pre_words + lay.main_words];
    let mut rec = Recorder::default();
    run_observed(
        &step,
        state(&mut init.x, init.v.as_mut()),
        &mut init.scale,
        s.steps,
        &mut bits,
        &mut words,
        &mut rec,
    );

    let coef_wl = built.formats.coef.wl();
    let mut set = VectorSet::new(kind);
    describe(&mut set, s, &step, &lay, d, coef_wl, &built.coefficients);
    fill_table(&mut set.table, &step, &lay, coef_wl, prec, mean, &rec.rows);
    let mut wt = Table::default();
    wt.column(
        "step",
        bit_length(s.steps as u128 - 1).max(1),
        false,
        "step",
    );
    wt.column(
        "index",
        bit_length(words.len().max(2) as u128 - 1),
        false,
        "word of the step (pre part first)",
    );
    wt.column("word", 64, false, "the 64-bit word drawn");
    for (t, ws) in &rec.words {
        for (j, &w) in ws.iter().enumerate() {
            wt.push(vec![int(*t), int(j as u64), int(w)]);
        }
    }
    set.files.push(("words.csv".into(), wt.csv()));
    set.files.push(("words.hex".into(), wt.hex(2)));
    set.param("words_per_step", words.len());
    if step.variant == Variant::LpL {
        set.rtl = Some(rtl(&step, d, coef_wl, built.formats.coef.fl()));
    }
    Ok(set)
}

/// The parameters, rules and formula of the set.
fn describe(
    set: &mut VectorSet,
    s: &StepSettings,
    step: &Step,
    lay: &Layout,
    d: usize,
    coef_wl: u32,
    coefs: &[crate::experiment::config::Coefficient],
) {
    let fmt = |f: Fmt| json!({"wl": f.wl, "fl": f.fl, "overflow": f.overflow.to_string()});
    let hmc = step.momentum();
    set.param(
        "sampler",
        kind_name(step.dynamics).trim_end_matches("-step"),
    );
    set.param("variant", step.variant.to_string());
    set.param("dimension", d);
    set.param("steps", s.steps);
    set.param("seed", s.config.seed);
    set.param("stream", 0);
    set.param("source", s.config.source.to_string());
    set.param("rounding", step.rounding.to_string());
    set.param("noise_gen", noise_name(step));
    let mut formats = serde_json::Map::new();
    formats.insert("x".into(), fmt(step.x));
    if hmc {
        formats.insert("v".into(), fmt(step.v));
    }
    formats.insert("param".into(), fmt(step.param));
    formats.insert("grad".into(), fmt(step.grad));
    formats.insert("noise".into(), fmt(step.noise_fmt));
    formats.insert("accum".into(), fmt(step.accum));
    formats.insert("coef".into(), json!({"wl": coef_wl, "fl": step.coef_fl}));
    set.param("formats", formats);
    set.param(
        "coefficients",
        coefs
            .iter()
            .zip(step.int_coefs)
            .map(|((name, exact, _), code)| json!({"name": name, "value": exact, "code": code}))
            .collect::<Vec<_>>(),
    );
    let regions: Vec<Value> = REGION_NAMES
        .iter()
        .filter(|(r, _)| lay.region(*r).width > 0)
        .map(|&(r, name)| {
            let f = lay.region(r);
            json!({"region": name, "word": lay.pre_words + f.word, "bit": f.bit, "width": f.width,
                   "fields_per_coordinate": lay.per_coord[r as usize]})
        })
        .chain((lay.pre.width > 0).then(|| {
            json!({"region": "round_pre", "word": lay.pre.word, "bit": lay.pre.bit,
                   "width": lay.pre.width, "fields_per_coordinate": 1})
        }))
        .collect();
    set.param("layout", regions);

    let a = step.accum;
    set.rule(
        "packing",
        "each step draws words_per_step fresh 64-bit words (words.csv; lp-f: its pre part first, word-aligned). Each region's fields follow each other in coordinate order, field f of a region taking bits [b, b + width) of a word when they fit (b + width ≤ 64), else bits [0, width) of the next word; parameters.layout gives each region's first word and bit",
    );
    set.rule("align", format!("align(t, f) = t << ({} − f) if f ≤ {}, else t >> (f − {}) (arithmetic, floor): a term with f fraction bits brought to the accumulator's {} exactly or by floor", a.fl, a.fl, a.fl, a.fl));
    let pos = step.position_fmt();
    set.rule(
        "gradient_rounding",
        integer_rounding(step.rounding, step.grad_shift()),
    );
    set.rule(
        "gradient_overflow",
        overflow(step.grad.overflow, step.grad.wl),
    );
    set.rule("accum_overflow", overflow(a.overflow, a.wl));
    set.rule("noise", noise_rule(step));
    match step.variant {
        Variant::LpF => set.rule(
            "pre_rounding",
            format!(
                "{} then {}",
                integer_rounding(step.rounding, a.fl as i32 - step.param.fl as i32),
                overflow(step.param.overflow, step.param.wl)
            ),
        ),
        _ => {
            set.rule(
                "x_rounding",
                format!(
                    "{} then {}",
                    integer_rounding(step.rounding, a.fl as i32 - step.x.fl as i32),
                    overflow(step.x.overflow, step.x.wl)
                ),
            );
            if hmc {
                set.rule(
                    "v_rounding",
                    format!(
                        "{} then {}",
                        integer_rounding(step.rounding, a.fl as i32 - step.v.fl as i32),
                        overflow(step.v.overflow, step.v.wl)
                    ),
                );
            }
        }
    }
    let (c, g, n) = (step.coef_fl, step.grad.fl, step.noise_fmt.fl);
    let grad = format!(
        "grad, grad_overflow = Q_G(prec·({} − mean)) (a code with {} fraction bits rounded by rand_grad to Q({}, {}))",
        if step.variant == Variant::LpF { "pos" } else { "x_in" },
        c + pos.fl,
        step.grad.wl,
        g
    );
    let pre = if step.variant == Variant::LpF {
        format!(
            "pos, pos_overflow = Q_W(x_in) (pre_rounding with rand_pre, to Q({}, {})); ",
            step.param.wl, step.param.fl
        )
    } else {
        String::new()
    };
    let out = |s: &str, acc: &str, f: Fmt, r: &str| {
        if step.variant == Variant::LpF {
            format!("{s}_out = {acc}")
        } else {
            format!(
                "{s}_out, {s}_overflow = Q(accum_{s}) ({s}_rounding with {r}, to Q({}, {}))",
                f.wl, f.fl
            )
        }
    };
    set.formula = if hmc {
        format!(
            "{pre}{grad}; accum_v = A(align(c0·v_in, {cv}) + align(c1·grad, {cg}) + align(c4·noise1, {cn})); accum_x = A(align(x_in, {fx}) + align(c2·v_in, {cv}) + align(c3·grad, {cg}) + align(c5·noise1, {cn}) + align(c6·noise2, {cn})), A the accum_overflow rule, accum_overflows the number it changed; {}; {} (c0..c6 the coefficient codes of parameters.coefficients)",
            out("v", "accum_v", step.v, "rand_v"),
            out("x", "accum_x", step.x, "rand_x"),
            cv = c + step.v.fl,
            cg = c + g,
            cn = c + n,
            fx = step.x.fl
        )
    } else {
        format!(
            "{pre}{grad}; accum_x = A(align(x_in, {fx}) − align(c0·grad, {cg}) + align(c1·noise1, {cn})), A the accum_overflow rule, accum_overflows = 1 iff it changed the sum; {} (c0 = η, c1 = √(2η)/s_n: the coefficient codes of parameters.coefficients)",
            out("x", "accum_x", step.x, "rand_x"),
            cg = c + g,
            cn = c + n,
            fx = step.x.fl
        )
    };
}

/// The regions a step's vectors can show, with their `vectors.json` names.
const REGION_NAMES: [(Region, &str); 7] = [
    (Region::Normal1, "normal1"),
    (Region::Normal2, "normal2"),
    (Region::RoundGrad, "round_grad"),
    (Region::Noise1, "noise1"),
    (Region::Noise2, "noise2"),
    (Region::RoundV, "round_v"),
    (Region::RoundX, "round_x"),
];

/// The generator's name.
fn noise_name(step: &Step) -> String {
    match step.noise {
        Noise::BoxMuller => "box-muller".into(),
        Noise::Clt { k, bits, .. } => format!("clt:{k}:{bits}"),
        Noise::Table { bits, .. } => format!("table:{bits}"),
    }
}

/// How a noise code comes from its raw fields.
fn noise_rule(step: &Step) -> String {
    let f = step.noise_fmt;
    match step.noise {
        Noise::BoxMuller => format!(
            "noise = round_nearest_even(z·2^{}) then the noise format's overflow rule, z = r·cos 2πu₂ (even i) or r·sin 2πu₂ (odd i) of the Box–Muller pair of coordinates (2⌊i/2⌋, 2⌊i/2⌋ + 1) from the two 64-bit fields of the normal region (lpmc_kernels::noise::box_muller); no integer lane computes it, so the noise columns are inputs of the RTL lane",
            f.fl
        ),
        Noise::Clt { k, bits, shift } => format!(
            "noise_raw = Σ of the coordinate's {k} consecutive {bits}-bit fields of its noise region; noise = round_nearest_even((2·noise_raw − {}) >> {shift}) then {} (the lpmc_noise_clt unit)",
            k as u64 * ((1u64 << bits) - 1),
            overflow(f.overflow, f.wl)
        ),
        Noise::Table { bits, .. } => format!(
            "noise_raw = the coordinate's {bits}-bit field of its noise region; noise = table[noise_raw] (the table of `lpmc vectors noise --gen table:{bits}`, the lpmc_noise_table unit)"
        ),
    }
}

/// The columns and rows.
#[allow(clippy::too_many_arguments)]
fn fill_table(
    t: &mut Table,
    step: &Step,
    lay: &Layout,
    coef_wl: u32,
    prec: &[i64],
    mean: &[i64],
    rows: &[Row],
) {
    let hmc = step.momentum();
    let lpf = step.variant == Variant::LpF;
    let steps = rows.last().map_or(1, |r| r.step + 1);
    let d = prec.len();
    let raw_w = match step.noise {
        Noise::Clt { k, bits, .. } => Some(bit_length(k as u128 * ((1u128 << bits) - 1))),
        Noise::Table { bits, .. } => Some(bits),
        Noise::BoxMuller => None,
    };
    let width = |r: Region| lay.region(r).width;
    type Get = fn(&Row, &[i64], &[i64]) -> BigInt;
    let mut cols: Vec<(&str, u32, bool, String, Get)> = vec![
        (
            "step",
            bit_length(steps as u128 - 1).max(1),
            false,
            "step, 0-based".into(),
            |r, _, _| int(r.step),
        ),
        (
            "i",
            bit_length(d.max(2) as u128 - 1),
            false,
            "coordinate".into(),
            |r, _, _| int(r.i as u64),
        ),
        (
            "x_in",
            step.x.wl,
            true,
            format!(
                "position code before the step, Q({}, {})",
                step.x.wl, step.x.fl
            ),
            |r, _, _| int(r.x_in),
        ),
    ];
    if hmc {
        cols.push((
            "v_in",
            step.v.wl,
            true,
            format!(
                "momentum code before the step, Q({}, {})",
                step.v.wl, step.v.fl
            ),
            |r, _, _| int(r.v_in),
        ));
    }
    cols.push((
        "prec",
        coef_wl,
        true,
        format!(
            "the coordinate's precision, a coef code with {} fraction bits",
            step.coef_fl
        ),
        |r, p, _| int(p[r.i]),
    ));
    cols.push((
        "mean",
        step.param.wl,
        true,
        format!(
            "the coordinate's mean, a param code Q({}, {})",
            step.param.wl, step.param.fl
        ),
        |r, _, m| int(m[r.i]),
    ));
    if lpf {
        cols.push((
            "rand_pre",
            lay.pre.width,
            false,
            "the random bits of Q_W before the gradient".into(),
            |r, _, _| int(r.pre),
        ));
        cols.push((
            "pos",
            step.param.wl,
            true,
            "the gradient's argument Q_W(x_in), a param code".into(),
            |r, _, _| int(r.pos),
        ));
        cols.push((
            "pos_overflow",
            1,
            false,
            "1 iff the param format's overflow rule changed pos".into(),
            |r, _, _| int(r.events.param),
        ));
    }
    cols.push((
        "rand_grad",
        width(Region::RoundGrad),
        false,
        "the random bits of Q_G".into(),
        |r, _, _| int(r.rand_grad),
    ));
    cols.push((
        "grad",
        step.grad.wl,
        true,
        format!("gradient code, Q({}, {})", step.grad.wl, step.grad.fl),
        |r, _, _| int(r.grad),
    ));
    cols.push((
        "grad_overflow",
        1,
        false,
        "1 iff the grad format's overflow rule changed the gradient".into(),
        |r, _, _| int(r.events.grad),
    ));
    if let Some(w) = raw_w {
        cols.push((
            "noise1_raw",
            w,
            false,
            "the generator's raw output of the first noise code".into(),
            |r, _, _| int(r.raw[0]),
        ));
    }
    cols.push((
        "noise1",
        step.noise_fmt.wl,
        true,
        format!(
            "the first noise code, Q({}, {})",
            step.noise_fmt.wl, step.noise_fmt.fl
        ),
        |r, _, _| int(r.noise[0]),
    ));
    if hmc {
        if let Some(w) = raw_w {
            cols.push((
                "noise2_raw",
                w,
                false,
                "the generator's raw output of the second noise code".into(),
                |r, _, _| int(r.raw[1]),
            ));
        }
        cols.push((
            "noise2",
            step.noise_fmt.wl,
            true,
            "the second noise code".into(),
            |r, _, _| int(r.noise[1]),
        ));
    }
    cols.push((
        "noise_overflows",
        if hmc { 2 } else { 1 },
        false,
        "how many of the coordinate's noise codes the noise format's overflow rule changed".into(),
        |r, _, _| int(r.events.noise),
    ));
    if hmc {
        cols.push((
            "accum_v",
            step.accum.wl,
            true,
            "the momentum's wide sum after the accumulator's overflow rule".into(),
            |r, _, _| int(r.accum[1]),
        ));
    }
    cols.push((
        "accum_x",
        step.accum.wl,
        true,
        format!(
            "the position's wide sum after the accumulator's overflow rule, Q({}, {})",
            step.accum.wl, step.accum.fl
        ),
        |r, _, _| int(r.accum[0]),
    ));
    cols.push((
        "accum_overflows",
        if hmc { 2 } else { 1 },
        false,
        "how many of the coordinate's sums the accumulator's overflow rule changed".into(),
        |r, _, _| int(r.events.accum),
    ));
    if hmc && !lpf {
        cols.push((
            "rand_v",
            width(Region::RoundV),
            false,
            "the random bits of Q_V".into(),
            |r, _, _| int(r.rand_v),
        ));
    }
    if hmc {
        cols.push((
            "v_out",
            step.v.wl,
            true,
            "momentum code after the step".into(),
            |r, _, _| int(r.v_out),
        ));
        if !lpf {
            cols.push((
                "v_overflow",
                1,
                false,
                "1 iff Q_V's overflow rule changed v_out".into(),
                |r, _, _| int(r.events.momentum),
            ));
        }
    }
    if !lpf {
        cols.push((
            "rand_x",
            width(Region::RoundX),
            false,
            "the random bits of Q_W".into(),
            |r, _, _| int(r.rand_x),
        ));
    }
    cols.push((
        "x_out",
        step.x.wl,
        true,
        "position code after the step (the k-th sample of chain 0)".into(),
        |r, _, _| int(r.x_out),
    ));
    if !lpf {
        cols.push((
            "x_overflow",
            1,
            false,
            "1 iff Q_W's overflow rule changed x_out".into(),
            |r, _, _| int(r.events.param),
        ));
    }
    for (name, w, signed, meaning, _) in &cols {
        t.column(name, *w, *signed, meaning.clone());
    }
    for r in rows {
        t.push(cols.iter().map(|c| (c.4)(r, prec, mean)).collect());
    }
}

/// The lane and testbench of an `lp-l` set.
fn rtl(step: &Step, d: usize, coef_wl: u32, coef_fl: u32) -> Rtl {
    let wrap = |f: Fmt| (f.overflow == Overflow::Wrap) as u8;
    let mut p = json!({
        "D": d,
        "XWl": step.x.wl, "XFl": step.x.fl,
        "GWl": step.grad.wl, "GFl": step.grad.fl,
        "NWl": step.noise_fmt.wl, "NFl": step.noise_fmt.fl,
        "CWl": coef_wl, "CFl": coef_fl,
        "AWl": step.accum.wl, "AFl": step.accum.fl,
        "Mode": rtl_mode(step.rounding), "R": rtl_r(step.rounding),
        "WrapX": wrap(step.x), "WrapG": wrap(step.grad), "WrapA": wrap(step.accum),
    });
    let names: &[&str] = if step.momentum() {
        p["VWl"] = json!(step.v.wl);
        p["VFl"] = json!(step.v.fl);
        p["WrapV"] = json!(wrap(step.v));
        &["C0", "C1", "C2", "C3", "C4", "C5", "C6"]
    } else {
        &["C0", "C1"]
    };
    for (name, code) in names.iter().zip(step.int_coefs) {
        p[*name] = json!(verilog_const(code, coef_wl));
    }
    let (module, testbench) = if step.momentum() {
        ("lpmc_sghmc_lane", "tb_sghmc_step")
    } else {
        ("lpmc_sgld_lane", "tb_sgld_step")
    };
    Rtl {
        module: module.into(),
        testbench: testbench.into(),
        parameters: serde_json::from_value(p).expect("object"),
    }
}
