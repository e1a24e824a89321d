"""Step 18: a Function takes Variables and returns Variables.

Builds on step 17 (Variable, as_array). A Function is an object with a `forward` method
that does the arithmetic on plain ndarrays; calling the object unwraps the input
Variable, runs `forward` and wraps the result in a new Variable. Subclasses say only
what their forward computes: Square gives x ** 2, Exp gives e ** x. Because a Function
takes and returns Variables, Functions chain like ordinary mathematical functions.
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
            raise TypeError(
                f"Variable takes an np.ndarray, not {type(data).__name__}; "
                f"wrap the value in np.array(...)"
            )
        self.data = data


class Function:
    """Unwrap the input, compute with `forward`, wrap the output."""

    def __call__(self, input):
        x = input.data
        y = self.forward(x)
        output = Variable(as_array(y))  # 0-dim results come back as NumPy scalars
        return output

    def forward(self, x):
        raise NotImplementedError(f"{type(self).__name__} must define forward(x)")


class Square(Function):
    def forward(self, x):
        return x**2


class Exp(Function):
    def forward(self, x):
        return np.exp(x)


x = Variable(np.array(10))
f = Square()
y = f(x)
print("Square()(10):", y.data, "is a", type(y).__name__, "holding", type(y.data).__name__)

# Chain three Functions: y = (e ** (x ** 2)) ** 2 = e ** (2 * x ** 2).
A, B, C = Square(), Exp(), Square()
x = Variable(np.array(0.5))
a = A(x)
b = B(a)
y = C(b)
print(f"square(exp(square(0.5))) = {y.data:.6f} (e**0.5)")

# Functions work on whole arrays too, element by element.
z = Exp()(Variable(np.array([0.0, 1.0])))
print("exp([0, 1]):", z.data)

# The base class has no forward of its own.
try:
    Function()(x)
except NotImplementedError as e:
    base_error = str(e)
    print("NotImplementedError:", e)

assert isinstance(y, Variable) and isinstance(y.data, np.ndarray) and y.data.ndim == 0
assert Square()(Variable(np.array(10))).data == 100
assert abs(a.data - 0.25) < 1e-15
assert abs(y.data - np.exp(0.5)) < 1e-15
assert abs(y.data - 1.648721270700128) < 1e-15
assert np.allclose(z.data, [1.0, np.e])
assert base_error == "Function must define forward(x)"
