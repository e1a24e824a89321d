"""Step 28: only the leaves keep their gradients: retain_grad.

Builds on step 27 (weak references), a second way to hold less memory. Most gradients
are needed only while backward passes them on: once a Function has handed its output's
gradient to its inputs, nobody reads that gradient again. `backward()` now drops the
gradients of intermediate Variables as soon as they are passed on and keeps those of
the inputs (the leaves), which are the ones we wanted. `backward(retain_grad=True)`
keeps them all, for looking at them (as the pictures do).
"""

import gc
import heapq
import os
import shutil
import subprocess
import weakref
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

    def backward(self, retain_grad=False):
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
            gys = [output().grad for output in f.outputs]  # output() follows the weakref
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
            if not retain_grad:  # only leaves keep their gradients
                for y in f.outputs:
                    y().grad = None  # no longer needed once f has passed it on
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
print(f"diamond at x = 2: dy/dx = {x.grad} (8 * 2**3 = 64)")
assert x.grad == 64.0

# With weakrefs the Function goes as soon as y goes, without the cycle collector.
gc.disable()  # so that only reference counting frees anything below
try:
    x = Variable(np.array(2.0))
    y = square(x)
    f_ref = weakref.ref(y.creator)
    del y
    freed_at_once = f_ref() is None

    class StrongSquare(Square):
        """A Square that also holds its output strongly, as step 26 did."""

        def __call__(self, *inputs):
            output = super().__call__(*inputs)
            self.strong_outputs = [output]  # output -> creator -> output: a cycle
            return output

    y = StrongSquare()(x)
    strong_ref = weakref.ref(y.creator)
    del y
    kept_by_cycle = strong_ref() is not None
    gc.collect()
    freed_by_collector = strong_ref() is None
finally:
    gc.enable()
print("weakref outputs: Function freed when y is deleted:", freed_at_once)
print(
    "strong outputs: still alive after del:",
    kept_by_cycle,
    "; freed by gc.collect():",
    freed_by_collector,
)
assert freed_at_once and kept_by_cycle and freed_by_collector
z = square(x)
assert type(z.creator) is Square and isinstance(z.creator.outputs[0], weakref.ref)
assert z.creator.outputs[0]() is z

# Only the leaves keep their gradients unless retain_grad=True.
x0 = Variable(np.array(1.0))
x1 = Variable(np.array(1.0))
t = add(x0, x1)
y = add(x0, t)
y.backward()
print(f"after backward(): y.grad {y.grad}, t.grad {t.grad}, x0.grad {x0.grad}, x1.grad {x1.grad}")
dropped = (y.grad, t.grad)
x0.cleargrad()
x1.cleargrad()
y = add(x0, add(x0, x1))
y.backward(retain_grad=True)
t = y.creator.inputs[1]
print(f"after backward(retain_grad=True): y.grad {y.grad}, t.grad {t.grad}")
retained = (y.grad, t.grad)
assert dropped == (None, None) and x0.grad == 2.0 and x1.grad == 1.0
assert retained == (1.0, 1.0)
