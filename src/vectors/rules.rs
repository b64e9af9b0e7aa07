//! The bit-level rules written into `vectors.json` (and stated in `docs/hardware.md`): what
//! a unit computes from the bits it sees, not only the probability law of the result. They
//! restate `lpmc_kernels::portable::round_code`, `round_f64` and `Overflow::apply`; the tests
//! of each producer check every vector against those functions.

use lpmc_kernels::{Overflow, Rounding};

/// The rule of `rounding` on integer input with `s` discarded bits (`s = in.fl − out.fl`),
/// in terms of the input code `k`, `d = k mod 2^s` (the `s` discarded bits, unsigned),
/// `half = 2^(s−1)` and the random bits `u` (the `bits` column).
pub fn integer_rounding(rounding: Rounding, s: i32) -> String {
    if s <= 0 {
        let extra = match rounding.bits_per_code(s) {
            0 => String::new(),
            r => format!(" The {r} random bits are drawn (the packing counts them) but unused."),
        };
        return format!(
            "s = {s} ≤ 0: no bit is discarded; out_pre = k << {} exactly.{extra}",
            -s
        );
    }
    let body = match rounding {
        Rounding::NearestEven => {
            "up iff d > half, or d = half and floor is odd (ties to even)".to_string()
        }
        Rounding::NearestAway => {
            "up iff d > half, or d = half and k ≥ 0 (ties away from zero)".to_string()
        }
        Rounding::Floor => "never up (two's complement truncation)".to_string(),
        Rounding::TowardZero => "up iff k < 0 and d ≠ 0".to_string(),
        Rounding::Stochastic { bits: 0 } => "never up (sr:0 draws no bits: truncation)".into(),
        Rounding::Stochastic { bits: r } => format!(
            "t = the {r} most significant discarded bits ({}); up iff t + u ≥ 2^{r} (the carry out of an {r}-bit adder); P(up) = t/2^{r}",
            if r as i32 <= s {
                format!("d >> {}", s - r as i32)
            } else {
                format!("d << {}, zero-padded", r as i32 - s)
            }
        ),
        Rounding::StochasticExact => format!(
            "u has s = {s} bits; up iff d + u ≥ 2^{s} (the carry out of an {s}-bit adder), so P(up) = d/2^{s}. A unit that rounds up iff u < d has the same law but other bits: it is not bit-exact"
        ),
        Rounding::StochasticCorrected { bits: 0 } => {
            "t = d rounded to 0 bits, ties to even: t = 1 iff d > half; up iff t = 1 (src:0 draws no bits)".into()
        }
        Rounding::StochasticCorrected { bits: r } => format!(
            "t = d rounded to {r} bits, ties to even ({}), t ∈ [0, 2^{r}]; up iff t + u ≥ 2^{r}; P(up) = t/2^{r}",
            if r as i32 >= s {
                format!("d << {}", r as i32 - s)
            } else {
                let sh = s - r as i32;
                format!(
                    "q = d >> {sh}, rem = d mod 2^{sh}: t = q + 1 iff rem > 2^{} or (rem = 2^{} and q odd)",
                    sh - 1,
                    sh - 1
                )
            }
        ),
    };
    format!("floor = k >> {s} (arithmetic); {body}; out_pre = floor + up")
}

/// The rule of `rounding` on `f64` input `x` rounded to `fl` fraction bits.
pub fn f64_rounding(rounding: Rounding, fl: u32) -> String {
    let head = format!(
        "y = x·2^{fl} (exact), floor = ⌊y⌋, f = y − floor ∈ [0, 1) taken exactly (not rounded in f64)"
    );
    let body = match rounding {
        Rounding::NearestEven => "up iff f > ½, or f = ½ and floor is odd".to_string(),
        Rounding::NearestAway => "up iff f > ½, or f = ½ and y ≥ 0".to_string(),
        Rounding::Floor => "never up".to_string(),
        Rounding::TowardZero => "up iff y < 0 and f ≠ 0".to_string(),
        Rounding::Stochastic { bits: r } => {
            format!("t = ⌊f·2^{r}⌋; up iff t + u ≥ 2^{r} ({r} random bits u)")
        }
        Rounding::StochasticExact => {
            "u has 53 bits; up iff u < ⌈f·2^53⌉, i.e. iff u < f·2^53".to_string()
        }
        Rounding::StochasticCorrected { bits: 0 } => "up iff f > ½ (t = round_half_even(f))".into(),
        Rounding::StochasticCorrected { bits: r } => {
            format!("t = round_half_even(f·2^{r}) ∈ [0, 2^{r}]; up iff t + u ≥ 2^{r}")
        }
    };
    format!(
        "{head}; {body}; out_pre = floor + up. NaN → code 0 with overflow 1; ±∞ → the extreme code (saturated, whatever the rule) with overflow 1; |y| ≥ 2^126 counts as ±2^126"
    )
}

/// The overflow rule bringing `out_pre` into `wl` bits.
pub fn overflow(rule: Overflow, wl: u32) -> String {
    match rule {
        Overflow::Saturate => format!(
            "saturate: out = clamp(out_pre, −2^{}, 2^{} − 1); overflow = 1 iff out ≠ out_pre",
            wl - 1,
            wl - 1
        ),
        Overflow::Wrap => format!(
            "wrap: out = the low {wl} bits of out_pre, sign-extended (two's complement modulo 2^{wl}); overflow = 1 iff out ≠ out_pre"
        ),
    }
}

/// How element `i` of one kernel call takes its `r` random bits from the stream's words.
pub fn packing(r: u32) -> String {
    if r == 0 {
        return "no random bits: nothing is drawn".into();
    }
    let p = 64 / r;
    format!(
        "element i uses bits [(i mod {p})·{r}, (i mod {p})·{r} + {r}) of stream word ⌊i/{p}⌋ ({p} elements per 64-bit word, bit 0 the least significant; the top {} bits of a word are unused)",
        64 - p * r
    )
}

/// The integer code of each rounding mode in the RTL (`Mode` parameter of `lpmc_requantize`).
pub fn rtl_mode(rounding: Rounding) -> i64 {
    match rounding {
        Rounding::NearestEven => 0,
        Rounding::NearestAway => 1,
        Rounding::Floor => 2,
        Rounding::TowardZero => 3,
        Rounding::Stochastic { .. } => 4,
        Rounding::StochasticExact => 5,
        Rounding::StochasticCorrected { .. } => 6,
    }
}

/// The `R` parameter of `lpmc_requantize` (random bits of `sr:R`/`src:R`, 0 otherwise).
pub fn rtl_r(rounding: Rounding) -> i64 {
    match rounding {
        Rounding::Stochastic { bits } | Rounding::StochasticCorrected { bits } => bits as i64,
        _ => 0,
    }
}
