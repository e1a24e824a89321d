"""One row per exported op: forward against NumPy, backward and second derivative
against numerical gradients (with a random upstream gradient), broadcast variants."""

import inspect

import numpy as np
import pytest

import dezero_lite as dz
import dezero_lite.functions as F
from dezero_lite.utils import gradient_check, logsumexp
from test_conv import TABLE_ROWS as CONV_ROWS

rng = np.random.default_rng(0)


def randn(*shape):
    return rng.standard_normal(shape)


def positive(*shape):
    return rng.uniform(0.5, 2.0, shape)


def away_from_zero(*shape):
    """Values at least 0.2 from the kink of relu-like ops."""
    return rng.choice([-1, 1], shape) * rng.uniform(0.2, 1.5, shape)


def softmax_ref(x, axis=1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


LABELS = np.array([0, 2, 1, 2])
BROADCASTS = [((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3)), ((3, 1), ())]
BINARY = {
    "add": (np.add, randn, randn),
    "sub": (np.subtract, randn, randn),
    "rsub": (lambda a, b: b - a, randn, randn),
    "mul": (np.multiply, randn, randn),
    "div": (np.divide, randn, positive),
    "rdiv": (lambda a, b: b / a, positive, randn),
    "pow": (np.power, positive, randn),  # with a Variable exponent
    "rpow": (lambda a, b: b**a, randn, positive),
}

# name: (f over Variables, inputs, NumPy reference, indices to differentiate)
CASES = {}
for name, (ref, gen0, gen1) in BINARY.items():
    for s0, s1 in BROADCASTS:
        f = getattr(F, name)
        if name in ("pow", "rpow"):
            f = (lambda g: lambda a, b: g(a, dz.as_variable(b)))(f)
        CASES[f"{name}{s0}{s1}"] = (f, [gen0(*s0), gen1(*s1)], ref, (0, 1))
CASES.update(
    {
        "neg": (F.neg, [randn(2, 3)], np.negative, (0,)),
        "pow(const)": (lambda x: F.pow(x, 3), [randn(2, 3)], lambda x: x**3, (0,)),
        "pow(const array)": (
            lambda x: F.pow(x, np.array([1.0, 2.0, 3.0])),
            [positive(2, 3)],
            lambda x: x ** np.array([1.0, 2.0, 3.0]),
            (0,),
        ),
        "square": (F.square, [randn(2, 3)], np.square, (0,)),
        "exp": (F.exp, [randn(2, 3)], np.exp, (0,)),
        "log": (F.log, [positive(2, 3)], np.log, (0,)),
        "sin": (F.sin, [randn(2, 3)], np.sin, (0,)),
        "cos": (F.cos, [randn(2, 3)], np.cos, (0,)),
        "tanh": (F.tanh, [randn(2, 3)], np.tanh, (0,)),
        "sigmoid": (F.sigmoid, [randn(2, 3)], lambda x: 1 / (1 + np.exp(-x)), (0,)),
        "relu": (F.relu, [away_from_zero(2, 3)], lambda x: np.maximum(x, 0), (0,)),
        "leaky_relu": (
            lambda x: F.leaky_relu(x, 0.1),
            [away_from_zero(2, 3)],
            lambda x: np.where(x > 0, x, 0.1 * x),
            (0,),
        ),
        "clip": (
            lambda x: F.clip(x, -0.5, 0.5),
            [np.array([[-1.0, -0.3, 0.2], [0.7, 0.1, -0.8]])],
            lambda x: np.clip(x, -0.5, 0.5),
            (0,),
        ),
        "reshape": (
            lambda x: F.reshape(x, (3, -1)),
            [randn(2, 3)],
            lambda x: x.reshape(3, 2),
            (0,),
        ),
        "transpose": (F.transpose, [randn(2, 3)], np.transpose, (0,)),
        "transpose(axes)": (
            lambda x: F.transpose(x, (1, 2, 0)),
            [randn(2, 3, 4)],
            lambda x: x.transpose(1, 2, 0),
            (0,),
        ),
        "get_item": (
            lambda x: F.get_item(x, (slice(None), 1)),
            [randn(2, 3)],
            lambda x: x[:, 1],
            (0,),
        ),
        "get_item(fancy)": (
            lambda x: F.get_item(x, np.array([0, 2, 0])),
            [randn(3, 2)],
            lambda x: x[[0, 2, 0]],
            (0,),
        ),
        "expand_dims": (lambda x: F.expand_dims(x, 1), [randn(2, 3)], lambda x: x[:, None], (0,)),
        "flatten": (F.flatten, [randn(2, 3, 2)], lambda x: x.reshape(2, 6), (0,)),
        "broadcast_to": (
            lambda x: F.broadcast_to(x, (2, 3)),
            [randn(3)],
            lambda x: np.broadcast_to(x, (2, 3)),
            (0,),
        ),
        "sum_to": (
            lambda x: F.sum_to(x, (1, 3)),
            [randn(2, 3)],
            lambda x: x.sum(0, keepdims=True),
            (0,),
        ),
        "sum": (F.sum, [randn(2, 3)], np.sum, (0,)),
        "sum(axis)": (
            lambda x: F.sum(x, axis=(0, 2)),
            [randn(2, 3, 4)],
            lambda x: x.sum((0, 2)),
            (0,),
        ),
        "sum(keepdims)": (
            lambda x: F.sum(x, axis=1, keepdims=True),
            [randn(2, 3)],
            lambda x: x.sum(1, keepdims=True),
            (0,),
        ),
        "mean": (lambda x: F.mean(x, axis=0), [randn(2, 3)], lambda x: x.mean(0), (0,)),
        "average": (F.average, [randn(2, 3)], np.mean, (0,)),
        "max": (lambda x: F.max(x, axis=1), [randn(2, 3)], lambda x: x.max(1), (0,)),
        "max(all)": (F.max, [randn(2, 3)], np.max, (0,)),
        "min": (
            lambda x: F.min(x, axis=0, keepdims=True),
            [randn(2, 3)],
            lambda x: x.min(0, keepdims=True),
            (0,),
        ),
        "matmul": (F.matmul, [randn(2, 3), randn(3, 4)], np.matmul, (0, 1)),
        "matmul(batched)": (F.matmul, [randn(2, 2, 3), randn(3, 4)], np.matmul, (0, 1)),
        "matmul(1-d)": (F.matmul, [randn(3), randn(3, 4)], np.matmul, (0, 1)),
        "matmul(vector)": (F.matmul, [randn(2, 3), randn(3)], np.matmul, (0, 1)),
        "linear": (
            F.linear,
            [randn(2, 3), randn(3, 4), randn(4)],
            lambda x, W, b: x @ W + b,
            (0, 1, 2),
        ),
        "linear(nobias)": (F.linear, [randn(2, 3), randn(3, 4)], np.matmul, (0, 1)),
        "softmax": (F.softmax, [randn(2, 3)], softmax_ref, (0,)),
        "log_softmax": (F.log_softmax, [randn(2, 3)], lambda x: x - logsumexp(x, 1), (0,)),
        "mean_squared_error": (
            F.mean_squared_error,
            [randn(4, 1), randn(4, 1)],
            lambda a, b: ((a - b) ** 2).sum() / 4,
            (0, 1),
        ),
        "softmax_cross_entropy": (
            lambda x: F.softmax_cross_entropy(x, LABELS),
            [randn(4, 3)],
            lambda x: -np.log(softmax_ref(x)[np.arange(4), LABELS]).mean(),
            (0,),
        ),
        "sigmoid_cross_entropy": (
            lambda x: F.sigmoid_cross_entropy(x, np.array([0, 1, 1, 0])),
            [randn(4)],
            lambda x: (
                -np.mean(
                    np.array([0, 1, 1, 0]) * np.log(1 / (1 + np.exp(-x)))
                    + np.array([1, 0, 0, 1]) * np.log(1 - 1 / (1 + np.exp(-x)))
                )
            ),
            (0,),
        ),
        "binary_cross_entropy": (
            lambda p: F.binary_cross_entropy(p, np.array([0.0, 1, 1, 0])),
            [rng.uniform(0.1, 0.9, 4)],
            lambda p: (
                -np.mean(
                    np.array([0, 1, 1, 0]) * np.log(p) + np.array([1, 0, 0, 1]) * np.log(1 - p)
                )
            ),
            (0,),
        ),
        "accuracy": (
            lambda y: F.accuracy(y, np.array([1, 0, 2])),
            [np.array([[0.1, 0.9, 0.0], [0.3, 0.2, 0.5], [0.0, 0.1, 0.8]])],
            lambda y: np.mean(y.argmax(1) == np.array([1, 0, 2])),
            (),
        ),
        "dropout(test mode)": (
            lambda x: _in_test_mode(F.dropout, x),
            [randn(2, 3)],
            lambda x: x,
            (0,),
        ),
        "dropout(train)": (
            lambda x: _seeded(F.dropout, x, 0.25),
            [randn(20)],
            lambda x: _seeded(_dropout_ref, x, 0.25),
            (0,),
        ),
    }
)
CASES.update(CONV_ROWS)  # convolution and pooling, against the loops in test_conv.py


def _in_test_mode(f, x):
    with dz.test_mode():
        return f(x)


def _seeded(f, *args):
    np.random.seed(0)  # the same mask on every call, so that numerical gradients make sense
    return f(*args)


def _dropout_ref(x, ratio):
    return x * (np.random.rand(*x.shape) > ratio) / (1 - ratio)


def _bn_ref(x, gamma, beta, mean=None, var=None, eps=2e-5):
    """Batch normalization channel by channel, with the batch's statistics unless given."""
    y = np.empty_like(x)
    for c in range(x.shape[1]):
        v = x[:, c]
        mu = v.mean() if mean is None else mean[c]
        sigma2 = v.var() if var is None else var[c]
        y[:, c] = gamma[c] * (v - mu) / np.sqrt(sigma2 + eps) + beta[c]
    return y


BN_MEAN, BN_VAR = np.array([0.5, -0.2, 0.1]), np.array([2.0, 0.5, 1.5])


def _bn_train(x, gamma, beta):
    return F.batch_norm(x, gamma, beta, np.zeros(3), np.ones(3))


def _bn_test(x, gamma, beta):
    with dz.test_mode():
        return F.batch_norm(x, gamma, beta, BN_MEAN.copy(), BN_VAR.copy())


CASES.update(
    {
        "batch_norm": (_bn_train, [randn(5, 3), randn(3), randn(3)], _bn_ref, (0, 1, 2)),
        "batch_norm(4-d)": (_bn_train, [randn(2, 3, 2, 3), randn(3), randn(3)], _bn_ref, (0, 1, 2)),
        "batch_norm(test mode)": (
            _bn_test,
            [randn(4, 3, 2, 2), randn(3), randn(3)],
            lambda x, g, b: _bn_ref(x, g, b, BN_MEAN, BN_VAR),
            (0, 1, 2),
        ),
        "batch_nrom": (
            lambda x, g, b: F.batch_nrom(x, g, b, np.zeros(3), np.ones(3)),
            [randn(4, 3), randn(3), randn(3)],
            _bn_ref,
            (0, 1, 2),
        ),
        "embed_id": (
            lambda W: F.embed_id(np.array([[0, 2], [3, 1]]), W),
            [randn(4, 3)],
            lambda W: W[np.array([[0, 2], [3, 1]])],
            (0,),
        ),
        "embed_id(repeated ids)": (
            lambda W: F.embed_id(np.array([2, 0, 2, 2]), W),
            [randn(3, 2)],
            lambda W: np.stack([W[2], W[0], W[2], W[2]]),
            (0,),
        ),
        "linear_simple": (
            F.linear_simple,
            [randn(2, 3), randn(3, 4), randn(4)],
            lambda x, W, b: x @ W + b,
            (0, 1, 2),
        ),
        "sigmoid_simple": (F.sigmoid_simple, [randn(2, 3)], lambda x: 1 / (1 + np.exp(-x)), (0,)),
        "softmax_simple": (F.softmax_simple, [randn(2, 3)], softmax_ref, (0,)),
        "softmax_simple(axis 0)": (
            lambda x: F.softmax_simple(x, axis=0),
            [randn(2, 3)],
            lambda x: softmax_ref(x, axis=0),
            (0,),
        ),
        "softmax_cross_entropy_simple": (
            lambda x: F.softmax_cross_entropy_simple(x, LABELS),
            [randn(4, 3)],
            lambda x: -np.log(softmax_ref(x)[np.arange(4), LABELS]).mean(),
            (0,),
        ),
        "mean_squared_error_simple": (
            F.mean_squared_error_simple,
            [randn(4, 1), randn(4, 1)],
            lambda a, b: ((a - b) ** 2).sum() / 4,
            (0, 1),
        ),
        "concatenate": (
            lambda a, b: F.concatenate([a, b, a], axis=1),
            [randn(2, 3), randn(2, 1)],
            lambda a, b: np.concatenate([a, b, a], axis=1),
            (0, 1),
        ),
        "split": (lambda x: F.split(x, 3, axis=1)[1], [randn(2, 6)], lambda x: x[:, 2:4], (0,)),
        "split(indices)": (
            lambda x: F.split(x, [1])[1] * F.split(x, [1])[0],
            [randn(3, 2)],
            lambda x: x[1:] * x[:1],
            (0,),
        ),
    }
)


def exported_ops():
    return {
        name
        for name, obj in vars(F).items()
        if inspect.isfunction(obj)
        and obj.__module__ in (F.__name__, "dezero_lite.functions_conv")
        and not name.startswith("_")
        and name.islower()
    }


def test_every_exported_op_has_a_row():
    covered = {name.split("(")[0] for name in CASES}
    assert exported_ops() - covered == set()


@pytest.mark.parametrize("name", CASES)
def test_forward_matches_numpy(name):
    f, inputs, ref, _ = CASES[name]
    y = f(*[dz.Variable(x) for x in inputs])
    assert isinstance(y, dz.Variable) and isinstance(y.data, np.ndarray)
    np.testing.assert_allclose(y.data, ref(*inputs), rtol=1e-12, atol=1e-12)


def _with_input(f, inputs, i):
    return lambda v: f(*inputs[:i], v, *inputs[i + 1 :])


@pytest.mark.parametrize("name", CASES)
def test_backward_matches_numerical_gradient(name):
    f, inputs, _, wrt = CASES[name]
    for i in wrt:
        assert gradient_check(_with_input(f, inputs, i), inputs[i]), f"input {i}"


@pytest.mark.parametrize("name", [n for n in CASES if CASES[n][3]])
def test_second_derivative_matches_numerical_gradient(name):
    f, inputs, _, wrt = CASES[name]
    for i in wrt:
        g = _with_input(f, inputs, i)
        gy = np.random.default_rng(1).standard_normal(np.shape(g(inputs[i]).data))

        def first_derivative(v):
            (gx,) = dz.grad(g(v), v, grad_outputs=gy, create_graph=True)  # noqa: B023 (this loop's)
            return gx

        assert gradient_check(first_derivative, inputs[i], rtol=1e-3, atol=1e-4), f"input {i}"


@pytest.mark.parametrize("name", [n for n in CASES if CASES[n][3]])
def test_gradients_are_the_same_with_and_without_a_graph_of_them(name):
    # Without create_graph the backward code runs on plain arrays; with it, on Variables.
    f, inputs, _, wrt = CASES[name]
    xs = [dz.Variable(x) for x in inputs]
    y = f(*xs)
    gy = np.random.default_rng(2).standard_normal(y.shape)
    targets = [xs[i] for i in wrt]
    plain = dz.grad(y, targets, grad_outputs=gy)
    graphed = dz.grad(y, targets, grad_outputs=gy, create_graph=True)
    for a, b in zip(plain, graphed, strict=True):
        assert a.creator is None and isinstance(a.data, np.ndarray)
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a.data, b.data, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_0d_gradients_are_the_same_with_and_without_a_graph_of_them(dtype):
    # On 0-d arrays NumPy arithmetic gives NumPy scalars, which a backward pass without a
    # graph passes around as they are, and the ops it calls get 0-d inputs as NumPy scalars
    # too: every op that takes 0-d inputs must still agree.
    compared = 0
    for f, inputs, _, wrt in CASES.values():
        xs = [np.asarray(np.ravel(x)[0]) for x in inputs]
        xs = [dz.Variable(x.astype(dtype) if x.dtype.kind == "f" else x) for x in xs]
        try:
            y = f(*xs)
        except (ValueError, TypeError, IndexError):
            continue  # an op that needs axes or a shape
        if not wrt or y.ndim != 0:
            continue
        targets = [xs[i] for i in wrt]
        plain = dz.grad(y, targets, grad_outputs=np.asarray(0.7, y.dtype))
        graphed = dz.grad(y, targets, grad_outputs=np.asarray(0.7, y.dtype), create_graph=True)
        for a, b, x in zip(plain, graphed, targets, strict=True):
            assert type(a.data) is np.ndarray and a.dtype == b.dtype == x.dtype
            np.testing.assert_allclose(a.data, b.data, rtol=1e-6, equal_nan=True)
        compared += 1
    assert compared >= 50  # most ops take 0-d inputs


@pytest.mark.parametrize("name", [n for n in CASES if CASES[n][3] and n != "pow(const array)"])
def test_float32_in_float32_out(name):  # (a float64 constant array promotes, as in NumPy)
    f, inputs, _, wrt = CASES[name]
    xs = [dz.Variable(x.astype(np.float32)) for x in inputs]
    y = f(*xs)
    assert y.dtype == np.float32
    y.backward()
    for i in wrt:
        assert xs[i].grad.dtype == np.float32 and xs[i].grad.shape == xs[i].shape


def test_losses_follow_the_dtype_of_the_scores_whichever_side_the_target_is_on():
    y = dz.Variable(np.ones((3, 1), np.float32))
    t = np.zeros((3, 1))  # float64, as data sets often give
    for loss in (
        F.mean_squared_error(y, t),
        F.mean_squared_error(t, y),
        F.binary_cross_entropy(F.sigmoid(y), t),
        F.sigmoid_cross_entropy(y, t),
    ):
        assert loss.dtype == np.float32


def test_powers_at_zero_have_finite_gradients():
    x = dz.Variable(np.array([0.0, 1.0]))
    F.sum(x**0).backward()
    assert np.array_equal(x.grad.data, [0.0, 0.0])
    base, c = dz.Variable(np.array(0.0)), dz.Variable(np.array(2.0))
    (base**c).backward()
    assert c.grad.data == 0.0 and base.grad.data == 0.0


def test_an_exponent_given_as_a_list_or_a_numpy_scalar_differentiates():
    x = dz.Variable(np.array([2.0, 3.0]))
    F.sum(x ** [2, 3]).backward()
    assert np.array_equal(x.grad.data, [2 * 2.0, 3 * 3.0**2])
    x.cleargrad()
    F.sum(x ** np.float64(0.5)).backward()
    np.testing.assert_allclose(x.grad.data, 0.5 / np.sqrt([2.0, 3.0]))


def test_clip_with_one_open_side_and_transpose_of_none():
    x = dz.Variable(np.array([-2.0, 0.5, 4.0]))
    y = F.clip(x, None, 3.0)
    F.sum(y).backward()
    assert np.array_equal(y.data, [-2.0, 0.5, 3.0]) and np.array_equal(x.grad.data, [1, 1, 0])
    m = dz.Variable(np.zeros((2, 3)))
    assert m.transpose(None).shape == (3, 2)


def test_loss_inputs_of_the_wrong_shape_are_named():
    with pytest.raises(ValueError, match=r"\(3, 1\) and \(3,\)"):
        F.mean_squared_error(dz.Variable(np.zeros((3, 1))), np.ones(3))
    with pytest.raises(ValueError, match=r"\(N, C\), got \(3,\)"):
        F.softmax_cross_entropy(dz.Variable(np.ones(3)), np.array([0]))


def test_numerical_grad_passes_every_keyword_to_f():
    from dezero_lite.utils import numerical_grad

    g = numerical_grad(lambda v, eps: v * eps, np.array([1.0, 2.0]), eps=3.0)
    assert np.allclose(g, [3.0, 3.0])
