"""Step 44: linear regression with the package, first by hand, then with a layer and an optimizer.

Builds on step 41 (the package) and step 40 (Linear and SGD written by hand); the
NumPy steps trained the same problem with numerical gradients, and step 42
(gradient descent with Variables). The model y = x @ W + b, the data x = [1..5],
t = [2..6] as column vectors, the loss F.mean_squared_error and lr = 0.01 are as in
those NumPy steps; now backward() gives the gradients, exactly the formula 2 x.T (y - t) / N:
(-28, -8) at W = 0, b = 0. After 4000 steps W = 1.0000002, b = 0.9999991
and the loss is 1.4e-13.

Then the same again with the package's pieces: `L.Linear(1)` holds W and b as
Parameters and `optimizers.SGD(lr=0.01)` does the update W <- W - lr * dW on all of
them. Started from the same zeros, the two runs agree to the last digit: the layer
and the optimizer only tidy the code. A layer normally starts from random weights;
that run reaches 1 as well.
"""

import time

import numpy as np

import dezero_lite as dz
import dezero_lite.functions as F
import dezero_lite.layers as L
from dezero_lite.datasets import LinearRegressionData
from dezero_lite.optimizers import SGD

LR = 0.01
ITERS = 4000

x = np.array([[1.0], [2.0], [3.0], [4.0], [5.0]])
t = np.array([[2.0], [3.0], [4.0], [5.0], [6.0]])

# 1. By hand: W and b are Variables, the update is written out.
W = dz.Variable(np.zeros((1, 1)), name="W")
b = dz.Variable(np.zeros(1), name="b")
start = time.perf_counter()
by_hand = []
for i in range(ITERS + 1):
    y = F.matmul(x, W) + b
    loss = F.mean_squared_error(y, t)
    by_hand.append(float(loss.data))
    if i % 1000 == 0:
        print(
            f"after {i:4d} steps: loss {by_hand[-1]:.3e}, W = {W.data.item():.9f}, b = {b.data.item():.9f}"
        )
    if i == ITERS:
        break
    W.cleargrad()
    b.cleargrad()
    loss.backward()
    if i == 0:
        first_grads = (W.grad.data.item(), b.grad.data.item())
        formula = (
            (2 * x.T @ (y.data - t) / len(x)).item(),
            (2 * np.sum(y.data - t) / len(x)).item(),
        )
        print(
            f"first gradients by backward: dW = {first_grads[0]}, db = {first_grads[1]};"
            f" formula 2 x.T (y - t) / N: {formula[0]}, {formula[1]}"
        )
    W.data -= LR * W.grad.data
    b.data -= LR * b.grad.data
hand_seconds = time.perf_counter() - start
print(f"by hand: {ITERS} steps in {hand_seconds:.2f} s, loss {by_hand[-1]:.3e}")

# 2. With the package: a Linear layer and the SGD optimizer, on the same data set.
data = LinearRegressionData()
layer = L.Linear(1, dtype=np.float64, in_size=1)
layer.W.data = np.zeros((1, 1))  # start where the run by hand started, to compare the two
optimizer = SGD(lr=LR).setup(layer)
with_layer = []
for i in range(ITERS + 1):
    loss = F.mean_squared_error(layer(data.data), data.label)
    with_layer.append(float(loss.data))
    if i == ITERS:
        break
    layer.cleargrads()
    loss.backward()
    optimizer.update()
print(
    f"Linear + SGD from zeros: W = {layer.W.data.item():.9f}, b = {layer.b.data.item():.9f}, "
    f"loss {with_layer[-1]:.3e}"
)
print(layer)

# 3. The usual start: random weights (seeded here so that the run repeats).
np.random.seed(0)
fresh = L.Linear(1, dtype=np.float64)  # W is made at the first call, from x's shape
optimizer = SGD(lr=LR).setup(fresh)
for i in range(ITERS):
    loss = F.mean_squared_error(fresh(data.data), data.label)
    if i == 0:
        print(f"Linear from random weights: W starts at {fresh.W.data.item():.6f}")
    fresh.cleargrads()
    loss.backward()
    optimizer.update()
print(f"... and after {ITERS} steps W = {fresh.W.data.item():.9f}, b = {fresh.b.data.item():.9f}")
with dz.no_grad():
    at_10 = fresh(np.array([[10.0]])).data.item()
print(f"prediction for x = 10: {at_10:.6f}")

assert np.array_equal(data.data, x) and np.array_equal(data.label, t)
assert first_grads == (-28.0, -8.0) == formula
assert abs(W.data.item() - 1) < 1e-5 and abs(b.data.item() - 1) < 1e-5  # measured 2.4e-7, 8.8e-7
assert by_hand[-1] < 1e-11  # measured 1.4e-13
# always downhill
assert all(later < earlier for earlier, later in zip(by_hand, by_hand[1:], strict=False))
assert with_layer == by_hand  # the same run, tidier code: the same arithmetic in the same order
assert np.array_equal(layer.W.data, W.data) and np.array_equal(layer.b.data, b.data)
assert abs(fresh.W.data.item() - 1) < 1e-4 and abs(fresh.b.data.item() - 1) < 1e-4
assert abs(at_10 - 11) < 1e-3
