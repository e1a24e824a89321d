"""Real training runs, seeded, a second or less each: the tutorial's models learn what they should."""

import gc
import io
import math
import os
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

import dezero_lite as dz
import dezero_lite.functions as F
import dezero_lite.layers as L
from dezero_lite.dataloaders import DataLoader
from dezero_lite.datasets import (
    Digits,
    LinearRegressionData,
    LogicGate,
    LogisticRegressionData,
    Spiral,
)
from dezero_lite.models import MLP
from dezero_lite.optimizers import SGD, Adam
from dezero_lite.progress import SimpleBar, progress, save_loss_curve

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fit(model, opt, x, t, loss_fn, steps):
    for _ in range(steps):
        loss = loss_fn(model(x), t)
        model.cleargrads()
        loss.backward()
        opt.update()
    return float(loss.data)


def test_linear_regression_reaches_w_1_b_1():
    np.random.seed(0)
    ds = LinearRegressionData()
    model = L.Linear(1, dtype=np.float64)
    fit(model, SGD(lr=0.01).setup(model), ds.data, ds.label, F.mean_squared_error, 3000)
    assert abs(model.W.data.item() - 1) < 1e-3 and abs(model.b.data.item() - 1) < 1e-3


def test_logistic_regression_classifies_3_as_0_and_17_as_1():
    np.random.seed(0)
    ds = LogisticRegressionData()
    model = L.Linear(1, dtype=np.float64)
    fit(model, SGD(lr=0.01).setup(model), ds.data, ds.label, F.sigmoid_cross_entropy, 3000)
    p = F.sigmoid(model(np.array([[3.0], [17.0]]))).data.ravel()
    assert p[0] < 0.25 and p[1] > 0.75  # clearly 0 and clearly 1


def summed_bce(y, t):
    return F.sigmoid_cross_entropy(y, t) * len(t)  # the steps sum over the 4 cases


@pytest.mark.parametrize("gate", ["and", "or", "nand"])
def test_one_sigmoid_unit_learns_and_or_nand(gate):
    np.random.seed(0)
    ds = LogicGate(gate)
    unit = L.Linear(1, dtype=np.float64)
    loss = fit(unit, SGD(lr=1.0).setup(unit), ds.data, ds.label, summed_bce, 2000)
    pred = (F.sigmoid(unit(ds.data)).data > 0.5).astype(float)
    assert np.array_equal(pred, ds.label)
    assert loss < 0.05


def test_one_sigmoid_unit_stalls_on_xor_at_4_ln_2():
    np.random.seed(0)
    ds = LogicGate("xor")
    unit = L.Linear(1, dtype=np.float64)
    loss = fit(unit, SGD(lr=1.0).setup(unit), ds.data, ds.label, summed_bce, 2000)
    assert abs(loss - 4 * math.log(2)) < 1e-6
    assert math.isclose(4 * math.log(2), 2.772588722239781)
    pred = (F.sigmoid(unit(ds.data)).data > 0.5).astype(float)
    assert (pred == ds.label).sum() <= 3  # no line separates XOR


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_layer_net_learns_xor(seed):
    np.random.seed(seed)
    ds = LogicGate("xor")
    model = MLP((8, 1))
    loss = fit(model, Adam(alpha=0.1).setup(model), ds.data, ds.label, F.sigmoid_cross_entropy, 300)
    pred = (F.sigmoid(model(ds.data)).data > 0.5).astype(float)
    assert np.array_equal(pred, ds.label)
    assert loss < 0.05


def train_epochs(model, opt, loader, epochs):
    for _ in range(epochs):
        for x, t in loader:
            loss = F.softmax_cross_entropy(model(x), t)
            model.cleargrads()
            loss.backward()
            opt.update()


def test_spiral_above_95_percent_training_accuracy():
    np.random.seed(0)
    train = Spiral(train=True)
    model = MLP((10, 3))
    train_epochs(model, SGD(lr=1.0).setup(model), DataLoader(train, batch_size=30), 300)
    with dz.no_grad():
        acc = float(F.accuracy(model(train.data), train.label).data)
    assert acc > 0.95
    assert model.l0.W.dtype == np.float32


def test_digits_above_95_percent_test_accuracy():
    np.random.seed(0)
    train, test = Digits(train=True), Digits(train=False)
    model = MLP((100, 10), activation=F.relu)
    train_epochs(model, Adam(alpha=0.01).setup(model), DataLoader(train, batch_size=64), 15)
    with dz.no_grad():
        acc = float(F.accuracy(model(test.data), test.label).data)
    assert acc > 0.95


def test_a_thousand_steps_do_not_grow_memory():
    np.random.seed(0)
    ds = Spiral()
    x, t = ds.data[:30], ds.label[:30]
    model = MLP((10, 3))
    opt = Adam().setup(model)
    tracemalloc.start()
    try:
        for step in range(1, 1001):
            loss = F.softmax_cross_entropy(model(x), t)
            model.cleargrads()
            loss.backward()
            opt.update()
            if step == 100:
                gc.collect()  # also empties free lists, which would blur the figure
                at_100 = tracemalloc.get_traced_memory()[0]
        gc.collect()
        at_1000 = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # one kept graph per step would be well over 1 KB a step, i.e. about 1 MB here
    assert at_1000 - at_100 < 32 * 1024, (at_100, at_1000)


def test_simple_bar_shows_progress_and_loss():
    out = io.StringIO()
    bar = SimpleBar(range(3), desc="train", file=out, mininterval=0)
    seen = []
    for i in bar:
        seen.append(i)
        bar.set_postfix(loss=1.0 / (i + 1), epoch=i)
    text = out.getvalue()
    assert seen == [0, 1, 2]
    assert "train" in text and "3/3" in text and "loss=0.3333" in text and "epoch=2" in text
    assert text.endswith("\n") and text.count("\n") == 1


def test_progress_falls_back_to_the_built_in_bar_without_tqdm(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    monkeypatch.setitem(sys.modules, "tqdm", None)
    bar = progress(range(2), desc="x", disable=True)
    assert isinstance(bar, SimpleBar) and list(bar) == [0, 1]


def test_loss_curve_png(tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib is an optional dependency")
    path = save_loss_curve(
        [1.0, 0.5, dz.Variable(np.array(0.25))],
        tmp_path / "sub" / "loss.png",
        accuracy=[0.1, 0.5, 0.9],
    )
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_loss_curve_without_matplotlib_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        save_loss_curve([1.0], tmp_path / "loss.png")


def test_train_tool_runs_and_writes_its_pictures(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, "tools", "train.py"),
            "--epochs",
            "3",
            "--quiet",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    line = [s for s in proc.stdout.splitlines() if "test accuracy" in s][0]
    assert float(line.split()[-1]) > 0.9
    files = set(os.listdir(out))
    assert {"loss.png", "model.dot", "digits_mlp.npz"} <= files
    assert ("model.png" in files) or ("model.dot only" in proc.stdout)
