"""GPU support through CuPy, which is optional: without it everything runs on NumPy."""

import importlib.util
from types import ModuleType
from typing import Any

import numpy as np

from dezero_lite._typing import VariableLike
from dezero_lite.core import Variable

# DeZero's flag; found without importing CuPy, so that importing the package stays cheap.
gpu_enable = importlib.util.find_spec("cupy") is not None


def _cupy():
    try:
        import cupy
    except ImportError:
        raise RuntimeError(
            "CuPy is not installed, so there is no GPU to move data to; install "
            "CuPy for your CUDA version (see https://cupy.dev) or stay on the CPU"
        ) from None
    return cupy


def _is_cupy(x):
    return type(x).__module__.startswith("cupy")


def get_array_module(x: Any) -> ModuleType:
    """numpy, or cupy when x lives on the GPU."""
    data = getattr(x, "data", x) if not isinstance(x, np.ndarray) else x
    return _cupy() if _is_cupy(data) else np


def as_numpy(x: VariableLike) -> np.ndarray:
    """x (a Variable, number or array) as a NumPy array."""
    if isinstance(x, Variable):
        x = x.data
    if _is_cupy(x):
        return _cupy().asnumpy(x)
    return np.asarray(x)


def as_cupy(x: VariableLike) -> Any:
    """x (a Variable, number or array) as a CuPy array; needs CuPy."""
    if isinstance(x, Variable):
        x = x.data
    return _cupy().asarray(x)
