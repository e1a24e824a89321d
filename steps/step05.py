"""Step 05: numerical derivatives, and why the central difference with h = 1e-4.

Idea: f'(x) ~ (f(x + h) - f(x - h)) / (2h). Its error has two sources. The
formula itself is off by about h**2 f'''(x) / 6 (truncation; the one-sided
(f(x + h) - f(x)) / h is off by about h f''(x) / 2), which shrinks with h.
And float64 rounds every value by about 1e-16 of its size, an error which
dividing by h blows up as h shrinks. So the error against h is a U (plotted
when matplotlib is installed). h = 1e-4 sits a little right of the bottom for
the central difference: a small error (2e-7 here) that the h**2 formula
predicts, while smaller h soon meets rounding, which is erratic. For x**2
the central difference has no truncation error at all: what remains is
rounding. Then the same idea over every element of an array, visited with
np.nditer: the numerical_gradient later steps check backprop with. Builds
on step 01 (the central difference on one number) and step 04 (derivatives
worked out on paper, to compare with).
"""

import math
import os
from pathlib import Path

import numpy as np

OUT = Path(os.environ.get("DEZERO_STEPS_OUT", Path(__file__).resolve().parent / "out"))
OUT.mkdir(parents=True, exist_ok=True)


def numerical_diff(f, x, h=1e-4):
    return (f(x + h) - f(x - h)) / (2 * h)


def forward_diff(f, x, h=1e-4):
    return (f(x + h) - f(x)) / h


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
    return x**2


def f2(x):
    return 3 * x * np.exp(x)


# A tiny h is lost: 3 + 1e-50 is 3 in float64.
tiny = forward_diff(square, 3.0, h=1e-50)
print(f"x**2 at 3, h = 1e-50: forward difference {tiny:g} (3 + 1e-50 == 3: {3 + 1e-50 == 3})")
assert tiny == 0.0

# x**2 at 3: ((x + h)**2 - (x - h)**2) / 2h = 4xh / 2h = 2x exactly, so no truncation.
forward, central = forward_diff(square, 3.0), numerical_diff(square, 3.0)
print("x**2 at 3, h = 1e-4 (exact 6):")
print(f"  forward {forward:.10f}  error {abs(forward - 6):.1e} = h, truncation")
print(f"  central {central:.10f}  error {abs(central - 6):.1e}, rounding only")
print("  (3.0001 is not exact in binary; (x + h)**2 and (x - h)**2 are near 9 and")
print("   rounded by ~1e-15; their difference, 1.2e-3, is divided by 2h = 2e-4)")
assert abs(central - 6.000000000012662) < 1e-15
assert abs(central - 6) < abs(forward - 6) / 1000
assert abs(numerical_diff(square, 3.0, h=0.1) - 6) < 1e-13  # big h, still no truncation

# 3x e^x at 2: d/dx = 3(1 + x) e^x = 9e^2; the third derivative 3(3 + x) e^x = 15e^2.
exact = 9 * math.exp(2)
d = numerical_diff(f2, 2.0)
print(f"\n3x exp(x) at 2: central {d:.6f}, exact 9e^2 = {exact:.6f}, error {abs(d - exact):.1e}")
assert abs(d - 66.5015) < 5e-5
assert abs(exact - 66.50150489037586) < 1e-12
third = 15 * math.exp(2)
big_h = 0.1
truncation = abs(numerical_diff(f2, 2.0, big_h) - exact)
print(f"  at h = {big_h}: error {truncation:.4f}, h**2 f'''/6 = {big_h**2 * third / 6:.4f}")
assert abs(truncation - big_h**2 * third / 6) < 0.01 * truncation

# The U-curve: error against h, for h from 1e-13 to 1e-1.
hs = np.logspace(-13, -1, 61)
curves = {
    "3x exp(x), forward": [abs(forward_diff(f2, 2.0, h) - exact) for h in hs],
    "3x exp(x), central": [abs(numerical_diff(f2, 2.0, h) - exact) for h in hs],
    "x**2, central": [abs(numerical_diff(square, 3.0, h) - 6) for h in hs],
}
best = {name: hs[int(np.argmin(errors))] for name, errors in curves.items()}
print("\nerror against h: the smallest error is at")
for name in ("3x exp(x), forward", "3x exp(x), central"):
    print(f"  {name}: h = {best[name]:.0e}, error {min(curves[name]):.1e}")
assert 1e-10 <= best["3x exp(x), forward"] <= 1e-6
assert 1e-7 <= best["3x exp(x), central"] <= 1e-4
central_errors = np.array(curves["3x exp(x), central"])
assert central_errors[0] > 100 * central_errors.min() < central_errors[-1]  # a U
square_errors = np.array(curves["x**2, central"])
assert square_errors[0] > 1e6 * square_errors[-1]  # x**2: only rounding, largest at tiny h


def plot_errors(path):
    """Save the error against h on log-log axes; False when matplotlib is missing."""
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for name, errors in curves.items():
        ax.loglog(hs, np.maximum(errors, 1e-17), marker=".", label=name)
    ax.axvline(1e-4, color="gray", linestyle=":", linewidth=1)
    ax.text(1.3e-4, 1e-15, "h = 1e-4", color="gray")
    ax.text(1e-12, 1e-8, "rounding\n(falls as h grows)", fontsize=8)
    ax.text(3e-3, 1e-7, "truncation\n(grows with h)", fontsize=8)
    ax.set_xlabel("h")
    ax.set_ylabel("|numerical - exact|")
    ax.set_title("Error of a numerical derivative against h")
    ax.legend(loc="upper center", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


png = OUT / "step05_error_vs_h.png"
if plot_errors(png):
    print(f"plot of the error against h: {png}")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
else:
    print("matplotlib is not installed, so no plot (pip install matplotlib to get one)")


# Over every element of an array.
def f_xy(v):
    x, y = v
    return 2 * x + 3 * x * y + y**3


g = numerical_gradient(f_xy, np.array([1.0, 2.0]))
print(f"\n2x + 3xy + y**3 at (1, 2): gradient {g.round(6)}")
print("  on paper: (2 + 3y, 3x + 3y**2) = (8, 15)")
assert np.allclose(g, [8, 15], rtol=0, atol=1e-6)


def f_wxyz(m):
    (w, x), (y, z) = m
    return w * x + x * y * z + 3 * w + z * y**2


m = np.array([[1.0, 2.0], [3.0, 4.0]])
g = numerical_gradient(f_wxyz, m)
print(f"w*x + x*y*z + 3w + z*y**2 at [[w, x], [y, z]] = {m.tolist()}:")
print(f"  gradient {g.round(6).tolist()}")
assert g.shape == m.shape
assert np.allclose(g, [[5, 13], [32, 15]], rtol=0, atol=1e-6)
assert np.array_equal(m, [[1.0, 2.0], [3.0, 4.0]])  # numerical_gradient put every element back
