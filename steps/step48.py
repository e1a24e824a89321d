"""Step 48: vanishing gradients, seen as colour.

Builds on step 43 (pictures of a graph) and step 45 (an `MLP`). The new idea: colour every
variable of the graph by the size of its gradient, `get_dot_graph(loss, color_by="grad")`,
and look at a deep network. Backward multiplies the gradient by the derivative of each
activation on the way down. A sigmoid's derivative is at most 1/4, so through six sigmoid
layers the gradient shrinks by orders of magnitude: the first layer's weights hardly learn.
ReLU's derivative is 1 where the unit is on, so the same network with ReLU keeps its
gradients the same size from the last layer to the first.

`record_layers(model)` remembers which layer made each Function during the forward pass,
so that `group_layers=True` draws each layer as a labelled box (l0 at the input end, l5 at
the output end). Without Graphviz the step writes and checks the DOT text only.
"""

import os
from pathlib import Path

import numpy as np

import dezero_lite as dz
import dezero_lite.functions as F
from dezero_lite.graph import GraphvizNotFoundError, get_dot_graph, plot_dot_graph, record_layers
from dezero_lite.models import MLP

OUT = Path(os.environ.get("DEZERO_STEPS_OUT", Path(__file__).resolve().parent / "out"))
OUT.mkdir(parents=True, exist_ok=True)
SIZES = (8, 8, 8, 8, 8, 1)  # six Linear layers, l0 to l5


def gradients(activation):
    """Loss and max |grad| of each layer's W, for a fresh MLP with that activation."""
    np.random.seed(0)  # the same weights and data for both activations
    model = MLP(SIZES, activation=activation)
    x = dz.Variable(np.random.randn(16, 8), name="x")
    t = np.random.randn(16, 1)
    with record_layers(model):
        loss = F.mean_squared_error(model(x), t)
    loss.name = "loss"
    loss.backward(retain_grad=True)  # keep the intermediate gradients: they get coloured too
    sizes = [float(np.abs(getattr(model, f"l{i}").W.grad.data).max()) for i in range(len(SIZES))]
    return loss, sizes


results = {}
for name, activation in (("sigmoid", F.sigmoid), ("relu", F.relu)):
    loss, sizes = gradients(activation)
    results[name] = (loss, sizes)
    print(f"{name}: max |grad| of W, from the output layer l5 back to the input layer l0")
    print("   " + "  ".join(f"l{i} {s:.1e}" for i, s in reversed(list(enumerate(sizes)))))
    print(f"   last layer / first layer: {sizes[-1] / sizes[0]:,.1f}x")

texts, pictures = {}, []
for name, (loss, _) in results.items():
    texts[name] = get_dot_graph(loss, verbose=False, color_by="grad", group_layers=True)
    (OUT / f"step48_{name}.dot").write_text(texts[name], encoding="utf-8")
try:
    for name, (loss, _) in results.items():
        png = OUT / f"step48_{name}.png"
        plot_dot_graph(loss, verbose=False, to_file=png, color_by="grad", group_layers=True)
        pictures.append(png)
except GraphvizNotFoundError as e:
    print("Graphviz is not installed, so no pictures; the DOT text was checked all the same.")
    print(e)
else:
    print(f"pictures: {pictures[0]} and {pictures[1].name}")
    print("pale is a tiny gradient, dark purple a large one (see the legend);")
    print("the sigmoid net fades toward the input x at the top, the ReLU net does not")

sig, relu = results["sigmoid"][1], results["relu"][1]
assert all(a < b for a, b in zip(sig, sig[1:], strict=False)), (
    "sigmoid: every layer down shrinks the gradient"
)
assert sig[-1] / sig[0] > 1000  # more than three orders of magnitude lost on the way down
assert max(relu) / min(relu) < 5  # ReLU: all within a factor of about 3
for text in texts.values():
    assert "max |grad|" in text  # the legend
    assert all(f'label="l{i}"' in text for i in range(len(SIZES)))  # a box per layer
    assert 'label="l0/W"' in text  # parameters named by their path
assert texts["sigmoid"] != texts["relu"]
assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pictures)
