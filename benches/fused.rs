//! Dim-steps/s of the fused SGLD/SGHMC `lp-l` and `vc-l` kernels on every platform: 8-bit
//! state, N(0, I), `sr:8`, `clt:4:8` noise for `lp-l` (the setting of `lpmc bench`),
//! d = 65 536.

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lpmc_kernels::{Code, Platform, XoshiroLanes};

const D: usize = 1 << 16;

fn bench(c: &mut Criterion) {
    let noise = common::noise();
    let (sgld, hmc) = common::steps(&noise, 3, 3);
    let mut g = c.benchmark_group("fused");
    g.throughput(Throughput::Elements(D as u64));
    for p in Platform::all() {
        let mut x = vec![0i8; D];
        let mut v = vec![0i8; D];
        let mut bits = XoshiroLanes::new(1, 0);
        let mut words = vec![0u64; hmc.words_per_step(D)];
        g.bench_function(format!("sgld-lp-l i8/{}", p.name()), |b| {
            b.iter(|| p.sgld_lp_l(&sgld, &mut x, 1, &mut bits, &mut words))
        });
        g.bench_function(format!("sghmc-lp-l i8/{}", p.name()), |b| {
            b.iter(|| p.sghmc_lp_l(&hmc, &mut x, &mut v, 1, &mut bits, &mut words))
        });
        let (sgld_vc, hmc_vc) = common::vc_steps(3);
        let mut words = vec![0u64; hmc_vc.words_per_step(D)];
        g.bench_function(format!("sgld-vc-l i8/{}", p.name()), |b| {
            b.iter(|| p.sgld_vc_l(&sgld_vc, i8::slice_mut(&mut x), 1, &mut bits, &mut words))
        });
        g.bench_function(format!("sghmc-vc-l i8/{}", p.name()), |b| {
            b.iter(|| {
                let (xs, vs) = (i8::slice_mut(&mut x), i8::slice_mut(&mut v));
                p.sghmc_vc_l(&hmc_vc, xs, vs, 1, &mut bits, &mut words)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
