"""Step 16: batch inference over a data set of digit images, with accuracy.

Idea: a network classifies many images at once by stacking them as the rows
of one array: a batch of 100 images of 64 pixels is a (100, 64) array, and
one forward pass gives a (100, 10) array of class probabilities. Accuracy is
the share of argmax answers equal to the labels. The data are the 8x8 digits
bundled with scikit-learn (no download); a softmax-regression network (one
affine layer) is first trained for a moment with the (y - t) / N gradient of
softmax with cross-entropy and dW = x.T @ dout, both derived in step 10.
Builds on step 15 (training by backprop), step 10 (the gradients) and step 08
(forward pass, softmax that does not overflow).
"""

import os
import sys
import time
from pathlib import Path

import numpy as np

MISSING_DEPENDENCY = 77  # exit status for "an optional package is missing" (see steps/README.md)
try:
    from sklearn.datasets import load_digits
except ImportError:
    print(
        "step16.py needs scikit-learn for its bundled 8x8 digit images (nothing is downloaded).\n"
        "Install it with:  pip install scikit-learn   (or: pip install 'dezero_lite[digits]')",
        file=sys.stderr,
    )
    sys.exit(MISSING_DEPENDENCY)

OUT = Path(os.environ.get("DEZERO_STEPS_OUT", Path(__file__).resolve().parent / "out"))
OUT.mkdir(parents=True, exist_ok=True)


def softmax(a):
    a = a - a.max(axis=-1, keepdims=True)
    e = np.exp(a)
    return e / e.sum(axis=-1, keepdims=True)


def predict(network, x):
    return softmax(x @ network["W"] + network["b"])


def accuracy(network, x, t, batch_size=100):
    """Share of correct answers, computed batch_size rows at a time."""
    correct = 0
    for start in range(0, len(x), batch_size):
        y = predict(network, x[start : start + batch_size])
        correct += int(np.sum(np.argmax(y, axis=1) == t[start : start + batch_size]))
    return correct / len(x)


digits = load_digits()
x = digits.data / 16.0  # pixels 0..16 -> 0..1
t = digits.target
order = np.random.default_rng(0).permutation(len(x))
test, train = order[:500], order[500:]
x_train, t_train, x_test, t_test = x[train], t[train], x[test], t[test]
print(f"digits: {x.shape[0]} images of {x.shape[1]} pixels")
print(f"  {len(x_train)} to train on, {len(x_test)} held out")

network = {"W": np.zeros((64, 10)), "b": np.zeros(10)}
one_hot = np.eye(10)[t_train]
lr = 1.0
for i in range(301):
    y = predict(network, x_train)
    if i % 100 == 0:
        loss = -np.mean(np.log(y[np.arange(len(y)), t_train]))
        print(f"training iteration {i:3d}: loss {loss:.4f}")
    dscores = (y - one_hot) / len(x_train)  # softmax-with-loss backward (step 10)
    network["W"] -= lr * (x_train.T @ dscores)
    network["b"] -= lr * dscores.sum(axis=0)

# Batch inference: 5 forward passes of 100 images each.
start = time.perf_counter()
batch_acc = accuracy(network, x_test, t_test, batch_size=100)
batch_time = time.perf_counter() - start
# The same, one image at a time: 500 forward passes, same answers.
start = time.perf_counter()
single_acc = accuracy(network, x_test, t_test, batch_size=1)
single_time = time.perf_counter() - start
y_batch = predict(network, x_test[:100])
print(f"one batch: input {x_test[:100].shape} -> output {y_batch.shape}")
print(f"test accuracy, batches of 100: {batch_acc:.3f}")
print(
    f"test accuracy, one by one:     {single_acc:.3f} "
    f"(about {single_time / batch_time:.0f}x as long on this run)"
)
train_acc = accuracy(network, x_train, t_train)
print(f"training accuracy: {train_acc:.3f} (1297 rows: the last batch has 97)")


def plot_examples(path, rows):
    """Save rows of (title, images, labels, guesses) of digits; False when matplotlib is missing."""
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(10, 1.8 * len(rows)))
    for subfig, (title, images, labels, guesses) in zip(
        fig.subfigures(len(rows), 1), rows, strict=True
    ):
        subfig.suptitle(title, fontsize=9)
        for ax, image, label, guess in zip(
            subfig.subplots(1, 10), images, labels, guesses, strict=True
        ):
            ax.imshow(image.reshape(8, 8), cmap="gray_r")
            color = "black" if guess == label else "red"
            ax.set_title(f"{label} -> {guess}", fontsize=9, color=color)
            ax.axis("off")
    fig.savefig(path)
    plt.close(fig)
    return True


guesses = np.argmax(predict(network, x_test), axis=1)
wrong = np.flatnonzero(guesses != t_test)
print(f"{len(wrong)} of {len(t_test)} held-out digits misread (label -> guess):")
print(
    "  "
    + ", ".join(f"{t_test[i]} -> {guesses[i]}" for i in wrong[:8])
    + (", ..." if len(wrong) > 8 else "")
)
png = OUT / "step16_digits.png"
rows = [
    ("the first 10 held-out digits (label -> guess)", x_test[:10], t_test[:10], guesses[:10]),
    ("the first 10 misread ones", x_test[wrong[:10]], t_test[wrong[:10]], guesses[wrong[:10]]),
]
if plot_examples(png, rows):
    print(f"held-out digits with the network's answers: {png}")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
else:
    print("matplotlib is not installed, so no picture (pip install matplotlib to get one)")

assert y_batch.shape == (100, 10) and np.allclose(y_batch.sum(axis=1), 1)
assert batch_acc == single_acc  # batching changes the speed, not the answers
assert len(wrong) == round((1 - batch_acc) * len(t_test))
assert batch_acc > 0.93  # measured 0.956 with this split and training
assert train_acc > 0.95  # measured 0.973
