"""Batch normalization: running statistics, test mode, and the BatchNorm layer.

Values and gradients of F.batch_norm against a channel-by-channel reference are
rows of the op table in test_functions.py."""

import numpy as np
import pytest

import dezero_lite as dz
import dezero_lite.functions as F
import dezero_lite.layers as L
from dezero_lite.models import Model
from dezero_lite.optimizers import SGD

rng = np.random.default_rng(0)


@pytest.mark.parametrize("shape, axes", [((8, 3), (0,)), ((4, 3, 5, 2), (0, 2, 3))])
def test_training_normalizes_each_channel_and_updates_the_running_statistics(shape, axes):
    x = rng.standard_normal(shape) * 3 + 2
    mean, var = np.full(3, 0.5), np.full(3, 2.0)
    y = F.batch_norm(x, np.ones(3), np.zeros(3), mean, var, decay=0.8)
    assert np.allclose(y.data.mean(axis=axes), 0, atol=1e-12)
    assert np.allclose(y.data.var(axis=axes), 1, atol=1e-4)  # eps keeps it just below 1
    # PyTorch's rule: the running variance is the unbiased (n - 1) estimate
    assert np.allclose(mean, 0.8 * 0.5 + 0.2 * x.mean(axis=axes))
    assert np.allclose(var, 0.8 * 2.0 + 0.2 * x.var(axis=axes, ddof=1))


def test_test_mode_uses_the_running_statistics_and_leaves_them_alone():
    x = rng.standard_normal((6, 2, 3, 3))
    gamma, beta = np.array([2.0, 0.5]), np.array([0.1, -1.0])
    mean, var = np.array([0.3, -0.4]), np.array([1.5, 0.2])
    with dz.test_mode():
        y = F.batch_norm(x, gamma, beta, mean, var)
    expected = (
        gamma[None, :, None, None]
        * (x - mean[None, :, None, None])
        / np.sqrt(var[None, :, None, None] + 2e-5)
        + beta[None, :, None, None]
    )
    assert np.allclose(y.data, expected)
    assert np.array_equal(mean, [0.3, -0.4]) and np.array_equal(var, [1.5, 0.2])


def test_test_mode_backward_uses_the_statistics_of_the_forward_pass():
    x = dz.Variable(rng.standard_normal((3, 2)))
    mean, var = np.zeros(2), np.full(2, 4.0)
    with dz.test_mode():
        y = F.batch_norm(x, np.ones(2), np.zeros(2), mean, var, eps=0.0)
    var[:] = 100.0  # a later training call may change them before backward runs
    y.backward()
    assert np.allclose(x.grad.data, 0.5)


def test_float32_input_with_float64_running_statistics_stays_float32():
    x = rng.standard_normal((4, 3)).astype(np.float32)
    g, b = np.ones(3, np.float32), np.zeros(3, np.float32)
    for train in (True, False):
        with dz.using_config("train", train):
            assert F.batch_norm(x, g, b, np.zeros(3), np.ones(3)).dtype == np.float32


def test_bad_input_is_a_clear_error():
    ones = np.ones(3)
    with pytest.raises(ValueError, match=r"\(N, C\) or \(N, C, H, W\), got \(2, 3, 4\)"):
        F.batch_norm(np.ones((2, 3, 4)), ones, ones, np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match=r"shape \(3,\).*got \(4,\)"):
        F.batch_norm(np.ones((2, 3)), np.ones(4), ones, np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match=r"shape \(3,\).*got \(1,\)"):
        F.batch_norm(np.ones((2, 3)), ones, np.ones(1), np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="running mean must be a float array"):
        F.batch_norm(np.ones((2, 3)), ones, ones, [0, 0, 0], np.ones(3))
    with pytest.raises(ValueError, match="running var"):
        F.batch_norm(np.ones((2, 3)), ones, ones, np.zeros(3), np.ones(3, int))
    with pytest.raises(ValueError, match="more than one value per channel"):
        F.batch_norm(np.ones((1, 3)), ones, ones, np.zeros(3), np.ones(3))
    with dz.test_mode():  # one sample is fine with the running statistics
        assert F.batch_norm(np.ones((1, 3)), ones, ones, np.zeros(3), np.ones(3)).shape == (1, 3)


def test_the_class_is_dezero_s_and_the_misspelling_is_an_alias():
    mean, var = np.zeros(2), np.ones(2)
    y = F.BatchNorm(mean, var, 0.9, 2e-5)(
        np.array([[1.0, 2.0], [3.0, 6.0]]), np.ones(2), np.zeros(2)
    )
    assert np.allclose(y.data, [[-1, -1], [1, 1]], atol=1e-4)
    assert F.batch_nrom is F.batch_norm


class Net(Model):
    def __init__(self):
        super().__init__()
        self.fc = L.Linear(4)
        self.bn = L.BatchNorm()

    def forward(self, x):
        return self.bn(self.fc(x))


def test_the_layer_makes_its_parameters_at_the_first_call():
    bn = L.BatchNorm()
    assert all(p.data is None for p in bn.params())
    y = bn(rng.standard_normal((5, 3, 4, 4)).astype(np.float32))
    assert y.shape == (5, 3, 4, 4) and y.dtype == np.float32
    assert [(n, p.shape, p.dtype) for n, p in bn.named_params()] == [
        (n, (3,), np.float32) for n in ("avg_mean", "avg_var", "gamma", "beta")
    ]
    assert np.allclose(bn.gamma.data, 1) and np.allclose(bn.beta.data, 0)


def test_running_statistics_are_saved_and_loaded_with_the_weights(tmp_path):
    np.random.seed(0)
    model = Net()
    for _ in range(3):
        model(rng.standard_normal((10, 2)) * 2 + 1)
    with np.load(_saved(model, tmp_path / "w.npz")) as npz:
        assert set(npz.files) == {
            "fc/W",
            "fc/b",
            "bn/avg_mean",
            "bn/avg_var",
            "bn/gamma",
            "bn/beta",
        }
        assert np.array_equal(npz["bn/avg_var"], model.bn.avg_var.data)
    x = rng.standard_normal((2, 2))
    with dz.test_mode():
        expected = model(x).data
        other = Net()
        other.load_weights(tmp_path / "w.npz")
        assert np.array_equal(other(x).data, expected)
        assert not np.allclose(other.bn.avg_mean.data, 0)  # the statistics, not a fresh layer


def _saved(model, path):
    model.save_weights(path)
    return path


def test_optimizers_train_gamma_and_beta_but_not_the_running_statistics():
    model = Net()
    x = rng.standard_normal((8, 2))
    loss = F.sum(model(x) * rng.standard_normal((8, 4)))
    mean, var = model.bn.avg_mean.data.copy(), model.bn.avg_var.data.copy()
    gamma = model.bn.gamma.data.copy()
    model.cleargrads()
    loss.backward()
    SGD(lr=0.1).setup(model).update()
    assert model.bn.avg_mean.grad is None and model.bn.avg_var.grad is None
    assert np.array_equal(model.bn.avg_mean.data, mean) and np.array_equal(
        model.bn.avg_var.data, var
    )
    assert not np.allclose(model.bn.gamma.data, gamma)


def test_batch_norm_gives_each_input_a_gradient_of_its_own_dtype():
    x = dz.Variable(np.arange(6, dtype=np.float32).reshape(3, 2))
    gamma, beta = dz.Variable(np.ones(2)), dz.Variable(np.zeros(2))
    y = F.batch_norm(x, gamma, beta, np.zeros(2), np.ones(2))
    gx, gg, gb = dz.grad(y, [x, gamma, beta], grad_outputs=np.arange(6.0).reshape(3, 2))
    assert (gx.dtype, gg.dtype, gb.dtype) == (np.float32, np.float64, np.float64)


def test_batch_norm_names_itself_for_input_without_channels():
    with pytest.raises(ValueError, match="batch_norm: input of shape \\(2, 0\\) has no channels"):
        F.batch_norm(np.zeros((2, 0)), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0))
