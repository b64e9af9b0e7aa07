//! Exact 1-D W2/W1 of 10⁶ samples against the paper's mixture ½N(−1, ¼) + ½N(1, ¼), one core.
//!
//! Run: `CARGO_TARGET_DIR=… cargo bench --bench wasserstein -- --quick`.
//! - `sorted`: the sweep alone on a pre-sorted sample (10⁶ quantiles and truncated moments);
//! - `unsorted`: including the sort;
//! - `lattice`: codes of an 8-bit FL = 4 format, histogram path (no sort).
//!
//! Measured on the shared 2-core development VM (load average ≈ 2 from other jobs),
//! `--quick`: sorted 79 ms, unsorted 114 ms (the comparison sort is ≈ 33 ms of it), lattice
//! 1.4 ms. Per-thread CPU time of the same calls: 75 ms and 108 ms.

use criterion::{criterion_group, criterion_main, Criterion};
use lpmc::format::{Codes, Format};
use lpmc::target::{Dist1, Mixture, Target};
use lpmc::wasserstein::exact1d;
use lpmc_kernels::{WordSource, XoshiroLanes};
use std::hint::black_box;

fn sample(n: usize) -> Vec<f64> {
    // Mixture draws: a sign from one bit, a normal by Box–Muller.
    let mut bits = XoshiroLanes::new(1, 0);
    let mut z = vec![0.0; n];
    lpmc::wasserstein::sliced::normals(&mut bits, &mut z);
    z.iter()
        .map(|z| {
            let s = if bits.next_word() & 1 == 0 { -1.0 } else { 1.0 };
            s + 0.5 * z
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let law: Dist1 = Mixture::paper().marginal(0);
    let n = 1_000_000;
    let xs = sample(n);
    let mut sorted = xs.clone();
    sorted.sort_unstable_by(f64::total_cmp);
    let f = Format::new(8, 4).unwrap();
    let codes = Codes::I8(
        xs.iter()
            .map(|x| (x * 16.0).round().clamp(-128.0, 127.0) as i8)
            .collect(),
    );
    let mut g = c.benchmark_group("w2_1e6_mixture");
    g.sample_size(10);
    g.bench_function("sorted", |b| {
        b.iter(|| pool.install(|| exact1d::to_law_sorted(black_box(&sorted), &law).unwrap()))
    });
    g.bench_function("unsorted", |b| {
        b.iter(|| pool.install(|| exact1d::to_law(black_box(&xs), &law).unwrap()))
    });
    g.bench_function("lattice", |b| {
        b.iter(|| pool.install(|| exact1d::to_law_codes(black_box(&codes), f, &law).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
