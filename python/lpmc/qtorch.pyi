"""Type stubs of lpmc.qtorch, the drop-in for QPyTorch's fixed_point_quantize."""

from typing import Any, Optional, TypeVar

T = TypeVar("T")

def fixed_point_quantize(
    x: T,
    wl: int,
    fl: int,
    clamp: bool = True,
    symmetric: bool = False,
    rounding: str = "stochastic",
    *,
    seed: Optional[int] = None,
) -> T:
    """QPyTorch's fixed_point_quantize on lpmc's exact kernels (NumPy arrays or torch tensors)."""
