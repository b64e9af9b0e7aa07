use lpmc_kernels::bits::{unpack, WordSource, XoshiroLanes};
use lpmc_kernels::noise::*;

/// Mean and variance of `n` Box–Muller normals: with n = 2·10⁵, the standard error of the
/// mean is 1/√n ≈ 0.0022 and of the variance √(2/n) ≈ 0.0032; 5 standard errors bound both.
#[test]
fn box_muller_moments() {
    let mut z = vec![0.0; 200_001];
    box_muller(&mut XoshiroLanes::new(3, 0), &mut z);
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
        clt(k, b, &mut XoshiroLanes::new(5, 1), &mut out);
        let total = n * k as usize;
        let per = (64 / b) as usize;
        let mut words = vec![0u64; total.div_ceil(per)];
        XoshiroLanes::new(5, 1).fill(&mut words);
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
    table(&tab, t, &mut XoshiroLanes::new(2, 0), &mut out);
    let mut words = vec![0u64; 29usize.div_ceil(12)];
    XoshiroLanes::new(2, 0).fill(&mut words);
    for i in 0..29 {
        assert_eq!(out[i], tab[unpack(&words, i, t) as usize]);
    }
}

/// The CLT output's variance matches k(4^b − 1)/3 (SE of a variance estimate ≈ √(2/n)·σ²
/// for near-Gaussian data; 5 SE).
#[test]
fn clt_variance() {
    let mut out = vec![0i64; 100_000];
    clt(4, 6, &mut XoshiroLanes::new(9, 0), &mut out);
    let n = out.len() as f64;
    let m = out.iter().sum::<i64>() as f64 / n;
    let v = out.iter().map(|&x| (x as f64 - m).powi(2)).sum::<f64>() / n;
    let want = clt_var(4, 6);
    assert!(
        (v / want - 1.0).abs() < 5.0 * (2.0 / n).sqrt(),
        "{v} vs {want}"
    );
}
