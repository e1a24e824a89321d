"""Differentiable functions: each op a Function subclass and a plain function.

Backward passes are written with these same functions, so gradients can be
differentiated again (create_graph=True). The operators of Variable are bound
in one table at the end of this module.
"""

import builtins
import operator
from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from dezero_lite import core, utils
from dezero_lite._typing import Axis, Shape, VariableLike
from dezero_lite.core import Config, Constant, Function, Variable, as_array


def _input(x: VariableLike) -> Variable:
    """A Variable as it is; an array or number as a Constant (it needs no gradient)."""
    return x if isinstance(x, Variable) else core._constant(x, ())


_BOOLS = frozenset([bool, np.bool_])


def _plain_ints(parts):
    """A tuple of ints and NumPy integers as plain ints; TypeError for anything else."""
    # operator.index takes ints and NumPy integers and refuses floats and arrays;
    # bools it would take (NumPy 1.x's with a warning), so they are refused first
    if not _BOOLS.isdisjoint(map(type, parts)):
        raise TypeError
    return tuple(map(operator.index, parts))


def _axis(name, axis):
    """An axis argument as NumPy takes it, with NumPy integers made plain ints (backward needs them)."""
    if axis is None:
        return None
    several = isinstance(axis, (tuple, list))
    try:
        parts = _plain_ints(tuple(axis) if several else (axis,))
    except TypeError:
        raise TypeError(
            f"{name}: axis must be None, an int or a tuple of ints, got {axis!r}"
        ) from None
    return parts if several else parts[0]


def _shape(name, shape):
    """A shape argument as a tuple of plain ints (an int, NumPy integers and lists are fine)."""
    try:
        return _plain_ints((shape,) if isinstance(shape, (int, np.integer)) else tuple(shape))
    except TypeError:
        raise TypeError(
            f"{name}: a shape must be an int or a tuple of ints, got {shape!r}"
        ) from None


def _check_axis(name, shape, axis, nonempty=False):
    """Refuse an axis out of bounds for shape (or of length 0 if nonempty), naming the function."""
    for a in axis if isinstance(axis, tuple) else (axis,):
        if a is not None and not -len(shape) <= a < len(shape):
            raise ValueError(f"{name}: axis {a} is out of bounds for shape {shape}")
        if nonempty and a is not None and shape[a] == 0:
            raise ValueError(
                f"{name}: axis {a} of shape {shape} is empty; there is nothing to normalize"
            )


def _floating(name, x, what="scores"):
    if x.dtype.kind != "f":
        raise TypeError(
            f"{name}: {what} must be floating point, got {x.dtype}; "
            f"convert them with x.astype(np.float32)"
        )


def _reduce(name, reduction, x, axis, keepdims):
    try:
        return reduction(x, axis=axis, keepdims=keepdims)
    except ValueError as e:  # AxisError (out of bounds, repeated) or max of an empty axis
        raise ValueError(f"{name}: cannot reduce shape {x.shape} over axis {axis}: {e}") from None


def _unbroadcast(f, *gxs):
    """Sum each gradient back to the shape of its input, undoing broadcasting (the backward
    loop then gives it the input's dtype: float32 + float64 gives a float32 gradient)."""
    return tuple(
        [
            gx if gx is None or gx.shape == x._data.shape else sum_to(gx, x._data.shape)
            for gx, x in zip(gxs, f.inputs)  # noqa: B905  (the backward loop checks the count)
        ]
    )


class _Cast(Function):
    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        return x.astype(self.dtype)

    def backward(self, gy):
        return _cast_like(gy, self.inputs[0])


def _cast_like(gx, x):
    """gx in the dtype of x, if x is floating and gx is not already of that dtype."""
    if x.dtype.kind != "f" or gx.dtype == x.dtype:
        return gx
    return _Cast(x.dtype)(gx)


core.cast_like = _cast_like


# Arithmetic


class Add(Function):
    def forward(self, x0, x1):
        return x0 + x1

    def backward(self, gy):
        return _unbroadcast(self, gy, gy)


def add(x0: VariableLike, x1: VariableLike) -> Variable:
    """x0 + x1"""
    return Add()(x0, x1)


class Sub(Function):
    def forward(self, x0, x1):
        return x0 - x1

    def backward(self, gy):
        return _unbroadcast(self, gy, -gy)


def sub(x0: VariableLike, x1: VariableLike) -> Variable:
    """x0 - x1"""
    return Sub()(x0, x1)


def rsub(x0: VariableLike, x1: VariableLike) -> Variable:
    """x1 - x0 (the reflected form of sub)"""
    return Sub()(x1, x0)


class Mul(Function):
    def forward(self, x0, x1):
        return x0 * x1

    def backward(self, gy):
        x0, x1 = self.inputs
        # (a constant, such as the 0.1 of x * 0.1, needs no gradient)
        gx0 = None if type(x0) is Constant else gy * x1
        gx1 = None if type(x1) is Constant else gy * x0
        return _unbroadcast(self, gx0, gx1)


def mul(x0: VariableLike, x1: VariableLike) -> Variable:
    """x0 * x1"""
    return Mul()(x0, x1)


class Div(Function):
    def forward(self, x0, x1):
        return x0 / x1

    def backward(self, gy):
        x0, x1 = self.inputs
        gx0 = gy / x1
        return _unbroadcast(self, gx0, None if type(x1) is Constant else -gx0 * x0 / x1)


def div(x0: VariableLike, x1: VariableLike) -> Variable:
    """x0 / x1"""
    return Div()(x0, x1)


def rdiv(x0: VariableLike, x1: VariableLike) -> Variable:
    """x1 / x0 (the reflected form of div)"""
    return Div()(x1, x0)


class Neg(Function):
    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


def neg(x: VariableLike) -> Variable:
    """-x"""
    return Neg()(x)


class Pow(Function):
    """x ** c for a constant exponent c."""

    def __init__(self, c):
        self.c = c if isinstance(c, (int, float, np.generic)) else np.asarray(c)  # (a list too)

    def forward(self, x):
        return x**self.c

    def backward(self, gy):
        (x,) = self.inputs
        # where c = 0 the formula would give 0 * 0 ** -1 = nan at x = 0: use 0 * x ** 1 there
        c = self.c
        c_minus_1 = (
            np.where(c == 0, 1, c - 1) if isinstance(c, np.ndarray) else (1 if c == 0 else c - 1)
        )
        return _unbroadcast(self, c * x**c_minus_1 * gy)


class PowVar(Function):
    """x0 ** x1 where the exponent is a Variable too: differentiable in both."""

    def forward(self, x0, x1):
        return x0**x1

    def backward(self, gy):
        x0, x1 = self.inputs
        y = self.outputs[0]()
        gx0 = None if type(x0) is Constant else gy * x1 * x0 ** (x1 - 1)
        # d/dx1 is y log x0; where x0 = 0 (so y = 0) take it as 0, not 0 * -inf
        gx1 = None if type(x1) is Constant else gy * y * log(x0 + (x0.data == 0))
        return _unbroadcast(self, gx0, gx1)


def pow(x: VariableLike, c: VariableLike) -> Variable:
    """x ** c; differentiable in c too when c is a Variable."""
    if isinstance(c, Variable):
        return PowVar()(x, c)
    return Pow(c)(x)


def rpow(x: VariableLike, c: VariableLike) -> Variable:
    """c ** x (the reflected form of pow)"""
    return PowVar()(c, x)


class Square(Function):
    def forward(self, x):
        return x**2

    def backward(self, gy):
        (x,) = self.inputs
        return 2 * x * gy


def square(x: VariableLike) -> Variable:
    """x ** 2"""
    return Square()(x)


# Elementwise


class Exp(Function):
    def forward(self, x):
        return np.exp(x)

    def backward(self, gy):
        return gy * self.outputs[0]()


def exp(x: VariableLike) -> Variable:
    """e ** x"""
    return Exp()(x)


class Log(Function):
    def forward(self, x):
        return np.log(x)

    def backward(self, gy):
        (x,) = self.inputs
        return gy / x


def log(x: VariableLike) -> Variable:
    """natural logarithm"""
    return Log()(x)


class Sin(Function):
    def forward(self, x):
        return np.sin(x)

    def backward(self, gy):
        (x,) = self.inputs
        return gy * cos(x)


def sin(x: VariableLike) -> Variable:
    """sine"""
    return Sin()(x)


class Cos(Function):
    def forward(self, x):
        return np.cos(x)

    def backward(self, gy):
        (x,) = self.inputs
        return gy * -sin(x)


def cos(x: VariableLike) -> Variable:
    """cosine"""
    return Cos()(x)


class Tanh(Function):
    def forward(self, x):
        return np.tanh(x)

    def backward(self, gy):
        y = self.outputs[0]()
        return gy * (1 - y * y)


def tanh(x: VariableLike) -> Variable:
    """hyperbolic tangent"""
    return Tanh()(x)


class Sigmoid(Function):
    def forward(self, x):
        # tanh form: never overflows, unlike 1 / (1 + exp(-x)).
        return np.tanh(x * 0.5) * 0.5 + 0.5

    def backward(self, gy):
        y = self.outputs[0]()
        return gy * y * (1 - y)


def sigmoid(x: VariableLike) -> Variable:
    """1 / (1 + e ** -x)"""
    return Sigmoid()(x)


class ReLU(Function):
    def forward(self, x):
        return np.maximum(x, 0)

    def backward(self, gy):
        (x,) = self.inputs
        return gy * (x.data > 0)


def relu(x: VariableLike) -> Variable:
    """max(x, 0)"""
    return ReLU()(x)


class LeakyReLU(Function):
    def __init__(self, slope):
        self.slope = slope

    def forward(self, x):
        return np.where(x > 0, x, x * self.slope)

    def backward(self, gy):
        (x,) = self.inputs
        return gy * np.where(x.data > 0, 1, self.slope).astype(gy.dtype)


def leaky_relu(x: VariableLike, slope: float = 0.2) -> Variable:
    """x where x > 0, else slope * x"""
    return LeakyReLU(slope)(x)


class Clip(Function):
    def __init__(self, x_min, x_max):
        self.x_min, self.x_max = x_min, x_max

    def forward(self, x):
        return np.clip(x, self.x_min, self.x_max)

    def backward(self, gy):
        (x,) = self.inputs
        return gy * ((x.data >= self.x_min) & (x.data <= self.x_max))


def clip(x: VariableLike, x_min: float | None, x_max: float | None) -> Variable:
    """x limited to [x_min, x_max] (a bound of None means no limit on that side)"""
    return Clip(-np.inf if x_min is None else x_min, np.inf if x_max is None else x_max)(x)


# Shapes


class Reshape(Function):
    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise ValueError(
                f"cannot reshape a variable of shape {x.shape} ({x.size} elements) "
                f"into shape {self.shape}"
            ) from None

    def backward(self, gy):
        return reshape(gy, self.inputs[0].shape)


def reshape(x: VariableLike, shape: Shape) -> Variable:
    """x with a new shape (one axis may be -1)"""
    shape = _shape("reshape", shape)
    if isinstance(x, Variable) and x.shape == shape:
        return x
    return Reshape(shape)(x)


class Transpose(Function):
    def __init__(self, axes=None):
        self.axes = axes

    def forward(self, x):
        try:
            return x.transpose(self.axes)
        except ValueError:
            raise ValueError(
                f"transpose: axes {self.axes} are not a permutation of the axes of shape {x.shape}"
            ) from None

    def backward(self, gy):
        if self.axes is None:
            return transpose(gy)
        n = len(self.axes)
        return transpose(gy, tuple(np.argsort([a % n for a in self.axes])))


def transpose(x: VariableLike, axes: Sequence[int] | None = None) -> Variable:
    """x with its axes reversed, or permuted by axes"""
    return Transpose(None if axes is None else tuple(axes))(x)


def _plain_index(slices):
    """Indices may be Variables (say, labels); NumPy wants arrays. Index arrays are
    copied, so that changing them after the forward pass cannot change the backward."""

    def plain(s):
        s = s.data if isinstance(s, Variable) else s
        return s.copy() if isinstance(s, np.ndarray) else s

    return tuple(plain(s) for s in slices) if isinstance(slices, tuple) else plain(slices)


def _is_basic_index(slices):
    """True for ints, slices, None and ..., which never pick an element twice."""
    parts = slices if isinstance(slices, tuple) else (slices,)
    return all(isinstance(s, (int, slice, type(None), type(Ellipsis))) for s in parts)


def _check_index(slices):
    """Refuse index parts NumPy would reject with a message about the wrong thing (v[1.0])."""
    for s in slices if isinstance(slices, tuple) else (slices,):
        if isinstance(s, (int, np.integer, np.bool_, slice, type(None), type(Ellipsis))):
            continue
        if isinstance(s, list) and (not s or np.asarray(s).dtype.kind in "iub"):
            continue
        if isinstance(s, np.ndarray) and s.dtype.kind in "iub":
            continue
        kind = f"an array of {s.dtype}" if isinstance(s, np.ndarray) else type(s).__name__
        raise IndexError(
            f"get_item: cannot index with {kind} ({s!r}); use ints, slices, None, "
            f"..., or arrays of ints or bools"
        )
    return slices


class GetItem(Function):
    def __init__(self, slices):
        self.slices = _check_index(_plain_index(slices))

    def forward(self, x):
        try:
            return x[self.slices]
        except IndexError as e:
            raise IndexError(
                f"get_item: index {self.slices!r} does not fit a variable of shape {x.shape}: {e}"
            ) from None

    def backward(self, gy):
        (x,) = self.inputs
        return GetItemGrad(self.slices, x.shape)(gy)


class GetItemGrad(Function):
    """Scatters a gradient back into the positions that get_item read."""

    def __init__(self, slices, in_shape):
        self.slices, self.in_shape = slices, in_shape

    def forward(self, gy):
        gx = np.zeros(self.in_shape, dtype=gy.dtype)
        if _is_basic_index(self.slices):
            gx[self.slices] = gy
        else:
            np.add.at(gx, self.slices, gy)  # fancy indices may repeat: add.at adds them all up
        return gx

    def backward(self, ggx):
        return get_item(ggx, self.slices)


def get_item(x: VariableLike, slices: Any) -> Variable:
    """x[slices], basic or fancy indexing"""
    return GetItem(slices)(x)


def expand_dims(x: VariableLike, axis: int | tuple[int, ...]) -> Variable:
    """x with a new axis of length 1 at position axis"""
    x = _input(x)
    axis = _axis("expand_dims", axis)
    _check_axis("expand_dims", x.shape + (1,), axis)  # the axis counts in the result's shape
    return reshape(x, np.expand_dims(x.data, axis).shape)


def flatten(x: VariableLike) -> Variable:
    """x reshaped to (batch, features)"""
    x = _input(x)
    if x.ndim == 0:
        raise ValueError(
            "flatten: a 0-d variable has no batch axis to keep; use reshape(x, (1, 1))"
        )
    # (the size given, not -1: reshape cannot infer -1 when the batch is empty)
    return reshape(x, (x.shape[0], int(np.prod(x.shape[1:], dtype=np.int64))))


class BroadcastTo(Function):
    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        try:
            # a copy: a read-only view would make only some gradients writable
            return np.broadcast_to(x, self.shape).copy()
        except ValueError:
            raise ValueError(f"cannot broadcast shape {x.shape} to {self.shape}") from None

    def backward(self, gy):
        return sum_to(gy, self.inputs[0].shape)


def broadcast_to(x: VariableLike, shape: Shape) -> Variable:
    """x repeated along new or length-1 axes to shape"""
    shape = _shape("broadcast_to", shape)
    if isinstance(x, Variable) and x.shape == shape:
        return x
    return BroadcastTo(shape)(x)


class SumTo(Function):
    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        return utils.sum_to(x, self.shape)

    def backward(self, gy):
        return broadcast_to(gy, self.inputs[0].shape)


def sum_to(x: VariableLike, shape: Shape) -> Variable:
    """x summed down to shape (the adjoint of broadcast_to)"""
    shape = _shape("sum_to", shape)
    if isinstance(x, Variable) and x.shape == shape:
        return x
    return SumTo(shape)(x)


# Reductions


class Sum(Function):
    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = _axis("sum", axis), keepdims

    def forward(self, x):
        return _reduce("sum", np.sum, x, self.axis, self.keepdims)

    def backward(self, gy):
        (x,) = self.inputs
        gy = utils.reshape_sum_backward(gy, x.shape, self.axis, self.keepdims)
        return broadcast_to(gy, x.shape)


def sum(x: VariableLike, axis: Axis = None, keepdims: bool = False) -> Variable:
    """sum of the elements, over all axes or the given ones"""
    return Sum(axis, keepdims)(x)


def mean(x: VariableLike, axis: Axis = None, keepdims: bool = False) -> Variable:
    """arithmetic mean, over all axes or the given ones"""
    x = _input(x)
    axis = _axis("mean", axis)
    _check_axis("mean", x.shape, axis)
    y = sum(x, axis, keepdims)
    return y * (y.size / x.size if x.size else np.nan)  # NumPy's mean of nothing is nan


average = mean


class Max(Function):
    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = _axis(type(self).__name__.lower(), axis), keepdims

    def forward(self, x):
        return _reduce("max", np.max, x, self.axis, self.keepdims)

    def backward(self, gy):
        (x,) = self.inputs
        y = self.outputs[0]()
        shape = utils.reshape_sum_backward(y.data, x.shape, self.axis, self.keepdims).shape
        y = y.data.reshape(shape)
        hit = (x.data == y) | (np.isnan(x.data) & np.isnan(y))  # a NaN maximum is the NaN element
        # Ties share the gradient, so that it still sums to gy.
        share = (hit / hit.sum(axis=self.axis, keepdims=True)).astype(gy.dtype)
        return broadcast_to(reshape(gy, shape), x.shape) * share


class Min(Max):
    def forward(self, x):
        return _reduce("min", np.min, x, self.axis, self.keepdims)


def max(x: VariableLike, axis: Axis = None, keepdims: bool = False) -> Variable:
    """largest element, over all axes or the given ones"""
    return Max(axis, keepdims)(x)


def min(x: VariableLike, axis: Axis = None, keepdims: bool = False) -> Variable:
    """smallest element, over all axes or the given ones"""
    return Min(axis, keepdims)(x)


# Linear algebra


def _swap_last(x):
    return x.T if x.ndim == 2 else transpose(x, tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2))


class MatMul(Function):
    def forward(self, x, W):
        try:
            return np.matmul(x, W)
        except ValueError:
            raise ValueError(
                f"matmul: cannot multiply shapes {x.shape} and {W.shape}; the last axis "
                f"of the first must match the second-to-last axis of the second"
            ) from None

    def backward(self, gy):
        x, W = self.inputs
        # A constant input (say, the batch of data) needs no gradient: skipping it
        # saves a third of the work of training a layer on data.
        gx = None if type(x) is Constant else matmul(gy, _swap_last(W))
        gW = None if type(W) is Constant else matmul(_swap_last(x), gy)
        return _unbroadcast(self, gx, gW)


def matmul(x: VariableLike, W: VariableLike) -> Variable:
    """matrix product x @ W (a 1-d operand is a row on the left, a column on the right)"""
    x, W = _input(x), _input(W)
    if x.ndim != 1 and W.ndim != 1:
        return MatMul()(x, W)
    y = MatMul()(
        reshape(x, (1, -1)) if x.ndim == 1 else x, reshape(W, (-1, 1)) if W.ndim == 1 else W
    )
    return reshape(
        y,
        y.shape[:-2]
        + (y.shape[-2:-1] if x.ndim > 1 else ())
        + (y.shape[-1:] if W.ndim > 1 else ()),
    )


def linear(x: VariableLike, W: VariableLike, b: VariableLike | None = None) -> Variable:
    """x @ W + b"""
    y = matmul(x, W)
    if b is None:
        return y
    # (b.shape, not np.shape(b), which goes through NumPy's function dispatch: 4% of a
    # batch-1 MLP forward)
    b = _input(b)
    if b.shape != y.shape[-1:] and not _broadcasts_to(b.shape, y.shape):
        raise ValueError(
            f"linear: a bias of shape {b.shape} does not fit the output of shape "
            f"{y.shape}; give one bias per output column, shape {y.shape[-1:]}"
        )
    return y + b


def _broadcasts_to(shape, target):
    """True when shape broadcasts to target without making it bigger."""
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


# Probabilities and losses


class Softmax(Function):
    def __init__(self, axis=1):
        self.axis = _axis("softmax", axis)

    def forward(self, x):
        _floating("softmax", x)
        _check_axis("softmax", x.shape, self.axis, nonempty=True)
        y = np.exp(x - x.max(axis=self.axis, keepdims=True))
        return y / y.sum(axis=self.axis, keepdims=True)

    def backward(self, gy):
        y = self.outputs[0]()
        gx = y * gy
        return gx - y * sum(gx, axis=self.axis, keepdims=True)


def softmax(x: VariableLike, axis: Axis = 1) -> Variable:
    """exp(x) / sum(exp(x)) along axis, without overflow"""
    return Softmax(axis)(x)


class LogSoftmax(Function):
    def __init__(self, axis=1):
        self.axis = _axis("log_softmax", axis)

    def forward(self, x):
        _floating("log_softmax", x)
        _check_axis("log_softmax", x.shape, self.axis, nonempty=True)
        return x - utils.logsumexp(x, self.axis)

    def backward(self, gy):
        y = self.outputs[0]()
        return gy - exp(y) * sum(gy, axis=self.axis, keepdims=True)


def log_softmax(x: VariableLike, axis: Axis = 1) -> Variable:
    """log(softmax(x)) computed without overflow"""
    return LogSoftmax(axis)(x)


def _target_like(t, x):
    """Targets given as arrays follow the dtype of the scores (float32 stays float32)."""
    if isinstance(t, Variable) or not isinstance(x, Variable) or x.dtype.kind != "f":
        return t
    return as_array(t).astype(x.dtype, copy=False)


def mean_squared_error(x0: VariableLike, x1: VariableLike) -> Variable:
    """sum((x0 - x1) ** 2) / len(x0 - x1), as in DeZero"""
    x0, x1 = _target_like(x0, x1), _target_like(x1, x0)
    _same_shape("mean_squared_error", x0, x1)
    diff = sub(x0, x1)
    return sum(diff**2) / (len(diff) if diff.ndim else 1)


def _same_shape(name, x, t):
    """Refuse a target whose shape differs from the scores' (a 0-d one is fine)."""
    if np.shape(x) != np.shape(t) and np.ndim(x) and np.ndim(t):
        # (N, 1) against (N,) would broadcast to (N, N): almost never what was meant
        raise ValueError(
            f"{name}: shapes {np.shape(x)} and {np.shape(t)} differ; "
            f"reshape one to the other, e.g. t.reshape(y.shape)"
        )


def _in_unit_interval(name, what, a):
    a = a.data if isinstance(a, Variable) else np.asarray(a)
    if np.any((a < 0) | (a > 1)):
        raise ValueError(
            f"{name}: {what} must lie in [0, 1], got values from {np.nanmin(a)} to {np.nanmax(a)}"
        )


def _labels(t, n, n_classes):
    t = np.asarray(t.data if isinstance(t, Variable) else t)
    if t.shape != (n,) or t.dtype.kind not in "iu":
        raise ValueError(
            f"labels must be {n} integers (one per row of scores), "
            f"got shape {t.shape} of dtype {t.dtype}"
        )
    if n and (t.min() < 0 or t.max() >= n_classes):
        raise ValueError(
            f"labels must lie in 0..{n_classes - 1} for {n_classes} classes, "
            f"got values from {t.min()} to {t.max()}"
        )
    return t


class SoftmaxCrossEntropy(Function):
    def forward(self, x, t):
        if x.ndim != 2:
            raise ValueError(f"softmax_cross_entropy takes scores of shape (N, C), got {x.shape}")
        _floating("softmax_cross_entropy", x)
        t = _labels(t, len(x), x.shape[1])
        self._log_p = x - utils.logsumexp(x, axis=1)  # kept for backward
        return -self._log_p[np.arange(len(x)), t].sum() / np.asarray(len(x), x.dtype)

    def backward(self, gy):
        x, t = self.inputs
        n, n_classes = x.shape
        onehot = np.eye(n_classes, dtype=x.dtype)[t.data]
        # A backward that builds a graph needs the probabilities as a function of x; one on
        # plain arrays reuses the forward pass's (computing softmax again was 6% of the
        # instructions of a small MLP's training step)
        p = softmax(x) if isinstance(gy, Variable) else np.exp(self._log_p)
        return (p - onehot) * (gy / n), None


def softmax_cross_entropy(x: VariableLike, t: VariableLike) -> Variable:
    """mean over rows of -log softmax(x)[t] for scores x (N, C) and labels t (N,)"""
    return SoftmaxCrossEntropy()(x, t)


def _times(w, m):
    """w * m, with 0 * inf taken as 0 (a target of 0 ignores an infinite score)."""
    return np.where(w == 0, 0, w * m)


class SigmoidCrossEntropy(Function):
    def forward(self, x, t):
        # log(1 + e**x) - t*x = (1-t) max(x, 0) + t max(-x, 0) + log(1 + e**-|x|): large |x|
        # neither overflows nor gives log(0), and a weight of 0 times an infinite score is 0
        loss = (
            _times(1 - t, np.maximum(x, 0))
            + _times(t, np.maximum(-x, 0))
            + np.log1p(np.exp(-np.abs(x)))
        )
        return loss.sum() / np.asarray(len(x) if x.ndim else 1, x.dtype)

    def backward(self, gy):
        x, t = self.inputs
        n = len(x) if x.ndim else 1
        return (sigmoid(x) - t) * (gy / n), None


def sigmoid_cross_entropy(x: VariableLike, t: VariableLike) -> Variable:
    """binary cross-entropy of sigmoid(x) against targets t, from the scores x"""
    x = _input(x)
    _floating("sigmoid_cross_entropy", x)
    t = _target_like(t.data if isinstance(t, Variable) else t, x)
    t = cast(np.ndarray, t)  # (an array now)
    if np.size(t) != x.size:
        raise ValueError(
            f"sigmoid_cross_entropy: {x.size} scores of shape {x.shape} but "
            f"{np.size(t)} targets of shape {np.shape(t)}; give one target per score"
        )
    _in_unit_interval("sigmoid_cross_entropy", "targets", t)
    return SigmoidCrossEntropy()(x, np.reshape(t, x.shape))


def binary_cross_entropy(p: VariableLike, t: VariableLike, eps: float = 1e-15) -> Variable:
    """-mean(t log p + (1 - t) log(1 - p)) for probabilities p"""
    p = _input(p)
    _floating("binary_cross_entropy", p, "probabilities")
    _same_shape("binary_cross_entropy", p, t)
    _in_unit_interval(
        "binary_cross_entropy", "probabilities (use sigmoid_cross_entropy on scores)", p
    )
    _in_unit_interval("binary_cross_entropy", "targets", t)
    eps = builtins.max(eps, float(np.finfo(p.dtype).eps))  # 1 - 1e-15 is 1 in float32
    p = clip(p, eps, 1 - eps)
    t = _target_like(t, p)
    return -mean(t * log(p) + (1 - t) * log(1 - p))


def accuracy(y: VariableLike, t: VariableLike) -> Variable:
    """fraction of rows whose highest score is at the label (no gradient)"""
    y, t = _input(y), _input(t)
    if y.ndim != 2 or len(y) == 0 or y.shape[1] == 0:
        raise ValueError(f"accuracy takes scores of shape (N, C) with N, C >= 1, got {y.shape}")
    if t.size != len(y):
        raise ValueError(
            f"accuracy: {len(y)} rows of scores but {t.size} labels of shape "
            f"{t.shape}; give one label per row"
        )
    pred = y.data.argmax(axis=1).reshape(t.shape)
    return Variable(as_array((pred == t.data).mean()))


def dropout(x: VariableLike, dropout_ratio: float = 0.5) -> Variable:
    """in training, zero each element with probability dropout_ratio and rescale"""
    if (
        isinstance(dropout_ratio, bool)
        or not isinstance(dropout_ratio, (int, float, np.number))
        or not 0 <= dropout_ratio < 1
    ):
        raise ValueError(
            f"dropout: dropout_ratio must be a number in [0, 1), got {dropout_ratio!r}"
        )
    x = _input(x)
    if not Config.train:
        return x
    mask = np.random.random_sample(x.shape) > dropout_ratio  # the stream of np.random.rand
    scale = mask / (1.0 - dropout_ratio)
    return x * (scale.astype(x.dtype) if x.dtype.kind == "f" else scale)


# The operators and methods of Variable, in one table.


def _reshape_method(self, *shape):
    return reshape(
        self, shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    )


def _transpose_method(self, *axes):
    if not axes or axes == (None,):
        return transpose(self)
    return transpose(
        self, axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
    )


# fmt: off
_VARIABLE_METHODS = {
    "__add__": add, "__radd__": add,
    "__sub__": sub, "__rsub__": rsub,
    "__mul__": mul, "__rmul__": mul,
    "__truediv__": div, "__rtruediv__": rdiv,
    "__pow__": pow, "__rpow__": rpow,
    "__matmul__": matmul, "__rmatmul__": lambda x, W: matmul(W, x),
    "__neg__": neg,
    "__getitem__": get_item,
    "reshape": _reshape_method,
    "transpose": _transpose_method,
    "T": property(transpose),
    "sum": sum, "mean": mean, "max": max, "min": min,
    "matmul": matmul, "dot": matmul,
}
# fmt: on
for _name, _method in _VARIABLE_METHODS.items():
    setattr(Variable, _name, _method)


# Normalization


def _bn_layout(x, *params):
    """The axes batch_norm averages over and the shape that broadcasts (C,) against x."""
    if x.ndim not in (2, 4):
        raise ValueError(f"batch_norm takes input of shape (N, C) or (N, C, H, W), got {x.shape}")
    if x.shape[1] == 0:
        raise ValueError(f"batch_norm: input of shape {x.shape} has no channels to normalize")
    for p in params:
        if p.shape != (x.shape[1],):
            raise ValueError(
                f"batch_norm: gamma, beta, mean and var must have shape "
                f"({x.shape[1]},), one value per channel of an input of shape "
                f"{x.shape}; got {p.shape}"
            )
    return ((0,), (1, -1)) if x.ndim == 2 else ((0, 2, 3), (1, -1, 1, 1))


def _running_stat(a, name, C):
    a = a.data if isinstance(a, Variable) else a
    if not hasattr(a, "dtype") or a.shape != (C,) or a.dtype.kind != "f":
        raise ValueError(
            f"batch_norm: the running {name} must be a float array of shape ({C},) "
            f"(it is updated in place), got {getattr(a, 'shape', type(a).__name__)}"
        )
    return a


class BatchNorm(Function):
    """(x - mean) / sqrt(var + eps) * gamma + beta per channel: batch statistics in
    training (and the running ones updated in place), the running ones in test_mode()."""

    def __init__(self, mean, var, decay=0.9, eps=2e-5):
        self.avg_mean, self.avg_var, self.decay, self.eps = mean, var, decay, eps

    def forward(self, x, gamma, beta):
        axes, shape = _bn_layout(x, gamma, beta)
        C = x.shape[1]
        avg_mean = _running_stat(self.avg_mean, "mean", C)
        avg_var = _running_stat(self.avg_var, "var", C)
        self.train = Config.train
        if self.train:
            m = x.size // C
            if m < 2:
                raise ValueError(
                    f"batch_norm in training needs more than one value per channel "
                    f"to estimate a variance, got input of shape {x.shape}; use a "
                    f"larger batch, or test_mode() to use the running statistics"
                )
            mu, var = x.mean(axis=axes), x.var(axis=axes)
            avg_mean *= self.decay
            avg_mean += (1 - self.decay) * mu
            avg_var *= self.decay
            avg_var += (1 - self.decay) * m / (m - 1) * var  # unbiased, as PyTorch keeps it
        else:
            mu, var = avg_mean.astype(x.dtype), avg_var.astype(x.dtype)
            self.test_stats = mu.reshape(shape), (1 / np.sqrt(var + self.eps)).reshape(shape)
        xhat = (x - mu.reshape(shape)) / np.sqrt(var.reshape(shape) + self.eps)
        return gamma.reshape(shape) * xhat + beta.reshape(shape)

    def backward(self, gy):
        x, gamma, beta = self.inputs
        axes, shape = _bn_layout(x)
        if self.train:
            # Statistics recomputed from x with our own ops, so that this differentiates again.
            xc = x - mean(x, axes, keepdims=True)
            inv_std = (mean(xc**2, axes, keepdims=True) + self.eps) ** -0.5
        else:
            mu, inv_std = self.test_stats
            xc = x - mu
        xhat = xc * inv_std
        gbeta = sum(gy, axes)
        ggamma = sum(gy * xhat, axes)
        gx = gy
        if self.train:
            m = x.size // x.shape[1]  # (the small per-channel factors first: fewer passes over x)
            gx = gy - reshape(gbeta / m, shape) - xhat * reshape(ggamma / m, shape)
        # each gradient in its input's dtype (float32 x with float64 gamma, say)
        return _unbroadcast(self, gx * (reshape(gamma, shape) * inv_std), ggamma, gbeta)


def batch_norm(
    x: VariableLike,
    gamma: VariableLike,
    beta: VariableLike,
    mean: np.ndarray | Variable,
    var: np.ndarray | Variable,
    decay: float = 0.9,
    eps: float = 2e-5,
) -> Variable:
    """gamma * (x - mean) / sqrt(var + eps) + beta per channel (axis 1), over batch (and H, W)"""
    return BatchNorm(mean, var, decay, eps)(x, gamma, beta)


batch_nrom = batch_norm  # DeZero's public spelling


# Embeddings


def embed_id(x: VariableLike, W: Variable | np.ndarray) -> Variable:
    """W[x]: row x of the table W for every integer id in x (any shape); repeated rows sum their gradient"""
    ids = np.asarray(x.data if isinstance(x, Variable) else x)
    if ids.dtype.kind not in "iu":
        raise TypeError(
            f"embed_id takes integer ids, got an array of dtype {ids.dtype}; "
            f"convert with .astype(int)"
        )
    n = len(W)
    bad = ids[(ids < 0) | (ids >= n)]
    if bad.size:
        raise IndexError(
            f"embed_id: id {bad.flat[0]} is out of range for a table of {n} rows "
            f"(ids must lie in 0..{n - 1})"
        )
    return get_item(W, ids)


# The long way round: what the book writes before the fused ops, kept readable.


def linear_simple(x: VariableLike, W: VariableLike, b: VariableLike | None = None) -> Variable:
    """x @ W + b from matmul and add"""
    t = matmul(x, W)
    return t if b is None else t + b


def sigmoid_simple(x: VariableLike) -> Variable:
    """1 / (1 + exp(-x)) from exp and division"""
    return 1 / (1 + exp(-_input(x)))


def softmax_simple(x: VariableLike, axis: Axis = 1) -> Variable:
    """exp(x) / sum(exp(x)) from exp, sum and division"""
    x, axis = _input(x), _axis("softmax_simple", axis)
    _floating("softmax_simple", x)
    _check_axis("softmax_simple", x.shape, axis, nonempty=True)
    # softmax(x - c) = softmax(x): shifting by the (constant) max only avoids overflow
    y = exp(x - x.data.max(axis=axis, keepdims=True))
    return y / sum(y, axis=axis, keepdims=True)


def softmax_cross_entropy_simple(x: VariableLike, t: VariableLike) -> Variable:
    """-mean(log softmax(x)[t]) from softmax_simple, log and indexing"""
    x = _input(x)
    if x.ndim != 2:
        raise ValueError(
            f"softmax_cross_entropy_simple takes scores of shape (N, C), got {x.shape}"
        )
    _floating("softmax_cross_entropy_simple", x)
    n = x.shape[0]
    t = _labels(t, n, x.shape[1])
    p = clip(softmax_simple(x), 1e-15, 1.0)  # log(0) would be -inf
    return -sum(log(p)[np.arange(n), t]) / n


def mean_squared_error_simple(x0: VariableLike, x1: VariableLike) -> Variable:
    """sum((x0 - x1) ** 2) / len(x0 - x1) from subtraction, square and sum"""
    x0, x1 = _target_like(x0, x1), _target_like(x1, x0)
    _same_shape("mean_squared_error_simple", x0, x1)
    diff = _input(x0) - x1
    return sum(diff**2) / (len(diff) if diff.ndim else 1)  # a 0-d difference is one value


# DeZero's fused classes for ops that are composites here.


class Linear(Function):
    """x @ W + b as one op (DeZero's class; linear builds the same graph from matmul and add)."""

    def __call__(self, x, W, b=None):
        return super().__call__(x, W) if b is None else super().__call__(x, W, b)

    def forward(self, x, W, b=None):
        y = x @ W
        return y if b is None else y + b

    def backward(self, gy):
        x, W = self.inputs[:2]
        gx = None if type(x) is Constant else matmul(gy, W.T)  # (data needs no gradient)
        gW = None if type(W) is Constant else matmul(x.T, gy)
        return (gx, gW) if len(self.inputs) == 2 else (gx, gW, sum_to(gy, self.inputs[2].shape))


class MeanSquaredError(Function):
    """sum((x0 - x1) ** 2) / len(x0) as one op (DeZero's class; see mean_squared_error)."""

    def forward(self, x0, x1):
        diff = x0 - x1
        return (diff**2).sum() / np.asarray(len(diff), diff.dtype)

    def backward(self, gy):
        x0, x1 = self.inputs
        diff = x0 - x1
        gx0 = gy * diff * (2 / len(diff))
        return _unbroadcast(self, gx0, -gx0)


# Joining and splitting (an LSTM computes its four gates with one product)


class Concatenate(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        try:
            return np.concatenate(xs, axis=self.axis)
        except ValueError:
            raise ValueError(
                f"concatenate: shapes {[x.shape for x in xs]} differ outside axis {self.axis}"
            ) from None

    def backward(self, gy):
        ends, end = [], 0
        for x in self.inputs[:-1]:
            end += x.shape[self.axis]
            ends.append(end)
        # one part per input (the backward loop gives each its input's dtype)
        return tuple(split(gy, ends, self.axis))


def concatenate(xs: Sequence[VariableLike], axis: int = 0) -> Variable:
    """the variables xs joined along axis (np.concatenate)"""
    return Concatenate(axis)(*xs)


class Split(Function):
    def __init__(self, indices_or_sections, axis):
        self.indices_or_sections, self.axis = indices_or_sections, axis

    def forward(self, x):
        # slicing by hand: np.split costs more than the slices themselves at these sizes
        if x.ndim == 0:
            raise ValueError("split: a 0-d array has no axis to split along")
        _check_axis("split", x.shape, self.axis)
        axis, n, cut = self.axis % x.ndim, x.shape[self.axis], self.indices_or_sections
        if isinstance(cut, (int, np.integer)):
            if cut < 1 or n % cut:
                raise ValueError(
                    f"split: axis {self.axis} of shape {x.shape} does not divide "
                    f"into {cut} equal parts"
                )
            ends = [i * (n // cut) for i in range(cut + 1)]  # (an empty axis gives empty parts)
        else:
            ends = [0, *cut, n]
        index = [slice(None)] * x.ndim
        parts = []
        for start, stop in zip(ends[:-1], ends[1:], strict=True):
            index[axis] = slice(start, stop)
            parts.append(x[tuple(index)])
        return tuple(parts)

    def backward(self, *gys):
        return concatenate(gys, self.axis)


def split(
    x: VariableLike, indices_or_sections: int | Sequence[int], axis: int = 0
) -> tuple[Variable, ...]:
    """x cut along axis into equal parts, or at the given indices (np.split); a tuple"""
    ys = Split(indices_or_sections, axis)(x)
    return tuple(ys) if isinstance(ys, list) else (ys,)


from dezero_lite.functions_conv import *  # noqa: E402,F403  (conv and pooling, DeZero's module)
