"""Step 02: backpropagation is the chain rule applied gate by gate.

Idea: a circuit of several gates is differentiated by walking it backwards:
each gate multiplies the gradient arriving at its output by its own local
gradient and hands the result to its inputs. First (x + y) * z, then one
neuron s = sigmoid(a*x + b*y + c), whose five gradients give one step that
raises s. Builds on step 01 (the gradient of a single multiply gate) and
checks every backprop gradient with step 01's central difference.
"""
import math


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


def numerical_grad(f, args, i, h=1e-4):
    """Central difference of f(*args) in its i-th argument."""
    plus, minus = list(args), list(args)
    plus[i] += h
    minus[i] -= h
    return (f(*plus) - f(*minus)) / (2 * h)


# 1. f = (x + y) * z, written as two gates: q = x + y, then f = q * z.
def circuit(x, y, z):
    return (x + y) * z


x, y, z = -2.0, 5.0, -4.0
q = x + y            # add gate
f = q * z            # multiply gate
df = 1.0             # gradient of f with respect to itself
dq = z * df          # multiply gate: d(q*z)/dq = z
dz = q * df          # multiply gate: d(q*z)/dz = q
dx = 1.0 * dq        # add gate passes the gradient through unchanged
dy = 1.0 * dq
print(f"(x + y) * z at ({x}, {y}, {z}): f = {f}")
print(f"backprop:  df/dx = {dx}, df/dy = {dy}, df/dz = {dz}")
num = [numerical_grad(circuit, (x, y, z), i) for i in range(3)]
print("numerical: df/dx = {:.6f}, df/dy = {:.6f}, df/dz = {:.6f}".format(*num))

assert f == -12.0
assert (dx, dy, dz) == (-4.0, -4.0, 3.0)
assert all(abs(n - g) < 1e-9 for n, g in zip(num, (dx, dy, dz)))


# 2. One neuron: s = sigmoid(a*x + b*y + c).
def neuron(a, b, c, x, y):
    return sigmoid(a * x + b * y + c)


a, b, c, x, y = 1.0, 2.0, -3.0, -1.0, 3.0
ax = a * x                      # multiply gates
by = b * y
u = ax + by + c                 # add gates
s = sigmoid(u)                  # sigmoid gate
ds = 1.0
du = s * (1 - s) * ds           # sigmoid gate: its local gradient is s * (1 - s)
dax, dby, dc = du, du, du       # add gates pass it on
da, dx = x * dax, a * dax       # multiply gates swap their inputs
db, dy = y * dby, b * dby
grads = (da, db, dc, dx, dy)
print(f"\nneuron sigmoid(a*x + b*y + c) at a={a}, b={b}, c={c}, x={x}, y={y}: s = {s!r}")
for name, g in zip("abcxy", grads):
    print(f"  ds/d{name} = {g!r}")
num = [numerical_grad(neuron, (a, b, c, x, y), i) for i in range(5)]

step_size = 0.01
inputs = [v + step_size * g for v, g in zip((a, b, c, x, y), grads)]
s_new = neuron(*inputs)
print(f"after one step of {step_size} on all five inputs: s = {s_new!r}")

assert abs(s - 0.8807970779778823) < 1e-12
expected = (-0.10499358540350662, 0.31498075621051985, 0.10499358540350662,
            0.10499358540350662, 0.20998717080701323)
assert all(abs(g - e) < 1e-12 for g, e in zip(grads, expected))
assert all(abs(n - g) < 1e-8 for n, g in zip(num, grads))  # h**2-sized error
assert abs(s_new - 0.8825501816218984) < 1e-12 and s_new > s
