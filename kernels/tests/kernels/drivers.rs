//! Every platform's chain and lockstep drivers against the scalar reference, on steps built
//! directly (random formats, coefficients, constants, containers and odd dimensions).

use lpmc_kernels::drivers::lockstep::{self, Keep, Kept};
use lpmc_kernels::drivers::{chain, reference, State};
use lpmc_kernels::lane::Fmt;
use lpmc_kernels::rules::{Datapath, Dynamics, Gradient, Mixture, Noise, Step, Variant};
use lpmc_kernels::{Code, Overflow, Platform, Rounding, WordSource, Xoshiro};

struct G(Xoshiro);

impl G {
    fn below(&mut self, n: u64) -> u64 {
        self.0.next_word() % n
    }
    fn of<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
    /// A code of `wl` bits.
    fn code(&mut self, wl: u32) -> i64 {
        let w = self.0.next_word() as i64;
        (w << (64 - wl)) >> (64 - wl)
    }
}

const ROUNDINGS: [Rounding; 8] = [
    Rounding::Floor,
    Rounding::TowardZero,
    Rounding::NearestEven,
    Rounding::NearestAway,
    Rounding::Stochastic { bits: 8 },
    Rounding::Stochastic { bits: 0 },
    Rounding::StochasticExact,
    Rounding::StochasticCorrected { bits: 3 },
];

static TABLE: [i64; 16] = [-9, -6, -4, -3, -2, -1, -1, 0, 0, 1, 1, 2, 3, 4, 6, 9];
static LNW: [f64; 2] = [-std::f64::consts::LN_2, -std::f64::consts::LN_2];
static MEANS: [f64; 2] = [-1.0, 1.0];
static VARS: [f64; 2] = [0.25, 0.25];
static LNV: [f64; 2] = [-1.3862943611198906, -1.3862943611198906];

/// A random step; its gradient constants live in `consts` (prec codes, mean codes, prec
/// values, mean values).
fn step<'a>(g: &mut G, consts: &'a (Vec<i64>, Vec<i64>, Vec<f64>, Vec<f64>), d: usize) -> Step<'a> {
    let dynamics = g.of(&[Dynamics::Sgld, Dynamics::Sghmc]);
    let mut variant = g.of(&[
        Variant::Fp,
        Variant::LpF,
        Variant::LpL,
        Variant::VcL,
        Variant::VcJoint,
    ]);
    if dynamics == Dynamics::Sgld && variant == Variant::VcJoint {
        variant = Variant::VcL;
    }
    let datapath = g.of(&[Datapath::Float, Datapath::Integer]);
    let overflow = g.of(&[Overflow::Saturate, Overflow::Wrap]);
    let f = |wl, fl| Fmt { wl, fl, overflow };
    let (wl, fl) = g.of(&[(8, 4), (5, 2), (12, 6), (16, 10), (24, 12), (32, 20)]);
    let param = f(wl, fl);
    let accum = g.of(&[f(24, 16), f(40, 24), f(64, 44), f(16, 10), f(60, 40)]);
    let x = if variant == Variant::LpF && datapath == Datapath::Integer {
        accum
    } else {
        param
    };
    let noise_fmt = g.of(&[f(16, 12), f(8, 5)]);
    let coef_fl = g.of(&[12u32, 8, 18]);
    let mut int_coefs = [0i64; 7];
    for c in &mut int_coefs {
        *c = g.code(coef_fl + 1);
    }
    let gradient = match g.below(3) {
        0 if datapath == Datapath::Integer && variant != Variant::Fp => Gradient::IntGauss {
            prec: &consts.0[..if g.below(2) == 0 { 1 } else { d }],
            mean: &consts.1[..d],
            prec_fl: coef_fl,
        },
        1 if d == 1 => Gradient::Mixture(Mixture {
            ln_weights: &LNW,
            means: &MEANS,
            vars: &VARS,
            ln_vars: &LNV,
        }),
        _ => Gradient::Gauss {
            prec: &consts.2[..d],
            mean: &consts.3[..if g.below(2) == 0 { 1 } else { d }],
        },
    };
    let grad_noise = if gradient.is_f64() {
        g.of(&[0.0, 0.4])
    } else {
        0.0
    };
    Step {
        dynamics,
        variant,
        datapath,
        rounding: g.of(&ROUNDINGS),
        x,
        v: x,
        param,
        grad: f(wl.max(8), fl),
        accum,
        noise_fmt,
        coef_fl,
        int_coefs,
        coefs: [0.9, -0.05, 0.1, -0.004, 0.3, 0.05, 0.02],
        vc_var: [0.01, 0.3, 0.02],
        gradient,
        grad_noise,
        noise: g.of(&[
            Noise::Clt {
                k: 4,
                bits: 8,
                shift: 4,
            },
            Noise::Clt {
                k: 3,
                bits: 5,
                shift: -1,
            },
            Noise::Table {
                bits: 4,
                table: &TABLE,
            },
            Noise::BoxMuller,
        ]),
        rescale: None,
    }
}

/// Owned state of `n` values of one step: f64 or codes in the container `C`.
#[derive(Clone, Debug, PartialEq)]
enum Owned<C> {
    F(Vec<f64>, Vec<f64>),
    C(Vec<C>, Vec<C>),
}

impl<C: Code> Owned<C> {
    fn new(g: &mut G, s: &Step, n: usize) -> Self {
        if s.f64_state() {
            let mut v = || {
                (0..n)
                    .map(|_| (g.below(1000) as f64 - 500.0) / 200.0)
                    .collect()
            };
            Owned::F(v(), v())
        } else {
            let mut c = |f: Fmt| {
                (0..n)
                    .map(|_| C::from_i64(g.code(f.wl.min(C::BITS))))
                    .collect()
            };
            Owned::C(c(s.x), c(s.v))
        }
    }

    fn state(&mut self, s: &Step) -> State<'_> {
        let hmc = s.momentum();
        match self {
            Owned::F(x, v) => State::F64 {
                x,
                v: hmc.then_some(&mut v[..]),
            },
            Owned::C(x, v) => State::Codes {
                x: C::slice_mut(x),
                v: hmc.then(|| C::slice_mut(v)),
            },
        }
    }
}

fn consts(g: &mut G, d: usize, pos: Fmt, coef_fl: u32) -> (Vec<i64>, Vec<i64>, Vec<f64>, Vec<f64>) {
    let _ = coef_fl;
    (
        (0..d).map(|_| g.code(7)).collect(),
        (0..d).map(|_| g.code(pos.wl.min(6))).collect(),
        (0..d).map(|_| 0.25 + g.below(100) as f64 / 25.0).collect(),
        (0..d).map(|_| g.below(100) as f64 / 50.0 - 1.0).collect(),
    )
}

fn check_chain<C: Code>(g: &mut G, d: usize, case: u64) -> Option<u32> {
    let cs = consts(
        g,
        d,
        Fmt {
            wl: 8,
            fl: 4,
            overflow: Overflow::Saturate,
        },
        12,
    );
    let s = step(g, &cs, d);
    if !s.f64_state() && s.x.wl > C::BITS {
        return None;
    }
    let st0 = Owned::<C>::new(g, &s, d);
    let steps = g.of(&[1u64, 3]);
    let mut want = st0.clone();
    let mut bits_ref = Xoshiro::new(case, 0);
    let mut words = vec![0u64; s.layout(d).words().max(64) * 3];
    let ev_ref = reference::run(
        &s,
        want.state(&s),
        &mut 1.0,
        steps,
        &mut bits_ref,
        &mut words,
    );
    for p in Platform::all() {
        let mut got = st0.clone();
        let mut bits = Xoshiro::new(case, 0);
        let ev = chain::run(&s, got.state(&s), &mut 1.0, steps, &mut bits, &mut words, p);
        assert_eq!(
            (&got, ev),
            (&want, ev_ref),
            "case {case} on {}: {s:?}",
            p.name()
        );
        assert_eq!(
            bits,
            bits_ref,
            "case {case} on {}: stream position",
            p.name()
        );
    }
    Some(s.lane_width())
}

/// The chain driver on every platform equals the reference: every lane width, container and
/// block boundary (d around 256).
#[test]
fn chain_driver_every_platform() {
    let mut g = G(Xoshiro::new(77, 0));
    let mut widths = [0; 3];
    let mut case = 0;
    for _ in 0..120 {
        let d = g.of(&[1usize, 2, 7, 255, 256, 257, 600]);
        for w in [
            check_chain::<i8>(&mut g, d, case),
            check_chain::<i16>(&mut g, d, case + 1),
            check_chain::<i32>(&mut g, d, case + 2),
            check_chain::<i64>(&mut g, d, case + 3),
        ]
        .into_iter()
        .flatten()
        {
            widths[(w / 64) as usize] += 1;
        }
        case += 4;
    }
    assert!(widths.iter().all(|&w| w >= 5), "lane widths {widths:?}");
}

/// The lockstep driver on every platform equals each chain alone by the reference, with
/// kept sums, for 70 chains (one full group and a partial one).
#[test]
#[allow(clippy::needless_range_loop)] // chain j indexes the state, the streams and the sums
fn lockstep_driver_every_platform() {
    let mut g = G(Xoshiro::new(78, 0));
    let mut cases = 0;
    for case in 0..80u64 {
        let d = g.of(&[1usize, 2, 5, 32]);
        let cs = consts(
            &mut g,
            d,
            Fmt {
                wl: 8,
                fl: 4,
                overflow: Overflow::Saturate,
            },
            12,
        );
        let s = step(&mut g, &cs, d);
        if !lockstep::takes(&s, d) || (!s.f64_state() && s.x.wl > 32) {
            continue;
        }
        let m = 70;
        let steps = 5;
        let keep = Keep { first: 1, every: 2 };
        let st0 = Owned::<i32>::new(&mut g, &s, m * d);
        let c0: Vec<i64> = (0..m * d).map(|k| (k % 3) as i64).collect();
        let codes = !s.f64_state() && keep.count(steps) <= lockstep::max_kept(s.x.wl);
        // Reference: chain by chain.
        let mut want = st0.clone();
        let (mut s1, mut s2) = (vec![0i64; m * d], vec![0i64; m * d]);
        let mut bits_ref: Vec<Xoshiro> = (0..m).map(|j| Xoshiro::new(case, j as u64)).collect();
        let mut words = vec![0u64; s.layout(d).words().max(1)];
        let mut ev_ref = lpmc_kernels::rules::Events::default();
        for j in 0..m {
            let r = j * d..(j + 1) * d;
            for t in 1..=steps {
                let st = match &mut want {
                    Owned::F(x, v) => State::F64 {
                        x: &mut x[r.clone()],
                        v: s.momentum().then(|| &mut v[r.clone()]),
                    },
                    Owned::C(x, v) => State::Codes {
                        x: i32::slice_mut(&mut x[r.clone()]),
                        v: s.momentum().then(|| i32::slice_mut(&mut v[r.clone()])),
                    },
                };
                ev_ref += reference::run(&s, st, &mut 1.0, 1, &mut bits_ref[j], &mut words);
                if let (true, true, Owned::C(x, _)) = (keep.kept(t), codes, &want) {
                    for i in r.clone() {
                        let e = x[i] as i64 - c0[i];
                        s1[i] += e;
                        s2[i] += e * e;
                    }
                }
            }
        }
        for p in Platform::all() {
            let mut got = st0.clone();
            let mut bits: Vec<Xoshiro> = (0..m).map(|j| Xoshiro::new(case, j as u64)).collect();
            let (mut g1, mut g2) = (vec![0i64; m * d], vec![0i64; m * d]);
            let kept = codes.then(|| Kept::Codes {
                c0: &c0,
                s1: &mut g1,
                s2: &mut g2,
            });
            let mut scratch = vec![0u64; lockstep::scratch_words(&s, d)];
            let mut b = &mut bits[..];
            let ev = lockstep::run(
                &s,
                got.state(&s),
                steps,
                &mut b,
                keep,
                kept,
                &mut scratch,
                p,
            );
            assert_eq!(
                (&got, ev),
                (&want, ev_ref),
                "case {case} on {}: {s:?}",
                p.name()
            );
            assert_eq!(bits, bits_ref, "case {case} on {}: streams", p.name());
            if codes {
                assert_eq!(
                    (&g1, &g2),
                    (&s1, &s2),
                    "case {case} on {}: kept sums",
                    p.name()
                );
            }
        }
        cases += 1;
    }
    assert!(cases >= 30, "{cases} lockstep cases");
}

/// One observed coordinate: step, index, x in, x out, accumulators, Q_W bits, Q_V bits.
type Seen = (u64, usize, i128, i128, [i128; 2], u64, u64);

/// Records what the reference's observer sees.
#[derive(Default)]
struct Record(Vec<Seen>);

impl reference::Observer for Record {
    fn coordinate(&mut self, c: &reference::Coordinate) {
        self.0.push((
            c.step, c.i, c.x_in, c.x_out, c.accum, c.fields.x, c.fields.v,
        ));
        assert!(
            !c.words.1.is_empty(),
            "the step's main words are handed over"
        );
    }
}

/// The observed reference computes the same as the plain one, sees every coordinate of every
/// step in order, and on `lp-l` what it reports is consistent: each output code is the
/// reported accumulator rounded with the reported `Q_W` bits (then the overflow rule), and
/// each input is the previous step's output.
#[test]
fn reference_observer_sees_every_coordinate() {
    let mut g = G(Xoshiro::new(78, 0));
    let mut seen = 0;
    for case in 0..400u64 {
        let d = g.of(&[1usize, 3, 8]);
        let cs = consts(
            &mut g,
            d,
            Fmt {
                wl: 8,
                fl: 4,
                overflow: Overflow::Saturate,
            },
            12,
        );
        let s = step(&mut g, &cs, d);
        if s.datapath != Datapath::Integer || s.variant != Variant::LpL {
            continue;
        }
        let steps = 3;
        let st0 = Owned::<i64>::new(&mut g, &s, d);
        let mut words = vec![0u64; s.layout(d).words().max(1)];
        let (mut want, mut got) = (st0.clone(), st0.clone());
        let ev = reference::run(
            &s,
            want.state(&s),
            &mut 1.0,
            steps,
            &mut Xoshiro::new(case, 0),
            &mut words,
        );
        let mut rec = Record::default();
        let ev_obs = reference::run_observed(
            &s,
            got.state(&s),
            &mut 1.0,
            steps,
            &mut Xoshiro::new(case, 0),
            &mut words,
            &mut rec,
        );
        assert_eq!((&got, ev_obs), (&want, ev), "case {case}");
        assert_eq!(rec.0.len(), steps as usize * d);
        let Owned::C(x0, _) = &st0 else {
            unreachable!("codes")
        };
        let Owned::C(x_end, _) = &got else {
            unreachable!("codes")
        };
        let shift = s.accum.fl as i32 - s.x.fl as i32;
        for (j, &(t, i, x_in, x_out, accum, ux, _)) in rec.0.iter().enumerate() {
            assert_eq!((t, i), ((j / d) as u64, j % d));
            let before = if t == 0 {
                x0[i] as i128
            } else {
                rec.0[j - d].3
            };
            assert_eq!(x_in, before, "case {case}: input of step {t}");
            let q = lpmc_kernels::portable::round_code(accum[0] as i64, shift, s.rounding, ux);
            assert_eq!(
                x_out,
                s.x.overflow.apply(q, s.x.wl).0 as i128,
                "case {case}"
            );
            if t == steps - 1 {
                assert_eq!(x_out, x_end[i] as i128);
            }
        }
        seen += 1;
    }
    assert!(seen >= 10, "only {seen} integer lp-l steps drawn");
}
