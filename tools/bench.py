"""Benchmarks: dezero_lite against hand-written NumPy and, when installed, PyTorch (CPU).

    python tools/bench.py                 # everything, a table of medians and ratios
    python tools/bench.py --quick         # smaller sizes, fewer repeats
    python tools/bench.py --json out.json --only chain fanin

Every workload first checks that all contestants compute the same gradients, then
times them interleaved run by run (these machines are shared and noisy) and reports
medians. Ratios are against hand-written NumPy, the floor for any framework on NumPy.
"""

import os

# One BLAS thread for every contestant: on a small shared machine, threads that
# spin waiting for a busy core make matrix products slow and erratic.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402

import dezero_lite as dz  # noqa: E402
import dezero_lite.functions as F  # noqa: E402
from dezero_lite.models import MLP  # noqa: E402
from dezero_lite.optimizers import SGD  # noqa: E402

try:
    import torch

    torch.set_num_threads(1)
except ImportError:
    torch = None


# Each contestant maker returns run(), which does the work once and returns the gradient(s).


def chain_numpy(n):
    def run():
        x = np.array(0.5)
        xs = []
        for _ in range(n):
            xs.append(x)
            x = np.sin(x)
        g = np.array(1.0)
        for x in reversed(xs):
            g = g * np.cos(x)
        return g

    return run


def chain_dezero(n):
    def run():
        x = dz.Variable(np.array(0.5))
        y = x
        for _ in range(n):
            y = F.sin(y)
        y.backward()
        return x.grad.data

    return run


def chain_torch(n):
    def run():
        x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
        y = x
        for _ in range(n):
            y = torch.sin(y)
        y.backward()
        return x.grad.numpy()

    return run


def relu_chain_numpy(n):
    def run():
        y = np.array(0.5)
        ys = []
        for _ in range(n):
            ys.append(y)
            y = np.maximum(y, 0) + y * y * -0.1
        g = np.array(1.0)
        for y in reversed(ys):
            g = g * (y > 0) + g * -0.1 * 2 * y
        return g

    return run


def relu_chain_dezero(n):
    def run():
        x = dz.Variable(np.array(0.5))
        y = x
        for _ in range(n):
            y = F.relu(y) + y * y * -0.1
        y.backward()
        return x.grad.data

    return run


def relu_chain_torch(n):
    def run():
        x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
        y = x
        for _ in range(n):
            y = torch.relu(y) + y * y * -0.1
        y.backward()
        return x.grad.numpy()

    return run


def relu_chain_collector_paused(repeats, n=10_000):
    """dezero_lite / torch on the relu chain with Python's garbage collector paused, which
    every other line leaves running: the gap between the two ratios is what the collector
    costs walking the graph the chain holds (five tracked objects per op here; in torch, fewer
    than one)."""

    def paused(run):
        def run_paused():
            gc.disable()
            try:
                return run()
            finally:
                gc.enable()

        return run_paused

    runs = {"dezero_lite": relu_chain_dezero(n), "torch": relu_chain_torch(n)}
    med = time_interleaved({who: paused(run) for who, run in runs.items()}, repeats)
    return med["dezero_lite"] / med["torch"]


def _tree_sum(terms):
    while len(terms) > 1:
        pairs = [terms[i] + terms[i + 1] for i in range(0, len(terms) - 1, 2)]
        terms = pairs + terms[len(pairs) * 2 :]
    return terms[0]


def fanin_numpy(n):
    def run():
        x = np.array(0.5)
        terms = [np.sin(x) for _ in range(n)]
        _tree_sum(terms)
        # backward: the sum passes 1 to every branch, each branch gives cos(x)
        g = np.array(0.0)
        for _ in range(n):
            g = g + np.cos(x)
        return g

    return run


def fanin_dezero(n):
    def run():
        x = dz.Variable(np.array(0.5))
        _tree_sum([F.sin(x) for _ in range(n)]).backward()
        return x.grad.data

    return run


def fanin_torch(n):
    def run():
        x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
        _tree_sum([torch.sin(x) for _ in range(n)]).backward()
        return x.grad.numpy()

    return run


def _mlp_data(n_in, n_out, batch=100, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, n_in)).astype(np.float32)
    t = rng.integers(0, n_out, batch)
    return x, t


def _mlp_weights(sizes, seed=0):
    rng = np.random.default_rng(seed)
    return [
        (
            rng.standard_normal((i, o)).astype(np.float32) * np.float32(np.sqrt(1 / i)),
            np.zeros(o, np.float32),
        )
        for i, o in zip(sizes[:-1], sizes[1:], strict=True)
    ]


def mlp_numpy(sizes, lr=0.1):
    """Two-layer sigmoid MLP, softmax cross-entropy, one SGD step, all by hand."""
    (W1, b1), (W2, b2) = _mlp_weights(sizes)
    x, t = _mlp_data(sizes[0], sizes[-1])

    def step():
        h = x @ W1 + b1
        a = np.tanh(h * 0.5) * 0.5 + 0.5
        y = a @ W2 + b2
        p = np.exp(y - y.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        gy = p
        gy[np.arange(len(t)), t] -= 1
        gy /= len(t)
        gW2, gb2 = a.T @ gy, gy.sum(axis=0)
        ga = gy @ W2.T
        gh = ga * a * (1 - a)
        gW1, gb1 = x.T @ gh, gh.sum(axis=0)
        for p_, g in ((W1, gW1), (b1, gb1), (W2, gW2), (b2, gb2)):
            p_ -= lr * g
        return gW1

    return step


def _dezero_mlp(sizes):
    model = MLP(sizes[1:])
    x, t = _mlp_data(sizes[0], sizes[-1])
    model(x)  # creates the weights, then we overwrite them to match the others
    for layer, (W, b) in zip(model.layers, _mlp_weights(sizes), strict=True):
        layer.W.data[...] = W
        layer.b.data[...] = b
    return model, x, t


def mlp_dezero(sizes, lr=0.1):
    model, x, t = _dezero_mlp(sizes)
    opt = SGD(lr).setup(model)

    def step():
        loss = F.softmax_cross_entropy(model(x), t)
        model.cleargrads()
        loss.backward()
        opt.update()
        return model.layers[0].W.grad.data

    return step


def mlp_torch(sizes, lr=0.1):
    (W1, b1), (W2, b2) = [
        (torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True))
        for W, b in _mlp_weights(sizes)
    ]
    x, t = _mlp_data(sizes[0], sizes[-1])
    x, t = torch.tensor(x), torch.tensor(t)
    params = [W1, b1, W2, b2]
    opt = torch.optim.SGD(params, lr=lr)

    def step():
        y = torch.sigmoid(x @ W1 + b1) @ W2 + b2
        loss = torch.nn.functional.cross_entropy(y, t)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return W1.grad.numpy().copy()

    return step


def _steps(step, n):
    """Run n training steps back to back: one step alone, timed right after gc.collect(),
    measures cold caches more than the step (hand-written NumPy ran 3x slower that way)."""

    def run():
        for _ in range(n):
            g = step()
        return g

    return run


def newton_numpy():
    def run():
        x = 2.0
        for _ in range(10):
            x -= (4 * x**3 - 4 * x) / (12 * x**2 - 4)
        return np.array(x)

    return run


def newton_dezero():
    def run():
        x = dz.Variable(np.array(2.0))
        for _ in range(10):
            y = x**4 - 2 * x**2
            (gx,) = dz.grad(y, x, create_graph=True)
            (gx2,) = dz.grad(gx, x)
            x.data -= gx.data / gx2.data
        return x.data

    return run


def newton_torch():
    def run():
        x = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
        for _ in range(10):
            y = x**4 - 2 * x**2
            (gx,) = torch.autograd.grad(y, x, create_graph=True)
            (gx2,) = torch.autograd.grad(gx, x)
            with torch.no_grad():
                x -= gx / gx2
        return x.detach().numpy()

    return run


def nograd_dezero(grad_mode, batch):
    model, x, _ = _dezero_mlp((64, 100, 10))
    x = x[:batch]

    def run():  # 100 forward passes: one alone is too short to time
        for _ in range(100):
            if grad_mode:
                y = model(x)
            else:
                with dz.no_grad():
                    y = model(x)
        return y.data

    return run


def nograd_torch(grad_mode, batch):
    """The same forward passes in PyTorch, for the ratio it gets from torch.no_grad()."""
    (W1, b1), (W2, b2) = [
        (torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True))
        for W, b in _mlp_weights((64, 100, 10))
    ]
    x = torch.tensor(_mlp_data(64, 10)[0][:batch])

    def run():
        for _ in range(100):
            with torch.set_grad_enabled(grad_mode):
                y = torch.sigmoid(x @ W1 + b1) @ W2 + b2
        return y.detach().numpy()

    return run


# The CNN training step: batch 32 of 1x28x28, a 3x3 convolution with 8 filters and pad 1,
# ReLU, 2x2 max pooling, a linear layer to 10 classes, softmax cross entropy, one SGD step.


def _cnn_setup(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((32, 1, 28, 28)).astype(np.float32)
    t = rng.integers(0, 10, 32)
    W1 = (rng.standard_normal((8, 1, 3, 3)) * np.sqrt(1 / 9)).astype(np.float32)
    W2 = (rng.standard_normal((8 * 14 * 14, 10)) * np.sqrt(1 / (8 * 14 * 14))).astype(np.float32)
    return x, t, W1, np.zeros(8, np.float32), W2, np.zeros(10, np.float32)


def cnn_numpy(lr=0.1):
    """The CNN step by hand: im2col by a loop over the 9 kernel offsets, as in the book."""
    x, t, W1, b1, W2, b2 = _cnn_setup()
    n, c, h, w = x.shape

    def run():  # (im2col runs every step: in training each batch is new)
        padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        col = np.empty((n, c, 3, 3, h, w), np.float32)
        for i in range(3):
            for j in range(3):
                col[:, :, i, j] = padded[:, :, i : i + h, j : j + w]
        col = col.transpose(0, 4, 5, 1, 2, 3).reshape(n * h * w, -1)
        z = (col @ W1.reshape(8, -1).T + b1).reshape(n, h, w, 8).transpose(0, 3, 1, 2)
        a = np.maximum(z, 0)
        windows = a.reshape(n, 8, h // 2, 2, w // 2, 2)
        pooled = windows.max(axis=(3, 5))
        y = pooled.reshape(n, -1) @ W2 + b2
        p = np.exp(y - y.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(n), t] -= 1
        gy = p / n
        gW2, gb2 = pooled.reshape(n, -1).T @ gy, gy.sum(axis=0)
        gpooled = (gy @ W2.T).reshape(pooled.shape)
        mask = windows == pooled[:, :, :, None, :, None]
        ga = (mask * gpooled[:, :, :, None, :, None]).reshape(a.shape)
        gz = ga * (z > 0)
        gz_rows = gz.transpose(0, 2, 3, 1).reshape(-1, 8)
        gW1, gb1 = (gz_rows.T @ col).reshape(W1.shape), gz_rows.sum(axis=0)
        for p_, g in ((W1, gW1), (b1, gb1), (W2, gW2), (b2, gb2)):
            p_ -= lr * g
        return gW1

    return run


def cnn_dezero(lr=0.1):
    from dezero_lite import layers as L
    from dezero_lite.models import Model

    x, t, W1, b1, W2, b2 = _cnn_setup()

    class CNN(Model):
        def __init__(self):
            super().__init__()
            self.conv = L.Conv2d(8, kernel_size=3, pad=1, in_channels=1)
            self.fc = L.Linear(10, in_size=W2.shape[0])

        def forward(self, x):
            return self.fc(F.flatten(F.pooling(F.relu(self.conv(x)), 2, 2)))

    model = CNN()
    for param, value in (
        (model.conv.W, W1),
        (model.conv.b, b1),
        (model.fc.W, W2),
        (model.fc.b, b2),
    ):
        param.data[...] = value
    opt = SGD(lr).setup(model)

    def run():
        loss = F.softmax_cross_entropy(model(x), t)
        model.cleargrads()
        loss.backward()
        opt.update()
        return model.conv.W.grad.data

    return run


def cnn_torch(lr=0.1):
    x, t, *weights = _cnn_setup()
    W1, b1, W2, b2 = [torch.tensor(v, requires_grad=True) for v in weights]
    x, t = torch.tensor(x), torch.tensor(t)
    opt = torch.optim.SGD([W1, b1, W2, b2], lr=lr)
    nn = torch.nn.functional

    def run():
        a = nn.max_pool2d(torch.relu(nn.conv2d(x, W1, b1, padding=1)), 2)
        loss = nn.cross_entropy(a.flatten(1) @ W2 + b2, t)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return W1.grad.numpy().copy()

    return run


def workloads(quick):
    chain_ns = (1_000, 10_000) if quick else (1_000, 10_000, 100_000, 1_000_000)
    fanin_ns = (1_000, 4_000) if quick else (1_000, 4_000, 16_000)
    w = {}  # name: (kind, operations per run, unit, contestants)
    for n in chain_ns:
        w[f"chain {n:,}"] = (
            "chain",
            n,
            "us/op",
            {
                "numpy": chain_numpy(n),
                "dezero_lite": chain_dezero(n),
                "torch": torch and chain_torch(n),
            },
        )
    for n in (1_000, 10_000):  # 4 ops a step: relu, two products, a sum
        w[f"relu chain {n:,}"] = (
            "relu",
            4 * n,
            "us/op",
            {
                "numpy": relu_chain_numpy(n),
                "dezero_lite": relu_chain_dezero(n),
                "torch": torch and relu_chain_torch(n),
            },
        )
    for n in fanin_ns:
        w[f"fanin {n:,}"] = (
            "fanin",
            2 * n - 1,
            "us/op",
            {
                "numpy": fanin_numpy(n),
                "dezero_lite": fanin_dezero(n),
                "torch": torch and fanin_torch(n),
            },
        )
    for sizes in ((64, 100, 10), (784, 1000, 10)):
        name = "mlp " + "-".join(map(str, sizes))
        w[name] = (
            "mlp",
            10,
            "ms/step",
            {
                "numpy": _steps(mlp_numpy(sizes), 10),
                "dezero_lite": _steps(mlp_dezero(sizes), 10),
                "torch": torch and _steps(mlp_torch(sizes), 10),
            },
        )
    w["newton x10"] = (
        "newton",
        1,
        "ms/run",
        {
            "numpy": newton_numpy(),
            "dezero_lite": newton_dezero(),
            "torch": torch and newton_torch(),
        },
    )
    w["cnn 32x1x28x28"] = (
        "cnn",
        1,
        "ms/step",
        {"numpy": cnn_numpy(), "dezero_lite": cnn_dezero(), "torch": torch and cnn_torch()},
    )
    return w


def check_same(name, runs):
    """Every contestant must compute the same gradient before anything is timed.

    The training contestants take SGD steps in each run, so each is compared on its
    first run, from the same weights."""
    results = {who: np.asarray(run(), dtype=np.float64) for who, run in runs.items()}
    ref = results["numpy"]
    for who, got in results.items():
        if not np.allclose(got, ref, rtol=1e-4, atol=1e-6):
            raise SystemExit(
                f"{name}: {who} computes {got.ravel()[:4]}..., numpy {ref.ravel()[:4]}..."
            )


def time_interleaved(runs, repeats):
    times = {who: [] for who in runs}
    for _ in range(repeats):
        for who, run in runs.items():
            gc.collect()
            start = time.perf_counter()
            run()
            times[who].append(time.perf_counter() - start)
    return {who: statistics.median(ts) for who, ts in times.items()}


def backward_per_node(quick, repeats):
    """dezero_lite's backward alone (the graph is built untimed), in microseconds per node."""
    sizes = [("chain", 1_000), ("chain", 16_000), ("fanin", 1_000), ("fanin", 16_000)]
    if not quick:
        sizes += [("chain", 100_000), ("chain", 1_000_000)]
    out = {}
    for kind, n in sizes:
        times = []
        for _ in range(repeats if n < 500_000 else 1):
            x = dz.Variable(np.array(0.5))
            if kind == "chain":
                y = x
                for _ in range(n):
                    y = F.sin(y)
            else:
                y = _tree_sum([F.sin(x) for _ in range(n)])
            gc.collect()
            start = time.perf_counter()
            y.backward()
            times.append(time.perf_counter() - start)
            del x, y
        nodes = n if kind == "chain" else 2 * n - 1
        out[f"{kind} {n:,}"] = statistics.median(times) / nodes * 1e6
    return out


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def held_chain_bytes(who, n=300_000):
    """Growth of resident memory per node while a chain of n sin ops is held (in a fresh process)."""
    gc.collect()
    before = _rss_bytes()
    if who == "torch":
        x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
        y = x
        for _ in range(n):
            y = torch.sin(y)
    else:
        x = dz.Variable(np.array(0.5))
        y = x
        for _ in range(n):
            y = F.sin(y)
    return (_rss_bytes() - before) / n


def held_chain_memory():
    import subprocess

    out = {}
    for who in ("dezero_lite", "torch") if torch else ("dezero_lite",):
        run = subprocess.run(
            [sys.executable, __file__, "--held-chain", who],
            capture_output=True,
            text=True,
            check=True,
        )
        out[who] = float(run.stdout)
    return out


def memory_growth(steps=1000):
    """Traced memory after step 100 and after the last, for small-MLP training.

    Read after gc.collect(), so that Python's own caches do not count as growth."""
    run = mlp_dezero((64, 100, 10))
    tracemalloc.start()
    for i in range(steps):
        run()
        if i == 99:
            gc.collect()
            at_100 = tracemalloc.get_traced_memory()[0]
    gc.collect()
    now, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "after 100 steps (KiB)": at_100 / 1024,
        f"after {steps} steps (KiB)": now / 1024,
        "peak (KiB)": peak / 1024,
    }


def layer_groups_cost(repeats):
    """Cost of layers-as-boxes: a small-MLP step (forward and backward) of a model never
    recorded, of one that a model.plot-style recording has seen, and inside record_layers."""
    from dezero_lite.graph import record_layers

    (never, x, t), (seen, _, _) = _dezero_mlp((64, 100, 10)), _dezero_mlp((64, 100, 10))
    with record_layers(seen):
        seen(x)  # as Model.plot does; Layer.__call__ is restored when the block ends

    def step(model):
        def run():
            for _ in range(20):
                model.cleargrads()
                F.softmax_cross_entropy(model(x), t).backward()
            return model.l0.W.grad.data

        return run

    def recording():
        with record_layers(seen):
            return step(seen)()

    runs = {"never": step(never), "seen": step(seen), "recording": recording}
    times = {who: [] for who in runs}
    order = list(runs)
    for i in range(repeats * 3):  # the order turns each round: whoever goes first runs slower
        for who in order[i % 3 :] + order[: i % 3]:
            gc.collect()
            start = time.perf_counter()
            runs[who]()
            times[who].append(time.perf_counter() - start)
    med = {who: statistics.median(ts) for who, ts in times.items()}
    return {
        "after a recording / never recorded": med["seen"] / med["never"],
        "inside record_layers / never recorded": med["recording"] / med["never"],
    }


# LSTM: one training epoch on SinCurve (hidden 100, batch 30, truncated BPTT every 30 steps)


def _lstm_setup(hidden=100):
    import dezero_lite.layers as L
    from dezero_lite.datasets import SinCurve

    np.random.seed(0)
    lstm, fc = L.LSTM(hidden, in_size=1), L.Linear(1, in_size=hidden)
    return lstm, fc, SinCurve(train=True)


def lstm_dezero(hidden=100, batch=30, bptt=30):
    from dezero_lite.dataloaders import SeqDataLoader
    from dezero_lite.models import Model
    from dezero_lite.optimizers import Adam

    lstm, fc, data = _lstm_setup(hidden)
    model = Model()
    model.lstm, model.fc = lstm, fc
    opt = Adam().setup(model)

    def run(windows=None):  # windows=1: one window, no update, for the gradient check
        lstm.reset_state()
        loss = 0
        for count, (x, t) in enumerate(SeqDataLoader(data, batch_size=batch), 1):
            loss += F.mean_squared_error(fc(lstm(x)), t)
            if count % bptt == 0:
                model.cleargrads()
                loss.backward()
                loss.unchain_backward()
                if windows:
                    return lstm.x2f.W.grad.data
                opt.update()

    return run


def lstm_torch(hidden=100, batch=30, bptt=30):
    lstm, fc, data = _lstm_setup(hidden)
    cell, out = torch.nn.LSTMCell(1, hidden), torch.nn.Linear(hidden, 1)
    with torch.no_grad():  # the same weights; torch stacks the gates in the order i, f, u, o
        cell.weight_ih.copy_(
            torch.tensor(np.concatenate([getattr(lstm, f"x2{g}").W.data.T for g in "ifuo"]))
        )
        cell.weight_hh.copy_(
            torch.tensor(np.concatenate([getattr(lstm, f"h2{g}").W.data.T for g in "ifuo"]))
        )
        cell.bias_ih.copy_(
            torch.tensor(np.concatenate([getattr(lstm, f"x2{g}").b.data for g in "ifuo"]))
        )
        cell.bias_hh.zero_()
        out.weight.copy_(torch.tensor(fc.W.data.T))
        out.bias.copy_(torch.tensor(fc.b.data))
    params = list(cell.parameters()) + list(out.parameters())
    opt = torch.optim.Adam(params, lr=0.001)
    n = len(data) // batch
    xs = torch.tensor(
        np.stack([data.data[np.arange(batch) * n + i] for i in range(n)]), dtype=torch.float32
    )
    ts = torch.tensor(
        np.stack([data.label[np.arange(batch) * n + i] for i in range(n)]), dtype=torch.float32
    )

    def run(windows=None):
        state, loss = None, 0
        for i in range(n):
            state = cell(xs[i], state)
            loss = loss + ((out(state[0]) - ts[i]) ** 2).sum() / batch
            if (i + 1) % bptt == 0:
                opt.zero_grad()
                loss.backward()
                if windows:
                    return cell.weight_ih.grad.numpy()[hidden : 2 * hidden].T
                state, loss = (state[0].detach(), state[1].detach()), 0
                opt.step()

    return run


def lstm_workload(repeats):
    """The ratio dezero_lite / PyTorch for one epoch, after checking both compute the same gradient."""
    if torch is None:
        print("lstm epoch: needs PyTorch for the comparison; skipped")
        return {}
    g0, g1 = lstm_dezero()(windows=1), lstm_torch()(windows=1)
    if not np.allclose(g0, g1, rtol=1e-3, atol=1e-6):
        raise SystemExit(
            f"lstm: dezero_lite computes {g0.ravel()[:3]}..., torch {g1.ravel()[:3]}..."
        )
    med = time_interleaved({"dezero_lite": lstm_dezero(), "torch": lstm_torch()}, repeats)
    ratio = med["dezero_lite"] / med["torch"]
    print(
        f"lstm epoch on SinCurve (hidden 100, batch 30, BPTT 30): dezero_lite "
        f"{med['dezero_lite'] * 1e3:.0f} ms, torch LSTMCell {med['torch'] * 1e3:.0f} ms, "
        f"ratio {ratio:.2f}",
        flush=True,
    )
    return {
        "lstm epoch": {
            "unit": "ms/run",
            "dezero_lite": med["dezero_lite"] * 1e3,
            "torch": med["torch"] * 1e3,
            "ratio_to_torch": ratio,
        }
    }


# The speed targets: (workload, which ratio, at most or at least, the bound).
TARGETS = [
    ("chain 1,000", "ratio_to_torch", "<=", 1.0),
    ("chain 10,000", "ratio_to_torch", "<=", 1.0),
    ("relu chain 1,000", "ratio_to_torch", "<=", 1.0),
    ("relu chain 10,000", "ratio_to_torch", "<=", 1.0),
    ("newton x10", "ratio_to_torch", "<=", 1.0),
    ("mlp 64-100-10", "ratio_to_numpy", "<=", 1.7),
    ("mlp 784-1000-10", "ratio_to_numpy", "<=", 1.1),
    ("no_grad speedup, batch 1", None, ">=", 1.5),
]


def print_targets(results):
    lines = []
    for name, key, sense, bound in TARGETS:
        if name not in results:
            continue
        got = results[name] if key is None else results[name].get(key)
        if got is None:
            continue
        met = got <= bound if sense == "<=" else got >= bound
        what = "" if key is None else key.replace("ratio_to_", "x ")
        lines.append(
            f"  {name}: {got:.2f}{what} (target {sense} {bound}) {'met' if met else 'NOT met'}"
        )
    if lines:
        print("targets:\n" + "\n".join(lines))


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="smaller sizes and 3 repeats")
    ap.add_argument(
        "--repeats", type=int, help="runs per contestant (default 7, or 3 with --quick)"
    )
    ap.add_argument(
        "--only",
        nargs="*",
        help="workload kinds: chain relu fanin mlp newton cnn backward nograd memory groups lstm",
    )
    ap.add_argument("--json", help="also write the results to this JSON file")
    # the child process of held_chain_memory:
    ap.add_argument("--held-chain", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.held_chain:
        print(held_chain_bytes(args.held_chain))
        return None
    repeats = args.repeats or (3 if args.quick else 7)
    only = set(
        args.only
        or [
            "chain",
            "relu",
            "fanin",
            "mlp",
            "newton",
            "cnn",
            "backward",
            "nograd",
            "memory",
            "groups",
            "lstm",
        ]
    )

    print(
        f"dezero_lite benchmark: numpy {np.__version__}, "
        f"torch {torch.__version__ if torch else 'not installed'}, python {sys.version.split()[0]}, "
        f"median of {repeats} interleaved runs"
    )
    print(
        f"{'workload':<24}{'numpy':>12}{'dezero_lite':>14}{'torch':>12}{'dz/numpy':>10}{'dz/torch':>10}"
    )
    results = {}
    for name, (kind, count, unit, runs) in workloads(args.quick).items():
        if kind not in only:
            continue
        runs = {who: run for who, run in runs.items() if run}
        check_same(name, runs)
        med = time_interleaved(runs, repeats if count < 500_000 else max(1, repeats // 3))
        scale = 1e6 if unit.startswith("us") else 1e3
        shown = {who: t / count * scale for who, t in med.items()}
        results[name] = {"unit": unit, **shown, "ratio_to_numpy": med["dezero_lite"] / med["numpy"]}
        if "torch" in med:
            results[name]["ratio_to_torch"] = med["dezero_lite"] / med["torch"]
        torch_cell = f"{shown['torch']:>12.3f}" if "torch" in shown else f"{'-':>12}"
        torch_ratio = (
            f"{results[name]['ratio_to_torch']:>10.2f}" if "torch" in shown else f"{'-':>10}"
        )
        print(
            f"{name:<24}{shown['numpy']:>12.3f}{shown['dezero_lite']:>14.3f}{torch_cell}"
            f"{results[name]['ratio_to_numpy']:>10.2f}{torch_ratio}   {unit}",
            flush=True,
        )
    if "relu" in only and torch:
        results["relu chain 10,000, collector paused"] = paused = relu_chain_collector_paused(
            repeats
        )
        print(f"relu chain 10,000 with the garbage collector paused: {paused:.2f}x torch")
    if "backward" in only:
        results["backward us/node"] = per = backward_per_node(args.quick, repeats)
        base = per["chain 1,000"]
        print(
            "backward alone, us per node (ratio to the 1,000 chain): "
            + ", ".join(f"{k} {v:.2f} ({v / base:.2f})" for k, v in per.items())
        )
    for batch in (100, 1) if "nograd" in only else ():
        runs = {"graph": nograd_dezero(True, batch), "no_grad": nograd_dezero(False, batch)}
        if torch:
            runs.update(
                torch_graph=nograd_torch(True, batch), torch_no_grad=nograd_torch(False, batch)
            )
        med = time_interleaved(runs, repeats * 5)
        results[f"no_grad speedup, batch {batch}"] = med["graph"] / med["no_grad"]
        ours = f"{med['graph'] / med['no_grad']:.2f}x"
        theirs = f" (PyTorch: {med['torch_graph'] / med['torch_no_grad']:.2f}x)" if torch else ""
        print(
            f"small-MLP forward of a batch of {batch}, time with a graph / under no_grad(): "
            f"{ours}{theirs}"
        )
    if "memory" in only:
        results["memory"] = memory_growth()
        print(
            "memory over 1,000 small-MLP steps: "
            + ", ".join(f"{k} {v:.0f}" for k, v in results["memory"].items())
        )
        results["held chain bytes/node"] = held = held_chain_memory()
        print(
            "a held 300,000-op sin chain, resident memory per node: "
            + ", ".join(f"{who} {b:.0f} bytes" for who, b in held.items())
        )
    if "groups" in only:
        results["layer groups"] = cost = layer_groups_cost(repeats)
        print(
            "layers as boxes, small-MLP step time: "
            + ", ".join(f"{k} {v:.2f}x" for k, v in cost.items())
        )
    if "lstm" in only:
        results.update(lstm_workload(repeats))
    print_targets(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
