"""Step 10: the layers of a neural network, each with its backward derived.

Idea: the layer objects of step 09 work on NumPy arrays too, and each
network layer's backward follows from its forward by the chain rule:
ReLU passes dout where x > 0; sigmoid's local gradient is y(1 - y); for the
affine layer x @ W + b the shapes leave one way to write dW = x.T @ dout;
softmax followed by the cross-entropy has the gradient (y - t) / N. Each
derivation is printed, then checked against step 05's numerical_gradient.
Builds on step 09 (MulLayer and AddLayer, kept unchanged), step 05 (the
numerical gradient of an array) and step 08 (softmax).
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


def max_diff(a, b):
    return float(np.max(np.abs(a - b)))


rng = np.random.default_rng(0)

# The layers of step 09 still work, now element by element on arrays.
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

print("\nReLU: y = max(0, x), so dy/dx = 1 where x > 0 and 0 where x <= 0:")
print("  dx = dout where x > 0, else 0 (forward keeps the mask x <= 0)")
relu = Relu()
relu.forward(x)
dx = relu.backward(dout)
num = numerical_gradient(lambda _: np.sum(relu.forward(x) * dout), x)
print(f"  x  {x.ravel()}")
print(f"  dx {dx.ravel().round(3)}")
print(f"  max |backprop - numerical| = {max_diff(dx, num):.1e}")
assert np.array_equal(dx == 0, x <= 0)
assert max_diff(dx, num) < 1e-9

print("\nSigmoid: y = 1 / (1 + e^-x), so")
print("  dy/dx = e^-x / (1 + e^-x)**2 = 1/(1 + e^-x) * e^-x/(1 + e^-x) = y (1 - y)")
print("  dx = dout * y * (1 - y), from the y kept by forward")
sig = Sigmoid()
y = sig.forward(x)
dx = sig.backward(dout)
num = numerical_gradient(lambda _: np.sum(sig.forward(x) * dout), x)
print(f"  max |backprop - numerical| = {max_diff(dx, num):.1e}")
assert np.allclose(dx, dout * (1 - y) * y)
assert max_diff(dx, num) < 1e-8

W = rng.standard_normal((3, 4))
b = rng.standard_normal(4)
affine = Affine(W, b)
dout4 = rng.standard_normal((2, 4))
affine.forward(x)
dx = affine.backward(dout4)
print(f"\nAffine: Y = x @ W + b with x {x.shape}, W {W.shape}, b {b.shape}, Y {dout4.shape}")
print("  Y[n, m] = sum over d of x[n, d] W[d, m] + b[m]; with dout = dL/dY,")
print("  dL/dW[d, m] = sum over n of x[n, d] dout[n, m]: dW = x.T @ dout")
print(f"  shapes: dW must be {W.shape} like W; from x {x.shape} and dout {dout4.shape}")
print(f"  only x.T @ dout {(x.T @ dout4).shape} fits, and dx = dout @ W.T {(dout4 @ W.T).shape}")
print("  b[m] is added to every row: db = dout.sum(axis=0)")
loss = lambda _: np.sum(affine.forward(x) * dout4)  # noqa: E731
diffs = [
    max_diff(dx, numerical_gradient(loss, x)),
    max_diff(affine.dW, numerical_gradient(loss, W)),
    max_diff(affine.db, numerical_gradient(loss, b)),
]
print("  max |backprop - numerical|: dx {:.1e}, dW {:.1e}, db {:.1e}".format(*diffs))
assert dx.shape == x.shape and affine.dW.shape == W.shape and affine.db.shape == b.shape
assert max(diffs) < 1e-8

scores = rng.standard_normal((2, 3))
t = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
print("\nSoftmax with cross-entropy, one row a with one-hot t:")
print("  log y[k] = a[k] - log(sum over j of e^a[j])")
print("  L = -sum t[k] log y[k] = -sum t[k] a[k] + log(sum e^a[j])  (sum t = 1)")
print("  dL/da[i] = -t[i] + e^a[i] / sum e^a[j] = y[i] - t[i]")
print("  the loss is the mean over N rows: dscores = (y - t) / N")
swl = SoftmaxWithLoss()
loss_value = swl.forward(scores, t)
dscores = swl.backward()
num = numerical_gradient(lambda _: swl.forward(scores, t), scores)
print(f"  loss {loss_value:.4f}; (y - t) / N =")
print(f"  {dscores.round(4).tolist()}")
print(f"  max |backprop - numerical| = {max_diff(dscores, num):.1e}")
assert np.allclose(dscores, (softmax(scores) - t) / 2)
assert np.allclose(dscores.sum(axis=1), 0)  # probabilities and one-hot rows both sum to 1
assert max_diff(dscores, num) < 1e-8
