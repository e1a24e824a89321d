"""Step 20: backpropagation by hand.

Builds on step 19 (numerical_diff). Each Function now remembers the Variable it was
called on (`self.input`) and has a `backward(gy)` method: given the gradient of the final
output with respect to its own output, it returns the gradient with respect to its
input, by the chain rule (Square: 2 * x * gy; Exp: e ** x * gy). Variable gets a `grad`
slot. The learner calls the backward methods by hand, in the reverse of the forward
order, starting from dy/dy = 1, and checks the result against the numerical derivative.
One backward pass gives the exact gradient for the price of about one forward pass.
"""
import numpy as np


def as_array(x):
    """Turn a NumPy or Python scalar into a 0-dim ndarray; leave arrays alone."""
    if np.isscalar(x):
        return np.array(x)
    return x


class Variable:
    """A box around an ndarray."""

    def __init__(self, data):
        if data is not None and not isinstance(data, np.ndarray):
            raise TypeError(f"Variable takes an np.ndarray, not {type(data).__name__}; "
                            f"wrap the value in np.array(...)")
        self.data = data
        self.grad = None  # filled in by backward


class Function:
    """Unwrap the input, compute with `forward`, wrap the output; `backward` goes back."""

    def __call__(self, input):
        x = input.data
        y = self.forward(x)
        output = Variable(as_array(y))  # 0-dim results come back as NumPy scalars
        self.input = input  # backward needs the value it was called on
        return output

    def forward(self, x):
        raise NotImplementedError(f"{type(self).__name__} must define forward(x)")

    def backward(self, gy):
        raise NotImplementedError(f"{type(self).__name__} must define backward(gy)")


class Square(Function):
    def forward(self, x):
        return x ** 2

    def backward(self, gy):
        x = self.input.data
        gx = 2 * x * gy
        return gx


class Exp(Function):
    def forward(self, x):
        return np.exp(x)

    def backward(self, gy):
        x = self.input.data
        gx = np.exp(x) * gy
        return gx


def numerical_diff(f, x, eps=1e-4):
    """Central difference (f(x + eps) - f(x - eps)) / (2 * eps) at a 0-dim Variable x."""
    y0 = f(Variable(as_array(x.data - eps)))  # 0-dim minus float is a NumPy scalar
    y1 = f(Variable(as_array(x.data + eps)))
    return (y1.data - y0.data) / (2 * eps)


A, B, C = Square(), Exp(), Square()
x = Variable(np.array(0.5))
a = A(x)
b = B(a)
y = C(b)

# Backward, by hand, in reverse order: C, then B, then A.
y.grad = np.array(1.0)
b.grad = C.backward(y.grad)
a.grad = B.backward(b.grad)
x.grad = A.backward(a.grad)
print("y =", repr(float(y.data)))
print("dy/db =", repr(float(b.grad)), " dy/da =", repr(float(a.grad)))
print("dy/dx by backprop:", repr(float(x.grad)))


def composite(x):
    """The chain of step 18: square(exp(square(x))) = e ** (2 * x ** 2)."""
    A, B, C = Square(), Exp(), Square()
    return C(B(A(x)))


numerical = numerical_diff(composite, Variable(np.array(0.5)))
print("dy/dx numerically:", repr(float(numerical)), " difference", float(x.grad - numerical))

assert abs(x.grad - 3.297442541400256) < 1e-12
assert abs(b.grad - 2 * np.exp(0.25)) < 1e-12 and abs(a.grad - 2 * np.exp(0.5)) < 1e-12
assert abs(x.grad - numerical) < 1e-6
