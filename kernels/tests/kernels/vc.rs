use lpmc_kernels::drivers::{reference, State};
use lpmc_kernels::lane::Fmt;
use lpmc_kernels::noise::box_muller_pair;
use lpmc_kernels::rules::vc::{code_var, qvc_code, qvc_value, QvcLanes, V0};
use lpmc_kernels::rules::{Datapath, Dynamics, Gradient, Noise, Step, Variant};
use lpmc_kernels::{Code, Overflow, Rounding, WordSource, Xoshiro};

fn fmt(wl: u32, fl: u32, overflow: Overflow) -> Fmt {
    Fmt { wl, fl, overflow }
}

/// The batch form of Q^vc equals the scalar definition element by element, in both variance
/// regimes, both overflow rules, with means on and off the grid, near the range edges, far
/// outside it and non-finite (those batches take the scalar path).
#[test]
fn qvc_lanes_equal_qvc_value() {
    let mut g = Xoshiro::new(3, 1);
    let mut unit = || (g.next_word() >> 11) as f64 / (1u64 << 53) as f64;
    let mut checked = 0;
    for to in [
        fmt(8, 4, Overflow::Saturate),
        fmt(8, 4, Overflow::Wrap),
        fmt(16, 10, Overflow::Saturate),
        fmt(5, 1, Overflow::Wrap),
    ] {
        let d2 = to.delta() * to.delta();
        for var in [0.0, 0.13 * d2, V0 * d2 * 1.01, 7.3 * d2, 1e6 * d2] {
            for spread in [0.5, 8.0, 1e3, 1e20] {
                let n = 257;
                let mut mu: Vec<f64> = (0..n).map(|_| (unit() - 0.5) * spread).collect();
                if spread > 1e10 {
                    mu[3] = f64::NAN;
                    mu[4] = f64::INFINITY;
                }
                let mut w = Xoshiro::new(checked, 0);
                let words: Vec<[u64; 2]> = (0..n).map(|_| [w.next_word(), w.next_word()]).collect();
                let z: Vec<f64> = words
                    .iter()
                    .map(|p| box_muller_pair(p[0], p[1]).0)
                    .collect();
                let (w0, w1): (Vec<u64>, Vec<u64>) =
                    words.iter().map(|p| (p[1] ^ p[0], p[1])).unzip();
                let mut out = vec![0i64; n];
                let ev = QvcLanes::new(to, var).run(&mu, &z, &w0, &w1, &mut out);
                let mut want_ev = 0;
                for j in 0..n {
                    let (c, e) = qvc_value(mu[j], var, to, z[j], [w0[j], w1[j]]);
                    assert_eq!(out[j], c, "{to:?} var {var} mu {}", mu[j]);
                    want_ev += e as u64;
                }
                assert_eq!(ev, want_ev);
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 4 * 5 * 4);
}

/// One reference SGLD `vc-l` step on the integer datapath at a known state gives the code
/// `qvc_code` gives for the mean worked out by hand, from the words the layout assigns: the
/// normal pair (words 0, 1), then x's SR uniform (word 2) and categorical uniform (word 3).
#[test]
fn reference_step_is_qvc_of_the_mean() {
    let f = fmt(8, 4, Overflow::Saturate);
    // η = 1/64 in Q(16, 12): x' has mean x − x/64 (the gradient of N(0, 1) is x, exact).
    let s = Step {
        dynamics: Dynamics::Sgld,
        variant: Variant::VcL,
        datapath: Datapath::Integer,
        rounding: Rounding::NearestEven,
        x: f,
        v: f,
        param: f,
        grad: f,
        accum: fmt(24, 16, Overflow::Saturate),
        noise_fmt: fmt(16, 12, Overflow::Saturate),
        coef_fl: 12,
        int_coefs: [64, 0, 0, 0, 0, 0, 0],
        coefs: [0.0; 7],
        vc_var: [2.0 / 64.0, 0.0, 0.0],
        gradient: Gradient::IntGauss {
            prec: &[4096],
            mean: &[0],
            prec_fl: 12,
        },
        grad_noise: 0.0,
        noise: Noise::BoxMuller,
        rescale: None,
    };
    assert_eq!(s.grad_bits(), 0);
    assert_eq!(s.layout(1).words(), 4);
    let mut x = [32i8]; // 2.0
    let mut words = [0u64; 4];
    let st = State::Codes {
        x: i8::slice_mut(&mut x),
        v: None,
    };
    reference::run(&s, st, &mut 1.0, 1, &mut Xoshiro::new(5, 0), &mut words);
    let mut w = [0u64; 4];
    Xoshiro::new(5, 0).fill(&mut w);
    let z = box_muller_pair(w[0], w[1]).0;
    // Mean 2 − 2/64 in code units of Q(8, 4): 32 − 0.5; variance 2/64·256 = 8.
    let want = qvc_code(31.5, code_var(2.0 / 64.0, 4), z, [w[2], w[3]]);
    assert_eq!(x[0] as i128, want);
}
