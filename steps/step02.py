"""Step 02: backpropagation is the chain rule applied gate by gate.

Idea: a circuit of several gates is differentiated by walking it backwards:
each gate multiplies the gradient arriving at its output by its own local
gradient and hands the result to its inputs. First (x + y) * z, then one
neuron s = sigmoid(a*x + b*y + c), whose five gradients give one step that
raises s. Every gradient is checked by step 01's central difference, and
both circuits are drawn with each value, its gradient and the order in which
backward visits the gates (DOT text, rendered by Graphviz when its `dot`
program is installed). Builds on step 01 (the gradient of a single multiply
gate).
"""

import math
import os
import shutil
import subprocess
from pathlib import Path

OUT = Path(os.environ.get("DEZERO_STEPS_OUT", Path(__file__).resolve().parent / "out"))
OUT.mkdir(parents=True, exist_ok=True)


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


def numerical_grad(f, args, i, h=1e-4):
    """Central difference of f(*args) in its i-th argument."""
    plus, minus = list(args), list(args)
    plus[i] += h
    minus[i] -= h
    return (f(*plus) - f(*minus)) / (2 * h)


# 1. f = (x + y) * z, written as two gates: q = x + y, then f = q * z.
def circuit(x, y, z):
    return (x + y) * z


x, y, z = -2.0, 5.0, -4.0
q = x + y  # add gate
f = q * z  # multiply gate
df = 1.0  # gradient of f with respect to itself
dq = z * df  # multiply gate: d(q*z)/dq = z
dz = q * df  # multiply gate: d(q*z)/dz = q
dx = 1.0 * dq  # add gate passes the gradient through unchanged
dy = 1.0 * dq
print(f"(x + y) * z at (x, y, z) = ({x:g}, {y:g}, {z:g}): f = {f:g}")
print(f"  backprop:  df/dx = {dx:g}, df/dy = {dy:g}, df/dz = {dz:g}")
num = [numerical_grad(circuit, (x, y, z), i) for i in range(3)]
print("  numerical: df/dx = {:.6f}, df/dy = {:.6f}, df/dz = {:.6f}".format(*num))

assert f == -12.0
assert (dx, dy, dz) == (-4.0, -4.0, 3.0)
assert all(abs(n - g) < 1e-9 for n, g in zip(num, (dx, dy, dz), strict=True))
circuit_values = {"x": (x, dx), "y": (y, dy), "z": (z, dz), "q": (q, dq), "f": (f, df)}
# op, inputs, output, and the order in which the backward pass above visited the gate
circuit_gates = [("+", ["x", "y"], "q", 2), ("*", ["q", "z"], "f", 1)]


# 2. One neuron: s = sigmoid(a*x + b*y + c).
def neuron(a, b, c, x, y):
    return sigmoid(a * x + b * y + c)


a, b, c, x, y = 1.0, 2.0, -3.0, -1.0, 3.0
ax = a * x  # multiply gates
by = b * y
p = ax + by  # add gates
u = p + c
s = sigmoid(u)  # sigmoid gate
ds = 1.0
# sigmoid gate: d/du 1/(1 + e^-u) = e^-u / (1 + e^-u)**2 = s * (1 - s)
du = s * (1 - s) * ds
dp, dc = du, du  # add gates pass the gradient on
dax, dby = dp, dp
da, dx = x * dax, a * dax  # multiply gates swap their inputs
db, dy = y * dby, b * dby
grads = (da, db, dc, dx, dy)
num = [numerical_grad(neuron, (a, b, c, x, y), i) for i in range(5)]
print(f"\nneuron sigmoid(a*x + b*y + c) at a={a:g}, b={b:g}, c={c:g}, x={x:g}, y={y:g}:")
print(f"  s = {s:.6f}")
print("        backprop   numerical")
for name, g, n in zip("abcxy", grads, num, strict=True):
    print(f"  ds/d{name} {g:9.6f}   {n:9.6f}")

step_size = 0.01
inputs = [v + step_size * g for v, g in zip((a, b, c, x, y), grads, strict=True)]
s_new = neuron(*inputs)
print(f"after one step of {step_size} * gradient on all five inputs: s = {s_new:.6f}")

assert abs(s - 0.8807970779778823) < 1e-12
expected = (
    -0.10499358540350662,
    0.31498075621051985,
    0.10499358540350662,
    0.10499358540350662,
    0.20998717080701323,
)
assert all(abs(g - e) < 1e-12 for g, e in zip(grads, expected, strict=True))
assert all(abs(n - g) < 1e-8 for n, g in zip(num, grads, strict=True))
assert abs(s_new - 0.8825501816218984) < 1e-12 and s_new > s
neuron_values = {
    "a": (a, da),
    "x": (x, dx),
    "b": (b, db),
    "y": (y, dy),
    "c": (c, dc),
    "ax": (ax, dax),
    "by": (by, dby),
    "p": (p, dp),
    "u": (u, du),
    "s": (s, ds),
}
neuron_gates = [
    ("*", ["a", "x"], "ax", 4),
    ("*", ["b", "y"], "by", 5),
    ("+", ["ax", "by"], "p", 3),
    ("+", ["p", "c"], "u", 2),
    ("sigmoid", ["u"], "s", 1),
]


# 3. Pictures. DOT is the plain-text graph language of Graphviz: `name [label="..."];`
# declares a node, `a -> b;` an arrow, and the `dot` program lays the graph out.
def to_dot(values, gates):
    """DOT text: a box per value (its value and gradient), an oval per gate (its backward turn)."""
    lines = ["digraph circuit {", "  rankdir=LR;"]
    for name, (value, grad) in values.items():
        lines.append(f'  {name} [shape=box, label="{name}\\nvalue {value:.3g}\\ngrad {grad:.3g}"];')
    for i, (op, ins, out, turn) in enumerate(gates):
        lines.append(f'  gate{i} [label="{op}\\nbackward #{turn}"];')
        lines += [f"  {name} -> gate{i};" for name in ins] + [f"  gate{i} -> {out};"]
    lines.append("}")
    return "\n".join(lines) + "\n"


for name, values, gates in [
    ("circuit", circuit_values, circuit_gates),
    ("neuron", neuron_values, neuron_gates),
]:
    text = to_dot(values, gates)
    dot_file = OUT / f"step02_{name}.dot"
    dot_file.write_text(text)
    if shutil.which("dot"):
        png = dot_file.with_suffix(".png")
        subprocess.run(["dot", "-Tpng", str(dot_file), "-o", str(png)], check=True)
        print(f"{name} with values and gradients: {png}")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        print(f"{name} as DOT text: {dot_file} (install Graphviz for a PNG)")
    assert text.count("->") == sum(len(ins) + 1 for _, ins, _, _ in gates)

neuron_dot = to_dot(neuron_values, neuron_gates)
print("\nthe neuron's DOT text begins:")
print("\n".join(neuron_dot.splitlines()[:4]))

assert 's [shape=box, label="s\\nvalue 0.881\\ngrad 1"];' in neuron_dot
assert 'a [shape=box, label="a\\nvalue 1\\ngrad -0.105"];' in neuron_dot
assert "u -> gate4;" in neuron_dot and "gate4 -> s;" in neuron_dot
assert 'gate4 [label="sigmoid\\nbackward #1"];' in neuron_dot
assert 'f [shape=box, label="f\\nvalue -12\\ngrad 1"];' in to_dot(circuit_values, circuit_gates)
