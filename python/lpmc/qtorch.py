"""A drop-in for QPyTorch's ``qtorch.quant.fixed_point_quantize``, on lpmc's exact integer
rounding kernels.

``fixed_point_quantize(x, wl, fl, clamp=True, symmetric=False, rounding="stochastic")`` takes
QPyTorch's arguments with QPyTorch's meaning, on NumPy arrays and (when torch is installed)
on torch tensors. QPyTorch computes in float32 (``floor(x * 2**fl + r) * 2**-fl`` with a
float32 uniform ``r``); lpmc rounds the exact value. docs/python.md says where the two
differ and by how much.
"""

import numpy as np

__all__ = ["fixed_point_quantize"]

_ROUNDINGS = {"stochastic": "sr", "nearest": "nearest-away"}


def _is_torch(x):
    return type(x).__module__.split(".")[0] == "torch"


def fixed_point_quantize(x, wl, fl, clamp=True, symmetric=False, rounding="stochastic", *, seed=None):
    """Round ``x`` to the fixed-point grid of QPyTorch's ``fixed_point_quantize``.

    ``wl`` is the word length (sign included) and ``fl`` the fraction length: the grid step
    is 2**-fl and with ``clamp`` the range is [-2**(wl-fl-1), 2**(wl-fl-1) - 2**-fl]
    (``symmetric``: the lowest value is -(2**(wl-fl-1) - 2**-fl)). ``clamp=False`` leaves
    the range open (lpmc rounds to a 64-bit word then, |x| < 2**(63-fl)). ``rounding`` is
    ``"stochastic"`` (lpmc's exact ``sr``: P(up) is the exact discarded fraction) or
    ``"nearest"`` (ties away from zero; QPyTorch's ``floor(y + 0.5)`` rounds negative ties
    up instead). ``seed`` picks the random stream (stream 0 of it, as ``lpmc.quantize``);
    None draws a fresh seed, as QPyTorch draws from torch's generator.

    Returns an array of ``x``'s dtype (float64 for integer input), or a tensor of ``x``'s
    dtype and device for a torch tensor.
    """
    from . import _quantize

    if rounding not in _ROUNDINGS:
        raise ValueError(f"rounding = {rounding!r} is invalid: QPyTorch's roundings are 'stochastic' and 'nearest'")
    if not isinstance(wl, (int, np.integer)) or not isinstance(fl, (int, np.integer)):
        raise ValueError(f"wl = {wl!r}, fl = {fl!r} are invalid: must be integers")
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1, np.uint64)[0])
    torch_input = _is_torch(x)
    a = x.detach().cpu().numpy() if torch_input else np.asarray(x)
    # Without the clamp, the widest word (lpmc still names a bad WL or FL as it does for wl).
    word = wl if clamp or not 2 <= wl <= 64 else 64
    out32 = a.dtype == np.float32
    out = _quantize(a, word, fl, _ROUNDINGS[rounding], "saturate", seed, "xoshiro", False, out32)
    if clamp and symmetric:
        np.maximum(out, -(2.0 ** (wl - fl - 1) - 2.0**-fl), out=out)
    dtype = a.dtype if a.dtype.kind == "f" else np.float64
    out = out.astype(dtype, copy=False)
    if torch_input:
        import torch

        return torch.from_numpy(out).to(device=x.device)
    return out
