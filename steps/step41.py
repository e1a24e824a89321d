"""Step 28: now with the package: higher-order derivatives and Newton's method.

Builds on step 27, the end of the hand-built framework. From here the steps import
`dezero_lite`, which is that framework grown up: the same names (Variable, Function,
creator, inputs, generation, backward, no_grad) plus everything the later steps need.
First the examples of section E again, now through `dezero_lite.functions`.

The new idea: the package's backward can build a graph of its own
(`backward(create_graph=True)`, or `dz.grad(y, x, create_graph=True)`), because each
Function's backward is written with the package's Functions rather than bare NumPy.
The gradient is then a Variable that can be differentiated again. For
f(x) = x**4 - 2 x**2 at x = 2: f' = 4x**3 - 4x = 24, f'' = 12x**2 - 4 = 44,
f''' = 24x = 48. With f' and f'' at hand, Newton's method x <- x - f'(x) / f''(x)
finds the minimum at x = 1 from x = 2 in 6 iterations, where gradient descent with
learning rate 0.01 needs 264 to get as close (within 1e-10).
"""
import numpy as np

import dezero_lite as dz
import dezero_lite.functions as F


def dydx(build, value):
    """dy/dx at x = value for y = build(x)."""
    x = dz.Variable(np.array(value))
    build(x).backward()
    return float(x.grad.data)


section_e = {
    "square(exp(square(x)))": dydx(lambda x: F.square(F.exp(F.square(x))), 0.5),
    "square(exp(x))": dydx(lambda x: F.square(F.exp(x)), 0.5),
    "square(exp(exp(square(x))))": dydx(lambda x: F.square(F.exp(F.exp(F.square(x)))), 0.5),
}
for name, value in section_e.items():
    print(f"d/dx {name} at 0.5 = {value!r}")

x = dz.Variable(np.array(0.5))
y = F.square(F.exp(F.square(x)))
print("y.creator:", type(y.creator).__name__, " back to x:",
      y.creator.inputs[0].creator.inputs[0].creator.inputs[0] is x, " generation", y.generation)


def f(x):
    """x**4 - 2 x**2, minimal at x = 1 and x = -1."""
    return x ** 4 - 2 * x ** 2


# Higher derivatives with backward(create_graph=True): each gradient has its own graph.
x = dz.Variable(np.array(2.0))
y = f(x)
y.backward(create_graph=True)
gx = x.grad
x.cleargrad()  # gradients accumulate; start the next derivative from nothing
gx.backward(create_graph=True)
gx2 = x.grad
x.cleargrad()
gx2.backward()
gx3 = x.grad
print("f(2) =", y.data, " f'(2) =", gx.data, " f''(2) =", gx2.data, " f'''(2) =", gx3.data)

# The same with dz.grad, which returns the gradients and leaves every .grad alone.
x = dz.Variable(np.array(2.0))
(g1,) = dz.grad(f(x), x, create_graph=True)
(g2,) = dz.grad(g1, x, create_graph=True)
(g3,) = dz.grad(g2, x)
print("with dz.grad:", g1.data, g2.data, g3.data, " x.grad is still", x.grad)
with_grad = (float(g1.data), float(g2.data), float(g3.data))
untouched = x.grad is None

# Newton's method against gradient descent, both from x = 2, until |x - 1| < 1e-10.
x = dz.Variable(np.array(2.0))
newton = [float(x.data)]
while abs(x.data - 1.0) >= 1e-10:
    (g1,) = dz.grad(f(x), x, create_graph=True)
    (g2,) = dz.grad(g1, x)
    x.data = x.data - g1.data / g2.data
    newton.append(float(x.data))
print(f"Newton: {len(newton) - 1} iterations:", [round(v, 6) for v in newton])

x = dz.Variable(np.array(2.0))
descent_steps = 0
while abs(x.data - 1.0) >= 1e-10:
    x.cleargrad()
    f(x).backward()
    x.data = x.data - 0.01 * x.grad.data
    descent_steps += 1
print("gradient descent (lr 0.01):", descent_steps, "iterations")

assert abs(section_e["square(exp(square(x)))"] - 3.297442541400256) < 1e-12
assert abs(section_e["square(exp(x))"] - 5.436563656918091) < 1e-12
assert abs(section_e["square(exp(exp(square(x))))"] - 33.488363287556496) < 1e-12
assert y.data == 8.0 and gx.data == 24.0 and gx2.data == 44.0 and gx3.data == 48.0
assert isinstance(gx, dz.Variable) and gx.creator is not None  # a gradient with a graph
assert with_grad == (24.0, 44.0, 48.0) and untouched
assert abs(newton[-1] - 1.0) < 1e-10 and len(newton) - 1 <= 7
assert all(a > b for a, b in zip(newton, newton[1:]))  # straight down to 1
assert 200 < descent_steps < 300 and descent_steps > 10 * (len(newton) - 1)
