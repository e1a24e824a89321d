"""Step 20: backpropagation by hand.

Builds on step 19 (numerical_diff). Each Function now remembers the Variable it was
called on (`self.input`) and has a `backward(gy)` method: given the gradient of the final
output with respect to its own output, it returns the gradient with respect to its
input, by the chain rule (Square: 2 * x * gy; Exp: e ** x * gy). Variable gets a `grad`
slot. The learner calls the backward methods by hand, in the reverse of the forward
order, starting from dy/dy = 1, and checks the result against the numerical derivative.
One backward pass gives the exact gradient for the price of about one forward pass.

To see the pass, `get_dot_graph` writes the chain as DOT text, Graphviz's language for
pictures of graphs: each Variable with its value and gradient, each Function numbered
in the order backward visited it (#1 is the last one called forward). The text always
goes to step20_chain.dot; with Graphviz's `dot` program on PATH it becomes a PNG.
At x = 0.5 the last local gradient, dA/dx = 2x, is exactly 1, so dy/dx equals dy/da
there: the last call does its work, it just multiplies by one.
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
    """A box around an ndarray."""

    def __init__(self, data):
        if data is not None and not isinstance(data, np.ndarray):
            raise TypeError(
                f"Variable takes an np.ndarray, not {type(data).__name__}; "
                f"wrap the value in np.array(...)"
            )
        self.data = data
        self.grad = None  # filled in by backward


class Function:
    """Unwrap the input, compute with `forward`, wrap the output; `backward` goes back."""

    def __call__(self, input):
        x = input.data
        y = self.forward(x)
        output = Variable(as_array(y))  # 0-dim results come back as NumPy scalars
        self.input = input  # backward needs the value it was called on
        self.output = output  # only the picture uses this, for now
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

# Backward, by hand, in reverse order: C, then B, then A.
y.grad = np.array(1.0)
b.grad = C.backward(y.grad)
a.grad = B.backward(b.grad)
x.grad = A.backward(a.grad)
print(f"y = {y.data:.6f}")
print(
    f"local gradients: dC/db = 2b = {2 * b.data:.4f}, dB/da = e**a = {np.exp(a.data):.4f},"
    f" dA/dx = 2x = {2 * x.data:.4f}"
)
print(f"dy/db = {b.grad:.6f}, dy/da = {a.grad:.6f}, dy/dx = {x.grad:.6f}")


def composite(x):
    """The chain of step 18: square(exp(square(x))) = e ** (2 * x ** 2)."""
    A, B, C = Square(), Exp(), Square()
    return C(B(A(x)))


numerical = numerical_diff(composite, Variable(np.array(0.5)))
print(f"dy/dx numerically: {numerical:.6f} (differs by {x.grad - numerical:.1e})")

text = get_dot_graph([C, B, A], {x: "x", a: "a", b: "b", y: "y"})
png = save_picture(text, "step20_chain")

assert abs(x.grad - 3.297442541400256) < 1e-12
assert abs(b.grad - 2 * np.exp(0.25)) < 1e-12 and abs(a.grad - 2 * np.exp(0.5)) < 1e-12
assert abs(x.grad - numerical) < 1e-6
assert 2 * x.data == 1.0 and x.grad == a.grad  # dA/dx = 1 at x = 0.5
assert '"#1 Square"' in text and '"#2 Exp"' in text and '"#3 Square"' in text
assert "x\\nvalue 0.5\\ngrad 3.297" in text and 'y\\nvalue 1.649\\ngrad 1"' in text
assert (OUT / "step20_chain.dot").read_text(encoding="utf-8") == text
assert png is None or png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
