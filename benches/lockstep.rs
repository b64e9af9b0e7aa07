//! Chain-steps/s of the lockstep SGLD/SGHMC `lp-l` kernels on every platform: 1-D chains,
//! 8-bit state, N(0, 1), `sr:8`, `clt:4:8` noise (the many-chains setting of `lpmc bench`),
//! 1024 chains × 64 steps per iteration, every step kept (exact code sums).

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lpmc_kernels::lockstep::{Keep, Sums};
use lpmc_kernels::{Platform, XoshiroLanes};

const CHAINS: usize = 1024;
const STEPS: u64 = 64;

fn bench(c: &mut Criterion) {
    let noise = common::noise();
    let (sgld, hmc) = common::steps(&noise, 3, 4);
    let keep = Keep { first: 1, every: 1 };
    let mut g = c.benchmark_group("lockstep");
    g.throughput(Throughput::Elements(CHAINS as u64 * STEPS));
    for p in Platform::all() {
        let mut x = vec![0i8; CHAINS];
        let mut v = vec![0i8; CHAINS];
        let mut bits: Vec<XoshiroLanes> = (0..CHAINS as u64)
            .map(|j| XoshiroLanes::new(1, j))
            .collect();
        let c0 = vec![0i64; CHAINS];
        let (mut s1, mut s2) = (vec![0i64; CHAINS], vec![0i64; CHAINS]);
        let mut ev = vec![0u64; CHAINS];
        let mut words = vec![0u64; 8192];
        g.bench_function(format!("sgld-lp-l 1-D i8/{}", p.name()), |b| {
            b.iter(|| {
                s1.fill(0);
                s2.fill(0);
                let sums = Some(Sums {
                    c0: &c0,
                    s1: &mut s1,
                    s2: &mut s2,
                });
                p.sgld_lp_l_chains(
                    &sgld, &mut x, STEPS, &mut bits, keep, sums, &mut ev, &mut words,
                )
            })
        });
        g.bench_function(format!("sghmc-lp-l 1-D i8/{}", p.name()), |b| {
            b.iter(|| {
                s1.fill(0);
                s2.fill(0);
                let sums = Some(Sums {
                    c0: &c0,
                    s1: &mut s1,
                    s2: &mut s2,
                });
                p.sghmc_lp_l_chains(
                    &hmc, &mut x, &mut v, STEPS, &mut bits, keep, sums, &mut ev, &mut words,
                )
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
