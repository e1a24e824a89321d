"""Step 52: convolution by hand, against F.conv2d, and what a filter finds.

Builds on step 51 (im2col and one matrix product). Here the convolution is written
the slow way, straight from its definition: for every image, filter and output
position, the sum of a window times the filter, plus the filter's bias. Stride moves
the window by more than one pixel; padding puts zeros around the image; the output
is (H + 2*pad - KH) // stride + 1 pixels high. `F.conv2d` gives the same numbers,
much faster, and its backward pass gives the gradients of the image, the filters and
the bias (checked against numerical ones).

A filter is a pattern detector: the filter [1, 0, -1] (in each of 3 rows) takes the
column right of a pixel from the column left of it, so on a bright rectangle it
answers -3 along the left edge (dark to bright), +3 along the right edge and 0 where
the picture is flat. (Like every deep learning library, conv2d does not flip the
filter.) `step52_edges.png` shows the picture, the filter and its answer.
"""

import os
import time
from pathlib import Path

import numpy as np

import dezero_lite as dz
import dezero_lite.functions as F
from dezero_lite.utils import get_conv_outsize, gradient_check

OUT = Path(os.environ.get("DEZERO_STEPS_OUT", Path(__file__).resolve().parent / "out"))
OUT.mkdir(parents=True, exist_ok=True)


def conv_by_hand(x, W, b, stride, pad):
    """y[n, o, i, j] = sum(window of x at (i, j) * W[o]) + b[o], one output at a time."""
    n, c, h, w = x.shape
    oc, _, kh, kw = W.shape
    oh, ow = (h + 2 * pad - kh) // stride + 1, (w + 2 * pad - kw) // stride + 1
    padded = np.zeros((n, c, h + 2 * pad, w + 2 * pad))
    padded[:, :, pad : pad + h, pad : pad + w] = x
    y = np.zeros((n, oc, oh, ow))
    for i in range(n):
        for o in range(oc):
            for r in range(oh):
                for s in range(ow):
                    window = padded[
                        i, :, r * stride : r * stride + kh, s * stride : s * stride + kw
                    ]
                    y[i, o, r, s] = (window * W[o]).sum() + b[o]
    return y


rng = np.random.default_rng(0)
x = rng.standard_normal((2, 3, 7, 7))  # 2 images, 3 channels, 7x7
W = rng.standard_normal((4, 3, 3, 3))  # 4 filters of shape (3, 3, 3): (out, in, KH, KW)
b = rng.standard_normal(4)
for stride, pad in ((1, 0), (1, 1), (2, 1)):
    y = F.conv2d(x, W, b, stride=stride, pad=pad).data
    gap = np.abs(y - conv_by_hand(x, W, b, stride, pad)).max()
    print(
        f"stride {stride}, pad {pad}: output {y.shape}, (7 + 2*{pad} - 3) // {stride} + 1 = "
        f"{get_conv_outsize(7, 3, stride, pad)}; largest difference from the loops {gap:.1e}"
    )
    assert y.shape[2] == get_conv_outsize(7, 3, stride, pad) and gap < 1e-12

big_x, big_W = rng.standard_normal((4, 3, 28, 28)), rng.standard_normal((16, 3, 3, 3))
start = time.perf_counter()
conv_by_hand(big_x, big_W, np.zeros(16), 1, 1)
loops = time.perf_counter() - start
start = time.perf_counter()
F.conv2d(big_x, big_W, pad=1)
fast = time.perf_counter() - start
print(
    f"4 images 28x28, 16 filters: loops {loops:.2f} s, F.conv2d {fast * 1000:.1f} ms "
    f"(about {loops / fast:.0f} times faster on this run)"
)

# Gradients: of the image, the filters and the bias, checked against central differences.
xs, Ws, bs = (
    rng.standard_normal((1, 2, 5, 5)),
    rng.standard_normal((3, 2, 3, 3)),
    rng.standard_normal(3),
)
checks = {
    "image": gradient_check(lambda v: F.conv2d(v, Ws, bs, 2, 1), xs),
    "filters": gradient_check(lambda v: F.conv2d(xs, v, bs, 2, 1), Ws),
    "bias": gradient_check(lambda v: F.conv2d(xs, Ws, v, 2, 1), bs),
}
print(
    "backward against numerical gradients: "
    + ", ".join(f"{k} {'ok' if v else 'WRONG'}" for k, v in checks.items())
)

# A filter finds a pattern: a vertical edge.
picture = np.zeros((1, 1, 10, 10))
picture[0, 0, 2:8, 3:7] = 1.0  # a bright 6x4 rectangle on black
edge = np.array([[1, 0, -1]] * 3, dtype=np.float64).reshape(1, 1, 3, 3)
answer = F.conv2d(dz.Variable(picture), edge, pad=1).data[0, 0]
print("vertical-edge filter [[1, 0, -1]] * 3 on a bright rectangle (rows 2-7, columns 3-6):")
for row in answer.astype(int):
    print("  " + " ".join(f"{v:2d}" for v in row))


def plot(path):
    """The picture, the filter and the feature map; False when matplotlib is missing."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return False
    fig = Figure(figsize=(9, 3))
    panels = [
        (picture[0, 0], "the picture", "gray"),
        (edge[0, 0], "the filter", "bwr"),
        (answer, "F.conv2d: its answer", "bwr"),
    ]
    for k, (arr, title, cmap) in enumerate(panels):
        ax = fig.add_subplot(1, 3, k + 1)
        lim = np.abs(arr).max()
        im = ax.imshow(arr, cmap=cmap, vmin=-lim if cmap == "bwr" else 0, vmax=lim)
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])  # (the frame stays: white is 0 in the maps)
        fig.colorbar(im, ax=ax, shrink=0.8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    return True


png = OUT / "step52_edges.png"
if plot(png):
    print(f"the picture: {png}")
else:
    print("matplotlib is not installed, so no picture (pip install matplotlib to get one)")
    png = None

assert all(checks.values())
assert answer[4, 2] == -3 and answer[4, 7] == 3  # left edge -3, right edge +3
assert answer[4, 4] == 0 and answer[0, 0] == 0  # flat inside and outside
assert answer[2, 2] == -2 and answer[1, 2] == -1  # near the corners the window sees less edge
if png is not None:
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
