"""Step 55: a recurrent network predicts the next value of a sine, trained by truncated BPTT.

Builds on step 45 (an MLP fits a curve) and step 27 (a graph is freed when nothing
refers to it). The new idea is state: `L.RNN(hidden)` keeps h between calls and
computes h = tanh(x W_x + b + h W_h), so its answer at step t depends on every input
so far. The data `SinCurve` is 999 values of a noisy sine; the target of each is the
next one. `SeqDataLoader(batch_size=30)` cuts the sequence into 30 stretches that are
walked side by side, one time step per batch, so an epoch is 33 steps.

Backprop through time is ordinary backprop on the graph that the steps built. Letting
that graph grow for ever would cost ever more memory and time, so every 11 steps we
call `loss.backward()`, update, and `loss.unchain_backward()`: the links behind the
loss are cut, the old graph is freed, and the next window starts from the current h as
from a constant. That is truncated BPTT. After training, the network predicts a clean
cosine (which it never saw) one step ahead, fed the true values; the picture
`step55_rnn.png` shows prediction against truth.
"""

import os
import time
from pathlib import Path

import numpy as np

import dezero_lite as dz
import dezero_lite.functions as F
import dezero_lite.layers as L
from dezero_lite.dataloaders import SeqDataLoader
from dezero_lite.datasets import SinCurve
from dezero_lite.models import Model
from dezero_lite.optimizers import Adam

OUT = Path(os.environ.get("DEZERO_STEPS_OUT", Path(__file__).resolve().parent / "out"))
OUT.mkdir(parents=True, exist_ok=True)
EPOCHS, HIDDEN, BATCH, BPTT = 60, 20, 30, 11


class SimpleRNN(Model):
    def __init__(self, hidden_size):
        super().__init__()
        self.rnn = L.RNN(hidden_size)
        self.fc = L.Linear(1)

    def reset_state(self):
        self.rnn.reset_state()

    def forward(self, x):
        return self.fc(self.rnn(x))


def graph_size(y):
    """How many Functions the graph behind y holds."""
    funcs, seen = [y.creator] if y.creator else [], set()
    while funcs:
        f = funcs.pop()
        if f not in seen:
            seen.add(f)
            funcs += [x.creator for x in f.inputs if x.creator is not None]
    return len(seen)


def train(model, epochs=EPOCHS, log=print):
    """Truncated BPTT on SinCurve; returns the mean squared error of each epoch and the
    graph sizes around the first cut."""
    optimizer = Adam(alpha=0.01).setup(model)
    data, losses = SinCurve(train=True), []
    for epoch in range(1, epochs + 1):
        model.reset_state()
        loss, total, count = 0, 0.0, 0
        for x, t in SeqDataLoader(data, batch_size=BATCH):
            step_loss = F.mean_squared_error(model(x), t)
            loss, total, count = loss + step_loss, total + float(step_loss.data), count + 1
            if count % BPTT == 0:
                model.cleargrads()
                loss.backward()
                optimizer.update()
                if epoch == 1 and count == BPTT:
                    before = graph_size(loss)
                loss.unchain_backward()
                if epoch == 1 and count == BPTT:
                    log(
                        f"the first window's graph: {before} functions behind the loss; after "
                        f"unchain_backward {graph_size(loss)} (the loss's own) and "
                        f"{graph_size(model.rnn.h)} behind the state h"
                    )
                    cut = (before, graph_size(loss), graph_size(model.rnn.h))
                loss = 0
        losses.append(total / count)
    return losses, cut


def predict(model, xs):
    """Feed the true values one at a time (batch of 1) and collect the one-step predictions."""
    model.reset_state()
    with dz.no_grad():
        return np.array([model(x.reshape(1, 1)).data.item() for x in xs])


def plot(path, truth, curves, title):
    """Truth against predictions; False when matplotlib is missing."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return False
    fig = Figure(figsize=(6, 3))
    ax = fig.add_subplot()
    ax.plot(truth, color="black", linewidth=3, alpha=0.3, label="truth: cos")
    for label, ys in curves.items():
        ax.plot(ys, linewidth=1, label=label)
    ax.set_xlabel("time step")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    return True


if __name__ == "__main__":
    np.random.seed(0)
    model = SimpleRNN(HIDDEN)
    start = time.perf_counter()
    losses, cut = train(model)
    seconds = time.perf_counter() - start
    print(model)
    for epoch in (1, 10, 20, 40, EPOCHS):
        print(f"epoch {epoch:3d}: mean squared error {losses[epoch - 1]:.4f}")
    print(f"{EPOCHS} epochs of {999 // BATCH} steps in {seconds:.2f} s")

    test = SinCurve(train=False)
    pred = predict(model, test.data)
    test_mse = float(np.mean((pred - test.label.ravel()) ** 2))
    print(f"on the clean cosine (never seen): one-step-ahead mean squared error {test_mse:.4f}")

    png = OUT / "step55_rnn.png"
    if plot(
        png,
        test.label.ravel(),
        {f"RNN({HIDDEN}) prediction": pred},
        f"RNN({HIDDEN}), {EPOCHS} epochs of truncated BPTT, test MSE {test_mse:.4f}",
    ):
        print(f"prediction against truth: {png}")
    else:
        print("matplotlib is not installed, so no picture (pip install matplotlib to get one)")
        png = None

    assert cut[0] > 10 * BPTT and cut[1:] == (1, 0)  # the old graph is cut loose
    assert losses[-1] < losses[0] / 10  # measured 0.2609 -> 0.0019
    assert test_mse < 0.002  # measured 0.0001
    if png is not None:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
