"""The core: modes, Variable, Parameter, Function and the backward loop.

Ops live in functions.py, which imports this module and binds the operators to
Variable; this module imports no op module.
"""
import contextvars
import heapq
import itertools
import weakref

import numpy as np

# Context variables make every mode per thread and per async task: a no_grad()
# in one thread never switches off graph building in another.
_enable_backprop = contextvars.ContextVar("enable_backprop", default=True)
_settings = {
    "enable_backprop": _enable_backprop,
    "train": contextvars.ContextVar("train", default=True),
}


def _setting(name):
    try:
        return _settings[name]
    except KeyError:
        known = ", ".join(sorted(_settings))
        raise AttributeError(f"unknown config name {name!r}; known names: {known}") from None


class _ConfigMeta(type):
    def __getattr__(cls, name):
        return _setting(name).get()

    def __setattr__(cls, name, value):
        _setting(name).set(value)


class Config(metaclass=_ConfigMeta):
    """Modes read as Config.enable_backprop and Config.train (per thread and task)."""


class using_config:
    """Set a Config mode for the duration of a with block."""

    def __init__(self, name, value):
        self._var, self._value = _setting(name), value

    def __enter__(self):
        self._token = self._var.set(self._value)

    def __exit__(self, *exc):
        self._var.reset(self._token)


def no_grad():
    """Run forward passes without building a graph."""
    return using_config("enable_backprop", False)


def test_mode():
    """Switch layers such as dropout to inference behaviour."""
    return using_config("train", False)


def as_array(x):
    """Turn a number or NumPy scalar into an ndarray (0-dim stays an ndarray)."""
    return x if _is_array(x) else np.asarray(x)


def as_variable(obj):
    """Return obj if it is a Variable, else wrap it (numbers are turned into arrays)."""
    return obj if isinstance(obj, Variable) else Variable(as_array(obj))


def _is_array(data):
    return isinstance(data, np.ndarray) or type(data).__module__.startswith("cupy")


class Variable:
    """An ndarray with a gradient and a link to the Function that made it."""

    __slots__ = ("data", "name", "grad", "creator", "generation", "__weakref__")
    __array_priority__ = 200

    def __init__(self, data, name=None):
        if data is not None and not _is_array(data):
            value = data.item() if isinstance(data, np.generic) else data
            raise TypeError(
                f"Variable takes a NumPy ndarray, not {type(data).__name__}; "
                f"wrap the value first: Variable(np.array({value!r}))")
        self.data = data
        self.name = name
        self.grad = None
        self.creator = None
        self.generation = 0

    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return self.data.size

    @property
    def dtype(self):
        return self.data.dtype

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        if self.data is None:
            return "variable(None)"
        return "variable(" + str(self.data).replace("\n", "\n" + " " * 9) + ")"

    def set_creator(self, func):
        self.creator = func
        self.generation = func.generation + 1

    def cleargrad(self):
        self.grad = None

    def unchain(self):
        self.creator = None

    def unchain_backward(self):
        """Cut every link behind this variable so the graph behind it can be freed."""
        if self.creator is None:
            return
        funcs, seen = [self.creator], {self.creator}
        while funcs:
            for x in funcs.pop().inputs:
                if x.creator is not None and x.creator not in seen:
                    seen.add(x.creator)
                    funcs.append(x.creator)
                x.unchain()

    def detach(self):
        """A new leaf sharing this variable's data, outside any graph."""
        return Variable(self.data, self.name)

    def to_cpu(self):
        from dezero_lite import cuda
        if self.data is not None:
            self.data = cuda.as_numpy(self.data)

    def to_gpu(self):
        from dezero_lite import cuda
        if self.data is not None:
            self.data = cuda.as_cupy(self.data)

    def backward(self, retain_grad=False, create_graph=False):
        """Back-propagate from this variable; leaves accumulate .grad.

        The seed is self.grad if set, else ones. Intermediate variables keep
        their gradient only with retain_grad=True. With create_graph=True the
        gradients are Variables with a graph of their own.
        """
        seed = _seed(self, self.grad)
        if self.creator is None:
            self.grad = seed
            return
        self.grad = None
        final = _backprop({self: seed}, create_graph, retain=True if retain_grad else ())
        with using_config("enable_backprop", create_graph):
            for var, gx in final.items():
                var.grad = gx if var.grad is None else var.grad + gx


class Parameter(Variable):
    """A Variable that a Layer trains."""

    __slots__ = ()


class Constant(Variable):
    """An array or number given to a Function, wrapped: nobody can read its
    gradient, so backward neither stores one nor needs to compute it."""

    __slots__ = ()


def grad(outputs, inputs, grad_outputs=None, create_graph=False):
    """Gradients of outputs with respect to inputs, as a tuple; no .grad is touched.

    Like torch.autograd.grad: grad_outputs defaults to ones; an input that the
    outputs do not depend on gets None.
    """
    outputs = [outputs] if isinstance(outputs, Variable) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Variable) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    seeds = {}
    for y, gy in zip(outputs, grad_outputs):
        gy = _seed(y, gy)
        seeds[y] = gy if y not in seeds else seeds[y] + gy
    final = _backprop(seeds, create_graph, retain=set(inputs))
    return tuple(final.get(x) for x in inputs)


def _seed(y, gy):
    """The gradient that starts a backward pass from y: ones unless one is given."""
    if gy is None:
        return Variable(np.ones_like(y.data))
    gy = as_variable(gy)
    if gy.shape != y.shape:
        raise ValueError(f"a gradient of shape {gy.shape} was given for an output of "
                         f"shape {y.shape}; they must match")
    return gy


def _backprop(seeds, create_graph, retain=()):
    """The backward loop shared by Variable.backward and grad.

    Gradients collect in a table of their own, so that stale .grad values never
    leak into a new pass. Functions come off a heap highest generation first:
    by then every consumer of their outputs has run, so each output's gradient
    is complete. Returns {variable: gradient} for the leaves reached and for the
    variables in retain (every variable if retain is True).
    """
    grads = dict(seeds)
    final = {}
    heap, seen, order = [], set(), itertools.count()
    for y in seeds:
        if y.creator is not None and y.creator not in seen:
            seen.add(y.creator)
            heapq.heappush(heap, (-y.creator.generation, next(order), y.creator))

    with using_config("enable_backprop", create_graph):
        while heap:
            f = heapq.heappop(heap)[2]
            gys = []
            for ref in f.outputs:
                y = ref()
                gy = None if y is None else grads.pop(y, None)
                if gy is not None and (retain is True or y in retain):
                    final[y] = gy
                gys.append(gy)
            if None in gys:
                # An output that was freed, or not used, contributes zero.
                gys = [Variable(np.zeros(s, d)) if gy is None else gy
                       for gy, (s, d) in zip(gys, f.output_specs)]
            gxs = f.backward(*gys)
            if type(gxs) is not tuple:
                gxs = (gxs,)
            if len(gxs) != len(f.inputs):
                raise ValueError(
                    f"{type(f).__name__}.backward returned {len(gxs)} gradients "
                    f"for {len(f.inputs)} inputs")
            for x, gx in zip(f.inputs, gxs):
                if gx is None or type(x) is Constant:
                    continue
                if not isinstance(gx, Variable):
                    gx = Variable(as_array(gx))
                if gx.data.shape != x.data.shape:
                    raise ValueError(
                        f"{type(f).__name__}.backward returned a gradient of shape "
                        f"{gx.shape} for an input of shape {x.shape}")
                old = grads.get(x)
                grads[x] = gx if old is None else old + gx
                creator = x.creator
                if creator is not None and creator not in seen:
                    seen.add(creator)
                    heapq.heappush(heap, (-creator.generation, next(order), creator))
    final.update(grads)  # what is left are the leaves
    return final


def _new_variable(data):
    """A Variable for an array that a forward pass made (no type check needed)."""
    v = object.__new__(Variable)
    v.data = data
    v.name = v.grad = v.creator = None
    v.generation = 0
    return v


def _scalar_input(value, inputs):
    """A Python number takes the dtype of the floating array it meets."""
    if isinstance(value, (np.ndarray, np.generic)):
        return np.asarray(value)
    if not isinstance(value, (int, float, complex)):
        raise TypeError(
            f"cannot use {type(value).__name__} as an input; inputs are Variables, "
            f"NumPy arrays or Python numbers (wrap lists with np.array(...))")
    for x in inputs:
        data = x.data if isinstance(x, Variable) else x
        if isinstance(data, np.ndarray) and data.dtype.kind == "f":
            return np.asarray(value, dtype=data.dtype)
    return np.asarray(value)


class Function:
    """An op: forward on ndarrays, backward on Variables.

    Calling a Function links its outputs to it (creator) and remembers its
    inputs; outputs are held by weak reference so that the graph goes away as
    soon as the last output does.
    """

    generation = 0
    inputs = ()
    outputs = ()

    def __call__(self, *inputs):
        # Arrays and numbers become Constants; the loop keeps the common all-Variable call cheap.
        for x in inputs:
            if not isinstance(x, Variable):
                inputs = tuple([x if isinstance(x, Variable) else Constant(_scalar_input(x, inputs))
                                for x in inputs])
                break
        # (most ops take one input: skipping the list for them is a measurable win)
        ys = self.forward(inputs[0].data) if len(inputs) == 1 else self.forward(*[x.data for x in inputs])
        if type(ys) is tuple:
            outputs = [_new_variable(as_array(y)) for y in ys]
        else:
            outputs = [_new_variable(ys if type(ys) is np.ndarray else as_array(ys))]
        if _enable_backprop.get():
            generation = max([x.generation for x in inputs])
            self.generation = generation
            generation += 1
            for y in outputs:
                y.creator = self
                y.generation = generation
            self.inputs = inputs
            self.outputs = [weakref.ref(y) for y in outputs]
            if len(outputs) > 1:
                self.output_specs = [(y.shape, y.dtype) for y in outputs]
        return outputs[0] if len(outputs) == 1 else outputs

    def forward(self, *xs):
        raise NotImplementedError(f"{type(self).__name__} has no forward")

    def backward(self, *gys):
        raise NotImplementedError(f"{type(self).__name__} has no backward")
