"""The book's long-way-round `_simple` functions and DeZero's fused Function classes
give the same values and gradients as the ops we use."""

import numpy as np
import pytest

import dezero_lite as dz
import dezero_lite.functions as F
from dezero_lite.utils import gradient_check

rng = np.random.default_rng(3)
LABELS = np.array([1, 0, 2, 2, 1])

PAIRS = {  # name: (the long way, the fused op, inputs)
    "linear": (
        F.linear_simple,
        F.linear,
        [rng.standard_normal((5, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)],
    ),
    "linear(nobias)": (
        F.linear_simple,
        F.linear,
        [rng.standard_normal((5, 3)), rng.standard_normal((3, 2))],
    ),
    "sigmoid": (F.sigmoid_simple, F.sigmoid, [rng.standard_normal((4, 3)) * 5]),
    "softmax": (F.softmax_simple, F.softmax, [rng.standard_normal((4, 3)) * 5]),
    "softmax_cross_entropy": (
        lambda x: F.softmax_cross_entropy_simple(x, LABELS),
        lambda x: F.softmax_cross_entropy(x, LABELS),
        [rng.standard_normal((5, 3))],
    ),
    "mean_squared_error": (
        F.mean_squared_error_simple,
        F.mean_squared_error,
        [rng.standard_normal((5, 2)), rng.standard_normal((5, 2))],
    ),
    "Linear class": (
        lambda x, W, b: F.Linear()(x, W, b),
        F.linear,
        [rng.standard_normal((5, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)],
    ),
    "Linear class(nobias)": (
        lambda x, W: F.Linear()(x, W),
        F.linear,
        [rng.standard_normal((5, 3)), rng.standard_normal((3, 2))],
    ),
    "MeanSquaredError class": (
        lambda a, b: F.MeanSquaredError()(a, b),
        F.mean_squared_error,
        [rng.standard_normal((5, 2)), rng.standard_normal((5, 2))],
    ),
}


def _values_and_grads(f, inputs, gy):
    xs = [dz.Variable(x.copy()) for x in inputs]
    y = f(*xs)
    y.grad = dz.Variable(gy)  # backward starts from the grad already set
    y.backward()
    return y.data, [x.grad.data for x in xs]


@pytest.mark.parametrize("name", PAIRS)
def test_the_long_way_gives_the_same_values_and_gradients(name):
    slow, fused, inputs = PAIRS[name]
    gy = rng.standard_normal(np.shape(fused(*inputs).data))
    y0, g0 = _values_and_grads(slow, inputs, gy)
    y1, g1 = _values_and_grads(fused, inputs, gy)
    np.testing.assert_allclose(y0, y1, rtol=1e-12, atol=1e-12)
    for a, b in zip(g0, g1, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", [n for n in PAIRS if "class" in n])
def test_dezero_s_classes_pass_gradient_check_and_differentiate_again(name):
    f, _, inputs = PAIRS[name]
    for i in range(len(inputs)):
        g = lambda v, i=i: f(*inputs[:i], v, *inputs[i + 1 :])  # noqa: E731
        assert gradient_check(g, inputs[i]), f"input {i}"

        def first_derivative(v, g=g):
            (gx,) = dz.grad(g(v), v, create_graph=True)
            return gx * gx

        assert gradient_check(first_derivative, inputs[i], rtol=1e-3, atol=1e-4), f"input {i}"


def test_the_simple_softmax_does_not_overflow_and_labels_are_checked():
    y = F.softmax_simple(np.array([[1000.0, 1000.0, -1000.0]]))
    assert np.allclose(y.data, [[0.5, 0.5, 0.0]])
    with pytest.raises(ValueError, match="labels must lie in 0..2"):
        F.softmax_cross_entropy_simple(np.zeros((2, 3)), np.array([0, 3]))


def test_dezero_s_function_classes_exist_under_their_names():
    names = [
        "Sin",
        "Cos",
        "Tanh",
        "Exp",
        "Log",
        "Reshape",
        "Sum",
        "SumTo",
        "BroadcastTo",
        "MatMul",
        "Linear",
        "Transpose",
        "GetItem",
        "GetItemGrad",
        "Sigmoid",
        "ReLU",
        "Softmax",
        "LogSoftmax",
        "LeakyReLU",
        "MeanSquaredError",
        "SoftmaxCrossEntropy",
        "BatchNorm",
        "Max",
        "Min",
        "Clip",
    ]
    assert [n for n in names if not issubclass(getattr(F, n, type), dz.Function)] == []


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: F.softmax_simple(np.zeros(3)), "softmax_simple: axis 1 is out of bounds"),
        (
            lambda: F.softmax_simple(np.zeros((2, 0))),
            "softmax_simple: axis 1 of shape (2, 0) is empty",
        ),
        (
            lambda: F.softmax_simple(np.ones((2, 2), bool)),
            "softmax_simple: scores must be floating",
        ),
        (
            lambda: F.softmax_cross_entropy_simple(np.zeros(2), np.array([0, 0])),
            "softmax_cross_entropy_simple takes scores of shape (N, C)",
        ),
        (
            lambda: F.softmax_cross_entropy_simple(np.zeros((2, 2), int), np.array([0, 0])),
            "softmax_cross_entropy_simple: scores must be floating",
        ),
        (
            lambda: F.mean_squared_error_simple(np.zeros((2, 1)), np.zeros(2)),
            "mean_squared_error_simple: shapes (2, 1) and (2,) differ",
        ),
    ],
)
def test_the_simple_functions_name_themselves_on_bad_input(call, message):
    with pytest.raises((TypeError, ValueError)) as e:
        call()
    assert message in str(e.value)


def test_the_simple_mean_squared_error_takes_0d_input_like_the_fused_one():
    x = dz.Variable(np.array(3.0, np.float32))
    y = F.mean_squared_error_simple(x, np.array(1.0))
    assert y.dtype == np.float32 and y.data == 4.0
    y.backward()
    assert x.grad.dtype == np.float32 and x.grad.data == 4.0
