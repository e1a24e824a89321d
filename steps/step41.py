"""Step 41: the package: where each idea of steps 17-40 lives, and higher derivatives again.

Builds on step 40, the end of the framework built from scratch. From here the steps
import `dezero_lite`, which is that framework grown up, with the same names. Each idea
has its place in the package:

- core.py: Variable, Function, the backward loop with its heap of generations (steps
  17-26), weak references, retain_grad, Config and no_grad (27-29), as_variable (31),
  create_graph (33), Parameter (39), and `dz.grad`, which returns gradients without
  touching any .grad.
- functions.py: every Function with its plain function: square, exp, add, mul, pow
  (18-32), reshape, transpose, sum, broadcast_to, sum_to (35-37), matmul (38), sigmoid,
  mean_squared_error (40) and many more, each backward written with Functions (33),
  and at its end the table that binds Variable's operators to them (30-32).
- numerical.py: the central difference of step 19, over every element
  (`numerical_grad`), and `gradient_check`.
- graph.py: DOT text of a graph with values, gradients and visit order, as the
  pictures of steps 20-33 drew, and `plot_dot_graph` to render it; the
  `dezero_lite.graph.animate_backward` animation shows a backward pass frame by frame.
- layers.py: Layer and Linear (39); models.py: MLP (40); optimizers.py: SGD (40), and
  Adam and others.

The step checks that map, then repeats step 34 with the package: for
f(x) = x**4 - 2 x**2 at x = 2, the first three derivatives 24, 44 and 48 by
`backward(create_graph=True)` and by `dz.grad`, and Newton's method reaches 1 from 2
in 6 iterations where gradient descent with learning rate 0.01 needs 264.
"""

import numpy as np

import dezero_lite as dz
import dezero_lite.functions as F
import dezero_lite.layers as L
import dezero_lite.models as models
import dezero_lite.numerical as numerical
import dezero_lite.optimizers as optimizers
from dezero_lite.graph import get_dot_graph

where = {
    "core": [dz.Variable, dz.Function, dz.Parameter, dz.Config, dz.no_grad, dz.grad],
    "functions": [F.Square, F.Exp, F.Reshape, F.Sum, F.SumTo, F.MatMul, F.sigmoid],
    "numerical": [numerical.numerical_grad, numerical.gradient_check],
    "graph": [get_dot_graph],
    "layers": [L.Layer, L.Linear],
    "models": [models.MLP],
    "optimizers": [optimizers.SGD],
}
for module, objects in where.items():
    print(f"dezero_lite/{module + '.py':13}", ", ".join(o.__name__ for o in objects))
assert all(
    o.__module__ == "dezero_lite." + module for module, objects in where.items() for o in objects
)
print(
    "Variable's operators are functions.py's: x * y calls",
    dz.Variable.__mul__.__module__ + "." + dz.Variable.__mul__.__name__,
)
assert dz.Variable.__mul__ is F.mul and dz.Variable.__matmul__ is F.matmul

x = dz.Variable(np.array(0.5))
y = F.square(F.exp(F.square(x)))
y.backward()
print(
    f"the chain of step 18 with the package: dy/dx = {float(x.grad.data):.6f},"
    f" made by {type(y.creator).__name__}, generation {y.generation}"
)
assert abs(x.grad.data - 3.297442541400256) < 1e-12 and y.generation == 3


def f(x):
    """x**4 - 2 x**2, minimal at x = 1 and x = -1."""
    return x**4 - 2 * x**2


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
print(f"f(2) = {y.data}, f'(2) = {gx.data}, f''(2) = {gx2.data}, third derivative {gx3.data}")

# The same with dz.grad, which returns the gradients and leaves every .grad alone.
x = dz.Variable(np.array(2.0))
(g1,) = dz.grad(f(x), x, create_graph=True)
(g2,) = dz.grad(g1, x, create_graph=True)
(g3,) = dz.grad(g2, x)
print(f"with dz.grad: {g1.data}, {g2.data}, {g3.data}; x.grad is still {x.grad}")
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

assert y.data == 8.0 and gx.data == 24.0 and gx2.data == 44.0 and gx3.data == 48.0
assert isinstance(gx, dz.Variable) and gx.creator is not None  # a gradient with a graph
assert with_grad == (24.0, 44.0, 48.0) and untouched
assert abs(newton[-1] - 1.0) < 1e-10 and len(newton) - 1 <= 7
assert all(a > b for a, b in zip(newton, newton[1:], strict=False))  # straight down to 1
assert 200 < descent_steps < 300 and descent_steps > 10 * (len(newton) - 1)
