"""Step 42: minimizing the Rosenbrock function by gradient descent, and its path.

Builds on step 41 (the package). Gradients are most useful for finding where a function
is smallest. The Rosenbrock function y = 100 (x1 - x0**2)**2 + (1 - x0)**2 has its
minimum 0 at (1, 1), at the bottom of a long, curved, nearly flat valley, a classic test
for optimizers. Gradient descent repeats x <- x - lr * dy/dx: from (0, 2) with lr 0.001
the first gradient is (-2, 400), the point drops into the valley (x1 = x0**2) within
a hundred iterations and then creeps along it, reaching about (0.9945, 0.9890) after 10,000.
Each iteration builds a fresh graph, so gradients are cleared before every backward.
When matplotlib is installed the path goes onto the function's contour lines in
`step42_rosenbrock.png`: a fast drop across the contours, then a slow crawl along the
valley floor.
"""

import os
import time
from pathlib import Path

import numpy as np

import dezero_lite as dz

OUT = Path(os.environ.get("DEZERO_STEPS_OUT", Path(__file__).resolve().parent / "out"))
OUT.mkdir(parents=True, exist_ok=True)


def rosenbrock(x0, x1):
    """100 (x1 - x0**2)**2 + (1 - x0)**2."""
    return 100 * (x1 - x0**2) ** 2 + (1 - x0) ** 2


x0 = dz.Variable(np.array(0.0))
x1 = dz.Variable(np.array(2.0))
y = rosenbrock(x0, x1)
y.backward()
first = (float(x0.grad.data), float(x1.grad.data))
print("at (0, 2): y =", y.data, " gradient", first)

lr = 0.001
iters = 10000
path = {}
trace = [(float(x0.data), float(x1.data))]
start = time.perf_counter()
for i in range(iters):
    x0.cleargrad()
    x1.cleargrad()
    y = rosenbrock(x0, x1)
    y.backward()
    x0.data = x0.data - lr * x0.grad.data
    x1.data = x1.data - lr * x1.grad.data
    if (i + 1) % 10 == 0:
        trace.append((float(x0.data), float(x1.data)))
    if i + 1 in (1, 10, 100, 1000, 10000):
        with dz.no_grad():  # only looking: no graph needed
            value = rosenbrock(x0, x1)
        path[i + 1] = (float(x0.data), float(x1.data), float(value.data))
seconds = time.perf_counter() - start
for i, (a, b, value) in path.items():
    print(f"after {i:5d} iterations: ({a:.6f}, {b:.6f})  y = {value:.3g}")
print(f"{iters} iterations took {seconds:.2f} s")


def save_path_plot(trace, to_file):
    """The path on the contours of the Rosenbrock function; False when matplotlib is missing."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return False
    a, b = np.meshgrid(np.linspace(-0.6, 1.6, 300), np.linspace(-0.4, 2.4, 300))
    fig = Figure(figsize=(6, 5))
    ax = fig.add_subplot()
    levels = [0.1, 1, 3, 10, 30, 100, 300]
    contours = ax.contour(a, b, rosenbrock(a, b), levels=levels, cmap="viridis")
    ax.clabel(contours, fmt="%g", fontsize=8)
    xs, ys = zip(*trace, strict=True)
    ax.plot(xs, ys, ".-", color="tab:red", markersize=2, linewidth=1, label="gradient descent")
    ax.plot(*trace[0], "o", color="tab:red", label="start (0, 2)")
    ax.plot(1, 1, "*", color="black", markersize=12, label="minimum (1, 1)")
    ax.set_xlabel("x0")
    ax.set_ylabel("x1")
    ax.set_title(f"Rosenbrock, lr {lr}: {iters} iterations, a point every 10")
    ax.legend(loc="lower right")
    fig.savefig(to_file, dpi=100)
    return True


png = OUT / "step42_rosenbrock.png"
if save_path_plot(trace, png):
    print(f"path on the contours: {png}")
else:
    print("matplotlib is not installed, so no plot (pip install matplotlib to get one)")
    png = None

assert y.data > 0 and first == (-2.0, 400.0)
assert np.allclose(path[1][:2], (0.002, 1.6), rtol=0, atol=1e-15)  # (0, 2) - lr * (-2, 400)
values = [value for _, _, value in path.values()]
assert all(a > b for a, b in zip(values, values[1:], strict=False))  # y keeps falling
assert abs(path[10000][0] - 1) < 0.01 and abs(path[10000][1] - 1) < 0.02
assert values[-1] < 1e-4
assert len(trace) == iters // 10 + 1 and trace[-1] == path[10000][:2]
assert png is None or png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
