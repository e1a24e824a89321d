"""Bad input and faults: refused with an error naming what was wrong, never silently wrong, nothing lost."""

import functools
import os
import stat
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import dezero_lite.functions as F
from dezero_lite import Parameter, Variable
from dezero_lite import layers as L
from dezero_lite import optimizers as O
from dezero_lite.dataloaders import DataLoader
from dezero_lite.datasets import Digits, Spiral
from dezero_lite.models import MLP, Model
from test_layers import snapshot, trained_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def unchanged(model, before):
    return all(np.array_equal(a, p.data) for a, p in zip(before, model.params(), strict=True))


# Loading weights: all or nothing, checked against the layer's declared sizes and dtype


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.array(["a", "b", "c"]), "l1/b has dtype <U1 in the file but must be float32"),
        (np.arange(3), "l1/b has dtype int64 in the file but must be float32"),
        (np.array([1 + 2j, 0, 0]), "l1/b has dtype complex128"),
        (np.zeros(3, bool), "l1/b has dtype bool"),
    ],
)
def test_load_checks_dtypes_before_changing_anything(tmp_path, bad, message):
    arrays = {k: p.data for k, p in trained_model(0).named_params()}
    arrays["l1/b"] = bad
    np.savez(tmp_path / "w.npz", **arrays)
    model = trained_model(1)
    before = snapshot(model)
    with pytest.raises(ValueError, match=message):
        model.load_weights(tmp_path / "w.npz")
    assert unchanged(model, before)


def test_float64_weights_load_into_float32_layers(tmp_path):
    arrays = {k: p.data.astype(np.float64) for k, p in trained_model(0).named_params()}
    np.savez(tmp_path / "w.npz", **arrays)
    model = trained_model(1)
    model.load_weights(tmp_path / "w.npz")
    assert all(p.dtype == np.float32 for p in model.params())
    assert np.allclose(model.l0.W.data, arrays["l0/W"])


@pytest.mark.parametrize(
    "W, message",
    [
        (np.zeros((4, 7), np.float32), r"W has shape \(4, 7\) in the file but \('any', 3\)"),
        (np.zeros(3, np.float32), r"W has shape \(3,\) in the file but \('any', 3\)"),
        (np.zeros((4, 3), np.int64), "W has dtype int64"),
    ],
)
def test_a_lazy_layer_loads_only_what_fits_its_declared_sizes(tmp_path, W, message):
    np.savez(tmp_path / "w.npz", W=W)
    layer = L.Linear(3, nobias=True)
    with pytest.raises(ValueError, match=message):
        layer.load_weights(tmp_path / "w.npz")
    assert layer.W.data is None


def test_a_lazy_layer_with_an_in_size_checks_it(tmp_path):
    np.savez(tmp_path / "w.npz", W=np.zeros((5, 3), np.float32), b=np.zeros(3, np.float32))
    with pytest.raises(ValueError, match=r"\(5, 3\) in the file but \(4, 3\)"):
        L.Linear(3, in_size=4).load_weights(tmp_path / "w.npz")
    fresh = L.Linear(3)
    fresh.load_weights(tmp_path / "w.npz")
    assert fresh(np.ones((2, 5))).shape == (2, 3)


def test_shapes_are_checked_from_the_headers_before_any_data_is_read(tmp_path, monkeypatch):
    """A small file whose array would decompress to gigabytes is refused without reading it."""
    path = tmp_path / "bomb.npz"
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z,
        z.open("l0/W.npy", "w", force_zip64=True) as f,
    ):
        np.lib.format.write_array_header_1_0(
            f, {"descr": "<f4", "fortran_order": False, "shape": (2**31, 2**31)}
        )
        f.write(bytes(1 << 20))
    assert path.stat().st_size < 100_000
    read = []
    monkeypatch.setattr(np.lib.format, "read_array", lambda *a, **k: read.append(1))
    with pytest.raises(ValueError, match=r"l0/W has shape \(2147483648, 2147483648\)"):
        trained_model().load_weights(path)
    assert read == []


@pytest.mark.parametrize(
    "make",
    [
        lambda p: p.write_bytes(npy_bytes()),
        lambda p: p.write_bytes(b""),
        lambda p: p.write_bytes(b"hello, this is not a zip"),
        lambda p: p.write_bytes(trained_bytes()[:300]),
        lambda p: p.write_bytes(trained_bytes()[:-300]),
    ],
)
def test_loading_a_file_that_is_not_a_weights_file_says_so(tmp_path, make):
    path = tmp_path / "w.npz"
    make(path)
    model = trained_model(1)
    before = snapshot(model)
    with pytest.raises(
        ValueError, match=f"{path}.*not a weights file written by save_weights"
    ) as e:
        model.load_weights(path)
    assert "allow_pickle" not in str(e.value) and unchanged(model, before)


def npy_bytes():
    import io

    buf = io.BytesIO()
    np.save(buf, np.zeros(3))
    return buf.getvalue()


@functools.cache
def trained_bytes():
    import io

    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        **{
            k: np.random.rand(*p.shape).astype(np.float32)
            for k, p in trained_model().named_params()
        },
    )
    return buf.getvalue()


def test_a_damaged_array_in_a_valid_archive_changes_nothing(tmp_path):
    path = tmp_path / "w.npz"
    arrays = {k: p.data for k, p in trained_model(0).named_params()}
    # l1/b's header promises 3 floats, the data stops after one
    with zipfile.ZipFile(path, "w") as z:
        for k, a in arrays.items():
            with z.open(k + ".npy", "w") as f:
                np.lib.format.write_array_header_1_0(f, np.lib.format.header_data_from_array_1_0(a))
                f.write(a.tobytes()[: 4 if k == "l1/b" else None])
    model = trained_model(1)
    before = snapshot(model)
    with pytest.raises(ValueError, match="the data of l1/b is damaged"):
        model.load_weights(path)
    assert unchanged(model, before)


# Saving: atomic, and like a plain open() in what it refuses and which mode it gives


def test_a_read_only_weights_file_is_not_replaced(tmp_path):
    path = tmp_path / "w.npz"
    trained_model(0).save_weights(path)
    before = path.read_bytes()
    path.chmod(0o444)
    with pytest.raises(PermissionError, match=f"{path}: the file is read-only"):
        trained_model(1).save_weights(path)
    assert path.read_bytes() == before and stat.S_IMODE(path.stat().st_mode) == 0o444
    assert os.listdir(tmp_path) == ["w.npz"]


def test_saving_through_a_symlink_updates_its_target(tmp_path):
    real = tmp_path / "real.npz"
    trained_model(0).save_weights(real)
    (tmp_path / "link.npz").symlink_to(real)
    model = trained_model(1)
    model.save_weights(tmp_path / "link.npz")
    assert (tmp_path / "link.npz").is_symlink()
    with np.load(real) as npz:
        assert np.array_equal(npz["l0/W"], model.l0.W.data)


def test_new_files_follow_the_umask_and_old_ones_keep_their_mode(tmp_path):
    old = os.umask(0o077)
    try:
        trained_model().save_weights(tmp_path / "private.npz")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "private.npz").stat().st_mode) == 0o600
    (tmp_path / "private.npz").chmod(0o640)
    trained_model().save_weights(tmp_path / "private.npz")
    assert stat.S_IMODE((tmp_path / "private.npz").stat().st_mode) == 0o640


def test_save_syncs_the_data_before_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(
        os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b))[1]
    )
    trained_model().save_weights(tmp_path / "w.npz")
    assert events == ["fsync", "replace", "fsync"]  # the file, the rename, then its folder


def test_a_temporary_file_left_by_a_killed_save_is_removed_by_the_next(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    stale = tmp_path / f".w.npz.{dead}.0123abcd.tmp"
    stale.write_bytes(b"PK half")
    other = tmp_path / f".other.npz.{dead}.0123abcd.tmp"  # another file's: not ours to remove
    other.write_bytes(b"PK half")
    trained_model().save_weights(tmp_path / "w.npz")
    assert sorted(os.listdir(tmp_path)) == sorted(["w.npz", other.name])


def test_an_unwritable_folder_is_named_not_the_temporary_file(tmp_path, monkeypatch):
    real_open = os.open

    def refuse(path, *a, **k):
        if str(path).endswith(".tmp"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, *a, **k)

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(PermissionError, match=f"cannot write {tmp_path}/w.npz: the folder") as e:
        trained_model().save_weights(tmp_path / "w.npz")
    assert ".tmp" not in str(e.value)


def test_an_upper_case_suffix_is_kept(tmp_path):
    trained_model().save_weights(tmp_path / "b.NPZ")
    assert os.listdir(tmp_path) == ["b.NPZ"]


# Layers kept in containers, Linear's arguments


class ListModel(Model):
    def __init__(self):
        super().__init__()
        self.blocks = [L.Linear(3), L.Linear(2)]
        self.heads = {"out": L.Linear(1)}

    def forward(self, x):
        for layer in self.blocks:
            x = F.tanh(layer(x))
        return self.heads["out"](x)


def test_layers_in_plain_lists_and_dicts_are_found_trained_and_saved(tmp_path):
    np.random.seed(0)
    model = ListModel()
    x = np.random.rand(5, 4)
    model(x)
    names = [n for n, _ in model.named_params()]
    assert names == [
        "blocks/0/W",
        "blocks/0/b",
        "blocks/1/W",
        "blocks/1/b",
        "heads/out/W",
        "heads/out/b",
    ]
    opt = O.SGD(lr=0.1).setup(model)
    loss = F.sum(model(x) ** 2)
    loss.backward()
    before = snapshot(model)
    opt.update()
    assert not unchanged(model, before)
    model.save_weights(tmp_path / "w.npz")
    again = ListModel()
    again.load_weights(tmp_path / "w.npz")
    assert np.allclose(again(x).data, model(x).data)


def test_mlp_names_stay_as_in_dezero():
    assert [n for n, _ in trained_model().named_params()] == ["l0/W", "l0/b", "l1/W", "l1/b"]


def test_a_parameter_in_a_list_or_a_model_with_nothing_is_said(tmp_path):
    class Hidden(L.Layer):
        def __init__(self):
            super().__init__()
            self.ws = [Parameter(np.zeros(2))]

    with pytest.raises(TypeError, match=r"Hidden.ws holds a Parameter in a list"):
        list(Hidden().params())
    with pytest.raises(ValueError, match="has no parameters"):
        Model().save_weights(tmp_path / "w.npz")
    with pytest.raises(ValueError, match="SGD: Model has no parameters to train"):
        O.SGD().setup(Model())
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: L.Linear(3, dtype=np.int32), TypeError, "Linear: dtype must be a floating point"),
        (lambda: L.Linear(0), ValueError, "Linear: out_size must be at least 1, got 0"),
        (lambda: L.Linear(3.0), TypeError, "Linear: out_size must be an int"),
        (lambda: L.Linear(3, in_size=-2), ValueError, "Linear: in_size must be at least 1"),
        (lambda: L.Linear(2)(np.zeros((2, 0))), ValueError, r"at least one feature.*\(2, 0\)"),
        (lambda: L.Linear(2)(np.zeros(())), ValueError, r"at least one feature.*\(\)"),
        (lambda: MLP(()), ValueError, "MLP needs at least one layer size"),
        (lambda: MLP(3), TypeError, "MLP takes a list or tuple of layer sizes"),
    ],
)
def test_layer_arguments_are_checked(make, error, message):
    with pytest.raises(error, match=message):
        make()


# Optimizers and data


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: O.SGD(lr=float("nan")), r"SGD: lr must be a finite number in \(0, inf\), got nan"),
        (lambda: O.SGD(lr=-1), "SGD: lr"),
        (lambda: O.SGD(lr="0.1"), "SGD: lr"),
        (
            lambda: O.MomentumSGD(momentum=2),
            r"MomentumSGD: momentum must be a finite number in \[0, 1\)",
        ),
        (lambda: O.AdaGrad(eps=0), "AdaGrad: eps"),
        (lambda: O.AdaDelta(rho=2), "AdaDelta: rho"),
        (lambda: O.Adam(beta1=1.5), "Adam: beta1"),
        (lambda: O.Adam(beta1=1), "Adam: beta1"),
        (lambda: O.Adam(alpha=float("inf")), "Adam: alpha"),
        (lambda: O.WeightDecay(-1), "WeightDecay: rate"),
        (lambda: O.ClipGrad(0), "ClipGrad: max_norm"),
    ],
)
def test_hyper_parameters_out_of_range_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_hyper_parameters_set_later_are_checked_too():
    opt = O.MomentumSGD()
    opt.lr = 0.5
    with pytest.raises(ValueError, match="MomentumSGD: lr must be a finite number"):
        opt.lr = float("nan")
    with pytest.raises(ValueError, match="MomentumSGD: momentum"):
        opt.momentum = 1.0
    assert (opt.lr, opt.momentum) == (0.5, 0.9)


def test_an_ndarray_set_as_a_gradient_is_used_and_a_wrong_one_is_named():
    model = L.Linear(2, in_size=2)
    before = model.W.data.copy()
    model.W.grad = np.ones((2, 2), np.float32)
    O.SGD(lr=0.5).setup(model).update()
    assert np.allclose(model.W.data, before - 0.5)
    model.W.grad = np.ones(3)
    with pytest.raises(
        TypeError, match=r"SGD: a gradient must be a Variable or an ndarray.*\(2, 2\)"
    ):
        O.SGD().setup(model).update()


def test_gradients_through_broadcasts_can_be_changed_in_place():
    for make in (
        lambda x: F.sum(x),
        lambda x: F.sum(F.broadcast_to(x, (3, 2))),
        lambda x: F.mean(x, axis=0),
    ):
        x = Variable(np.ones(2))
        make(x).backward()
        x.grad.data *= 0.5
        assert x.grad.data.flags.writeable


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda: DataLoader(Spiral(), batch_size=True),
            "DataLoader: batch_size must be a positive int",
        ),
        (lambda: DataLoader(Spiral(), batch_size=0), "batch_size"),
        (
            lambda: DataLoader(Spiral(), batch_size=4, seed=-1),
            r"DataLoader: seed must be None or an int",
        ),
        (lambda: Digits(test_ratio=1.5), "Digits: test_ratio must be a number between 0 and 1"),
        (lambda: Digits(test_ratio=0), "Digits: test_ratio"),
        (lambda: Digits(test_ratio=1e-5), "leaves 1797 training and 0 test images"),
    ],
)
def test_data_arguments_are_checked(make, message):
    pytest.importorskip("sklearn")
    with pytest.raises(ValueError, match=message):
        make()


# Functions: silently wrong before


def test_losses_refuse_shapes_that_broadcast_into_nonsense():
    p = Variable(np.array([[0.9], [0.1]]))
    with pytest.raises(
        ValueError, match=r"binary_cross_entropy: shapes \(2, 1\) and \(2,\) differ"
    ):
        F.binary_cross_entropy(p, np.array([1.0, 0.0]))
    assert np.isclose(F.binary_cross_entropy(p, np.array([[1.0], [0.0]])).data, -np.log(0.9))
    with pytest.raises(ValueError, match=r"sigmoid_cross_entropy: 3 scores .* 2 targets"):
        F.sigmoid_cross_entropy(Variable(np.zeros(3)), np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match=r"accuracy takes scores of shape \(N, C\)"):
        F.accuracy(Variable(np.array([0.2, 0.8])), np.array([1]))
    with pytest.raises(ValueError, match="accuracy: 2 rows of scores but 3 labels"):
        F.accuracy(Variable(np.eye(2)), np.array([0, 1, 1]))


def test_binary_cross_entropy_in_float32_is_finite_and_refuses_what_is_not_a_probability():
    p = Variable(np.array([1.0, 0.0, 0.5], np.float32))
    loss = F.binary_cross_entropy(p, np.array([0.0, 1.0, 1.0], np.float32))
    loss.backward()
    assert loss.dtype == np.float32 and np.isfinite(loss.data) and loss.data > 5
    assert np.all(np.isfinite(p.grad.data))
    with pytest.raises(
        ValueError, match=r"binary_cross_entropy: probabilities .* \[0, 1\], got values from -0.5"
    ):
        F.binary_cross_entropy(Variable(np.array([-0.5, 3.0])), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="binary_cross_entropy: targets must lie in"):
        F.binary_cross_entropy(Variable(np.array([0.5])), np.array([2.0]))


def test_array_exponents_of_zero_and_nan_maxima_have_numpys_gradients():
    x = Variable(np.array([0.0, 1.0]))
    F.sum(x ** np.array([0, 2])).backward()
    assert np.array_equal(x.grad.data, [0.0, 2.0])
    for f in (F.max, F.min):
        x = Variable(np.array([np.nan, 1.0]))
        y = f(x)
        y.backward()
        assert np.isnan(y.data) and np.array_equal(x.grad.data, [1.0, 0.0])


@pytest.mark.parametrize("f", [F.sum, F.mean, F.max, F.min, F.softmax, F.log_softmax])
def test_a_numpy_integer_axis_works_forward_and_backward(f):
    x = Variable(np.random.rand(2, 3))
    y = f(x, axis=np.int64(1))
    F.sum(y * y).backward()
    z = Variable(x.data.copy())
    F.sum(f(z, axis=1) ** 2).backward()
    assert np.allclose(y.data, f(z, axis=1).data) and np.allclose(x.grad.data, z.grad.data)


@pytest.mark.parametrize(
    "axis, error",
    [(1.0, TypeError), ("0", TypeError), (True, TypeError), (5, ValueError), ((0, 0), ValueError)],
)
def test_bad_axes_are_named(axis, error):
    for f in (F.sum, F.max):
        with pytest.raises(error, match=f"{f.__name__}: "):
            f(Variable(np.zeros((2, 3))), axis=axis)


@pytest.mark.parametrize("ratio", [1.0, 1.5, -0.5, float("nan"), True])
def test_dropout_ratio_out_of_range(ratio):
    with pytest.raises(ValueError, match="dropout: dropout_ratio must be a number in"):
        F.dropout(Variable(np.ones(3)), ratio)


def test_empty_and_0d_inputs():
    assert F.flatten(Variable(np.zeros((0, 3, 2)))).shape == (0, 6)
    with pytest.raises(ValueError, match="flatten: a 0-d variable"):
        F.flatten(Variable(np.array(1.0)))
    x = Variable(np.zeros((0, 3)))
    y = F.mean(x)
    y.backward()
    assert np.isnan(y.data) and x.grad.shape == (0, 3)
    assert F.mean(x, axis=1).shape == (0,)
    np.random.seed(0)
    y = F.dropout(Variable(np.array(2.0)), 0.5)
    assert y.shape == () and y.data in (0.0, 4.0)


def test_bad_biases_and_index_types_are_named():
    x, W = Variable(np.ones((2, 3))), Variable(np.ones((3, 4)))
    with pytest.raises(
        ValueError, match=r"linear: a bias of shape \(3,\) does not fit .* \(2, 4\)"
    ):
        F.linear(x, W, np.ones(3))
    with pytest.raises(ValueError, match=r"linear: a bias of shape \(2, 2, 4\)"):
        F.linear(x, W, np.ones((2, 2, 4)))
    with pytest.raises(IndexError, match=r"get_item: cannot index with float \(1.0\)"):
        x[1.0]
    with pytest.raises(IndexError, match="get_item: cannot index with an array of float64"):
        x[np.array([0.0])]
    with pytest.raises(IndexError, match=r"get_item: index 5 does not fit .* \(2, 3\)"):
        x[5]


# tools/train.py


@pytest.mark.parametrize(
    "args, message",
    [
        (["--lr", "nan"], "--lr: 'nan' is not a finite number above 0"),
        (["--lr", "-1"], "--lr"),
        (["--hidden", "0"], "--hidden: '0' is not a whole number of at least 1"),
        (["--batch-size", "0"], "--batch-size"),
        (["--seed", "-1"], "--seed: '-1' is not a whole number of at least 0"),
        (["--epochs", "x"], "--epochs"),
    ],
)
def test_train_tool_refuses_bad_arguments_before_training(args, message):
    out = subprocess.run(
        [sys.executable, os.path.join(ROOT, "tools", "train.py"), *args, "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr


def test_train_tool_refuses_an_out_that_is_a_file_before_training(tmp_path):
    target = tmp_path / "taken"
    target.write_text("keep me")
    out = subprocess.run(
        [sys.executable, os.path.join(ROOT, "tools", "train.py"), "--out", str(target), "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2 and "--out" in out.stderr and "digits" not in out.stdout
    assert target.read_text() == "keep me"


def test_train_tool_stops_when_the_loss_is_no_longer_a_number(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, "tools", "train.py"),
            "--lr",
            "1e30",
            "--epochs",
            "2",
            "--quiet",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1 and "training diverged in epoch 1" in out.stderr
    assert "smaller --lr" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize(
    "f, shape",
    [
        (F.reshape, np.int64(6)),
        (F.reshape, (np.int64(3), 2)),
        (F.broadcast_to, [np.int32(2), 2, 3]),
        (F.sum_to, (np.int64(3),)),
    ],
)
def test_shapes_given_as_numpy_integers_work_and_floats_are_named(f, shape):
    x = Variable(np.ones((2, 3)) if f is not F.broadcast_to else np.ones(3))
    y = f(x, shape)
    F.sum(y * y).backward()
    assert x.grad.shape == x.shape and all(type(n) is int for n in y.shape)
    if isinstance(shape, tuple):  # any iterable of ints will do, even one read only once
        assert f(x, iter(shape)).shape == y.shape
    for bad in [(2.0, 3), (True, 3), (np.True_, 3), "23", None, np.ones((1, 2), int)]:
        with pytest.raises(
            TypeError, match=f"{f.__name__}: a shape must be an int or a tuple of ints"
        ):
            f(x, bad)


def test_axes_given_as_numpy_integers_work_and_others_are_named():
    x = Variable(np.ones((2, 3)))
    assert F.sum(x, axis=np.int64(1)).shape == (2,)
    assert F.sum(x, axis=[np.int32(0), 1]).shape == ()
    for bad in [True, np.True_, 1.0, "1", (0, 1.5)]:
        with pytest.raises(TypeError, match="sum: axis must be None, an int or a tuple of ints"):
            F.sum(x, axis=bad)


def test_expand_dims_names_a_bad_axis():
    x = Variable(np.ones((2, 3)))
    assert F.expand_dims(x, np.int64(-1)).shape == (2, 3, 1)
    with pytest.raises(
        ValueError, match=r"expand_dims: axis 3 is out of bounds for shape \(2, 3, 1\)"
    ):
        F.expand_dims(x, 3)
