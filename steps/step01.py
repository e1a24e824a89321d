"""Step 01: the gradient says which way to nudge each input.

Idea: to make f(x, y) = x * y larger at (-2, 3), we can guess (try 100 random
moves and keep the best) or ask the gradient, the pair (df/dx, df/dy). It can
be measured by nudging one input at a time (the central difference,
h = 1e-4) or worked out on paper (df/dx = y, df/dy = x). To compare like with
like, every random move has the same length as the gradient step. With two
inputs a lucky guess comes close; with a thousand inputs the best of 100
guesses gains less than a tenth of what the gradient step gains. This is the
first step; it builds on nothing.
"""

import numpy as np


def forward_multiply_gate(x, y):
    return x * y


x, y = -2.0, 3.0
f = forward_multiply_gate(x, y)
print(f"f(x, y) = x * y at (x, y) = ({x:g}, {y:g}): f = {f:g}")

# The gradient, measured: nudge one input at a time, both ways.
h = 1e-4
num_dx = (forward_multiply_gate(x + h, y) - forward_multiply_gate(x - h, y)) / (2 * h)
num_dy = (forward_multiply_gate(x, y + h) - forward_multiply_gate(x, y - h)) / (2 * h)
print(f"numerical gradient (h = {h:g}): df/dx = {num_dx:.6f}, df/dy = {num_dy:.6f}")

# The gradient, on paper: d(x*y)/dx = y and d(x*y)/dy = x.
dx, dy = y, x
print(f"analytic gradient:           df/dx = {dx:g}, df/dy = {dy:g}")

# One step along the gradient: move by 0.01 times the gradient.
step_size = 0.01
x_new, y_new = x + step_size * dx, y + step_size * dy
f_new = forward_multiply_gate(x_new, y_new)
length = step_size * np.hypot(dx, dy)
print(f"\none step of 0.01 * gradient (length {length:.4f}):")
print(f"  f({x_new:g}, {y_new:g}) = {f_new:.4f}, gain {f_new - f:+.4f}")

# Random search with moves of the same length, in random directions.
rng = np.random.default_rng(0)
best_f = f
for _ in range(100):
    angle = rng.uniform(0, 2 * np.pi)
    f_try = forward_multiply_gate(x + length * np.cos(angle), y + length * np.sin(angle))
    best_f = max(best_f, f_try)
print(f"best of 100 random moves of the same length: f = {best_f:.4f}, gain {best_f - f:+.4f}")


# The same contest with 1000 inputs: f(v) = sum of v[i] * w[i], with w fixed.
n = 1000
v, w = rng.standard_normal(n), rng.standard_normal(n)
grad = w  # df/dv[i] = w[i], as for x * y
step = 0.01 * grad
gain_gradient = w @ step  # f is linear in v, so this is exact
random_gains = []
for _ in range(100):
    direction = rng.standard_normal(n)
    direction *= np.linalg.norm(step) / np.linalg.norm(direction)
    random_gains.append(w @ direction)
print(f"\nwith {n} inputs, steps of length {np.linalg.norm(step):.3f}:")
print(f"  gradient gain {gain_gradient:+.3f}, best of 100 random {max(random_gains):+.3f}")

assert f == -6.0
assert abs(num_dx - 3) < 1e-9 and abs(num_dy - (-2)) < 1e-9
assert (dx, dy) == (3.0, -2.0)
assert abs(f_new - (-5.8706)) < 1e-12 and round(f_new, 2) == -5.87
assert f < best_f <= f_new  # with 2 inputs the best guess comes close, never past
assert max(random_gains) < 0.1 * gain_gradient  # with 1000 inputs guessing fails
