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

/// The Box–Muller pair as its doc states it: `libm`'s `log` and `sqrt`, the angle reduced in
/// turns (quadrant `n`, `y ∈ [−π/4, π/4]`) and `libm`'s `sin`, `cos` of `y`.
fn documented_pair(w1: u64, w2: u64) -> [f64; 2] {
    let u1 = ((w1 >> 11) + 1) as f64 / 9_007_199_254_740_992.0;
    let r = libm::sqrt(-2.0 * libm::log(u1));
    let t = (w2 >> 11) + (1 << 50);
    let n = (t >> 51) & 3;
    let y = ((t & ((1 << 51) - 1)) as f64 - (1u64 << 50) as f64)
        * (std::f64::consts::FRAC_PI_2 / (1u64 << 51) as f64);
    let (s, c) = (libm::sin(y), libm::cos(y));
    let (sin, cos) = [(s, c), (c, -s), (-s, -c), (-c, s)][n as usize];
    [r * cos, r * sin]
}

/// `box_muller` and every window of `box_muller_at` (which the fused `vc-l` kernels take
/// per block) give exactly the documented formula's bits: on random words, on `u₁` at every
/// power of two from 2^−53 to 1 and one code either side, and on u₁ = 1.
#[test]
fn box_muller_is_the_documented_formula() {
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
        let want = documented_pair(words[2 * j], words[2 * j + 1]);
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

/// The angle at every quadrant boundary and every point where the reduced `y` changes side:
/// ±3000 codes of `u₂` around each multiple of ⅛ turn (`u₂` code `k·2^50`), the first and last
/// codes, and random angles. Every pair must be the documented formula's bits, and the
/// values within 2·10^−15 of `r·cos`, `r·sin` of `2πu₂` by `libm` (whose own argument `2πu₂`
/// carries a rounding of up to 2π·2^−53 ≈ 7·10^−16, plus about 1 ulp (2.2·10^−16) for each
/// kernel here and there; the check divides `r` out, so it compares unit vectors).
#[test]
fn box_muller_angles_at_every_octant() {
    let mut codes: Vec<i64> = Vec::new();
    for k in 0..=8i64 {
        codes.extend((-3000..=3000).map(|d| k * (1 << 50) + d));
    }
    let mut g = Xoshiro::new(21, 0);
    codes.extend((0..20_000).map(|_| (g.next_word() >> 11) as i64));
    // One fixed w1 (one r): the accuracy check divides r out.
    let w1 = g.next_word();
    let mut words = Vec::new();
    for c in codes.into_iter().filter(|c| (0..1 << 53).contains(c)) {
        words.push(w1);
        words.push((c as u64) << 11 | (g.next_word() & 0x7ff));
    }
    let mut out = vec![0.0; words.len()];
    box_muller_at(&words, 0, &mut out);
    let u1 = ((w1 >> 11) + 1) as f64 / 9_007_199_254_740_992.0;
    let r = libm::sqrt(-2.0 * libm::log(u1));
    for (j, z) in out.chunks(2).enumerate() {
        let want = documented_pair(words[2 * j], words[2 * j + 1]);
        let code = words[2 * j + 1] >> 11;
        assert_eq!(
            [z[0].to_bits(), z[1].to_bits()],
            want.map(f64::to_bits),
            "pair {j}: u2 code {code}"
        );
        let (s, c) =
            libm::sincos(2.0 * std::f64::consts::PI * code as f64 / 9_007_199_254_740_992.0);
        assert!(
            (z[0] / r - c).abs() <= 2e-15 && (z[1] / r - s).abs() <= 2e-15,
            "pair {j}: u2 code {code}: ({}, {}) vs libm ({c}, {s})",
            z[0] / r,
            z[1] / r
        );
    }
}
