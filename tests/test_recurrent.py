"""Recurrent layers (RNN, LSTM), truncated backprop through time, and embeddings."""

import gc
import inspect
import sys
import weakref

import numpy as np
import pytest

import dezero_lite as dz
import dezero_lite.functions as F
import dezero_lite.layers as L
from dezero_lite.dataloaders import SeqDataLoader
from dezero_lite.datasets import SinCurve
from dezero_lite.models import Model
from dezero_lite.optimizers import Adam
from dezero_lite.utils import gradient_check, numerical_grad

rng = np.random.default_rng(0)


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def in_float64(layer):
    for _, linear in layer.named_layers():
        linear.dtype = np.dtype(np.float64)  # so that raw float64 input is not cast down
    for p in layer.params():
        p.data = p.data.astype(np.float64)
    return layer


def test_rnn_follows_its_formula_and_keeps_its_state_until_reset():
    rnn = L.RNN(4, in_size=3)  # in_size differs from hidden_size: DeZero's RNN fails here
    xs = rng.standard_normal((3, 2, 3)).astype(np.float32)
    Wx, b, Wh = rnn.x2h.W.data, rnn.x2h.b.data, rnn.h2h.W.data
    assert Wh.shape == (4, 4)
    h = np.tanh(xs[0] @ Wx + b)
    assert np.allclose(rnn(xs[0]).data, h, atol=1e-6)
    for x in xs[1:]:
        h = np.tanh(x @ Wx + b + h @ Wh)
        assert np.allclose(rnn(x).data, h, atol=1e-6)
    rnn.reset_state()
    assert np.allclose(rnn(xs[0]).data, np.tanh(xs[0] @ Wx + b), atol=1e-6)


def test_lstm_follows_its_formula():
    lstm = in_float64(L.LSTM(3, in_size=2))
    W = {name: p.data for name, p in lstm.named_params()}
    h = c = None
    for x in rng.standard_normal((3, 4, 2)):

        def pre(g, x=x, h=h):
            a = x @ W[f"x2{g}/W"] + W[f"x2{g}/b"]
            return a if h is None else a + h @ W[f"h2{g}/W"]

        f, i, o, u = sigmoid(pre("f")), sigmoid(pre("i")), sigmoid(pre("o")), np.tanh(pre("u"))
        c = i * u if c is None else f * c + i * u
        h = o * np.tanh(c)
        assert np.allclose(lstm(x).data, h, rtol=1e-12)


def test_weight_names_are_dezero_s():
    rnn, lstm = L.RNN(3), L.LSTM(3)
    rnn(np.zeros((1, 2)))
    lstm(np.zeros((1, 2)))
    assert [n for n, _ in rnn.named_params()] == ["x2h/W", "x2h/b", "h2h/W"]
    assert [n for n, _ in lstm.named_params()] == (
        [f"x2{g}/{p}" for g in "fiou" for p in "Wb"] + [f"h2{g}/W" for g in "fiou"]
    )


def sum_over_steps(layer, xs):
    layer.reset_state()
    total = 0
    for t in range(len(xs)):
        total = total + layer(xs[t])
    return total


@pytest.mark.parametrize("make", [lambda: L.RNN(3, in_size=2), lambda: L.LSTM(3, in_size=2)])
def test_gradients_through_time_match_numerical_ones(make):
    layer = in_float64(make())
    xs = rng.standard_normal((4, 2, 2))
    assert gradient_check(lambda v: sum_over_steps(layer, v), xs)
    gy = rng.standard_normal((2, 3))
    for name, p in layer.named_params():
        layer.cleargrads()
        y = sum_over_steps(layer, xs)
        y.grad = dz.Variable(gy)
        y.backward()

        def f(v, p=p):
            old, p.data = p.data, v.data
            try:
                return sum_over_steps(layer, xs).data * gy
            finally:
                p.data = old

        assert np.allclose(p.grad.data, numerical_grad(f, p.data), rtol=1e-5, atol=1e-7), name


def test_weight_files_move_between_layers_of_the_same_sizes_and_not_across_kinds(tmp_path):
    x = rng.standard_normal((2, 3)).astype(np.float32)
    for make in (L.RNN, L.LSTM):
        a, b = make(4), make(4)
        a(x)
        a.save_weights(tmp_path / "w.npz")
        b.load_weights(tmp_path / "w.npz")
        a.reset_state()
        assert np.array_equal(a(x).data, b(x).data) and np.array_equal(a(x).data, b(x).data)
    rnn = L.RNN(4)
    rnn(x)
    rnn.save_weights(tmp_path / "rnn.npz")
    with pytest.raises(ValueError, match="missing from the file: x2f/W"):
        L.LSTM(4).load_weights(tmp_path / "rnn.npz")


def test_reset_state_forgets_the_cell_too():
    lstm = L.LSTM(3)
    x = rng.standard_normal((2, 2)).astype(np.float32)
    first = lstm(x).data
    assert not np.allclose(lstm(x).data, first)
    lstm.reset_state()
    assert lstm.h is None and lstm.c is None
    assert np.array_equal(lstm(x).data, first)


def _window(layer, xs):
    loss = 0
    for x in xs:
        loss = loss + F.sum(layer(x))
    return loss


@pytest.mark.parametrize("cut", [True, False])
def test_unchain_backward_frees_the_graph_behind_the_cut(cut):
    lstm = L.LSTM(3)
    xs = rng.standard_normal((5, 2, 2)).astype(np.float32)
    loss = F.sum(lstm(xs[0]))
    old_h = weakref.ref(lstm.h)  # the first step of the first window
    old = weakref.ref(lstm.h.creator)
    loss = loss + _window(lstm, xs[1:])
    loss.backward()
    if cut:
        loss.unchain_backward()
    del loss
    loss = _window(lstm, xs)  # the state carries on from the first window's last h
    loss.backward()
    # with no cycles in a graph, reference counting alone frees it: no gc.collect() here
    assert (old() is None) == cut and (old_h() is None) == cut
    gc.collect()
    assert (old() is None) == cut


def test_a_sequence_of_1000_steps_back_propagates_without_recursion():
    rnn = L.RNN(2, in_size=1)
    xs = rng.standard_normal((1000, 1, 1)).astype(np.float32)
    loss = _window(rnn, xs)
    assert loss.generation > 3000  # far deeper than Python's recursion limit
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 60)  # a recursive backward would hit this
    try:
        loss.backward()
        del loss
        rnn.reset_state()  # the whole graph goes at once
    finally:
        sys.setrecursionlimit(limit)
    assert np.isfinite(rnn.h2h.W.grad.data).all() and rnn.h2h.W.grad.data.any()


class BetterRNN(Model):  # the example, as written there
    def __init__(self, hidden, out):
        super().__init__()
        self.rnn = L.LSTM(hidden)
        self.fc = L.Linear(out)

    def reset_state(self):
        self.rnn.reset_state()

    def forward(self, x):
        return self.fc(self.rnn(x))


def test_truncated_bptt_on_the_sine_curve_lowers_the_loss():
    np.random.seed(0)
    model, train = BetterRNN(100, 1), SinCurve(train=True)
    opt = Adam().setup(model)
    epoch_losses = []
    for _ in range(3):
        model.reset_state()
        loss, count, total = 0, 0, 0.0
        for x, t in SeqDataLoader(train, batch_size=30):
            step = F.mean_squared_error(model(x), t)
            loss += step
            count += 1
            total += float(step.data)
            if count % 30 == 0:  # truncated backprop through time
                model.cleargrads()
                loss.backward()
                loss.unchain_backward()
                opt.update()
        epoch_losses.append(total / count)
    assert epoch_losses[-1] < 0.7 * epoch_losses[0]


def test_embed_id_looks_up_rows_for_ids_of_any_shape():
    W = rng.standard_normal((5, 3))
    ids = np.array([[4, 0], [1, 1]])
    y = F.embed_id(ids, dz.Variable(W))
    assert y.shape == (2, 2, 3) and np.array_equal(y.data[1, 0], W[1])
    assert np.array_equal(F.embed_id(np.array(2), W).data, W[2])
    assert np.array_equal(F.embed_id(dz.Variable(ids), W).data, W[ids])


def test_embed_id_sums_the_gradient_of_a_row_used_several_times():
    W = dz.Variable(np.zeros((4, 2)))
    gy = np.array([[1.0, 2.0], [10.0, 20.0], [100.0, 200.0]])
    y = F.embed_id(np.array([3, 0, 3]), W)
    y.grad = dz.Variable(gy)
    y.backward()
    assert np.array_equal(W.grad.data, [[10, 20], [0, 0], [0, 0], [101, 202]])


def test_embed_id_ids_out_of_range_are_named():
    W = np.zeros((4, 2))
    with pytest.raises(IndexError, match="id 7 is out of range for a table of 4 rows"):
        F.embed_id(np.array([1, 7]), W)
    with pytest.raises(IndexError, match="id -1 is out of range"):
        F.embed_id(np.array([-1]), W)  # NumPy would wrap around silently
    with pytest.raises(TypeError, match="integer ids"):
        F.embed_id(np.array([1.0]), W)


def test_embed_id_layer():
    np.random.seed(0)
    emb = L.EmbedID(10, 4)
    assert [(n, p.shape, p.dtype) for n, p in emb.named_params()] == [("W", (10, 4), np.float32)]
    y = emb(np.array([[1, 2, 3]]))
    assert y.shape == (1, 3, 4) and np.array_equal(y.data[0, 1], emb.W.data[2])
    F.sum(y).backward()
    assert emb.W.grad.data[[1, 2, 3]].sum() == 12 and emb.W.grad.data[0].sum() == 0


def test_split_and_concatenate_say_what_is_wrong():
    with pytest.raises(ValueError, match=r"shapes \[\(2, 3\), \(3, 3\)\] differ outside axis 1"):
        F.concatenate([np.zeros((2, 3)), np.zeros((3, 3))], axis=1)
    with pytest.raises(ValueError, match=r"axis 1 of shape \(2, 5\) does not divide into 2"):
        F.split(np.zeros((2, 5)), 2, axis=1)
    assert len(F.split(np.zeros((2, 5)), 1, axis=1)) == 1


@pytest.mark.parametrize("make", [L.RNN, L.LSTM])
def test_a_batch_of_another_size_than_the_state_is_an_error_not_a_broadcast(make):
    layer = make(3)
    layer(np.zeros((30, 1)))
    with pytest.raises(
        ValueError, match="a batch of 1 rows, but the state .* has 30; call reset_state"
    ):
        layer(np.zeros((1, 1)))
    layer.reset_state()
    assert layer(np.zeros((1, 1))).shape == (1, 3)


def test_concatenate_gives_each_input_a_gradient_of_its_own_dtype():
    a, b = dz.Variable(np.ones(2, np.float32)), dz.Variable(np.ones(1))
    y = F.concatenate([a, b])
    assert y.dtype == np.float64
    ga, gb = dz.grad(y, [a, b], grad_outputs=np.ones(3))
    assert ga.dtype == np.float32 and gb.dtype == np.float64


def test_split_names_itself_for_a_0d_array_or_a_bad_axis_and_cuts_an_empty_axis():
    with pytest.raises(ValueError, match="split: a 0-d array"):
        F.split(dz.Variable(np.array(1.0)), 1)
    with pytest.raises(ValueError, match="split: axis 2 is out of bounds"):
        F.split(dz.Variable(np.ones((2, 2))), 2, axis=2)
    parts = F.split(dz.Variable(np.ones((0, 3))), 2)
    assert [p.shape for p in parts] == [(0, 3), (0, 3)]
