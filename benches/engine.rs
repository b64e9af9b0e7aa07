//! The engine's drivers on every platform: one chain of d = 1024 (the chain driver) and 1024
//! one-dimensional chains (the lockstep driver), for SGLD and SGHMC variants on both
//! datapaths, N(0, I), 8-bit state.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lpmc::experiment::config::RunConfig;
use lpmc::sampler::{Engine, Keep, Plane};
use lpmc::source::Source;
use lpmc_kernels::Platform;
use serde_json::{json, Value};

const STEPS: u64 = 20;

fn config(sampler: Value, datapath: &str, noise: &str, d: usize) -> RunConfig {
    serde_json::from_value(json!({
        "target": {"gaussian": {"mean": vec![0.0; d], "var": vec![1.0; d]}},
        "sampler": sampler,
        "format": {"wl": 8, "fl": 4},
        "formats": {"accum": {"wl": 24, "fl": 16}, "coef": {"wl": 16, "fl": 12},
                    "noise": {"wl": 16, "fl": 12}},
        "rounding": "sr:8", "datapath": datapath, "noise_gen": noise
    }))
    .expect("valid bench config")
}

fn samplers() -> Vec<(&'static str, Value)> {
    vec![
        (
            "sgld-lp-l",
            json!({"sgld": {"variant": "lp-l", "eta": 0.01}}),
        ),
        (
            "sgld-vc-l",
            json!({"sgld": {"variant": "vc-l", "eta": 0.01}}),
        ),
        ("sghmc-lp-l", json!({"sghmc": {"variant": "lp-l"}})),
        ("sghmc-vc-joint", json!({"sghmc": {"variant": "vc-joint"}})),
    ]
}

fn chain(c: &mut Criterion) {
    let d = 1024;
    let mut g = c.benchmark_group("chain");
    g.throughput(Throughput::Elements(d as u64 * STEPS));
    for (name, sampler) in samplers() {
        for (datapath, noise) in [
            ("float", "box-muller"),
            ("integer", "clt:4:8"),
            ("integer", "box-muller"),
        ] {
            let cfg = config(sampler.clone(), datapath, noise, d);
            let b = cfg.build().unwrap();
            for p in Platform::all() {
                let e = Engine::new(b.sampler.as_ref(), b.target.as_ref())
                    .unwrap()
                    .with_platform(p);
                let mut st = b.sampler.init(&b.x0).unwrap();
                let mut bits = Source::Xoshiro.stream(1, 0).unwrap();
                g.bench_function(format!("{name}/{datapath}/{noise}/{}", p.name()), |bch| {
                    bch.iter(|| e.run(&mut st, &mut bits, STEPS))
                });
            }
        }
    }
    g.finish();
}

fn lockstep(c: &mut Criterion) {
    let m = 1024;
    let mut g = c.benchmark_group("lockstep");
    g.throughput(Throughput::Elements(m as u64 * STEPS));
    for (name, sampler) in samplers() {
        for (datapath, noise) in [("float", "box-muller"), ("integer", "table:12")] {
            let cfg = config(sampler.clone(), datapath, noise, 1);
            let b = cfg.build().unwrap();
            let init = b.sampler.init(&b.x0).unwrap();
            let mut x: Plane = init.x.repeat(m);
            let mut v: Option<Plane> = init.v.map(|v| v.repeat(m));
            let mut bits: Vec<_> = (0..m)
                .map(|j| Source::Xoshiro.stream(1, j as u64).unwrap())
                .collect();
            let mut scratch = Vec::new();
            // The portable platform is the chain-by-chain reference: not a lockstep path.
            for p in Platform::all().into_iter().skip(1) {
                let e = Engine::new(b.sampler.as_ref(), b.target.as_ref())
                    .unwrap()
                    .with_platform(p);
                g.bench_function(format!("{name}/{datapath}/{noise}/{}", p.name()), |bch| {
                    bch.iter(|| {
                        e.run_lockstep(
                            &mut x,
                            v.as_mut(),
                            &mut bits,
                            STEPS,
                            Keep::NONE,
                            None,
                            &mut scratch,
                        )
                    })
                });
            }
        }
    }
    g.finish();
}

criterion_group!(benches, chain, lockstep);
criterion_main!(benches);
