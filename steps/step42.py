"""Step 29: minimizing the Rosenbrock function by gradient descent.

Builds on step 28 (the package). Gradients are most useful for finding where a function
is smallest. The Rosenbrock function y = 100 (x1 - x0**2)**2 + (1 - x0)**2 has its
minimum 0 at (1, 1), at the bottom of a long, curved, nearly flat valley, a classic test
for optimizers. Gradient descent repeats x <- x - lr * dy/dx: from (0, 2) with lr 0.001
the first gradient is (-2, 400), the point drops into the valley (x1 = x0**2) within
a hundred iterations and then creeps along it, reaching about (0.9945, 0.9890) after 10,000.
Each iteration builds a fresh graph, so gradients are cleared before every backward.
"""
import time

import numpy as np

import dezero_lite as dz


def rosenbrock(x0, x1):
    """100 (x1 - x0**2)**2 + (1 - x0)**2."""
    return 100 * (x1 - x0 ** 2) ** 2 + (1 - x0) ** 2


x0 = dz.Variable(np.array(0.0))
x1 = dz.Variable(np.array(2.0))
y = rosenbrock(x0, x1)
y.backward()
first = (float(x0.grad.data), float(x1.grad.data))
print("at (0, 2): y =", y.data, " gradient", first)

lr = 0.001
iters = 10000
path = {}
start = time.perf_counter()
for i in range(iters):
    x0.cleargrad()
    x1.cleargrad()
    y = rosenbrock(x0, x1)
    y.backward()
    x0.data = x0.data - lr * x0.grad.data
    x1.data = x1.data - lr * x1.grad.data
    if i + 1 in (1, 10, 100, 1000, 10000):
        with dz.no_grad():  # only looking: no graph needed
            value = rosenbrock(x0, x1)
        path[i + 1] = (float(x0.data), float(x1.data), float(value.data))
seconds = time.perf_counter() - start
for i, (a, b, value) in path.items():
    print(f"after {i:5d} iterations: ({a:.6f}, {b:.6f})  y = {value:.3g}")
print(f"{iters} iterations took {seconds:.2f} s")

assert y.data > 0 and first == (-2.0, 400.0)
assert np.allclose(path[1][:2], (0.002, 1.6), rtol=0, atol=1e-15)  # (0, 2) - lr * (-2, 400)
values = [value for _, _, value in path.values()]
assert all(a > b for a, b in zip(values, values[1:]))  # y keeps falling
assert abs(path[10000][0] - 1) < 0.01 and abs(path[10000][1] - 1) < 0.02
assert values[-1] < 1e-4
