"""lpmc's deterministic roundings and both overflow rules against APyTypes (pinned in
requirements.txt), bit for bit.

f64 input: `lpmc vectors quantize --inputs FILE` on values this test builds itself — ties of
both signs and parities, the f64s one ulp either side of each tie, tiny values of both signs
(down to the smallest subnormal, and values just inside (−Δ/2, 0) where 1 + y rounds in f64),
the range ends and values beyond them — in formats from Q(2, 1) to 40 bits, FL > WL included.
Integer input: `lpmc vectors requantize` (its generated ties, ±1 LSB, extremes, overflow and
random codes). APyTypes' reference: the input taken exactly (an f64 is exact with 1100
integer and 1100 fraction bits), then `cast` with the mode and overflow rule.

Run: LPMC=path/to/lpmc python -m unittest tests/python/test_rounding_apytypes.py
"""

import csv
import math
import os
import struct
import subprocess
import tempfile
import unittest

import apytypes as apy

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LPMC = os.environ.get("LPMC") or os.path.join(
    os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "debug", "lpmc")

Q = apy.QuantizationMode
MODES = {
    "nearest-even": Q.TIES_EVEN,
    "nearest-away": Q.TIES_AWAY,
    "floor": Q.TO_NEG,
    "toward-zero": Q.TO_ZERO,
}
OVERFLOWS = {"saturate": apy.OverflowMode.SAT, "wrap": apy.OverflowMode.WRAP}
# (WL, FL): Q(2, 1) up to 40 bits, pure fractions (FL ≥ WL) and integers (FL = 0).
FORMATS = [(2, 1), (3, 0), (4, 2), (5, 7), (8, 4), (8, 7), (12, 11), (16, 8), (24, 20),
           (32, 16), (40, 20), (40, 39), (40, 0)]


def signed(bits, wl):
    return bits - (1 << wl) if bits >> (wl - 1) else bits


def reference(x, wl, fl, mode, overflow):
    exact = apy.APyFixed.from_float(x, int_bits=1100, frac_bits=1100)
    out = exact.cast(int_bits=wl - fl, frac_bits=fl, quantization=MODES[mode],
                     overflow=OVERFLOWS[overflow])
    return signed(out.to_bits(), wl)


def values(wl, fl):
    """The f64 inputs of one format."""
    d = 2.0 ** -fl
    lo, hi = -(2 ** (wl - 1)), 2 ** (wl - 1) - 1
    xs = []
    for m in [0, 1, 2, 3, -1, -2, -3, -4, hi, hi - 1, lo, lo + 1]:
        t = (m + 0.5) * d
        xs += [t, math.nextafter(t, math.inf), math.nextafter(t, -math.inf)]
    for t in [5e-324, 1e-300, d * 2.0 ** -60, d * 2.0 ** -54, d * 2.0 ** -53, d / 4]:
        xs += [t, -t, -d / 2 + t, d / 2 - t, -d + t]
    xs += [hi * d, lo * d, (hi + 1) * d, (lo - 1) * d, (hi + 0.5) * d, (lo - 0.5) * d,
           3 * hi * d, 3 * lo * d, 1e30, -1e30, 1e300, -1e300,
           -0.031249999999999997, -1e-20]
    return xs


def lpmc(*args):
    subprocess.run([LPMC, "vectors", *args], check=True, stdout=subprocess.DEVNULL)


def rows(d):
    with open(os.path.join(d, "vectors.csv")) as f:
        return list(csv.DictReader(f))


class AgainstApyTypes(unittest.TestCase):
    def test_f64_input(self):
        checked = 0
        with tempfile.TemporaryDirectory() as tmp:
            for wl, fl in FORMATS:
                xs = values(wl, fl)
                path = os.path.join(tmp, "in.txt")
                with open(path, "w") as f:
                    f.write("".join(repr(x) + "\n" for x in xs))
                for mode in MODES:
                    for ov in OVERFLOWS:
                        d = os.path.join(tmp, f"{wl}-{fl}-{mode}-{ov}")
                        lpmc("quantize", "--wl", str(wl), "--fl", str(fl), "--rounding", mode,
                             "--overflow", ov, "--inputs", path, "--out", d)
                        got = rows(d)
                        self.assertEqual(len(got), len(xs))
                        for x, r in zip(xs, got):
                            (bits,) = struct.unpack("<Q", struct.pack("<d", x))
                            self.assertEqual(int(r["in"]), bits)
                            want = reference(x, wl, fl, mode, ov)
                            self.assertEqual(int(r["out"]), want,
                                             f"Q({wl},{fl}) {mode} {ov} x={x!r}")
                            checked += 1
        self.assertGreater(checked, 6000)

    def test_integer_input(self):
        checked = 0
        pairs = [((4, 2), (2, 1)), ((8, 6), (3, 1)), ((16, 8), (8, 4)), ((12, 3), (12, 3)),
                 ((8, 2), (12, 6)), ((40, 30), (12, 4)), ((40, 20), (40, 10)),
                 ((24, 23), (8, 7))]
        with tempfile.TemporaryDirectory() as tmp:
            for (iwl, ifl), (wl, fl) in pairs:
                for mode in MODES:
                    for ov in OVERFLOWS:
                        d = os.path.join(tmp, f"{iwl}-{ifl}-{wl}-{fl}-{mode}-{ov}")
                        lpmc("requantize", "--in-wl", str(iwl), "--in-fl", str(ifl),
                             "--wl", str(wl), "--fl", str(fl), "--rounding", mode,
                             "--overflow", ov, "--n", "200", "--out", d)
                        for r in rows(d):
                            k = int(r["in"])
                            x = apy.APyFixed(k % (1 << iwl), int_bits=iwl - ifl, frac_bits=ifl)
                            out = x.cast(int_bits=wl - fl, frac_bits=fl,
                                         quantization=MODES[mode], overflow=OVERFLOWS[ov])
                            self.assertEqual(int(r["out"]), signed(out.to_bits(), wl),
                                             f"Q({iwl},{ifl})->Q({wl},{fl}) {mode} {ov} k={k}")
                            ov_flag = int(r["overflow"])
                            exact = x.cast(int_bits=iwl + 2, frac_bits=fl,
                                           quantization=MODES[mode])
                            self.assertEqual(ov_flag, int(float(exact) != float(out)))
                            checked += 1
        self.assertGreater(checked, 10000)


if __name__ == "__main__":
    unittest.main()
