"""Step 12: training by gradient descent, linear regression.

Idea: a model y = x @ W + b is trained by repeating one move: compute the
gradient of the loss (mean squared error) in every parameter and step a little
downhill, W -= lr * dL/dW. With x = [1..5] and t = [2..6] (column vectors) and
lr = 0.01, W goes to 1 and b to 1. The loop needs nothing but the loss: the
gradients come from step 05's numerical_gradient (kept unchanged; two loss
evaluations per parameter are cheap for two parameters), and they agree with
backprop, the affine backward of step 10 with dout = dL/dy = 2 (y - t) / N,
which gives dW = 2 x.T (y - t) / N and db = 2 sum(y - t) / N. Builds on
step 05 (numerical_gradient) and step 10 (the affine backward).
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


x = np.array([[1.0], [2.0], [3.0], [4.0], [5.0]])
t = np.array([[2.0], [3.0], [4.0], [5.0], [6.0]])
W = np.zeros((1, 1))
b = np.zeros(1)


def predict(x):
    return x @ W + b


def loss():
    return np.mean((predict(x) - t) ** 2)


# The loss reads W and b, which numerical_gradient changes in place, so a
# lambda that ignores its argument is enough.
gW = numerical_gradient(lambda _: loss(), W)
gb = numerical_gradient(lambda _: loss(), b)
y = predict(x)
formula_W = 2 * x.T @ (y - t) / len(x)
formula_b = 2 * np.sum(y - t, axis=0) / len(x)
print("first gradients at W = b = 0:")
print(f"  numerical dL/dW = {gW.item():.6f}, dL/db = {gb.item():.6f}")
print(f"  backprop  dL/dW = {formula_W.item():.6f}, dL/db = {formula_b.item():.6f}")
assert np.allclose(gW, formula_W, atol=1e-6) and np.allclose(gb, formula_b, atol=1e-6)

lr = 0.01
losses = []
for i in range(5001):
    losses.append(loss())
    if i % 1000 == 0:
        print(f"iteration {i:5d}: loss {losses[-1]:.3e}, W = {W.item():.6f}, b = {b.item():.6f}")
    gW = numerical_gradient(lambda _: loss(), W)
    gb = numerical_gradient(lambda _: loss(), b)
    W -= lr * gW
    b -= lr * gb

print(f"prediction for x = 10: {predict(np.array([[10.0]])).item():.6f}")
assert abs(W.item() - 1) < 1e-4 and abs(b.item() - 1) < 1e-4
assert losses[-1] < 1e-8
# always downhill
assert all(later <= earlier for earlier, later in zip(losses, losses[1:], strict=False))
