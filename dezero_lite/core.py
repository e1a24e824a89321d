"""The core: modes, Variable, Parameter, Function and the backward loop.

Ops live in functions.py, which imports this module and binds the operators to
Variable; this module imports no op module.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import heapq
import itertools
import operator
import threading
import weakref
from typing import TYPE_CHECKING, Any, overload

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from typing import ParamSpec, TypeGuard, TypeVar

    from dezero_lite._typing import Axis, Shape, VariableLike

    P = ParamSpec("P")
    R = TypeVar("R")

# Context variables make every mode per thread and per async task: a no_grad()
# in one thread never switches off graph building in another.
_enable_backprop = contextvars.ContextVar("enable_backprop", default=True)
# True while a backward pass that builds no graph runs an op's backward: see Function.__call__.
_arrays_only = contextvars.ContextVar("arrays_only", default=False)
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


# What each with block must restore, as a stack per thread and task: so one
# using_config object can be entered again inside itself, or by many threads.
_to_restore = contextvars.ContextVar("to_restore", default=None)


class using_config:
    """Set a Config mode inside a with block, or around each call of a decorated function."""

    def __init__(self, name: str, value: bool) -> None:
        self._var, self._value = _setting(name), value

    def __enter__(self):
        _to_restore.set((self._var.set(self._value), _to_restore.get()))

    def __exit__(self, *exc):
        token, rest = _to_restore.get()
        _to_restore.set(rest)
        self._var.reset(token)

    def __call__(self, func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def with_mode(*args, **kwargs):
            with self:
                return func(*args, **kwargs)

        return with_mode


@overload
def no_grad(func: None = None) -> using_config: ...
@overload
def no_grad(func: Callable[P, R]) -> Callable[P, R]: ...
def no_grad(func: Callable[P, R] | None = None) -> using_config | Callable[P, R]:
    """Run forward passes without building a graph: `with no_grad():` or `@no_grad`."""
    mode = using_config("enable_backprop", False)
    return mode if func is None else mode(func)


@overload
def test_mode(func: None = None) -> using_config: ...
@overload
def test_mode(func: Callable[P, R]) -> Callable[P, R]: ...
def test_mode(func: Callable[P, R] | None = None) -> using_config | Callable[P, R]:
    """Switch layers such as dropout to inference behaviour: `with test_mode():` or `@test_mode`."""
    mode = using_config("train", False)
    return mode if func is None else mode(func)


def as_array(x: np.ndarray | np.generic | float) -> np.ndarray:
    """Turn a number or NumPy scalar into an ndarray (0-dim stays an ndarray)."""
    return x if _is_array(x) else np.asarray(x)


def as_variable(obj: VariableLike) -> Variable:
    """Return obj if it is a Variable, else wrap it (numbers are turned into arrays)."""
    return obj if isinstance(obj, Variable) else Variable(as_array(obj))


def _is_array(data: object) -> TypeGuard[np.ndarray]:
    return isinstance(data, np.ndarray) or type(data).__module__.startswith("cupy")


def _check_plain(data):
    """Refuse ndarray subclasses: their operators mean other things (np.matrix makes * a matrix product)."""
    if type(data) is not np.ndarray and isinstance(data, np.ndarray):
        name = f"{type(data).__module__}.{type(data).__name__}"
        raise TypeError(
            f"{name} is a subclass of ndarray whose operators or indexing may "
            f"differ from a plain array's; convert it first with np.asarray(x)"
        )


# A clock of writes to Variable.data. Each Function notes the time of its forward
# pass; backward refuses a Function whose arrays were assigned after that.
_write_clock = itertools.count(1)
_last_write = 0
_write_times: weakref.WeakKeyDictionary[Variable, int] = weakref.WeakKeyDictionary()  # last writes
_keep_copies = 0  # > 0 inside detect_changes()


@contextlib.contextmanager
def detect_changes() -> Iterator[None]:
    """Inside this block every Function keeps a copy of the arrays it used, and backward
    refuses one whose arrays were changed in place since (`x.data[...] = v`, which no
    assignment check can see). It costs a copy of every array: use it to hunt a bug.
    Works as `with detect_changes():` and as a decorator; the check applies to graphs
    built inside the block, wherever backward runs."""
    global _keep_copies
    _keep_copies += 1
    try:
        yield
    finally:
        _keep_copies -= 1


class Variable:
    """An ndarray with a gradient and a link to the Function that made it."""

    __slots__ = ("_data", "name", "grad", "creator", "generation", "__weakref__")
    # ndarray * Variable goes to Variable.__rmul__: NumPy hands every binary operator to a
    # type whose __array_ufunc__ is None. (Without the attribute, NumPy's lookup of it raised
    # and discarded an AttributeError on each such product, a cost seen in every backward.)
    __array_ufunc__ = None

    def __init__(self, data: np.ndarray | None, name: str | None = None) -> None:
        if data is not None and not _is_array(data):
            value = data.item() if isinstance(data, np.generic) else data
            raise TypeError(
                f"Variable takes a NumPy ndarray, not {type(data).__name__}; "
                f"wrap the value first: Variable(np.array({value!r}))"
            )
        _check_plain(data)
        self._data = data
        self.name = name
        self.grad = None
        self.creator = None
        self.generation = 0

    def _set_data(self, data):
        global _last_write
        if isinstance(data, np.generic):  # x.data - 0.1 * g is a NumPy scalar for 0-dim x
            data = np.asarray(data)
        elif data is not None and not _is_array(data):
            raise TypeError(
                f"Variable.data takes a NumPy ndarray, not {type(data).__name__}; "
                f"wrap the value first: np.array(...)"
            )
        _check_plain(data)
        self._data = data
        _write_times[self] = _last_write = next(_write_clock)

    # Reading is a plain attribute lookup (attrgetter runs in C); assigning,
    # including `v.data -= lr * g`, goes through _set_data and is noted.
    data = property(operator.attrgetter("_data"), _set_data)

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def size(self) -> int:
        return self._data.size

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        if self.data is None:
            return "variable(None)"
        return "variable(" + str(self.data).replace("\n", "\n" + " " * 9) + ")"

    def set_creator(self, func: Function) -> None:
        self.creator = func
        self.generation = func.generation + 1

    def cleargrad(self) -> None:
        self.grad = None

    def unchain(self) -> None:
        self.creator = None

    def unchain_backward(self) -> None:
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

    def detach(self) -> Variable:
        """A new leaf sharing this variable's data, outside any graph."""
        return Variable(self.data, self.name)

    def to_cpu(self) -> None:
        from dezero_lite import cuda

        if self._data is not None and cuda.as_numpy(self._data) is not self._data:
            self.data = cuda.as_numpy(self._data)

    def to_gpu(self) -> None:
        from dezero_lite import cuda

        if self._data is not None:
            self.data = cuda.as_cupy(self._data)

    def backward(self, retain_grad: bool = False, create_graph: bool = False) -> None:
        """Back-propagate from this variable, adding to the .grad of the leaves it reaches.

        The seed is a .grad you set on this variable yourself (it is used up), else
        ones: a .grad left here by an earlier backward pass is not a seed. Other
        variables keep their gradient only with retain_grad=True. With
        create_graph=True the gradients are Variables with a graph of their own.
        """
        own_seed = self.grad is not None and _stored_grads.get(self) is not self.grad
        seed = _seed(self, self.grad if own_seed else None)
        if own_seed:
            self.grad = None
        final = _backprop({self: seed}, create_graph, retain=True if retain_grad else ())
        with using_config("enable_backprop", create_graph), _grad_lock:
            for var, gx in final.items():
                var.grad = gx if var.grad is None else var.grad + gx
                _stored_grads[var] = var.grad

    if TYPE_CHECKING:
        # For type checkers only: the attributes, and the operators and methods that
        # functions.py binds to Variable from its table at import time.
        _data: Any  # an ndarray (None in a Parameter whose shape is not known yet)
        name: str | None
        grad: Variable | None
        creator: Function | None
        generation: int

        def _op(self, other: VariableLike) -> Variable: ...

        __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _op
        __truediv__ = __rtruediv__ = __pow__ = __rpow__ = __matmul__ = __rmatmul__ = _op
        matmul = dot = _op

        def __neg__(self) -> Variable: ...
        def __getitem__(self, slices: Any) -> Variable: ...
        def reshape(self, *shape: Shape) -> Variable: ...
        def transpose(self, *axes: int | Sequence[int] | None) -> Variable: ...
        @property
        def T(self) -> Variable: ...
        def sum(self, axis: Axis = None, keepdims: bool = False) -> Variable: ...

        mean = max = min = sum


# The gradients that backward left in .grad (so that they are not taken for
# seeds), and a lock that keeps threads from losing each other's additions.
_stored_grads: weakref.WeakKeyDictionary[Variable, Variable] = weakref.WeakKeyDictionary()
_grad_lock = threading.Lock()


class Parameter(Variable):
    """A Variable that a Layer trains."""

    __slots__ = ()


class Constant(Variable):
    """An array or number given to a Function, wrapped: nobody can read its
    gradient, so backward neither stores one nor needs to compute it."""

    __slots__ = ()


def grad(
    outputs: Variable | Sequence[Variable],
    inputs: Variable | Sequence[Variable],
    grad_outputs: (
        VariableLike | list[VariableLike | None] | tuple[VariableLike | None, ...] | None
    ) = None,
    create_graph: bool = False,
) -> tuple[Variable | None, ...]:
    """Gradients of outputs with respect to inputs, as a tuple; no .grad is touched.

    Like torch.autograd.grad: grad_outputs (one per output) defaults to ones; an
    input that the outputs do not depend on gets None.
    """
    outputs = [outputs] if isinstance(outputs, Variable) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Variable) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(
            f"grad: {len(grad_outputs)} grad_outputs for {len(outputs)} outputs; "
            f"give one per output (None stands for ones)"
        )
    seeds: dict[Variable, Variable] = {}
    for y, gy in zip(outputs, grad_outputs, strict=True):
        gy = _seed(y, gy)
        seeds[y] = gy if y not in seeds else seeds[y] + gy
    final = _backprop(seeds, create_graph, retain=set(inputs))
    return tuple(final.get(x) for x in inputs)


def _seed(y, gy):
    """The gradient that starts a backward pass from y: ones unless one is given."""
    if gy is None:
        return _new_variable(np.ones_like(y._data))
    gy = as_variable(gy)
    if gy.shape != y.shape:
        raise ValueError(
            f"a gradient of shape {gy.shape} was given for an output of "
            f"shape {y.shape}; they must match"
        )
    return gy


def _backprop(seeds, create_graph, retain=()):
    """The backward loop shared by Variable.backward and grad.

    Gradients collect in a table of their own, so that stale .grad values never
    leak into a new pass. Functions come off a heap highest generation first:
    by then every consumer of their outputs has run, so each output's gradient
    is complete. Returns {variable: gradient} for the leaves reached and for the
    variables in retain (every variable if retain is True).

    With create_graph the gradients are Variables and each backward builds a graph
    of them. Without it (the common case) the pass runs on plain arrays: every op's
    backward gets arrays, and the Functions it calls return arrays (see
    Function.__call__), so the same derivative code costs no Variables and no links.
    """
    grads = {y: gy if create_graph else gy._data for y, gy in seeds.items()}
    final = {}
    heap, seen, order = [], set(), itertools.count()
    for y in seeds:
        if y.creator is not None and y.creator not in seen:
            seen.add(y.creator)
            heapq.heappush(heap, (-y.creator.generation, next(order), y.creator))

    # (plain tokens: cheaper than with blocks)
    modes = _enable_backprop.set(create_graph), _arrays_only.set(not create_graph)
    try:
        while heap:
            f = heapq.heappop(heap)[2]
            if f.forward_time != _last_write:  # something was written since: look closer
                _check_unchanged(f)
            # One output, nearly always; its gradient is there, or f would not be on the heap.
            if len(f.outputs) == 1:
                y = f.outputs[0]()
                gys = (grads.pop(y),)
                if retain and (retain is True or y in retain):
                    final[y] = gys[0]
            else:
                gys = [grads.pop(ref(), None) for ref in f.outputs]  # a freed output is None
                if retain:
                    for ref, gy in zip(f.outputs, gys, strict=True):
                        if gy is not None and (retain is True or ref() in retain):
                            final[ref()] = gy
                # An output that was freed, or not used, contributes zero.
                gys = [
                    _zeros(s, d, create_graph) if gy is None else gy
                    for gy, (s, d) in zip(gys, f.output_specs, strict=True)
                ]
            gxs = f.backward(*gys)
            if type(gxs) is not tuple:
                gxs = (gxs,)
            if len(gxs) != len(f.inputs):
                raise ValueError(
                    f"{type(f).__name__}.backward returned {len(gxs)} gradients "
                    f"for {len(f.inputs)} inputs"
                )
            # (the count is checked above; strict= would cost a keyword call per Function)
            for x, gx in zip(f.inputs, gxs):  # noqa: B905
                if gx is None or type(x) is Constant:
                    continue
                # A plain array of x's shape and dtype (the common case) needs no checking call.
                data = x._data
                if (
                    create_graph
                    or type(gx) not in _ARRAY_TYPES
                    or gx.shape != data.shape
                    or gx.dtype != data.dtype
                ):
                    gx = _checked_grad(f, x, gx, create_graph)
                old = grads.get(x)
                grads[x] = gx if old is None else old + gx
                creator = x.creator
                if creator is not None and creator not in seen:
                    seen.add(creator)
                    heapq.heappush(heap, (-creator.generation, next(order), creator))
    finally:
        _enable_backprop.reset(modes[0])
        _arrays_only.reset(modes[1])
    final.update(grads)  # what is left are the leaves
    if not create_graph:
        final = {x: _new_variable(gx) for x, gx in final.items()}
    return final


# What NumPy arithmetic gives: arrays, and scalars from 0-d arrays.
_ARRAY_TYPES = frozenset([np.ndarray, np.float64, np.float32, np.float16])


def _zeros(shape, dtype, create_graph):
    zeros = np.zeros(shape, dtype)
    return _new_variable(zeros) if create_graph else zeros


def _checked_grad(f, x, gx, create_graph):
    """The gradient f's backward gave for input x, as the loop keeps it (a Variable with
    create_graph, else an array), of x's shape and, if x is floating, of x's dtype: the
    one place a gradient gets its input's dtype (float32 beside float64, or NumPy 1.x
    making float32 0-d times a Python float a float64)."""
    if create_graph:
        if not isinstance(gx, Variable):
            gx = Variable(as_array(gx))
        data = gx._data
    else:  # an ndarray, or a NumPy scalar (arithmetic on 0-d arrays gives those)
        if type(gx) is not np.ndarray and not isinstance(gx, np.generic):
            gx = gx._data if isinstance(gx, Variable) else as_array(gx)
        data = gx
    if data.shape != x._data.shape:
        raise ValueError(
            f"{type(f).__name__}.backward returned a gradient of shape "
            f"{data.shape} for an input of shape {x.shape}"
        )
    if data.dtype != x._data.dtype and x._data.dtype.kind == "f":
        gx = cast_like(gx, x) if create_graph else gx.astype(x._data.dtype)
    return gx


def _check_unchanged(f):
    """Refuse to back-propagate through f if an array it used was assigned since its
    forward pass, or (under detect_changes) has elements that differ from its copy."""
    used = [("input", i, x) for i, x in enumerate(f.inputs)]
    used += [("output", i, ref()) for i, ref in enumerate(f.outputs)]
    copies = f.copies or [None] * len(used)
    for (kind, i, v), copy in zip(used, copies, strict=True):
        if v is None:  # an output freed since
            continue
        if _write_times.get(v, 0) > f.forward_time:
            how = "had its .data assigned"
        elif copy is not None and not np.array_equal(
            v._data, copy, equal_nan=copy.dtype.kind in "fc"
        ):
            how = "had elements changed in place"
        else:
            continue
        who = f"variable {v.name!r}" if v.name else f"a variable of shape {v.shape}"
        raise RuntimeError(
            f"{who} ({kind} {i} of {type(f).__name__}) {how} after the forward pass that "
            f"used it, so this backward pass would give a wrong gradient; run the forward "
            f"pass again after changing it (or change a copy)"
        )


# Set by functions.py (core imports no op): gx in the dtype of x, by a differentiable cast.
cast_like: Callable[[Variable, Variable], Variable] | None = None


def _new_variable(data):
    """A Variable for an array that a forward pass made (no type check needed)."""
    if type(data) is not np.ndarray:
        # NumPy gives scalars for 0-dim results: turn them back into arrays
        data = np.asarray(data) if isinstance(data, np.generic) else as_array(data)
    v = object.__new__(Variable)
    v._data = data
    v.name = v.grad = v.creator = None
    v.generation = 0
    return v


def _input_array(value, inputs):
    """An array or number given to a Function, as an array for its forward; a Python
    number takes the dtype of the floating array it meets (float32 stays float32)."""
    if type(value) is np.ndarray:
        return value
    if isinstance(value, (int, float, complex)):  # (np.float64 is a float too)
        dtype = None
        for x in inputs:
            x = x._data if isinstance(x, Variable) else x
            if isinstance(x, np.ndarray) and x.dtype.kind == "f":
                dtype = x.dtype
                break
        return np.asarray(value, dtype)
    if isinstance(value, (np.ndarray, np.generic)):
        _check_plain(value)
        return np.asarray(value)
    if _is_array(value):
        return value
    raise TypeError(
        f"cannot use {type(value).__name__} as an input; inputs are Variables, "
        f"NumPy arrays or Python numbers (wrap lists with np.array(...))"
    )


def _constant(value, inputs):
    """A Constant for an array or number given to a Function."""
    c = object.__new__(Constant)
    c._data = _input_array(value, inputs)
    c.name = c.grad = c.creator = None
    c.generation = 0
    return c


class Function:
    """An op: forward on ndarrays, backward on gradients.

    Calling a Function links its outputs to it (creator) and remembers its
    inputs; outputs are held by weak reference so that the graph goes away as
    soon as the last output does. A Function object records one call: make a
    new one for each call (the plain lowercase functions do).

    backward gets the gradients as Variables when a graph of them is wanted
    (create_graph=True), and as plain ndarrays otherwise, which is much faster;
    written with operators and the library's functions (not gy.data), the same
    backward serves both.
    """

    generation = 0
    inputs: tuple[Variable, ...] = ()
    outputs: Sequence[weakref.ref[Variable]] = ()
    forward_time: float = 0
    copies: list[np.ndarray] | None = None  # the arrays it used, kept under detect_changes()

    def __call__(self, *inputs: Any) -> Any:
        """Variables, arrays or numbers in; a Variable out (a list if several)."""
        if _arrays_only.get():  # called by an op's backward in a pass that builds no graph
            return self._forward_arrays(inputs)
        # Arrays and numbers become Constants; the loop keeps the common all-Variable call cheap.
        for x in inputs:
            if not isinstance(x, Variable):
                inputs = tuple(
                    [x if isinstance(x, Variable) else _constant(x, inputs) for x in inputs]
                )
                break
        # (nearly every op takes one or two inputs: skipping the list for them is a measurable win)
        try:
            if len(inputs) == 1:
                ys = self.forward(inputs[0]._data)
            elif len(inputs) == 2:
                ys = self.forward(inputs[0]._data, inputs[1]._data)
            else:
                ys = self.forward(*[x._data for x in inputs])
        except (ValueError, IndexError, TypeError) as e:
            raise _naming(self, e) from None
        single = type(ys) is not tuple  # (nearly always: one output)
        outputs = (_new_variable(ys),) if single else [_new_variable(y) for y in ys]
        if _enable_backprop.get():  # record the call in the graph (not under no_grad)
            if self.outputs:
                raise RuntimeError(
                    f"this {type(self).__name__} object was called before; a Function records "
                    f"one call (its inputs and outputs), so a second call would cut the first "
                    f"out of its graph. Make a new one for each call: {type(self).__name__}()(x)"
                )
            generation = 0
            for x in inputs:
                if x.generation > generation:
                    generation = x.generation
            self.generation = generation
            for y in outputs:
                y.creator = self
                y.generation = generation + 1
            self.inputs = inputs
            self.outputs = [weakref.ref(outputs[0])] if single else list(map(weakref.ref, outputs))
            self.forward_time = _last_write
            if _keep_copies:
                self.copies = [np.copy(v._data) for v in (*inputs, *outputs)]
                self.forward_time += 0.5  # never the clock's time: backward always checks
            if not single:
                self.output_specs = [(y.shape, y.dtype) for y in outputs]
        return outputs[0] if single else outputs

    def _forward_arrays(self, inputs):
        """The call from an op's backward in a pass that builds no graph (see _backprop):
        forward on plain arrays, nothing recorded, arrays out (a list if several)."""
        # 0-d values go in as NumPy scalars, which gradients from 0-d arithmetic are already:
        # NumPy multiplies two scalars in a fifth of the instructions of a scalar times a 0-d array
        xs = []
        for x in inputs:
            if isinstance(x, Variable):
                x = x._data if x._data.ndim else x._data[()]
            elif not isinstance(x, np.generic):
                x = _input_array(x, inputs)
            xs.append(x)
        try:
            ys = self.forward(*xs)
        except (ValueError, IndexError, TypeError) as e:
            raise _naming(self, e) from None
        return list(ys) if type(ys) is tuple else ys

    def forward(self, *xs: Any) -> np.ndarray | tuple[np.ndarray, ...]:  # Any: ops name their own
        raise NotImplementedError(f"{type(self).__name__} has no forward")

    def backward(self, *gys: Any) -> Any:  # a gradient per input: Variable, array or None
        raise NotImplementedError(f"{type(self).__name__} has no backward")


def _naming(f, error):
    """An error from inside f's forward pass that starts with the op's name: ours do
    already; NumPy's get it put in front, and lose their traceback from inside NumPy."""
    name = type(f).__name__
    if str(error).lower().replace("_", "").startswith(name.lower()):
        return error
    kind = next(k for k in (ValueError, IndexError, TypeError) if isinstance(error, k))
    return kind(f"{name}: {error}")
