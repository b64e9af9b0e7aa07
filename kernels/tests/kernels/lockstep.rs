use crate::fused::{codes, families, gens, sat, steps, ROUNDINGS};
use lpmc_kernels::fused::*;
use lpmc_kernels::lockstep::*;
use lpmc_kernels::{Code, Platform, Rounding, WordSource, XoshiroLanes};

/// Every platform against the chain-by-chain reference: final x and v, per-chain events,
/// kept sums and the next word of every stream; chain counts below, at and above a lane
/// group, several dimensions, one-step and many-step scratch.
fn check_all<C: Code>() {
    let mut g = XoshiroLanes::new(91, C::BITS as u64);
    let table: Vec<i64> = codes(&mut g, 64, 9);
    let mut case = 0u64;
    // Which lane widths the fast path took: [i64, i32].
    let mut lanes_seen = [false; 2];
    for (fx, fg, fa, fc, fnz) in families(C::BITS) {
        for gen in gens(&table) {
            for &rounding in ROUNDINGS.iter().step_by(2) {
                for (m, d) in [(1usize, 1usize), (3, 2), (16, 1), (21, 5)] {
                    case += 1;
                    let per_dim = case.is_multiple_of(2);
                    let np = if per_dim { d } else { 1 };
                    let prec = codes(&mut g, np, 6);
                    let mean = codes(&mut g, np, fx.wl.min(6));
                    let mk = |g: &mut XoshiroLanes| -> Vec<C> {
                        codes(g, m * d, fx.wl)
                            .into_iter()
                            .map(C::from_i64)
                            .collect()
                    };
                    let (x0, v0) = (mk(&mut g), mk(&mut g));
                    let c0 = codes(&mut g, m * d, fx.wl);
                    let cf = codes(&mut g, 7, 10);
                    let target = GaussGrad {
                        prec: &prec,
                        mean: &mean,
                        prec_fl: fc,
                    };
                    let fam = (fx, fg, fa, fc, fnz);
                    let cf = cf.try_into().unwrap();
                    let (sgld, hmc) = steps(rounding, fam, target, gen, cf);
                    for fits in [sgld.fits_i64(), hmc.fits_i64()] {
                        lanes_seen[0] |= fits;
                    }
                    lanes_seen[1] |= sgld.fits_i32() || hmc.fits_i32();
                    let steps = 23;
                    let keep = Keep {
                        first: 1 + case % 4,
                        every: 1 + case % 3,
                    };
                    let streams = |k: u64| -> Vec<XoshiroLanes> {
                        (0..m as u64)
                            .map(|j| XoshiroLanes::new(case, 10 * j + k))
                            .collect()
                    };
                    let ctx = format!(
                        "i{} {fx:?} {fa:?} {gen:?} {rounding} m={m} d={d} {keep:?}",
                        C::BITS
                    );
                    let run = |p: Platform, extra: usize, hmc_run: bool| {
                        let (mut x, mut v) = (x0.clone(), v0.clone());
                        let mut bits = streams(hmc_run as u64);
                        let (mut s1, mut s2) = (vec![0; m * d], vec![0; m * d]);
                        // Exact i64 sums need narrow positions (see `max_kept`).
                        let sums = (max_kept(fx.wl) >= steps).then_some(Sums {
                            c0: &c0,
                            s1: &mut s1,
                            s2: &mut s2,
                        });
                        let mut ev = vec![0u64; m];
                        if hmc_run {
                            let mut sc = vec![0; hmc.lockstep_scratch(d) + extra];
                            p.sghmc_lp_l_chains(
                                &hmc, &mut x, &mut v, steps, &mut bits, keep, sums, &mut ev,
                                &mut sc,
                            );
                        } else {
                            let mut sc = vec![0; sgld.lockstep_scratch(d) + extra];
                            p.sgld_lp_l_chains(
                                &sgld, &mut x, steps, &mut bits, keep, sums, &mut ev, &mut sc,
                            );
                        }
                        let tails: Vec<u64> = bits.iter_mut().map(|b| b.next_word()).collect();
                        let xs: Vec<i64> = x.iter().map(|c| c.to_i64()).collect();
                        let vs: Vec<i64> = v.iter().map(|c| c.to_i64()).collect();
                        (xs, vs, ev, s1, s2, tails)
                    };
                    for hmc_run in [false, true] {
                        let want = run(Platform::Portable, 0, hmc_run);
                        for p in Platform::all() {
                            for extra in [0usize, 3000] {
                                let got = run(p, extra, hmc_run);
                                assert_eq!(
                                    got,
                                    want,
                                    "{} hmc={hmc_run} extra={extra} {ctx}",
                                    p.name()
                                );
                            }
                        }
                    }
                }
            }
        }
    }
    // 8- and 16-bit states take both lane widths; the test families' 32-bit states fit
    // neither (they run the reference), as in the single-chain tests.
    if C::BITS < 32 {
        assert_eq!(lanes_seen, [true, true], "both lane widths exercised");
    } else {
        assert!(!lanes_seen[1], "32-bit states never fit i32 lanes");
    }
}

#[test]
fn lockstep_bit_identical_i8() {
    check_all::<i8>();
}

#[test]
fn lockstep_bit_identical_i16() {
    check_all::<i16>();
}

#[test]
fn lockstep_bit_identical_i32() {
    check_all::<i32>();
}

/// The reference is the single-chain kernel: chain `j` of a lockstep call ends where
/// `steps` calls of [`crate::fused::reference::sghmc_lp_l`] on chain `j` alone end.
#[test]
fn reference_is_one_chain_at_a_time() {
    let t = [4096i64];
    let m = [0i64];
    let f = sat;
    let p = SghmcLpL {
        rounding: Rounding::Stochastic { bits: 8 },
        x: f(8, 3),
        v: f(8, 3),
        grad: f(8, 3),
        accum: f(24, 16),
        coef_fl: 12,
        coefs: [3900, -200, 300, -10, 700, 20, 5],
        target: GaussGrad {
            prec: &t,
            mean: &m,
            prec_fl: 12,
        },
        noise: NoiseGen::Clt {
            k: 4,
            bits: 8,
            shift: -2,
        },
        noise_fmt: f(16, 12),
    };
    let (chains, d, steps) = (5, 2, 40);
    let x0: Vec<i8> = (0..chains * d).map(|i| i as i8 - 4).collect();
    let (mut x, mut v) = (x0.clone(), vec![0i8; chains * d]);
    let mut bits: Vec<XoshiroLanes> = (0..chains as u64)
        .map(|j| XoshiroLanes::new(3, j))
        .collect();
    let mut ev = vec![0; chains];
    let mut sc = vec![0; p.lockstep_scratch(d)];
    Platform::detect().sghmc_lp_l_chains(
        &p,
        &mut x,
        &mut v,
        steps,
        &mut bits,
        Keep::NONE,
        None,
        &mut ev,
        &mut sc,
    );
    let mut words = vec![0; p.words_per_step(d)];
    for j in 0..chains {
        let (mut xj, mut vj) = (x0[j * d..(j + 1) * d].to_vec(), vec![0i8; d]);
        let mut b = XoshiroLanes::new(3, j as u64);
        let mut e = 0;
        for _ in 0..steps {
            e += lpmc_kernels::fused::reference::sghmc_lp_l(
                &p, &mut xj, &mut vj, 1, &mut b, &mut words,
            );
        }
        assert_eq!(xj, &x[j * d..(j + 1) * d]);
        assert_eq!(vj, &v[j * d..(j + 1) * d]);
        assert_eq!(e, ev[j]);
    }
    assert_ne!(x, x0, "the chains moved");
}
