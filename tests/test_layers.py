import os
import sys

import numpy as np
import pytest

import dezero_lite.functions as F
from dezero_lite import Parameter, Variable
from dezero_lite import layers as L
from dezero_lite.models import MLP, Model, Sequential


class Block(L.Layer):
    def __init__(self):
        super().__init__()
        self.z = Parameter(np.zeros(1), name="z")
        self.inner = L.Linear(2, in_size=3)
        self.a = Parameter(np.ones((2, 2)), name="a")
        self.not_a_param = np.zeros(3)


def test_params_are_found_by_attribute_in_assignment_order():
    for _ in range(3):
        b = Block()
        names = [name for name, _ in b.named_params()]
        assert names == ["z", "inner/W", "inner/b", "a"]
        assert [p for p in b.params()] == [b.z, b.inner.W, b.inner.b, b.a]


def test_reassigning_or_deleting_an_attribute_updates_the_params():
    b = Block()
    b.a = None
    del b.z
    assert [n for n, _ in b.named_params()] == ["inner/W", "inner/b"]
    b.z = Parameter(np.zeros(2))
    assert [n for n, _ in b.named_params()][-1] == "z"


def test_forgetting_super_init_is_a_clear_error():
    class Bad(L.Layer):
        def __init__(self):
            self.W = Parameter(np.zeros(1))

    with pytest.raises(RuntimeError, match="super"):
        Bad()


def test_cleargrads_clears_nested_grads():
    b = Block()
    for p in b.params():
        p.grad = Variable(np.ones_like(p.data))
    b.cleargrads()
    assert all(p.grad is None for p in b.params())


def test_linear_creates_its_weight_lazily_with_xavier_scale():
    np.random.seed(0)
    layer = L.Linear(200)
    assert layer.W.data is None and layer.b.data.shape == (200,)
    y = layer(np.ones((4, 50), dtype=np.float32))
    assert layer.W.shape == (50, 200) and layer.in_size == 50
    assert y.shape == (4, 200) and y.dtype == np.float32
    assert abs(layer.W.data.std() - np.sqrt(1 / 50)) < 0.01
    assert abs(layer.W.data.mean()) < 0.01
    W = layer.W.data.copy()
    layer(np.ones((1, 50), dtype=np.float32))
    assert np.array_equal(W, layer.W.data)


def test_linear_with_in_size_nobias_and_dtype():
    layer = L.Linear(3, nobias=True, dtype=np.float64, in_size=2)
    assert layer.W.shape == (2, 3) and layer.W.dtype == np.float64 and layer.b is None
    assert [n for n, _ in layer.named_params()] == ["W"]
    x = np.array([[1.0, 2.0]])
    assert np.allclose(layer(x).data, x @ layer.W.data)


def test_linear_float32_end_to_end_and_float64_batches_are_cast():
    layer = L.Linear(3)
    x64 = np.random.rand(5, 4)  # float64, as the small data sets give
    y = layer(x64)
    assert y.dtype == np.float32
    loss = F.sum(y * y)
    loss.backward()
    assert loss.dtype == np.float32
    assert layer.W.grad.dtype == np.float32 and layer.b.grad.dtype == np.float32
    assert np.allclose(y.data, x64.astype(np.float32) @ layer.W.data + layer.b.data, atol=1e-6)


def test_linear_gradients_match_the_formula():
    layer = L.Linear(2, in_size=3, dtype=np.float64)
    x = np.random.rand(4, 3)
    gy = np.random.rand(4, 2)
    y = layer(x)
    F.sum(y * gy).backward()
    assert np.allclose(layer.W.grad.data, x.T @ gy)
    assert np.allclose(layer.b.grad.data, gy.sum(axis=0))


def test_repr_lists_layers_shapes_and_counts():
    model = MLP((10, 3))
    text = repr(model)
    assert "MLP" in text and "l0: Linear" in text and "not created" in text
    model(np.zeros((1, 2), np.float32))
    text = repr(model)
    assert "63 parameters" in text  # 2*10 + 10 + 10*3 + 3
    assert "W: (2, 10) float32" in text and "W: (10, 3) float32" in text
    assert model.count_params() == 63


def test_sequential_and_mlp():
    np.random.seed(0)
    seq = Sequential(L.Linear(4), F.relu, L.Linear(1))
    assert [n for n, _ in seq.named_params()] == ["l0/W", "l0/b", "l2/W", "l2/b"]
    x = np.random.rand(3, 2).astype(np.float32)
    y = seq(x)
    h = np.maximum(x @ seq.l0.W.data + seq.l0.b.data, 0)
    assert np.allclose(y.data, h @ seq.l2.W.data + seq.l2.b.data, atol=1e-6)
    with pytest.raises(TypeError, match="position 1"):
        Sequential(L.Linear(1), 3)

    mlp = MLP((5, 4, 2), activation=F.tanh)
    y = mlp(x)
    h = x
    for i, layer in enumerate(mlp.layers):
        h = h @ layer.W.data + layer.b.data
        if i < 2:
            h = np.tanh(h)
    assert np.allclose(y.data, h, atol=1e-5)
    assert isinstance(mlp, Model) and len(list(mlp.params())) == 6


def test_to_gpu_without_cupy_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # as if CuPy were not installed
    model = MLP((2,))
    model(np.zeros((1, 2), np.float32))
    with pytest.raises(RuntimeError, match="CuPy"):
        model.to_gpu()
    assert model.to_cpu() is model and isinstance(model.l0.W.data, np.ndarray)


def trained_model(seed=0):
    np.random.seed(seed)
    model = MLP((4, 3))
    model(np.zeros((1, 2), np.float32))
    return model


def test_save_and_load_weights_round_trip(tmp_path):
    model = trained_model(0)
    path = tmp_path / "w.npz"
    model.save_weights(path)
    with np.load(path, allow_pickle=False) as npz:
        assert sorted(npz.files) == ["l0/W", "l0/b", "l1/W", "l1/b"]
    other = trained_model(1)
    assert not np.array_equal(other.l0.W.data, model.l0.W.data)
    other.load_weights(path)
    for (n1, p1), (n2, p2) in zip(model.named_params(), other.named_params(), strict=True):
        assert n1 == n2 and np.array_equal(p1.data, p2.data) and p2.dtype == np.float32
    assert os.listdir(tmp_path) == ["w.npz"]


def test_save_adds_npz_suffix_and_load_finds_it(tmp_path):
    model = trained_model()
    model.save_weights(tmp_path / "w")
    assert os.listdir(tmp_path) == ["w.npz"]
    fresh = MLP((4, 3))  # lazy weights take the saved shapes
    fresh.load_weights(tmp_path / "w")
    x = np.random.rand(2, 2).astype(np.float32)
    assert np.allclose(fresh(x).data, model(x).data)


def test_interrupted_save_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    model = trained_model(0)
    path = tmp_path / "w.npz"
    model.save_weights(path)
    before = path.read_bytes()

    def broken_savez(file, **arrays):
        file.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        trained_model(1).save_weights(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["w.npz"]


def test_saving_before_the_lazy_weights_exist_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="l0/W is not created yet"):
        MLP((3,)).save_weights(tmp_path / "w.npz")
    assert os.listdir(tmp_path) == []


def snapshot(model):
    return [p.data.copy() for p in model.params()]


@pytest.mark.parametrize(
    "arrays, message",
    [
        (lambda m: {k: v for k, v in m.items() if k != "l1/b"}, "missing from the file: l1/b"),
        (lambda m: {**m, "l2/W": np.zeros(3)}, "not in the model: l2/W"),
        (
            lambda m: {**m, "l1/W": np.zeros((3, 4), np.float32)},
            r"l1/W has shape \(3, 4\) in the file "
            r"but \(4, 3\) in the model",
        ),
    ],
)
def test_load_mismatch_names_the_arrays_and_changes_nothing(tmp_path, arrays, message):
    src = trained_model(0)
    good = {k: p.data for k, p in src.named_params()}
    np.savez(tmp_path / "bad.npz", **arrays(good))
    model = trained_model(1)
    before = snapshot(model)
    with pytest.raises(ValueError, match=message):
        model.load_weights(tmp_path / "bad.npz")
    assert all(np.array_equal(a, p.data) for a, p in zip(before, model.params(), strict=True))


def test_load_refuses_pickled_objects(tmp_path):
    model = trained_model()
    arrays = {k: p.data for k, p in model.named_params()}
    arrays["l0/b"] = np.array([{"evil": 1}], dtype=object)
    np.savez(tmp_path / "pickled.npz", **arrays)
    with pytest.raises(ValueError, match="pickle"):
        model.load_weights(tmp_path / "pickled.npz")


def test_model_plot_writes_the_graph(tmp_path):
    from dezero_lite.graph import GraphvizNotFoundError

    model = trained_model()
    target = tmp_path / "model.png"
    try:
        model.plot(np.zeros((1, 2), np.float32), to_file=str(target))
    except GraphvizNotFoundError:
        assert not target.exists()  # no Graphviz: only the DOT text below
    else:
        assert target.read_bytes()[:4] == b"\x89PNG"
    dot = (tmp_path / "model.dot").read_text()
    assert "digraph" in dot and "(2, 4)" in dot  # verbose: the weight's shape is shown


def test_saving_into_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        trained_model().save_weights(tmp_path / "nope" / "w.npz")
