"""Step 12: a two-layer network learns XOR by backprop.

Idea: put a hidden layer of sigmoid units in front of step 11's single unit
and train all the weights at once. The gradients now come from the backward
passes of step 05's layers (affine, sigmoid), checked once against step 11's
numerical gradient, and are used in the same gradient-descent loop. The loss
of XOR falls far below 4 ln 2, where the single unit stalled. Builds on
steps 05/06 (layers, backprop through a net) and 11 (the XOR data and loss).
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
    """Sigmoid output and cross-entropy summed over the cases; backward is y - t."""

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
check = max(np.max(np.abs(backprop[k] - numerical_gradient(lambda _: net.loss(X, t), p)))
            for k, p in net.params.items())
print(f"gradient check before training: max |backprop - numerical| = {check:.2e}")

lr = 0.5
losses = []
for i in range(3001):
    losses.append(net.loss(X, t))
    if i % 500 == 0:
        print(f"iteration {i:4d}: loss {losses[-1]:.6f}")
    for name, g in net.gradient(X, t).items():
        net.params[name] -= lr * g

y = net.predict(X)
classes = (y > 0.5).astype(int).ravel().tolist()
print(f"XOR by a two-layer net: y = {y.ravel().round(3)} -> {classes}")
print(f"final loss {losses[-1]:.6f}, well below the single unit's 4 ln 2 = {4 * math.log(2):.6f}")

assert check < 1e-8
assert classes == [0, 1, 1, 0]
assert losses[-1] < 0.1 * 4 * math.log(2)
assert losses[-1] < losses[0]
