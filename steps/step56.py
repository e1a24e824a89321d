"""Step 56: the same sine with an LSTM, whose cell carries a memory beside h.

Builds on step 55 (an RNN trained by truncated BPTT), whose model, training loop and
picture this step imports. The new idea is the LSTM's cell: besides h it keeps a
memory c, and gates decide what to forget (f), what to write (i, of candidate u) and
what to show (o):

    f, i, o = sigmoid(x W_x* + b_* + h W_h*),  u = tanh(x W_xu + b_u + h W_hu)
    c = f * c + i * u,                          h = o * tanh(c)

Because c is updated by addition, a gradient can flow back through many steps without
being squashed by a tanh at each one. The step first checks one call of `L.LSTM`
against these formulas written in NumPy with the layer's own weights (the sub-layers
`x2f` .. `h2u` hold W_xf .. W_hu). `L.LSTM` has `L.RNN`'s calling convention, so the
model of step 55 changes in one line; both are trained the same way and predict the
cosine one step ahead. The LSTM's prediction and both loss curves go to
`step56_lstm.png` and `step56_loss.png`.
"""

import os
import time
from pathlib import Path

import numpy as np

import dezero_lite.layers as L
from dezero_lite.datasets import SinCurve

from step55 import HIDDEN, SimpleRNN, plot, predict, train  # the model and loop of step 55

OUT = Path(os.environ.get("DEZERO_STEPS_OUT", Path(__file__).resolve().parent / "out"))
OUT.mkdir(parents=True, exist_ok=True)
EPOCHS = 30  # half of step 55's: enough to compare, and the LSTM costs more per step


class BetterRNN(SimpleRNN):
    def __init__(self, hidden_size):
        super().__init__(hidden_size)
        self.rnn = L.LSTM(hidden_size)  # the one line that changes


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


# One call of L.LSTM against the formulas, from a state (h, c) that is not zero.
np.random.seed(0)
lstm = L.LSTM(3, in_size=2)
x0, x1 = np.random.randn(4, 2).astype(np.float32), np.random.randn(4, 2).astype(np.float32)
lstm(x0)
h, c = lstm.h.data, lstm.c.data
W = {name: p.data for name, p in lstm.named_params()}


def pre(g):
    return x1 @ W[f"x2{g}/W"] + W[f"x2{g}/b"] + h @ W[f"h2{g}/W"]


f, i, o, u = sigmoid(pre("f")), sigmoid(pre("i")), sigmoid(pre("o")), np.tanh(pre("u"))
c_new = f * c + i * u
h_new = o * np.tanh(c_new)
y = lstm(x1)
gap = max(float(np.abs(y.data - h_new).max()), float(np.abs(lstm.c.data - c_new).max()))
print(f"L.LSTM against the formulas in NumPy: largest difference in h and c {gap:.1e}")
print("its weights: " + ", ".join(f"{n} {tuple(p.shape)}" for n, p in lstm.named_params()))

test = SinCurve(train=False)
results = {}
for name, make in (("RNN", SimpleRNN), ("LSTM", BetterRNN)):
    np.random.seed(0)
    model = make(HIDDEN)
    start = time.perf_counter()
    losses, _ = train(model, epochs=EPOCHS, log=lambda *_: None)
    seconds = time.perf_counter() - start
    pred = predict(model, test.data)
    test_mse = float(np.mean((pred - test.label.ravel()) ** 2))
    results[name] = losses, pred, test_mse
    print(
        f"{name}({HIDDEN}): {model.count_params()} parameters; training MSE by epoch "
        + ", ".join(f"{e}: {losses[e - 1]:.4f}" for e in (1, 10, 20, EPOCHS))
        + f" ({seconds:.2f} s); test MSE one step ahead {test_mse:.4f}"
    )

png = OUT / "step56_lstm.png"
loss_png = OUT / "step56_loss.png"
lstm_losses, lstm_pred, lstm_mse = results["LSTM"]
if plot(
    png,
    test.label.ravel(),
    {f"LSTM({HIDDEN}) prediction": lstm_pred},
    f"LSTM({HIDDEN}), {EPOCHS} epochs of truncated BPTT, test MSE {lstm_mse:.4f}",
):
    from dezero_lite.progress import save_loss_curve

    save_loss_curve(
        lstm_losses, loss_png, title="training MSE per epoch; loss = LSTM", RNN=results["RNN"][0]
    )
    print(f"prediction against truth: {png}; loss curves: {loss_png}")
else:
    print("matplotlib is not installed, so no picture (pip install matplotlib to get one)")
    png = None

assert gap < 1e-6  # the layer computes the formulas
assert lstm_losses[-1] < lstm_losses[0] / 10  # measured 0.1551 -> 0.0031
assert lstm_mse < 0.002  # measured 0.0002
if png is not None:
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and loss_png.exists()
