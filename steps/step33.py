"""Step 33: backward written with Variables, so that a gradient has a graph of its own.

Builds on step 32 (all of arithmetic). Until now every backward computed with bare
ndarrays (`2 * x * gy` on `self.inputs[0].data`), so a gradient was a number with no
history. Now the backward methods use the Variables themselves (`x = self.inputs[0]`)
and the same operators and functions as any formula, and the seed dy/dy = 1 is a
Variable too. Then the arithmetic of backward builds a graph, like any other
computation, and the gradient can be differentiated again.

Building that graph costs memory and time, and a first derivative rarely needs it, so
`backward(create_graph=False)` runs the backward methods under `no_grad` (step 29) and
`backward(create_graph=True)` lets them build it. For y = x**3 at 3: dy/dx = 3x**2 = 27 is
a Variable made by Mul; backward through it gives d2y/dx2 = 6x = 18, and its graph
goes to step33_grad_graph.png.
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

# By default the gradient is a Variable with no history: backward ran under no_grad.
assert isinstance(x.grad, Variable) and x.grad.creator is None

x = Variable(np.array(3.0))
y = x**3
y.backward(create_graph=True)
gx = x.grad
print(f"y = x**3 at 3: dy/dx = {gx.data} (3 x**2 = 27), made by {type(gx.creator).__name__}")
x.cleargrad()  # x.grad would otherwise collect the second derivative on top of the first
order = gx.backward(retain_grad=True)
print(f"backward through dy/dx: d2y/dx2 = {x.grad.data} (6x = 18)")
print("the gradient's graph:", " <- ".join(type(f).__name__ for f in order))
names = {
    x: "x",
    gx: "dy/dx",
    order[0].inputs[1]: "seed dy/dy",
    order[1].inputs[1]: "constant 3",
    order[1].inputs[0]: "x**2",
}
text = get_dot_graph(order, names)
png = save_picture(text, "step33_grad_graph")
assert gx.data == 27.0 and type(gx.creator) is Mul
assert x.grad.data == 18.0
assert "seed dy/dy\\nvalue 1\\ngrad 27" in text and "constant 3\\nvalue 3\\ngrad 9" in text
assert "dy/dx\\nvalue 27\\ngrad 1" in text and "x\\nvalue 3\\ngrad 18" in text
