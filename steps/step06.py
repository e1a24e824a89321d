"""Step 06: perceptrons, logic gates with weights chosen by hand.

Idea: a perceptron is a gate with weights: it outputs 1 when
w1*x1 + w2*x2 + b > 0 and 0 otherwise. With w = (0.5, 0.5) and b = -0.7 it is
AND, with b = -0.2 it is OR, and with w = (-0.5, -0.5), b = 0.7 it is NAND.
XOR needs two layers: XOR(x) = AND(NAND(x), OR(x)). Here the weights are set
by hand; from step 12 on they are learned. Builds on step 02 (gates that
multiply and add), without gradients: this is the forward pass alone.
"""

import numpy as np


def perceptron(x, w, b):
    return int(np.sum(np.asarray(x) * w) + b > 0)


def AND(x1, x2):
    return perceptron([x1, x2], np.array([0.5, 0.5]), -0.7)


def OR(x1, x2):
    return perceptron([x1, x2], np.array([0.5, 0.5]), -0.2)


def NAND(x1, x2):
    return perceptron([x1, x2], np.array([-0.5, -0.5]), 0.7)


def XOR(x1, x2):
    return AND(NAND(x1, x2), OR(x1, x2))


inputs = [(0, 0), (0, 1), (1, 0), (1, 1)]
tables = {}
print("x1 x2 | AND OR NAND | XOR = AND(NAND, OR)")
for x1, x2 in inputs:
    a, o, n = AND(x1, x2), OR(x1, x2), NAND(x1, x2)
    print(f" {x1}  {x2} |  {a}   {o}   {n}  |  {XOR(x1, x2)}   = AND({n}, {o})")
for gate in (AND, OR, NAND, XOR):
    tables[gate.__name__] = [gate(x1, x2) for x1, x2 in inputs]

assert tables["AND"] == [0, 0, 0, 1]
assert tables["OR"] == [0, 1, 1, 1]
assert tables["NAND"] == [1, 1, 1, 0]
assert tables["XOR"] == [0, 1, 1, 0]
# NAND is AND with every sign flipped, so it always answers the opposite.
assert tables["NAND"] == [1 - v for v in tables["AND"]]
