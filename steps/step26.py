"""Step 26: generations: backward visits Functions in the right order.

Builds on step 25 (accumulating gradients). Step 25's walk pops whatever
Function was pushed last. On a diamond, where one Variable feeds two branches that meet
again, it runs a Function before all the gradient for its output has arrived, and runs it
again when the rest comes: the gradient comes out wrong. The fix: every Variable and
Function gets a generation (a Function's is its newest input's; its outputs are one
more), and backward takes Functions from a heap, highest generation first, each once.
A Function then runs only after every Function that uses its outputs has run. The
example: a = x ** 2, y = a ** 2 + a ** 2 = 2 x ** 4, so dy/dx = 8 x ** 3 = 64 at x = 2.
The picture shows it: each of the two paths from y back to x contributes
2a * 2x = 8 * 4 = 32, and 64 is their sum. The heap makes a collect both branches'
gradients (8 + 8 = 16) before Square(x) runs; the Functions are numbered #1 to #4 in
the order the heap handed them out.
"""

import heapq
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
        self.generation = 0  # the longest chain of Functions back to an input

    def set_creator(self, func):
        self.creator = func
        self.generation = func.generation + 1

    def cleargrad(self):
        """Forget the gradient, before using this Variable in a new computation."""
        self.grad = None

    def backward(self):
        """Walk back from self, latest generation first, each Function once."""
        if self.grad is None:
            self.grad = np.ones_like(self.data)  # dy/dy = 1, so no set-up by hand
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
                    add_func(x.creator)
        return order


class Function:
    """Unwrap the input, compute with `forward`, wrap the output; `backward` goes back."""

    def __call__(self, *inputs):
        xs = [x.data for x in inputs]
        ys = self.forward(*xs)
        if not isinstance(ys, tuple):
            ys = (ys,)
        outputs = [Variable(as_array(y)) for y in ys]  # 0-dim results come back as scalars
        self.generation = max(x.generation for x in inputs)
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


def backward_list_order(v):
    """Step 25's walk, kept here to compare: last pushed, first run, maybe more than once."""
    v.grad = np.ones_like(v.data)
    funcs = [v.creator]
    while funcs:
        f = funcs.pop()
        gxs = f.backward(*[output.grad for output in f.outputs])
        if not isinstance(gxs, tuple):
            gxs = (gxs,)
        for x, gx in zip(f.inputs, gxs, strict=True):
            x.grad = gx if x.grad is None else x.grad + gx
            if x.creator is not None:
                funcs.append(x.creator)


def diamond(x):
    """x -> a = x**2 -> two branches a**2 -> added: y = 2 x**4."""
    a = square(x)
    return add(square(a), square(a))


x = Variable(np.array(2.0))
y = diamond(x)
a = y.creator.inputs[0].creator.inputs[0]
print(
    "generations of the Variables: x",
    x.generation,
    " a",
    a.generation,
    " both a**2",
    [v.generation for v in y.creator.inputs],
    " y",
    y.generation,
)
print(
    "generations of the Functions: Square(x)",
    a.creator.generation,
    " both Square(a)",
    [v.creator.generation for v in y.creator.inputs],
    " Add",
    y.creator.generation,
)
backward_list_order(y)
wrong = x.grad
print("list order: dy/dx =", wrong)

x = Variable(np.array(2.0))
y = diamond(x)
order = y.backward()
print("generation order: dy/dx =", x.grad, " (8 * 2**3 = 64)")
print(
    "backward ran:",
    ", ".join(f"#{k} {type(f).__name__}" for k, f in enumerate(order, 1)),
    " their generations:",
    [f.generation for f in order],
)
a = order[-1].outputs[0]
names = {x: "x", a: "a", y: "y"}
names.update(
    {v: f"a**2 ({side})" for v, side in zip(y.creator.inputs, ("left", "right"), strict=True)}
)
text = get_dot_graph(order, names)
png = save_picture(text, "step26_diamond")

assert y.data == 32.0 and y.generation == 3 and a.generation == 1 and x.generation == 0
assert [v.generation for v in y.creator.inputs] == [2, 2]
assert wrong == 96.0
assert x.grad == 64.0
assert [f.generation for f in order] == [2, 1, 1, 0] and type(order[0]) is Add
assert "a\\nvalue 4\\ngrad 16" in text and "x\\nvalue 2\\ngrad 64" in text
assert text.count("v3 -> f") == 2 and text.count('label="a\\n') == 1  # a drawn once, used twice
