//! Steps per second of one chain of each sampler on N(0, 1), float and integer datapaths.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lpmc::experiment::config::RunConfig;
use lpmc::source::Source;
use serde_json::json;

const STEPS: u64 = 1000;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("sampler_step");
    g.throughput(Throughput::Elements(STEPS));
    let samplers = [
        ("sgld-lp-l", json!({"sgld": {"variant": "lp-l"}})),
        ("sgld-vc-l", json!({"sgld": {"variant": "vc-l"}})),
        ("sghmc-fp", json!({"sghmc": {"variant": "fp"}})),
        ("sghmc-lp-l", json!({"sghmc": {"variant": "lp-l"}})),
        ("sghmc-vc-joint", json!({"sghmc": {"variant": "vc-joint"}})),
    ];
    for (name, sampler) in samplers {
        for datapath in ["float", "integer"] {
            let cfg: RunConfig = serde_json::from_value(json!({
                "target": {"gaussian": {"mean": [0.0], "var": [1.0]}},
                "sampler": sampler,
                "formats": {"coef": {"wl": 24, "fl": 20}, "noise": {"wl": 24, "fl": 20},
                            "accum": {"wl": 48, "fl": 40}},
                "datapath": datapath
            }))
            .unwrap();
            let b = cfg.build().unwrap();
            let (s, t) = (b.sampler.as_ref(), b.target.as_ref());
            let mut st = s.init(&b.x0).unwrap();
            let mut ws = s.workspace();
            let mut bits = Source::Xoshiro.stream(1, 0).unwrap();
            g.bench_function(format!("{name}/{datapath}"), |bch| {
                bch.iter(|| {
                    for _ in 0..STEPS {
                        s.step(t, &mut st, &mut ws, &mut bits);
                    }
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
