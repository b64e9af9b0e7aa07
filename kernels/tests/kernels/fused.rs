use lpmc_kernels::fused::*;
use lpmc_kernels::{Code, Overflow, Platform, Rounding, WordSource, XoshiroLanes};

pub const ROUNDINGS: [Rounding; 9] = [
    Rounding::NearestEven,
    Rounding::NearestAway,
    Rounding::Floor,
    Rounding::TowardZero,
    Rounding::StochasticExact,
    Rounding::Stochastic { bits: 8 },
    Rounding::Stochastic { bits: 3 },
    Rounding::StochasticCorrected { bits: 2 },
    Rounding::StochasticCorrected { bits: 13 },
];

pub fn sat(wl: u32, fl: u32) -> Fmt {
    Fmt {
        wl,
        fl,
        overflow: Overflow::Saturate,
    }
}

/// A format family: (param, grad, accum, coef fl, coef wl, noise) for a container width.
/// Each family is chosen so that some steps overflow (narrow accumulators, wrap).
pub fn families(cw: u32) -> Vec<(Fmt, Fmt, Fmt, u32, Fmt)> {
    let w = cw;
    let wrap = |mut f: Fmt| {
        f.overflow = Overflow::Wrap;
        f
    };
    vec![
        // Paper-like: everything in the state width, accum a little wider.
        (
            sat(w, w / 2),
            sat(w, w / 2),
            sat(w + 8, w / 2 + 8),
            12,
            sat(16, 10),
        ),
        // Wrapping state and accumulator, gradient finer than the state.
        (
            wrap(sat(w - 1, 3)),
            sat(w, 5),
            wrap(sat(w + 4, 9)),
            6,
            sat(12, 8),
        ),
        // Accumulator no finer than the state (no rounding: shift ≤ 0), coarse coefs.
        (sat(w, 4), sat(w, 2), sat(w + 2, 3), 3, sat(8, 4)),
        // Wide accumulator: right-shifted (floored) products.
        (sat(w, 3), sat(w, 6), sat(48, 5), 20, sat(24, 16)),
        // Fine accumulator: the state term alone is 2^(w−1)·2^27, past the `i32` lanes'
        // 2^30 for every container, so narrow states take the `i64` lanes.
        (sat(w, 3), sat(w, 3), sat(w + 30, 30), 20, sat(24, 16)),
    ]
}

pub fn codes(g: &mut XoshiroLanes, n: usize, wl: u32) -> Vec<i64> {
    (0..n)
        .map(|_| (g.next_word() as i64) >> (64 - wl))
        .collect()
}

/// The SGLD and SGHMC steps of one test case: a format family of [`families`], the momentum
/// in the position's format, `cf` seven coefficient codes (SGLD: η = `cf[0]`, noise
/// coefficient `cf[1]`).
pub fn steps<'a>(
    rounding: Rounding,
    (fx, fg, fa, fc, fnz): (Fmt, Fmt, Fmt, u32, Fmt),
    target: GaussGrad<'a>,
    noise: NoiseGen<'a>,
    cf: [i64; 7],
) -> (SgldLpL<'a>, SghmcLpL<'a>) {
    let sgld = SgldLpL {
        rounding,
        x: fx,
        grad: fg,
        accum: fa,
        coef_fl: fc,
        eta: cf[0],
        noise_coef: cf[1],
        target,
        noise,
        noise_fmt: fnz,
    };
    let hmc = SghmcLpL {
        rounding,
        x: fx,
        v: fx,
        grad: fg,
        accum: fa,
        coef_fl: fc,
        coefs: cf,
        target,
        noise,
        noise_fmt: fnz,
    };
    (sgld, hmc)
}

pub fn gens(table: &[i64]) -> Vec<NoiseGen<'_>> {
    vec![
        NoiseGen::Clt {
            k: 4,
            bits: 8,
            shift: 3,
        },
        NoiseGen::Clt {
            k: 3,
            bits: 5,
            shift: -2,
        },
        NoiseGen::Clt {
            k: 1,
            bits: 13,
            shift: 0,
        },
        // Codes in whole 32- and 16-bit fields of a word (`clt_fields`).
        NoiseGen::Clt {
            k: 2,
            bits: 16,
            shift: 5,
        },
        NoiseGen::Clt {
            k: 4,
            bits: 4,
            shift: -1,
        },
        NoiseGen::Table { bits: 6, table },
    ]
}

/// Runs every platform with the same inputs and asserts state, events and the next word
/// of the stream agree with the reference (also when the fast paths batch steps).
/// Returns how many SGLD and SGHMC cases took `i32` lanes and how many `i64` lanes.
fn check_all<C: Code>() -> [usize; 4] {
    let mut lanes = [0usize; 4];
    let mut g = XoshiroLanes::new(77, C::BITS as u64);
    let table: Vec<i64> = codes(&mut g, 64, 9);
    let mut case = 0u64;
    for (fx, fg, fa, fc, fnz) in families(C::BITS) {
        for gen in gens(&table) {
            for &rounding in &ROUNDINGS {
                for d in [1usize, 7, 300] {
                    case += 1;
                    let per_dim = case.is_multiple_of(2);
                    let m = if per_dim { d } else { 1 };
                    let prec = codes(&mut g, m, 6);
                    let mean = codes(&mut g, m, fx.wl.min(6));
                    let mk = |g: &mut XoshiroLanes| -> Vec<C> {
                        codes(g, d, fx.wl).into_iter().map(C::from_i64).collect()
                    };
                    let (x0, v0) = (mk(&mut g), mk(&mut g));
                    let cf = codes(&mut g, 7, 10);
                    let target = GaussGrad {
                        prec: &prec,
                        mean: &mean,
                        prec_fl: fc,
                    };
                    let fam = (fx, fg, fa, fc, fnz);
                    let cf = cf.try_into().unwrap();
                    let (sgld, hmc) = steps(rounding, fam, target, gen, cf);
                    lanes[if sgld.fits_i32() { 0 } else { 1 }] += sgld.fits_i64() as usize;
                    lanes[if hmc.fits_i32() { 2 } else { 3 }] += hmc.fits_i64() as usize;
                    let steps = 5;
                    let ctx = format!(
                        "i{} {fx:?} {fa:?} fc={fc} {gen:?} {rounding} d={d} per_dim={per_dim}",
                        C::BITS
                    );
                    // Reference, one step's scratch.
                    let mut wx = x0.clone();
                    let mut bits = XoshiroLanes::new(case, 0);
                    let mut words = vec![0; sgld.words_per_step(d)];
                    let ev =
                        Platform::Portable.sgld_lp_l(&sgld, &mut wx, steps, &mut bits, &mut words);
                    let tail = bits.next_word();
                    let mut bits = XoshiroLanes::new(case, 1);
                    let mut words = vec![0; hmc.words_per_step(d)];
                    let (hx, hv) = (&mut x0.clone(), &mut v0.clone());
                    let evh =
                        Platform::Portable.sghmc_lp_l(&hmc, hx, hv, steps, &mut bits, &mut words);
                    let tailh = bits.next_word();
                    for p in Platform::all() {
                        for extra in [0usize, 1000] {
                            let mut x = x0.clone();
                            let mut bits = XoshiroLanes::new(case, 0);
                            let mut words = vec![0; sgld.words_per_step(d) + extra];
                            let e = p.sgld_lp_l(&sgld, &mut x, steps, &mut bits, &mut words);
                            let c = format!("sgld {} extra={extra} {ctx}", p.name());
                            assert!(
                                x.iter().zip(&wx).all(|(a, b)| a.to_i64() == b.to_i64()),
                                "{c}"
                            );
                            assert_eq!((e, bits.next_word()), (ev, tail), "{c}");
                            let (mut x, mut v) = (x0.clone(), v0.clone());
                            let mut bits = XoshiroLanes::new(case, 1);
                            let mut words = vec![0; hmc.words_per_step(d) + extra];
                            let e =
                                p.sghmc_lp_l(&hmc, &mut x, &mut v, steps, &mut bits, &mut words);
                            let c = format!("sghmc {} extra={extra} {ctx}", p.name());
                            assert!(
                                x.iter()
                                    .zip(hx.iter())
                                    .all(|(a, b)| a.to_i64() == b.to_i64()),
                                "{c}"
                            );
                            assert!(
                                v.iter()
                                    .zip(hv.iter())
                                    .all(|(a, b)| a.to_i64() == b.to_i64()),
                                "{c}"
                            );
                            assert_eq!((e, bits.next_word()), (evh, tailh), "{c}");
                        }
                    }
                }
            }
        }
    }
    lanes
}

/// 8- and 16-bit states run both lane widths (the `i32` lanes and the `i64` lanes are
/// each compared with the reference); 32-bit states never fit `i32` lanes (their codes
/// alone reach 2^31; with these families they run the reference).
#[test]
fn fused_paths_bit_identical_i8() {
    let lanes = check_all::<i8>();
    assert!(lanes.iter().all(|&n| n > 0), "{lanes:?}");
}

#[test]
fn fused_paths_bit_identical_i16() {
    let lanes = check_all::<i16>();
    assert!(lanes.iter().all(|&n| n > 0), "{lanes:?}");
}

#[test]
fn fused_paths_bit_identical_i32() {
    let lanes = check_all::<i32>();
    assert!(lanes[0] == 0 && lanes[2] == 0, "{lanes:?}");
}

/// `fits_i32` on the bench setting (8-bit state, `sr:8`, `clt:4:8`) and where it must
/// fail: a 32-bit state (its codes alone reach `2^31`), a product past `2^30`, more than
/// 30 random bits, a CLT sum past `2^30`.
#[test]
fn fits_i32_bounds() {
    let f = sat;
    let (one, zero) = ([4096i64], [0i64]);
    let target = GaussGrad {
        prec: &one,
        mean: &zero,
        prec_fl: 12,
    };
    let noise = NoiseGen::Clt {
        k: 4,
        bits: 8,
        shift: -4,
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
        noise,
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
        noise,
        noise_fmt: f(16, 12),
    };
    assert!(sgld.fits_i32() && hmc.fits_i32());
    assert!(!SgldLpL {
        x: f(32, 3),
        ..sgld
    }
    .fits_i32());
    assert!(SgldLpL {
        x: f(32, 3),
        ..sgld
    }
    .fits_i64());
    // |c_n|·|n| ≥ 2^17·(4·255·2^4) > 2^30 (the noise format alone would allow 2^16).
    assert!(!SgldLpL {
        noise_coef: 1 << 17,
        ..sgld
    }
    .fits_i32());
    assert!(!SghmcLpL {
        coefs: [1 << 16; 7],
        ..hmc
    }
    .fits_i32());
    let sr31 = Rounding::Stochastic { bits: 31 };
    assert!(!SgldLpL {
        rounding: sr31,
        ..sgld
    }
    .fits_i32());
    let wide = NoiseGen::Clt {
        k: 4,
        bits: 28,
        shift: 20,
    };
    assert!(!SghmcLpL { noise: wide, ..hmc }.fits_i32());
    assert!(SghmcLpL { noise: wide, ..hmc }.fits_i64());
}

/// Every family above takes the `i64` lane path for narrow states (the test is about the
/// fast path, not the fallback), and overflow events happen.
#[test]
fn families_take_the_fast_path() {
    let t = [1i64];
    for fam in families(8) {
        let (fx, _, fa, fc, _) = fam;
        let target = GaussGrad {
            prec: &t,
            mean: &t,
            prec_fl: fc,
        };
        let noise = NoiseGen::Clt {
            k: 4,
            bits: 8,
            shift: 3,
        };
        let cf = [3, 5, 0, 0, 0, 0, 0];
        let (p, _) = steps(Rounding::StochasticExact, fam, target, noise, cf);
        assert!(p.fits_i64(), "{fx:?} {fa:?}");
    }
}
