"""Step 24: several inputs and outputs, Add, and gradients that accumulate.

Builds on step 23 (plain functions). A Function now takes any number of Variables
(`self.inputs`, a list) and may return several (`self.outputs`); `forward(*xs)` gets the
arrays and `backward(*gys)` returns one gradient per input. The first two-input Function
is Add, whose backward hands the upstream gradient to both inputs unchanged.

When a Variable feeds a computation twice, as x does in add(x, x), its gradient is the
sum of what comes back along each path, so backward adds a new gradient to the one
already there instead of overwriting it: d/dx (x + x) = 2, not 1. Because gradients now
accumulate, reusing a Variable for a second computation needs `cleargrad()` first.
"""
import numpy as np


def as_array(x):
    """Turn a NumPy or Python scalar into a 0-dim ndarray; leave arrays alone."""
    if np.isscalar(x):
        return np.array(x)
    return x


class Variable:
    """A box around an ndarray, with its gradient and the Function that made it."""

    def __init__(self, data):
        if data is not None and not isinstance(data, np.ndarray):
            raise TypeError(f"Variable takes an np.ndarray, not {type(data).__name__}; "
                            f"wrap the value in np.array(...)")
        self.data = data
        self.grad = None  # filled in by backward
        self.creator = None  # the Function that made this Variable; None for inputs

    def set_creator(self, func):
        self.creator = func

    def cleargrad(self):
        """Forget the gradient, before using this Variable in a new computation."""
        self.grad = None

    def backward(self):
        """Walk back from self with a list of Functions still to visit, not by recursion."""
        if self.grad is None:
            self.grad = np.ones_like(self.data)  # dy/dy = 1, so no set-up by hand
        funcs = [] if self.creator is None else [self.creator]  # a leaf has none
        while funcs:
            f = funcs.pop()
            gys = [output.grad for output in f.outputs]
            gxs = f.backward(*gys)
            if not isinstance(gxs, tuple):
                gxs = (gxs,)
            for x, gx in zip(f.inputs, gxs):
                if x.grad is None:
                    x.grad = gx
                else:
                    x.grad = x.grad + gx  # sum over paths (+= could alter a shared array)
                if x.creator is not None:
                    funcs.append(x.creator)


class Function:
    """Unwrap the input, compute with `forward`, wrap the output; `backward` goes back."""

    def __call__(self, *inputs):
        xs = [x.data for x in inputs]
        ys = self.forward(*xs)
        if not isinstance(ys, tuple):
            ys = (ys,)
        outputs = [Variable(as_array(y)) for y in ys]  # 0-dim results come back as scalars
        for output in outputs:
            output.set_creator(self)  # the link that lets backward find its way back
        self.inputs = inputs  # backward needs the values it was called on
        self.outputs = outputs
        return outputs if len(outputs) > 1 else outputs[0]

    def forward(self, *xs):
        raise NotImplementedError(f"{type(self).__name__} must define forward(*xs)")

    def backward(self, *gys):
        raise NotImplementedError(f"{type(self).__name__} must define backward(*gys)")


class Square(Function):
    def forward(self, x):
        return x ** 2

    def backward(self, gy):
        x = self.inputs[0].data
        gx = 2 * x * gy
        return gx


class Exp(Function):
    def forward(self, x):
        return np.exp(x)

    def backward(self, gy):
        x = self.inputs[0].data
        gx = np.exp(x) * gy
        return gx


class Add(Function):
    def forward(self, x0, x1):
        y = x0 + x1
        return y

    def backward(self, gy):
        return gy, gy


def square(x):
    """x ** 2, with a new Square object for every call."""
    return Square()(x)


def exp(x):
    """e ** x, with a new Exp object for every call."""
    return Exp()(x)


def add(x0, x1):
    """x0 + x1."""
    return Add()(x0, x1)


def numerical_diff(f, x, eps=1e-4):
    """Central difference (f(x + eps) - f(x - eps)) / (2 * eps) at a 0-dim Variable x."""
    y0 = f(Variable(as_array(x.data - eps)))  # 0-dim minus float is a NumPy scalar
    y1 = f(Variable(as_array(x.data + eps)))
    return (y1.data - y0.data) / (2 * eps)


x0 = Variable(np.array(2.0))
x1 = Variable(np.array(3.0))
y = add(x0, x1)
print("add(2, 3) =", y.data)

x = Variable(np.array(2.0))
y = Variable(np.array(3.0))
z = add(square(x), square(y))
z.backward()
dz = (x.grad, y.grad)
print("z = x**2 + y**2 at (2, 3):", z.data, " dz/dx =", dz[0], " dz/dy =", dz[1])

x = Variable(np.array(3.0))
y = add(x, x)
y.backward()
print("d/dx (x + x) =", x.grad)
twice = x.grad

y = add(add(x, x), x)  # a second computation with the same x, without cleargrad
y.backward()
print("d/dx (x + x + x) without cleargrad:", x.grad, "(2 left over from before)")
stale = x.grad

x.cleargrad()
y = add(add(x, x), x)
y.backward()
print("d/dx (x + x + x) after cleargrad:", x.grad)

assert y.data == 9.0
assert z.data == 13.0 and dz == (4.0, 6.0)
assert Add()(x0, x1).data == 5.0 and isinstance(Add()(x0, x1), Variable)
z_inputs = z.creator.inputs
assert len(z_inputs) == 2 and all(type(v.creator) is Square for v in z_inputs)
assert twice == 2.0
assert stale == 5.0
assert x.grad == 3.0
