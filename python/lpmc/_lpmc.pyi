"""Type stubs of the native module (called through the wrappers in lpmc/__init__.py)."""

from typing import Any, Optional, Tuple

import numpy as np
import numpy.typing as npt

__version__: str
CALL: int

def quantize(
    x: npt.NDArray[Any],
    wl: int,
    fl: int,
    rounding: str,
    overflow: str,
    seed: int,
    source: str,
    codes: bool,
    out32: bool = False,
) -> npt.NDArray[Any]:
    """Round the flat float32/float64 ``x``: grid values (float64; float32 with ``out32``) or
    codes (``codes=True``)."""

def run(
    config_json: Optional[str], config_path: Optional[str], seed: Optional[int], threads: Optional[int]
) -> Tuple[str, npt.NDArray[np.float64], npt.NDArray[np.uint64]]:
    """(result.json text, samples rows x d, chain of each row)."""

def eval(
    samples: npt.NDArray[np.float64],
    target: str,
    chains: Optional[list],
    seed: int,
    slices: int,
    delta: Optional[float],
    bootstrap: Optional[int],
    blocks: int,
    reference: Optional[npt.NDArray[np.float64]],
) -> str:
    """The metrics of ``lpmc eval`` as JSON text."""

def exact(
    config_json: Optional[str], config_path: Optional[str], max_entries: Optional[int]
) -> Tuple[str, npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(exact.json text, grid values of x, their stationary probabilities)."""

def sweep(
    grid_json: Optional[str], grid_path: Optional[str], out: str, seed: Optional[int], threads: Optional[int], resume: bool
) -> int:
    """Run a grid into ``out``; the number of points run."""
