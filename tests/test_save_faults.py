"""Fault test: a process killed with SIGKILL while saving never leaves a damaged weights file.

A child process saves two different models over one file, again and again; it is killed at
random moments. After every kill the file must load and hold one model or the other,
complete. Temporary files the dead child left behind are removed by the next save.
"""

import contextlib
import os
import random
import signal
import subprocess
import sys

import numpy as np

from dezero_lite import layers as L

SAVER = r"""
import sys
import numpy as np
from dezero_lite import layers as L

path = sys.argv[1]
models = []
for value in (1.0, 2.0):
    layer = L.Linear(300, in_size=400)
    layer.W.data[...] = value
    layer.b.data[...] = value
    models.append(layer)
print("ready", flush=True)
while True:
    for layer in models:
        layer.save_weights(path)
"""


def load_value(path):
    layer = L.Linear(300, in_size=400)
    layer.load_weights(path)
    values = np.unique(np.concatenate([layer.W.data.ravel(), layer.b.data]))
    assert len(values) == 1, f"a mixed file: values {values[:5]}"
    return float(values[0])


def test_sigkill_during_save_leaves_the_old_or_the_new_file(tmp_path):
    path = tmp_path / "w.npz"
    first = L.Linear(300, in_size=400)
    first.W.data[...] = first.b.data[...] = 1.0
    first.save_weights(path)
    rng = random.Random(0)
    seen, interrupted = set(), 0
    for _ in range(12):  # bounded: each try costs one interpreter start
        child = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(path)], stdout=subprocess.PIPE, text=True
        )
        try:
            assert child.stdout.readline().strip() == "ready"
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=rng.uniform(0.0, 0.15))  # the child saves while we wait
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
            child.stdout.close()
        seen.add(load_value(path))
        interrupted += any(name.endswith(".tmp") for name in os.listdir(tmp_path))
    assert seen <= {1.0, 2.0}
    assert interrupted, "no kill landed during a save: the test proved nothing"
    first.save_weights(path)  # removes what the killed children left
    assert os.listdir(tmp_path) == ["w.npz"] and load_value(path) == 1.0
