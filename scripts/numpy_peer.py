#!/usr/bin/env python3
"""The baseline lpmc's speed is quoted against: the NumPy float32 simulation a researcher
writes instead of using lpmc ("fake quantization" in float32, one thread).

    scripts/numpy_peer.py sgld|sghmc [--coords N] [--steps K] [--wl W] [--fl F] [--repeat R]

N independent coordinates (1-D chains on N(0, 1), or one N-dimensional chain on N(0, I):
the arithmetic is the same) are advanced K steps of the `lp-l` update, each new value
stochastically rounded as `floor(x·2^F + U)·2^-F` with U uniform float32 in [0, 1) and
clipped to Q(W, F):

- SGLD, η = 0.01: x ← Q(x − η·x + √(2η)·ξ)  (∇U(x) = x);
- SGHMC, η = 0.1, u = γ = 2: the exact integrator of Cheng et al. (2018), x and v each
  rounded once per step (the noise pair (ξ^x, ξ^v) with its covariance from two normals).

Prints one JSON object: the best of R wall times (seconds) of the K steps, the rate in
dim-steps per second and the settings. The random bits are NumPy's PCG64 float32 draws.
"""

import argparse
import json
import math
import os

# One thread, as the simulation a researcher writes runs (and as `lpmc run --threads 1`).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402


def stochastic_round(x, rng, uniforms, scale, step, lo, hi):
    """x ← clip(floor(x·scale + U)·step, lo, hi) in place, float32 throughout."""
    rng.random(out=uniforms, dtype=np.float32)
    x *= scale
    x += uniforms
    np.floor(x, out=x)
    x *= step
    np.clip(x, lo, hi, out=x)


def run(kind, n, steps, wl, fl, seed):
    scale, step = np.float32(2.0**fl), np.float32(2.0**-fl)
    lo, hi = np.float32(-(2.0 ** (wl - fl - 1))), np.float32(2.0 ** (wl - fl - 1) - 2.0**-fl)
    rng = np.random.default_rng(seed)
    x = np.zeros(n, np.float32)
    xi = np.empty(n, np.float32)
    u = np.empty(n, np.float32)
    start = time.perf_counter()
    if kind == "sgld":
        eta = 0.01
        keep, noise = np.float32(1.0 - eta), np.float32(math.sqrt(2.0 * eta))
        for _ in range(steps):
            rng.standard_normal(out=xi, dtype=np.float32)
            x *= keep
            xi *= noise
            x += xi
            stochastic_round(x, rng, u, scale, step, lo, hi)
    else:
        eta, inv_mass, friction = 0.1, 2.0, 2.0
        e = math.exp(-friction * eta)
        var_v = inv_mass * (1.0 - e * e)
        var_x = inv_mass / friction**2 * (2.0 * friction * eta + 4.0 * e - e * e - 3.0)
        cov = inv_mass / friction * (1.0 - e) ** 2
        n_v = np.float32(math.sqrt(var_v))
        n_xv = np.float32(cov / math.sqrt(var_v))
        n_x = np.float32(math.sqrt(var_x - cov * cov / var_v))
        c_vv, c_vg = np.float32(e), np.float32(inv_mass / friction * (1.0 - e))
        c_xv = np.float32((1.0 - e) / friction)
        c_xg = np.float32(inv_mass / friction**2 * (friction * eta + e - 1.0))
        v = np.zeros(n, np.float32)
        xi2 = np.empty(n, np.float32)
        for _ in range(steps):
            rng.standard_normal(out=xi, dtype=np.float32)
            rng.standard_normal(out=xi2, dtype=np.float32)
            x_new = x + c_xv * v - c_xg * x + n_xv * xi + n_x * xi2  # the gradient is x; old v
            v *= c_vv
            v -= c_vg * x
            v += n_v * xi
            x[:] = x_new
            stochastic_round(x, rng, u, scale, step, lo, hi)
            stochastic_round(v, rng, u, scale, step, lo, hi)
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("kind", choices=["sgld", "sghmc"])
    ap.add_argument("--coords", type=int, default=1_000_000, help="coordinates (chains × dimension)")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--wl", type=int, default=8)
    ap.add_argument("--fl", type=int, default=6)
    ap.add_argument("--repeat", type=int, default=3, help="runs; the best is reported")
    args = ap.parse_args()
    if args.coords < 1 or args.steps < 1 or args.repeat < 1 or not 0 <= args.fl < args.wl:
        ap.error("need coords, steps, repeat >= 1 and 0 <= fl < wl")
    best = min(run(args.kind, args.coords, args.steps, args.wl, args.fl, seed=r) for r in range(args.repeat))
    print(json.dumps({
        "kind": args.kind, "coords": args.coords, "steps": args.steps, "wl": args.wl, "fl": args.fl,
        "seconds": best, "dim_steps_per_s": args.coords * args.steps / best,
    }))


if __name__ == "__main__":
    main()
