"""Step 25: gradients that accumulate, and cleargrad.

Builds on step 24 (several inputs). When a Variable feeds a computation twice, as x does
in add(x, x), its gradient is the sum of what comes back along each path, so backward
now adds a new gradient to the one already there instead of overwriting it:
d/dx (x + x) = 2, not 1. Because gradients accumulate, reusing a Variable for a second
computation needs `cleargrad()` first; without it the old gradient leaks into the new
one (5 instead of 3 for x + x + x).
"""

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np

OUT = Path(os.environ.get("DEZERO_STEPS_OUT", Path(__file__).resolve().parent / "out"))
OUT.mkdir(parents=True, exist_ok=True)


def as_array(x):
    """Turn a NumPy or Python scalar into a 0-dim ndarray; leave arrays alone."""
    if np.isscalar(x):
        return np.array(x)
    return x


class Variable:
    """A box around an ndarray, with its gradient and the Function that made it."""

    def __init__(self, data):
        if data is not None and not isinstance(data, np.ndarray):
            raise TypeError(
                f"Variable takes an np.ndarray, not {type(data).__name__}; "
                f"wrap the value in np.array(...)"
            )
        self.data = data
        self.grad = None  # filled in by backward
        self.creator = None  # the Function that made this Variable; None for inputs

    def set_creator(self, func):
        self.creator = func

    def cleargrad(self):
        """Forget the gradient, before using this Variable in a new computation."""
        self.grad = None

    def backward(self):
        """Walk back from self with a list of Functions still to visit, not by recursion."""
        if self.grad is None:
            self.grad = np.ones_like(self.data)  # dy/dy = 1, so no set-up by hand
        funcs = [] if self.creator is None else [self.creator]  # a leaf has none
        order = []
        while funcs:
            f = funcs.pop()
            order.append(f)
            gys = [output.grad for output in f.outputs]
            gxs = f.backward(*gys)
            if not isinstance(gxs, tuple):
                gxs = (gxs,)
            for x, gx in zip(f.inputs, gxs, strict=True):
                if x.grad is None:
                    x.grad = gx
                else:
                    x.grad = x.grad + gx  # sum over paths (+= could alter a shared array)
                if x.creator is not None:
                    funcs.append(x.creator)
        return order


class Function:
    """Unwrap the input, compute with `forward`, wrap the output; `backward` goes back."""

    def __call__(self, *inputs):
        xs = [x.data for x in inputs]
        ys = self.forward(*xs)
        if not isinstance(ys, tuple):
            ys = (ys,)
        outputs = [Variable(as_array(y)) for y in ys]  # 0-dim results come back as scalars
        for output in outputs:
            output.set_creator(self)  # the link that lets backward find its way back
        self.inputs = inputs  # backward needs the values it was called on
        self.outputs = outputs
        return outputs if len(outputs) > 1 else outputs[0]

    def forward(self, *xs):
        raise NotImplementedError(f"{type(self).__name__} must define forward(*xs)")

    def backward(self, *gys):
        raise NotImplementedError(f"{type(self).__name__} must define backward(*gys)")


class Square(Function):
    def forward(self, x):
        return x**2

    def backward(self, gy):
        x = self.inputs[0].data
        gx = 2 * x * gy
        return gx


class Exp(Function):
    def forward(self, x):
        return np.exp(x)

    def backward(self, gy):
        x = self.inputs[0].data
        gx = np.exp(x) * gy
        return gx


class Add(Function):
    def forward(self, x0, x1):
        y = x0 + x1
        return y

    def backward(self, gy):
        return gy, gy


def square(x):
    """x ** 2, with a new Square object for every call."""
    return Square()(x)


def exp(x):
    """e ** x, with a new Exp object for every call."""
    return Exp()(x)


def add(x0, x1):
    """x0 + x1."""
    return Add()(x0, x1)


def numerical_diff(f, x, eps=1e-4):
    """Central difference (f(x + eps) - f(x - eps)) / (2 * eps) at a 0-dim Variable x."""
    y0 = f(Variable(as_array(x.data - eps)))  # 0-dim minus float is a NumPy scalar
    y1 = f(Variable(as_array(x.data + eps)))
    return (y1.data - y0.data) / (2 * eps)


def short(a):
    """A value or gradient for a label: 4 significant digits, '-' when there is none."""
    if a is None:
        return "-"
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
        lines += [f"f{k} -> {node(y)};" for y in f.outputs]
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


x = Variable(np.array(2.0))
y = Variable(np.array(3.0))
z = add(square(x), square(y))
order = z.backward()
dz = (x.grad, y.grad)
print(f"z = x**2 + y**2 at (2, 3): z = {z.data}, dz/dx = {dz[0]}, dz/dy = {dz[1]}")
print("backward ran:", " then ".join(type(f).__name__ for f in order))
x2, y2 = z.creator.inputs
text = get_dot_graph(order, {x: "x", y: "y", x2: "x**2", y2: "y**2", z: "z"})
png = save_picture(text, "step25_two_inputs")

x = Variable(np.array(3.0))
y = add(x, x)
y.backward()
print(f"d/dx (x + x) = {x.grad}")
twice = x.grad

y = add(add(x, x), x)  # a second computation with the same x, without cleargrad
y.backward()
print(f"d/dx (x + x + x) without cleargrad: {x.grad} (2 left over from before)")
stale = x.grad

x.cleargrad()
y = add(add(x, x), x)
y.backward()
print(f"d/dx (x + x + x) after cleargrad: {x.grad}")

assert z.data == 13.0 and dz == (4.0, 6.0)
assert [type(f).__name__ for f in order] == ["Add", "Square", "Square"]
assert "x\\nvalue 2\\ngrad 4" in text and "y\\nvalue 3\\ngrad 6" in text
assert y.data == 9.0
assert twice == 2.0
assert stale == 5.0
assert x.grad == 3.0
