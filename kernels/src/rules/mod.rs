//! The update rules: one per sampler, written once, generic over the lane type, and the
//! description of a step ([`Step`]) that the drivers ([`crate::drivers`]) run.
//!
//! # A step, in stages
//! Every variant of both samplers on both datapaths is the same sequence of stages, each a
//! loop over a batch of elements (coordinates of one chain, or one coordinate of many
//! chains):
//! 1. **position** — the gradient's argument: `x` itself, or for `lp-f` `Q_W(x)` (the state
//!    rounded to the `param` format first; [`stages`]);
//! 2. **gradient** — `∇U` at the position: exact integer products for a diagonal Gaussian on
//!    the integer datapath ([`Gradient::IntGauss`]), else `f64` (a diagonal Gaussian, a 1-D
//!    mixture, or a gradient the caller computed, [`Gradient::Given`]), plus `σ_g·ξ` gradient
//!    noise, then `Q_G` to the `grad` format (not for `fp`);
//! 3. **noise** — the Langevin noise: `f64` normals (float datapath), or fixed-point codes of
//!    the `noise` format (integer datapath: `clt:K:B`, `table:T`, or Box–Muller normals rounded
//!    to nearest);
//! 4. **the rule** — the sampler's linear update, [`sgld::Sgld`] or [`sghmc::Sghmc`]: exact
//!    wide sums in the accumulator (integer) or `f64` sums (float);
//! 5. **quantizers** — the new state: `Q_W`/`Q_V` ([`crate::lane::Rq`] from the accumulator,
//!    [`crate::lane::RoundF64`] from `f64`), the variance-corrected `Q^vc` ([`vc`]), or none
//!    (`fp`, `lp-f`: the sum is the state).
//!
//! The variants differ only in which stages they take:
//!
//! | variant | position | gradient | noise in the rule | quantizers |
//! |---|---|---|---|---|
//! | `fp` | x (f64) | ∇U (+σ_g ξ), unrounded | yes | none |
//! | `lp-f` | Q_W(x) | Q_G(∇U + σ_g ξ) | yes | none (state in f64 / `accum`) |
//! | `lp-l` | x (codes) | Q_G(∇U + σ_g ξ) | yes | Q_W (SGHMC: Q_V, Q_W) |
//! | `vc-l` | x (codes) | Q_G(∇U + σ_g ξ) | no | Q^vc(mean, Var ξ) per quantity |
//! | `vc-joint` (SGHMC) | x (codes) | Q_G(∇U + σ_g ξ) | no | joint Q^vc of (x, v) |
//!
//! # Random bits
//! The regions a step draws, in order, and how they pack into words: [`crate::layout`].
//! [`Step::layout`] builds them from the configuration.

pub mod sghmc;
pub mod sgld;
pub mod stages;
pub mod vc;

use crate::lane::Fmt;
use crate::layout::{Entry, Layout, Region, REGIONS};
use crate::Rounding;

/// How a step computes (see the [module docs](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Datapath {
    /// `f64` update from the dequantized state, then one rounding to the state format.
    Float,
    /// Coefficient codes, exact products and sums in the accumulator, one requantization.
    Integer,
}

/// Which variant of a sampler.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Variant {
    /// Full precision: nothing quantized, state in `f64`.
    Fp,
    /// Full-precision state (`f64`, or `accum` codes on the integer datapath), gradient at
    /// `Q_W(x)`, rounded by `Q_G`.
    LpF,
    /// State stored in the `param` (and momentum) format, each update rounded once.
    LpL,
    /// Variance-corrected: the noise and the rounding as one `Q^vc` draw per quantity.
    VcL,
    /// SGHMC only: the joint `Q^vc` of `(x, v)` that keeps their noise covariance.
    VcJoint,
}

impl core::fmt::Display for Variant {
    /// The variant's name in configs: `fp`, `lp-f`, `lp-l`, `vc-l`, `vc-joint`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Variant::Fp => "fp",
            Variant::LpF => "lp-f",
            Variant::LpL => "lp-l",
            Variant::VcL => "vc-l",
            Variant::VcJoint => "vc-joint",
        })
    }
}

/// Which sampler.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dynamics {
    /// Langevin dynamics ([`sgld::Sgld`]): state `x`.
    Sgld,
    /// Underdamped Langevin, exact integrator ([`sghmc::Sghmc`]): state `(x, v)`.
    Sghmc,
}

/// A 1-D mixture of Gaussians as the gradient stage takes it: `∇U(x) = Σ_k r_k(x)·(x − μ_k)/σ²_k`
/// with responsibilities `r_k ∝ exp(ln w_k − ½((x − μ_k)²/σ²_k + ln σ²_k))`
/// ([`stages::mixture_grad`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mixture<'a> {
    /// `ln w_k`.
    pub ln_weights: &'a [f64],
    /// `μ_k`.
    pub means: &'a [f64],
    /// `σ²_k`.
    pub vars: &'a [f64],
    /// `ln σ²_k`.
    pub ln_vars: &'a [f64],
}

/// Where the gradient `∇U` at the position comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Gradient<'a> {
    /// A diagonal Gaussian on the integer datapath, `prec_i·(x_i − μ_i)` exactly: precision
    /// codes with `prec_fl` fraction bits, mean codes in the position's format (each slice of
    /// length `d`, or 1 for "the same for every coordinate"; codes of at most 32 bits).
    IntGauss {
        /// Precision (1/variance) codes.
        prec: &'a [i64],
        /// Mean codes, in the position's format.
        mean: &'a [i64],
        /// Fraction bits of the precision codes (the `coef` format's).
        prec_fl: u32,
    },
    /// A diagonal Gaussian in `f64`: `prec_i·(x_i − μ_i)` (slices of length `d` or 1).
    Gauss {
        /// Precisions 1/σ².
        prec: &'a [f64],
        /// Means.
        mean: &'a [f64],
    },
    /// A 1-D mixture (d = 1).
    Mixture(Mixture<'a>),
    /// `∇U` at the position, computed by the caller (length `d`).
    Given(&'a [f64]),
}

impl Gradient<'_> {
    /// Whether the gradient is computed in `f64` (everything but [`Gradient::IntGauss`]).
    pub fn is_f64(&self) -> bool {
        !matches!(self, Gradient::IntGauss { .. })
    }
}

/// The fixed-point Gaussian generator of the integer datapath.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Noise<'a> {
    /// The centred sum `2·Σu − K(2^B − 1)` of `k` uniform `bits`-bit fields, then a
    /// nearest-even shift right by `shift` bits (left when negative), then the noise format's
    /// overflow rule.
    Clt {
        /// Uniforms per code, 1..=64.
        k: u32,
        /// Bits per uniform, 1..=32.
        bits: u32,
        /// Fraction bits of the sum minus the noise format's FL.
        shift: i32,
    },
    /// `table[u]`, `u` a uniform `bits`-bit field; the entries are codes of the noise format.
    Table {
        /// Index bits, 1..=24; `table.len() == 2^bits`.
        bits: u32,
        /// The `2^bits` codes.
        table: &'a [i64],
    },
    /// A Box–Muller normal `z`, rounded to nearest-even in the noise format, then its overflow
    /// rule.
    BoxMuller,
}

/// Momentum rescaling of \[S\] Algorithm 1 (float datapath, SGHMC `lp-l`/VC): the stored
/// momentum is `v/S`, `S = min(1, max_i |m_v,i|/(headroom·V_max))` recomputed each step from the
/// noise-free mean `m_v` of the new momentum (`S = 1` when that is 0 or not finite).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rescale {
    /// The constant c ≥ 1.
    pub headroom: f64,
    /// The momentum format's largest value.
    pub v_max: f64,
}

/// Overflow events of one or more steps, per quantity: codes the overflow rule changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Events {
    /// The position's roundings (`Q_W`, the `lp-f` pre-rounding, `Q^vc` of x).
    pub param: u64,
    /// The momentum's roundings (`Q_V`, `Q^vc` of v).
    pub momentum: u64,
    /// The gradient's rounding `Q_G`.
    pub grad: u64,
    /// The accumulator's wide sums.
    pub accum: u64,
    /// Noise codes clipped by the noise format.
    pub noise: u64,
}

impl Events {
    /// All events.
    pub fn total(&self) -> u64 {
        self.param + self.momentum + self.grad + self.accum + self.noise
    }
}

impl core::ops::Sub for Events {
    type Output = Events;

    /// The events between two counts of one run (`later − earlier`).
    fn sub(self, o: Events) -> Events {
        Events {
            param: self.param - o.param,
            momentum: self.momentum - o.momentum,
            grad: self.grad - o.grad,
            accum: self.accum - o.accum,
            noise: self.noise - o.noise,
        }
    }
}

impl core::ops::AddAssign for Events {
    fn add_assign(&mut self, o: Events) {
        self.param += o.param;
        self.momentum += o.momentum;
        self.grad += o.grad;
        self.accum += o.accum;
        self.noise += o.noise;
    }
}

/// Everything one step of a chain needs besides its state and random words: the rule's
/// constants, the formats, the gradient and the noise. Built by the sampler (`lpmc::sampler`),
/// run by the drivers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Step<'a> {
    /// SGLD or SGHMC.
    pub dynamics: Dynamics,
    /// Which variant.
    pub variant: Variant,
    /// Float or integer.
    pub datapath: Datapath,
    /// Rounding of every quantization (`Q_W` before the gradient, `Q_G`, `Q_V`, `Q_W`).
    pub rounding: Rounding,
    /// The position's storage format: `param` for `-L`/VC, `accum` for integer `lp-f`
    /// (unused when the state is `f64`).
    pub x: Fmt,
    /// The momentum's storage format (SGHMC; as `x`).
    pub v: Fmt,
    /// The `param` format (`lp-f`: the pre-rounding's target).
    pub param: Fmt,
    /// The gradient's format.
    pub grad: Fmt,
    /// The accumulator (integer datapath), WL ≤ 64.
    pub accum: Fmt,
    /// The noise codes' format (integer datapath).
    pub noise_fmt: Fmt,
    /// Fraction bits of the coefficient codes.
    pub coef_fl: u32,
    /// The rule's coefficients as codes of the `coef` format (integer datapath): SGLD
    /// `[η, √(2η)/s_n]`, SGHMC `[e, c_vg, c_xv, c_xg, n_v, n_xv, n_x]` (see the rules).
    pub int_coefs: [i64; 7],
    /// The same coefficients in `f64` (float datapath; SGHMC's noise scales multiply
    /// standard normals).
    pub coefs: [f64; 7],
    /// Variances of the VC quantizers, value units: SGLD `[2η, 0, 0]`, SGHMC
    /// `[Var ξ^x, Var ξ^v, Cov(ξ^x, ξ^v)]`.
    pub vc_var: [f64; 3],
    /// The gradient.
    pub gradient: Gradient<'a>,
    /// Standard deviation of the Gaussian noise added to an `f64` gradient (≥ 0).
    pub grad_noise: f64,
    /// The fixed-point generator (integer datapath, not VC).
    pub noise: Noise<'a>,
    /// Momentum rescaling (float datapath only).
    pub rescale: Option<Rescale>,
}

impl Step<'_> {
    /// Whether the state is stored in `f64` (`fp`; `lp-f` on the float datapath).
    pub fn f64_state(&self) -> bool {
        self.variant == Variant::Fp
            || (self.variant == Variant::LpF && self.datapath == Datapath::Float)
    }

    /// Whether the step computes in `f64` (the float datapath, and `fp` on either).
    pub fn float_path(&self) -> bool {
        self.datapath == Datapath::Float || self.variant == Variant::Fp
    }

    /// Whether the step has a momentum.
    pub fn momentum(&self) -> bool {
        self.dynamics == Dynamics::Sghmc
    }

    /// Whether the final stage is a variance-corrected quantizer.
    pub fn vc(&self) -> bool {
        matches!(self.variant, Variant::VcL | Variant::VcJoint)
    }

    /// Whether the Langevin noise is fixed-point codes from [`Step::noise`].
    pub fn int_noise(&self) -> bool {
        self.datapath == Datapath::Integer && !self.vc() && self.variant != Variant::Fp
    }

    /// Random bits per coordinate of the `lp-f` pre-rounding (0 for other variants).
    pub fn pre_bits(&self) -> u32 {
        if self.variant != Variant::LpF {
            return 0;
        }
        match self.datapath {
            Datapath::Float => self.rounding.bits_per_f64(),
            Datapath::Integer => self
                .rounding
                .bits_per_code(self.accum.fl as i32 - self.param.fl as i32),
        }
    }

    /// Shift of `Q_G` on the integer gradient: fraction bits of `prec·(x − μ)` minus the
    /// gradient's.
    pub fn grad_shift(&self) -> i32 {
        match self.gradient {
            Gradient::IntGauss { prec_fl, .. } => {
                (prec_fl + self.position_fmt().fl) as i32 - self.grad.fl as i32
            }
            _ => 0,
        }
    }

    /// The format of the gradient's argument: `param` for `lp-f` (after the pre-rounding),
    /// else the state's.
    pub fn position_fmt(&self) -> Fmt {
        if self.variant == Variant::LpF {
            self.param
        } else {
            self.x
        }
    }

    /// Random bits per coordinate of `Q_G`.
    pub fn grad_bits(&self) -> u32 {
        if self.variant == Variant::Fp {
            0
        } else if self.gradient.is_f64() {
            self.rounding.bits_per_f64()
        } else {
            self.rounding.bits_per_code(self.grad_shift())
        }
    }

    /// Random bits per coordinate of the state rounding into `to` (`Q_W`, `Q_V`).
    pub fn state_bits(&self, to: Fmt) -> u32 {
        match self.datapath {
            _ if self.float_path() => self.rounding.bits_per_f64(),
            Datapath::Float => self.rounding.bits_per_f64(),
            Datapath::Integer => self
                .rounding
                .bits_per_code(self.accum.fl as i32 - to.fl as i32),
        }
    }

    /// The regions of one step on `d` coordinates, placed in its words ([`crate::layout`]).
    pub fn layout(&self, d: usize) -> Layout {
        let mut e: [Option<Entry>; REGIONS] = [None; REGIONS];
        let fields = |count: u32, bits: u32| Some(Entry::Fields { count, bits });
        let hmc = self.momentum();
        if self.gradient.is_f64() && self.grad_noise > 0.0 {
            e[Region::GradNoise as usize] = Some(Entry::Normal);
        }
        let normals =
            self.float_path() || self.vc() || (self.int_noise() && self.noise == Noise::BoxMuller);
        if normals {
            e[Region::Normal1 as usize] = Some(Entry::Normal);
            if hmc {
                e[Region::Normal2 as usize] = Some(Entry::Normal);
            }
        }
        if self.vc() {
            e[Region::QvcX0 as usize] = fields(1, 64);
            e[Region::QvcX1 as usize] = fields(1, 64);
            if hmc {
                e[Region::QvcV0 as usize] = fields(1, 64);
                e[Region::QvcV1 as usize] = fields(1, 64);
            }
        }
        e[Region::RoundGrad as usize] = fields(1, self.grad_bits());
        if self.int_noise() {
            let entry = match self.noise {
                Noise::Clt { k, bits, .. } => fields(k, bits),
                Noise::Table { bits, .. } => fields(1, bits),
                Noise::BoxMuller => None,
            };
            e[Region::Noise1 as usize] = entry;
            if hmc {
                e[Region::Noise2 as usize] = entry;
            }
        }
        if self.variant == Variant::LpL {
            if hmc {
                e[Region::RoundV as usize] = fields(1, self.state_bits(self.v));
            }
            e[Region::RoundX as usize] = fields(1, self.state_bits(self.x));
        }
        Layout::new(d, self.pre_bits(), &e)
    }

    /// The narrowest integer lane (32, 64 or 128 bits) in which every intermediate of the
    /// integer datapath provably stays below `2^(bits − 2)` in magnitude (see
    /// [`crate::lane::Rq`]): products and sums bounded by the formats' ranges and the actual
    /// constants (coefficients, precision and mean codes, table entries), the shifts and
    /// random bits of every rounding at most `bits − 2`. 128 always holds (the reference
    /// computes there). Float-datapath steps answer 64 (their codes are `i64`).
    pub fn lane_width(&self) -> u32 {
        if self.float_path() {
            return 64;
        }
        for bits in [32u32, 64] {
            if self.fits(bits) {
                return bits;
            }
        }
        128
    }

    /// Whether every bound of [`Step::lane_width`] holds for `bits`-bit lanes.
    fn fits(&self, bits: u32) -> bool {
        bounds::fits(self, bits).is_some()
    }
}

/// The bounds behind [`Step::lane_width`]: each function returns a bound on a magnitude, or
/// `None` when it reaches the limit `2^(bits − 2)`.
mod bounds {
    use super::*;

    struct Lim(u32);

    impl Lim {
        fn ok(&self, v: u128) -> Option<u128> {
            (v < 1u128 << (self.0 - 2)).then_some(v)
        }

        /// Bound of `A(c·q)` from `from` to `to` fraction bits.
        fn term(&self, c: u128, q: u128, from: u32, to: u32) -> Option<u128> {
            let p = self.ok(c.checked_mul(q)?)?;
            let l = to.saturating_sub(from);
            if l >= self.0 {
                return (p == 0).then_some(0);
            }
            self.ok(p << l)
        }

        /// Bound after a rounding by `shift` of values bounded by `k` (see [`crate::lane::Rq`]).
        fn round(&self, k: u128, shift: i32, rounding: Rounding) -> Option<u128> {
            self.ok(k)?;
            if shift >= 1 {
                if shift as u32 > self.0 - 2 || rounding.bits_per_code(shift) > self.0 - 2 {
                    return None;
                }
                self.ok((k >> shift) + 2)
            } else {
                let l = (-shift) as u32;
                if l >= self.0 {
                    return (k == 0).then_some(0);
                }
                self.ok(k << l)
            }
        }
    }

    fn max_abs(s: &[i64]) -> u128 {
        s.iter()
            .map(|v| v.unsigned_abs() as u128)
            .max()
            .unwrap_or(0)
    }

    /// Bound after the overflow rule of `f`: saturation never grows a magnitude, and a wrap
    /// happens only when `|q|` exceeds `2^(wl−1)`, which bounds the result.
    fn ov(q: u128, f: Fmt) -> u128 {
        q.min(f.max_code())
    }

    pub(super) fn fits(s: &Step, bits: u32) -> Option<()> {
        let lim = Lim(bits);
        let (fa, fc, r) = (s.accum.fl, s.coef_fl, s.rounding);
        let x = lim.ok(s.x.max_code())?;
        let v = if s.momentum() {
            lim.ok(s.v.max_code())?
        } else {
            0
        };
        // The position and the gradient.
        let pos = if s.variant == Variant::LpF {
            let shift = fa as i32 - s.param.fl as i32;
            ov(lim.round(x, shift, r)?, s.param)
        } else {
            x
        };
        let g = match s.gradient {
            Gradient::IntGauss { prec, mean, .. } => {
                let diff = lim.ok(pos + max_abs(mean))?;
                let prod = lim.ok(max_abs(prec).checked_mul(diff)?)?;
                ov(lim.round(prod, s.grad_shift(), r)?, s.grad)
            }
            _ => lim.ok(s.grad.max_code())?,
        };
        // The noise codes.
        let n = if s.int_noise() {
            match s.noise {
                Noise::Clt { k, bits: b, shift } => {
                    if b > bits - 2 {
                        return None;
                    }
                    let t = k as u128 * ((1u128 << b) - 1);
                    lim.ok(2 * t)?;
                    ov(lim.round(t, shift, Rounding::NearestEven)?, s.noise_fmt)
                }
                Noise::Table { table, .. } => lim.ok(max_abs(table))?,
                Noise::BoxMuller => lim.ok(s.noise_fmt.max_code())?,
            }
        } else {
            0
        };
        let c = |j: usize| s.int_coefs[j].unsigned_abs() as u128;
        let (fx, fv, fg, fnz) = (s.x.fl, fc + s.v.fl, fc + s.grad.fl, fc + s.noise_fmt.fl);
        let sum = |terms: &[Option<u128>]| -> Option<u128> {
            let mut t = 0u128;
            for x in terms {
                t = t.checked_add((*x)?)?;
            }
            lim.ok(t)
        };
        let noisy = s.int_noise();
        let nterm = |j: usize| {
            if noisy {
                lim.term(c(j), n, fnz, fa)
            } else {
                Some(0)
            }
        };
        let sums: Vec<u128> = match s.dynamics {
            Dynamics::Sgld => vec![sum(&[
                lim.term(1, x, fx, fa),
                lim.term(c(0), g, fg, fa),
                nterm(1),
            ])?],
            Dynamics::Sghmc => vec![
                sum(&[
                    lim.term(c(0), v, fv, fa),
                    lim.term(c(1), g, fg, fa),
                    nterm(4),
                ])?,
                sum(&[
                    lim.term(1, x, fx, fa),
                    lim.term(c(2), v, fv, fa),
                    lim.term(c(3), g, fg, fa),
                    nterm(5),
                    nterm(6),
                ])?,
            ],
        };
        // The state roundings.
        for (j, &sm) in sums.iter().enumerate() {
            let acc = ov(sm, s.accum);
            let to = if s.momentum() && j == 0 { s.v } else { s.x };
            match s.variant {
                Variant::LpL => {
                    lim.round(acc, fa as i32 - to.fl as i32, r)?;
                }
                // The accumulator code is converted to f64 exactly.
                Variant::VcL | Variant::VcJoint if acc >= 1u128 << 53 => return None,
                _ => {}
            }
        }
        Some(())
    }
}
