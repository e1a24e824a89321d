"""Step 17: a Variable is a box around an ndarray.

Builds on steps 01-16, which worked with bare NumPy arrays and got every gradient by
hand or by numerical differences. From here to step 40 the learner builds a small
define-by-run framework, NumPy only, one idea per step, each step carrying the code of
the one before; step 41 then shows where each piece lives in the package. The first
idea: wrap each array in a Variable, a box that will later also carry its gradient and
a link to where it came from.

The box holds an ndarray and nothing else. A 0-dim array stays an ndarray, but NumPy
arithmetic on one returns a NumPy scalar (np.float64), which is not an ndarray; `as_array`
turns such a scalar back into a 0-dim array.
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


x = Variable(np.array(1.0))
print("x.data:", x.data, type(x.data).__name__, "ndim", x.data.ndim)
x.data = np.array(2.0)  # the box can be refilled
print("refilled:", x.data)

v = Variable(np.array([[1, 2, 3], [4, 5, 6]]))
print("a 2x3 matrix inside:", v.data.shape)

# Arithmetic on a 0-dim array gives a NumPy scalar, not an ndarray.
raw = np.array(1.0) ** 2
print("np.array(1.0) ** 2 is", type(raw).__name__)
fixed = as_array(raw)
print("as_array of it is", type(fixed).__name__, "with ndim", fixed.ndim)

# Anything that is not an ndarray is refused, with a message saying what to do.
errors = []
for bad in (1.0, [1.0, 2.0], raw):
    try:
        Variable(bad)
    except TypeError as e:
        errors.append(str(e))
        print("TypeError:", e)

assert isinstance(x.data, np.ndarray) and x.data.ndim == 0 and x.data == 2.0
assert v.data.shape == (2, 3)
assert type(raw) is np.float64 and not isinstance(raw, np.ndarray)
assert isinstance(fixed, np.ndarray) and fixed.ndim == 0 and fixed == 1.0
assert Variable(fixed).data is fixed
assert Variable(None).data is None  # an empty box is allowed
assert len(errors) == 3
assert "not float" in errors[0] and "not list" in errors[1] and "not float64" in errors[2]
assert all("np.array(...)" in e for e in errors)
