"""lpmc.quantize against APyTypes' cast and QPyTorch's fixed_point_quantize, on the same
1e7-element float array in the same run, stochastic and nearest.

    python python/bench.py [--n 10000000] [--repeat 5] [--json]
    python python/bench.py --differences   # where QPyTorch's float32 arithmetic differs

Every timing is the best of --repeat runs of the whole call, input array to output array:
- lpmc: ``lpmc.quantize(x, wl, fl, rounding)`` (float64 in, float64 out; sr = exact
  stochastic rounding, 53-bit fraction; nearest-even).
- APyTypes: ``APyFixedArray.from_float(x, int_bits=8, frac_bits=56)`` (the input in a wide
  fixed-point format) then ``.cast(int_bits, frac_bits, quantization, overflow)``; timed:
  both (``from_float+cast``) and the cast alone, each to an APyFixedArray (``to_numpy``
  excluded, so APyTypes' rows do less than lpmc's, which return float64 NumPy arrays). Stochastic: QuantizationMode.STOCH_WEIGHTED; nearest: TIES_EVEN.
- QPyTorch: ``qtorch.quant.fixed_point_quantize(t, wl, fl, rounding=...)`` on a float32
  tensor, when torch and qtorch are installed; otherwise the row says so. Its float32
  kernel re-stated in NumPy (python/tests/qpytorch_model.py) is timed as a stand-in and
  labelled so; it is not QPyTorch's speed.
"""

import argparse
import json
import os
import platform
import sys
import time

import numpy as np

# Import the installed package (pip install ./python), not the source tree next to this file.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != HERE]
import lpmc  # noqa: E402

sys.path.insert(0, os.path.join(HERE, "tests"))
from qpytorch_model import fixed_point_quantize_f32  # noqa: E402

WL, FL = 8, 4


def best(f, repeat):
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return min(ts)


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    x = rng.normal(scale=2.0, size=args.n)
    x32 = x.astype(np.float32)
    rows = []

    def add(peer, mode, seconds, note=""):
        rows.append({"peer": peer, "rounding": mode, "seconds": seconds,
                     "melem_per_s": args.n / seconds / 1e6, "note": note})

    for mode, lp in [("stochastic", "sr"), ("nearest", "nearest-even")]:
        add("lpmc.quantize", mode, best(lambda: lpmc.quantize(x, WL, FL, rounding=lp, seed=1), args.repeat))
        add("lpmc.qtorch.fixed_point_quantize (float32)", mode,
            best(lambda: lpmc.qtorch.fixed_point_quantize(x32, WL, FL, rounding=mode, seed=1), args.repeat))

    try:
        import apytypes as apy

        Q = apy.QuantizationMode
        wide = apy.APyFixedArray.from_float(x, int_bits=8, frac_bits=56)
        for mode, q in [("stochastic", Q.STOCH_WEIGHTED), ("nearest", Q.TIES_EVEN)]:
            def both():
                a = apy.APyFixedArray.from_float(x, int_bits=8, frac_bits=56)
                return a.cast(int_bits=WL - FL, frac_bits=FL, quantization=q, overflow=apy.OverflowMode.SAT)

            def cast():
                return wide.cast(int_bits=WL - FL, frac_bits=FL, quantization=q, overflow=apy.OverflowMode.SAT)

            add(f"APyTypes {apy.__version__} from_float+cast", mode, best(both, args.repeat))
            add(f"APyTypes {apy.__version__} cast", mode, best(cast, args.repeat))
    except ImportError:
        add("APyTypes", "-", float("nan"), "not installed")

    try:
        import torch
        from qtorch.quant import fixed_point_quantize as qpytorch

        t = torch.from_numpy(x32)
        for mode in ["stochastic", "nearest"]:
            add("QPyTorch fixed_point_quantize", mode,
                best(lambda: qpytorch(t, WL, FL, rounding=mode), args.repeat), f"torch {torch.__version__}")
    except ImportError:
        for mode in ["stochastic", "nearest"]:
            add("QPyTorch's float32 kernel in NumPy (stand-in)", mode,
                best(lambda: fixed_point_quantize_f32(x32, WL, FL, rounding=mode, rng=rng), args.repeat),
                "torch/qtorch not installed")

    base = {r["rounding"]: r["seconds"] for r in rows if r["peer"] == "lpmc.quantize"}
    for r in rows:
        r["lpmc_speedup"] = r["seconds"] / base[r["rounding"]] if r["rounding"] in base else float("nan")
    info = {"n": args.n, "format": f"Q({WL},{FL})", "cpu": cpu_name(), "cores": os.cpu_count(),
            "python": platform.python_version(), "numpy": np.__version__, "lpmc": lpmc.__version__}
    if args.json:
        print(json.dumps({"machine": info, "rows": rows}, indent=2))
        return
    print(f"# {info}")
    print(f"| {'peer':<50} | {'rounding':<10} | {'ms':>8} | {'Melem/s':>8} | {'lpmc x':>7} | note")
    print(f"|{'-' * 52}|{'-' * 12}|{'-' * 10}|{'-' * 10}|{'-' * 9}|------")
    for r in rows:
        print(f"| {r['peer']:<50} | {r['rounding']:<10} | {r['seconds'] * 1e3:8.1f} | {r['melem_per_s']:8.1f} "
              f"| {r['lpmc_speedup']:7.1f} | {r['note']}")



def differences():
    """Where QPyTorch's float32 kernel (python/tests/qpytorch_model.py) and lpmc's exact
    rounding differ, measured: stochastic P(up) excess by magnitude of y = x * 2^fl, nearest
    misroundings, float64 inputs cast to float32 first."""
    from qpytorch_model import p_up_f32

    print("# stochastic: QPyTorch P(up) - exact fraction, y = 2^k + 0.25")
    for k in [0, 4, 8, 12, 16, 20, 22]:
        p = p_up_f32(np.float32(2.0**k + 0.25))
        print(f"k = {k:2d}: P(up) = {p:.9f}, excess {p - 0.25:.3e} steps (u/2 = 2^{k - 24} = {2.0 ** (k - 24):.3e})")
    print("# nearest: every float32 y in [2^k, 2^(k+1)) rounded by floor(y + 0.5) vs round-half-up exactly")
    for k in [-2, -1, 0, 3, 10, 21, 22]:
        lo = np.float32(2.0**k)
        bits = np.arange(lo.view(np.uint32), np.float32(2.0 ** (k + 1)).view(np.uint32), dtype=np.uint32)
        y = bits.view(np.float32)
        q = np.floor(np.add(y, np.float32(0.5), dtype=np.float32))
        exact = np.floor(y.astype(np.float64) + 0.5)
        bad = np.count_nonzero(q != exact)
        print(f"k = {k:3d}: {bad} of {len(y)} float32 values misrounded")
    print("# float64 inputs: QPyTorch rounds x to float32 first; nearest results that change")
    rng = np.random.default_rng(0)
    for wl, fl in [(8, 4), (16, 12), (24, 20), (32, 28)]:
        x = rng.uniform(-(2.0 ** (wl - fl - 1)), 2.0 ** (wl - fl - 1), 10_000_000)
        a = lpmc.quantize(x, wl, fl, rounding="nearest-away")
        b = lpmc.quantize(x.astype(np.float32), wl, fl, rounding="nearest-away")
        print(f"Q({wl},{fl}): {np.count_nonzero(a != b)} of {len(x)} differ")


if __name__ == "__main__":
    if "--differences" in sys.argv:
        differences()
    else:
        main()
