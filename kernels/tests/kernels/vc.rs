use crate::fused::{codes, families, sat, ROUNDINGS};
use lpmc_kernels::fused::{Fmt, GaussGrad};
use lpmc_kernels::vc::{code_var, qvc_code, SghmcVcL, SgldVcL, V0};
use lpmc_kernels::{Code, CodeSliceMut, Platform, WordSource, XoshiroLanes};

/// Variances (value units) for a position with `fl` fraction bits: 0, one in the small
/// regime (v ≤ v0 in code units), just above v0, and a large one.
fn variances(fl: u32) -> [f64; 4] {
    let d2 = (0.5f64).powi(2 * fl as i32);
    [0.0, 0.13 * d2, V0 * d2 * 1.01, 7.3 * d2]
}

/// Codes of `wl` bits in the container `C`.
fn state<C: Code>(g: &mut XoshiroLanes, d: usize, wl: u32) -> Vec<C> {
    codes(g, d, wl).into_iter().map(C::from_i64).collect()
}

fn same<A: Code, B: Code>(a: &[A], b: &[B]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_i64() == y.to_i64())
}

/// Runs every platform on the same inputs and asserts the codes, the events and the next
/// word of the stream agree with the reference (also when the fast paths batch steps).
/// x lives in `C` with the formats of [`families`]`(wl)`, SGHMC's v in `V` (its format two
/// bits wider, as with `vc_wide_momentum`).
/// Returns how many SGLD and SGHMC cases took the fast path.
fn check_all<C: Code, V: Code>(wl: u32) -> [usize; 2] {
    let mut fast = [0usize; 2];
    let mut g = XoshiroLanes::new(91, (C::BITS + V::BITS) as u64);
    let mut case = 0u64;
    for (fx, fg, fa, fc, _) in families(wl) {
        let fv = Fmt {
            wl: (fx.wl + 2).min(V::BITS),
            ..fx
        };
        for &rounding in &ROUNDINGS {
            for var in variances(fx.fl) {
                for d in [1usize, 7, 300] {
                    case += 1;
                    let per_dim = case.is_multiple_of(2);
                    let m = if per_dim { d } else { 1 };
                    let prec = codes(&mut g, m, 6);
                    let mean = codes(&mut g, m, fx.wl.min(6));
                    let x0: Vec<C> = state(&mut g, d, fx.wl);
                    let v0: Vec<V> = state(&mut g, d, fv.wl);
                    let cf = codes(&mut g, 4, 10);
                    let target = GaussGrad {
                        prec: &prec,
                        mean: &mean,
                        prec_fl: fc,
                    };
                    let sgld = SgldVcL {
                        rounding,
                        x: fx,
                        grad: fg,
                        accum: fa,
                        coef_fl: fc,
                        eta: cf[0],
                        var,
                        target,
                    };
                    let hmc = SghmcVcL {
                        rounding,
                        x: fx,
                        v: fv,
                        grad: fg,
                        accum: fa,
                        coef_fl: fc,
                        coefs: cf.clone().try_into().unwrap(),
                        var_v: var * 3.0,
                        var_x: var,
                        target,
                    };
                    fast[0] += sgld.fits_i64() as usize;
                    fast[1] += hmc.fits_i64() as usize;
                    let steps = 4;
                    let ctx = format!(
                        "i{}/i{} {fx:?} {fa:?} fc={fc} {rounding} var={var} d={d} per_dim={per_dim}",
                        C::BITS,
                        V::BITS
                    );
                    let run = |p: Platform, extra: usize| {
                        let mut x = x0.clone();
                        let mut bits = XoshiroLanes::new(case, 0);
                        let mut words = vec![0; sgld.words_per_step(d) + extra];
                        let xs = C::slice_mut(&mut x);
                        let e = p.sgld_vc_l(&sgld, xs, steps, &mut bits, &mut words);
                        (x, e, bits.next_word())
                    };
                    let run_hmc = |p: Platform, extra: usize| {
                        let (mut x, mut v) = (x0.clone(), v0.clone());
                        let mut bits = XoshiroLanes::new(case, 1);
                        let mut words = vec![0; hmc.words_per_step(d) + extra];
                        let (xs, vs) = (C::slice_mut(&mut x), V::slice_mut(&mut v));
                        let e = p.sghmc_vc_l(&hmc, xs, vs, steps, &mut bits, &mut words);
                        (x, v, e, bits.next_word())
                    };
                    let (wx, ev, tail) = run(Platform::Portable, 0);
                    let (hx, hv, evh, tailh) = run_hmc(Platform::Portable, 0);
                    for p in Platform::all() {
                        for extra in [0usize, 1000] {
                            let c = format!("sgld {} extra={extra} {ctx}", p.name());
                            let (x, e, t) = run(p, extra);
                            assert!(same(&x, &wx), "{c}");
                            assert_eq!((e, t), (ev, tail), "{c}");
                            let c = format!("sghmc {} extra={extra} {ctx}", p.name());
                            let (x, v, e, t) = run_hmc(p, extra);
                            assert!(same(&x, &hx) && same(&v, &hv), "{c}");
                            assert_eq!((e, t), (evh, tailh), "{c}");
                        }
                    }
                }
            }
        }
    }
    fast
}

/// Every container pairing of x and v (v's format two bits wider, so an 8-bit x has a
/// 16-bit v as with `vc_wide_momentum`); most cases take the fast path, the rest (the
/// 2^30-fine accumulator family) the reference.
#[test]
fn vc_paths_bit_identical_i8_i16() {
    let fast = check_all::<i8, i16>(8);
    assert!(fast.iter().all(|&n| n > 100), "{fast:?}");
}

#[test]
fn vc_paths_bit_identical_i16_i16() {
    let fast = check_all::<i16, i16>(16);
    assert!(fast.iter().all(|&n| n > 100), "{fast:?}");
}

/// 24-bit codes in `i32` take the fast path; full 32-bit codes with these families exceed
/// the `i64` bounds (a 32-bit gradient times a 32-bit coefficient) and run the reference.
#[test]
fn vc_paths_bit_identical_i32_i32() {
    let fast = check_all::<i32, i32>(24);
    assert!(fast.iter().all(|&n| n > 100), "{fast:?}");
    assert_eq!(check_all::<i32, i32>(32), [0, 0]);
}

/// The reference step is Q^vc of the integer mean: one SGLD step at a known state gives the
/// code that `qvc_code` gives for the mean worked out by hand, from the same words (the
/// sampler-level comparison with the generic runner is in `lpmc`'s `tests/fused.rs`).
#[test]
fn reference_step_is_qvc_of_the_mean() {
    let f = sat(8, 4);
    let target = GaussGrad {
        prec: &[4096],
        mean: &[0],
        prec_fl: 12,
    };
    // η = 1/64: x' has mean x − x/64 (the gradient of N(0, 1) is x, exact on the grid).
    let p = SgldVcL {
        rounding: lpmc_kernels::Rounding::NearestEven,
        x: f,
        grad: f,
        accum: sat(24, 16),
        coef_fl: 12,
        eta: 64,
        var: 2.0 / 64.0,
        target,
    };
    assert_eq!(p.grad_bits(), 0);
    let mut words = vec![0; p.words_per_step(1)];
    assert_eq!(words.len(), 4); // no Q_G bits, one normal pair, two Q^vc words
    let mut x = [32i8]; // 2.0
    let mut bits = XoshiroLanes::new(5, 0);
    Platform::Portable.sgld_vc_l(&p, i8::slice_mut(&mut x), 1, &mut bits, &mut words);
    let mut w = [0u64; 4];
    XoshiroLanes::new(5, 0).fill(&mut w);
    let mut z = [0.0];
    lpmc_kernels::noise::box_muller(&mut XoshiroLanes::new(5, 0), &mut z);
    // Mean 2 − 2/64 in code units of Q(8, 4): 32 − 0.5; variance 2/64·256 = 8.
    let want = qvc_code(31.5, code_var(2.0 / 64.0, 4), z[0], [w[2], w[3]]);
    assert_eq!(x[0] as i128, want);
    // CodeSliceMut element access round-trips through the container.
    let mut y = [0i16; 2];
    let mut s = i16::slice_mut(&mut y);
    s.set(1, -7);
    assert_eq!((s.get(1), s.len()), (-7, 2));
    assert!(matches!(s, CodeSliceMut::I16(_)));
}
