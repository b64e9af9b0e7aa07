//! Exact 1-D W2/W1 of 10⁶ samples against the paper's mixture ½N(−1, ¼) + ½N(1, ¼), one
//! thread (the 1-D evaluator does not use rayon).
//!
//! Run: `CARGO_TARGET_DIR=… cargo bench --bench wasserstein -- --quick`.
//! - `sorted`: the sweep alone on a pre-sorted sample (10⁶ quantiles and truncated moments);
//! - `unsorted`: including the sort;
//! - `lattice`: codes of an 8-bit FL = 4 format, histogram path (no sort).
//!
//! Each case is measured twice: wall time (group `w2_1e6_mixture`) and the CPU time of the
//! benchmarking thread (group `w2_1e6_mixture_cpu`, from `/proc/thread-self/schedstat`, so
//! that other jobs on a shared machine do not inflate it; falls back to wall time elsewhere).
//! Figures measured on the 2-core development VM are in `docs/evaluator.md`.

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use lpmc::format::{Codes, Format};
use lpmc::target::{Dist1, Mixture, Target};
use lpmc::wasserstein::exact1d;
use lpmc_kernels::{WordSource, Xoshiro};
use std::hint::black_box;
use std::time::Instant;

/// CPU time of the current thread, in ns (wall time where `/proc` has no schedstat).
struct CpuTime;

fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// The time formatter: values are nanoseconds.
struct Nanos;

impl ValueFormatter for Nanos {
    fn scale_values(&self, ns: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = if ns < 1e3 {
            (1.0, "ns")
        } else if ns < 1e6 {
            (1e-3, "µs")
        } else if ns < 1e9 {
            (1e-6, "ms")
        } else {
            (1e-9, "s")
        };
        values.iter_mut().for_each(|v| *v *= factor);
        unit
    }

    fn scale_throughputs(&self, _typical: f64, t: &Throughput, values: &mut [f64]) -> &'static str {
        let per = match *t {
            Throughput::Elements(n) | Throughput::Bytes(n) | Throughput::BytesDecimal(n) => n,
            Throughput::Bits(n) => n,
            Throughput::ElementsAndBytes { elements, .. } => elements,
        } as f64;
        values.iter_mut().for_each(|v| *v = per / (*v * 1e-9));
        "elem/s"
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

impl Measurement for CpuTime {
    type Intermediate = (Option<u64>, Instant);
    type Value = f64;

    fn start(&self) -> Self::Intermediate {
        (thread_cpu_ns(), Instant::now())
    }
    fn end(&self, (cpu, wall): Self::Intermediate) -> f64 {
        match (cpu, thread_cpu_ns()) {
            (Some(a), Some(b)) => (b - a) as f64,
            _ => wall.elapsed().as_nanos() as f64,
        }
    }
    fn add(&self, a: &f64, b: &f64) -> f64 {
        a + b
    }
    fn zero(&self) -> f64 {
        0.0
    }
    fn to_f64(&self, v: &f64) -> f64 {
        *v
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &Nanos
    }
}

struct Inputs {
    law: Dist1,
    xs: Vec<f64>,
    sorted: Vec<f64>,
    codes: Codes,
    format: Format,
}

fn inputs() -> Inputs {
    let n = 1_000_000;
    // Mixture draws: a sign from one bit, a normal by Box–Muller.
    let mut bits = Xoshiro::new(1, 0);
    let mut z = vec![0.0; n];
    lpmc::wasserstein::sliced::normals(&mut bits, &mut z);
    let xs: Vec<f64> = z
        .iter()
        .map(|z| {
            let s = if bits.next_word() & 1 == 0 { -1.0 } else { 1.0 };
            s + 0.5 * z
        })
        .collect();
    let mut sorted = xs.clone();
    sorted.sort_unstable_by(f64::total_cmp);
    let codes = Codes::I8(
        xs.iter()
            .map(|x| (x * 16.0).round().clamp(-128.0, 127.0) as i8)
            .collect(),
    );
    Inputs {
        law: Mixture::paper().marginal(0),
        xs,
        sorted,
        codes,
        format: Format::new(8, 4).unwrap(),
    }
}

fn cases<M: Measurement>(g: &mut BenchmarkGroup<'_, M>, x: &Inputs) {
    g.sample_size(10);
    g.bench_function("sorted", |b| {
        b.iter(|| exact1d::to_law_sorted(black_box(&x.sorted), &x.law).unwrap())
    });
    g.bench_function("unsorted", |b| {
        b.iter(|| exact1d::to_law(black_box(&x.xs), &x.law).unwrap())
    });
    g.bench_function("lattice", |b| {
        b.iter(|| exact1d::to_law_codes(black_box(&x.codes), x.format, &x.law).unwrap())
    });
}

fn wall(c: &mut Criterion<WallTime>) {
    let x = inputs();
    let mut g = c.benchmark_group("w2_1e6_mixture");
    cases(&mut g, &x);
    g.finish();
}

fn cpu(c: &mut Criterion<CpuTime>) {
    let x = inputs();
    let mut g = c.benchmark_group("w2_1e6_mixture_cpu");
    cases(&mut g, &x);
    g.finish();
}

criterion_group!(wall_benches, wall);
criterion_group! {
    name = cpu_benches;
    config = Criterion::default().with_measurement(CpuTime);
    targets = cpu
}
criterion_main!(wall_benches, cpu_benches);
