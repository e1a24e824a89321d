"""Differentiable functions: each op a Function subclass and a plain function.

Backward passes are written with these same functions, so gradients can be
differentiated again (create_graph=True). The operators of Variable are bound
in one table at the end of this module.
"""
import numpy as np

from dezero_lite import utils
from dezero_lite.core import Config, Constant, Function, Variable, as_array


def _input(x):
    """A Variable as it is; an array or number as a Constant (it needs no gradient)."""
    return x if isinstance(x, Variable) else Constant(as_array(x))


def _unbroadcast(f, *gxs):
    """Sum each gradient back to the shape of its input, undoing broadcasting."""
    return tuple([gx if gx is None or gx._data.shape == x._data.shape else sum_to(gx, x._data.shape)
                  for gx, x in zip(gxs, f.inputs)])


# Arithmetic

class Add(Function):
    def forward(self, x0, x1):
        return x0 + x1

    def backward(self, gy):
        return _unbroadcast(self, gy, gy)


def add(x0, x1):
    """x0 + x1"""
    return Add()(x0, x1)


class Sub(Function):
    def forward(self, x0, x1):
        return x0 - x1

    def backward(self, gy):
        return _unbroadcast(self, gy, -gy)


def sub(x0, x1):
    """x0 - x1"""
    return Sub()(x0, x1)


def rsub(x0, x1):
    """x1 - x0 (the reflected form of sub)"""
    return Sub()(x1, x0)


class Mul(Function):
    def forward(self, x0, x1):
        return x0 * x1

    def backward(self, gy):
        x0, x1 = self.inputs
        return _unbroadcast(self, gy * x1, gy * x0)


def mul(x0, x1):
    """x0 * x1"""
    return Mul()(x0, x1)


class Div(Function):
    def forward(self, x0, x1):
        return x0 / x1

    def backward(self, gy):
        x0, x1 = self.inputs
        gx0 = gy / x1
        return _unbroadcast(self, gx0, -gx0 * x0 / x1)


def div(x0, x1):
    """x0 / x1"""
    return Div()(x0, x1)


def rdiv(x0, x1):
    """x1 / x0 (the reflected form of div)"""
    return Div()(x1, x0)


class Neg(Function):
    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


def neg(x):
    """-x"""
    return Neg()(x)


class Pow(Function):
    """x ** c for a constant exponent c."""

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        return x ** self.c

    def backward(self, gy):
        x, = self.inputs
        if np.all(self.c == 0):  # the formula would give 0 * 0 ** -1 = nan at x = 0
            return _unbroadcast(self, gy * 0)[0]
        return _unbroadcast(self, self.c * x ** (self.c - 1) * gy)


class PowVar(Function):
    """x0 ** x1 where the exponent is a Variable too: differentiable in both."""

    def forward(self, x0, x1):
        return x0 ** x1

    def backward(self, gy):
        x0, x1 = self.inputs
        y = self.outputs[0]()
        gx0 = None if type(x0) is Constant else gy * x1 * x0 ** (x1 - 1)
        # d/dx1 is y log x0; where x0 = 0 (so y = 0) take it as 0, not 0 * -inf
        gx1 = None if type(x1) is Constant else gy * y * log(x0 + (x0.data == 0))
        return _unbroadcast(self, gx0, gx1)


def pow(x, c):
    """x ** c; differentiable in c too when c is a Variable."""
    if isinstance(c, Variable):
        return PowVar()(x, c)
    return Pow(c)(x)


def rpow(x, c):
    """c ** x (the reflected form of pow)"""
    return PowVar()(c, x)


class Square(Function):
    def forward(self, x):
        return x ** 2

    def backward(self, gy):
        x, = self.inputs
        return 2 * x * gy


def square(x):
    """x ** 2"""
    return Square()(x)


# Elementwise

class Exp(Function):
    def forward(self, x):
        return np.exp(x)

    def backward(self, gy):
        return gy * self.outputs[0]()


def exp(x):
    """e ** x"""
    return Exp()(x)


class Log(Function):
    def forward(self, x):
        return np.log(x)

    def backward(self, gy):
        x, = self.inputs
        return gy / x


def log(x):
    """natural logarithm"""
    return Log()(x)


class Sin(Function):
    def forward(self, x):
        return np.sin(x)

    def backward(self, gy):
        x, = self.inputs
        return gy * cos(x)


def sin(x):
    """sine"""
    return Sin()(x)


class Cos(Function):
    def forward(self, x):
        return np.cos(x)

    def backward(self, gy):
        x, = self.inputs
        return gy * -sin(x)


def cos(x):
    """cosine"""
    return Cos()(x)


class Tanh(Function):
    def forward(self, x):
        return np.tanh(x)

    def backward(self, gy):
        y = self.outputs[0]()
        return gy * (1 - y * y)


def tanh(x):
    """hyperbolic tangent"""
    return Tanh()(x)


class Sigmoid(Function):
    def forward(self, x):
        # tanh form: never overflows, unlike 1 / (1 + exp(-x)).
        return np.tanh(x * 0.5) * 0.5 + 0.5

    def backward(self, gy):
        y = self.outputs[0]()
        return gy * y * (1 - y)


def sigmoid(x):
    """1 / (1 + e ** -x)"""
    return Sigmoid()(x)


class ReLU(Function):
    def forward(self, x):
        return np.maximum(x, 0)

    def backward(self, gy):
        x, = self.inputs
        return gy * (x.data > 0)


def relu(x):
    """max(x, 0)"""
    return ReLU()(x)


class LeakyReLU(Function):
    def __init__(self, slope):
        self.slope = slope

    def forward(self, x):
        return np.where(x > 0, x, x * self.slope)

    def backward(self, gy):
        x, = self.inputs
        return gy * np.where(x.data > 0, 1, self.slope).astype(gy.dtype)


def leaky_relu(x, slope=0.2):
    """x where x > 0, else slope * x"""
    return LeakyReLU(slope)(x)


class Clip(Function):
    def __init__(self, x_min, x_max):
        self.x_min, self.x_max = x_min, x_max

    def forward(self, x):
        return np.clip(x, self.x_min, self.x_max)

    def backward(self, gy):
        x, = self.inputs
        return gy * ((x.data >= self.x_min) & (x.data <= self.x_max))


def clip(x, x_min, x_max):
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
                f"into shape {self.shape}") from None

    def backward(self, gy):
        return reshape(gy, self.inputs[0].shape)


def reshape(x, shape):
    """x with a new shape (one axis may be -1)"""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if isinstance(x, Variable) and x.shape == shape:
        return x
    return Reshape(shape)(x)


class Transpose(Function):
    def __init__(self, axes=None):
        self.axes = axes

    def forward(self, x):
        try:
            return np.transpose(x, self.axes)
        except ValueError:
            raise ValueError(f"transpose: axes {self.axes} are not a permutation of "
                             f"the axes of shape {x.shape}") from None

    def backward(self, gy):
        if self.axes is None:
            return transpose(gy)
        n = len(self.axes)
        return transpose(gy, tuple(np.argsort([a % n for a in self.axes])))


def transpose(x, axes=None):
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


class GetItem(Function):
    def __init__(self, slices):
        self.slices = _plain_index(slices)

    def forward(self, x):
        try:
            return x[self.slices]
        except IndexError as e:
            raise IndexError(f"index {self.slices!r} is out of range for a variable "
                             f"of shape {x.shape}: {e}") from None

    def backward(self, gy):
        x, = self.inputs
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


def get_item(x, slices):
    """x[slices], basic or fancy indexing"""
    return GetItem(slices)(x)


def expand_dims(x, axis):
    """x with a new axis of length 1 at position axis"""
    x = _input(x)
    return reshape(x, np.expand_dims(x.data, axis).shape)


def flatten(x):
    """x reshaped to (batch, features)"""
    x = _input(x)
    return reshape(x, (x.shape[0], -1))


class BroadcastTo(Function):
    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        try:
            return np.broadcast_to(x, self.shape)
        except ValueError:
            raise ValueError(f"cannot broadcast shape {x.shape} to {self.shape}") from None

    def backward(self, gy):
        return sum_to(gy, self.inputs[0].shape)


def broadcast_to(x, shape):
    """x repeated along new or length-1 axes to shape"""
    shape = tuple(shape)
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


def sum_to(x, shape):
    """x summed down to shape (the adjoint of broadcast_to)"""
    shape = tuple(shape)
    if isinstance(x, Variable) and x.shape == shape:
        return x
    return SumTo(shape)(x)


# Reductions

class Sum(Function):
    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        return x.sum(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy):
        x, = self.inputs
        gy = utils.reshape_sum_backward(gy, x.shape, self.axis, self.keepdims)
        return broadcast_to(gy, x.shape)


def sum(x, axis=None, keepdims=False):
    """sum of the elements, over all axes or the given ones"""
    return Sum(axis, keepdims)(x)


def mean(x, axis=None, keepdims=False):
    """arithmetic mean, over all axes or the given ones"""
    x = _input(x)
    y = sum(x, axis, keepdims)
    return y * (y.size / x.size)


average = mean


class Max(Function):
    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        return x.max(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy):
        x, = self.inputs
        y = self.outputs[0]()
        shape = utils.reshape_sum_backward(y.data, x.shape, self.axis, self.keepdims).shape
        hit = x.data == y.data.reshape(shape)
        # Ties share the gradient, so that it still sums to gy.
        share = (hit / hit.sum(axis=self.axis, keepdims=True)).astype(gy.dtype)
        return broadcast_to(reshape(gy, shape), x.shape) * share


class Min(Max):
    def forward(self, x):
        return x.min(axis=self.axis, keepdims=self.keepdims)


def max(x, axis=None, keepdims=False):
    """largest element, over all axes or the given ones"""
    return Max(axis, keepdims)(x)


def min(x, axis=None, keepdims=False):
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
                f"of the first must match the second-to-last axis of the second") from None

    def backward(self, gy):
        x, W = self.inputs
        # A constant input (say, the batch of data) needs no gradient: skipping it
        # saves a third of the work of training a layer on data.
        gx = None if type(x) is Constant else matmul(gy, _swap_last(W))
        gW = None if type(W) is Constant else matmul(_swap_last(x), gy)
        return _unbroadcast(self, gx, gW)


def matmul(x, W):
    """matrix product x @ W (a 1-d operand is a row on the left, a column on the right)"""
    x, W = _input(x), _input(W)
    if x.ndim != 1 and W.ndim != 1:
        return MatMul()(x, W)
    y = MatMul()(reshape(x, (1, -1)) if x.ndim == 1 else x,
                 reshape(W, (-1, 1)) if W.ndim == 1 else W)
    return reshape(y, y.shape[:-2] + (y.shape[-2:-1] if x.ndim > 1 else ())
                   + (y.shape[-1:] if W.ndim > 1 else ()))


def linear(x, W, b=None):
    """x @ W + b"""
    y = matmul(x, W)
    return y if b is None else y + b


# Probabilities and losses

class Softmax(Function):
    def __init__(self, axis=1):
        self.axis = axis

    def forward(self, x):
        y = np.exp(x - x.max(axis=self.axis, keepdims=True))
        return y / y.sum(axis=self.axis, keepdims=True)

    def backward(self, gy):
        y = self.outputs[0]()
        gx = y * gy
        return gx - y * sum(gx, axis=self.axis, keepdims=True)


def softmax(x, axis=1):
    """exp(x) / sum(exp(x)) along axis, without overflow"""
    return Softmax(axis)(x)


class LogSoftmax(Function):
    def __init__(self, axis=1):
        self.axis = axis

    def forward(self, x):
        return x - utils.logsumexp(x, self.axis)

    def backward(self, gy):
        y = self.outputs[0]()
        return gy - exp(y) * sum(gy, axis=self.axis, keepdims=True)


def log_softmax(x, axis=1):
    """log(softmax(x)) computed without overflow"""
    return LogSoftmax(axis)(x)


def _target_like(t, x):
    """Targets given as arrays follow the dtype of the scores (float32 stays float32)."""
    if isinstance(t, Variable) or not isinstance(x, Variable) or x.dtype.kind != "f":
        return t
    return as_array(t).astype(x.dtype, copy=False)


def mean_squared_error(x0, x1):
    """sum((x0 - x1) ** 2) / len(x0 - x1), as in DeZero"""
    x0, x1 = _target_like(x0, x1), _target_like(x1, x0)
    if np.shape(x0) != np.shape(x1) and np.ndim(x0) and np.ndim(x1):
        # (N, 1) against (N,) would broadcast to (N, N): almost never what was meant
        raise ValueError(f"mean_squared_error: shapes {np.shape(x0)} and {np.shape(x1)} differ; "
                         f"reshape one to the other, e.g. t.reshape(y.shape)")
    diff = sub(x0, x1)
    return sum(diff ** 2) / (len(diff) if diff.ndim else 1)


def _labels(t, n, n_classes):
    t = np.asarray(t.data if isinstance(t, Variable) else t)
    if t.shape != (n,) or t.dtype.kind not in "iu":
        raise ValueError(f"labels must be {n} integers (one per row of scores), "
                         f"got shape {t.shape} of dtype {t.dtype}")
    if n and (t.min() < 0 or t.max() >= n_classes):
        raise ValueError(f"labels must lie in 0..{n_classes - 1} for {n_classes} classes, "
                         f"got values from {t.min()} to {t.max()}")
    return t


class SoftmaxCrossEntropy(Function):
    def forward(self, x, t):
        if x.ndim != 2:
            raise ValueError(f"softmax_cross_entropy takes scores of shape (N, C), got {x.shape}")
        t = _labels(t, len(x), x.shape[1])
        log_p = x - utils.logsumexp(x, axis=1)
        return -log_p[np.arange(len(x)), t].sum() / np.asarray(len(x), x.dtype)

    def backward(self, gy):
        x, t = self.inputs
        n, n_classes = x.shape
        onehot = np.eye(n_classes, dtype=x.dtype)[t.data]
        return (softmax(x) - onehot) * (gy / n), None


def softmax_cross_entropy(x, t):
    """mean over rows of -log softmax(x)[t] for scores x (N, C) and labels t (N,)"""
    return SoftmaxCrossEntropy()(x, t)


class SigmoidCrossEntropy(Function):
    def forward(self, x, t):
        # log(1 + e**x) - t*x, written so that large |x| neither overflows nor gives log(0)
        loss = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
        return loss.sum() / np.asarray(len(x) if x.ndim else 1, x.dtype)

    def backward(self, gy):
        x, t = self.inputs
        n = len(x) if x.ndim else 1
        return (sigmoid(x) - t) * (gy / n), None


def sigmoid_cross_entropy(x, t):
    """binary cross-entropy of sigmoid(x) against targets t, from the scores x"""
    x = _input(x)
    t = _target_like(t.data if isinstance(t, Variable) else t, x)
    return SigmoidCrossEntropy()(x, t.reshape(x.shape))


def binary_cross_entropy(p, t, eps=1e-15):
    """-mean(t log p + (1 - t) log(1 - p)) for probabilities p"""
    p = clip(p, eps, 1 - eps)
    t = _target_like(t, p)
    return -mean(t * log(p) + (1 - t) * log(1 - p))


def accuracy(y, t):
    """fraction of rows whose highest score is at the label (no gradient)"""
    y, t = _input(y), _input(t)
    pred = y.data.argmax(axis=1).reshape(t.shape)
    return Variable(as_array((pred == t.data).mean()))


def dropout(x, dropout_ratio=0.5):
    """in training, zero each element with probability dropout_ratio and rescale"""
    x = _input(x)
    if not Config.train:
        return x
    mask = np.random.rand(*x.shape) > dropout_ratio
    return x * (mask / (1.0 - dropout_ratio)).astype(x.dtype)


# The operators and methods of Variable, in one table.

def _reshape_method(self, *shape):
    return reshape(self, shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape)


def _transpose_method(self, *axes):
    if not axes or axes == (None,):
        return transpose(self)
    return transpose(self, axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes)


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
for _name, _method in _VARIABLE_METHODS.items():
    setattr(Variable, _name, _method)
