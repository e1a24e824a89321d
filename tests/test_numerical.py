"""numerical_grad and gradient_check."""

import numpy as np
import pytest

import dezero_lite as dz
import dezero_lite.functions as F
from dezero_lite.utils import gradient_check, numerical_grad


def test_central_difference_figures():
    assert numerical_grad(lambda x: x**2, np.array(3.0)) == pytest.approx(
        6.000000000012662, abs=1e-12
    )
    assert numerical_grad(lambda x: 3 * x * F.exp(x), np.array(2.0)) == pytest.approx(
        66.5015, abs=1e-3
    )


def test_numerical_grad_covers_every_element():
    def f(v):
        x, y = v[0], v[1]
        return 2 * x + 3 * x * y + y**3

    assert np.allclose(numerical_grad(f, np.array([1.0, 2.0])), [8.0, 15.0])

    def g(v):
        w, x, y, z = v[0, 0], v[0, 1], v[1, 0], v[1, 1]
        return w * x + x * y * z + 3 * w + z * y**2

    assert np.allclose(numerical_grad(g, np.array([[1.0, 2.0], [3.0, 4.0]])), [[5, 13], [32, 15]])


class ForgetsTranspose(dz.Function):
    """x @ W with a backward that uses W instead of W.T: right only for symmetric ones-like cases."""

    def forward(self, x, W):
        return x @ W

    def backward(self, gy):
        x, W = self.inputs
        return F.matmul(gy, W), F.matmul(x.T, gy)


def test_a_random_upstream_gradient_catches_a_missing_transpose(capsys):
    W = np.array([[1.0, 2.0], [2.0, 1.0]])  # symmetric: an all-ones check would pass
    x = np.array([[0.5, -1.0]])
    assert gradient_check(lambda v: F.matmul(v, W), x)
    W_bad = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert not gradient_check(lambda v: ForgetsTranspose()(v, W_bad), x)
    out = capsys.readouterr().out
    assert "worst element at index" in out and "off by" in out


def test_gradient_check_leaves_the_callers_variable_alone():
    x = dz.Variable(np.array([1.0, 2.0], dtype=np.float32))
    before = x.data.copy()
    assert gradient_check(F.exp, x)
    assert x.grad is None and x.data.dtype == np.float32 and np.array_equal(x.data, before)
