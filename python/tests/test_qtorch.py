"""lpmc.qtorch.fixed_point_quantize: QPyTorch's arguments and meaning on lpmc's kernels.

Compared with QPyTorch's float32 kernel re-stated in NumPy (qpytorch_model.py; QPyTorch
itself when torch and qtorch are installed): equal wherever the float32 arithmetic is exact,
and the documented differences where it is not (docs/python.md)."""

import math

import numpy as np
import pytest

import lpmc
from lpmc.qtorch import fixed_point_quantize
from qpytorch_model import fixed_point_quantize_f32, p_up_f32


def grid_inputs(wl, fl, n, seed):
    """float32 inputs over the range widened by 8 steps, with no tie (a tie is y = k + 1/2)."""
    rng = np.random.default_rng(seed)
    span = 2.0 ** (wl - fl - 1) + 8 * 2.0**-fl
    x = rng.uniform(-span, span, n).astype(np.float32)
    y = x.astype(np.float64) * 2.0**fl
    return x[y - np.floor(y) != 0.5]


@pytest.mark.parametrize("wl,fl", [(8, 4), (8, 7), (12, 6), (16, 10)])
@pytest.mark.parametrize("symmetric", [False, True])
def test_nearest_equals_qpytorch_off_ties(wl, fl, symmetric):
    # For |y| < 2^22 and no input within half a float32 ulp below a tie, fl32(y + 0.5) is
    # exact and floor(y + 0.5) is round-to-nearest: identical results.
    x = grid_inputs(wl, fl, 20000, wl + fl)
    got = fixed_point_quantize(x, wl, fl, symmetric=symmetric, rounding="nearest")
    want = fixed_point_quantize_f32(x, wl, fl, symmetric=symmetric, rounding="nearest")
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, want)
    d = 2.0**-fl
    assert got.max() == 2.0 ** (wl - fl - 1) - d
    assert got.min() == (-(2.0 ** (wl - fl - 1)) + d if symmetric else -(2.0 ** (wl - fl - 1)))


def test_ties():
    # QPyTorch's floor(y + 0.5) rounds ties up; lpmc.qtorch rounds them away from zero: the
    # same for y > 0, one step further down for y < 0.
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5], dtype=np.float32) / 16
    q = fixed_point_quantize_f32(x, 8, 4, rounding="nearest") * 16
    ours = fixed_point_quantize(x, 8, 4, rounding="nearest") * 16
    np.testing.assert_array_equal(q, [1, 2, 3, 0, -1, -2])
    np.testing.assert_array_equal(ours, [1, 2, 3, -1, -2, -3])


def test_clamp_false_leaves_the_range_open():
    x = np.array([100.25, -300.75, 3.1], dtype=np.float64)
    np.testing.assert_array_equal(fixed_point_quantize(x, 8, 2, clamp=False, rounding="nearest"),
                                  [100.25, -300.75, 3.0])
    np.testing.assert_array_equal(fixed_point_quantize(x, 8, 2, clamp=True, rounding="nearest"),
                                  [31.75, -32.0, 3.0])


def test_stochastic_is_unbiased_and_seeded():
    # x/Δ = 4.3 at Q(8, 4): each result is 4 or 5 steps, P(5) = 0.3 exactly (sr). The mean
    # of n = 2e5 roundings has standard error sqrt(0.3*0.7/n)/16 = 6.5e-5; 6 standard
    # errors bound a false failure below 1e-8.
    n = 200_000
    x = np.full(n, 4.3 / 16)
    a = fixed_point_quantize(x, 8, 4, seed=9)
    assert set(np.unique(a * 16)) == {4.0, 5.0}
    assert abs(a.mean() - x[0]) < 6 * math.sqrt(0.3 * 0.7 / n) / 16
    np.testing.assert_array_equal(a, fixed_point_quantize(x, 8, 4, seed=9))
    np.testing.assert_array_equal(a, lpmc.quantize(x, 8, 4, rounding="sr", seed=9))
    assert not np.array_equal(a, fixed_point_quantize(x, 8, 4))


def test_float32_sum_bias_of_qpytorch_is_what_docs_say():
    # QPyTorch's P(up) for y = x * 2^fl in [2^k, 2^(k+1)) (k >= 0): fl32(y + r) is rounded to
    # the ulp u = 2^(k-23), so P(up) = f + u/2 (ties-to-even aside) instead of lpmc's exact f.
    for k in [0, 4, 10, 16, 20]:
        y = np.float32(2.0**k + 0.25)
        u = 2.0 ** (k - 23)
        p = p_up_f32(y)
        assert abs(p - (0.25 + u / 2)) <= 2.0**-24 + u / 2 * 0.01, (k, p)
    # Below 1 the sum is exact for 24-bit r: P(up) is f exactly (f a multiple of 2^-24).
    assert p_up_f32(np.float32(0.25)) == 0.25


def test_bad_arguments():
    with pytest.raises(ValueError, match="'stochastic' and 'nearest'"):
        fixed_point_quantize(np.zeros(3), 8, 4, rounding="sr")
    with pytest.raises(ValueError, match="word length WL = 1 is out of range"):
        fixed_point_quantize(np.zeros(3), 1, 0)
    with pytest.raises(ValueError, match="must be integers"):
        fixed_point_quantize(np.zeros(3), 8.5, 4)
    with pytest.raises(ValueError, match="must be a finite number"):
        fixed_point_quantize(np.array([np.nan]), 8, 4)


def test_torch_tensors_when_installed():
    torch = pytest.importorskip("torch")
    x = torch.linspace(-3, 3, 101)
    q = fixed_point_quantize(x, 8, 4, rounding="nearest")
    assert isinstance(q, torch.Tensor) and q.dtype == torch.float32
    np.testing.assert_array_equal(q.numpy(), fixed_point_quantize(x.numpy(), 8, 4, rounding="nearest"))
    try:
        from qtorch.quant import fixed_point_quantize as qpytorch
    except ImportError:
        return
    want = qpytorch(x, 8, 4, rounding="nearest")
    np.testing.assert_array_equal(q.numpy(), want.numpy())
