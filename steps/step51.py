"""Step 51: im2col turns a convolution into one matrix product.

Builds on step 47, whose network multiplies a batch of flat rows by a weight matrix.
An image is not a flat row: a convolution slides a small filter (3x3 here) over it
and, at each position, sums the window times the filter. `F.im2col` copies every
window the filter visits into one row of a matrix (with C*KH*KW columns), so that
the sums at all positions, for all filters, become one matrix product: the kind of
work NumPy does fastest. The result, reshaped, is `F.conv2d`'s output.

The price is memory: a pixel appears in every window that covers it, up to KH*KW
times. `F.col2im` adds the windows back into an image (the adjoint of im2col, used
by the backward pass); applied to im2col of an image of ones it counts those copies.
The picture `step51_im2col.png` shows an image, its rows and the counts.
"""

import os
from pathlib import Path

import numpy as np

import dezero_lite.functions as F

OUT = Path(os.environ.get("DEZERO_STEPS_OUT", Path(__file__).resolve().parent / "out"))
OUT.mkdir(parents=True, exist_ok=True)

# (N, C, H, W)
image = np.array([[3, 0, 1, 2], [1, 5, 2, 0], [0, 1, 4, 3], [2, 2, 0, 1]], dtype=np.float64)
image = image.reshape(1, 1, 4, 4)
# left column minus right column
filt = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=np.float64)

col = F.im2col(image, kernel_size=3, stride=1, pad=0).data
print("a 4x4 image and a 3x3 filter: the filter fits in 2x2 = 4 positions")
print(f"im2col gives one row per position, one column per pixel of a window: shape {col.shape}")
for i, row in enumerate(col):
    print(f"  window {divmod(i, 2)}: {row.astype(int).tolist()}")

by_matrix = (col @ filt.reshape(-1)).reshape(2, 2)
by_hand = np.array(
    [[(image[0, 0, r : r + 3, c : c + 3] * filt).sum() for c in range(2)] for r in range(2)]
)
by_conv = F.conv2d(image, filt.reshape(1, 1, 3, 3)).data[0, 0]
print(f"rows @ filter:       {by_matrix.tolist()}")
print(f"window * filter sum: {by_hand.tolist()}  (the definition, one window at a time)")
print(f"F.conv2d:            {by_conv.tolist()}")

# With channels and several filters: W (out, in, KH, KW) becomes a (in*KH*KW, out) matrix.
rng = np.random.default_rng(0)
x = rng.standard_normal((2, 3, 5, 5))
W = rng.standard_normal((4, 3, 3, 3))
rows = F.im2col(x, 3, stride=1, pad=1).data  # (2*5*5, 3*3*3)
y = (rows @ W.reshape(4, -1).T).reshape(2, 5, 5, 4).transpose(0, 3, 1, 2)
gap = np.abs(y - F.conv2d(x, W, stride=1, pad=1).data).max()
print(
    f"2 images of 3 channels, 4 filters, pad 1: rows {rows.shape} @ weights "
    f"{W.reshape(4, -1).T.shape} -> {y.shape}; largest difference from F.conv2d {gap:.1e}"
)

counts = F.col2im(F.im2col(np.ones((1, 1, 4, 4)), 3), (1, 1, 4, 4), 3).data[0, 0]
print("col2im(im2col(ones)) counts the windows that see each pixel:")
for line in counts.astype(int):
    print("  " + " ".join(str(v) for v in line))
h = w = 224
print(
    f"a 224x224 image of 64 channels and 3x3 filters (pad 1): im2col makes a "
    f"{h * w} x {64 * 9} matrix, {64 * 9 * h * w * 4 / 2**20:.0f} MiB in float32, 9 times the image"
)


def plot(path):
    """Image, rows and counts side by side; False when matplotlib is missing."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return False
    fig = Figure(figsize=(10, 2.6))
    grid = fig.add_gridspec(1, 3, width_ratios=[4, 9, 4])
    panels = [
        (image[0, 0], "the image (4x4)"),
        (col, "im2col: a row per window (4x9)"),
        (counts, "col2im(im2col(ones)): copies"),
    ]
    for k, (arr, title) in enumerate(panels):
        ax = fig.add_subplot(grid[k])
        ax.imshow(arr, cmap="Blues", vmin=0, vmax=max(arr.max(), 1) * 1.3)
        for (r, c), v in np.ndenumerate(arr):
            ax.text(c, r, f"{v:.0f}", ha="center", va="center", fontsize=9)
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks(range(arr.shape[0]) if k == 1 else [])
        if k == 1:
            ax.set_yticklabels([f"window {divmod(i, 2)}" for i in range(4)], fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    return True


png = OUT / "step51_im2col.png"
if plot(png):
    print(f"the picture: {png}")
else:
    print("matplotlib is not installed, so no picture (pip install matplotlib to get one)")
    png = None

assert col.shape == (4, 9) and col[0].tolist() == [3, 0, 1, 1, 5, 2, 0, 1, 4]
assert by_matrix.tolist() == by_hand.tolist() == by_conv.tolist() == [[-3.0, 1.0], [-3.0, 4.0]]
assert rows.shape == (50, 27) and gap < 1e-12
assert counts.tolist() == [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]]
if png is not None:
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
