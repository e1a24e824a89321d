"""Step 25: generations: backward visits Functions in the right order.

Builds on step 24 (several inputs, accumulating gradients). Step 24's walk pops whatever
Function was pushed last. On a diamond, where one Variable feeds two branches that meet
again, it runs a Function before all the gradient for its output has arrived, and runs it
again when the rest comes: the gradient comes out wrong. The fix: every Variable and
Function gets a generation (a Function's is its newest input's; its outputs are one
more), and backward takes Functions from a heap, highest generation first, each once.
A Function then runs only after every Function that uses its outputs has run. The
example: a = x ** 2, y = a ** 2 + a ** 2 = 2 x ** 4, so dy/dx = 8 x ** 3 = 64 at x = 2.
"""
import heapq

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
        self.generation = 0  # the longest chain of Functions back to an input

    def set_creator(self, func):
        self.creator = func
        self.generation = func.generation + 1

    def cleargrad(self):
        """Forget the gradient, before using this Variable in a new computation."""
        self.grad = None

    def backward(self):
        """Walk back from self, latest generation first, each Function once."""
        if self.grad is None:
            self.grad = np.ones_like(self.data)  # dy/dy = 1, so no set-up by hand
        funcs = []
        seen = set()

        def add_func(f):
            if f not in seen:
                seen.add(f)
                # heapq pops the smallest, so negate; len(seen) breaks ties, first found first
                heapq.heappush(funcs, (-f.generation, len(seen), f))

        if self.creator is not None:  # a leaf has nothing to walk
            add_func(self.creator)
        while funcs:
            f = heapq.heappop(funcs)[2]
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
                    add_func(x.creator)


class Function:
    """Unwrap the input, compute with `forward`, wrap the output; `backward` goes back."""

    def __call__(self, *inputs):
        xs = [x.data for x in inputs]
        ys = self.forward(*xs)
        if not isinstance(ys, tuple):
            ys = (ys,)
        outputs = [Variable(as_array(y)) for y in ys]  # 0-dim results come back as scalars
        self.generation = max(x.generation for x in inputs)
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


def backward_list_order(v):
    """Step 24's walk, kept here to compare: last pushed, first run, maybe more than once."""
    v.grad = np.ones_like(v.data)
    funcs = [v.creator]
    while funcs:
        f = funcs.pop()
        gxs = f.backward(*[output.grad for output in f.outputs])
        if not isinstance(gxs, tuple):
            gxs = (gxs,)
        for x, gx in zip(f.inputs, gxs):
            x.grad = gx if x.grad is None else x.grad + gx
            if x.creator is not None:
                funcs.append(x.creator)


def diamond(x):
    """x -> a = x**2 -> two branches a**2 -> added: y = 2 x**4."""
    a = square(x)
    return add(square(a), square(a))


x = Variable(np.array(2.0))
y = diamond(x)
print("generations: x", x.generation, " branches", [v.generation for v in y.creator.inputs],
      " y", y.generation)
backward_list_order(y)
wrong = x.grad
print("list order: dy/dx =", wrong)

x = Variable(np.array(2.0))
y = diamond(x)
y.backward()
print("generation order: dy/dx =", x.grad, " (8 * 2**3 = 64)")

# Which order did the heap choose? Record it with a Square that logs its backward.
log = []


class LoggedSquare(Square):
    def backward(self, gy):
        log.append(self.generation)
        return super().backward(gy)


x = Variable(np.array(2.0))
a = LoggedSquare()(x)
y = add(LoggedSquare()(a), LoggedSquare()(a))
y.backward()
print("generations of the Squares in backward order:", log, " a's generation", a.generation)

assert y.data == 32.0 and y.generation == 3 and a.generation == 1 and x.generation == 0
assert [v.generation for v in y.creator.inputs] == [2, 2]
assert wrong == 96.0
assert x.grad == 64.0
assert log == [1, 1, 0]
