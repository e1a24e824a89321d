"""Convolution and pooling against plain loops over output positions (no im2col in the
references), gradients against numerical ones (first and second order, random upstream
gradients), the im2col/col2im adjoint identity, padding that max pooling never picks,
float32, Constants that cost no col2im, and the errors for bad shapes and arguments."""

import numpy as np
import pytest

import dezero_lite as dz
import dezero_lite.functions as F
import dezero_lite.functions_conv as C
from dezero_lite.utils import get_conv_outsize, get_deconv_outsize, gradient_check, pair

rng = np.random.default_rng(7)


def randn(*shape):
    return rng.standard_normal(shape)


def distinct(*shape):
    """Values at least 0.05 apart, so that no max pooling window has a near tie."""
    return (rng.permutation(int(np.prod(shape))) * 0.05 - 1.0).reshape(shape)


# References: loops over output positions, written from the definitions.


def conv_ref(x, W, b=None, stride=1, pad=0):
    (sh, sw), (ph, pw) = pair(stride), pair(pad)
    n, c, h, w = x.shape
    oc, _, kh, kw = W.shape
    xp = np.zeros((n, c, h + 2 * ph, w + 2 * pw))
    xp[:, :, ph : ph + h, pw : pw + w] = x
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    y = np.zeros((n, oc, oh, ow))
    for i in range(n):
        for o in range(oc):
            for r in range(oh):
                for s in range(ow):
                    patch = xp[i, :, r * sh : r * sh + kh, s * sw : s * sw + kw]
                    y[i, o, r, s] = (patch * W[o]).sum() + (0 if b is None else b[o])
    return y


def deconv_ref(x, W, b=None, stride=1, pad=0, outsize=None):
    """Each input pixel stamps its weighted kernel into the (padded) output."""
    (sh, sw), (ph, pw) = pair(stride), pair(pad)
    n, c, h, w = x.shape
    _, oc, kh, kw = W.shape
    out_h, out_w = outsize or (sh * (h - 1) + kh - 2 * ph, sw * (w - 1) + kw - 2 * pw)
    y = np.zeros((n, oc, out_h + 2 * ph, out_w + 2 * pw))
    for i in range(n):
        for ci in range(c):
            for r in range(h):
                for s in range(w):
                    y[i, :, r * sh : r * sh + kh, s * sw : s * sw + kw] += x[i, ci, r, s] * W[ci]
    y = y[:, :, ph : ph + out_h, pw : pw + out_w]
    return y if b is None else y + b.reshape(1, -1, 1, 1)


def _pool_ref(x, kernel_size, stride, pad, reduce):
    """reduce(window of real pixels, window size) at each output position."""
    (kh, kw), (sh, sw), (ph, pw) = pair(kernel_size), pair(stride), pair(pad)
    n, c, h, w = x.shape
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    y = np.zeros((n, c, oh, ow))
    for i in range(n):
        for ch in range(c):
            for r in range(oh):
                for s in range(ow):
                    top, left = r * sh - ph, s * sw - pw
                    window = x[
                        i, ch, builtins_max(top, 0) : top + kh, builtins_max(left, 0) : left + kw
                    ]
                    y[i, ch, r, s] = reduce(window, kh * kw)
    return y


builtins_max = max


def maxpool_ref(x, kernel_size, stride=1, pad=0):
    return _pool_ref(x, kernel_size, stride, pad, lambda win, size: win.max())


def avgpool_ref(x, kernel_size, stride=1, pad=0):
    return _pool_ref(x, kernel_size, stride, pad, lambda win, size: win.sum() / size)


def im2col_ref(x, kernel_size, stride=1, pad=0, to_matrix=True):
    (kh, kw), (sh, sw), (ph, pw) = pair(kernel_size), pair(stride), pair(pad)
    n, c, h, w = x.shape
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    col = np.zeros((n, c, kh, kw, oh, ow))
    for r in range(oh):
        for s in range(ow):
            for a in range(kh):
                for e in range(kw):
                    y, z = r * sh + a - ph, s * sw + e - pw
                    if 0 <= y < h and 0 <= z < w:
                        col[:, :, a, e, r, s] = x[:, :, y, z]
    if to_matrix:
        return col.transpose(0, 4, 5, 1, 2, 3).reshape(n * oh * ow, -1)
    return col


def col2im_ref(col, x_shape, kernel_size, stride=1, pad=0, to_matrix=True):
    (kh, kw), (sh, sw), (ph, pw) = pair(kernel_size), pair(stride), pair(pad)
    n, c, h, w = x_shape
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    if to_matrix:
        col = col.reshape(n, oh, ow, c, kh, kw).transpose(0, 3, 4, 5, 1, 2)
    x = np.zeros(x_shape)
    for r in range(oh):
        for s in range(ow):
            for a in range(kh):
                for e in range(kw):
                    y, z = r * sh + a - ph, s * sw + e - pw
                    if 0 <= y < h and 0 <= z < w:
                        x[:, :, y, z] += col[:, :, a, e, r, s]
    return x


# (x shape, W shape (out, in, kh, kw), stride, pad): square and not, odd sizes, strides above the kernel
CONV_GEOMETRIES = [
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 0),
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 1),
    ((1, 2, 7, 6), (3, 2, 3, 2), 2, 1),
    ((2, 1, 6, 7), (2, 1, 2, 3), (2, 1), (0, 1)),
    ((1, 2, 9, 8), (2, 2, 4, 3), 3, (2, 1)),
    ((3, 2, 4, 4), (5, 2, 1, 1), 1, 0),
    ((1, 3, 5, 7), (2, 3, 5, 7), 1, 0),  # kernel the size of the image
    ((1, 1, 5, 5), (1, 1, 2, 2), 3, 0),  # stride above the kernel: some pixels unused
    ((2, 2, 3, 3), (2, 2, 3, 3), 2, 2),  # pad as big as it may be
]
POOL_GEOMETRIES = [  # (x shape, kernel, stride, pad)
    ((2, 3, 6, 6), 2, 2, 0),
    ((1, 2, 5, 7), 3, 2, 1),
    ((2, 1, 7, 5), (3, 2), (1, 2), (1, 0)),
    ((1, 2, 6, 5), 3, 1, 1),  # overlapping windows
    ((1, 1, 5, 5), 2, 3, 0),
    ((2, 2, 4, 6), (4, 6), 1, 0),  # one window: global pooling
]


@pytest.mark.parametrize("x_shape, W_shape, stride, pad", CONV_GEOMETRIES)
def test_conv2d_matches_loops(x_shape, W_shape, stride, pad):
    x, W, b = randn(*x_shape), randn(*W_shape), randn(W_shape[0])
    for f in (F.conv2d, F.conv2d_simple):
        y = f(x, W, b, stride=stride, pad=pad)
        np.testing.assert_allclose(y.data, conv_ref(x, W, b, stride, pad), rtol=1e-12, atol=1e-12)
        y = f(x, W, stride=stride, pad=pad)
        np.testing.assert_allclose(
            y.data, conv_ref(x, W, None, stride, pad), rtol=1e-12, atol=1e-12
        )


@pytest.mark.parametrize("x_shape, W_shape, stride, pad", CONV_GEOMETRIES)
def test_deconv2d_matches_loops(x_shape, W_shape, stride, pad):
    # deconv2d takes the conv's output and gives back an image of the conv's input size
    oh = get_conv_outsize(x_shape[2], W_shape[2], *(pair(stride)[0], pair(pad)[0]))
    ow = get_conv_outsize(x_shape[3], W_shape[3], *(pair(stride)[1], pair(pad)[1]))
    x, W, b = randn(x_shape[0], W_shape[0], oh, ow), randn(*W_shape), randn(W_shape[1])
    for outsize in (None, x_shape[2:]):
        y = F.deconv2d(x, W, b, stride=stride, pad=pad, outsize=outsize)
        np.testing.assert_allclose(
            y.data, deconv_ref(x, W, b, stride, pad, outsize), rtol=1e-12, atol=1e-12
        )


@pytest.mark.parametrize("x_shape, kernel, stride, pad", POOL_GEOMETRIES)
def test_poolings_match_loops(x_shape, kernel, stride, pad):
    x = randn(*x_shape)
    for f in (F.pooling, F.pooling_simple):
        np.testing.assert_array_equal(
            f(x, kernel, stride, pad).data, maxpool_ref(x, kernel, stride, pad)
        )
    np.testing.assert_allclose(
        F.average_pooling(x, kernel, stride, pad).data,
        avgpool_ref(x, kernel, stride, pad),
        rtol=1e-12,
        atol=1e-12,
    )


@pytest.mark.parametrize("x_shape, W_shape, stride, pad", CONV_GEOMETRIES)
@pytest.mark.parametrize("to_matrix", [True, False])
def test_im2col_and_col2im_match_loops_and_are_adjoint(x_shape, W_shape, stride, pad, to_matrix):
    kernel = W_shape[2:]
    x = randn(*x_shape)
    col = F.im2col(x, kernel, stride, pad, to_matrix)
    np.testing.assert_array_equal(col.data, im2col_ref(x, kernel, stride, pad, to_matrix))
    c = randn(*col.shape)
    back = F.col2im(c, x_shape, kernel, stride, pad, to_matrix)
    np.testing.assert_allclose(
        back.data, col2im_ref(c, x_shape, kernel, stride, pad, to_matrix), rtol=1e-12, atol=1e-12
    )
    # <im2col(x), c> == <x, col2im(c)>: each is the other's adjoint
    np.testing.assert_allclose((col.data * c).sum(), (x * back.data).sum(), rtol=1e-12)


def _nonlinear(f):
    """tanh after f, so that second derivatives (pure and mixed) are not trivially zero."""
    return lambda *args: F.tanh(f(*args))


def _wrt(f, inputs, i):
    return lambda v: f(*inputs[:i], v, *inputs[i + 1 :])


def _grad_of(f, inputs, j, gy):
    """inputs -> d <f(inputs), gy> / d inputs[j], as a differentiable Variable."""

    def g(*vs):
        vs = [dz.as_variable(v) for v in vs]
        (gx,) = dz.grad(f(*vs), vs[j], grad_outputs=gy, create_graph=True)
        return gx

    return g


def _op_cases():
    """name: (f over Variables, inputs); each input is differentiated."""
    cases = {}
    for x_shape, W_shape, stride, pad in (
        CONV_GEOMETRIES[1],
        CONV_GEOMETRIES[2],
        CONV_GEOMETRIES[3],
    ):
        x_shape = (1,) + x_shape[1:]  # numerical gradients cost two forward passes per element
        cases[f"conv2d{x_shape}{W_shape}s{stride}p{pad}"] = (
            lambda x, W, b, s=stride, p=pad: F.conv2d(x, W, b, s, p),
            [randn(*x_shape), randn(*W_shape), randn(W_shape[0])],
        )
        oh = get_conv_outsize(x_shape[2], W_shape[2], pair(stride)[0], pair(pad)[0])
        ow = get_conv_outsize(x_shape[3], W_shape[3], pair(stride)[1], pair(pad)[1])
        cases[f"deconv2d{W_shape}s{stride}p{pad}"] = (
            lambda x, W, b, s=stride, p=pad, o=x_shape[2:]: F.deconv2d(x, W, b, s, p, o),
            [randn(1, W_shape[0], oh, ow), randn(*W_shape), randn(W_shape[1])],
        )
        cases[f"conv2d_simple{W_shape}s{stride}p{pad}"] = (
            lambda x, W, b, s=stride, p=pad: F.conv2d_simple(x, W, b, s, p),
            [randn(*x_shape), randn(*W_shape), randn(W_shape[0])],
        )
    for x_shape, kernel, stride, pad in POOL_GEOMETRIES[1:5]:
        for name in ("pooling", "pooling_simple", "average_pooling"):
            f = getattr(F, name)
            cases[f"{name}{x_shape}k{kernel}s{stride}p{pad}"] = (
                lambda x, f=f, k=kernel, s=stride, p=pad: f(x, k, s, p),
                [distinct(*x_shape)],
            )
    for to_matrix in (True, False):
        cases[f"im2col(to_matrix={to_matrix})"] = (
            lambda x, m=to_matrix: F.im2col(x, (3, 2), 2, 1, m),
            [randn(1, 2, 5, 4)],
        )
        shape = F.im2col(np.zeros((1, 2, 5, 4)), (3, 2), 2, 1, to_matrix).shape
        cases[f"col2im(to_matrix={to_matrix})"] = (
            lambda c, m=to_matrix: F.col2im(c, (1, 2, 5, 4), (3, 2), 2, 1, m),
            [randn(*shape)],
        )
    return cases


OP_CASES = _op_cases()


@pytest.mark.parametrize("name", OP_CASES)
def test_first_derivatives_match_numerical(name):
    f, inputs = OP_CASES[name]
    for i in range(len(inputs)):
        assert gradient_check(_wrt(f, inputs, i), inputs[i]), f"input {i}"


@pytest.mark.parametrize("name", OP_CASES)
def test_second_derivatives_match_numerical(name):
    f, inputs = OP_CASES[name]
    f = _nonlinear(f)
    gy = np.random.default_rng(3).standard_normal(f(*inputs).shape)
    for j in range(len(inputs)):  # d/d input i of (d/d input j): pure and mixed
        for i in range(len(inputs)):
            g = _grad_of(f, inputs, j, gy)
            assert gradient_check(_wrt(g, inputs, i), inputs[i], rtol=1e-3, atol=1e-5), f"d{i} d{j}"


@pytest.mark.parametrize("name", OP_CASES)
def test_float32_in_float32_out_and_float32_gradients(name):
    f, inputs = OP_CASES[name]
    xs = [dz.Variable(x.astype(np.float32)) for x in inputs]
    y = f(*xs)
    assert y.dtype == np.float32
    y.backward(create_graph=True)
    for x in xs:
        assert x.grad.dtype == np.float32 and x.grad.shape == x.shape


def test_max_pooling_never_picks_padding():
    x = -1.0 - rng.uniform(0, 1, (2, 3, 5, 5))  # every value below -1
    v = dz.Variable(x)
    for f in (F.pooling, F.pooling_simple):
        y = f(v, 3, 2, 1)
        assert y.data.max() < -1  # a zero from the padding would win here
        np.testing.assert_array_equal(y.data, maxpool_ref(x, 3, 2, 1))
    x32 = x.astype(np.float32)
    assert F.pooling(x32, 2, 1, 1).data.max() < -1 and F.pooling(x32, 2, 1, 1).dtype == np.float32
    xi = -np.arange(1, 26).reshape(1, 1, 5, 5)  # integers pad with their smallest value
    np.testing.assert_array_equal(F.pooling(xi, 2, 2, 1).data, maxpool_ref(xi, 2, 2, 1))


def test_max_pooling_gradient_goes_to_the_picked_element():
    x = dz.Variable(distinct(1, 2, 5, 5) - 5)  # all negative
    y = F.pooling(x, 3, 2, 1)
    gy = randn(*y.shape)
    (gx,) = dz.grad(y, x, grad_outputs=gy)
    want = np.zeros(x.shape)
    for c in range(2):
        for r in range(y.shape[2]):
            for s in range(y.shape[3]):
                top, left = r * 2 - 1, s * 2 - 1
                rows = range(builtins_max(top, 0), min(top + 3, 5))
                cols = range(builtins_max(left, 0), min(left + 3, 5))
                best = builtins_max(
                    ((a, e) for a in rows for e in cols), key=lambda p: x.data[0, c][p]
                )
                want[0, c][best] += gy[0, c, r, s]
    np.testing.assert_allclose(gx.data, want, rtol=1e-12, atol=1e-12)


def test_max_pooling_ties_send_the_gradient_once():
    x = dz.Variable(np.ones((1, 1, 4, 4)))
    y = F.pooling(x, 2, 2)
    F.sum(y).backward()
    assert x.grad.data.sum() == 4 and set(np.unique(x.grad.data)) == {0.0, 1.0}


def test_average_pooling_backward_leaves_the_upstream_gradient_alone():
    x = dz.Variable(randn(1, 1, 4, 4))
    gy = dz.Variable(np.ones((1, 1, 2, 2)))
    y = F.average_pooling(x, 2, 2)
    (gx,) = dz.grad(y, x, grad_outputs=gy)
    assert np.array_equal(gy.data, np.ones((1, 1, 2, 2)))  # DeZero divides it in place
    np.testing.assert_allclose(gx.data, np.full((1, 1, 4, 4), 0.25))


def test_rectangular_average_pooling_divides_by_the_window_area():
    x = np.arange(24.0).reshape(1, 1, 4, 6)
    y = F.average_pooling(dz.Variable(x), (2, 3), (2, 3))
    np.testing.assert_allclose(y.data, avgpool_ref(x, (2, 3), (2, 3)))
    (gx,) = dz.grad(y, y.creator.inputs[0])
    np.testing.assert_allclose(gx.data, np.full(x.shape, 1 / 6))


def test_a_batch_given_as_an_array_costs_no_col2im(monkeypatch):
    calls = []
    real = C._unrows
    monkeypatch.setattr(C, "_unrows", lambda *a, **k: calls.append(1) or real(*a, **k))
    W = dz.Parameter(randn(4, 1, 3, 3))
    x = randn(2, 1, 6, 6)  # the images: a Constant
    y = F.pooling(F.relu(F.conv2d(x, W, pad=1)), 2, 2)
    F.sum(y).backward()
    assert calls == [] and W.grad.shape == W.shape
    F.sum(F.conv2d(dz.Variable(x), W, pad=1)).backward()  # a Variable image does get its gradient
    assert len(calls) == 1
    grads = []  # pooling or im2col of an array: no gradient for it either
    monkeypatch.setattr(C, "col2im", lambda *a, **k: grads.append("col2im"))
    monkeypatch.setattr(C.Pooling2DGrad, "forward", lambda *a: grads.append("pooling"))
    for op in (
        lambda a: F.pooling(a, 2, 2),
        lambda a: F.average_pooling(a, 2, 2),
        lambda a: F.im2col(a, 3),
    ):
        F.sum(op(x) * W[0, 0, 0, 0]).backward()
    assert grads == [] and len(calls) == 1


def test_conv_output_is_float32_with_float32_weights_and_gradients():
    x = dz.Variable(randn(2, 3, 6, 6).astype(np.float32))
    W = dz.Parameter(randn(4, 3, 3, 3).astype(np.float32))
    b = dz.Parameter(np.zeros(4, np.float32))
    y = F.average_pooling(F.pooling(F.conv2d(x, W, b, 1, 1), 2, 2), 3)
    assert y.dtype == np.float32
    F.sum(y).backward()
    assert all(p.grad.dtype == np.float32 for p in (x, W, b))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: F.conv2d(randn(1, 3, 5, 5), randn(4, 2, 3, 3)), r"3 channels .* expects 2"),
        (
            lambda: F.conv2d(randn(3, 5, 5), randn(4, 3, 3, 3)),
            r"\(N, C, H, W\), got shape \(3, 5, 5\)",
        ),
        (lambda: F.conv2d(randn(1, 3, 5, 5), randn(4, 3, 3)), r"4-D \(out, in, KH, KW\)"),
        (
            lambda: F.conv2d(randn(1, 3, 2, 2), randn(4, 3, 5, 5), pad=1),
            r"kernel \(5, 5\) is larger than the padded image \(4, 4\)",
        ),
        (
            lambda: F.conv2d(randn(1, 3, 5, 5), randn(4, 3, 3, 3), stride=0),
            r"stride must be at least 1",
        ),
        (lambda: F.conv2d(randn(1, 3, 5, 5), randn(4, 3, 3, 3), pad=-1), r"pad at least 0"),
        (
            lambda: F.conv2d(randn(1, 3, 5, 5), randn(4, 3, 3, 3), randn(3)),
            r"bias must have shape \(4,\)",
        ),
        (
            lambda: F.conv2d(randn(1, 3, 5, 5), randn(4, 3, 3, 3), stride=1.5),
            r"stride must be an int or a pair",
        ),
        (lambda: F.deconv2d(randn(1, 3, 5, 5), randn(4, 2, 3, 3)), r"3 channels .* expects 4"),
        (
            lambda: F.deconv2d(randn(1, 3, 5, 5), randn(3, 2, 3, 3), outsize=(4, 4)),
            r"output of size \(4, 4\)",
        ),
        (lambda: F.deconv2d(randn(5, 5), randn(3, 2, 3, 3)), r"\(N, C, H, W\)"),
        (lambda: F.pooling(randn(1, 1, 4, 4), 0), r"kernel_size and stride must be at least 1"),
        (
            lambda: F.pooling(randn(1, 1, 4, 4), 2, 1, 2),
            r"pad \(2, 2\) must be smaller than kernel_size",
        ),
        (lambda: F.pooling(randn(4, 4), 2), r"\(N, C, H, W\)"),
        (lambda: F.average_pooling(randn(1, 1, 4, 4), 5), r"larger than the padded image"),
        (lambda: F.im2col(randn(1, 1, 4, 4), (2, 2, 2)), r"kernel_size must be an int or a pair"),
        (
            lambda: F.col2im(randn(3, 4), (1, 1, 4, 4), 2),
            r"columns of shape \(3, 4\) .* expected \(9, 4\)",
        ),
    ],
)
def test_bad_arguments_are_value_errors_naming_what_is_wrong(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_size_helpers():
    assert pair(3) == (3, 3) and pair((2, 5)) == (2, 5) and pair(np.int64(2)) == (2, 2)
    for bad in (1.0, (1, 2, 3), "2", True):
        with pytest.raises(ValueError):
            pair(bad)
    assert get_conv_outsize(28, 3, 1, 1) == 28 and get_conv_outsize(7, 3, 2, 1) == 4
    assert get_deconv_outsize(4, 3, 2, 1) == 7


def test_dezero_function_classes_exist_under_both_modules():
    for name in (
        "Conv2d",
        "Deconv2d",
        "Conv2DGradW",
        "Pooling",
        "Pooling2DGrad",
        "Pooling2DWithIndexes",
        "AveragePooling",
        "Im2col",
        "Col2im",
    ):
        assert getattr(F, name) is getattr(C, name) and issubclass(getattr(C, name), dz.Function)


# Rows for the op table in test_functions.py (forward against the loops above, first and
# second derivatives, float32), so that no exported op goes without a row.
TABLE_ROWS = {
    "conv2d": (
        lambda x, W, b: F.conv2d(x, W, b, 2, 1),
        [randn(1, 2, 5, 4), randn(3, 2, 3, 2), randn(3)],
        lambda x, W, b: conv_ref(x, W, b, 2, 1),
        (0, 1, 2),
    ),
    "conv2d_simple": (
        lambda x, W: F.conv2d_simple(x, W, None, 1, (1, 0)),
        [randn(1, 2, 4, 4), randn(2, 2, 3, 3)],
        lambda x, W: conv_ref(x, W, None, 1, (1, 0)),
        (0, 1),
    ),
    "deconv2d": (
        lambda x, W, b: F.deconv2d(x, W, b, 2, 1),
        [randn(1, 2, 3, 3), randn(2, 3, 3, 2), randn(3)],
        lambda x, W, b: deconv_ref(x, W, b, 2, 1),
        (0, 1, 2),
    ),
    "pooling": (
        lambda x: F.pooling(x, 3, 2, 1),
        [distinct(1, 2, 5, 5)],
        lambda x: maxpool_ref(x, 3, 2, 1),
        (0,),
    ),
    "pooling_simple": (
        lambda x: F.pooling_simple(x, 2, 1, 1),
        [distinct(1, 2, 4, 3)],
        lambda x: maxpool_ref(x, 2, 1, 1),
        (0,),
    ),
    "average_pooling": (
        lambda x: F.average_pooling(x, (2, 3), 1, 1),
        [randn(1, 2, 4, 4)],
        lambda x: avgpool_ref(x, (2, 3), 1, 1),
        (0,),
    ),
    "im2col": (
        lambda x: F.im2col(x, 3, 2, 1),
        [randn(1, 2, 5, 4)],
        lambda x: im2col_ref(x, 3, 2, 1),
        (0,),
    ),
    "col2im": (
        lambda c: F.col2im(c, (1, 2, 5, 4), 3, 2, 1),
        [randn(6, 18)],
        lambda c: col2im_ref(c, (1, 2, 5, 4), 3, 2, 1),
        (0,),
    ),
}


def test_conv_layers_make_their_weights_at_the_first_call():
    import dezero_lite.layers as L

    np.random.seed(0)
    conv = L.Conv2d(64, kernel_size=3, pad=1)
    assert conv.W.data is None and conv.b.shape == (64,)
    x = randn(2, 16, 10, 9)  # float64: cast to the layer's float32
    y = conv(x)
    assert conv.W.shape == (64, 16, 3, 3) and conv.W.dtype == np.float32
    assert y.shape == (2, 64, 10, 9) and y.dtype == np.float32
    assert abs(conv.W.data.std() / np.sqrt(1 / (16 * 9)) - 1) < 0.05  # DeZero's scale
    np.testing.assert_allclose(
        y.data, conv_ref(x.astype(np.float32), conv.W.data, conv.b.data, 1, 1), rtol=1e-4, atol=1e-4
    )
    F.sum(y).backward()
    assert conv.W.grad.shape == conv.W.shape and conv.b.grad.shape == (64,)
    assert "in_channels=16" in repr(conv)

    strided = L.Conv2d(4, (3, 2), stride=2, nobias=True, in_channels=3)
    assert strided.W.shape == (4, 3, 3, 2) and strided.b is None
    assert strided(randn(1, 3, 7, 6)).shape == (1, 4, 3, 3)
    with pytest.raises(ValueError, match=r"3 channels .* expects 5"):
        L.Conv2d(4, 3, in_channels=5)(randn(1, 3, 7, 6))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        L.Conv2d(4, 3)(randn(3, 7, 6))

    deconv = L.Deconv2d(5, kernel_size=4, stride=2, pad=1)
    y = deconv(randn(2, 3, 6, 7))
    assert deconv.W.shape == (3, 5, 4, 4) and y.shape == (2, 5, 12, 14) and y.dtype == np.float32
    assert abs(L.Deconv2d(64, 3, in_channels=16).W.data.std() / np.sqrt(1 / (16 * 9)) - 1) < 0.05


def test_conv_weights_round_trip_through_a_file(tmp_path):
    import dezero_lite.layers as L
    from dezero_lite.models import Sequential

    model = Sequential(L.Conv2d(4, 3, pad=1), F.relu, L.Deconv2d(2, 2, stride=2))
    x = randn(1, 3, 5, 5)
    y = model(x)
    model.save_weights(tmp_path / "w.npz")
    fresh = Sequential(L.Conv2d(4, 3, pad=1), F.relu, L.Deconv2d(2, 2, stride=2))
    fresh.load_weights(tmp_path / "w.npz")  # lazy weights take the saved shapes
    np.testing.assert_array_equal(fresh(x).data, y.data)


def test_a_graph_can_be_differentiated_twice_and_no_grad_keeps_nothing():
    x, W = dz.Variable(randn(2, 3, 5, 5)), dz.Variable(randn(4, 3, 3, 3))
    y = F.conv2d(x, W, stride=2, pad=1)  # keeps its rows for the gradient of W
    (first,) = dz.grad(y, W)
    (second,) = dz.grad(y, W)  # the rows were used up: computed again
    np.testing.assert_array_equal(first.data, second.data)
    with dz.no_grad():
        z = F.conv2d(x, W)
    assert z.creator is None
    f = C.Conv2d(1, 0)
    with dz.no_grad():
        f(x, W)
    assert f._rows is None  # nothing kept when no backward can run


def test_dezeros_array_helpers_work_on_plain_arrays():
    x = randn(2, 3, 5, 4)
    for to_matrix in (True, False):
        col = C.im2col_array(x, (3, 2), 2, 1, to_matrix)
        np.testing.assert_array_equal(col, im2col_ref(x, (3, 2), 2, 1, to_matrix))
        np.testing.assert_allclose(
            C.col2im_array(col, x.shape, (3, 2), 2, 1, to_matrix),
            col2im_ref(col, x.shape, (3, 2), 2, 1, to_matrix),
            atol=1e-12,
        )
    assert not hasattr(F, "im2col_array")  # as in DeZero, functions re-exports the ops only


def test_an_empty_batch_gives_empty_results_and_gradients():
    x = dz.Variable(np.zeros((0, 2, 3, 3), np.float32))
    W = dz.Variable(np.ones((4, 2, 2, 2), np.float32))
    assert F.im2col(x, 2).shape == (0, 8)
    assert F.pooling_simple(x, 2).shape == (0, 2, 2, 2)
    y = F.conv2d(x, W)
    assert y.shape == (0, 4, 2, 2)
    gx, gW = dz.grad(y, [x, W], grad_outputs=np.zeros(y.shape, np.float32))
    assert gx.shape == x.shape and gW.shape == W.shape and not gW.data.any()
    y = F.deconv2d(x, W.transpose(1, 0, 2, 3))
    assert y.shape == (0, 4, 4, 4)
    assert F.conv2d(dz.Variable(np.zeros((2, 0, 3, 3))), np.zeros((4, 0, 2, 2))).shape == (
        2,
        4,
        2,
        2,
    )


def test_conv_gradients_take_the_dtype_of_their_inputs():
    x = dz.Variable(np.ones((1, 1, 2, 2), np.float32))
    W, b = dz.Variable(np.ones((1, 1, 1, 1))), dz.Variable(np.zeros(1, np.float32))
    for f in (F.conv2d, F.deconv2d):
        y = f(x, W, b)
        assert y.dtype == np.float64
        gx, gW, gb = dz.grad(y, [x, W, b], grad_outputs=np.ones(y.shape))
        assert (gx.dtype, gW.dtype, gb.dtype) == (np.float32, np.float64, np.float32)


def test_max_pooling_pads_a_bool_image_with_false():
    x = np.array([[[[True, False], [False, False]]]])
    y = F.pooling(x, 2, pad=1)
    assert y.dtype == np.bool_
    assert y.data.tolist() == [[[[True, True, False], [True, True, False], [False, False, False]]]]


def test_deconv2d_of_an_empty_image_asks_for_outsize():
    with pytest.raises(ValueError, match="deconv2d: input of shape .* has an empty image"):
        F.deconv2d(np.zeros((1, 1, 0, 2)), np.ones((1, 1, 2, 2)))
