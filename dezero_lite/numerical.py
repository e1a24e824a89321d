"""Numerical gradients by central difference, and checking backprop against them."""

from collections.abc import Callable
from typing import Any

import numpy as np

from dezero_lite._typing import VariableLike
from dezero_lite.core import Variable, as_array, grad


def _data(x):
    return x.data if isinstance(x, Variable) else as_array(x)


EPS = 1e-4  # the step of the central difference


def numerical_grad(f: Callable[..., Any], x: VariableLike, *args: Any, **kwargs: Any) -> np.ndarray:
    """d sum(f(x)) / dx by central difference (step EPS) over every element, in float64.

    x is a Variable or an array; it is never changed (the work is on a copy).
    Extra arguments go to f.
    """
    x = np.array(_data(x), dtype=np.float64)
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        orig = x[idx]
        x[idx] = orig + EPS
        y1 = _data(f(Variable(x.copy()), *args, **kwargs)).sum()
        x[idx] = orig - EPS
        y2 = _data(f(Variable(x.copy()), *args, **kwargs)).sum()
        x[idx] = orig
        g[idx] = (y1 - y2) / (2 * EPS)
    return g


def gradient_check(
    f: Callable[..., Any],
    x: VariableLike,
    *args: Any,
    rtol: float = 1e-4,
    atol: float = 1e-5,
    **kwargs: Any,
) -> bool:
    """True if backprop through f agrees with the numerical gradient at x.

    The upstream gradient is random (an all-ones one would let a backward that
    forgets a transpose pass). The check runs on a float64 copy of x. On
    failure it prints the worst element and returns False.
    """
    x = Variable(np.array(_data(x), dtype=np.float64))
    y = f(x, *args, **kwargs)
    gy = np.random.default_rng(0).standard_normal(_data(y).shape)  # fixed: reproducible
    (gx,) = grad(y, x, grad_outputs=Variable(gy))
    gx = np.zeros_like(x.data) if gx is None else gx.data  # not connected: zero
    num = numerical_grad(lambda v: _data(f(v, *args, **kwargs)) * gy, x)
    err = np.abs(gx - num) - (atol + rtol * np.abs(num))
    if err.size == 0 or err.max() <= 0:
        return True
    idx = np.unravel_index(np.argmax(err), err.shape)
    print(
        f"gradient_check failed: worst element at index {idx}: backprop "
        f"{gx[idx]!r}, numerical {num[idx]!r}, off by "
        f"{abs(gx[idx] - num[idx]):.3g} (allowed {atol + rtol * abs(num[idx]):.3g})"
    )
    return False
