"""Train an MLP on scikit-learn's 8x8 handwritten digits (no network) and write what it learned.

    python tools/train.py [--epochs 30] [--out out]

Shows a progress bar with the loss, prints the test accuracy, and writes into the output
folder: the loss curve (loss.png), the model's computation graph (model.png, or only
model.dot when Graphviz is missing) and the trained weights (digits_mlp.npz).
"""

import argparse
import math
import os
import time

import numpy as np

import dezero_lite as dz
import dezero_lite.functions as F
from dezero_lite.dataloaders import DataLoader
from dezero_lite.datasets import Digits
from dezero_lite.models import MLP
from dezero_lite.optimizers import Adam
from dezero_lite.progress import progress, save_loss_curve


def evaluate(model, dataset):
    with dz.test_mode(), dz.no_grad():
        return float(F.accuracy(model(dataset.data), dataset.label).data)


def number(kind, low, what):
    """An argparse type: a finite number of kind (int or float) that is at least low."""

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not math.isfinite(value) or value < low or (kind is float and value == low):
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value

    return parse


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    positive = number(int, 1, "a whole number of at least 1")
    parser.add_argument("--epochs", type=positive, default=30)
    parser.add_argument("--batch-size", type=positive, default=64)
    parser.add_argument("--hidden", type=positive, default=100)
    parser.add_argument(
        "--lr",
        type=number(float, 0.0, "a finite number above 0"),
        default=0.01,
        help="Adam's alpha",
    )
    parser.add_argument("--seed", type=number(int, 0, "a whole number of at least 0"), default=0)
    parser.add_argument(
        "--out", default="out", help="folder for the pictures and weights (default: out)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:  # before training, so that a bad --out costs nothing
        os.makedirs(args.out, exist_ok=True)
    except OSError as e:
        parser.error(f"--out {args.out}: cannot make that folder ({e.strerror}); name a folder")
    if not os.access(args.out, os.W_OK):
        parser.error(f"--out {args.out}: the folder is not writable")

    np.random.seed(args.seed)
    train, test = Digits(train=True), Digits(train=False)
    model = MLP((args.hidden, 10), activation=F.relu)
    optimizer = Adam(alpha=args.lr).setup(model)
    loader = DataLoader(train, batch_size=args.batch_size)
    print(f"digits: {len(train)} training and {len(test)} test images of 8x8 pixels")

    losses, accs = [], []
    start = time.perf_counter()
    bar = progress(range(args.epochs), desc="train", disable=args.quiet)
    for epoch in bar:
        total = 0.0
        for x, t in loader:
            loss = F.softmax_cross_entropy(model(x), t)
            model.cleargrads()
            loss.backward()
            optimizer.update()
            total += float(loss.data) * len(t)
        if not math.isfinite(total):
            raise SystemExit(
                f"training diverged in epoch {epoch + 1} (the loss is {total}); "
                f"try a smaller --lr than {args.lr}"
            )
        losses.append(total / len(train))
        accs.append(evaluate(model, test))
        bar.set_postfix(loss=losses[-1], test_acc=accs[-1])
    elapsed = time.perf_counter() - start
    print(model)
    print(
        f"trained {args.epochs} epochs in {elapsed:.2f} s ({1000 * elapsed / args.epochs:.1f} ms per epoch)"
    )
    print(f"final training loss {losses[-1]:.4f}, test accuracy {accs[-1]:.4f}")

    weights = os.path.join(args.out, "digits_mlp.npz")
    model.save_weights(weights)
    again = MLP((args.hidden, 10), activation=F.relu)
    again(train.data[:1])  # create the lazy weights before loading into them
    again.load_weights(weights)
    assert evaluate(again, test) == accs[-1], "reloaded weights give another accuracy"
    print(f"weights: {weights}")

    curve = save_loss_curve(
        losses, os.path.join(args.out, "loss.png"), title="digits MLP", test_accuracy=accs
    )
    print(f"loss curve: {curve}")

    graph = os.path.join(args.out, "model.png")
    try:
        model.plot(test.data[:1], to_file=graph)
        print(f"model graph: {graph}")
    except RuntimeError as e:  # Graphviz missing or failing: the .dot text is written anyway
        why = " ".join(str(e).splitlines()[:2])  # what failed, and why
        print(f"model graph: {os.path.splitext(graph)[0] + '.dot'} only ({why})")
    return accs[-1]


if __name__ == "__main__":
    main()
