"""Step 22: backward by a loop instead of recursion.

Builds on step 21 (creator links, recursive backward). The recursive backward makes one
nested Python call per Function in the chain, and Python stops at about 1000 nested calls
(RecursionError), so a long enough chain breaks it. The same walk done with a loop and a
list of Functions still to visit gives the same gradients with no limit on depth. This is
the backward to keep; the recursive one stays below only to show where it fails.
The loop also returns the Functions in the order it ran them, which numbers the picture.
"""

import os
import shutil
import subprocess
import sys
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


def backward_recursive(v):
    """Step 21's backward, kept here to compare with the loop."""
    f = v.creator
    if f is not None:
        x = f.input
        x.grad = f.backward(v.grad)
        backward_recursive(x)


def grad_of(build, value, backward):
    """Build a graph from a fresh x, run the given backward from its output, return dy/dx."""
    x = Variable(np.array(value))
    y = build(x)
    y.grad = np.array(1.0)
    backward(y)
    return x.grad


chains = {
    "square(exp(square(x)))": lambda x: Square()(Exp()(Square()(x))),
    "square(exp(x))": lambda x: Square()(Exp()(x)),
    "square(exp(exp(square(x))))": lambda x: Square()(Exp()(Exp()(Square()(x)))),
}
loop, recursive = {}, {}
for name, build in chains.items():
    loop[name] = grad_of(build, 0.5, Variable.backward)
    recursive[name] = grad_of(build, 0.5, backward_recursive)
    print(f"d/dx {name} at 0.5: loop {loop[name]:.6f}, recursive {recursive[name]:.6f}")


def deep(x, n=1000):
    """n Squares in a row; at x = 1 every value is 1 and dy/dx = 2 ** n."""
    for _ in range(n):
        x = Square()(x)
    return x


print("Python's recursion limit:", sys.getrecursionlimit())
try:
    grad_of(deep, 1.0, backward_recursive)
    recursion_error = None
except RecursionError as e:
    recursion_error = e
print("recursive backward through 1000 Squares:", type(recursion_error).__name__)
deep_grad = grad_of(deep, 1.0, Variable.backward)
print("loop backward through 1000 Squares: dy/dx == 2 ** 1000:", deep_grad == 2.0**1000)

x = Variable(np.array(0.5))
a = Square()(x)
b = Exp()(a)
y = Square()(b)
y.grad = np.array(1.0)
order = y.backward()
print("backward ran:", " then ".join(type(f).__name__ for f in order))
text = get_dot_graph(order, {x: "x", a: "a", b: "b", y: "y"})
png = save_picture(text, "step22_chain")

assert order == [y.creator, b.creator, a.creator]
assert "x\\nvalue 0.5\\ngrad 3.297" in text and (OUT / "step22_chain.dot").exists()
assert abs(loop["square(exp(square(x)))"] - 3.297442541400256) < 1e-12
assert abs(loop["square(exp(x))"] - 5.436563656918091) < 1e-12
assert abs(loop["square(exp(exp(square(x))))"] - 33.488363287556496) < 1e-12
assert all(loop[name] == recursive[name] for name in chains)
assert isinstance(recursion_error, RecursionError)
assert deep_grad == 2.0**1000
