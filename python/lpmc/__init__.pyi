"""Type stubs of the lpmc Python package (docs/python.md)."""

import os
from typing import Any, Dict, List, Optional, Union

import numpy as np
import numpy.typing as npt

from . import qtorch as qtorch

__version__: str
#: Elements per kernel call of ``quantize`` (that of ``lpmc round``).
CALL: int

Config = Union[Dict[str, Any], str, "os.PathLike[str]", None]

def quantize(
    x: npt.ArrayLike,
    wl: int,
    fl: int,
    rounding: str = "nearest-even",
    overflow: str = "saturate",
    seed: int = 0,
    source: str = "xoshiro",
) -> npt.NDArray[np.float64]:
    """Round ``x`` to Q(wl, fl); the grid values as float64, of ``x``'s shape."""

def quantize_codes(
    x: npt.ArrayLike,
    wl: int,
    fl: int,
    rounding: str = "nearest-even",
    overflow: str = "saturate",
    seed: int = 0,
    source: str = "xoshiro",
) -> npt.NDArray[np.signedinteger[Any]]:
    """Round ``x`` to Q(wl, fl); the integer codes (int8/16/32/64 by WL)."""

def run(
    config: Config = None, *, seed: Optional[int] = None, threads: Optional[int] = None
) -> Dict[str, Any]:
    """Run a config; ``result.json``'s keys plus ``samples`` and ``sample_chains``."""

def eval(
    samples: npt.ArrayLike,
    target: Union[Dict[str, Any], str, "os.PathLike[str]"],
    *,
    chains: Optional[npt.ArrayLike] = None,
    seed: int = 0,
    slices: int = 64,
    delta: Optional[float] = None,
    bootstrap: Optional[int] = None,
    blocks: int = 20,
    reference: Optional[npt.ArrayLike] = None,
) -> Dict[str, Any]:
    """The metrics ``lpmc eval`` prints for ``samples`` against ``target``."""

def exact(config: Config = None, *, max_entries: Optional[int] = None) -> Dict[str, Any]:
    """``exact.json``'s keys plus ``values`` and ``probability`` (the stationary pmf of x)."""

def sweep(
    grid: Union[Dict[str, Any], str, "os.PathLike[str]"],
    out: Union[str, "os.PathLike[str]", None] = None,
    *,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
    resume: bool = False,
) -> Union[List[Dict[str, Any]], Any]:
    """The rows of ``points.jsonl`` (a pandas DataFrame when pandas is installed)."""
