"""Step 14: one sigmoid unit learns AND, OR and NAND, but not XOR.

Idea: the logistic regression of step 13 with two inputs draws one straight
line through the plane (w1*x1 + w2*x2 + b = 0, where y = 0.5). AND, OR and
NAND on [[0,0],[0,1],[1,0],[1,1]] can be split by a line and are learned, the
gates step 06 set by hand; XOR cannot: its cross-entropy (summed over the four
cases) stalls at 4 ln 2 = 2.7726, the loss of answering 0.5 every time. XOR
still works as AND(OR(x), NAND(x)) built from the learned units. The four
units and their lines are plotted when matplotlib is installed. Builds on
step 13 (same numerical_gradient, sigmoid and loss) and step 06 (the gates).
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


X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
targets = {
    "AND": [0, 0, 0, 1],
    "OR": [0, 1, 1, 1],
    "NAND": [1, 1, 1, 0],
    "XOR": [0, 1, 1, 0],
}


class Unit:
    """One sigmoid unit: y = sigmoid(x @ W + b)."""

    def __init__(self, rng):
        self.W = rng.standard_normal((2, 1))
        self.b = rng.standard_normal(1)

    def predict(self, x):
        return sigmoid(x @ self.W + self.b)

    def loss(self, x, t):
        # Cross-entropy summed over the cases, as log(1 + e^z) - t z (see step 10).
        z = x @ self.W + self.b
        return np.sum(np.logaddexp(0, z) - t * z)

    def train(self, x, t, lr=0.5, iterations=2000):
        losses = []
        for _ in range(iterations):
            losses.append(self.loss(x, t))
            gW = numerical_gradient(lambda _: self.loss(x, t), self.W)
            gb = numerical_gradient(lambda _: self.loss(x, t), self.b)
            self.W -= lr * gW
            self.b -= lr * gb
        losses.append(self.loss(x, t))
        return losses


rng = np.random.default_rng(0)
units, final_loss, outputs = {}, {}, {}
for name, target in targets.items():
    t = np.array(target, dtype=float).reshape(-1, 1)
    unit = Unit(rng)
    losses = unit.train(X, t)
    units[name], final_loss[name] = unit, losses[-1]
    outputs[name] = (unit.predict(X) > 0.5).astype(int).ravel().tolist()
    print(
        f"{name}: loss {losses[0]:.4f} at the start, {losses[500]:.4f} after 500 steps, "
        f"{losses[-1]:.4f} after 2000"
    )
    print(f"  y = {unit.predict(X).ravel().round(3)} -> {outputs[name]} (target {target})")

four_ln2 = 4 * math.log(2)
xor = units["XOR"]
print(f"\nXOR stalls at loss {final_loss['XOR']:.6f}; 4 ln 2 = {four_ln2:.6f}")
largest = max(np.abs(xor.W).max(), abs(xor.b.item()))
print(f"the XOR unit ends with every weight and its bias below {largest:.0e} in size:")
print("  y = 0.5 for every input, so its classes are coin flips")

# XOR from the learned units: the outputs of OR and NAND feed AND.
hidden = np.hstack([units["OR"].predict(X), units["NAND"].predict(X)])
composed = units["AND"].predict(hidden)
composed_classes = (composed > 0.5).astype(int).ravel().tolist()
print(f"AND(OR(x), NAND(x)) = {composed.ravel().round(3)} -> {composed_classes}")


def plot_units(path):
    """Save each unit's y over the plane with its line y = 0.5; False without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = np.linspace(-0.5, 1.5, 201)
    g1, g2 = np.meshgrid(grid, grid)
    plane = np.column_stack([g1.ravel(), g2.ravel()])
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.4), sharey=True)
    for ax, (name, unit) in zip(axes, units.items(), strict=True):
        y = unit.predict(plane).reshape(g1.shape)
        image = ax.pcolormesh(g1, g2, y, cmap="coolwarm", vmin=0, vmax=1, shading="auto")
        (w1, w2), b = unit.W.ravel(), unit.b.item()
        if np.ptp(y) > 0.1:  # the line w1*x1 + w2*x2 + b = 0
            ax.plot(grid, -(w1 * grid + b) / w2, color="black", linewidth=1.5)
        else:
            ax.text(0.5, 0.5, f"y = {y.mean():.2f}\neverywhere:\nno line", ha="center", va="center")
        for (x1, x2), target in zip(X, targets[name], strict=True):
            ax.scatter(
                x1, x2, s=120, marker="o" if target else "X", color="white", edgecolors="black"
            )
        ax.set_xlim(-0.5, 1.5)
        ax.set_ylim(-0.5, 1.5)
        ax.set_aspect("equal")
        ax.set_title(f"{name}: loss {final_loss[name]:.3f}")
        ax.set_xlabel("x1")
    axes[0].set_ylabel("x2")
    fig.colorbar(image, ax=axes, label="y (probability of 1)", shrink=0.8)
    fig.suptitle(
        "One sigmoid unit per gate (target 1: circle, 0: cross; black line: y = 0.5)", y=0.98
    )
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return True


png = OUT / "step14_gates.png"
if plot_units(png):
    print(f"\nthe four units and their lines: {png}")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
else:
    print("\nmatplotlib is not installed, so no plot (pip install matplotlib to get one)")

for name in ("AND", "OR", "NAND"):
    assert outputs[name] == targets[name], name
    assert final_loss[name] < 0.1, name
assert abs(four_ln2 - 2.772588722239781) < 1e-15
assert final_loss["XOR"] >= four_ln2 - 1e-12  # no line does better than answering 0.5
assert abs(final_loss["XOR"] - four_ln2) < 1e-6
assert np.allclose(xor.predict(X), 0.5, atol=1e-3)
assert outputs["XOR"] != targets["XOR"]  # a line cannot split XOR, whatever the weights
assert composed_classes == targets["XOR"]
