//! Requantize kernels, elements per second, on every platform this CPU has (the portable
//! scalar reference is the in-run baseline for the ratio).
//!
//! `cargo bench --bench requantize`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lpmc_kernels::{Code, Overflow, Platform, Rounding, Spec, WordSource, Xoshiro};
use std::hint::black_box;

const N: usize = 1 << 16;

fn inputs<I: Code>() -> Vec<I> {
    let mut g = Xoshiro::new(1, 1);
    (0..N)
        .map(|_| I::from_i64((g.next_word() as i64) >> (64 - I::BITS)))
        .collect()
}

fn bench_case<I: Code, O: Code>(c: &mut Criterion, name: &str, shift: i32, spec: Spec) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(N as u64));
    let src = inputs::<I>();
    let mut dst = vec![O::default(); N];
    for p in Platform::all() {
        let mut bits = Xoshiro::new(7, 0);
        group.bench_function(BenchmarkId::from_parameter(p.name()), |b| {
            b.iter(|| black_box(p.requantize(spec, shift, black_box(&src), &mut dst, &mut bits)))
        });
    }
    group.finish();
}

fn requantize(c: &mut Criterion) {
    let spec = |wl, rounding| Spec {
        wl,
        rounding,
        overflow: Overflow::Saturate,
    };
    bench_case::<i16, i8>(
        c,
        "i16->i8 sr:8",
        8,
        spec(8, Rounding::Stochastic { bits: 8 }),
    );
    bench_case::<i16, i8>(c, "i16->i8 nearest-even", 8, spec(8, Rounding::NearestEven));
    bench_case::<i32, i16>(c, "i32->i16 sr", 16, spec(16, Rounding::StochasticExact));
}

/// Words per second of one xoshiro256++ stream, and of 64 streams stepped side by side (the
/// lockstep driver's source): the random-bit ceilings of the kernels.
fn words(c: &mut Criterion) {
    const WORDS: usize = 1 << 12;
    let mut group = c.benchmark_group("xoshiro words");
    group.throughput(Throughput::Elements(WORDS as u64));
    let mut out = vec![0u64; WORDS];
    let mut bits = Xoshiro::new(7, 0);
    group.bench_function("one stream", |b| {
        b.iter(|| {
            bits.fill(&mut out);
            black_box(out[WORDS - 1])
        })
    });
    let gens: Vec<Xoshiro> = (0..64).map(|j| Xoshiro::new(7, j)).collect();
    let mut set = lpmc_kernels::bits::XoshiroSet::<64>::load(&gens);
    let mut row = [0u64; 64];
    group.bench_function("64 streams side by side", |b| {
        b.iter(|| {
            for _ in 0..WORDS / 64 {
                set.round(&mut row);
            }
            black_box(row[63])
        })
    });
    group.finish();
}

fn bench_f64<O: Code>(c: &mut Criterion, name: &str, fl: u32, spec: Spec) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(N as u64));
    let mut g = Xoshiro::new(2, 2);
    // Values of magnitude below 8: the common case of a state or a gradient.
    let src: Vec<f64> = (0..N)
        .map(|_| ((g.next_word() >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 16.0)
        .collect();
    let mut dst = vec![O::default(); N];
    for p in Platform::all() {
        let mut bits = Xoshiro::new(7, 0);
        group.bench_function(BenchmarkId::from_parameter(p.name()), |b| {
            b.iter(|| black_box(p.quantize_f64(spec, fl, black_box(&src), &mut dst, &mut bits)))
        });
    }
    group.finish();
}

fn quantize(c: &mut Criterion) {
    let spec = |wl, rounding| Spec {
        wl,
        rounding,
        overflow: Overflow::Saturate,
    };
    bench_f64::<i8>(
        c,
        "f64->i8 sr:8",
        4,
        spec(8, Rounding::Stochastic { bits: 8 }),
    );
    bench_f64::<i16>(
        c,
        "f64->i16 nearest-even",
        12,
        spec(16, Rounding::NearestEven),
    );
}

criterion_group!(benches, words, requantize, quantize);
criterion_main!(benches);
