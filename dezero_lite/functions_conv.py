"""Convolution and pooling: im2col/col2im, conv2d, deconv2d, max and average pooling.

Images are (N, C, H, W). A conv weight is (out, in, KH, KW), a deconv weight
(in, out, KH, KW), as in DeZero. im2col reads every window through a strided view
(no Python loop over output positions); col2im, its adjoint, adds the windows back
with one loop over the KH * KW kernel offsets. Every op differentiates again.
"""

from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided

from dezero_lite._typing import Pair, VariableLike
from dezero_lite.core import Config, Constant, Function, Variable
from dezero_lite.functions import (
    _input,
    _unbroadcast,
    broadcast_to,
    linear,
    max,
    reshape,
    sum,
    transpose,
)
from dezero_lite.utils import get_conv_outsize, get_deconv_outsize, pair

__all__ = [
    "Im2col",
    "im2col",
    "Col2im",
    "col2im",
    "Conv2d",
    "conv2d",
    "conv2d_simple",
    "Deconv2d",
    "deconv2d",
    "Conv2DGradW",
    "Pooling",
    "pooling",
    "pooling_simple",
    "Pooling2DGrad",
    "Pooling2DWithIndexes",
    "AveragePooling",
    "average_pooling",
]


def _check_images(op, x_shape):
    if len(x_shape) != 4:
        raise ValueError(
            f"{op} takes images of shape (N, C, H, W), got shape {tuple(x_shape)}; "
            f"a single image needs a batch axis: x[None]"
        )


def _geometry(op, x_shape, kernel_size, stride, pad):
    """((KH, KW), (SH, SW), (PH, PW), (OH, OW)) of a window sliding over x, or a ValueError."""
    _check_images(op, x_shape)
    k, s, p = pair(kernel_size, "kernel_size"), pair(stride, "stride"), pair(pad, "pad")
    if min(k) < 1 or min(s) < 1 or min(p) < 0:
        raise ValueError(
            f"{op}: kernel_size and stride must be at least 1 and pad at least 0, "
            f"got kernel_size={k}, stride={s}, pad={p}"
        )
    h, w = x_shape[2:]
    if h + 2 * p[0] < k[0] or w + 2 * p[1] < k[1]:
        raise ValueError(
            f"{op}: kernel {k} is larger than the padded image "
            f"({h + 2 * p[0]}, {w + 2 * p[1]}) of input shape {tuple(x_shape)} with pad {p}"
        )
    out = get_conv_outsize(h, k[0], s[0], p[0]), get_conv_outsize(w, k[1], s[1], p[1])
    return k, s, p, out


def _check_weight(op, x_shape, W_shape, in_axis):
    if len(W_shape) != 4:
        layout = "(out, in, KH, KW)" if in_axis == 1 else "(in, out, KH, KW)"
        raise ValueError(f"{op}: the weight must be 4-D {layout}, got shape {tuple(W_shape)}")
    if len(x_shape) == 4 and x_shape[1] != W_shape[in_axis]:
        raise ValueError(
            f"{op}: the input has {x_shape[1]} channels (shape {tuple(x_shape)}) but "
            f"the weight of shape {tuple(W_shape)} expects {W_shape[in_axis]}"
        )


def _check_bias(op, b, channels):
    if b is not None and b.shape != (channels,):
        raise ValueError(
            f"{op}: the bias must have shape ({channels},), one per output channel, got {b.shape}"
        )


def _nhwc(x, p, fill=0):
    """x (N, C, H, W) padded by p as an (N, H + 2 ph, W + 2 pw, C) array.

    Channels last is the fast order for windows (each row of a window is one run
    of memory); without padding this is a view, free when x is laid out so already,
    as every output of conv2d and pooling is."""
    xt = x.transpose(0, 2, 3, 1)
    if not (p[0] or p[1]):
        return xt
    n, h, w, c = xt.shape
    out = np.full((n, h + 2 * p[0], w + 2 * p[1], c), fill, dtype=x.dtype)
    out[:, p[0] : p[0] + h, p[1] : p[1] + w] = xt
    return out


def _windows(x, k, s, p, fill=0):
    """A read-only view (N, OH, OW, KH, KW, C) of every window of x padded with fill."""
    xp = _nhwc(x, p, fill)
    n, h, w, c = xp.shape
    oh, ow = (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1
    sn, sh, sw, sc = xp.strides
    return as_strided(
        xp, (n, oh, ow) + tuple(k) + (c,), (sn, sh * s[0], sw * s[1], sh, sw, sc), writeable=False
    )


def _rows(x, k, s, p):
    """Every window of x as a row of a matrix (N*OH*OW, KH*KW*C), channels innermost."""
    win = _windows(x, k, s, p)  # (sizes spelled out: -1 is ambiguous when a batch is empty)
    return win.reshape(int(np.prod(win.shape[:3])), int(np.prod(win.shape[3:])))


def _unrows(rows, x_shape, k, s, p, out):
    """The adjoint of _rows: each window added back where it was read; an (N, C, H, W) view."""
    n, c, h, w = x_shape
    (kh, kw), (sh, sw), (oh, ow) = k, s, out
    rows = rows.reshape(n, oh, ow, kh, kw, c)
    img = np.zeros((n, h + 2 * p[0], w + 2 * p[1], c), dtype=rows.dtype)
    for i in range(kh):  # a loop over kernel offsets; every output position at once
        for j in range(kw):
            img[:, i : i + sh * oh : sh, j : j + sw * ow : sw] += rows[:, :, :, i, j]
    return img[:, p[0] : p[0] + h, p[1] : p[1] + w].transpose(0, 3, 1, 2)


def _im2col_array(x, k, s, p, to_matrix):
    """DeZero's layouts: rows (N*OH*OW, C*KH*KW) (to_matrix), or (N, C, KH, KW, OH, OW)."""
    win = _windows(x, k, s, p)
    # np.array copies: the result never shares memory with x
    if to_matrix:
        return np.array(win.transpose(0, 1, 2, 5, 3, 4)).reshape(
            int(np.prod(win.shape[:3])), int(np.prod(win.shape[3:]))
        )
    return np.array(win.transpose(0, 5, 3, 4, 1, 2))


def _col2im_array(col, x_shape, k, s, p, out, to_matrix):
    """The adjoint of _im2col_array."""
    n, c = x_shape[:2]
    if to_matrix:
        col = col.reshape(n, out[0], out[1], c, k[0], k[1]).transpose(0, 1, 2, 4, 5, 3)
    else:
        col = col.transpose(0, 4, 5, 2, 3, 1)
    return _unrows(col, x_shape, k, s, p, out)


def _col_shape(op, col_shape, x_shape, k, out, to_matrix):
    n, c = x_shape[:2]
    want = (n * out[0] * out[1], c * k[0] * k[1]) if to_matrix else (n, c) + tuple(k) + tuple(out)
    if tuple(col_shape) != want:
        raise ValueError(
            f"{op}: columns of shape {tuple(col_shape)} do not fit an image of "
            f"shape {tuple(x_shape)} with kernel {k}: expected {want}"
        )


def _weight_rows(W, deconv=False):
    """W as the matrix that _rows multiplies: (KH*KW*in, out)."""
    if deconv:  # (in, out, KH, KW) -> (in, KH*KW*out), the transposed product
        return W.transpose(0, 2, 3, 1).reshape(len(W), int(np.prod(W.shape[1:])))
    return W.transpose(2, 3, 1, 0).reshape(int(np.prod(W.shape[1:])), len(W))


# im2col and col2im


class Im2col(Function):
    def __init__(self, kernel_size, stride, pad, to_matrix):
        self.kernel_size, self.stride, self.pad, self.to_matrix = (
            kernel_size,
            stride,
            pad,
            to_matrix,
        )

    def forward(self, x):
        k, s, p, _ = _geometry("im2col", x.shape, self.kernel_size, self.stride, self.pad)
        self.input_shape = x.shape
        return _im2col_array(x, k, s, p, self.to_matrix)

    def backward(self, gy):
        if type(self.inputs[0]) is Constant:
            return None
        return col2im(gy, self.input_shape, self.kernel_size, self.stride, self.pad, self.to_matrix)


def im2col(
    x: VariableLike, kernel_size: Pair, stride: Pair = 1, pad: Pair = 0, to_matrix: bool = True
) -> Variable:
    """every KHxKW window of x (N, C, H, W) as a row (N*OH*OW, C*KH*KW), or as (N, C, KH, KW, OH, OW)"""
    return Im2col(kernel_size, stride, pad, to_matrix)(x)


class Col2im(Function):
    def __init__(self, input_shape, kernel_size, stride, pad, to_matrix):
        self.input_shape = tuple(input_shape)
        self.kernel_size, self.stride, self.pad, self.to_matrix = (
            kernel_size,
            stride,
            pad,
            to_matrix,
        )

    def forward(self, col):
        k, s, p, out = _geometry(
            "col2im", self.input_shape, self.kernel_size, self.stride, self.pad
        )
        _col_shape("col2im", col.shape, self.input_shape, k, out, self.to_matrix)
        return _col2im_array(col, self.input_shape, k, s, p, out, self.to_matrix)

    def backward(self, gy):
        if type(self.inputs[0]) is Constant:
            return None
        return im2col(gy, self.kernel_size, self.stride, self.pad, self.to_matrix)


def col2im(
    x: VariableLike,
    input_shape: Sequence[int],
    kernel_size: Pair,
    stride: Pair = 1,
    pad: Pair = 0,
    to_matrix: bool = True,
) -> Variable:
    """the adjoint of im2col: windows added back into an image of input_shape"""
    return Col2im(input_shape, kernel_size, stride, pad, to_matrix)(x)


# Convolution


class Conv2d(Function):
    def __init__(self, stride=1, pad=0):
        self.stride, self.pad = pair(stride, "stride"), pair(pad, "pad")

    def forward(self, x, W, b=None):
        _check_weight("conv2d", x.shape, W.shape, in_axis=1)
        k, s, p, (oh, ow) = _geometry("conv2d", x.shape, W.shape[2:], self.stride, self.pad)
        _check_bias("conv2d", b, W.shape[0])
        rows = _rows(x, k, s, p)
        y = rows @ _weight_rows(W)  # (N*OH*OW, OC): one product for the whole batch
        # The gradient of W needs these rows again: keep them for backward when one will run.
        self._rows = rows if Config.enable_backprop else None
        if b is not None:
            y = y.__iadd__(b) if b.dtype == y.dtype else y + b
        return y.reshape(len(x), oh, ow, len(W)).transpose(0, 3, 1, 2)

    def backward(self, gy):
        x, W = self.inputs[:2]
        # A Constant (the batch of images) needs no gradient: skip its col2im.
        gx = (
            None
            if type(x) is Constant
            else deconv2d(gy, W, None, self.stride, self.pad, x.shape[2:])
        )
        rows, self._rows = self._rows, None  # (a second backward computes them again)
        gW = (
            None
            if type(W) is Constant
            else Conv2DGradW(W.shape[2:], self.stride, self.pad, rows)(x, gy)
        )
        if len(self.inputs) == 2:
            return _unbroadcast(self, gx, gW)  # (each in its input's dtype)
        gb = None if type(self.inputs[2]) is Constant else sum(gy, axis=(0, 2, 3))
        return _unbroadcast(self, gx, gW, gb)


def conv2d(
    x: VariableLike, W: VariableLike, b: VariableLike | None = None, stride: Pair = 1, pad: Pair = 0
) -> Variable:
    """y[n, o] = sum over c, i, j of W[o, c, i, j] * x_padded[n, c, s*h + i, s*w + j] + b[o]"""
    return Conv2d(stride, pad)(x, W) if b is None else Conv2d(stride, pad)(x, W, b)


class Deconv2d(Function):
    def __init__(self, stride=1, pad=0, outsize=None):
        self.stride, self.pad = pair(stride, "stride"), pair(pad, "pad")
        self.outsize = None if outsize is None else pair(outsize, "outsize")

    def forward(self, x, W, b=None):
        _check_images("deconv2d", x.shape)
        _check_weight("deconv2d", x.shape, W.shape, in_axis=0)
        n, c, h, w = x.shape
        k, s, p = W.shape[2:], self.stride, self.pad
        if min(s) < 1 or min(p) < 0:
            raise ValueError(
                f"deconv2d: stride must be at least 1 and pad at least 0, got stride={s}, pad={p}"
            )
        if self.outsize is None and min(h, w) < 1:
            raise ValueError(
                f"deconv2d: input of shape {x.shape} has an empty image (H or W is "
                f"0); give outsize to say what size the output should have"
            )
        out = self.outsize or (
            get_deconv_outsize(h, k[0], s[0], p[0]),
            get_deconv_outsize(w, k[1], s[1], p[1]),
        )
        # (an empty output is fine only when asked for: conv2d's gradient for an empty image)
        if min(out) < (0 if self.outsize else 1) or (
            get_conv_outsize(out[0], k[0], s[0], p[0]),
            get_conv_outsize(out[1], k[1], s[1], p[1]),
        ) != (h, w):
            raise ValueError(
                f"deconv2d: an output of size {out} does not match an input of "
                f"size {(h, w)} with kernel {k}, stride {s} and pad {p} (a conv2d "
                f"of the output must give back the input's size)"
            )
        oc = W.shape[1]
        _check_bias("deconv2d", b, oc)
        rows = x.transpose(0, 2, 3, 1).reshape(n * h * w, c) @ _weight_rows(W, deconv=True)
        y = _unrows(rows, (n, oc) + tuple(out), k, s, p, (h, w))
        return y if b is None else y + b.reshape(1, oc, 1, 1)

    def backward(self, gy):
        x, W = self.inputs[:2]
        gx = None if type(x) is Constant else conv2d(gy, W, None, self.stride, self.pad)
        gW = None if type(W) is Constant else Conv2DGradW(W.shape[2:], self.stride, self.pad)(gy, x)
        if len(self.inputs) == 2:
            return _unbroadcast(self, gx, gW)  # (each in its input's dtype)
        gb = None if type(self.inputs[2]) is Constant else sum(gy, axis=(0, 2, 3))
        return _unbroadcast(self, gx, gW, gb)


def deconv2d(
    x: VariableLike,
    W: VariableLike,
    b: VariableLike | None = None,
    stride: Pair = 1,
    pad: Pair = 0,
    outsize: Pair | None = None,
) -> Variable:
    """the transposed convolution (the adjoint of conv2d in x); W is (in, out, KH, KW)"""
    f = Deconv2d(stride, pad, outsize)
    return f(x, W) if b is None else f(x, W, b)


class Conv2DGradW(Function):
    """The gradient of conv2d's weight: gW[o, c, i, j] = sum of gy[n, o] * windows of x."""

    def __init__(self, kernel_size, stride, pad, rows=None):
        self.kernel_size, self.stride, self.pad = pair(kernel_size), pair(stride), pair(pad)
        self.rows = rows  # _rows(x) if the forward pass kept them

    def forward(self, x, gy):
        k, s, p, _ = _geometry("conv2d", x.shape, self.kernel_size, self.stride, self.pad)
        rows, self.rows = (_rows(x, k, s, p) if self.rows is None else self.rows), None
        oc = gy.shape[1]
        gW = gy.transpose(0, 2, 3, 1).reshape(len(rows), oc).T @ rows
        return np.ascontiguousarray(gW.reshape((oc,) + k + (x.shape[1],)).transpose(0, 3, 1, 2))

    def backward(self, ggW):
        x, gy = self.inputs
        # gW is bilinear in (x, gy): <gW(x, gy), V> = <gy, conv2d(x, V)>
        gx = (
            None
            if type(x) is Constant
            else deconv2d(gy, ggW, None, self.stride, self.pad, x.shape[2:])
        )
        ggy = None if type(gy) is Constant else conv2d(x, ggW, None, self.stride, self.pad)
        return gx, ggy


def conv2d_simple(
    x: VariableLike, W: VariableLike, b: VariableLike | None = None, stride: Pair = 1, pad: Pair = 0
) -> Variable:
    """conv2d the long way round: im2col, then one matrix product (linear), then reshape"""
    x, W = _input(x), _input(W)
    _check_weight("conv2d_simple", x.shape, W.shape, in_axis=1)
    k, _, _, (oh, ow) = _geometry("conv2d_simple", x.shape, W.shape[2:], stride, pad)
    oc = W.shape[0]
    col = im2col(x, k, stride, pad, to_matrix=True)
    y = linear(col, transpose(reshape(W, (oc, -1))), b)
    return transpose(reshape(y, (x.shape[0], oh, ow, oc)), (0, 3, 1, 2))


# Pooling


def _lowest(dtype):
    """The fill for max pooling's padding: nothing in the image is below it."""
    return -np.inf if dtype.kind == "f" else False if dtype.kind == "b" else np.iinfo(dtype).min


def _pool_geometry(op, x_shape, kernel_size, stride, pad):
    k, s, p, out = _geometry(op, x_shape, kernel_size, stride, pad)
    if p[0] >= k[0] or p[1] >= k[1]:
        raise ValueError(
            f"{op}: pad {p} must be smaller than kernel_size {k}, or a window "
            f"could hold nothing but padding"
        )
    return k, s, p, out


def _offsets(k, s, out):
    """(t, (row slice, column slice)) for each kernel offset t: the elements at that offset
    of every window, as slices of the padded image."""
    for t in range(k[0] * k[1]):
        i, j = divmod(t, k[1])
        yield t, (slice(i, i + s[0] * out[0], s[0]), slice(j, j + s[1] * out[1], s[1]))


class Pooling(Function):
    """Max pooling; the padding is -inf, so a window never picks it."""

    def __init__(self, kernel_size, stride=1, pad=0):
        self.kernel_size, self.stride, self.pad = kernel_size, stride, pad

    def forward(self, x):
        k, s, p, out = _pool_geometry("pooling", x.shape, self.kernel_size, self.stride, self.pad)
        xp = _nhwc(x, p, fill=_lowest(x.dtype))
        # One pass per kernel offset over all windows at once; > keeps the first of ties.
        y = indexes = None
        for t, (rows, cols) in _offsets(k, s, out):
            v = xp[:, rows, cols]
            if y is None:
                y = v.copy()
                indexes = np.zeros(v.shape, np.intp if k[0] * k[1] > 127 else np.int8)
            else:
                better = v > y
                np.maximum(y, v, out=y)
                indexes += better * (indexes.dtype.type(t) - indexes)  # (faster than copyto where=)
        self.picked = indexes, (k, s, p, out), x.shape  # which offset each window took
        return y.transpose(0, 3, 1, 2)

    def backward(self, gy):
        return None if type(self.inputs[0]) is Constant else Pooling2DGrad(self)(gy)


class Pooling2DGrad(Function):
    """Sends each output's gradient to the input element its window picked."""

    def __init__(self, mpool2d):
        self.picked = mpool2d.picked

    def forward(self, gy):
        indexes, (k, s, p, out), (n, c, h, w) = self.picked
        gy = gy.transpose(0, 2, 3, 1)
        gx = np.zeros((n, h + 2 * p[0], w + 2 * p[1], c), dtype=gy.dtype)
        overlap = s[0] < k[0] or s[1] < k[1]
        for t, (rows, cols) in _offsets(k, s, out):
            if overlap:  # an element may be picked by several windows: add them all up
                gx[:, rows, cols] += gy * (indexes == t)
            else:
                np.multiply(gy, indexes == t, out=gx[:, rows, cols])
        return gx[:, p[0] : p[0] + h, p[1] : p[1] + w].transpose(0, 3, 1, 2)

    def backward(self, ggx):
        return Pooling2DWithIndexes(self)(ggx)


class Pooling2DWithIndexes(Function):
    """Reads x where a max pooling picked (the adjoint of Pooling2DGrad)."""

    def __init__(self, mpool2d):
        self.picked = mpool2d.picked

    def forward(self, x):
        indexes, (k, s, p, out), _ = self.picked
        xp = _nhwc(x, p)
        y = np.zeros(indexes.shape, dtype=x.dtype)
        for t, (rows, cols) in _offsets(k, s, out):
            np.copyto(y, xp[:, rows, cols], where=indexes == t)
        return y.transpose(0, 3, 1, 2)

    def backward(self, gy):
        return Pooling2DGrad(self)(gy)


def pooling(x: VariableLike, kernel_size: Pair, stride: Pair = 1, pad: Pair = 0) -> Variable:
    """max over each window; padded positions are never picked"""
    return Pooling(kernel_size, stride, pad)(x)


def pooling_simple(x: VariableLike, kernel_size: Pair, stride: Pair = 1, pad: Pair = 0) -> Variable:
    """max pooling the long way round: im2col, then max over each row of a window"""
    x = _input(x)
    k, _, p, (oh, ow) = _pool_geometry("pooling_simple", x.shape, kernel_size, stride, pad)
    n, c = x.shape[:2]
    col = im2col(x, k, stride, pad, to_matrix=True)
    if p != (0, 0):  # im2col pads with 0: push padded positions down to -inf
        real = _im2col_array(np.ones((1,) + x.shape[1:], x.dtype), k, pair(stride), p, True)
        col = col + np.tile(np.where(real > 0, 0, _lowest(x.dtype)).astype(x.dtype), (n, 1))
    y = max(reshape(col, (-1, k[0] * k[1])), axis=1)
    return transpose(reshape(y, (n, oh, ow, c)), (0, 3, 1, 2))


class AveragePooling(Function):
    """Mean over each window; padded positions count as zeros (the window size is fixed)."""

    def __init__(self, kernel_size, stride=1, pad=0):
        self.kernel_size, self.stride, self.pad = kernel_size, stride, pad

    def forward(self, x):
        k, s, p, _ = _geometry("average_pooling", x.shape, self.kernel_size, self.stride, self.pad)
        self.input_shape = x.shape
        y = _windows(x, k, s, p).mean(axis=(3, 4), dtype=x.dtype if x.dtype.kind == "f" else None)
        return y.transpose(0, 3, 1, 2)

    def backward(self, gy):
        if type(self.inputs[0]) is Constant:
            return None
        kh, kw = pair(self.kernel_size)
        n, c, oh, ow = gy.shape
        gcol = broadcast_to(reshape(gy / (kh * kw), (n, c, 1, 1, oh, ow)), (n, c, kh, kw, oh, ow))
        return col2im(
            gcol, self.input_shape, self.kernel_size, self.stride, self.pad, to_matrix=False
        )


def average_pooling(
    x: VariableLike, kernel_size: Pair, stride: Pair = 1, pad: Pair = 0
) -> Variable:
    """mean over each window (padding counts as zeros)"""
    return AveragePooling(kernel_size, stride, pad)(x)


def im2col_array(
    img: np.ndarray, kernel_size: Pair, stride: Pair, pad: Pair, to_matrix: bool = True
) -> np.ndarray:
    """im2col on a plain ndarray (DeZero's helper): no Variable, no graph."""
    k, s, p, _ = _geometry("im2col_array", img.shape, kernel_size, stride, pad)
    return _im2col_array(img, k, s, p, to_matrix)


def col2im_array(
    col: np.ndarray,
    img_shape: Sequence[int],
    kernel_size: Pair,
    stride: Pair,
    pad: Pair,
    to_matrix: bool = True,
) -> np.ndarray:
    """col2im on a plain ndarray (DeZero's helper): no Variable, no graph."""
    k, s, p, out = _geometry("col2im_array", img_shape, kernel_size, stride, pad)
    _col_shape("col2im_array", col.shape, img_shape, k, out, to_matrix)
    return np.ascontiguousarray(_col2im_array(col, tuple(img_shape), k, s, p, out, to_matrix))
