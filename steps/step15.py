"""Step 15: a two-layer network learns XOR by backprop.

Idea: put a hidden layer of three sigmoid units in front of step 14's single
unit and train all the weights at once. The gradients now come from the
backward passes of step 10's layers (affine, sigmoid) and a sigmoid-with-loss
layer whose backward, y - t, is derived as softmax's was; they pass step 11's
gradient check and feed the same gradient-descent loop. The loss of XOR falls
far below 4 ln 2, where the single unit stalled. Each hidden unit still draws
one line; the plot (when matplotlib is installed) shows the three lines and
how the output combines them. Builds on steps 10-11 (layers, backprop through
a net, the gradient check) and step 14 (the XOR data and loss).
"""

import math
import os
from pathlib import Path

import numpy as np

OUT = Path(os.environ.get("DEZERO_STEPS_OUT", Path(__file__).resolve().parent / "out"))
OUT.mkdir(parents=True, exist_ok=True)


def numerical_gradient(f, x, h=1e-4):
    """Central difference of the scalar f(x) in every element of the float array x."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        idx = it.multi_index
        old = x[idx]
        x[idx] = old + h
        f_plus = f(x)
        x[idx] = old - h
        f_minus = f(x)
        x[idx] = old  # leave x as it was
        grad[idx] = (f_plus - f_minus) / (2 * h)
        it.iternext()
    return grad


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


class Sigmoid:
    def __init__(self):
        self.out = None

    def forward(self, x):
        self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return dout * (1 - self.out) * self.out


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b
        self.x = None
        self.dW = self.db = None

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class SigmoidWithLoss:
    """Sigmoid output and cross-entropy summed over the cases; backward is y - t.

    Per case L = log(1 + e^z) - t z (step 13), so dL/dz = e^z / (1 + e^z) - t = y - t.
    """

    def __init__(self):
        self.y = self.t = None

    def forward(self, z, t):
        self.t = t
        self.y = sigmoid(z)
        return np.sum(np.logaddexp(0, z) - t * z)  # see step 10

    def backward(self, dout=1):
        return dout * (self.y - self.t)


class TwoLayerNet:
    def __init__(self, hidden_size, rng):
        self.params = {
            "W1": rng.standard_normal((2, hidden_size)),
            "b1": np.zeros(hidden_size),
            "W2": rng.standard_normal((hidden_size, 1)),
            "b2": np.zeros(1),
        }
        p = self.params
        self.layers = [Affine(p["W1"], p["b1"]), Sigmoid(), Affine(p["W2"], p["b2"])]
        self.last_layer = SigmoidWithLoss()

    def scores(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def predict(self, x):
        return sigmoid(self.scores(x))

    def loss(self, x, t):
        return self.last_layer.forward(self.scores(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        first, second = self.layers[0], self.layers[2]
        return {"W1": first.dW, "b1": first.db, "W2": second.dW, "b2": second.db}


X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
t = np.array([[0.0], [1.0], [1.0], [0.0]])

rng = np.random.default_rng(0)
net = TwoLayerNet(hidden_size=3, rng=rng)

backprop = net.gradient(X, t)
check = max(
    np.max(np.abs(backprop[k] - numerical_gradient(lambda _: net.loss(X, t), p)))
    for k, p in net.params.items()
)
print(f"gradient check before training: max |backprop - numerical| = {check:.1e}")

lr = 0.5
losses = []
for i in range(3001):
    losses.append(net.loss(X, t))
    if i % 500 == 0:
        print(f"iteration {i:4d}: loss {losses[-1]:.4f}")
    for name, g in net.gradient(X, t).items():
        net.params[name] -= lr * g

y = net.predict(X)
classes = (y > 0.5).astype(int).ravel().tolist()
print(f"XOR by a two-layer net: y = {y.ravel().round(3)} -> {classes}")
print(f"final loss {losses[-1]:.4f}, far below the single unit's 4 ln 2 = {4 * math.log(2):.4f}")
hidden = net.layers[1].forward(net.layers[0].forward(X))
print("the hidden units on the four inputs (rows: (0,0), (0,1), (1,0), (1,1)):")
for row, out in zip(hidden.round(2), y.ravel(), strict=True):
    print(f"  {row} -> y = {out:.3f}")


def plot_hidden_units(path):
    """Save each hidden unit and the output over the plane; False without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = np.linspace(-0.5, 1.5, 201)
    g1, g2 = np.meshgrid(grid, grid)
    plane = np.column_stack([g1.ravel(), g2.ravel()])
    W1, b1 = net.params["W1"], net.params["b1"]
    units = sigmoid(plane @ W1 + b1)
    lines = [-(W1[0, j] * grid + b1[j]) / W1[1, j] for j in range(W1.shape[1])]
    panels = [(f"hidden unit {j + 1}", units[:, j], [lines[j]], "k-") for j in range(len(lines))]
    panels.append(("output y", net.predict(plane).ravel(), lines, "k:"))
    fig, axes = plt.subplots(1, len(panels), figsize=(13, 3.4), sharey=True)
    for ax, (title, values, drawn, style) in zip(axes, panels, strict=True):
        image = ax.pcolormesh(
            g1, g2, values.reshape(g1.shape), cmap="coolwarm", vmin=0, vmax=1, shading="auto"
        )
        for line in drawn:  # where the unit's input W1[0, j] x1 + W1[1, j] x2 + b1[j] is 0
            ax.plot(grid, line, style, linewidth=1.5)
        for (x1, x2), target in zip(X, t.ravel(), strict=True):
            ax.scatter(
                x1, x2, s=120, marker="o" if target else "X", color="white", edgecolors="black"
            )
        ax.set_xlim(-0.5, 1.5)
        ax.set_ylim(-0.5, 1.5)
        ax.set_aspect("equal")
        ax.set_title(title)
        ax.set_xlabel("x1")
    axes[0].set_ylabel("x2")
    fig.colorbar(image, ax=axes, label="unit's output", shrink=0.8)
    fig.suptitle(
        "XOR by two layers: each hidden unit draws one line, the output combines them"
        " (target 1: circle, 0: cross)",
        y=0.98,
    )
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return True


png = OUT / "step15_xor_hidden.png"
if plot_hidden_units(png):
    print(f"the hidden units and the output: {png}")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
else:
    print("matplotlib is not installed, so no plot (pip install matplotlib to get one)")

assert check < 1e-8
assert classes == [0, 1, 1, 0]
assert losses[-1] < 0.1 * 4 * math.log(2)
assert losses[-1] < losses[0]
