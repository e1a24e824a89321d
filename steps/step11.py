"""Step 11: a two-layer network and its gradient check.

Idea: stacking the layers of step 10 (affine, ReLU, affine, softmax-with-loss)
gives a network whose gradients come from calling backward() on each layer in
reverse order. The gradient check compares them with the numerical gradients
of the loss (step 05): they must agree to many digits, and this is how a
backward pass written by hand is tested. Builds on step 10 (Relu, Affine,
softmax, SoftmaxWithLoss and numerical_gradient, kept unchanged).
"""

import numpy as np


class Relu:
    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dx = dout.copy()
        dx[self.mask] = 0
        return dx


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


def softmax(x):
    x = x - x.max(axis=-1, keepdims=True)  # does not change the result, avoids overflow
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


def cross_entropy_error(y, t):
    """Mean over the batch of -sum(t * log y), for one-hot t."""
    return -np.sum(t * np.log(y)) / y.shape[0]


class SoftmaxWithLoss:
    def __init__(self):
        self.y = self.t = None

    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        return cross_entropy_error(self.y, t)

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.t.shape[0]


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


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, rng, weight_scale=0.5):
        self.params = {
            "W1": weight_scale * rng.standard_normal((input_size, hidden_size)),
            "b1": np.zeros(hidden_size),
            "W2": weight_scale * rng.standard_normal((hidden_size, output_size)),
            "b2": np.zeros(output_size),
        }
        p = self.params
        # The layers hold the very arrays in self.params, so updating one updates both.
        self.layers = [Affine(p["W1"], p["b1"]), Relu(), Affine(p["W2"], p["b2"])]
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.last_layer.forward(self.predict(x), t)

    def gradient(self, x, t):
        """Gradients of the loss by backprop: one forward, then backward in reverse."""
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        first, second = self.layers[0], self.layers[2]
        return {"W1": first.dW, "b1": first.db, "W2": second.dW, "b2": second.db}

    def numerical_gradient(self, x, t):
        return {
            name: numerical_gradient(lambda _: self.loss(x, t), p)
            for name, p in self.params.items()
        }


rng = np.random.default_rng(0)
net = TwoLayerNet(input_size=4, hidden_size=5, output_size=3, rng=rng)
x = rng.standard_normal((6, 4))
t = np.eye(3)[rng.integers(0, 3, size=6)]  # one-hot labels

print(f"loss of the untrained net: {net.loss(x, t):.4f}")
backprop = net.gradient(x, t)
numerical = net.numerical_gradient(x, t)
print("gradient check, backprop against numerical:")
print("  param  shape   max abs diff  max relative diff")
worst = 0.0
for name in backprop:
    b, n = backprop[name], numerical[name]
    rel = np.max(np.abs(b - n) / np.maximum(np.abs(b) + np.abs(n), 1e-12))
    worst = max(worst, rel)
    print(f"  {name:5}  {str(b.shape):6}  {np.max(np.abs(b - n)):12.1e}  {rel:17.1e}")

# One step downhill along the backprop gradient lowers the loss.
before = net.loss(x, t)
for name, g in backprop.items():
    net.params[name] -= 0.1 * g
after = net.loss(x, t)
print(f"one gradient step of 0.1: loss {before:.4f} -> {after:.4f}")

assert all(backprop[k].shape == net.params[k].shape for k in net.params)
assert worst < 1e-7  # measured 8e-9
assert after < before
