"""Step 54: a small convolutional network reads the 8x8 digits.

Builds on step 47 (the same digits, read by an MLP from rows of 64 pixels) and steps
51-53 (convolution and pooling). Here each digit stays an image of shape (1, 8, 8):
`L.Conv2d(16, 3, pad=1)` learns 16 filters of 3x3 that slide over it, ReLU keeps
their positive answers, max pooling halves the maps to 4x4; a second convolution
(32 filters over the 16 maps) and pooling leave 32 maps of 2x2, and one Linear
layer reads those 128 numbers as scores for the 10 classes. The layers make their
weights at the first call, from the shape of the input. Adam trains it for 15
epochs on batches of 32 (about ten seconds); on the 359 held-out digits it reads
more than 98% right.

The learned first-layer filters go to `step54_filters.png`, and what they answer
on one test digit (the feature maps after each convolution) to
`step54_feature_maps.png`. Without scikit-learn the step exits with 77.
"""

import os

# Matrices this small are slower on several BLAS threads than on one, on a busy machine.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import sys
import time
from pathlib import Path

import numpy as np

MISSING_DEPENDENCY = 77  # exit status for "an optional package is missing" (see steps/README.md)
try:
    import sklearn.datasets  # noqa: F401  (Digits reads its images from scikit-learn)
except ImportError:
    print(
        "step54.py needs scikit-learn for its bundled 8x8 digit images (nothing is downloaded).\n"
        "Install it with:  pip install scikit-learn   (or: pip install 'dezero_lite[digits]')",
        file=sys.stderr,
    )
    sys.exit(MISSING_DEPENDENCY)

import dezero_lite as dz  # noqa: E402
import dezero_lite.functions as F  # noqa: E402
import dezero_lite.layers as L  # noqa: E402
from dezero_lite.dataloaders import DataLoader  # noqa: E402
from dezero_lite.datasets import Digits  # noqa: E402
from dezero_lite.models import Model  # noqa: E402
from dezero_lite.optimizers import Adam  # noqa: E402

OUT = Path(os.environ.get("DEZERO_STEPS_OUT", Path(__file__).resolve().parent / "out"))
OUT.mkdir(parents=True, exist_ok=True)
EPOCHS = 15


class CNN(Model):
    def __init__(self):
        super().__init__()
        self.conv1 = L.Conv2d(16, kernel_size=3, pad=1)
        self.conv2 = L.Conv2d(32, kernel_size=3, pad=1)
        self.fc = L.Linear(10)

    def features(self, x):
        """The maps after each convolution and ReLU, and the pooled input of fc."""
        h1 = F.relu(self.conv1(x))  # (N, 16, 8, 8)
        h2 = F.relu(self.conv2(F.pooling(h1, 2, 2)))  # (N, 32, 4, 4)
        return h1, h2, F.pooling(h2, 2, 2)  # (N, 32, 2, 2)

    def forward(self, x):
        return self.fc(F.flatten(self.features(x)[2]))


def as_images(rows):
    return rows.reshape(-1, 1, 8, 8)  # Digits gives rows of 64 pixels


train_set, test_set = Digits(train=True), Digits(train=False)
test_x = as_images(test_set.data)
print(f"digits: {len(train_set)} to train on, {len(test_set)} held out, each an image (1, 8, 8)")

np.random.seed(0)  # first weights and the shuffling
model = CNN()
optimizer = Adam(alpha=0.002).setup(model)
loader = DataLoader(train_set, batch_size=32)
start = time.perf_counter()
for epoch in range(1, EPOCHS + 1):
    loss_sum = 0.0
    for x, t in loader:
        loss = F.softmax_cross_entropy(model(as_images(x)), t)
        model.cleargrads()
        loss.backward()
        optimizer.update()
        loss_sum += float(loss.data) * len(t)
    if epoch in (1, 5, 10, 15):
        with dz.no_grad():
            acc = float(np.mean(model(test_x).data.argmax(axis=1) == test_set.label))
        print(
            f"epoch {epoch:2d}: training loss {loss_sum / len(train_set):.4f}, test accuracy {acc:.3f}"
        )
seconds = time.perf_counter() - start
print(model)
print(f"{EPOCHS} epochs of {len(loader)} mini-batches in {seconds:.1f} s")

with dz.no_grad():
    guesses = model(test_x).data.argmax(axis=1)
    h1, h2, _ = model.features(test_x[:1])
test_acc = float(np.mean(guesses == test_set.label))
print(
    f"test accuracy {test_acc:.3f}: {int(np.sum(guesses != test_set.label))} of {len(test_set)} "
    f"digits misread, with {model.count_params()} weights"
)
filters = model.conv1.W.data[:, 0]  # (16, 3, 3)
print(f"conv1 learned {len(filters)} filters of 3x3; the first, rounded:")
for row in filters[0].round(2):
    print("  " + " ".join(f"{v:5.2f}" for v in row))


def plot(filters_png, maps_png):
    """Filters and feature maps; False when matplotlib is missing."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return False
    fig = Figure(figsize=(8, 2.3))
    for k, f in enumerate(filters):
        ax = fig.add_subplot(2, 8, k + 1)
        lim = np.abs(f).max()
        ax.imshow(f, cmap="bwr", vmin=-lim, vmax=lim)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("conv1's 16 learned 3x3 filters (red positive, blue negative)", fontsize=9)
    fig.savefig(filters_png, dpi=80)

    fig = Figure(figsize=(9, 5.2))
    ax = fig.add_subplot(4, 9, 1)
    ax.imshow(test_x[0, 0], cmap="gray_r")
    ax.set_title(f"digit {test_set.label[0]}", fontsize=8)
    ax.axis("off")
    for k in range(16):  # conv1's 16 maps of 8x8, then the first 16 of conv2's 32 maps of 4x4
        for maps, row, name in ((h1, 0, "conv1"), (h2, 2, "conv2")):
            ax = fig.add_subplot(4, 9, row * 9 + (k // 8) * 9 + k % 8 + 2)
            ax.imshow(maps.data[0, k], cmap="magma")
            ax.set_xticks([])
            ax.set_yticks([])
            if k == 0:
                ax.set_title(f"{name} + ReLU", fontsize=8, loc="left")
    fig.suptitle(
        "feature maps of one test digit: rows 1-2 conv1 (8x8), rows 3-4 conv2 (4x4)", fontsize=9
    )
    fig.savefig(maps_png, dpi=80)
    return True


filters_png, maps_png = OUT / "step54_filters.png", OUT / "step54_feature_maps.png"
if plot(filters_png, maps_png):
    print(f"pictures: {filters_png}, {maps_png}")
else:
    print("matplotlib is not installed, so no pictures (pip install matplotlib to get them)")
    filters_png = maps_png = None

assert len(train_set) == 1438 and len(test_set) == 359
assert test_acc >= 0.98  # measured 0.986 with seed 0
assert model.conv1.W.shape == (16, 1, 3, 3) and model.conv2.W.shape == (32, 16, 3, 3)
assert model.fc.W.shape == (128, 10) and h1.shape == (1, 16, 8, 8) and h2.shape == (1, 32, 4, 4)
assert (h1.data >= 0).all() and h1.data.max() > 0  # ReLU maps: some filter answers
if filters_png is not None:
    assert filters_png.read_bytes()[:8] == maps_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
