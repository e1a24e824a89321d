"""Step 08: a three-layer forward pass, and a softmax output that cannot overflow.

Idea: a network is its weights plus a forward function: affine, sigmoid,
affine, sigmoid, affine, then an output function (the identity here, giving
Y = [0.31682708, 0.69627909]). For classification the output function is
softmax, and exp(1000) overflows: subtracting the largest input first leaves
the result unchanged and keeps it finite, so inputs near 1000 still give
probabilities that sum to 1. Builds on step 07 (sigmoid between layers).
"""

import warnings

import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def identity(x):
    return x


def init_network():
    return {
        "W1": np.array([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]]),
        "b1": np.array([0.1, 0.2, 0.3]),
        "W2": np.array([[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]]),
        "b2": np.array([0.1, 0.2]),
        "W3": np.array([[0.1, 0.3], [0.2, 0.4]]),
        "b3": np.array([0.1, 0.2]),
    }


def forward(network, x, output=identity):
    z1 = sigmoid(x @ network["W1"] + network["b1"])
    z2 = sigmoid(z1 @ network["W2"] + network["b2"])
    return output(z2 @ network["W3"] + network["b3"])


network = init_network()
X = np.array([1.0, 0.5])
Y = forward(network, X)
print(f"forward pass of X = {X}: Y = {Y.round(8)}")
assert Y.shape == (2,)
assert np.allclose(Y, [0.31682708, 0.69627909], rtol=0, atol=5e-9)


def softmax_naive(a):
    e = np.exp(a)
    return e / np.sum(e)


def softmax(a):
    e = np.exp(a - np.max(a))  # the largest exponent is now exp(0) = 1
    return e / np.sum(e)


small = np.array([0.3, 2.9, 4.0])
print(f"\nsoftmax of {small}:")
print(f"  naive  {softmax_naive(small).round(6)}")
print(f"  stable {softmax(small).round(6)}")
assert np.allclose(softmax(small), softmax_naive(small))
assert abs(softmax(small).sum() - 1) < 1e-12

big = np.array([1010.0, 1000.0, 990.0])
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    naive = softmax_naive(big)
messages = sorted({str(w.message) for w in caught})
stable = softmax(big)
print(f"softmax of {big}:")
print(f"  naive  {naive}, with the warnings:")
for message in messages:
    print(f"    {message}")
print(f"  stable [{', '.join(f'{p:.3g}' for p in stable)}], sum {stable.sum():.6f}")
assert np.all(np.isnan(naive))
assert any(issubclass(w.category, RuntimeWarning) and "overflow" in str(w.message) for w in caught)
assert np.all(np.isfinite(stable)) and abs(stable.sum() - 1) < 1e-12
assert np.allclose(stable, softmax_naive(big - 1000))  # shifting the inputs changes nothing
assert np.argmax(stable) == np.argmax(big)

# Softmax as the output function of the same network: probabilities for two classes.
P = forward(network, X, output=softmax)
print(f"\nthe network with a softmax output: P = {P.round(6)}, sum {P.sum():.6f}")
assert np.allclose(P, softmax(Y)) and abs(P.sum() - 1) < 1e-12
assert np.argmax(P) == np.argmax(Y)  # softmax keeps the order, so it can be skipped to classify
