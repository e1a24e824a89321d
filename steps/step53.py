"""Step 53: pooling, and what it keeps.

Builds on step 52 (a filter's answer is a map of where its pattern is). Pooling
shrinks such a map: `F.pooling` (max pooling) keeps the largest value of each
window, `F.average_pooling` the mean. Neither has weights to learn. Max pooling
keeps *that* a pattern was found somewhere in a window and forgets exactly where:
moving the picture by a pixel inside a window leaves its output unchanged. Its
gradient goes only to the element each window picked; the others get 0.

Padding for max pooling must never win: dezero_lite pads with -inf, so a window of
negative numbers at the border still answers its largest number, where padding with
zeros (as DeZero does) would answer 0, a value that is not in the image.
`step53_pooling.png` shows a feature map before and after both poolings.
"""

import os
from pathlib import Path

import numpy as np

import dezero_lite as dz
import dezero_lite.functions as F

OUT = Path(os.environ.get("DEZERO_STEPS_OUT", Path(__file__).resolve().parent / "out"))
OUT.mkdir(parents=True, exist_ok=True)

x = np.array([[1, 3, 2, 1], [4, 2, 0, 1], [3, 1, 1, 0], [0, 2, 5, 2]], dtype=np.float64).reshape(
    1, 1, 4, 4
)
v = dz.Variable(x)
y_max = F.pooling(v, kernel_size=2, stride=2)
y_avg = F.average_pooling(x, kernel_size=2, stride=2)
print("a 4x4 map in four 2x2 windows:")
print(f"  max pooling:     {y_max.data[0, 0].tolist()}")
print(f"  average pooling: {y_avg.data[0, 0].tolist()}")
F.sum(y_max).backward()
print("gradient of the sum of the max pooling: 1 where a window picked, 0 elsewhere")
for row in v.grad.data[0, 0].astype(int):
    print("  " + " ".join(str(g) for g in row))

# Moving a pattern inside its window changes nothing after max pooling.
rng = np.random.default_rng(0)
dots = np.zeros((1, 1, 8, 8))
dots[0, 0, 2 * rng.integers(0, 4, 6), 2 * rng.integers(0, 4, 6)] = 1.0  # a few dots at even places
moved = np.roll(dots, shift=(1, 1), axis=(2, 3))  # one pixel down and right
same_max = np.array_equal(F.pooling(dots, 2, 2).data, F.pooling(moved, 2, 2).data)
same_map = np.array_equal(dots, moved)
print(
    f"dots moved by one pixel (inside their 2x2 windows): maps equal {same_map}, "
    f"after max pooling equal {same_max}"
)

# Padding never wins: a border window of negative numbers.
neg = -1.0 - rng.uniform(0, 1, (1, 1, 4, 4))
ours = F.pooling(neg, kernel_size=2, stride=2, pad=1).data[0, 0]
zero_padded = np.pad(neg[0, 0], 1)  # what padding with zeros gives
zeros_way = zero_padded.reshape(3, 2, 3, 2).max(axis=(1, 3))
print(
    f"all values between -2 and -1, 2x2 windows, pad 1: F.pooling gives values from "
    f"{ours.min():.3f} to {ours.max():.3f}; padding with zeros would answer 0 in "
    f"{int((zeros_way == 0).sum())} of the 9 windows"
)

# On a feature map: the edges of step 52, halved in size.
picture = np.zeros((1, 1, 12, 12))
picture[0, 0, 3:9, 2:10] = 1.0
edges = np.abs(F.conv2d(picture, np.array([[1.0, 0, -1]] * 3).reshape(1, 1, 3, 3), pad=1).data)
pooled_max, pooled_avg = F.pooling(edges, 2, 2).data, F.average_pooling(edges, 2, 2).data
print(
    f"an edge map {edges.shape[2:]} -> {pooled_max.shape[2:]}: the strongest answer stays "
    f"{edges.max():.0f} with max pooling, drops to {pooled_avg.max():.1f} with average pooling"
)


def plot(path):
    """The edge map and both poolings; False when matplotlib is missing."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return False
    fig = Figure(figsize=(9, 3))
    panels = [
        (edges, "edge map (12x12)"),
        (pooled_max, "max pooling 2x2 (6x6)"),
        (pooled_avg, "average pooling 2x2 (6x6)"),
    ]
    for k, (arr, title) in enumerate(panels):
        ax = fig.add_subplot(1, 3, k + 1)
        ax.imshow(arr[0, 0], cmap="magma", vmin=0, vmax=edges.max())
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    return True


png = OUT / "step53_pooling.png"
if plot(png):
    print(f"the picture: {png}")
else:
    print("matplotlib is not installed, so no picture (pip install matplotlib to get one)")
    png = None

assert y_max.data[0, 0].tolist() == [[4, 2], [3, 5]]
assert y_avg.data[0, 0].tolist() == [[2.5, 1.0], [1.5, 2.0]]
assert v.grad.data.sum() == 4 and v.grad.data[0, 0, 1, 0] == 1 and v.grad.data[0, 0, 3, 2] == 1
assert same_max and not same_map
assert ours.max() < -1 and (zeros_way == 0).sum() == 8  # all but the middle window
assert pooled_max.shape == (1, 1, 6, 6) and pooled_max.max() == edges.max() == 3
assert pooled_avg.max() < pooled_max.max()
if png is not None:
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
