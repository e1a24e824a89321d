"""Step 19: numerical differentiation of a Function.

Builds on step 18 (Function, Square, Exp). Before writing any backward pass we want a
way to check one: the central difference (f(x + eps) - f(x - eps)) / (2 * eps), with
eps = 1e-4, applied to a Function and a Variable. It works for any chain of Functions
without knowing what they do, but it costs two forward passes per input number and
is not exact. For x**2 the formula itself is exact ((x+h)**2 - (x-h)**2 = 4xh), so the
4.000000000004 it gives at 2 is rounding alone: x + eps is not exactly representable and
the subtraction of two nearly equal numbers keeps few correct digits. For the chain at
0.5 there is also truncation, the eps**2 f'''(x) / 6 term of the Taylor series: 9e-8.
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


def numerical_diff(f, x, eps=1e-4):
    """Central difference (f(x + eps) - f(x - eps)) / (2 * eps) at a 0-dim Variable x."""
    y0 = f(Variable(as_array(x.data - eps)))  # 0-dim minus float is a NumPy scalar
    y1 = f(Variable(as_array(x.data + eps)))
    return (y1.data - y0.data) / (2 * eps)


x = Variable(np.array(2.0))
dy = numerical_diff(Square(), x)
print(f"d/dx x**2 at 2, numerically: {dy:.12f} (exact: 4; off by {dy - 4:.1e}, rounding)")


def composite(x):
    """The chain of step 18: square(exp(square(x))) = e ** (2 * x ** 2)."""
    A, B, C = Square(), Exp(), Square()
    return C(B(A(x)))


x = Variable(np.array(0.5))
dy = numerical_diff(composite, x)
exact = 4 * 0.5 * np.exp(2 * 0.5**2)  # d/dx e ** (2 x**2) = 4 x e ** (2 x**2)
print(f"d/dx square(exp(square(x))) at 0.5, numerically: {dy:.10f}")
print(f"the exact value 2 e**0.5:                         {exact:.10f}  (off by {dy - exact:.1e})")

d_square = numerical_diff(Square(), Variable(np.array(2.0)))
assert abs(d_square - 4.000000000004) < 1e-15
assert d_square != 4.0  # the central difference is close, not exact
assert abs(dy - 3.297442541400256) < 1e-6
assert abs(dy - 3.2974426293330694) < 1e-12
