"""Every exported function against hostile input (hypothesis): random shapes (0-size and 0-d
included), dtypes (float32, float64, int, bool) and edge values (NaN, inf, -0.0).

Each function must either match NumPy's semantics, with gradients of the right shape and
dtype, or raise a TypeError, ValueError or IndexError whose message names the function;
never another exception from deep inside. One row per function in ROWS:
name: (strategy for the input arrays, call on Variables, NumPy reference on arrays).
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import dezero_lite as dz
import dezero_lite.functions as F
from test_functions import exported_ops

DTYPES = [np.float32, np.float64, np.int64, np.bool_]
EDGES = [0.0, -0.0, 1.0, np.nan, np.inf, -np.inf]


def values(dtype):
    if dtype == np.bool_:
        return st.booleans()
    if dtype == np.int64:
        return st.integers(-4, 4)
    width = 32 if dtype == np.float32 else 64
    return st.floats(-4, 4, width=width) | st.sampled_from(EDGES)


@st.composite
def array(draw, shape=None, dtypes=DTYPES):
    dtype = draw(st.sampled_from(dtypes))
    shape = (
        draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))
        if shape is None
        else shape
    )
    return np.asarray(draw(hnp.arrays(dtype, shape, elements=values(dtype))))


def one(**kw):
    return st.tuples(array(**kw))


@st.composite
def two(draw):
    """Two arrays of shapes that broadcast together."""
    shapes = draw(
        hnp.mutually_broadcastable_shapes(
            num_shapes=2, min_dims=0, max_dims=3, min_side=0, max_side=3
        )
    )
    return tuple(draw(array(shape=s)) for s in shapes.input_shapes)


@st.composite
def matrices(draw, bias=False):
    n, k, m = (draw(st.integers(0, 3)) for _ in range(3))
    out = [draw(array(shape=(n, k))), draw(array(shape=(k, m)))]
    return tuple(out + [draw(array(shape=(m,)))] if bias else out)


@st.composite
def scores_and_labels(draw):
    x = draw(array(shape=draw(st.sampled_from([(3, 2), (0, 2), (2, 1), (2,), ()]))))
    n = len(x) if x.ndim else 1
    c = x.shape[1] if x.ndim == 2 else 1
    return x, np.asarray(draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1))))


@st.composite
def same_shape_pair(draw, unit=False):
    x = draw(array())
    t = draw(
        hnp.arrays(
            np.float64,
            x.shape,
            elements=st.sampled_from([0.0, 1.0]) if unit else values(np.float64),
        )
    )
    return x, np.asarray(t)


def seeded_dropout(x):
    np.random.seed(0)
    return F.dropout(x, 0.5)


def dropout_ref(x):
    np.random.seed(0)
    keep = np.random.random_sample(x.shape) > 0.5  # np.random.rand's stream, an array when 0-d
    return x * (keep * 2.0).astype(x.dtype if x.dtype.kind == "f" else np.float64)


def softmax_ref(x, axis=1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def sce_ref(x, t):
    x = x.astype(np.float64) if x.dtype.kind != "f" else x
    log_p = np.log(softmax_ref(x))
    return np.asarray(-log_p[np.arange(len(x)), t].sum() / x.dtype.type(len(x)))


def sce_simple_ref(x, t):
    """As sce_ref, but p is clipped to [1e-15, 1] before the log, as DeZero's _simple does."""
    p = np.clip(softmax_ref(x), 1e-15, 1.0)
    return np.asarray(-np.log(p)[np.arange(len(x)), t].sum() / x.dtype.type(len(x)))


def bce_ref(p, t):
    eps = max(1e-15, np.finfo(p.dtype).eps)  # p is clipped into [eps, 1 - eps], as in DeZero
    p, t = np.clip(p, eps, 1 - eps), t.astype(p.dtype)  # targets take the dtype of p
    return np.asarray(-np.mean(t * np.log(p) + (1 - t) * np.log(1 - p)))


def sigmoid_ce_ref(x, t):
    t = t.astype(x.dtype)
    p = 1 / (1 + np.exp(-x))
    # a term whose weight is 0 counts 0, also where its log is -inf (an infinite score)
    terms = np.where(t == 0, 0, t * np.log(p)) + np.where(t == 1, 0, (1 - t) * np.log(1 - p))
    return np.asarray(-np.sum(terms) / (len(x) if x.ndim else 1))


# Image batches (N, C, H, W) and their weights: sides 0-4, kernels 1-3, stride 1-2, pad 0-1.
# The geometry travels as a last int array g = [KH, KW, SH, SW, PH, PW], read with g.data.


@st.composite
def geometry(draw):
    return np.array(
        [draw(st.integers(1, 3)) for _ in range(2)]
        + [draw(st.integers(1, 2)) for _ in range(2)]
        + [draw(st.integers(0, 1)) for _ in range(2)],
        dtype=np.int64,
    )


def geom(g):
    g = [int(v) for v in np.asarray(getattr(g, "data", g))]
    return (g[0], g[1]), (g[2], g[3]), (g[4], g[5])


def side():
    return st.integers(0, 4)


@st.composite
def images(draw, n_weights=0, deconv=False, bias=False):
    g = draw(geometry())
    n, c, h, w = draw(st.integers(0, 2)), draw(st.integers(0, 2)), draw(side()), draw(side())
    out = [draw(array(shape=(n, c, h, w)))]
    if n_weights:
        o = draw(st.integers(1, 2))
        k = tuple(int(v) for v in g[:2])
        out.append(draw(array(shape=(c, o) + k if deconv else (o, c) + k)))
        if bias:
            out.append(draw(array(shape=(o,))))
    return tuple(out + [g])


def padded(x, p, fill=0):
    return np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])), constant_values=fill)


def out_size(h, w, k, s, p):
    oh, ow = (h + 2 * p[0] - k[0]) // s[0] + 1, (w + 2 * p[1] - k[1]) // s[1] + 1
    if oh < 1 or ow < 1:
        raise ValueError("the kernel is larger than the padded image")
    return oh, ow


def window_ref(x, g, reduce, fill=0):
    """reduce(window) at every output position, by plain loops: (N, C, OH, OW)."""
    k, s, p = geom(g)
    oh, ow = out_size(*x.shape[2:], k, s, p)
    xp = padded(x, p, fill)
    return np.stack(
        [
            np.stack(
                [
                    reduce(xp[:, :, i * s[0] : i * s[0] + k[0], j * s[1] : j * s[1] + k[1]])
                    for j in range(ow)
                ],
                -1,
            )
            for i in range(oh)
        ],
        -2,
    )


def im2col_ref(x, g, to_matrix=True):
    k, s, p = geom(g)
    oh, ow = out_size(*x.shape[2:], k, s, p)
    col = np.zeros(x.shape[:2] + k + (oh, ow), x.dtype)
    xp = padded(x, p)
    for i in range(oh):
        for j in range(ow):
            col[:, :, :, :, i, j] = xp[:, :, i * s[0] : i * s[0] + k[0], j * s[1] : j * s[1] + k[1]]
    return (
        col.transpose(0, 4, 5, 1, 2, 3).reshape(x.shape[0] * oh * ow, int(np.prod(col.shape[1:4])))
        if to_matrix
        else col
    )


@st.composite
def columns(draw):
    """(col of shape (N, C, KH, KW, OH, OW), image shape as an int array, g)."""
    g = draw(geometry())
    k, s, p = geom(g)
    shape = (draw(st.integers(0, 2)), draw(st.integers(0, 2)), draw(side()), draw(side()))
    try:
        out = out_size(*shape[2:], k, s, p)
    except ValueError:
        out = (1, 1)
    col = draw(array(shape=shape[:2] + k + out))
    return col, np.array(shape, dtype=np.int64), g


def col2im_ref(col, shape, g):
    k, s, p = geom(g)
    n, c, h, w = (int(v) for v in shape)
    oh, ow = out_size(h, w, k, s, p)
    if col.shape != (n, c) + k + (oh, ow):
        raise ValueError("columns do not fit the image")
    img = np.zeros((n, c, h + 2 * p[0], w + 2 * p[1]), col.dtype)
    for i in range(oh):
        for j in range(ow):
            img[:, :, i * s[0] : i * s[0] + k[0], j * s[1] : j * s[1] + k[1]] += col[
                :, :, :, :, i, j
            ]
    return img[:, :, p[0] : p[0] + h, p[1] : p[1] + w]


def conv_ref(x, W, *rest):
    *b, g = rest
    # products and sums written out, not np.tensordot: BLAS may give 0 for 0 * nan
    y = window_ref(
        x, g, lambda win: (win[:, None] * W[None]).sum(axis=(2, 3, 4), dtype=np.result_type(x, W))
    )
    return y + b[0].reshape(-1, 1, 1) if b else y


def deconv_ref(x, W, *rest):
    *b, g = rest
    k, s, p = geom(g)
    n, c, h, w = x.shape
    oh, ow = s[0] * (h - 1) + k[0] - 2 * p[0], s[1] * (w - 1) + k[1] - 2 * p[1]
    if oh < 1 or ow < 1:
        raise ValueError("no output")
    dtype = np.result_type(x, W)
    y = np.zeros((n, W.shape[1], oh + 2 * p[0], ow + 2 * p[1]), dtype)
    for i in range(h):
        for j in range(w):
            y[:, :, i * s[0] : i * s[0] + k[0], j * s[1] : j * s[1] + k[1]] += (
                x[:, :, i, j, None, None, None] * W[None]
            ).sum(axis=1, dtype=dtype)
    y = y[:, :, p[0] : p[0] + oh, p[1] : p[1] + ow]
    return y + b[0].reshape(-1, 1, 1) if b else y


def lowest(dtype):
    return False if dtype == np.bool_ else -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def max_pool_ref(x, g):
    return window_ref(
        x,
        g,
        lambda win: win.max(axis=(2, 3)) if win.size else np.zeros(win.shape[:2], win.dtype),
        fill=lowest(x.dtype),
    )


def average_pool_ref(x, g):
    k = geom(g)[0]
    return window_ref(
        x,
        g,
        lambda win: (
            win.sum(axis=(2, 3), dtype=x.dtype if x.dtype.kind == "f" else np.float64)
            / x.dtype.type(k[0] * k[1])
            if x.dtype.kind == "f"
            else win.sum(axis=(2, 3)) / (k[0] * k[1])
        ),
    )


@st.composite
def batch_norm_inputs(draw):
    shape = draw(st.sampled_from([(3, 2), (2, 1, 2, 2), (0, 2), (1, 2), (2, 0), (3,)]))
    x = draw(array(shape=shape))
    c = shape[1] if len(shape) > 1 else 1
    gamma, beta = draw(array(shape=(c,))), draw(array(shape=(c,)))
    mean, var = (
        np.asarray(draw(hnp.arrays(np.float64, (c,), elements=st.floats(0, 2)))) for _ in "mv"
    )
    return x, gamma, beta, mean, var


def batch_norm_ref(x, gamma, beta, mean, var):
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    shape = (1, -1) if x.ndim == 2 else (1, -1, 1, 1)
    if x.ndim not in (2, 4) or x.size // x.shape[1] < 2:
        raise ValueError("no batch statistics")
    mu, v = x.mean(axis=axes).reshape(shape), x.var(axis=axes).reshape(shape)
    return gamma.reshape(shape) * ((x - mu) / np.sqrt(v + 2e-5)) + beta.reshape(shape)


@st.composite
def ids_and_table(draw):
    W = draw(array(shape=(draw(st.integers(0, 3)), draw(st.integers(0, 2)))))
    ids = draw(array(dtypes=[np.int64, np.float64, np.bool_]))
    return (np.asarray(np.clip(ids, -1, len(W))) if ids.dtype == np.int64 else ids), W


def embed_ref(ids, W):
    if ids.dtype.kind != "i" or (ids < 0).any():
        raise IndexError("ids must be non-negative integers")
    return W[ids]


@st.composite
def split_input(draw):
    x = draw(array())
    return x, np.array(draw(st.sampled_from([1, 2, 3])), dtype=np.int64)


def split_ref(x, cut):
    return np.concatenate([part * (i + 1) for i, part in enumerate(np.split(x, int(cut), axis=0))])


def split_call(x, cut):
    parts = F.split(x, int(cut.data), axis=0)
    return F.concatenate([part * (i + 1) for i, part in enumerate(parts)])


@st.composite
def joinable(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))
    other = (draw(st.integers(0, 3)),) + shape[1:] if shape else ()
    return draw(array(shape=shape)), draw(array(shape=other))


ROWS = {
    "add": (two(), F.add, np.add),
    "sub": (two(), F.sub, np.subtract),
    "rsub": (two(), F.rsub, lambda a, b: b - a),
    "mul": (two(), F.mul, np.multiply),
    "div": (two(), F.div, np.divide),
    "rdiv": (two(), F.rdiv, lambda a, b: b / a),
    "pow": (two(), lambda a, b: F.pow(a, b), np.power),
    "rpow": (two(), F.rpow, lambda a, b: b**a),
    "neg": (one(), F.neg, np.negative),
    "square": (one(), F.square, np.square),
    "exp": (one(), F.exp, np.exp),
    "log": (one(), F.log, np.log),
    "sin": (one(), F.sin, np.sin),
    "cos": (one(), F.cos, np.cos),
    "tanh": (one(), F.tanh, np.tanh),
    "sigmoid": (one(dtypes=[np.float32, np.float64]), F.sigmoid, lambda x: 1 / (1 + np.exp(-x))),
    "relu": (one(), F.relu, lambda x: np.maximum(x, 0)),
    "leaky_relu": (one(), F.leaky_relu, lambda x: np.where(x > 0, x, x * 0.2)),
    "clip": (one(), lambda x: F.clip(x, -1, 2), lambda x: np.clip(x, -1, 2)),
    "reshape": (one(), lambda x: F.reshape(x, (-1,)), lambda x: x.reshape(-1)),
    "transpose": (one(), F.transpose, np.transpose),
    "get_item": (one(), lambda x: x[..., :1], lambda x: x[..., :1]),
    "get_item(int)": (one(), lambda x: x[1], lambda x: x[1]),
    "get_item(fancy)": (one(), lambda x: x[np.array([0, 0])], lambda x: x[np.array([0, 0])]),
    "expand_dims": (one(), lambda x: F.expand_dims(x, 0), lambda x: x[None]),
    "flatten": (one(), F.flatten, lambda x: x.reshape(len(x), int(np.prod(x.shape[1:])))),
    "broadcast_to": (
        one(),
        lambda x: F.broadcast_to(x, (2,) + x.shape),
        lambda x: np.broadcast_to(x, (2,) + x.shape),
    ),
    "sum_to": (one(), lambda x: F.sum_to(x, x.shape[1:]), lambda x: x.sum(0) if x.ndim else x),
    "sum": (one(), F.sum, np.sum),
    "sum(axis)": (one(), lambda x: F.sum(x, axis=np.int64(-1)), lambda x: x.sum(-1)),
    "mean": (one(), lambda x: F.mean(x, axis=0), lambda x: np.mean(x, axis=0)),
    "average": (one(), F.average, np.mean),
    "max": (one(), F.max, np.max),
    "max(axis)": (
        one(),
        lambda x: F.max(x, axis=0, keepdims=True),
        lambda x: x.max(0, keepdims=True),
    ),
    "min": (one(), lambda x: F.min(x, axis=-1), lambda x: x.min(-1)),
    "matmul": (matrices(), F.matmul, np.matmul),
    "matmul(any)": (two(), F.matmul, np.matmul),
    "linear": (matrices(bias=True), F.linear, lambda x, W, b: x @ W + b),
    "softmax": (one(), F.softmax, softmax_ref),
    "log_softmax": (one(), F.log_softmax, lambda x: np.log(softmax_ref(x))),
    "mean_squared_error": (
        same_shape_pair(),
        lambda x, t: F.mean_squared_error(x, t),
        lambda x, t: np.asarray(((x - t) ** 2).sum() / (len(x) if x.ndim else 1)),
    ),
    "softmax_cross_entropy": (
        scores_and_labels(),
        lambda x, t: F.softmax_cross_entropy(x, t.data),
        sce_ref,
    ),
    "sigmoid_cross_entropy": (
        same_shape_pair(unit=True),
        lambda x, t: F.sigmoid_cross_entropy(x, t.data),
        sigmoid_ce_ref,
    ),
    "binary_cross_entropy": (
        same_shape_pair(unit=True),
        lambda p, t: F.binary_cross_entropy(p, t.data),
        bce_ref,
    ),
    "accuracy": (
        scores_and_labels(),
        lambda y, t: F.accuracy(y, t.data),
        lambda y, t: np.asarray(np.mean(y.argmax(axis=1) == t)),
    ),
    "dropout": (one(), seeded_dropout, dropout_ref),
    "linear_simple": (matrices(bias=True), F.linear_simple, lambda x, W, b: x @ W + b),
    # its numbers take the input's dtype, under NumPy 1.26 too (where 0-d float32 * 1.0 is float64)
    "sigmoid_simple": (
        one(dtypes=[np.float32, np.float64]),
        F.sigmoid_simple,
        lambda x: (1 / (1 + np.exp(-x))).astype(x.dtype),
    ),
    "softmax_simple": (one(), F.softmax_simple, softmax_ref),
    "mean_squared_error_simple": (
        same_shape_pair(),
        F.mean_squared_error_simple,
        lambda x, t: np.asarray(((x - t) ** 2).sum() / (len(x) if x.ndim else 1)),
    ),
    "softmax_cross_entropy_simple": (
        scores_and_labels(),
        lambda x, t: F.softmax_cross_entropy_simple(x, t.data),
        sce_simple_ref,
    ),
    "concatenate": (
        joinable(),
        lambda a, b: F.concatenate([a, b], axis=0),
        lambda a, b: np.concatenate([a, b]),
    ),
    "split": (split_input(), split_call, split_ref),
    "embed_id": (ids_and_table(), lambda ids, W: F.embed_id(ids.data, W), embed_ref),
    "batch_norm": (
        batch_norm_inputs(),
        lambda x, g, b, m, v: F.batch_norm(x, g, b, m.data.copy(), v.data.copy()),
        batch_norm_ref,
    ),
    "batch_nrom": (
        batch_norm_inputs(),
        lambda x, g, b, m, v: F.batch_nrom(x, g, b, m.data.copy(), v.data.copy()),
        batch_norm_ref,
    ),
    "im2col": (images(), lambda x, g: F.im2col(x, *geom(g)), im2col_ref),
    "im2col(tensor)": (
        images(),
        lambda x, g: F.im2col(x, *geom(g), to_matrix=False),
        lambda x, g: im2col_ref(x, g, to_matrix=False),
    ),
    "col2im": (
        columns(),
        lambda c, shape, g: F.col2im(c, tuple(shape.data), *geom(g), to_matrix=False),
        col2im_ref,
    ),
    "conv2d": (images(1), lambda x, W, g: F.conv2d(x, W, None, *geom(g)[1:]), conv_ref),
    "conv2d(bias)": (
        images(1, bias=True),
        lambda x, W, b, g: F.conv2d(x, W, b, *geom(g)[1:]),
        conv_ref,
    ),
    "conv2d_simple": (
        images(1, bias=True),
        lambda x, W, b, g: F.conv2d_simple(x, W, b, *geom(g)[1:]),
        conv_ref,
    ),
    "deconv2d": (
        images(1, deconv=True, bias=True),
        lambda x, W, b, g: F.deconv2d(x, W, b, *geom(g)[1:]),
        deconv_ref,
    ),
    "pooling": (images(), lambda x, g: F.pooling(x, *geom(g)), max_pool_ref),
    "pooling_simple": (images(), lambda x, g: F.pooling_simple(x, *geom(g)), max_pool_ref),
    "average_pooling": (images(), lambda x, g: F.average_pooling(x, *geom(g)), average_pool_ref),
}

ALIASES = {
    "average": "mean",
    "rsub": "sub",
    "rdiv": "div",
    "rpow": "pow",
    "batch_nrom": "batch_norm",
}


def test_every_exported_function_has_a_row():
    assert exported_ops() - {name.split("(")[0] for name in ROWS} == set()


def _named(name, error):
    """The message starts with the function's name (or its class's: "Neg: ...")."""
    base = ALIASES.get(name.split("(")[0], name.split("(")[0])
    return str(error).lower().replace("_", "").startswith(base.replace("_", ""))


NUMPY1 = np.lib.NumpyVersion(np.__version__) < "2.0.0"


def _close(y, ref, inputs=()):
    # NumPy 1.x promotes 0-d float32 with a Python float to float64 and an empty mean to
    # float64, and ops differ in whether they meet such a number: its float dtypes are loose
    same_kind = NUMPY1 and y.dtype.kind == ref.dtype.kind == "f"
    if (y.dtype != ref.dtype and not same_kind) or y.shape != ref.shape:
        return False
    # float32 tolerance if anything was float32 (NumPy 1.26 gives float64 for 0-d float32 * 0.5)
    single = any(a.dtype == np.float32 for a in (y, *inputs) if isinstance(a, np.ndarray))
    tol = dict(rtol=1e-5, atol=1e-6) if single else dict(rtol=1e-9, atol=1e-12)
    return (
        np.allclose(y, ref, equal_nan=True, **tol)
        if y.dtype.kind in "fc"
        else np.array_equal(y, ref)
    )


@pytest.mark.parametrize("name", ROWS)
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_matches_numpy_or_raises_an_error_that_names_the_function(name, data):
    strategy, f, ref = ROWS[name]
    arrays = data.draw(strategy)
    xs = [dz.Variable(a.copy()) for a in arrays]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            expected = ref(*[a.copy() for a in arrays])
        except Exception:  # NumPy refuses this input: so must we
            expected = None
        try:
            y = f(*xs)
        except (TypeError, ValueError, IndexError) as e:
            assert _named(name, e), f"{name}: the error does not name the function: {e}"
            return
        assert expected is not None, f"{name} returned a value where NumPy raises"
        assert isinstance(y, dz.Variable) and type(y.data) is np.ndarray
        assert _close(y.data, np.asarray(expected), arrays), (
            f"{name}: got {y.data!r} ({y.dtype}), NumPy gives {expected!r} ({np.asarray(expected).dtype})"
        )
        if y.dtype.kind != "f":
            return
        grads = dz.grad(y, xs, grad_outputs=np.ones_like(y.data))
    for x, gx in zip(xs, grads, strict=True):
        if gx is not None:
            assert gx.shape == x.shape, f"{name}: gradient of shape {gx.shape} for input {x.shape}"
            ok = gx.dtype == x.dtype if x.dtype.kind == "f" else gx.dtype.kind == "f"
            assert ok, f"{name}: gradient of dtype {gx.dtype} for input {x.dtype}"
