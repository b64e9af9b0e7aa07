//! The kernel setting the `fused` and `lockstep` benches share, that of `lpmc bench`: 8-bit
//! state, N(0, 1) in every coordinate, `sr:8`, gradient in the state's format, accumulator
//! Q(24, 16), coefficients Q(16, 12), `clt:4:8` noise in Q(16, 12).

use lpmc::format::Format;
use lpmc::noise::{IntNormal, NoiseGen};
use lpmc::sampler::sghmc::Coefs;
use lpmc_kernels::fused::{Fmt, GaussGrad, SghmcLpL, SgldLpL};
use lpmc_kernels::vc::{SghmcVcL, SgldVcL};
use lpmc_kernels::{Overflow, Rounding};

/// Precision 1 in Q(·, 12) and mean 0, the same for every coordinate.
static PREC: [i64; 1] = [4096];
static MEAN: [i64; 1] = [0];

fn f(wl: u32, fl: u32) -> Fmt {
    Fmt {
        wl,
        fl,
        overflow: Overflow::Saturate,
    }
}

/// The `clt:4:8` generator in Q(16, 12).
pub fn noise() -> IntNormal {
    IntNormal::new(
        NoiseGen::Clt { k: 4, bits: 8 },
        Format::new(16, 12).unwrap(),
    )
}

/// The SGLD step with positions in Q(8, `sgld_fl`) and the SGHMC step with positions and
/// momenta in Q(8, `hmc_fl`), both drawing their noise from `noise`.
pub fn steps(noise: &IntNormal, sgld_fl: u32, hmc_fl: u32) -> (SgldLpL<'_>, SghmcLpL<'_>) {
    let gen = noise.kernel_gen().unwrap();
    let target = GaussGrad {
        prec: &PREC,
        mean: &MEAN,
        prec_fl: 12,
    };
    let sgld = SgldLpL {
        rounding: Rounding::Stochastic { bits: 8 },
        x: f(8, sgld_fl),
        grad: f(8, sgld_fl),
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
        x: f(8, hmc_fl),
        v: f(8, hmc_fl),
        grad: f(8, hmc_fl),
        accum: f(24, 16),
        coef_fl: 12,
        coefs: [3118, -641, 321, -33, 2733, 308, 405],
        target,
        noise: gen,
        noise_fmt: f(16, 12),
    };
    (sgld, hmc)
}

/// The `vc-l` steps of the same setting: SGLD with η = 2^−9 (variance 2η), SGHMC with the
/// integrator of η = 0.09, u = 2, γ = 3 (Var ξ^v ≈ 0.84 above Δ²/4, Var ξ^x below it: both
/// Q^vc regimes), positions and momenta in Q(8, `fl`).
#[allow(dead_code)] // the lockstep bench has no `vc-l` kernel to run
pub fn vc_steps(fl: u32) -> (SgldVcL<'static>, SghmcVcL<'static>) {
    let target = GaussGrad {
        prec: &PREC,
        mean: &MEAN,
        prec_fl: 12,
    };
    let k = Coefs::new(0.09, 2.0, 3.0, false);
    let sgld = SgldVcL {
        rounding: Rounding::Stochastic { bits: 8 },
        x: f(8, fl),
        grad: f(8, fl),
        accum: f(24, 16),
        coef_fl: 12,
        eta: 8,
        var: 2.0 * 8.0 / 4096.0,
        target,
    };
    let hmc = SghmcVcL {
        rounding: Rounding::Stochastic { bits: 8 },
        x: f(8, fl),
        v: f(8, fl),
        grad: f(8, fl),
        accum: f(24, 16),
        coef_fl: 12,
        coefs: [3118, -641, 321, -33],
        var_v: k.var_v,
        var_x: k.var_x,
        target,
    };
    (sgld, hmc)
}
