"""Step 50: dropout while training, and `test_mode()` to switch it off.

Builds on step 46 (an MLP learns the spiral). The new idea: `F.dropout(x, ratio)`
zeroes each element with probability `ratio` and multiplies the survivors by
1 / (1 - ratio), so that the expected value of every element is unchanged. A network
trained that way cannot lean on any single unit. Dropout is for training only: inside
`with dz.test_mode():` (which sets `dz.Config.train` to False) it passes x through
untouched, so predictions are deterministic.

The step measures this: on a vector of ones, the share zeroed and the mean; for a
Linear after dropout, the average of many training-mode outputs against the one
test-mode output (the same, in expectation); and an MLP with dropout trained on the
spiral, scored with dropout on (noisy, worse) and under test_mode.
"""

import time

import numpy as np

import dezero_lite as dz
import dezero_lite.functions as F
import dezero_lite.layers as L
from dezero_lite.dataloaders import DataLoader
from dezero_lite.datasets import Spiral
from dezero_lite.models import Model
from dezero_lite.optimizers import Adam

RATIO = 0.5
np.random.seed(0)

ones = np.ones(100_000, dtype=np.float32)
y = F.dropout(ones, RATIO).data
zeroed = float(np.mean(y == 0))
print(
    f"dropout({RATIO}) of 100,000 ones: {zeroed:.3f} zeroed, survivors are {y.max():.1f}, "
    f"mean {y.mean():.3f}"
)
with dz.test_mode():
    passed = F.dropout(ones, RATIO).data
print(
    f"under test_mode: the input unchanged ({bool(np.array_equal(passed, ones))}); "
    f"Config.train is {dz.Config.train} again outside the block"
)

fc = L.Linear(3, in_size=20)
x = np.random.rand(1, 20).astype(np.float32)
samples = np.stack([fc(F.dropout(x, RATIO)).data for _ in range(4000)])
with dz.test_mode():
    expected = fc(F.dropout(x, RATIO)).data
gap = float(np.abs(samples.mean(axis=0) - expected).max())
print(
    f"Linear after dropout: one training-mode output {np.round(samples[0].ravel(), 3)}, "
    f"the mean of 4000 {np.round(samples.mean(axis=0).ravel(), 3)}, "
    f"test mode {np.round(expected.ravel(), 3)}"
)


class DropoutMLP(Model):
    def __init__(self, hidden=100):
        super().__init__()
        self.l1, self.l2, self.l3 = L.Linear(hidden), L.Linear(hidden), L.Linear(3)

    def forward(self, x):
        x = F.dropout(F.relu(self.l1(x)), RATIO)
        x = F.dropout(F.relu(self.l2(x)), RATIO)
        return self.l3(x)


data, test = Spiral(train=True), Spiral(train=False)
model = DropoutMLP()
optimizer = Adam(alpha=0.01).setup(model)
start = time.perf_counter()
for _ in range(100):
    for xb, tb in DataLoader(data, batch_size=30):
        loss = F.softmax_cross_entropy(model(xb), tb)
        model.cleargrads()
        loss.backward()
        optimizer.update()
seconds = time.perf_counter() - start


def accuracy(xs, ts):
    return float(F.accuracy(model(xs), ts).data)


noisy = [accuracy(test.data, test.label) for _ in range(3)]
with dz.test_mode():
    clean = [accuracy(test.data, test.label) for _ in range(3)]
print(
    f"MLP with dropout after 100 epochs ({seconds:.2f} s), accuracy on a test spiral: "
    f"with dropout on {', '.join(f'{a:.3f}' for a in noisy)}; under test_mode "
    f"{', '.join(f'{a:.3f}' for a in clean)}"
)

assert abs(zeroed - RATIO) < 0.01 and y.max() == 2.0 and abs(y.mean() - 1) < 0.01
assert np.array_equal(passed, ones) and dz.Config.train
assert gap < 0.05  # dropout keeps the expected output
assert len(set(noisy)) > 1 and len(set(clean)) == 1  # noisy on, deterministic off
assert clean[0] > 0.9 and clean[0] > max(noisy)
