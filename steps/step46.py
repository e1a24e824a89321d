"""Step 46: classifying the spiral with mini-batches, then saving and loading the weights.

Builds on step 45 (an MLP trained by Adam) and the softmax of the NumPy steps. The data set
`Spiral` holds 300 points in the plane on three interleaved spiral arms; the label is
the arm. The scores of `MLP((30, 3), activation=F.relu)` go through
`F.softmax_cross_entropy` (softmax, then minus the log of the label's probability,
averaged). New: a `DataLoader` deals the data out in shuffled mini-batches of 30, so
one epoch is 10 updates, and `F.accuracy` counts the right answers per batch.
After 100 epochs the network gets over 98% of the training points and of a fresh
test spiral right, while one Linear layer alone (straight boundaries) stays near 50%.

Then `save_weights` writes the parameters to an .npz file, and `load_weights` puts
them into a new model, which gives exactly the same predictions. When matplotlib is
installed the regions the network assigns to each arm go to `step46_spiral.png`.
"""

import os
import time
from pathlib import Path

import numpy as np

import dezero_lite as dz
import dezero_lite.functions as F
from dezero_lite.dataloaders import DataLoader
from dezero_lite.datasets import Spiral
from dezero_lite.models import MLP
from dezero_lite.optimizers import Adam

OUT = Path(os.environ.get("DEZERO_STEPS_OUT", Path(__file__).resolve().parent / "out"))
OUT.mkdir(parents=True, exist_ok=True)
EPOCHS = 100
BATCH = 30

train_set, test_set = Spiral(train=True), Spiral(train=False)
x0, t0 = train_set[0]
print(f"{train_set}: point 0 is {x0} on arm {t0}")


def fit(model, epochs, report=()):
    """Train model on the spiral with Adam; return the training accuracy of each epoch."""
    optimizer = Adam(alpha=0.01).setup(model)
    loader = DataLoader(train_set, batch_size=BATCH)  # shuffles with np.random each epoch
    accs = []
    for epoch in range(1, epochs + 1):
        loss_sum = acc_sum = 0.0
        for x, t in loader:
            y = model(x)
            loss = F.softmax_cross_entropy(y, t)
            model.cleargrads()
            loss.backward()
            optimizer.update()
            loss_sum += float(loss.data) * len(t)
            acc_sum += float(F.accuracy(y, t).data) * len(t)
        accs.append(acc_sum / len(train_set))
        if epoch in report:
            print(
                f"epoch {epoch:3d}: loss {loss_sum / len(train_set):.4f}, accuracy {accs[-1]:.3f}"
            )
    return accs


def accuracy_on(model, data):
    with dz.no_grad():
        return float(F.accuracy(model(data.data), data.label).data)


np.random.seed(0)  # first weights and the shuffling
model = MLP((30, 3), activation=F.relu)
start = time.perf_counter()
accs = fit(model, EPOCHS, report=(1, 10, 20, 50, 100))
seconds = time.perf_counter() - start
train_acc, test_acc = accuracy_on(model, train_set), accuracy_on(model, test_set)
print(f"{EPOCHS} epochs of {len(train_set) // BATCH} mini-batches in {seconds:.2f} s")
print(
    f"accuracy after training: {train_acc:.3f} on the training spiral, {test_acc:.3f} on the test spiral"
)

np.random.seed(0)
flat = MLP((3,))  # no hidden layer: one Linear, straight boundaries between the classes
fit(flat, EPOCHS)
flat_acc = accuracy_on(flat, train_set)
print(f"one Linear layer alone, trained the same way: training accuracy {flat_acc:.3f}")

weights = OUT / "step46_spiral_mlp.npz"
model.save_weights(weights)
again = MLP((30, 3), activation=F.relu)  # weights not made yet: load_weights fills them in
again.load_weights(weights)
with dz.no_grad():
    scores, scores_again = model(test_set.data).data, again(test_set.data).data
print(
    f"weights saved to {weights.name} ({weights.stat().st_size} bytes), loaded into a new model:\n"
    f"  its test scores are {'identical' if np.array_equal(scores, scores_again) else 'DIFFERENT'}"
)


def plot_regions(path):
    """Colour the plane by the predicted arm, with the training points on top; False without matplotlib."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return False
    grid = np.linspace(-1.1, 1.1, 200)
    gx, gy = np.meshgrid(grid, grid)
    with dz.no_grad():
        arm = model(np.c_[gx.ravel(), gy.ravel()]).data.argmax(axis=1).reshape(gx.shape)
    fig = Figure(figsize=(5, 5))
    ax = fig.add_subplot()
    ax.contourf(gx, gy, arm, levels=[-0.5, 0.5, 1.5, 2.5], alpha=0.3, colors=["C0", "C1", "C2"])
    for k, marker in enumerate("ox^"):
        pts = train_set.data[train_set.label == k]
        ax.scatter(pts[:, 0], pts[:, 1], s=15, marker=marker, color=f"C{k}", label=f"arm {k}")
    ax.set_title(f"MLP((30, 3)) after {EPOCHS} epochs: training accuracy {train_acc:.3f}")
    ax.legend(loc="upper right", fontsize=8)
    fig.savefig(path, dpi=80)
    return True


png = OUT / "step46_spiral.png"
if plot_regions(png):
    print(f"regions of the three arms: {png}")
else:
    print("matplotlib is not installed, so no picture (pip install matplotlib to get one)")
    png = None

assert len(train_set) == 300 and set(np.unique(train_set.label)) == {0, 1, 2}
assert accs[0] < 0.6 and accs[-1] > 0.95  # measured 0.430 after epoch 1, 0.983 after 100
assert train_acc > 0.95 and test_acc > 0.95  # measured 0.983 and 0.990
assert flat_acc < 0.7  # a straight boundary cannot follow a spiral
assert np.array_equal(scores, scores_again)  # the same weights, the same answers
for (name, p), (name2, p2) in zip(model.named_params(), again.named_params(), strict=True):
    assert name == name2 and p.data.dtype == p2.data.dtype and np.array_equal(p.data, p2.data)
if png is not None:
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
