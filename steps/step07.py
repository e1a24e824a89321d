"""Step 07: activation functions, and why a network needs them.

Idea: between layers goes a nonlinear activation: the perceptron's step
function, the smooth sigmoid, or ReLU. Without one, layers collapse: x @ W1 @ W2
is a single linear layer with weights W1 @ W2, and step 06's XOR network with
the identity in place of the step computes an affine function, which cannot be
XOR. The three activations are plotted to a PNG when matplotlib is installed.
Builds on step 06 (perceptrons and the two-layer XOR).
"""

import os
from pathlib import Path

import numpy as np

OUT = Path(os.environ.get("DEZERO_STEPS_OUT", Path(__file__).resolve().parent / "out"))
OUT.mkdir(parents=True, exist_ok=True)


def step_function(x):
    return (x > 0).astype(int)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def relu(x):
    return np.maximum(0, x)


def identity(x):
    return x


x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
print(f"x          = {x}")
print(f"step(x)    = {step_function(x)}")
print(f"sigmoid(x) = {sigmoid(x).round(4)}")
print(f"relu(x)    = {relu(x)}")

assert step_function(x).tolist() == [0, 0, 0, 1, 1]
assert sigmoid(np.array(0.0)) == 0.5
assert np.allclose(sigmoid(-x), 1 - sigmoid(x))  # symmetric about (0, 0.5)
assert np.all(np.diff(sigmoid(x)) > 0) and np.all((sigmoid(x) > 0) & (sigmoid(x) < 1))
assert relu(x).tolist() == [0, 0, 0, 0.5, 2]


def plot_activations(path):
    """Save the three activations side by side; return False when matplotlib is missing."""
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = np.linspace(-5, 5, 501)
    fig, axes = plt.subplots(1, 3, figsize=(10, 3), sharex=True)
    for ax, (name, f) in zip(
        axes, [("step", step_function), ("sigmoid", sigmoid), ("ReLU", relu)], strict=True
    ):
        ax.plot(xs, f(xs))
        ax.set_title(name)
        ax.axhline(0, color="gray", linewidth=0.5)
        ax.axvline(0, color="gray", linewidth=0.5)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


png = OUT / "step07_activations.png"
if plot_activations(png):
    print(f"plot of the three activations: {png}")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
else:
    print("matplotlib is not installed, so no plot (pip install matplotlib to get one)")

# Two linear layers are one linear layer.
rng = np.random.default_rng(0)
W1, b1 = rng.standard_normal((2, 3)), rng.standard_normal(3)
W2, b2 = rng.standard_normal((3, 4)), rng.standard_normal(4)
batch = rng.standard_normal((5, 2))
two_layers = (batch @ W1 + b1) @ W2 + b2
one_layer = batch @ (W1 @ W2) + (b1 @ W2 + b2)
print("\ntwo linear layers vs one with W = W1 @ W2, b = b1 @ W2 + b2:")
print(f"  max difference {np.max(np.abs(two_layers - one_layer)):.1e}")
assert np.allclose(two_layers, one_layer)
# With a sigmoid between them that is no longer possible: the result is not additive.
h = lambda v: sigmoid(v @ W1) @ W2  # noqa: E731
u, v = batch[0], batch[1]
print("with a sigmoid between them, h(u + v) - h(u) - h(v) is not 0:")
print(f"  {(h(u + v) - h(u) - h(v)).round(3)}")
assert not np.allclose(h(u + v), h(u) + h(v))


# Step 06's XOR network, first with the step activation, then with the identity.
def xor_network(x, activation):
    W1 = np.array([[-0.5, 0.5], [-0.5, 0.5]])  # columns: NAND, OR
    b1 = np.array([0.7, -0.2])
    w2, b2 = np.array([0.5, 0.5]), -0.7  # AND
    return activation(x @ W1 + b1) @ w2 + b2  # > 0 means 1


X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
with_step = xor_network(X, step_function)
with_identity = xor_network(X, identity)
print(f"\nXOR network with step:     {(with_step > 0).astype(int)}")
print(f"XOR network with identity: {(with_identity > 0).astype(int)}")
print(f"  (its scores {with_identity.round(3)}: the same for every input)")
assert (with_step > 0).astype(int).tolist() == [0, 1, 1, 0]
# Any affine g has g(0,0) + g(1,1) == g(0,1) + g(1,0); XOR needs the left side
# below zero twice and the right side above zero twice, so no affine g can do it.
z00, z01, z10, z11 = with_identity
assert abs((z00 + z11) - (z01 + z10)) < 1e-12
assert (with_identity > 0).astype(int).tolist() != [0, 1, 1, 0]
