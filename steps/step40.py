"""Step 40: an optimizer, and a small MLP trained with everything built so far.

Builds on step 39 (Parameter, Layer, Linear). The update p <- p - lr * dL/dp is the
same for every parameter, so it moves into an object: `SGD(lr).setup(model)` remembers
the model and `update()` steps all of its parameters. An `MLP` is Linear layers with a
sigmoid between each two, and the sigmoid 1 / (1 + e**-x) needs no Function of its own:
it is made of Div, Add, Exp and Neg, so backward already knows its gradient. The
mean squared error is sum((y - t)**2) / N, again made of what we have.

The task is XOR, which no single layer can learn (the NumPy steps showed why):
`MLP((2, 4, 1))` trained by SGD with lr 0.5 for 800 steps drives the loss from 1.66
to below 0.001 and outputs 0, 1, 1, 0. Every line of code that ran is in this file:
this is the whole idea of the package, in small.
"""

import contextlib
import heapq
import os
import shutil
import subprocess
import time
import weakref
from pathlib import Path

import numpy as np

OUT = Path(os.environ.get("DEZERO_STEPS_OUT", Path(__file__).resolve().parent / "out"))
OUT.mkdir(parents=True, exist_ok=True)


class Config:
    """Switches read by every Function call."""

    enable_backprop = True


@contextlib.contextmanager
def using_config(name, value):
    """Set Config.<name> to value inside a with block, and restore it even on an error."""
    old_value = getattr(Config, name)
    setattr(Config, name, value)
    try:
        yield
    finally:
        setattr(Config, name, old_value)


def no_grad():
    """Inside `with no_grad():` Functions compute values but build no graph."""
    return using_config("enable_backprop", False)


def as_array(x):
    """Turn a NumPy or Python scalar into a 0-dim ndarray; leave arrays alone."""
    if np.isscalar(x):
        return np.array(x)
    return x


class Variable:
    """A box around an ndarray, with its gradient and the Function that made it."""

    __array_priority__ = 200  # so that ndarray * Variable asks Variable.__rmul__

    def __init__(self, data):
        if data is not None and not isinstance(data, np.ndarray):
            raise TypeError(
                f"Variable takes an np.ndarray, not {type(data).__name__}; "
                f"wrap the value in np.array(...)"
            )
        self.data = data
        self.grad = None  # filled in by backward
        self.creator = None  # the Function that made this Variable; None for inputs
        self.generation = 0  # the longest chain of Functions back to an input

    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    def set_creator(self, func):
        self.creator = func
        self.generation = func.generation + 1

    def cleargrad(self):
        """Forget the gradient, before using this Variable in a new computation."""
        self.grad = None

    def backward(self, retain_grad=False, create_graph=False):
        """Walk back from self, latest generation first, each Function once."""
        if self.grad is None:
            self.grad = Variable(np.ones_like(self.data))  # dy/dy = 1, a Variable too
        funcs = []
        seen = set()

        def add_func(f):
            if f not in seen:
                seen.add(f)
                # heapq pops the smallest, so negate; len(seen) breaks ties, first found first
                heapq.heappush(funcs, (-f.generation, len(seen), f))

        if self.creator is not None:  # a leaf has nothing to walk
            add_func(self.creator)
        order = []
        while funcs:
            f = heapq.heappop(funcs)[2]
            order.append(f)
            gys = [output().grad for output in f.outputs]  # output() follows the weakref
            with using_config("enable_backprop", create_graph):  # a graph of the gradient?
                gxs = f.backward(*gys)
                if not isinstance(gxs, tuple):
                    gxs = (gxs,)
                for x, gx in zip(f.inputs, gxs, strict=True):
                    if x.grad is None:
                        x.grad = gx
                    else:
                        x.grad = x.grad + gx  # sum over paths, itself part of the graph
                    if x.creator is not None:
                        add_func(x.creator)
            if not retain_grad:  # only leaves keep their gradients
                for y in f.outputs:
                    y().grad = None  # no longer needed once f has passed it on
        return order


class Function:
    """Unwrap the input, compute with `forward`, wrap the output; `backward` goes back."""

    def __call__(self, *inputs):
        inputs = [as_variable(x) for x in inputs]  # scalars and arrays, once, here
        xs = [x.data for x in inputs]
        ys = self.forward(*xs)
        if not isinstance(ys, tuple):
            ys = (ys,)
        outputs = [Variable(as_array(y)) for y in ys]  # 0-dim results come back as scalars
        if Config.enable_backprop:  # otherwise keep nothing: no graph, no memory held
            self.generation = max(x.generation for x in inputs)
            for output in outputs:
                output.set_creator(self)  # the link that lets backward find its way back
            self.inputs = inputs  # backward needs the values it was called on
            self.outputs = [weakref.ref(output) for output in outputs]  # no cycle with them
        return outputs if len(outputs) > 1 else outputs[0]

    def forward(self, *xs):
        raise NotImplementedError(f"{type(self).__name__} must define forward(*xs)")

    def backward(self, *gys):
        raise NotImplementedError(f"{type(self).__name__} must define backward(*gys)")


class Square(Function):
    def forward(self, x):
        return x**2

    def backward(self, gy):
        x = self.inputs[0]
        gx = 2 * x * gy
        return gx


class Exp(Function):
    def forward(self, x):
        return np.exp(x)

    def backward(self, gy):
        x = self.inputs[0]
        gx = exp(x) * gy
        return gx


class Add(Function):
    def forward(self, x0, x1):
        y = x0 + x1
        return y

    def backward(self, gy):
        x0, x1 = self.inputs
        return sum_to(gy, x0.shape), sum_to(gy, x1.shape)  # undo any broadcasting


class Mul(Function):
    def forward(self, x0, x1):
        y = x0 * x1
        return y

    def backward(self, gy):
        x0, x1 = self.inputs
        return sum_to(gy * x1, x0.shape), sum_to(gy * x0, x1.shape)


class Neg(Function):
    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


class Sub(Function):
    def forward(self, x0, x1):
        y = x0 - x1
        return y

    def backward(self, gy):
        x0, x1 = self.inputs
        return sum_to(gy, x0.shape), sum_to(-gy, x1.shape)


class Div(Function):
    def forward(self, x0, x1):
        y = x0 / x1
        return y

    def backward(self, gy):
        x0, x1 = self.inputs
        gx0 = gy / x1
        gx1 = gy * (-x0 / x1**2)
        return sum_to(gx0, x0.shape), sum_to(gx1, x1.shape)


class Pow(Function):
    """x ** c for a constant exponent c."""

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        y = x**self.c
        return y

    def backward(self, gy):
        x = self.inputs[0]
        c = self.c
        gx = c * x ** (c - 1) * gy
        return gx


class Reshape(Function):
    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.x_shape = x.shape
        return x.reshape(self.shape)

    def backward(self, gy):
        return reshape(gy, self.x_shape)


class Transpose(Function):
    def __init__(self, axes=None):
        self.axes = axes

    def forward(self, x):
        return np.transpose(x, self.axes)

    def backward(self, gy):
        if self.axes is None:  # reversed axes: reversing again undoes it
            return transpose(gy)
        return transpose(gy, tuple(np.argsort(self.axes)))


class Sum(Function):
    def __init__(self, axis=None, keepdims=False):
        self.axis = axis
        self.keepdims = keepdims

    def forward(self, x):
        self.x_shape = x.shape
        return x.sum(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy):
        if self.axis is not None and not self.keepdims:  # put the summed axes back, as 1s
            axes = (self.axis,) if isinstance(self.axis, int) else self.axis
            shape = list(self.x_shape)
            for axis in axes:
                shape[axis % len(shape)] = 1
            gy = reshape(gy, tuple(shape))
        return broadcast_to(gy, self.x_shape)


class BroadcastTo(Function):
    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.x_shape = x.shape
        return np.broadcast_to(x, self.shape)

    def backward(self, gy):
        return sum_to(gy, self.x_shape)


class SumTo(Function):
    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.x_shape = x.shape
        lead = x.ndim - len(self.shape)  # axes that broadcasting added in front
        stretched = tuple(lead + i for i, n in enumerate(self.shape) if n == 1)
        y = x.sum(axis=tuple(range(lead)) + stretched, keepdims=True)
        return y.reshape(self.shape)

    def backward(self, gy):
        return broadcast_to(gy, self.x_shape)


class MatMul(Function):
    def forward(self, x, W):
        return x @ W

    def backward(self, gy):
        x, W = self.inputs
        gx = matmul(gy, transpose(W))
        gW = matmul(transpose(x), gy)
        return gx, gW


def as_variable(obj):
    """Return obj if it is a Variable, else wrap it (a scalar becomes a 0-dim array)."""
    if isinstance(obj, Variable):
        return obj
    return Variable(as_array(obj))


def square(x):
    """x ** 2, with a new Square object for every call."""
    return Square()(x)


def exp(x):
    """e ** x, with a new Exp object for every call."""
    return Exp()(x)


def add(x0, x1):
    """x0 + x1."""
    return Add()(x0, x1)


def mul(x0, x1):
    """x0 * x1."""
    return Mul()(x0, x1)


def neg(x):
    """-x."""
    return Neg()(x)


def sub(x0, x1):
    """x0 - x1."""
    return Sub()(x0, x1)


def rsub(x0, x1):
    """x1 - x0, for `2.0 - x`, where Python calls x.__rsub__(2.0)."""
    return Sub()(x1, x0)


def div(x0, x1):
    """x0 / x1."""
    return Div()(x0, x1)


def rdiv(x0, x1):
    """x1 / x0, for `2.0 / x`."""
    return Div()(x1, x0)


def pow(x, c):
    """x ** c."""
    return Pow(c)(x)


def reshape(x, shape):
    """x with its elements laid out in the given shape (the same number of them)."""
    x = as_variable(x)
    if x.data.size != int(np.prod(shape)):
        raise ValueError(
            f"cannot reshape {x.shape} to {shape}: "
            f"{x.data.size} elements do not fit in {int(np.prod(shape))}"
        )
    return Reshape(shape)(x)


def transpose(x, axes=None):
    """x with its axes permuted (reversed when axes is None)."""
    return Transpose(axes)(x)


def sum(x, axis=None, keepdims=False):
    """The sum of x's elements: all of them, or along axis."""
    return Sum(axis, keepdims)(x)


# fmt: off
def broadcast_to(x, shape):
    """x repeated along new or length-1 axes to the given shape."""
    x = as_variable(x)
    shape = tuple(shape)
    if x.shape == shape:
        return x
    if len(shape) < x.ndim or any(n not in (1, m) for n, m in zip(x.shape[::-1], shape[::-1], strict=False)):
        raise ValueError(f"cannot broadcast {x.shape} to {shape}: from the right, "
                         f"each axis must be 1 or match")
    return BroadcastTo(shape)(x)


def sum_to(x, shape):
    """The sum of x over the axes that broadcasting from shape would have added or stretched."""
    x = as_variable(x)
    shape = tuple(shape)
    if x.shape == shape:
        return x
    if len(shape) > x.ndim or any(n not in (1, m) for n, m in zip(shape[::-1], x.shape[::-1], strict=False)):
        raise ValueError(f"cannot sum shape {x.shape} to {shape}: "
                         f"{shape} does not broadcast to {x.shape}")
    return SumTo(shape)(x)
# fmt: on


def matmul(x, W):
    """x @ W for a matrix x (N, D) and a matrix W (D, H)."""
    x, W = as_variable(x), as_variable(W)
    if x.ndim != 2 or W.ndim != 2 or x.shape[1] != W.shape[0]:
        raise ValueError(
            f"matmul needs (N, D) @ (D, H), got {x.shape} @ {W.shape}: "
            f"x's columns must match W's rows"
        )
    return MatMul()(x, W)


# Variable's operators, in one table.
for name, func in (("__add__", add), ("__radd__", add), ("__mul__", mul), ("__rmul__", mul),
                   ("__neg__", neg), ("__sub__", sub), ("__rsub__", rsub),
                   ("__truediv__", div), ("__rtruediv__", rdiv), ("__pow__", pow),
                   ("__matmul__", matmul)):  # fmt: skip
    setattr(Variable, name, func)


class Parameter(Variable):
    """A Variable that a Layer owns and an optimizer updates."""


class Layer:
    """Holds Parameters and other Layers as attributes; finds them in the order they were set."""

    def __call__(self, *inputs):
        return self.forward(*inputs)

    def forward(self, *inputs):
        raise NotImplementedError(f"{type(self).__name__} must define forward(*inputs)")

    def params(self):
        for value in vars(self).values():
            if isinstance(value, Parameter):
                yield value
            elif isinstance(value, Layer):
                yield from value.params()

    def cleargrads(self):
        for param in self.params():
            param.cleargrad()


class Linear(Layer):
    """y = x @ W + b, for x of shape (N, in_size)."""

    def __init__(self, in_size, out_size, rng=np.random):
        self.W = Parameter(rng.standard_normal((in_size, out_size)) * np.sqrt(1 / in_size))
        self.b = Parameter(np.zeros(out_size))

    def forward(self, x):
        return matmul(x, self.W) + self.b


class SGD:
    """Plain gradient descent on every parameter of a layer: p <- p - lr * dL/dp."""

    def __init__(self, lr=0.01):
        self.lr = lr

    def setup(self, target):
        self.target = target
        return self

    def update(self):
        for param in self.target.params():
            if param.grad is not None:  # a parameter the loss did not use has nothing to say
                param.data = param.data - self.lr * param.grad.data


def numerical_diff(f, x, eps=1e-4):
    """Central difference (f(x + eps) - f(x - eps)) / (2 * eps) at a 0-dim Variable x."""
    y0 = f(Variable(as_array(x.data - eps)))  # 0-dim minus float is a NumPy scalar
    y1 = f(Variable(as_array(x.data + eps)))
    return (y1.data - y0.data) / (2 * eps)


def short(a):
    """A value or gradient for a label: 4 significant digits, '-' when there is none."""
    if a is None:
        return "-"
    if isinstance(a, Variable):  # gradients are Variables now
        a = a.data
    return np.array2string(np.asarray(a), formatter={"float_kind": lambda v: f"{v:.4g}"})


def get_dot_graph(funcs, names):
    """DOT text for Functions given in the order backward visits them (#1 first):
    each Variable with its name, value and gradient, each Function with its number."""
    ids = {}
    lines = ["digraph g {", "rankdir=LR;"]

    def node(v):
        if v not in ids:
            ids[v] = f"v{len(ids)}"
            name = names[v] + "\\n" if v in names else ""
            label = f"{name}value {short(v.data)}\\ngrad {short(v.grad)}"
            lines.append(f'{ids[v]} [label="{label}", shape=ellipse];')
        return ids[v]

    for k, f in enumerate(funcs, 1):
        lines.append(f'f{k} [label="#{k} {type(f).__name__}", shape=box];')
        lines += [f"{node(x)} -> f{k};" for x in f.inputs]
        lines += [f"f{k} -> {node(y())};" for y in f.outputs]  # y() follows the weakref
    return "\n".join(lines + ["}"]) + "\n"


def save_picture(text, name):
    """Write OUT/name.dot, and OUT/name.png if Graphviz's dot is on PATH; return the PNG or None."""
    dot_file = OUT / f"{name}.dot"
    dot_file.write_text(text, encoding="utf-8")
    if shutil.which("dot") is None:
        print(f"{dot_file} written; install Graphviz (its dot program) to draw it")
        return None
    png = OUT / f"{name}.png"
    subprocess.run(["dot", "-Tpng", str(dot_file), "-o", str(png)], check=True)
    print(f"picture: {png}")
    return png


def diamond(x):
    """x -> a = x**2 -> two branches a**2 -> added: y = 2 x**4."""
    a = square(x)
    return add(square(a), square(a))


# The diamond of step 26 still gives 64.
x = Variable(np.array(2.0))
y = diamond(x)
y.backward()
print(f"diamond at x = 2: dy/dx = {x.grad.data} (8 * 2**3 = 64)")
assert x.grad.data == 64.0


def sigmoid(x):
    """1 / (1 + e**-x), made of Functions we have, so its gradient comes free."""
    return 1 / (1 + exp(-x))


class MLP(Layer):
    """Linear layers of the given sizes with a sigmoid between each two."""

    def __init__(self, sizes, rng=np.random):
        for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:], strict=False)):
            setattr(self, f"l{i}", Linear(n_in, n_out, rng=rng))

    def forward(self, x):
        layers = list(vars(self).values())
        for layer in layers[:-1]:
            x = sigmoid(layer(x))
        return layers[-1](x)


def mean_squared_error(y, t):
    """sum((y - t)**2) / N over the N rows."""
    diff = y - t
    return sum(diff * diff) / len(diff.data)


ITERS = 800
x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
t = np.array([[0.0], [1.0], [1.0], [0.0]])  # XOR
model = MLP((2, 4, 1), rng=np.random.default_rng(0))
optimizer = SGD(lr=0.5).setup(model)
print("MLP((2, 4, 1)) parameters:", [p.shape for p in model.params()])
losses = []
start = time.perf_counter()
for i in range(ITERS + 1):
    loss = mean_squared_error(model(x), t)
    losses.append(float(loss.data))
    if i % 200 == 0:
        print(f"step {i:4d}: loss {losses[-1]:.6f}")
    if i == ITERS:
        break
    model.cleargrads()
    loss.backward()
    optimizer.update()
seconds = time.perf_counter() - start
with no_grad():
    y = model(x)
print(
    f"{ITERS} steps in {seconds:.1f} s; XOR of (0 0, 0 1, 1 0, 1 1):",
    ", ".join(f"{v:.3f}" for v in y.data.ravel()),
)
assert losses[0] > 1 and losses[-1] < 1e-3
assert np.array_equal(np.round(y.data), t) and y.creator is None
