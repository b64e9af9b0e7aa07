use lpmc_kernels::bits::{unpack, WordSource, Xoshiro};
use lpmc_kernels::noise::*;

/// Mean and variance of `n` Box–Muller normals: with n = 2·10⁵, the standard error of the
/// mean is 1/√n ≈ 0.0022 and of the variance √(2/n) ≈ 0.0032; 5 standard errors bound both.
#[test]
fn box_muller_moments() {
    let mut z = vec![0.0; 200_001];
    box_muller(&mut Xoshiro::new(3, 0), &mut z);
    let n = z.len() as f64;
    let m = z.iter().sum::<f64>() / n;
    let v = z.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n;
    assert!(m.abs() < 5.0 / n.sqrt(), "{m}");
    assert!((v - 1.0).abs() < 5.0 * (2.0 / n).sqrt(), "{v}");
}

/// The packed reference: the same outputs computed with [`unpack`] on the drawn words.
#[test]
fn clt_and_table_follow_the_packing_rule() {
    for (k, b, n) in [(1u32, 1u32, 70usize), (4, 16, 33), (3, 7, 41), (12, 32, 9)] {
        let mut out = vec![0i64; n];
        clt(k, b, &mut Xoshiro::new(5, 1), &mut out);
        let total = n * k as usize;
        let per = (64 / b) as usize;
        let mut words = vec![0u64; total.div_ceil(per)];
        Xoshiro::new(5, 1).fill(&mut words);
        for (i, o) in out.iter().enumerate() {
            let s: i64 = (0..k as usize)
                .map(|m| unpack(&words, i * k as usize + m, b) as i64)
                .sum();
            assert_eq!(
                *o,
                2 * s - k as i64 * ((1i64 << b) - 1),
                "k={k} b={b} i={i}"
            );
        }
    }
    let t = 5;
    let tab: Vec<i64> = (0..32).map(|i| i * 3 - 40).collect();
    let mut out = vec![0i64; 29];
    table(&tab, t, &mut Xoshiro::new(2, 0), &mut out);
    let mut words = vec![0u64; 29usize.div_ceil(12)];
    Xoshiro::new(2, 0).fill(&mut words);
    for i in 0..29 {
        assert_eq!(out[i], tab[unpack(&words, i, t) as usize]);
    }
}

/// The CLT output's variance matches k(4^b − 1)/3 (SE of a variance estimate ≈ √(2/n)·σ²
/// for near-Gaussian data; 5 SE).
#[test]
fn clt_variance() {
    let mut out = vec![0i64; 100_000];
    clt(4, 6, &mut Xoshiro::new(9, 0), &mut out);
    let n = out.len() as f64;
    let m = out.iter().sum::<i64>() as f64 / n;
    let v = out.iter().map(|&x| (x as f64 - m).powi(2)).sum::<f64>() / n;
    let want = clt_var(4, 6);
    assert!(
        (v / want - 1.0).abs() < 5.0 * (2.0 / n).sqrt(),
        "{v} vs {want}"
    );
}

/// The Box–Muller pair as its doc states it, with `libm`'s `log`, `sqrt` and `sincos`.
fn libm_pair(w1: u64, w2: u64) -> [f64; 2] {
    let u1 = ((w1 >> 11) + 1) as f64 / 9_007_199_254_740_992.0;
    let u2 = (w2 >> 11) as f64 / 9_007_199_254_740_992.0;
    let r = libm::sqrt(-2.0 * libm::log(u1));
    let (s, c) = libm::sincos(2.0 * std::f64::consts::PI * u2);
    [r * c, r * s]
}

/// `box_muller` and every window of `box_muller_at` (which the fused `vc-l` kernels take
/// per block) give exactly the documented formula's bits: on random words, on `u₁` at every
/// power of two from 2^−53 to 1 and one code either side, and on u₁ = 1.
#[test]
fn box_muller_is_the_libm_formula() {
    let mut words = vec![0u64; 2 * 200_000];
    Xoshiro::new(12, 0).fill(&mut words);
    // Edge u₁ = (m + 1)·2^−53 for m = 2^k − 2, 2^k − 1, 2^k (u₁ just below, at, just above
    // 2^(k−53)), and m = 2^53 − 1 (u₁ = 1, ln u₁ = 0).
    let mut e = 0;
    for k in 1..=53u32 {
        for m in [(1u64 << k) - 2, (1 << k) - 1, (1 << k).min((1 << 53) - 1)] {
            words[2 * e] = (m << 11) | (e as u64 & 0x7ff);
            e += 1;
        }
    }
    let n = words.len();
    let mut all = vec![0.0; n];
    box_muller(&mut words.iter().copied().collect::<Source>(), &mut all);
    for (j, z) in all.chunks(2).enumerate() {
        let want = libm_pair(words[2 * j], words[2 * j + 1]);
        assert_eq!(
            [z[0].to_bits(), z[1].to_bits()],
            want.map(f64::to_bits),
            "pair {j}: w1 = {:#x}",
            words[2 * j]
        );
    }
    for (start, len) in [
        (0, 1),
        (1, 1),
        (1, 130),
        (2, 127),
        (3, 0),
        (77, 1000),
        (0, n),
    ] {
        let mut out = vec![0.0; len];
        box_muller_at(&words, start, &mut out);
        let want: Vec<u64> = all[start..start + len]
            .iter()
            .map(|v| v.to_bits())
            .collect();
        let got: Vec<u64> = out.iter().map(|v| v.to_bits()).collect();
        assert!(got == want, "window {start}+{len}");
    }
}

/// A word source replaying a fixed list.
struct Source(std::vec::IntoIter<u64>);

impl FromIterator<u64> for Source {
    fn from_iter<I: IntoIterator<Item = u64>>(it: I) -> Self {
        Source(it.into_iter().collect::<Vec<_>>().into_iter())
    }
}

impl WordSource for Source {
    fn next_word(&mut self) -> u64 {
        self.0.next().expect("enough words")
    }
}

/// The angle `2πu₂` at every branch of `libm::sincos` in [0, 2π): ±300 codes of `u₂` around
/// each threshold of the high word (tiny, π/4, the n = 1…4 reductions and the medium cases),
/// random angles inside the medium windows (|x| ≈ π/2, π, 3π/2, 2π in the high word) and
/// ±3000 codes around u₂ = ¼, ½, ¾ (x next to a multiple of π/2: the second and third
/// reduction rounds). Every pair must be the `libm` formula's bits.
#[test]
fn box_muller_angles_at_every_branch() {
    let turn = 2.0 * std::f64::consts::PI;
    let code = |x: f64| ((x / turn) * 9_007_199_254_740_992.0) as i64;
    let mut codes: Vec<i64> = Vec::new();
    let mut g = Xoshiro::new(21, 0);
    let thresholds: [u64; 10] = [
        0x3e46a09e, 0x3fe921fb, 0x3ff921fb, 0x4002d97c, 0x400921fb, 0x400f6a7a, 0x4012d97c,
        0x4015fdbc, 0x401921fb, 0x401c463b,
    ];
    for t in thresholds {
        let (lo, hi) = (f64::from_bits(t << 32), f64::from_bits((t + 1) << 32));
        for x in [lo, hi] {
            codes.extend((-300..=300).map(|d| code(x) + d));
        }
        for _ in 0..2000 {
            let f = (g.next_word() >> 11) as f64 / 9_007_199_254_740_992.0;
            codes.push(code(lo + f * (hi - lo)));
        }
    }
    for q in 1..4i64 {
        codes.extend((-3000..=3000).map(|d| q * (1 << 51) + d));
    }
    let mut words = Vec::new();
    for c in codes.into_iter().filter(|c| (0..1 << 53).contains(c)) {
        words.push(g.next_word());
        words.push((c as u64) << 11 | (g.next_word() & 0x7ff));
    }
    let mut out = vec![0.0; words.len()];
    box_muller_at(&words, 0, &mut out);
    for (j, z) in out.chunks(2).enumerate() {
        let want = libm_pair(words[2 * j], words[2 * j + 1]);
        assert_eq!(
            [z[0].to_bits(), z[1].to_bits()],
            want.map(f64::to_bits),
            "pair {j}: u2 code {}",
            words[2 * j + 1] >> 11
        );
    }
}
