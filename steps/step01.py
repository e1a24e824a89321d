"""Step 01: the gradient says which way to nudge each input.

Idea: to make f(x, y) = x * y larger at (-2, 3), compare three ways of finding
a better (x, y): random local search (try 100 small random tweaks and keep the
best), the numerical gradient (central difference, h = 1e-4) and the analytic
gradient (df/dx = y, df/dy = x). This is the first step; it builds on nothing.
"""
import numpy as np


def forward_multiply_gate(x, y):
    return x * y


x, y = -2.0, 3.0
f = forward_multiply_gate(x, y)
print(f"f(x, y) = x * y at ({x}, {y}): f = {f}")

# 1. Random local search: each try moves both inputs by up to +-0.01.
rng = np.random.default_rng(0)
tweak = 0.01
best_x, best_y, best_f = x, y, f
for _ in range(100):
    x_try = x + tweak * rng.uniform(-1, 1)
    y_try = y + tweak * rng.uniform(-1, 1)
    f_try = forward_multiply_gate(x_try, y_try)
    if f_try > best_f:
        best_x, best_y, best_f = x_try, y_try, f_try
print(f"random search, best of 100 tries: f({best_x:.4f}, {best_y:.4f}) = {best_f:.6f}")

# 2. Numerical gradient: nudge one input at a time, both ways.
h = 1e-4
num_dx = (forward_multiply_gate(x + h, y) - forward_multiply_gate(x - h, y)) / (2 * h)
num_dy = (forward_multiply_gate(x, y + h) - forward_multiply_gate(x, y - h)) / (2 * h)
print(f"numerical gradient (h = {h}): df/dx = {num_dx:.10f}, df/dy = {num_dy:.10f}")

# 3. Analytic gradient: the derivative of x * y by x is y, and by y is x.
dx, dy = y, x
print(f"analytic gradient:           df/dx = {dx}, df/dy = {dy}")

# One step of size 0.01 along the gradient.
step_size = 0.01
x_new, y_new = x + step_size * dx, y + step_size * dy
f_new = forward_multiply_gate(x_new, y_new)
print(f"one gradient step of {step_size}: f({x_new}, {y_new}) = {f_new:.6f}")
print(f"gain: random search {best_f - f:+.6f} after 100 evaluations, "
      f"gradient {f_new - f:+.6f} after one")

assert f == -6.0
assert abs(num_dx - 3) < 1e-9 and abs(num_dy - (-2)) < 1e-9
assert (dx, dy) == (3.0, -2.0)
assert abs(f_new - (-5.8706)) < 1e-12 and round(f_new, 2) == -5.87
assert f < best_f < f_new  # random search helps, the gradient helps more
