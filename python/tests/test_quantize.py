"""lpmc.quantize / quantize_codes against the CLI: `lpmc vectors quantize --inputs` gives the
code of every input for one kernel call (<= lpmc.CALL inputs), and `lpmc round` measures n
roundings of one value over several calls; both must agree exactly for the same seed."""

import csv
import math

import numpy as np
import pytest

import lpmc
from conftest import cli_error

MODES = [
    ("nearest-even", "saturate", "xoshiro"),
    ("nearest-away", "wrap", "xoshiro"),
    ("floor", "saturate", "xoshiro"),
    ("toward-zero", "wrap", "xoshiro"),
    ("sr", "saturate", "xoshiro"),
    ("sr:3", "wrap", "xoshiro"),
    ("src:4", "saturate", "lfsr:32"),
    ("sr:8", "saturate", "lfsr"),
]


def inputs(wl, fl, n, seed):
    """Uniform values over the range widened by 4 steps each side, plus ties and one ulp off."""
    d = 2.0**-fl
    lo, hi = -(2.0 ** (wl - fl - 1)), 2.0 ** (wl - fl - 1) - d
    x = np.random.default_rng(seed).uniform(lo - 4 * d, hi + 4 * d, n)
    ties = (np.arange(-6, 6) + 0.5) * d
    return np.concatenate([ties, np.nextafter(ties, np.inf), np.nextafter(ties, -np.inf), x])


@pytest.mark.parametrize("rounding,overflow,source", MODES)
@pytest.mark.parametrize("wl,fl", [(8, 4), (12, 11), (20, 6), (40, 20)])
def test_codes_equal_vectors_quantize(tmp_path, cli, rounding, overflow, source, wl, fl):
    x = inputs(wl, fl, 2000, seed=wl * 100 + fl)
    path = tmp_path / "in.txt"
    path.write_text("".join(f"{float(v)!r}\n" for v in x))
    out = tmp_path / "v"
    code, _, err = cli("vectors", "quantize", "--inputs", path, "--wl", wl, "--fl", fl, "--rounding", rounding,
                       "--overflow", overflow, "--source", source, "--seed", 77, "--out", out)
    assert code == 0, err
    with open(out / "vectors.csv") as f:
        rows = [r for r in csv.DictReader(f)]
    want = np.array([int(r["out"]) for r in rows])
    assert len(want) == len(x)
    codes = lpmc.quantize_codes(x, wl, fl, rounding=rounding, overflow=overflow, seed=77, source=source)
    np.testing.assert_array_equal(codes.astype(np.int64), want)
    values = lpmc.quantize(x, wl, fl, rounding=rounding, overflow=overflow, seed=77, source=source)
    np.testing.assert_array_equal(values, want * 2.0**-fl)


@pytest.mark.parametrize("rounding,value,wl,fl", [("sr:3", 0.30, 8, 4), ("sr", -1.2345, 8, 4),
                                                  ("src:5", 6.96, 8, 4), ("sr:8", 0.1, 16, 12)])
def test_n_roundings_equal_lpmc_round(cli_json, rounding, value, wl, fl):
    # 3 calls of CALL elements and a partial one: the call structure must match too.
    n = 3 * lpmc.CALL + 1234
    r = cli_json("round", "--wl", wl, "--fl", fl, "--rounding", rounding, "--value", value, "--n", n, "--seed", 5)
    codes = lpmc.quantize_codes(np.full(n, value), wl, fl, rounding=rounding, seed=5).astype(np.int64)
    assert set(np.unique(codes)) <= {r["lo_code"], r["hi_code"]}
    ups = int(np.count_nonzero(codes == r["hi_code"])) if r["lo_code"] != r["hi_code"] else 0
    assert ups / n == r["p_up"]
    # The CLI's mean: lo + (exact integer sum of code - lo) / n, in steps.
    sum_d = int((codes - r["lo_code"]).sum())
    assert (r["lo_code"] + sum_d / n) * r["delta"] == r["mean"]
    # A different seed gives other bits (the roundings are not all alike).
    other = lpmc.quantize_codes(np.full(n, value), wl, fl, rounding=rounding, seed=6)
    assert not np.array_equal(codes, other)


def test_shapes_and_dtypes():
    x = np.linspace(-3, 3, 24, dtype=np.float32).reshape(2, 3, 4)
    q = lpmc.quantize(x, 8, 4)
    assert q.shape == x.shape and q.dtype == np.float64
    for wl, dt in [(8, np.int8), (9, np.int16), (16, np.int16), (17, np.int32), (33, np.int64), (64, np.int64)]:
        assert lpmc.quantize_codes(x, wl, 4).dtype == dt
    # Nearest-even on an exact grid and ties: 0.5 steps -> even code.
    np.testing.assert_array_equal(lpmc.quantize_codes([0.03125, 0.09375, -0.03125], 8, 4), [0, 2, 0])
    # Saturation at the range ends.
    np.testing.assert_array_equal(lpmc.quantize([100.0, -100.0], 8, 4), [7.9375, -8.0])
    np.testing.assert_array_equal(lpmc.quantize_codes([8.0], 8, 4, overflow="wrap"), [-128])
    assert lpmc.quantize([], 8, 4).shape == (0,)
    # Integer input is a real input.
    np.testing.assert_array_equal(lpmc.quantize(np.array([1, 2], dtype=np.int32), 8, 4), [1.0, 2.0])


@pytest.mark.parametrize("kwargs,cli_args", [
    (dict(wl=0, fl=0), ["--wl", 0, "--fl", 0]),
    (dict(wl=65, fl=4), ["--wl", 65, "--fl", 4]),
    (dict(wl=8, fl=63), ["--wl", 8, "--fl", 63]),
    (dict(wl=8, fl=-1), ["--wl", 8, "--fl", -1]),
    (dict(wl=8, fl=4, rounding="sr:33"), ["--wl", 8, "--fl", 4, "--rounding", "sr:33"]),
    (dict(wl=8, fl=4, rounding="banker"), ["--wl", 8, "--fl", 4, "--rounding", "banker"]),
    (dict(wl=8, fl=4, overflow="clip"), ["--wl", 8, "--fl", 4, "--overflow", "clip"]),
    (dict(wl=8, fl=4, source="lfsr:1"), ["--wl", 8, "--fl", 4, "--source", "lfsr:1"]),
])
def test_bad_arguments_raise_the_cli_message(cli, kwargs, cli_args):
    want = cli_error(cli, "round", "--value", 0.5, "--n", 10, *cli_args)
    with pytest.raises(ValueError) as e:
        lpmc.quantize([0.5], **kwargs)
    assert str(e.value) == want
    with pytest.raises(ValueError):
        lpmc.quantize_codes([0.5], **kwargs)


def test_bad_values_raise():
    for bad in [math.nan, math.inf, -math.inf]:
        with pytest.raises(ValueError, match=r"x\[2\] = .* is invalid: must be a finite number"):
            lpmc.quantize([0.0, 1.0, bad], 8, 4)
    with pytest.raises(ValueError, match="seed = -1 is invalid"):
        lpmc.quantize([0.0], 8, 4, seed=-1)
    with pytest.raises(ValueError, match=r"seed = 1.84467e19 is invalid: must be an integer in 0..=18446744073709551615"):
        lpmc.quantize([0.0], 8, 4, seed=2**64)
    with pytest.raises(ValueError, match="word length WL = .* is out of range"):
        lpmc.quantize([0.0], 10**21, 4)
    with pytest.raises(ValueError, match="not a real number type"):
        lpmc.quantize(np.array(["a"]), 8, 4)
    with pytest.raises(ValueError, match="not a real number type"):
        lpmc.quantize(np.array([1 + 2j]), 8, 4)


def test_matches_apytypes_deterministic_modes():
    # APyTypes (pinned in tests/python/requirements.txt) as an independent reference: the
    # inputs held exactly (2 + 80 fraction bits hold these f64s: |x| < 2 and exponent >= -27
    # leaves at most 53 + 27 bits), then cast to Q(12, 8).
    apy = pytest.importorskip("apytypes")
    rng = np.random.default_rng(3)
    x = rng.uniform(-2, 2, 4000) * 2.0 ** rng.integers(-27, 0, 4000)
    x = np.concatenate([x, (np.arange(-40, 40) + 0.5) / 256])
    Q = apy.QuantizationMode
    exact = apy.APyFixedArray.from_float(x, int_bits=2, frac_bits=80)
    for mode, q in [("nearest-even", Q.TIES_EVEN), ("nearest-away", Q.TIES_AWAY),
                    ("floor", Q.TO_NEG), ("toward-zero", Q.TO_ZERO)]:
        ref = exact.cast(int_bits=4, frac_bits=8, quantization=q, overflow=apy.OverflowMode.SAT)
        np.testing.assert_array_equal(lpmc.quantize(x, 12, 8, rounding=mode), np.asarray(ref.to_numpy()))
