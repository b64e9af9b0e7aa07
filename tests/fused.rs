//! The fused kernels behind `Sampler::run` give exactly the generic path's results: final
//! state codes, moments, kept rows and overflow counts, over formats, roundings, overflow
//! rules, noise generators, dimensions, chain counts, thinning and thread counts; and for
//! small chains the lockstep kernels (several chains side by side, kept codes summed in the
//! kernel) give those results too; for `vc-l` the fused Q^vc kernels.

use lpmc::experiment::chains::{run_chains, ChainSpec, ChainsOutput, NoProgress};
use lpmc::format::Format;
use lpmc::noise::NoiseGen;
use lpmc::sampler::sghmc::{Sghmc, SghmcParams, SghmcVariant};
use lpmc::sampler::sgld::{Sgld, SgldVariant};
use lpmc::sampler::{Datapath, Formats, Sampler, Setup};
use lpmc::source::Source;
use lpmc::target::{Gaussian, Target};
use lpmc::{Overflow, Rounding};

fn fmt(wl: u32, fl: u32) -> Format {
    Format::new(wl, fl).unwrap()
}

/// One case: formats, rounding and generator.
struct Case {
    formats: Formats,
    rounding: Rounding,
    noise: NoiseGen,
}

fn cases() -> Vec<Case> {
    vec![
        // 8-bit state, hardware SR with 8 bits, CLT noise.
        Case {
            formats: Formats {
                param: fmt(8, 3),
                momentum: fmt(8, 3),
                grad: fmt(8, 3),
                accum: fmt(24, 16),
                coef: fmt(16, 12),
                noise: fmt(16, 12),
            },
            rounding: Rounding::Stochastic { bits: 8 },
            noise: NoiseGen::Clt { k: 4, bits: 8 },
        },
        // 16-bit wrapping state, exact SR, table noise, wide accumulator.
        Case {
            formats: Formats {
                param: fmt(14, 8).with_overflow(Overflow::Wrap),
                momentum: fmt(16, 9),
                grad: fmt(12, 6),
                accum: fmt(48, 30),
                coef: fmt(20, 16),
                noise: fmt(12, 8),
            },
            rounding: Rounding::StochasticExact,
            noise: NoiseGen::Table { bits: 8 },
        },
        // 32-bit container, corrected SR, coarse CLT.
        Case {
            formats: Formats {
                param: fmt(20, 10),
                momentum: fmt(24, 12),
                grad: fmt(18, 9),
                accum: fmt(40, 20),
                coef: fmt(16, 12),
                noise: fmt(16, 10),
            },
            rounding: Rounding::StochasticCorrected { bits: 4 },
            noise: NoiseGen::Clt { k: 2, bits: 6 },
        },
        // Narrow accumulator (saturates) with the state's FL: no final rounding; nearest-even.
        Case {
            formats: Formats {
                param: fmt(8, 4),
                momentum: fmt(8, 4),
                grad: fmt(8, 4),
                accum: fmt(10, 4),
                coef: fmt(12, 8),
                noise: fmt(8, 4),
            },
            rounding: Rounding::NearestEven,
            noise: NoiseGen::Clt { k: 12, bits: 4 },
        },
    ]
}

fn target(d: usize) -> Gaussian {
    // Means on every grid above (multiples of 1/4), precisions powers of two.
    let mean = (0..d).map(|i| [0.0, 0.5, -0.25, 1.0][i % 4]).collect();
    let var = (0..d).map(|i| [1.0, 0.5, 2.0, 0.25][i % 4]).collect();
    Gaussian::diagonal(mean, var).unwrap()
}

fn run(s: &dyn Sampler, t: &dyn Target, chains: usize, thin: u64, threads: usize) -> ChainsOutput {
    let spec = ChainSpec {
        chains,
        steps: 300,
        burn_in: 50,
        thin,
        seed: 11,
        source: Source::Xoshiro,
        x0: vec![0.5; t.dim()],
        max_rows: 40,
        threads: Some(threads),
    };
    let mut o = run_chains(s, t, &spec, &NoProgress).unwrap();
    o.wall_s = 0.0;
    o.steps_per_s = 0.0;
    o
}

fn check(fused: &dyn Sampler, generic: &dyn Sampler, t: &dyn Target, ctx: &str) {
    assert!(fused.fused(t), "{ctx}: the fused path must apply");
    assert!(!generic.fused(t), "{ctx}");
    // Small chains run in lockstep groups (every case's position has ≤ 20 bits).
    assert_eq!(fused.lockstep(t), t.dim() <= 32, "{ctx}");
    assert!(!generic.lockstep(t), "{ctx}");
    // 19 chains on 2 threads: lockstep groups of 8, 8 and 3.
    for (chains, thin, threads) in [(3, 1, 1), (5, 7, 2), (19, 3, 2)] {
        let a = run(fused, t, chains, thin, threads);
        let b = run(generic, t, chains, thin, 1);
        assert_eq!(a, b, "{ctx} chains={chains} thin={thin} threads={threads}");
        assert!(a.kept > 0);
    }
}

#[test]
fn fused_runs_equal_generic_runs() {
    let mut saw_events = false;
    for (ci, case) in cases().into_iter().enumerate() {
        let setup = Setup {
            formats: case.formats,
            rounding: case.rounding,
            datapath: Datapath::Integer,
            grad_noise: 0.0,
            noise_gen: case.noise,
        };
        for d in [1usize, 3, 40] {
            let t = target(d);
            let ctx = format!("case {ci} d={d}");
            let sg = |on| {
                Sgld::new(SgldVariant::LpL, 0.01, setup.clone(), d)
                    .unwrap()
                    .with_fused(on)
            };
            check(&sg(true), &sg(false), &t, &format!("sgld {ctx}"));
            let p = SghmcParams {
                eta: 0.05,
                u: 2.0,
                gamma: 3.0,
                paper_sign: false,
                rescale_momentum: false,
                vc_wide_momentum: false,
                rescale_headroom: 1.0,
            };
            let hm = |on| {
                Sghmc::new(SghmcVariant::LpL, p, setup.clone(), d)
                    .unwrap()
                    .with_fused(on)
            };
            check(&hm(true), &hm(false), &t, &format!("sghmc {ctx}"));
            saw_events |= run(&hm(true), &t, 2, 1, 1).saturations > 0;
        }
    }
    // The narrow accumulator of the last case saturates: overflow paths were compared too.
    assert!(saw_events);
}

/// The fused `vc-l` kernels (`lpmc_kernels::vc`) give the generic runs' results too: both
/// variance regimes of Q^vc (SGLD at η = 0.01 and 0.001: 2η·4^FL above and below Δ²/4 for
/// the 8-bit case; SGHMC's Var ξ^v above, Var ξ^x below), a momentum in its own container
/// (`vc_wide_momentum`: Q(10, 3) in `i16` beside an `i8` position), and dimensions past one
/// kernel block (300 > 256). They have no lockstep kernel: many chains run one by one.
#[test]
fn fused_vc_runs_equal_generic_runs() {
    for (ci, case) in cases().into_iter().enumerate() {
        let setup = Setup {
            formats: case.formats,
            rounding: case.rounding,
            datapath: Datapath::Integer,
            grad_noise: 0.0,
            noise_gen: case.noise,
        };
        // d = 40 mixes fused calls (the burn-in, thinned segments) with small calls that
        // run step by step (d·n < 256); d = 1 runs step by step only.
        for d in [1usize, 40, 300] {
            let t = target(d);
            let check = |fused: &dyn Sampler, generic: &dyn Sampler, ctx: &str| {
                assert!(fused.fused(&t), "{ctx}: the fused path must apply");
                assert!(!generic.fused(&t) && !fused.lockstep(&t), "{ctx}");
                for (chains, thin, threads) in [(1, 1, 1), (3, 7, 2)] {
                    let a = run(fused, &t, chains, thin, threads);
                    let b = run(generic, &t, chains, thin, 1);
                    assert_eq!(a, b, "{ctx} chains={chains} thin={thin} threads={threads}");
                    assert!(a.kept > 0);
                }
            };
            for eta in [0.01, 0.001] {
                let sg = |on| {
                    Sgld::new(SgldVariant::VcL, eta, setup.clone(), d)
                        .unwrap()
                        .with_fused(on)
                };
                check(
                    &sg(true),
                    &sg(false),
                    &format!("sgld vc-l eta={eta} case {ci} d={d}"),
                );
            }
            for wide in [false, true] {
                let p = SghmcParams {
                    eta: 0.05,
                    u: 2.0,
                    gamma: 3.0,
                    paper_sign: false,
                    rescale_momentum: false,
                    vc_wide_momentum: wide,
                    rescale_headroom: 1.0,
                };
                let hm = |on| {
                    Sghmc::new(SghmcVariant::VcL, p, setup.clone(), d)
                        .unwrap()
                        .with_fused(on)
                };
                check(
                    &hm(true),
                    &hm(false),
                    &format!("sghmc vc-l wide={wide} case {ci} d={d}"),
                );
            }
        }
    }
}

/// The fused path does not apply where its conditions fail, and nothing else changes.
#[test]
fn fused_only_where_it_applies() {
    let setup = |noise_gen, grad_noise| Setup {
        formats: Formats::all(fmt(16, 8)),
        rounding: Rounding::Stochastic { bits: 8 },
        datapath: Datapath::Integer,
        grad_noise,
        noise_gen,
    };
    let s = |st| Sgld::new(SgldVariant::LpL, 0.01, st, 1).unwrap();
    let exact = Gaussian::diagonal(vec![0.0], vec![1.0]).unwrap();
    let inexact = Gaussian::diagonal(vec![0.0], vec![3.0]).unwrap();
    let clt = NoiseGen::Clt { k: 4, bits: 8 };
    assert!(s(setup(clt, 0.0)).fused(&exact));
    assert!(!s(setup(clt, 0.0)).fused(&inexact)); // 1/3 is not a coef code
    assert!(!s(setup(clt, 0.1)).fused(&exact)); // gradient noise
    assert!(!s(setup(NoiseGen::BoxMuller, 0.0)).fused(&exact));
    let mut fl = setup(clt, 0.0);
    fl.datapath = Datapath::Float;
    assert!(!s(fl).fused(&exact));
}
