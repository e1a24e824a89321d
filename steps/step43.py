"""Step 43: pictures of the graph of a function and of its derivatives.

Builds on step 41 (the package; `backward(create_graph=True)` gives a gradient that has
a graph of its own, step 33). The new idea: look at those graphs with the package's
drawing, which shows what steps 20-33 drew by hand, and more.
`dezero_lite.utils.get_dot_graph(y)` walks back from y in the order backward() would
and writes the graph as DOT text, Graphviz's language for pictures of graphs;
`plot_dot_graph(y, to_file=...)` hands that text to Graphviz's `dot` program to draw a
PNG (and writes the .dot text beside it).

The function is tanh at x = 1. Its first derivative 1 - tanh(x)**2 = 0.419974 is a small
graph (4 Functions), the second, -2 tanh(x) (1 - tanh(x)**2) = -0.639700, a bigger one (9),
and every further order differentiates the whole graph before it, so the pictures grow
quickly: 21 Functions for the third derivative, 51 for the fourth. The DOT text
depends only on the graph (node ids come from the walk, not from memory addresses), so
building the same computation twice gives the same text. Without Graphviz the step
still writes and checks the text, and says how to install `dot`.

The first derivative is drawn once more with all of `get_dot_graph`'s options
(`verbose=True`, `show_values=True`, `show_order=True`, after `retain_grad=True`), into
step43_tanh_grad.png. Two inputs there hold the value 1: the seed dy/dy that backward
started from is a Variable, drawn as a leaf of its own, while the constant 1 of 1 - y**2
is written inside the box of the Function that uses it (`Sub | x0 = 1 (constant)`).

Last, `animate_backward` draws the backward pass through that graph frame by frame
(step43_backward.html, open it in a browser): which Function runs, what gradient it
sends to which input, and how a gradient that arrives twice is summed.
"""

import math
import os
import re
from pathlib import Path

import numpy as np

import dezero_lite as dz
import dezero_lite.functions as F
from dezero_lite.graph import GraphvizNotFoundError, animate_backward
from dezero_lite.utils import get_dot_graph, plot_dot_graph

OUT = Path(os.environ.get("DEZERO_STEPS_OUT", Path(__file__).resolve().parent / "out"))
OUT.mkdir(parents=True, exist_ok=True)
ORDERS = 4  # tanh itself, then derivatives 1 to 4
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def tanh_and_derivatives(value, orders):
    """[tanh(x), d/dx tanh(x), ..., the orders-th derivative] at x = value, each with its graph."""
    x = dz.Variable(np.array(value), name="x")
    y = F.tanh(x)
    y.name = "y"
    chain = [y]
    for k in range(1, orders + 1):
        x.cleargrad()  # start each derivative from nothing (gradients accumulate)
        chain[-1].backward(create_graph=True)
        gx = x.grad
        gx.name = f"gx{k}"
        chain.append(gx)
    return chain


def count_nodes(dot):
    """(Variables, Functions) in DOT text written by get_dot_graph: ids v0, v1, ... and f0, f1, ..."""
    variables = len(re.findall(r"^v\d+ \[label=", dot, re.MULTILINE))
    functions = len(re.findall(r"^f\d+ \[label=", dot, re.MULTILINE))
    return variables, functions


chain = tanh_and_derivatives(1.0, ORDERS)
again = tanh_and_derivatives(1.0, ORDERS)  # the same computation, built a second time
values = [float(v.data) for v in chain]
texts = [get_dot_graph(v, verbose=False) for v in chain]
texts_again = [get_dot_graph(v, verbose=False) for v in again]
counts = [count_nodes(text) for text in texts]
for k, (value, (n_vars, n_funcs)) in enumerate(zip(values, counts, strict=True)):
    what = "tanh(1)" if k == 0 else f"derivative {k}"
    print(f"{what:>13} = {value: .6f}   graph: {n_vars:3d} variables, {n_funcs:3d} functions")

# The first derivative once more, with everything the picture can show: names, shapes
# and dtypes (verbose), values and gradients (show_values; retain_grad=True keeps y's),
# and the order backward would visit each Function (show_order). Two inputs hold the
# value 1: the seed dy/dy that backward started from, and the constant 1 in 1 - y**2.
x = dz.Variable(np.array(1.0), name="x")
y = F.tanh(x)
y.name = "y"
y.backward(create_graph=True, retain_grad=True)
gx = x.grad
gx.name = "dy/dx"
seed, rest = gx.creator.inputs  # Tanh's backward computes gy * (1 - y * y)
seed.name = "dy/dy (the seed)"
one, y_squared = rest.creator.inputs
rest.name = "1 - y*y"
y_squared.name = "y*y"
options = dict(verbose=True, show_values=True, show_order=True)
labelled = get_dot_graph(gx, **options)
(OUT / "step43_tanh_grad.dot").write_text(labelled, encoding="utf-8")
print("\nthe nodes of dy/dx's graph, as its DOT text labels them:")
for label in re.findall(r'label="([^"]*)"', labelled):
    print("  ", label.replace("\\n", " | "))
try:
    plot_dot_graph(gx, to_file=OUT / "step43_tanh_grad.png", **options)
    print(f"picture: {OUT / 'step43_tanh_grad.png'}")
except GraphvizNotFoundError:
    pass  # said below, with the other pictures
assert seed is y.grad and float(seed.data) == 1.0 and float(one.data) == 1.0 and seed is not one
assert "dy/dy (the seed)" in labelled and "Sub\\nx0 = 1 (constant)" in labelled
assert all(f"#{k}" in labelled for k in range(1, 5)) and "#5" not in labelled  # four Functions
assert "float64" in labelled and "0.7616" in labelled and "0.42" in labelled
x2 = dz.Variable(np.array(1.0), name="x")
F.tanh(x2).backward(create_graph=True)  # the same, without retain_grad: y keeps no gradient
assert labelled.count("grad") > get_dot_graph(x2.grad, **options).count("grad")

# The DOT text always goes to a file; Graphviz's dot, when installed, turns it into a PNG.
dots = []
for k, text in enumerate(texts):
    dots.append(OUT / f"step43_tanh_{k}.dot")
    dots[-1].write_text(text, encoding="utf-8")
print(f"DOT text of each graph: {dots[0]} ... {dots[-1].name}")
pngs = []
try:
    for k, v in enumerate(chain):
        png = OUT / f"step43_tanh_{k}.png"
        plot_dot_graph(v, verbose=False, to_file=png)  # writes the same .dot beside the PNG
        pngs.append(png)
except GraphvizNotFoundError as e:
    print("Graphviz is not installed, so no pictures; the DOT text was checked all the same.")
    print(e)
else:
    print(
        f"pictures (open them side by side to see the graph grow): {pngs[0].name} ..."
        f" {pngs[-1].name}"
    )
    print("boxes are Functions (with their constant inputs); filled ellipses are inputs,")
    print("dashed ones intermediate results, the double one the output")

t = math.tanh(1.0)
assert abs(values[0] - t) < 1e-15
assert abs(values[1] - (1 - t**2)) < 1e-14
assert abs(values[2] - (-2 * t * (1 - t**2))) < 1e-14
# tanh''' = -2 (1 - t^2)(1 - 3 t^2)
assert abs(values[3] - (-2 * (1 - t**2) * (1 - 3 * t**2))) < 1e-14
assert abs(values[4] - 8 * t * (1 - t**2) * (2 - 3 * t**2)) < 1e-14
assert texts == texts_again  # the text depends only on the graph
assert texts[0] == get_dot_graph(chain[0], verbose=False)
assert counts[0] == (2, 1)  # x -> Tanh -> y
for (v0, f0), (v1, f1) in zip(counts, counts[1:], strict=False):
    assert v1 > v0 and f1 > f0  # each order builds on the whole graph before it
assert counts[-1][1] > 10 * counts[1][1]
assert [f for _, f in counts] == [1, 4, 9, 21, 51], "the docstring's counts need updating"
assert all(text.startswith("digraph g {") and text.rstrip().endswith("}") for text in texts)
assert '"x"' in texts[1] and '"gx1"' in texts[1] and "Tanh" in texts[1]
assert [d.read_text(encoding="utf-8") for d in dots] == texts
assert all(png.read_bytes()[:8] == PNG_SIGNATURE for png in pngs)
assert len(pngs) in (0, len(chain))  # all pictures, or none when dot is missing

# The backward pass itself, frame by frame: differentiate dy/dx once more (the second
# derivative) and record each Function the loop runs. y is used twice in y * y, so its
# gradient arrives twice, and the caption of that frame shows the sum.
x = dz.Variable(np.array(1.0), name="x")
y = F.tanh(x)
y.name = "y"
(gx,) = dz.grad(y, x, create_graph=True)
gx.name = "gx1"
animation = animate_backward(gx, to_file=None)  # runs backward; the frames are DOT text
try:
    animation.save(OUT / "step43_backward.html")  # the pictures need Graphviz's dot
    print(f"\nthe backward pass of dy/dx, frame by frame: {OUT / 'step43_backward.html'}")
except GraphvizNotFoundError:
    print("\nthe backward pass of dy/dx, frame by frame (no HTML without Graphviz):")
for k, caption in enumerate(animation.captions):
    print(f"  frame {k}: {caption}")
assert len(animation.frames) == 5  # the seed, then the four Functions
assert abs(float(x.grad.data) - values[2]) < 1e-14  # the second derivative, -0.6397
assert "added to the -0.7616 already there: -1.523" in animation.captions[3]
