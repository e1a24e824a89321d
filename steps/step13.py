"""Step 13: logistic regression, a classifier trained the same way.

Idea: put a sigmoid on the linear model of step 12, y = sigmoid(x @ W + b),
read y as the probability of class 1 and train with the cross-entropy loss
instead of the squared error. With x = [2, 4, ..., 20] and
t = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1], the trained model classifies 3 as 0 and 17
as 1. The training never settles: these data are separable (a line at any x
between 12 and 14 splits them), so a steeper sigmoid always fits better,
the loss has no minimum, and W grows without bound while the boundary keeps
creeping. Stopping early (or penalizing large weights) is what ends it.
Builds on step 12 (same numerical_gradient, same training loop).
"""

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


x = np.arange(2.0, 21.0, 2.0).reshape(-1, 1)
t = np.array([[0.0]] * 6 + [[1.0]] * 4)
W = np.zeros((1, 1))
b = np.zeros(1)


def predict(x):
    return sigmoid(x @ W + b)


def loss():
    # -(t log y + (1 - t) log(1 - y)) with y = sigmoid(z) equals log(1 + e^z) - t z,
    # which np.logaddexp computes without overflow or log(0).
    z = x @ W + b
    return np.mean(np.logaddexp(0, z) - t * z)


lr = 0.01  # 0.1 overshoots at first: with x up to 20 the loss is steep in W
losses, checkpoints = [], []
for i in range(10001):
    losses.append(loss())
    if i % 2000 == 0:
        boundary = -b.item() / W.item() if i else None
        checkpoints.append((W.item(), boundary))
        where = f"{boundary:.2f}" if i else "none yet"
        print(
            f"iteration {i:5d}: loss {losses[-1]:.4f}, W = {W.item():.4f}, "
            f"b = {b.item():.4f}, boundary {where}"
        )
    gW = numerical_gradient(lambda _: loss(), W)
    gb = numerical_gradient(lambda _: loss(), b)
    W -= lr * gW
    b -= lr * gb

boundary = -b.item() / W.item()
print(f"decision boundary (y = 0.5) after 10000 steps: x = {boundary:.2f}")
for value in (3.0, 17.0):
    p = predict(np.array([[value]])).item()
    print(f"x = {value:4}: probability of class 1 = {p:.4f} -> class {int(p > 0.5)}")
train_classes = (predict(x) > 0.5).astype(float)
print(f"training set classified as {train_classes.ravel().astype(int).tolist()}")

# Every point is on the right side, so scaling W and b up makes every
# prediction more confident and the loss smaller: there is no minimum to reach.
final = loss()
z = x @ W + b
doubled = np.mean(np.logaddexp(0, 2 * z) - t * 2 * z)
print(f"loss {final:.4f}; with W and b doubled (same boundary) {doubled:.4f}")
print("so on separable data W grows without bound as training goes on")

weights = [w for w, _ in checkpoints]
boundaries = [bd for _, bd in checkpoints[1:]]
assert abs(losses[0] - np.log(2)) < 1e-12  # W = b = 0 says 0.5 for everything
assert all(later < earlier for earlier, later in zip(losses, losses[1:], strict=False))
assert predict(np.array([[3.0]])).item() < 0.5
assert predict(np.array([[17.0]])).item() > 0.5
assert np.array_equal(train_classes, t)
assert 12 < boundary < 14
assert doubled < final
assert all(later > earlier for earlier, later in zip(weights, weights[1:], strict=False))
assert all(later > earlier for earlier, later in zip(boundaries, boundaries[1:], strict=False))
