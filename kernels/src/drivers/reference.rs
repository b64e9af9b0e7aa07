//! The scalar reference: one step at a time, one coordinate at a time, `i128` lanes on the
//! integer datapath (where every sum the formats allow is exact), every random field read by
//! [`Fields::get`] and every normal by its own Box–Muller pair. The only driver that also
//! does the momentum rescaling (a maximum over all coordinates per step).

use super::{float, load, store, Consts, Draws, Plan, State, Work};
use crate::bits::WordSource;
use crate::layout::{Fields, Layout, Region};
use crate::noise::box_muller_pair;
use crate::rules::{Events, Gradient, Noise, Step, Variant};

/// One coordinate of one step of the integer datapath as the reference computed it, handed
/// to an [`Observer`] (golden vectors record it): codes are in their formats' units, the
/// accumulators in the `accum` format's, before the final rounding.
#[derive(Clone, Copy, Debug)]
pub struct Coordinate<'a> {
    /// Step index within the call (0-based).
    pub step: u64,
    /// Coordinate index.
    pub i: usize,
    /// The step's words: the `lp-f` pre part (empty otherwise) and the main part.
    pub words: (&'a [u64], &'a [u64]),
    /// Position (and momentum) codes before the step.
    pub x_in: i128,
    /// Momentum code before the step (0 for SGLD).
    pub v_in: i128,
    /// The random fields: `Q_W` pre-rounding, `Q_G`, `Q_V`, `Q_W`, and the raw noise of both
    /// noise regions (the sum of a CLT code's uniforms, or a table index).
    pub fields: CoordinateFields,
    /// The gradient's argument (`lp-f`: `Q_W(x)` in `param` codes; otherwise `x_in`).
    pub pos: i128,
    /// The gradient code (`grad` format).
    pub grad: i128,
    /// The noise codes (`noise` format; the second one only for SGHMC).
    pub noise: [i128; 2],
    /// The wide accumulators before rounding: `[x, v]` (`v` only for SGHMC).
    pub accum: [i128; 2],
    /// Position code after the step.
    pub x_out: i128,
    /// Momentum code after the step (0 for SGLD).
    pub v_out: i128,
    /// The overflow events of this coordinate's step, per quantity (SGHMC's accumulator
    /// and noise counts cover both of its sums and codes).
    pub events: Events,
}

/// The random fields of a [`Coordinate`].
#[derive(Clone, Copy, Debug, Default)]
pub struct CoordinateFields {
    /// `lp-f` pre-rounding bits.
    pub pre: u64,
    /// `Q_G` bits.
    pub grad: u64,
    /// `Q_V` bits.
    pub v: u64,
    /// `Q_W` bits.
    pub x: u64,
    /// Raw noise of the two noise regions.
    pub noise: [u64; 2],
}

/// Sees every coordinate of every integer-datapath step [`run_observed`] computes. The default
/// method does nothing, so [`run`] (observed by [`Quiet`]) compiles to the plain loop.
pub trait Observer {
    /// Called once per coordinate per step, after the coordinate's update.
    #[inline(always)]
    fn coordinate(&mut self, _c: &Coordinate) {}
}

/// The observer that records nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Quiet;

impl Observer for Quiet {}

/// Element `i`'s random inputs from a step's words (`pre`: the pre part, `main`: the main
/// part) into `d` (a batch of one).
pub(crate) fn gather_one(
    layout: &Layout,
    step: &Step,
    pre: &[u64],
    main: &[u64],
    i: usize,
    d: &mut Draws<1>,
) {
    d.pre[0] = if pre.is_empty() {
        0
    } else {
        layout.pre.get(pre, i)
    };
    let field = |r: Region| layout.region(r).get(main, i);
    d.ug[0] = field(Region::RoundGrad);
    d.uv[0] = field(Region::RoundV);
    d.ux[0] = field(Region::RoundX);
    d.q[0][0] = field(Region::QvcX0);
    d.q[1][0] = field(Region::QvcX1);
    d.q[2][0] = field(Region::QvcV0);
    d.q[3][0] = field(Region::QvcV1);
    let normal = |f: &Fields| -> f64 {
        if f.width == 0 {
            return 0.0;
        }
        let p = i / 2;
        let (c, s) = box_muller_pair(f.get(main, 2 * p), f.get(main, 2 * p + 1));
        if i.is_multiple_of(2) {
            c
        } else {
            s
        }
    };
    d.zg[0] = normal(layout.region(Region::GradNoise));
    d.z1[0] = normal(layout.region(Region::Normal1));
    d.z2[0] = normal(layout.region(Region::Normal2));
    let raw = |r: Region| -> u64 {
        let f = layout.region(r);
        match step.noise {
            Noise::Clt { k, .. } => (0..k as usize)
                .map(|m| f.get(main, i * k as usize + m))
                .sum(),
            _ => f.get(main, i),
        }
    };
    d.s1[0] = raw(Region::Noise1);
    d.s2[0] = raw(Region::Noise2);
}

/// `steps` steps of one chain by the reference (see the [module docs](self)); `scale` is the
/// chain's momentum scale (1 unless the step rescales), `words` scratch of at least
/// `step.layout(d).words()` words. With a [`Gradient::Given`] gradient, at most one step, and
/// for `lp-f` the caller has drawn the pre part ([`pre_round`]) and computed the gradient at
/// its result. Returns the overflow events.
///
/// # Panics
/// If the state does not match the step, `words` is too short, or a given gradient is run
/// for more than one step or has the wrong length.
pub fn run(
    step: &Step,
    st: State,
    scale: &mut f64,
    steps: u64,
    bits: &mut dyn WordSource,
    words: &mut [u64],
) -> Events {
    run_observed(step, st, scale, steps, bits, words, &mut Quiet)
}

/// [`run`], handing every coordinate of every integer-datapath step to `obs` (float-datapath
/// steps are not observed).
pub fn run_observed<O: Observer + ?Sized>(
    step: &Step,
    mut st: State,
    scale: &mut f64,
    steps: u64,
    bits: &mut dyn WordSource,
    words: &mut [u64],
    obs: &mut O,
) -> Events {
    st.check(step);
    let d = st.len();
    let plan = Plan::<i128>::new(step, d);
    let lay = plan.layout;
    let given = matches!(step.gradient, Gradient::Given(_));
    if let Gradient::Given(g) = step.gradient {
        assert!(
            steps <= 1 && g.len() == d,
            "reference: a given gradient is one step of d values"
        );
    }
    let with_pre = step.variant == Variant::LpF && !given;
    let (np, nm) = (if with_pre { lay.pre_words } else { 0 }, lay.main_words);
    assert!(words.len() >= np + nm, "reference: scratch too short");
    let mut ev = Events::default();
    let mut draws = Draws::<1>::new();
    let mut consts = Consts::<i128, 1>::new();
    let mut work = Work::<i128, 1>::new();
    let rescale = step
        .rescale
        .filter(|_| float(step) && step.momentum() && !step.f64_state());
    for t in 0..steps {
        bits.fill(&mut words[..np + nm]);
        let (pre, main) = words[..np + nm].split_at(np);
        // Momentum rescaling: the new scale from the noise-free means first.
        let new_scale = match rescale {
            None => 1.0,
            Some(r) => {
                let mut top = 0.0f64;
                for i in 0..d {
                    gather_one(&lay, step, pre, main, i, &mut draws);
                    consts.fill(&step.gradient, i, 1);
                    let (mut x, mut v) = ([0.0f64; 1], [0.0f64; 1]);
                    load_float(&st, i, *scale, step, &mut x, &mut v);
                    let mut m = [0.0];
                    plan.momentum_means(1, &x, &v, &consts, &draws, &mut work, &mut m);
                    top = top.max(m[0].abs());
                }
                let s = (top / (r.headroom * r.v_max)).min(1.0);
                if s > 0.0 && s.is_finite() {
                    s
                } else {
                    1.0
                }
            }
        };
        for i in 0..d {
            gather_one(&lay, step, pre, main, i, &mut draws);
            consts.fill(&step.gradient, i, 1);
            if float(step) {
                let (mut x, mut v) = ([0.0f64; 1], [0.0f64; 1]);
                load_float(&st, i, *scale, step, &mut x, &mut v);
                let (mut cx, mut cv) = ([0i64; 1], [0i64; 1]);
                plan.batch_float(
                    1, &mut x, &mut v, &consts, &draws, &mut work, &mut cx, &mut cv, new_scale,
                    &mut ev,
                );
                match &mut st {
                    State::F64 { x: sx, v: sv } => {
                        sx[i] = x[0];
                        if let Some(sv) = sv {
                            sv[i] = v[0];
                        }
                    }
                    State::Codes { x: sx, v: sv } => {
                        sx.set(i, cx[0]);
                        if let Some(sv) = sv {
                            sv.set(i, cv[0]);
                        }
                    }
                }
            } else {
                let State::Codes { x: sx, v: sv } = &mut st else {
                    unreachable!("checked: integer datapath states are codes")
                };
                let (mut x, mut v) = ([0i128; 1], [0i128; 1]);
                load(sx, i, 0, &mut x);
                if let Some(sv) = sv.as_ref() {
                    load(sv, i, 0, &mut v);
                }
                let (x_in, v_in) = (x[0], v[0]);
                let before = ev;
                plan.batch_int(1, &mut x, &mut v, &consts, &draws, &mut work, &mut ev);
                let lpf = step.variant == Variant::LpF && !given;
                obs.coordinate(&Coordinate {
                    step: t,
                    i,
                    words: (pre, main),
                    x_in,
                    v_in,
                    fields: CoordinateFields {
                        pre: draws.pre[0],
                        grad: draws.ug[0],
                        v: draws.uv[0],
                        x: draws.ux[0],
                        noise: [draws.s1[0], draws.s2[0]],
                    },
                    pos: if lpf { work.pos[0] } else { x_in },
                    grad: work.g[0],
                    noise: [work.n1[0], work.n2[0]],
                    accum: [work.ax[0], work.av[0]],
                    x_out: x[0],
                    v_out: v[0],
                    events: ev - before,
                });
                store(sx, i, &x);
                if let Some(sv) = sv {
                    store(sv, i, &v);
                }
            }
        }
        *scale = new_scale;
    }
    ev
}

/// Coordinate `i` of a float-datapath state as values: the `f64` state, or the codes'
/// values (the momentum times the chain's scale).
fn load_float(st: &State, i: usize, scale: f64, step: &Step, x: &mut [f64; 1], v: &mut [f64; 1]) {
    match st {
        State::F64 { x: sx, v: sv } => {
            x[0] = sx[i];
            v[0] = sv.as_ref().map_or(0.0, |sv| sv[i]);
        }
        State::Codes { x: sx, v: sv } => {
            x[0] = sx.get(i) as f64 * step.x.delta();
            v[0] = sv
                .as_ref()
                .map_or(0.0, |sv| scale * (sv.get(i) as f64 * step.v.delta()));
        }
    }
}

/// The pre part of an `lp-f` step with a [`Gradient::Given`] gradient: draws the pre part's
/// words and writes the values of `Q_W(x)` (the gradient's argument) to `pos`; returns the
/// events. The caller then computes the gradient at `pos` and runs the main part with it.
///
/// # Panics
/// If the step is not `lp-f`, or the lengths disagree.
pub fn pre_round(
    step: &Step,
    st: &State,
    bits: &mut dyn WordSource,
    words: &mut [u64],
    pos: &mut [f64],
) -> Events {
    assert_eq!(
        step.variant,
        Variant::LpF,
        "pre_round: only lp-f rounds before the gradient"
    );
    let d = st.len();
    assert_eq!(pos.len(), d, "pre_round: one position per coordinate");
    let lay = step.layout(d);
    let words = &mut words[..lay.pre_words];
    bits.fill(words);
    let mut ev = Events::default();
    for (i, p) in pos.iter_mut().enumerate() {
        let u = lay.pre.get(words, i);
        let (c, e) = match st {
            State::F64 { x, .. } => {
                crate::rules::stages::round_value(x[i], step.param, step.rounding, u)
            }
            State::Codes { x, .. } => {
                let q = crate::portable::round_code(
                    x.get(i),
                    step.accum.fl as i32 - step.param.fl as i32,
                    step.rounding,
                    u,
                );
                step.param.overflow.apply(q, step.param.wl)
            }
        };
        *p = c as f64 * step.param.delta();
        ev.param += e as u64;
    }
    ev
}
