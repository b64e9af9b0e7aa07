use lpmc_kernels::bits::*;

/// Every width that has default taps, with them.
fn default_taps() -> impl Iterator<Item = (u32, u64)> {
    (2..=64).filter_map(|w| Lfsr::default_taps(w).map(|t| (w, t)))
}

/// A stream is the reference xoshiro256++ (`rand_xoshiro`) started from the documented
/// SplitMix64 derivation, for single and bulk draws.
#[test]
fn stream_matches_reference_xoshiro() {
    use rand_core::{Rng, SeedableRng};
    for (seed, stream) in [(42u64, 3u64), (0, 0), (u64::MAX, 1 << 40)] {
        let mut x = Xoshiro::new(seed, stream);
        let k = mix64(mix64(seed) ^ stream);
        let want: [u64; 4] =
            std::array::from_fn(|i| mix64(k.wrapping_add((i as u64 + 1).wrapping_mul(PHI))));
        assert_eq!(x.state(), want);
        let mut bytes = [0u8; 32];
        for (i, w) in want.iter().enumerate() {
            bytes[8 * i..8 * i + 8].copy_from_slice(&w.to_le_bytes());
        }
        let mut r = rand_xoshiro::Xoshiro256PlusPlus::from_seed(bytes);
        let mut got = vec![0u64; 3];
        x.fill(&mut got);
        let mut bulk = vec![0u64; 37];
        x.fill(&mut bulk);
        got.extend(bulk);
        got.push(x.next_word());
        for (j, w) in got.iter().enumerate() {
            assert_eq!(*w, r.next_u64(), "word {j}");
        }
    }
}

/// Generators stepped side by side give each generator's own words, and store back its state.
#[test]
fn xoshiro_set_equals_each_generator() {
    let gens: Vec<Xoshiro> = (0..13).map(|j| Xoshiro::new(5, j)).collect();
    let mut set = XoshiroSet::<16>::load(&gens);
    let mut alone = gens.clone();
    let mut row = [0u64; 16];
    for _ in 0..50 {
        set.round(&mut row);
        for (j, g) in alone.iter_mut().enumerate() {
            assert_eq!(row[j], g.next_word());
        }
    }
    let mut back = gens.clone();
    set.store(&mut back);
    assert_eq!(back, alone);
}

/// A jump of k words lands where k draws do, for lengths around every power of two the
/// square-and-multiply meets (0, 1, word and call boundaries), and jumps compose.
#[test]
fn leap_equals_walking() {
    let mut walked = Xoshiro::new(11, 4);
    let mut done = 0u64;
    for k in [0u64, 1, 2, 3, 63, 64, 65, 1000, 2048, 16384, 16385] {
        let mut jumped = walked;
        let leap = Leap::new(k);
        assert_eq!(leap.words(), k);
        leap.apply(&mut jumped);
        for _ in 0..k {
            walked.next_word();
        }
        done += k;
        assert_eq!(jumped, walked, "a jump of {k} after {done} words");
    }
    let (mut twice, mut once) = (Xoshiro::new(2, 0), Xoshiro::new(2, 0));
    let l = Leap::new(777);
    l.apply(&mut twice);
    l.apply(&mut twice);
    Leap::new(1554).apply(&mut once);
    assert_eq!(twice, once);
}

#[test]
fn streams_differ_and_repeat() {
    let draw = |seed, stream| {
        let mut s = Xoshiro::new(seed, stream);
        let mut v = [0u64; 16];
        s.fill(&mut v);
        v
    };
    assert_eq!(draw(1, 0), draw(1, 0));
    assert_ne!(draw(1, 0), draw(1, 1));
    assert_ne!(draw(1, 0), draw(2, 0));
}

/// Carry-less product of two polynomials over GF(2) of degree < 64.
fn clmul(a: u128, b: u128) -> u128 {
    let mut r = 0;
    for i in 0..64 {
        if b >> i & 1 == 1 {
            r ^= a << i;
        }
    }
    r
}

/// `a mod p` over GF(2), `p` of degree `w`.
fn polymod(mut a: u128, p: u128, w: u32) -> u128 {
    for i in (w..128).rev() {
        if a >> i & 1 == 1 {
            a ^= p << (i - w);
        }
    }
    a
}

/// `x^e mod p`.
fn xpow(mut e: u128, p: u128, w: u32) -> u128 {
    let mut base = polymod(2, p, w);
    let mut acc = 1u128;
    while e > 0 {
        if e & 1 == 1 {
            acc = polymod(clmul(acc, base), p, w);
        }
        base = polymod(clmul(base, base), p, w);
        e >>= 1;
    }
    acc
}

fn prime_factors(mut n: u128) -> Vec<u128> {
    let mut f = vec![];
    let mut d = 2;
    while d * d <= n {
        if n.is_multiple_of(d) {
            f.push(d);
            while n.is_multiple_of(d) {
                n /= d;
            }
        }
        d += 1;
    }
    if n > 1 {
        f.push(n);
    }
    f
}

/// The feedback polynomial `x^w + Σ x^(b+1) + 1` of a tap mask is primitive: `x` has
/// order exactly `2^w − 1` modulo it, so the register has maximal period.
#[test]
fn default_taps_are_primitive() {
    for (w, taps) in default_taps() {
        let mut p: u128 = 1 | (1u128 << w);
        for b in 0..w - 1 {
            if taps >> b & 1 == 1 {
                p |= 1u128 << (b + 1);
            }
        }
        let order = (1u128 << w) - 1;
        assert_eq!(xpow(order, p, w), 1, "width {w}");
        // Factoring 2^64 − 1 by trial division is slow; its factors are known.
        let factors = if w == 64 {
            vec![3, 5, 17, 257, 641, 65537, 6_700_417]
        } else {
            prime_factors(order)
        };
        for q in factors {
            assert_ne!(xpow(order / q, p, w), 1, "width {w}, factor {q}");
        }
    }
}

/// Brute force agrees with the algebra on every default width small enough to walk.
#[test]
fn lfsr_period_is_maximal() {
    for (w, taps) in default_taps().filter(|(w, _)| *w <= 16) {
        let mut r = Lfsr::new(w, taps, 9).unwrap();
        let start = r.state();
        let mut n = 0u64;
        loop {
            r.step();
            n += 1;
            if r.state() == start {
                break;
            }
        }
        assert_eq!(n, (1u64 << w) - 1, "width {w}");
    }
    // A non-primitive mask has a shorter period: x^4 + x^2 + 1 = (x^2 + x + 1)^2.
    let mut r = Lfsr::new(4, 0xA, 1).unwrap();
    let start = r.state();
    let n = (1..).find(|_| {
        r.step();
        r.state() == start
    });
    assert!(n.unwrap() < 15);
}

#[test]
fn lfsr_rejects_bad_settings() {
    assert!(Lfsr::new(1, 1, 0).is_err());
    assert!(Lfsr::new(65, 1, 0).is_err());
    assert!(Lfsr::new(8, 0x1B8, 0).is_err());
    assert!(Lfsr::new(8, 0x38, 0).is_err());
    assert!(Lfsr::stream(13, 0, 0).is_err());
    assert_ne!(
        Lfsr::stream(32, 1, 0).unwrap().next_word(),
        Lfsr::stream(32, 1, 1).unwrap().next_word()
    );
}

#[test]
fn packing_rule() {
    let words = [0x0123_4567_89AB_CDEFu64, 0xFEDC_BA98_7654_3210];
    assert_eq!(unpack(&words, 0, 8), 0xEF);
    assert_eq!(unpack(&words, 7, 8), 0x01);
    assert_eq!(unpack(&words, 8, 8), 0x10);
    // 3 elements of 20 bits per word; the top 4 bits are dropped.
    assert_eq!(
        unpack(&words, 2, 20),
        (0x0123_4567_89AB_CDEF >> 40) & 0xFFFFF
    );
    assert_eq!(unpack(&words, 3, 20), 0xFEDC_BA98_7654_3210 & 0xFFFFF);
    assert_eq!(words_for(10, 8), 2);
    assert_eq!(words_for(10, 0), 0);
    assert_eq!(words_for(10, 53), 10);
    assert_eq!(words_for(7, 20), 3);
}
