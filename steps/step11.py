"""Step 11: one sigmoid unit learns AND, OR and NAND, but not XOR.

Idea: the logistic regression of step 10 with two inputs draws one straight
line through the plane. AND, OR and NAND on [[0,0],[0,1],[1,0],[1,1]] can be
split by a line and are learned; XOR cannot: its cross-entropy (summed over
the four cases) stalls at 4 ln 2 = 2.772588722239781, the loss of answering
0.5 every time. XOR still works as AND(OR(x), NAND(x)) built from the learned
units. Builds on step 10 (same numerical_gradient, sigmoid and loss).
"""
import math

import numpy as np


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
    print(f"{name:>4}: loss {losses[0]:.4f} -> after 500 {losses[500]:.6f} -> "
          f"after 2000 {losses[-1]:.12f}; y = {unit.predict(X).ravel().round(3)}, "
          f"classes {outputs[name]} (target {target})")

four_ln2 = 4 * math.log(2)
xor = units["XOR"]
print(f"\nXOR stalls at {float(final_loss['XOR'])!r}; 4 ln 2 = {four_ln2!r}")
print(f"XOR unit ends with W = {xor.W.ravel().round(6)}, b = {xor.b.round(6)}: "
      f"y = 0.5 for every input, so its classes are coin flips")

# XOR from the learned units: the outputs of OR and NAND feed AND.
hidden = np.hstack([units["OR"].predict(X), units["NAND"].predict(X)])
composed = units["AND"].predict(hidden)
composed_classes = (composed > 0.5).astype(int).ravel().tolist()
print(f"AND(OR(x), NAND(x)) = {composed.ravel().round(3)} -> {composed_classes}")

for name in ("AND", "OR", "NAND"):
    assert outputs[name] == targets[name], name
    assert final_loss[name] < 0.1, name
assert abs(four_ln2 - 2.772588722239781) < 1e-15
assert final_loss["XOR"] >= four_ln2 - 1e-12  # no line does better than answering 0.5
assert abs(final_loss["XOR"] - four_ln2) < 1e-6
assert np.allclose(xor.predict(X), 0.5, atol=1e-3)
assert outputs["XOR"] != targets["XOR"]  # a line cannot split XOR, whatever the weights
assert composed_classes == targets["XOR"]
