"""Step 36: sum and broadcast_to, each the other's gradient; sum_to.

Builds on step 35 (shapes). `sum(x, axis)` adds elements up; every element counts
once, so its backward hands each element the upstream gradient: it spreads gy back over
x's shape with `broadcast_to` (after putting the summed axes back as length 1).
`broadcast_to(x, shape)` repeats x along new or length-1 axes; each element of x was
used many times, so its backward adds the copies' gradients up: `sum_to(gy, x.shape)`,
a sum over exactly the axes that were broadcast. So broadcast_to and sum_to are each
other's adjoints, <broadcast_to(u, s), v> = <u, sum_to(v, u.shape)> for any u and v,
which the step checks with random arrays. Shapes that do not broadcast are refused with
a message naming both.
"""

import contextlib
import heapq
import os
import shutil
import subprocess
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
        return gy, gy


class Mul(Function):
    def forward(self, x0, x1):
        y = x0 * x1
        return y

    def backward(self, gy):
        x0, x1 = self.inputs
        return gy * x1, gy * x0


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
        return gy, -gy


class Div(Function):
    def forward(self, x0, x1):
        y = x0 / x1
        return y

    def backward(self, gy):
        x0, x1 = self.inputs
        gx0 = gy / x1
        gx1 = gy * (-x0 / x1**2)
        return gx0, gx1


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


# Variable's operators, in one table.
for name, func in (("__add__", add), ("__radd__", add), ("__mul__", mul), ("__rmul__", mul),
                   ("__neg__", neg), ("__sub__", sub), ("__rsub__", rsub),
                   ("__truediv__", div), ("__rtruediv__", rdiv), ("__pow__", pow)):  # fmt: skip
    setattr(Variable, name, func)


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

x = Variable(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
y = sum(x, axis=0)
y.grad = Variable(np.array([1.0, 10.0, 100.0]))
y.backward()
print(f"sum over axis 0 of a {x.shape} array: {y.data}; the gradient [1 10 100] spreads back:")
print(x.grad.data)
assert np.array_equal(y.data, [5.0, 7.0, 9.0]) and x.grad.shape == x.shape
assert np.array_equal(x.grad.data, [[1.0, 10.0, 100.0], [1.0, 10.0, 100.0]])

x.cleargrad()
total = sum(x)
total.backward()
print(f"sum of all elements: {total.data}; its gradient is all ones, shape {x.grad.shape}")
assert total.data == 21.0 and np.array_equal(x.grad.data, np.ones((2, 3)))

b = Variable(np.array([1.0, 2.0, 3.0]))
z = broadcast_to(b, (2, 3))
z.grad = Variable(np.arange(6.0).reshape(2, 3))
z.backward()
print(
    f"broadcast_to {b.shape} -> {z.shape}; the gradient [[0 1 2] [3 4 5]] sums back to", b.grad.data
)
assert np.array_equal(b.grad.data, [3.0, 5.0, 7.0]) and b.grad.shape == b.shape

rng = np.random.default_rng(0)
u, v = rng.standard_normal((3, 1)), rng.standard_normal((4, 3, 5))
left = np.sum(broadcast_to(u, v.shape).data * v)
right = np.sum(u * sum_to(v, u.shape).data)
print(f"<broadcast_to(u, (4, 3, 5)), v> = {left:.12f}")
print(f"<u, sum_to(v, (3, 1))>         = {right:.12f}")
assert abs(left - right) < 1e-12

try:
    broadcast_to(b, (2, 4))
except ValueError as e:
    message = str(e)
    print("ValueError:", e)
assert "(3,)" in message and "(2, 4)" in message
