"""Step 23: Functions used as plain Python functions.

Builds on step 22 (the backward loop). Writing `Square()(Exp()(Square()(x)))` is clumsy,
so each Function gets a plain lowercase function, `square(x)` and `exp(x)`, that makes a
new Function object for every call. Tempting shortcut: make one `Square()` object and call
it twice. That breaks the graph: a Function remembers only its latest input, so the
second call overwrites what backward needs for the first one, and the gradient comes out
wrong (and the creator links now form a loop, so `y.backward()` would never end). A new
object per call cannot fall into this. Also, `backward()` now seeds dy/dy = 1 itself,
with `np.ones_like`, so `y = square(exp(square(x))); y.backward()` is all it takes.
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

    def backward(self):
        """Walk back from self with a list of Functions still to visit, not by recursion."""
        if self.grad is None:
            self.grad = np.ones_like(self.data)  # dy/dy = 1, so no set-up by hand
        funcs = [] if self.creator is None else [self.creator]  # a leaf has none
        order = []
        while funcs:
            f = funcs.pop()
            order.append(f)
            x, y = f.input, f.output
            x.grad = f.backward(y.grad)
            if x.creator is not None:
                funcs.append(x.creator)
        return order


class Function:
    """Unwrap the input, compute with `forward`, wrap the output; `backward` goes back."""

    def __call__(self, input):
        x = input.data
        y = self.forward(x)
        output = Variable(as_array(y))  # 0-dim results come back as NumPy scalars
        output.set_creator(self)  # the link that lets backward find its way back
        self.input = input  # backward needs the value it was called on
        self.output = output
        return output

    def forward(self, x):
        raise NotImplementedError(f"{type(self).__name__} must define forward(x)")

    def backward(self, gy):
        raise NotImplementedError(f"{type(self).__name__} must define backward(gy)")


class Square(Function):
    def forward(self, x):
        return x**2

    def backward(self, gy):
        x = self.input.data
        gx = 2 * x * gy
        return gx


class Exp(Function):
    def forward(self, x):
        return np.exp(x)

    def backward(self, gy):
        x = self.input.data
        gx = np.exp(x) * gy
        return gx


def square(x):
    """x ** 2, with a new Square object for every call."""
    return Square()(x)


def exp(x):
    """e ** x, with a new Exp object for every call."""
    return Exp()(x)


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
        lines.append(f"{node(f.input)} -> f{k};")
        lines.append(f"f{k} -> {node(f.output)};")
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


x = Variable(np.array(0.5))
y = square(exp(square(x)))
order = y.backward()
print(f"square(exp(square(x))) at 0.5, dy/dx = {x.grad:.6f}")

# One Square object called twice in one graph.
shared = Square()
x2 = Variable(np.array(0.5))
a = shared(x2)
b = exp(a)
y2 = shared(b)
print("after the second call, shared.input is b, not x2:", shared.input is b)
print("the links from a lead back to b, a loop:", a.creator.input is b)
# y2.backward() would go round that loop forever; walk it once by hand instead.
gb = shared.backward(np.array(1.0))  # right: remembers b
ga = b.creator.backward(gb)  # right: Exp remembers a
gx_wrong = shared.backward(ga)  # wrong: uses b where it should use x2
gx_right = 2 * x2.data * ga
print(f"dy/dx with the shared object: {gx_wrong:.6f}, right: {gx_right:.6f}")

leaf = Variable(np.array(3.0))
leaf.backward()  # nothing to walk back; the seed is its own gradient
print("backward() on a Variable no Function made: its grad is", leaf.grad)

text = get_dot_graph(order, {x: "x", order[1].input: "a", order[0].input: "b", y: "y"})
png = save_picture(text, "step23_chain")

assert leaf.grad == 1.0
assert 'y\\nvalue 1.649\\ngrad 1"' in text  # the seed, set by backward itself
assert abs(y.data - 1.648721270700128) < 1e-15
assert abs(x.grad - 3.297442541400256) < 1e-12
assert y.grad == 1.0  # seeded by backward
assert abs(y2.data - y.data) < 1e-15  # the forward values are fine; only backward breaks
assert shared.input is b and a.creator.input is b
assert abs(gx_right - 3.297442541400256) < 1e-12
assert abs(gx_wrong - 2 * b.data * ga) < 1e-12  # b = e ** 0.25 = 1.284... took x2's place
assert abs(gx_wrong - gx_right) > 1.0
