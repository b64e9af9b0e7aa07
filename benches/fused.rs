//! Dim-steps/s of the fused SGLD/SGHMC `lp-l` kernels on every platform: 8-bit state,
//! N(0, I), `sr:8`, `clt:4:8` noise (the setting of `lpmc bench`), d = 65 536.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lpmc::format::Format;
use lpmc::noise::{IntNormal, NoiseGen};
use lpmc_kernels::fused::{Fmt, GaussGrad, SghmcLpL, SgldLpL};
use lpmc_kernels::{Overflow, Platform, Rounding, XoshiroLanes};

const D: usize = 1 << 16;

fn f(wl: u32, fl: u32) -> Fmt {
    Fmt {
        wl,
        fl,
        overflow: Overflow::Saturate,
    }
}

fn bench(c: &mut Criterion) {
    let noise = IntNormal::new(
        NoiseGen::Clt { k: 4, bits: 8 },
        Format::new(16, 12).unwrap(),
    );
    let gen = noise.kernel_gen().unwrap();
    let (one, zero) = ([4096i64], [0i64]);
    let target = GaussGrad {
        prec: &one,
        mean: &zero,
        prec_fl: 12,
    };
    let sgld = SgldLpL {
        rounding: Rounding::Stochastic { bits: 8 },
        x: f(8, 3),
        grad: f(8, 3),
        accum: f(24, 16),
        coef_fl: 12,
        eta: 8,
        noise_coef: 259,
        target,
        noise: gen,
        noise_fmt: f(16, 12),
    };
    let hmc = SghmcLpL {
        rounding: Rounding::Stochastic { bits: 8 },
        x: f(8, 3),
        v: f(8, 3),
        grad: f(8, 3),
        accum: f(24, 16),
        coef_fl: 12,
        coefs: [3118, -641, 321, -33, 2733, 308, 405],
        target,
        noise: gen,
        noise_fmt: f(16, 12),
    };
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
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
