"""Step 08: numerical derivatives, and why the central difference with h = 1e-4.

Idea: f'(x) ~ (f(x + h) - f(x - h)) / (2h). A tiny h like 1e-50 vanishes in
float64 rounding, and the one-sided difference (f(x + h) - f(x)) / h is much
less accurate than the central one. Then the same idea over every element of
an array, visited with np.nditer: this numerical_gradient is what steps 09-11
train with. Builds on step 01 (the central difference on one number).
"""
import math

import numpy as np


def numerical_diff(f, x, h=1e-4):
    return (f(x + h) - f(x - h)) / (2 * h)


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


def square(x):
    return x ** 2


def bad_forward_diff(f, x, h=1e-50):
    return (f(x + h) - f(x)) / h


tiny = bad_forward_diff(square, 3.0)
print(f"forward difference with h = 1e-50 at 3: {tiny}  (3 + 1e-50 == 3 in float64: {3 + 1e-50 == 3})")
forward = bad_forward_diff(square, 3.0, h=1e-4)
central = numerical_diff(square, 3.0)
print(f"x**2 at 3: forward difference {forward!r}, central difference {central!r}, exact 6")
print(f"  errors: forward {abs(forward - 6):.1e}, central {abs(central - 6):.1e}")

assert tiny == 0.0
assert abs(central - 6.000000000012662) < 1e-15
assert abs(central - 6) < abs(forward - 6) / 1000


def f2(x):
    return 3 * x * np.exp(x)


d = numerical_diff(f2, 2.0)
exact = 9 * math.exp(2)  # d/dx 3x e^x = 3(1 + x) e^x
print(f"3*x*exp(x) at 2: numerical {d:.6f}, exact 9e^2 = {exact!r}")
assert abs(d - 66.5015) < 5e-5
assert abs(exact - 66.50150489037586) < 1e-12
assert abs(d - exact) < 1e-6


def f_xy(v):
    x, y = v
    return 2 * x + 3 * x * y + y ** 3


g = numerical_gradient(f_xy, np.array([1.0, 2.0]))
print(f"2x + 3xy + y**3 at (1, 2): gradient {g}  (exact: 2 + 3y = 8, 3x + 3y**2 = 15)")
assert np.allclose(g, [8, 15], rtol=0, atol=1e-6)


def f_wxyz(m):
    (w, x), (y, z) = m
    return w * x + x * y * z + 3 * w + z * y ** 2


m = np.array([[1.0, 2.0], [3.0, 4.0]])
g = numerical_gradient(f_wxyz, m)
print(f"w*x + x*y*z + 3w + z*y**2 at [[w, x], [y, z]] = {m.tolist()}:\n{g}")
assert g.shape == m.shape
assert np.allclose(g, [[5, 13], [32, 15]], rtol=0, atol=1e-6)
assert np.array_equal(m, [[1.0, 2.0], [3.0, 4.0]])  # numerical_gradient put every element back
