use lpmc_kernels::{Code, Overflow, Platform, Rounding, Spec, WordSource, Xoshiro};

const ROUNDINGS: [Rounding; 12] = [
    Rounding::NearestEven,
    Rounding::NearestAway,
    Rounding::Floor,
    Rounding::TowardZero,
    Rounding::StochasticExact,
    Rounding::Stochastic { bits: 0 },
    Rounding::Stochastic { bits: 1 },
    Rounding::Stochastic { bits: 8 },
    Rounding::Stochastic { bits: 13 },
    Rounding::Stochastic { bits: 32 },
    Rounding::StochasticCorrected { bits: 3 },
    Rounding::StochasticCorrected { bits: 20 },
];

/// Random codes spread over the whole container, with a bias toward small magnitudes
/// and exact ties so every branch of every mode is hit.
fn inputs<I: Code>(n: usize, seed: u64) -> Vec<I> {
    let mut g = Xoshiro::new(seed, 99);
    (0..n)
        .map(|i| {
            let w = g.next_word() as i64;
            let v = match i % 4 {
                0 => w,
                1 => w >> (64 - I::BITS + 2),
                2 => (w >> 60) << 3, // multiples of 8: ties for shift 4
                _ => w >> 58,
            };
            I::from_i64(v)
        })
        .collect()
}

/// Every path against the reference for one pair of containers: the given modes, word
/// lengths, shifts and lengths, both overflow rules; the inputs and streams of successive
/// cases are seeded from `seed + 1` on.
fn check<I: Code, O: Code>(
    roundings: &[Rounding],
    wls: &[u32],
    shifts: &[i32],
    lens: &[usize],
    mut seed: u64,
) {
    for &rounding in roundings {
        for overflow in [Overflow::Saturate, Overflow::Wrap] {
            for &wl in wls {
                for &shift in shifts {
                    let spec = Spec {
                        wl,
                        rounding,
                        overflow,
                    };
                    for &n in lens {
                        seed += 1;
                        let src = inputs::<I>(n, seed);
                        let mut want = vec![O::default(); n];
                        let mut bits = Xoshiro::new(seed, 0);
                        let ev =
                            Platform::Portable.requantize(spec, shift, &src, &mut want, &mut bits);
                        let tail = bits.next_word();
                        for p in Platform::all() {
                            let mut got = vec![O::default(); n];
                            let mut bits = Xoshiro::new(seed, 0);
                            let ev2 = p.requantize(spec, shift, &src, &mut got, &mut bits);
                            let ctx = format!(
                                "{} i{}->i{} {rounding} {overflow} wl={wl} shift={shift} n={n}",
                                p.name(),
                                I::BITS,
                                O::BITS
                            );
                            assert!(
                                want.iter().zip(&got).all(|(a, b)| a.to_i64() == b.to_i64()),
                                "{ctx}"
                            );
                            assert_eq!(ev, ev2, "{ctx}");
                            // Same number of words consumed.
                            assert_eq!(tail, bits.next_word(), "{ctx}");
                        }
                    }
                }
            }
        }
    }
}

/// [`check`] on every mode of `ROUNDINGS`, word lengths 2, the container and two less, shifts
/// negative, zero, small, one below the input container's width and beyond 32 bits, and
/// lengths that end mid-word and span several blocks.
fn check_pair<I: Code, O: Code>() {
    let wls: Vec<u32> = [2, O::BITS - 2, O::BITS]
        .into_iter()
        .filter(|&w| w >= 2)
        .collect();
    let shifts = [-3, 0, 1, 4, I::BITS as i32 - 1, 40, 62];
    check::<I, O>(&ROUNDINGS, &wls, &shifts, &[0, 1, 7, 63, 257, 1031], 1);
}

/// [`check`] on the given modes, shifts and lengths, word lengths 2, the container and one
/// less.
fn check_modes<I: Code, O: Code>(roundings: &[Rounding], shifts: &[i32], lens: &[usize]) {
    check::<I, O>(roundings, &[2, O::BITS - 1, O::BITS], shifts, lens, 1000);
}

/// Every packing `R = 0..=32` (the specialized 1, 2, 4, 8, 16 and the generic unpacking,
/// the lane bounds `R = 15`/`16` and `31`/`32`) with shifts on both sides of each lane
/// bound (15/16 for `i16` lanes, 31/32 for `i32` lanes), containers narrower, equal and
/// wider, and lengths that end mid-word and span several blocks.
#[test]
fn requantize_every_packing_and_lane_bound() {
    let mut roundings = vec![Rounding::StochasticExact];
    for r in 0..=32 {
        roundings.push(Rounding::Stochastic { bits: r });
        roundings.push(Rounding::StochasticCorrected { bits: r });
    }
    let lens = [13usize, 1500];
    let shifts = [1, 8, 15, 16, 31, 32];
    check_modes::<i16, i8>(&roundings, &shifts, &lens);
    check_modes::<i8, i16>(&roundings, &shifts, &lens);
    check_modes::<i16, i32>(&roundings, &shifts, &lens);
    check_modes::<i32, i32>(&roundings, &shifts, &lens);
    check_modes::<i64, i16>(&roundings, &shifts, &lens);
    // Deterministic modes in every lane width, including the exact ties.
    let det = [
        Rounding::NearestEven,
        Rounding::NearestAway,
        Rounding::Floor,
        Rounding::TowardZero,
    ];
    let shifts = [1, 2, 4, 7, 15, 16, 31, 32, 33, 47];
    check_modes::<i8, i8>(&det, &shifts, &lens);
    check_modes::<i16, i16>(&det, &shifts, &lens);
    check_modes::<i32, i8>(&det, &shifts, &lens);
    check_modes::<i64, i64>(&det, &shifts, &lens);
}

#[test]
fn requantize_paths_bit_identical() {
    check_pair::<i16, i8>();
    check_pair::<i32, i16>();
    check_pair::<i64, i32>();
    check_pair::<i32, i8>();
    check_pair::<i64, i8>();
    check_pair::<i8, i8>();
}

fn check_f64<O: Code>() {
    let mut g = Xoshiro::new(5, 5);
    let mut src: Vec<f64> = (0..1031)
        .map(|i| {
            let w = g.next_word();
            let mag = (w >> 11) as f64 / (1u64 << 53) as f64;
            let e = (i % 40) - 20;
            let v = mag * 2f64.powi(e);
            if w & 1 == 1 {
                -v
            } else {
                v
            }
        })
        .collect();
    src.extend([
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        1e300,
        -1e300,
        0.5,
        -0.5,
    ]);
    src.extend([0.03125, -0.03125, 0.09375, 2f64.powi(70) + 2f64.powi(20)]);
    // Small negative values, where `1 + y` rounds in f64 (ties that are not ties, fractions
    // that round to 1), at every fl of the loop below.
    for fl in [0, 3, 4, 20, 62] {
        let s = 2f64.powi(-fl);
        for e in [54, 60, 80, 200] {
            src.extend([
                (-0.5 + 2f64.powi(-e)) * s,
                -(2f64.powi(-e)) * s,
                (-0.5 - 2f64.powi(-e)) * s,
            ]);
        }
    }
    src.extend([-1e-20, -1e-300, -5e-324, -0.031249999999999997]);
    // Around 2^51 and 2^52 in units of Δ (fl = 0), where the lane code hands over to the
    // reference: ties, odd and even neighbours, both signs.
    let two51 = 2f64.powi(51);
    for v in [
        two51 - 1.5,
        two51 - 0.5,
        two51,
        two51 + 0.5,
        2.0 * two51 - 0.5,
        2.0 * two51 + 1.0,
    ] {
        src.extend([v, -v]);
    }
    for &rounding in &ROUNDINGS {
        for overflow in [Overflow::Saturate, Overflow::Wrap] {
            for fl in [0u32, 3, 4, 20, 62] {
                let spec = Spec {
                    wl: O::BITS.min(wl_hint(fl)),
                    rounding,
                    overflow,
                };
                for n in [0usize, 1, 9, 200, src.len()] {
                    let mut want = vec![O::default(); n];
                    let mut bits = Xoshiro::new(fl as u64, 1);
                    let ev =
                        Platform::Portable.quantize_f64(spec, fl, &src[..n], &mut want, &mut bits);
                    let tail = bits.next_word();
                    for p in Platform::all() {
                        let mut got = vec![O::default(); n];
                        let mut bits = Xoshiro::new(fl as u64, 1);
                        let ev2 = p.quantize_f64(spec, fl, &src[..n], &mut got, &mut bits);
                        let ctx = format!("{} {rounding} {overflow} fl={fl} n={n}", p.name());
                        assert!(
                            want.iter().zip(&got).all(|(a, b)| a.to_i64() == b.to_i64()),
                            "{ctx}"
                        );
                        assert_eq!(ev, ev2, "{ctx}");
                        assert_eq!(tail, bits.next_word(), "{ctx}");
                    }
                }
            }
        }
    }
}

fn wl_hint(fl: u32) -> u32 {
    (fl + 3).clamp(2, 64)
}

#[test]
fn quantize_f64_paths_bit_identical() {
    check_f64::<i8>();
    check_f64::<i16>();
    check_f64::<i64>();
}
