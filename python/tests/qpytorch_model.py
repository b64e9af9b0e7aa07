"""QPyTorch's fixed_point_quantize (qtorch 0.3, CPU kernel quant_cpu.cpp) re-stated in NumPy
float32, for measuring where lpmc's exact integer rounding differs from it when torch and
QPyTorch are not installed. The kernel, per element, all in float32:

    y = ldexp(a, fl); o = floor(y + r); o = ldexp(o, -fl); if clamp: o = clamp(o, t_min, t_max)

with r = rand_like(a) (a float32 uniform on [0, 1) with 24 random bits) for "stochastic"
and r = 0.5 for "nearest"; t_min = -2^(wl-fl-1) (+2^-fl when symmetric), t_max =
2^(wl-fl-1) - 2^-fl. Inputs are float32 tensors (QPyTorch's CHECK_INPUT).
"""

import numpy as np


def fixed_point_quantize_f32(x, wl, fl, clamp=True, symmetric=False, rounding="stochastic", rng=None, r=None):
    a = np.asarray(x, dtype=np.float32)
    if rounding == "stochastic":
        if r is None:
            r = (rng or np.random.default_rng()).random(a.shape, dtype=np.float32)
        r = np.asarray(r, dtype=np.float32)
    else:
        r = np.float32(0.5)
    y = np.ldexp(a, np.int32(fl)).astype(np.float32)
    o = np.floor(np.add(y, r, dtype=np.float32))
    o = np.ldexp(o, np.int32(-fl)).astype(np.float32)
    t_min = -np.ldexp(1.0, wl - fl - 1)
    t_max = -t_min - np.ldexp(1.0, -fl)
    if symmetric:
        t_min = t_min + np.ldexp(1.0, -fl)
    if clamp:
        o = np.clip(o, np.float32(t_min), np.float32(t_max))
    return o.astype(np.float32)


def p_up_f32(y, fl=0):
    """QPyTorch's exact P(round up) for one float32 y = x * 2^fl: the share of the 2^24
    values r = k * 2^-24 for which floor(fl32(y + r)) > floor(y)."""
    y = np.float32(y)
    r = (np.arange(1 << 24, dtype=np.float64) * 2.0**-24).astype(np.float32)
    up = np.floor(np.add(y, r, dtype=np.float32)) > np.floor(y)
    return float(np.count_nonzero(up)) / (1 << 24)
