"""lpmc from Python: bit-accurate fixed-point rounding and low-precision SGLD/SGHMC runs.

Every function calls the library the ``lpmc`` command line calls, so the same arguments
and seed give the same numbers as the CLI (``lpmc round``, ``lpmc run``, ``lpmc eval``,
``lpmc exact``, ``lpmc sweep``). Bad input raises ``ValueError`` with the CLI's message.
Long calls release the GIL; ``run`` and ``sweep`` stop on Ctrl-C (``KeyboardInterrupt``).
The API is described in docs/python.md.
"""

import json
import os
import tempfile
import warnings

import numpy as np

from . import _lpmc
from . import qtorch  # noqa: F401  (lpmc.qtorch.fixed_point_quantize)

__version__ = _lpmc.__version__
__all__ = ["quantize", "quantize_codes", "run", "eval", "exact", "sweep", "qtorch", "CALL"]

#: Elements per kernel call of ``quantize`` (the random-bit packing restarts at each call;
#: ``lpmc round`` uses the same calls, so a seed means the same bits in both).
CALL = _lpmc.CALL


def _float_input(x, name="x", keep32=False):
    """``x`` as a C-contiguous float64 array (every float16/float32/integer value is exact),
    or float32 when it is one and ``keep32`` (the native code widens it block by block)."""
    a = np.asarray(x)
    if a.dtype.kind not in "fiub":
        raise ValueError(f"{name}: dtype {a.dtype} is not a real number type (need float or int)")
    dtype = np.float32 if keep32 and a.dtype == np.float32 else np.float64
    return np.ascontiguousarray(a, dtype=dtype)


def _quantize(x, wl, fl, rounding, overflow, seed, source, codes, out32=False):
    a = _float_input(x, keep32=True)
    out = _lpmc.quantize(a.reshape(-1), wl, fl, str(rounding), str(overflow), seed, str(source), codes, out32)
    return out.reshape(a.shape)


def quantize(x, wl, fl, rounding="nearest-even", overflow="saturate", seed=0, source="xoshiro"):
    """Round ``x`` to the fixed-point format Q(wl, fl) and return the grid values (float64).

    ``wl`` is the word length in bits, sign included (2..=64); ``fl`` the fraction length
    (0..=62), so the step is 2**-fl and the range [-2**(wl-fl-1), 2**(wl-fl-1) - 2**-fl].
    ``rounding``: nearest-even, nearest-away, floor, toward-zero, sr (exact stochastic),
    sr:R (stochastic with R random bits) or src:R (R in 0..=32). ``overflow``: saturate or
    wrap. The random bits are stream 0 of ``seed`` from ``source`` (xoshiro, lfsr,
    lfsr:WIDTH or lfsr:WIDTH:0xTAPS), drawn in the kernel calls of ``lpmc round``: the codes
    of ``quantize(np.full(n, v), ...)`` are the n roundings ``lpmc round --value v --n n``
    measures. ``x`` is any real array (float16/32/64 or integer), of any shape; the result
    has its shape. Non-finite values raise ``ValueError``.
    """
    return _quantize(x, wl, fl, rounding, overflow, seed, source, False)


def quantize_codes(x, wl, fl, rounding="nearest-even", overflow="saturate", seed=0, source="xoshiro"):
    """Like ``quantize`` but return the integer codes (value = code * 2**-fl).

    The dtype is the smallest NumPy integer type holding WL bits: int8 (WL <= 8), int16,
    int32 or int64.
    """
    return _quantize(x, wl, fl, rounding, overflow, seed, source, True)


def _config_args(config, what="config"):
    """(json text, path) of a dict, a path or None (the built-in run)."""
    if config is None:
        return None, None
    if isinstance(config, dict):
        return json.dumps(config), None
    if isinstance(config, (str, os.PathLike)):
        return None, os.fspath(config)
    raise ValueError(f"{what}: expected a dict or a path, got {type(config).__name__}")


def _warn(result):
    for w in result.get("warnings", []):
        warnings.warn(f"lpmc: [{w.get('code', '')}] {w.get('message', '')}", RuntimeWarning, stacklevel=3)


def run(config=None, *, seed=None, threads=None):
    """Run the chains of ``config`` and return what ``result.json`` holds, as a dict.

    ``config`` is a dict with the fields of docs/config.md, a path to a JSON or TOML file,
    or None for the built-in run (that of ``lpmc run`` without a config). ``seed`` overrides
    the config's; ``threads`` is the number of worker threads (default: one per core; the
    results do not depend on it). The dict has the keys and numbers of the ``result.json``
    that ``lpmc run`` writes for the same config and seed (only timings and memory differ),
    plus ``samples`` (the kept samples of ``samples.csv``, a float64 array rows x dimension)
    and ``sample_chains`` (the chain of each row). The diagnostics of ``result["warnings"]``
    are also issued as Python ``RuntimeWarning``s. Ctrl-C stops the run
    (``KeyboardInterrupt``) within a fraction of a second.
    """
    text, path = _config_args(config)
    js, samples, chains = _lpmc.run(text, path, seed, threads)
    result = json.loads(js)
    result["samples"] = samples
    result["sample_chains"] = chains
    _warn(result)
    return result


def _target_arg(target):
    if isinstance(target, dict):
        return json.dumps(target)
    if isinstance(target, (str, os.PathLike)):
        return os.fspath(target)
    raise ValueError(f"target: expected a dict, a name or a path, got {type(target).__name__}")


def _samples_2d(samples, name):
    a = _float_input(samples, name)
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2:
        raise ValueError(f"{name}: expected a 1-D or 2-D array (rows x dimension), got {a.ndim}-D")
    return a


def eval(samples, target, *, chains=None, seed=0, slices=64, delta=None, bootstrap=None, blocks=20, reference=None):
    """Score ``samples`` against ``target``: the metrics ``lpmc eval`` prints, as a dict.

    ``samples`` is an array rows x dimension (a 1-D array is one dimension). ``target`` is
    a target dict (``{"gaussian": {...}}``, docs/config.md), a name (``"paper-mixture"``) or
    a path to a JSON/TOML file. ``chains`` labels each row with its chain, for the bootstrap
    interval over chains (default: ``blocks`` contiguous blocks). ``seed`` seeds the slicing
    directions and the bootstrap; ``slices`` is the number of directions for d > 1;
    ``delta`` the bin width of the L2 density distance; ``bootstrap`` the number of
    replicates (0: no interval). ``reference`` is a second sample to compare with exactly.
    Exact W2/W1 for d = 1, sliced and Bures W2 for d > 1 (docs/evaluator.md).
    """
    x = _samples_2d(samples, "samples")
    ref = None if reference is None else _samples_2d(reference, "reference")
    labels = None if chains is None else [int(c) for c in np.asarray(chains).reshape(-1)]
    return json.loads(_lpmc.eval(x, _target_arg(target), labels, seed, slices, delta, bootstrap, blocks, ref))


def exact(config=None, *, max_entries=None):
    """The exact stationary law of a 1-D lattice chain, as ``lpmc exact`` computes it.

    Returns what ``exact.json`` holds, plus ``values`` (every grid value of x) and
    ``probability`` (its stationary probability), as float64 arrays. ``config`` as in
    ``run`` (``chains``, ``steps`` and ``seed`` are ignored); ``max_entries`` is the largest
    number of stored transition probabilities (the CLI's ``--max-entries``).
    """
    text, path = _config_args(config)
    js, values, probability = _lpmc.exact(text, path, max_entries)
    result = json.loads(js)
    result["values"] = values
    result["probability"] = probability
    return result


def sweep(grid, out=None, *, seed=None, threads=None, resume=False):
    """Run every point of a grid (docs/sweep.md) and return the points.

    ``grid`` is a dict ``{"base": CONFIG, "vary": {...}, "seed": S}`` or a path to a JSON or
    TOML grid file. With ``out`` a directory, the sweep writes there what
    ``lpmc sweep GRID --out OUT`` writes (``resume=True`` continues it); without, it runs in
    a temporary directory that is removed afterwards. Returns the rows of ``points.jsonl``
    as a list of dicts, or a pandas DataFrame when pandas is installed.
    """
    text, path = _config_args(grid, "grid")

    def points(directory):
        _lpmc.sweep(text, path, os.fspath(directory), seed, threads, resume)
        with open(os.path.join(directory, "points.jsonl"), encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]

    if out is None:
        with tempfile.TemporaryDirectory(prefix="lpmc-sweep-") as d:
            rows = points(d)
    else:
        rows = points(out)
    try:
        import pandas
    except ImportError:
        return rows
    return pandas.json_normalize(rows)
