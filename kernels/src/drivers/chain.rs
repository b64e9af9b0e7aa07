//! One chain, many coordinates: the stages run over blocks of [`B`] coordinates, in the
//! narrowest integer lanes [`Step::lane_width`] allows (`f64` on the float datapath), with the
//! random fields unpacked in bulk and the Box–Muller pairs of a block computed in one
//! vectorizable loop. Same words, codes and events as [`super::reference`]; steps that need
//! `i128` lanes or the momentum rescaling run the reference.

use super::{float, load, reference, store, Consts, Draws, Plan, State, Work};
use crate::bits::WordSource;
use crate::lane::Lane;
use crate::layout::{Fields, Layout, Region};
use crate::noise::box_muller_pair;
use crate::rules::{Events, Gradient, Noise, Step, Variant};
use crate::Platform;

/// Coordinates per block.
pub const B: usize = 256;

/// Fields of a CLT region unpacked at once.
const CLT_FIELDS: usize = 1024;

/// `steps` steps of one chain on `platform` (see the [module docs](self)); the contract of
/// [`reference::run`], with `scale` the chain's momentum scale. More `words` than one step
/// needs let a call draw several steps' words at once.
///
/// # Panics
/// As [`reference::run`].
pub fn run(
    step: &Step,
    st: State,
    scale: &mut f64,
    steps: u64,
    bits: &mut dyn WordSource,
    words: &mut [u64],
    platform: Platform,
) -> Events {
    st.check(step);
    let rescale = step.rescale.is_some() && float(step) && step.momentum() && !step.f64_state();
    if platform == Platform::Portable || rescale {
        return reference::run(step, st, scale, steps, bits, words);
    }
    match step.lane_width() {
        32 => platform.chain_steps::<i32>(step, st, steps, bits, words),
        64 => platform.chain_steps::<i64>(step, st, steps, bits, words),
        _ => reference::run(step, st, scale, steps, bits, words),
    }
}

/// A block's unpacking buffers, set up once per call (zeroing them per block cost more than
/// the unpacking).
struct Unpack {
    /// A CLT region's uniforms.
    clt: [u64; CLT_FIELDS],
    /// A normal region's words.
    words: [u64; B + 2],
    /// The block's Box–Muller cosines and sines.
    zc: [f64; B / 2 + 1],
    zs: [f64; B / 2 + 1],
}

impl Unpack {
    fn new() -> Self {
        Unpack {
            clt: [0; CLT_FIELDS],
            words: [0; B + 2],
            zc: [0.0; B / 2 + 1],
            zs: [0.0; B / 2 + 1],
        }
    }
}

/// The elements `i0..i0 + n` of a block gathered from a step's words.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn gather(
    lay: &Layout,
    step: &Step,
    pre: &[u64],
    main: &[u64],
    i0: usize,
    n: usize,
    d: &mut Draws<B>,
    buf: &mut Unpack,
) {
    if !pre.is_empty() {
        lay.pre.unpack(pre, i0, &mut d.pre[..n]);
    }
    let r = |x: Region| lay.region(x);
    r(Region::RoundGrad).unpack(main, i0, &mut d.ug[..n]);
    r(Region::RoundV).unpack(main, i0, &mut d.uv[..n]);
    r(Region::RoundX).unpack(main, i0, &mut d.ux[..n]);
    r(Region::QvcX0).unpack(main, i0, &mut d.q[0][..n]);
    r(Region::QvcX1).unpack(main, i0, &mut d.q[1][..n]);
    r(Region::QvcV0).unpack(main, i0, &mut d.q[2][..n]);
    r(Region::QvcV1).unpack(main, i0, &mut d.q[3][..n]);
    normals(r(Region::GradNoise), main, i0, &mut d.zg[..n], buf);
    normals(r(Region::Normal1), main, i0, &mut d.z1[..n], buf);
    normals(r(Region::Normal2), main, i0, &mut d.z2[..n], buf);
    noise(r(Region::Noise1), step, main, i0, &mut d.s1[..n], buf);
    noise(r(Region::Noise2), step, main, i0, &mut d.s2[..n], buf);
}

/// Normals `i0..i0 + out.len()` of a normal region (`i0` even): the block's Box–Muller pairs
/// in one loop, then placed.
#[inline(always)]
fn normals(f: &Fields, main: &[u64], i0: usize, out: &mut [f64], buf: &mut Unpack) {
    if f.width == 0 {
        return;
    }
    let n = out.len();
    let pairs = n.div_ceil(2);
    let Unpack {
        words: w, zc, zs, ..
    } = buf;
    f.unpack(main, i0, &mut w[..2 * pairs]);
    for j in 0..pairs {
        (zc[j], zs[j]) = box_muller_pair(w[2 * j], w[2 * j + 1]);
    }
    for (j, o) in out.iter_mut().enumerate() {
        *o = if j % 2 == 0 { zc[j / 2] } else { zs[j / 2] };
    }
}

/// Raw noise of codes `i0..i0 + out.len()`: CLT sums of each code's `K` uniforms, or table
/// indices.
#[inline(always)]
fn noise(f: &Fields, step: &Step, main: &[u64], i0: usize, out: &mut [u64], buf: &mut Unpack) {
    if f.width == 0 {
        return;
    }
    match step.noise {
        Noise::Clt { k, .. } => {
            let k = k as usize;
            let per = (CLT_FIELDS / k).max(1);
            for (c, o) in out.chunks_mut(per).enumerate() {
                let first = (i0 + c * per) * k;
                let u = &mut buf.clt[..o.len() * k];
                f.unpack(main, first, u);
                for (s, us) in o.iter_mut().zip(u.chunks_exact(k)) {
                    *s = us.iter().sum();
                }
            }
        }
        _ => f.unpack(main, i0, out),
    }
}

/// The steps in lanes `L` (see [`run`]); inlined into each platform's build.
#[inline(always)]
pub(crate) fn steps<L: Lane>(
    step: &Step,
    mut st: State,
    steps: u64,
    bits: &mut dyn WordSource,
    words: &mut [u64],
) -> Events {
    let d = st.len();
    let plan = Plan::<L>::new(step, d);
    let lay = plan.layout;
    let given = matches!(step.gradient, Gradient::Given(_));
    if let Gradient::Given(g) = step.gradient {
        assert!(
            steps <= 1 && g.len() == d,
            "chain: a given gradient is one step of d values"
        );
    }
    let with_pre = step.variant == Variant::LpF && !given;
    let np = if with_pre { lay.pre_words } else { 0 };
    let wps = np + lay.main_words;
    assert!(words.len() >= wps, "chain: scratch too short");
    let batch = (words.len() / wps.max(1)).max(1);
    let mut ev = Events::default();
    let mut draws = Draws::<B>::new();
    let mut consts = Consts::<L, B>::new();
    let mut work = Work::<L, B>::new();
    let mut buf = Unpack::new();
    // One block's state, in f64 (float datapath) or lanes.
    let (mut fx, mut fv) = ([0.0f64; B], [0.0f64; B]);
    let (mut cx, mut cv) = ([0i64; B], [0i64; B]);
    let (mut lx, mut lv) = ([L::default(); B], [L::default(); B]);
    let fl = (step.x.fl, step.v.fl);
    let mut left = steps;
    while left > 0 {
        let kk = (batch as u64).min(left) as usize;
        bits.fill(&mut words[..kk * wps]);
        for t in 0..kk {
            let (pre, main) = words[t * wps..(t + 1) * wps].split_at(np);
            for i0 in (0..d).step_by(B) {
                let n = (d - i0).min(B);
                gather(&lay, step, pre, main, i0, n, &mut draws, &mut buf);
                consts.fill(&step.gradient, i0, n);
                if float(step) {
                    let (x, v) = (&mut fx, &mut fv);
                    match &mut st {
                        State::F64 { x: sx, v: sv } => {
                            x[..n].copy_from_slice(&sx[i0..i0 + n]);
                            if let Some(sv) = sv {
                                v[..n].copy_from_slice(&sv[i0..i0 + n]);
                            }
                            plan.batch_float(
                                n, x, v, &consts, &draws, &mut work, &mut cx, &mut cv, 1.0, &mut ev,
                            );
                            sx[i0..i0 + n].copy_from_slice(&x[..n]);
                            if let Some(sv) = sv {
                                sv[i0..i0 + n].copy_from_slice(&v[..n]);
                            }
                        }
                        State::Codes { x: sx, v: sv } => {
                            load(sx, i0, fl.0, &mut x[..n]);
                            if let Some(sv) = sv.as_ref() {
                                load(sv, i0, fl.1, &mut v[..n]);
                            }
                            plan.batch_float(
                                n, x, v, &consts, &draws, &mut work, &mut cx, &mut cv, 1.0, &mut ev,
                            );
                            store(sx, i0, &cx[..n]);
                            if let Some(sv) = sv {
                                store(sv, i0, &cv[..n]);
                            }
                        }
                    }
                } else {
                    let State::Codes { x: sx, v: sv } = &mut st else {
                        unreachable!("checked: integer datapath states are codes")
                    };
                    let (x, v) = (&mut lx, &mut lv);
                    load(sx, i0, 0, &mut x[..n]);
                    if let Some(sv) = sv.as_ref() {
                        load(sv, i0, 0, &mut v[..n]);
                    }
                    plan.batch_int(n, x, v, &consts, &draws, &mut work, &mut ev);
                    store(sx, i0, &x[..n]);
                    if let Some(sv) = sv {
                        store(sv, i0, &v[..n]);
                    }
                }
            }
        }
        left -= kk as u64;
    }
    ev
}
