"""Step 45: a neural network fits a curve that no straight line can.

Builds on step 44 (a Linear layer trained by an optimizer). The data are 100 points
y = sin(2 pi x) + noise, x in [0, 1), noise normal with standard deviation 0.1 (seeded).
The best straight line leaves a mean squared error of 0.235. The new idea: put a
nonlinearity between two Linear layers. `MLP((10, 1))` is Linear(10), sigmoid,
Linear(1): ten sigmoid bumps added up, enough to bend the line into a sine.

The optimizer is one line to change. From the same random start, SGD (lr 0.2) sits
on a plateau near the straight-line error for these 2000 steps (it gets out after
several thousand more), while Adam (alpha 0.02), which scales each parameter's step
by the size of its recent gradients, reaches 0.009: about the noise itself (0.0095),
which no model can remove. When matplotlib is installed, `step45_fit.png` shows the
data with both fitted curves and the best line, and the two loss curves on a log scale.
"""

import math
import os
import time
from pathlib import Path

import numpy as np

import dezero_lite as dz
import dezero_lite.functions as F
from dezero_lite.models import MLP
from dezero_lite.optimizers import SGD, Adam

OUT = Path(os.environ.get("DEZERO_STEPS_OUT", Path(__file__).resolve().parent / "out"))
OUT.mkdir(parents=True, exist_ok=True)
ITERS = 2000

rng = np.random.default_rng(0)
x = rng.random((100, 1))
noise = 0.1 * rng.standard_normal((100, 1))
y = np.sin(2 * np.pi * x) + noise
noise_mse = float(np.mean(noise**2))
line = np.hstack([x, np.ones_like(x)])
coef = np.linalg.lstsq(line, y, rcond=None)[0]
line_mse = float(np.mean((line @ coef - y) ** 2))
print(
    f"100 points of sin(2 pi x) + noise: the noise alone has mean square {noise_mse:.4f},\n"
    f"the best straight line leaves {line_mse:.4f}"
)


def train(optimizer, seed=0):
    """Train a fresh MLP((10, 1)) from the weights np.random.seed(seed) gives; return it and its losses."""
    np.random.seed(seed)  # Linear draws its first weights from NumPy's global generator
    model = MLP((10, 1))
    optimizer.setup(model)
    losses = []
    for _ in range(ITERS):
        loss = F.mean_squared_error(model(x), y)
        model.cleargrads()
        loss.backward()
        optimizer.update()
        losses.append(float(loss.data))
    with dz.no_grad():
        losses.append(float(F.mean_squared_error(model(x), y).data))  # after the last update
    return model, losses


start = time.perf_counter()
sgd_model, sgd_losses = train(SGD(lr=0.2))
adam_model, adam_losses = train(Adam(alpha=0.02))
seconds = time.perf_counter() - start
print(adam_model)
for i in (0, 250, 500, 1000, 1500, ITERS):
    print(f"after {i:4d} steps: loss with SGD {sgd_losses[i]:.4f}, with Adam {adam_losses[i]:.4f}")
print(f"two runs of {ITERS} steps took {seconds:.2f} s")

probe = np.array([[0.25], [0.5], [0.75]])
with dz.no_grad():
    guesses = adam_model(probe).data.ravel()
for p, g in zip(probe.ravel(), guesses, strict=True):
    print(f"x = {p}: the network says {g: .3f}, sin(2 pi x) = {math.sin(2 * math.pi * p): .3f}")


def save_fit_plot(to_file):
    """Data, fitted curves and loss curves side by side; False when matplotlib is missing."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return False
    grid = np.linspace(0, 1, 200).reshape(-1, 1)
    with dz.no_grad():
        curves = {"Adam (alpha 0.02)": adam_model(grid).data, "SGD (lr 0.2)": sgd_model(grid).data}
    fig = Figure(figsize=(11, 4))
    left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    left.plot(x, y, ".", color="gray", label="data: sin(2 pi x) + noise")
    left.plot(grid, np.sin(2 * np.pi * grid), ":", color="black", label="sin(2 pi x)")
    left.plot(
        grid,
        np.hstack([grid, np.ones_like(grid)]) @ coef,
        "--",
        color="tab:green",
        label="best straight line",
    )
    for (name, curve), color in zip(curves.items(), ("tab:red", "tab:blue"), strict=True):
        left.plot(grid, curve, color=color, label=f"MLP((10, 1)), {name}")
    left.set_xlabel("x")
    left.set_title(f"the fits after {ITERS} steps")
    left.legend(fontsize=8)
    right.semilogy(adam_losses, color="tab:red", label="Adam (alpha 0.02)")
    right.semilogy(sgd_losses, color="tab:blue", label="SGD (lr 0.2)")
    right.axhline(noise_mse, color="gray", linestyle=":", label="the noise alone")
    right.set_xlabel("step")
    right.set_ylabel("mean squared error (log scale)")
    right.set_title("training loss")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(to_file, dpi=100)
    return True


png = OUT / "step45_fit.png"
if save_fit_plot(png):
    print(f"fitted curves and losses: {png}")
else:
    print("matplotlib is not installed, so no picture (pip install matplotlib to get one)")
    png = None

assert abs(noise_mse - 0.0095) < 0.0005 and 0.2 < line_mse < 0.27  # the data, seeded
assert adam_losses[-1] < 0.015  # measured 0.0091 (0.0087 to 0.0091 for seeds 0 to 4)
assert adam_losses[-1] > 0.5 * noise_mse  # fitting the noise too would need far more weights
assert sgd_losses[-1] > 0.15  # measured 0.205: still on the plateau
assert adam_losses[-1] < sgd_losses[-1] / 10 and adam_losses[-1] < line_mse / 10
assert np.allclose(guesses, [1, 0, -1], atol=0.15)  # the sine's peak, zero and trough
if png is not None:
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
