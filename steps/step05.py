"""Step 05: the layers of a neural network, each with its own backward.

Idea: the layer objects of step 04 work on NumPy arrays too. ReLU (a mask of
x <= 0), sigmoid (dout * (1 - y) * y), affine (x @ W + b with dW = x.T @ dout
and db = dout.sum(axis=0)) and softmax-with-loss ((y - t) / batch_size) are
written by hand and each backward is checked against a numerical gradient.
Builds on step 04 (MulLayer and AddLayer, kept unchanged).
"""
import numpy as np


class MulLayer:
    def __init__(self):
        self.x = None
        self.y = None

    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, dout):
        return dout * self.y, dout * self.x


class AddLayer:
    def forward(self, x, y):
        return x + y

    def backward(self, dout):
        return dout, dout


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
    """Central difference of the scalar f() in every element of x (changed in place)."""
    grad = np.zeros_like(x)
    for i in range(x.size):
        old = x.flat[i]
        x.flat[i] = old + h
        f_plus = f()
        x.flat[i] = old - h
        f_minus = f()
        x.flat[i] = old
        grad.flat[i] = (f_plus - f_minus) / (2 * h)
    return grad


def max_diff(a, b):
    return float(np.max(np.abs(a - b)))


rng = np.random.default_rng(0)

# The scalar layers of step 04 still work, now on arrays.
mul = MulLayer()
xs, ys = np.array([1.0, 2.0]), np.array([3.0, 4.0])
out = mul.forward(xs, ys)
dxs, dys = mul.backward(np.ones(2))
print(f"MulLayer on arrays: {out}, grads {dxs} {dys}")
assert np.array_equal(out, [3.0, 8.0]) and np.array_equal(dxs, ys) and np.array_equal(dys, xs)

# To check a layer y = L(x), compare backward(dout) with the numerical gradient of
# sum(L(x) * dout): its gradient in x is exactly what backward must return.
x = np.array([[1.0, -0.5, 2.0], [-2.0, 3.0, -0.1]])
dout = rng.standard_normal(x.shape)

relu = Relu()
print("\nReLU forward:\n", relu.forward(x))
dx = relu.backward(dout)
num = numerical_gradient(lambda: np.sum(relu.forward(x) * dout), x)
print("ReLU backward (zero where x <= 0):\n", dx)
print(f"ReLU: max |backprop - numerical| = {max_diff(dx, num):.2e}")
assert np.array_equal(dx == 0, x <= 0)
assert max_diff(dx, num) < 1e-9

sig = Sigmoid()
y = sig.forward(x)
dx = sig.backward(dout)
num = numerical_gradient(lambda: np.sum(sig.forward(x) * dout), x)
print(f"Sigmoid: max |backprop - numerical| = {max_diff(dx, num):.2e}")
assert np.allclose(dx, dout * (1 - y) * y)
assert max_diff(dx, num) < 1e-8

W = rng.standard_normal((3, 4))
b = rng.standard_normal(4)
affine = Affine(W, b)
dout4 = rng.standard_normal((2, 4))
affine.forward(x)
dx = affine.backward(dout4)
loss = lambda: np.sum(affine.forward(x) * dout4)  # noqa: E731
diffs = [max_diff(dx, numerical_gradient(loss, x)),
         max_diff(affine.dW, numerical_gradient(loss, W)),
         max_diff(affine.db, numerical_gradient(loss, b))]
print("Affine: max |backprop - numerical| for dx, dW, db = "
      + ", ".join(f"{d:.2e}" for d in diffs))
print(f"  shapes: dx {dx.shape}, dW {affine.dW.shape}, db {affine.db.shape}")
assert dx.shape == x.shape and affine.dW.shape == W.shape and affine.db.shape == b.shape
assert max(diffs) < 1e-8

scores = rng.standard_normal((2, 3))
t = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
swl = SoftmaxWithLoss()
loss_value = swl.forward(scores, t)
dscores = swl.backward()
num = numerical_gradient(lambda: swl.forward(scores, t), scores)
print(f"SoftmaxWithLoss: loss = {loss_value:.6f}, backward = (y - t) / batch_size:\n", dscores)
print(f"SoftmaxWithLoss: max |backprop - numerical| = {max_diff(dscores, num):.2e}")
assert np.allclose(dscores, (softmax(scores) - t) / 2)
assert np.allclose(dscores.sum(axis=1), 0)  # probabilities and one-hot rows both sum to 1
assert max_diff(dscores, num) < 1e-8
