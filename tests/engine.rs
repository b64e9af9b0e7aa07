//! Every driver and platform of the engine is bit-identical to the scalar reference: random
//! configurations of every sampler, variant, datapath, noise generator, rounding, overflow
//! rule, container and target kind, odd dimensions, one chain at a time (the chain driver) and
//! many chains side by side (the lockstep driver, partial groups included), with kept-sample
//! sums. Compared: the final states, the events per quantity and the streams' positions.

use lpmc::experiment::config::RunConfig;
use lpmc::sampler::{ChainState, Engine, Keep, Plane};
use lpmc::source::Bits;
use lpmc_kernels::drivers::lockstep::Kept;
use lpmc_kernels::{Platform, WordSource, Xoshiro};
use serde_json::{json, Value};

/// A small deterministic picker.
struct Pick(Xoshiro);

impl Pick {
    fn of<T: Clone>(&mut self, xs: &[T]) -> T {
        xs[(self.0.next_word() % xs.len() as u64) as usize].clone()
    }
    fn unit(&mut self) -> f64 {
        (self.0.next_word() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A random configuration on `d` coordinates (`target`: "gauss", "mixture" (d = 1) or
/// "full" (a 2-D full covariance, computed by the target)).
fn random_config(p: &mut Pick, d: usize, target: &str) -> Value {
    let integer = p.of(&[true, false]);
    let variant = p.of(&["fp", "lp-f", "lp-l", "vc-l", "vc-joint"]);
    let hmc = variant == "vc-joint" || p.of(&[true, false]);
    let variant = if !hmc && variant == "vc-joint" {
        "vc-l"
    } else {
        variant
    };
    let sampler = if hmc {
        json!({"sghmc": {"variant": variant, "eta": p.of(&[0.09, 0.02, 0.3]), "u": 2.0,
                         "gamma": p.of(&[3.0, 1.0]), "paper_sign": p.of(&[false, true])}})
    } else {
        json!({"sgld": {"variant": variant, "eta": p.of(&[0.01, 0.002, 0.2])}})
    };
    let (wl, fl) = p.of(&[(8, 4), (6, 3), (12, 6), (16, 9), (20, 10), (4, 1)]);
    let overflow = p.of(&["saturate", "wrap"]);
    let f = |wl: u32, fl: u32| json!({"wl": wl, "fl": fl, "overflow": overflow});
    let (awl, afl) = p.of(&[
        (24, 16),
        (32, 20),
        (16, 10),
        (48, 30),
        (64, 40),
        (40, 28),
        (64, 50),
        (60, 44),
    ]);
    let (cwl, cfl) = p.of(&[(16, 12), (12, 8), (24, 18)]);
    let (nwl, nfl) = p.of(&[(16, 12), (8, 5), (12, 8)]);
    let target = match target {
        "gauss" => {
            let mean: Vec<f64> = (0..d).map(|_| p.of(&[0.0, 0.5, -0.25, 0.3])).collect();
            let var: Vec<f64> = (0..d).map(|_| p.of(&[1.0, 0.5, 2.0, 0.7])).collect();
            json!({"gaussian": {"mean": mean, "var": var}})
        }
        "mixture" => json!("paper-mixture"),
        _ => json!({"gaussian": {"mean": [0.5, -1.0], "cov": [[1.0, 0.3], [0.3, 0.5]]}}),
    };
    json!({
        "target": target,
        "sampler": sampler,
        "formats": {"param": f(wl, fl), "momentum": f(wl, fl), "grad": f(wl.max(8), fl),
                    "accum": f(awl, afl), "coef": f(cwl, cfl), "noise": f(nwl, nfl)},
        "rounding": p.of(&["sr:8", "sr", "src:3", "sr:0", "nearest-even", "nearest-away",
                           "floor", "toward-zero", "sr:13"]),
        "datapath": if integer { "integer" } else { "float" },
        "noise_gen": p.of(&["clt:4:8", "clt:3:5", "table:8", "box-muller", "clt:2:16"]),
        "grad_noise": p.of(&[0.0, 0.0, 0.3]),
        "source": p.of(&["xoshiro", "xoshiro", "lfsr:32"]),
    })
}

/// A state at random positions within ±2 of the origin (a different one per chain).
fn random_state(p: &mut Pick, b: &lpmc::experiment::config::Built) -> ChainState {
    let x0: Vec<f64> = b.x0.iter().map(|_| 4.0 * p.unit() - 2.0).collect();
    b.sampler.init(&x0).unwrap()
}

fn next_words(bits: &mut Bits) -> [u64; 2] {
    [bits.next_word(), bits.next_word()]
}

/// The chain driver on every platform equals the reference, over many random cases.
#[test]
fn chain_driver_matches_the_reference() {
    let mut p = Pick(Xoshiro::new(11, 0));
    let mut widths = [0usize; 3];
    let mut cases = 0;
    for case in 0..160 {
        let kind = p.of(&["gauss", "gauss", "gauss", "mixture", "full"]);
        let d = match kind {
            "gauss" => p.of(&[1, 3, 37, 300, 513]),
            "mixture" => 1,
            _ => 2,
        };
        let cfg: RunConfig = serde_json::from_value(random_config(&mut p, d, kind)).unwrap();
        let Ok(b) = cfg.build() else { continue };
        let reference = Engine::new(b.sampler.as_ref(), b.target.as_ref())
            .unwrap()
            .with_platform(Platform::Portable);
        if let Some(s) = reference.step() {
            widths[match s.lane_width() {
                32 => 0,
                64 => 1,
                _ => 2,
            }] += 1;
        }
        let st0 = random_state(&mut p, &b);
        let steps = p.of(&[1u64, 2, 7]);
        let mut want = st0.clone();
        let mut bits_ref = cfg.source.stream(case, 3).unwrap();
        reference.run(&mut want, &mut bits_ref, steps);
        for pl in Platform::all().into_iter().skip(1) {
            let e = Engine::new(b.sampler.as_ref(), b.target.as_ref())
                .unwrap()
                .with_platform(pl);
            let mut got = st0.clone();
            let mut bits = cfg.source.stream(case, 3).unwrap();
            e.run(&mut got, &mut bits, steps);
            assert_eq!(got, want, "case {case} on {}: {cfg:?}", pl.name());
            assert_eq!(
                next_words(&mut bits),
                next_words(&mut bits_ref.clone()),
                "case {case}: stream position"
            );
        }
        cases += 1;
    }
    assert!(cases > 120, "{cases} cases built");
    assert!(
        widths.iter().all(|&w| w > 3),
        "lane widths seen: {widths:?}"
    );
}

/// The lockstep driver equals each chain alone by the reference, for groups of 70 chains (a
/// full group and a partial one), with kept-sample sums.
#[test]
fn lockstep_driver_matches_the_reference() {
    let mut p = Pick(Xoshiro::new(12, 0));
    let mut cases = 0;
    for case in 0..60 {
        let kind = p.of(&["gauss", "gauss", "mixture"]);
        let d = if kind == "mixture" {
            1
        } else {
            p.of(&[1, 2, 5, 32])
        };
        let cfg: RunConfig = serde_json::from_value(random_config(&mut p, d, kind)).unwrap();
        let Ok(b) = cfg.build() else { continue };
        let reference = Engine::new(b.sampler.as_ref(), b.target.as_ref())
            .unwrap()
            .with_platform(Platform::Portable);
        if !reference.lockstep() {
            continue;
        }
        let m = 70;
        let steps = p.of(&[3u64, 8]);
        let keep = Keep { first: 2, every: 3 };
        let sts: Vec<ChainState> = (0..m).map(|_| random_state(&mut p, &b)).collect();
        // The reference, chain by chain, summing the kept codes.
        let mut want = sts.clone();
        let mut bits_ref: Vec<Bits> = (0..m)
            .map(|j| cfg.source.stream(case, j as u64).unwrap())
            .collect();
        // Kept sums in the kernel need (c − c0)² summed exactly in i64.
        let codes = match &sts[0].x {
            Plane::Codes { format, .. } => {
                keep.count(steps) <= lpmc_kernels::drivers::lockstep::max_kept(format.wl())
            }
            Plane::F64(_) => false,
        };
        let mut s1 = vec![0i64; m * d];
        let mut s2 = vec![0i64; m * d];
        let c0: Vec<i64> = (0..m * d).map(|k| (k % 5) as i64 - 2).collect();
        for (j, st) in want.iter_mut().enumerate() {
            for t in 1..=steps {
                reference.run(st, &mut bits_ref[j], 1);
                if keep.kept(t) && codes {
                    if let Plane::Codes { codes, .. } = &st.x {
                        for i in 0..d {
                            let e = codes.get(i) - c0[j * d + i];
                            s1[j * d + i] += e;
                            s2[j * d + i] += e * e;
                        }
                    }
                }
            }
        }
        for pl in Platform::all() {
            let e = Engine::new(b.sampler.as_ref(), b.target.as_ref())
                .unwrap()
                .with_platform(pl);
            let concat = |f: &dyn Fn(&ChainState) -> Option<&Plane>| -> Option<Plane> {
                let first = f(&sts[0])?.clone();
                let mut all = first.repeat(m);
                for (j, st) in sts.iter().enumerate() {
                    let src = f(st).unwrap();
                    for i in 0..d {
                        match (&mut all, src) {
                            (Plane::F64(a), Plane::F64(s)) => a[j * d + i] = s[i],
                            (Plane::Codes { codes: a, .. }, Plane::Codes { codes: s, .. }) => {
                                a.set(j * d + i, s.get(i))
                            }
                            _ => unreachable!(),
                        }
                    }
                }
                Some(all)
            };
            let mut x = concat(&|s| Some(&s.x)).unwrap();
            let mut v = concat(&|s| s.v.as_ref());
            let mut bits: Vec<Bits> = (0..m)
                .map(|j| cfg.source.stream(case, j as u64).unwrap())
                .collect();
            let (mut g1, mut g2) = (vec![0i64; m * d], vec![0i64; m * d]);
            let kept = codes.then(|| Kept::Codes {
                c0: &c0,
                s1: &mut g1,
                s2: &mut g2,
            });
            let mut scratch = Vec::new();
            let ev = e.run_lockstep(
                &mut x,
                v.as_mut(),
                &mut bits,
                steps,
                keep,
                kept,
                &mut scratch,
            );
            let mut want_ev = lpmc::sampler::Events::default();
            for (j, st) in want.iter().enumerate() {
                want_ev += st.events;
                for i in 0..d {
                    assert_eq!(
                        x.value(j * d + i).to_bits(),
                        st.x.value(i).to_bits(),
                        "case {case} {}: chain {j} x",
                        pl.name()
                    );
                    if let (Some(v), Some(sv)) = (&v, &st.v) {
                        assert_eq!(
                            v.value(j * d + i).to_bits(),
                            sv.value(i).to_bits(),
                            "case {case}: chain {j} v"
                        );
                    }
                }
                assert_eq!(
                    next_words(&mut bits[j]),
                    next_words(&mut bits_ref[j].clone()),
                    "case {case}: chain {j} stream"
                );
            }
            let base: lpmc::sampler::Events = sts.iter().fold(Default::default(), |mut a, s| {
                a += s.events;
                a
            });
            let mut got = ev;
            got += base;
            assert_eq!(got, want_ev, "case {case} on {}: events", pl.name());
            if codes {
                assert_eq!(
                    (&g1, &g2),
                    (&s1, &s2),
                    "case {case} on {}: kept sums",
                    pl.name()
                );
            }
        }
        cases += 1;
    }
    assert!(cases > 25, "{cases} lockstep cases");
}
