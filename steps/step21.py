"""Step 21: the graph links itself: creator and input, and a recursive backward.

Builds on step 20 (backward by hand). When a Function is called, it records itself as
the creator of its output (`y.creator`), and it already remembers its input
(`y.creator.input`). Following these links from the output leads back to the input, so
the graph of the computation is recorded while the code runs, whatever Python decided
along the way (ifs, loops): this is define-by-run. The other school, define-and-run,
first declares a whole graph as a data structure and only then feeds numbers through it.

With the links in place, `Variable.backward` can do what the learner did by hand: ask
its creator for its input's gradient, store it, and call `backward` on that input,
recursively, until it reaches a Variable that no Function made.
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
        """Pass self.grad to the creator's input, then let that input do the same."""
        f = self.creator
        if f is not None:
            x = f.input
            x.grad = f.backward(self.grad)
            x.backward()


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


A, B, C = Square(), Exp(), Square()
x = Variable(np.array(0.5))
a = A(x)
b = B(a)
y = C(b)

# Walk the links back from y to x.
path = []
v = y
while v.creator is not None:
    path.append(type(v.creator).__name__)
    v = v.creator.input
print("from y back to x:", " <- ".join(path), "; reached x:", v is x)

y.grad = np.array(1.0)
y.backward()
print(f"dy/db = {b.grad:.6f}, dy/da = {a.grad:.6f}, dy/dx = {x.grad:.6f} (recursive backward)")


# Define-by-run: the graph is whatever the code did this time.
def pick(x):
    """Square positive inputs, exponentiate the others: an if decides the graph."""
    return Square()(x) if x.data > 0 else Exp()(x)


for value in (3.0, -1.0):
    z = pick(Variable(np.array(value)))
    z.grad = np.array(1.0)
    z.backward()
    made_by = type(z.creator).__name__
    print(f"pick({value}) was made by {made_by}, dz/dx = {z.creator.input.grad:.4f}")

text = get_dot_graph([C, B, A], {x: "x", a: "a", b: "b", y: "y"})  # the order backward took
png = save_picture(text, "step21_chain")

assert y.creator is C and C.input is b
assert b.creator is B and B.input is a
assert a.creator is A and A.input is x
assert x.creator is None
assert v is x and path == ["Square", "Exp", "Square"]
assert abs(x.grad - 3.297442541400256) < 1e-12
assert abs(b.grad - 2 * np.exp(0.25)) < 1e-12 and abs(a.grad - 2 * np.exp(0.5)) < 1e-12
assert type(pick(Variable(np.array(3.0))).creator) is Square
assert type(pick(Variable(np.array(-1.0))).creator) is Exp
assert z.creator.input.grad == np.exp(-1.0)
assert "x\\nvalue 0.5\\ngrad 3.297" in text and (OUT / "step21_chain.dot").exists()
