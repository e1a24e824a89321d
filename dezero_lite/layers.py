"""Layers: objects that own Parameters (found by attribute) and compute with them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

import dezero_lite.functions as F
from dezero_lite._fileio import atomic_write
from dezero_lite._typing import Pair
from dezero_lite.core import Parameter, Variable
from dezero_lite.utils import pair

if TYPE_CHECKING:
    from numpy.typing import DTypeLike
    from typing_extensions import Self


class Layer:
    """Base class. Parameters and sub-layers assigned as attributes are tracked in assignment order."""

    _params: dict[str, None]  # the names of those attributes, set in __init__

    def __init__(self) -> None:
        object.__setattr__(self, "_params", {})  # name -> None: an ordered set

    def __setattr__(self, name: str, value: Any) -> None:
        if "_params" not in self.__dict__:
            raise RuntimeError(
                f"{type(self).__name__}.__init__ must call super().__init__() "
                f"before setting attributes"
            )
        if isinstance(value, (Parameter, Layer)):
            self._params[name] = None
        else:
            self._params.pop(name, None)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._params.pop(name, None)
        object.__delattr__(self, name)

    def __call__(self, *inputs: Any) -> Any:
        return self.forward(*inputs)

    def forward(self, *inputs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def named_params(
        self, prefix: str = "", _seen: set[int] | None = None
    ) -> Iterator[tuple[str, Parameter]]:
        """Yield (path, Parameter) pairs such as ('l0/W', W), depth first in assignment order.

        A parameter reached twice (a layer stored under two names: tied weights) is
        yielded once, under its first name, so that it is updated and saved once.
        Layers kept in a plain list, tuple or dict attribute are found too, after the
        others, under names such as 'blocks/0/W'."""
        found = self._walk(prefix, set() if _seen is None else _seen, [])
        return iter([(path, p) for path, _, _, p in found])

    def _walk(self, prefix, seen, found):
        """Append (path, owning layer, attribute name, Parameter) to found for every
        parameter, once each, and return found."""
        # A layer reached again (MLP keeps its layers in a list too) adds nothing.
        seen.add(id(self))
        attrs = self.__dict__
        for name in self._params:
            obj = attrs[name]
            if id(obj) in seen:  # ids are safe: every layer and parameter here is alive
                continue
            if isinstance(obj, Layer):
                obj._walk(prefix + name + "/", seen, found)
            else:
                seen.add(id(obj))
                found.append((prefix + name, self, name, obj))
        for name, group in attrs.items():
            if name == "_params" or not isinstance(group, (dict, list, tuple)):
                continue
            for key, obj in group.items() if isinstance(group, dict) else enumerate(group):
                if isinstance(obj, Layer) and id(obj) not in seen:
                    obj._walk(f"{prefix}{name}/{key}/", seen, found)
                elif isinstance(obj, Parameter) and id(obj) not in seen:
                    raise TypeError(
                        f"{type(self).__name__}.{name} holds a Parameter in a "
                        f"{type(group).__name__}; assign each Parameter to its own "
                        f"attribute so that it can be named, trained and saved"
                    )
        return found

    def params(self) -> Iterator[Parameter]:
        """Every Parameter of this layer and its sub-layers, in the order of named_params."""
        return iter([p for _, _, _, p in self._walk("", set(), [])])

    def named_layers(self) -> list[tuple[str, Layer]]:
        """The direct sub-layers as (name, Layer) pairs."""
        return [(n, self.__dict__[n]) for n in self._params if isinstance(self.__dict__[n], Layer)]

    def cleargrads(self) -> None:
        for p in self.params():
            p.cleargrad()

    def to_cpu(self) -> Self:
        for p in self.params():
            p.to_cpu()
        return self

    def to_gpu(self) -> Self:
        for p in self.params():
            p.to_gpu()
        return self

    def _flatten_params(self, params_dict, parent_key=""):
        """DeZero's name for filling a dict path -> Parameter."""
        params_dict.update(self.named_params(parent_key + "/" if parent_key else ""))

    def save_weights(self, path: str | os.PathLike[str]) -> None:
        """Write the parameters to an .npz file atomically (a temporary file, then a rename)."""
        from dezero_lite import cuda

        arrays = {}
        for name, p in self.named_params():
            if p.data is None:
                raise ValueError(
                    f"cannot save: parameter {name} is not created yet (a layer such as "
                    f"Linear makes its weight at the first call); run the model on one "
                    f"input batch before save_weights"
                )
            arrays[name] = cuda.as_numpy(p.data)
        if not arrays:
            raise ValueError(
                f"cannot save: {type(self).__name__} has no parameters (layers must be "
                f"attributes, or kept in a list, tuple or dict attribute)"
            )
        path = os.fspath(path)
        if not path.lower().endswith(".npz"):
            path += ".npz"  # as np.savez would

        def fill(tmp):
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)

        atomic_write(path, fill)

    def param_spec(self, name: str) -> tuple[tuple[int | None, ...] | None, np.dtype | None]:
        """(shape, dtype) that parameter `name` must have when loaded; None in shape means any size."""
        p = self.__dict__[name]
        return (None, None) if p.data is None else (p.data.shape, p.data.dtype)

    def load_weights(self, path: str | os.PathLike[str]) -> None:
        """Load parameters saved by save_weights; any mismatch raises before anything is changed.

        Names, shapes and dtypes are checked from the file's headers before any array is
        read, so a file that would decompress to something huge is refused cheaply."""
        from dezero_lite import cuda

        path = os.fspath(path)
        if not os.path.exists(path) and os.path.exists(path + ".npz"):
            path += ".npz"
        owners = {k: (owner, attr, p) for k, owner, attr, p in self._walk("", set(), [])}
        with _WeightsFile(path) as npz:
            problems = []
            missing = [k for k in owners if k not in npz.headers]
            extra = [k for k in npz.headers if k not in owners]
            if missing:
                problems.append(f"missing from the file: {', '.join(missing)}")
            if extra:
                problems.append(f"in the file but not in the model: {', '.join(extra)}")
            for k, (owner, attr, _) in owners.items():
                if k in npz.headers:
                    problems += _spec_problems(k, npz.headers[k], *owner.param_spec(attr))
            if problems:
                raise ValueError(
                    f"cannot load {path} into {type(self).__name__}: " + "; ".join(problems)
                )
            loaded = {}
            for k, (owner, attr, _) in owners.items():
                dtype = owner.param_spec(attr)[1]
                loaded[k] = npz.read(k).astype(dtype or npz.headers[k][1], copy=False)
        for k, (_, _, p) in owners.items():  # every check passed: now change the model
            on_gpu = p.data is not None and cuda.get_array_module(p.data) is not np
            p.data = cuda.as_cupy(loaded[k]) if on_gpu else loaded[k]

    def count_params(self) -> int:
        """Number of scalar weights created so far."""
        return int(sum(p.data.size for p in self.params() if p.data is not None))

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return "\n".join(self._repr_lines(type(self).__name__, ""))

    def _repr_lines(self, title, indent):
        n = self.count_params()
        lazy = sum(1 for p in self.params() if p.data is None)
        head = f"{indent}{title}({self.extra_repr()})  # {n} parameters"
        if lazy:
            head += f", {lazy} not created until the first call"
        lines = [head]
        for name in self._params:
            obj = self.__dict__[name]
            if isinstance(obj, Layer):
                lines += obj._repr_lines(f"{name}: {type(obj).__name__}", indent + "  ")
            elif obj.data is None:
                lines.append(f"{indent}  {name}: not created yet")
            else:
                lines.append(f"{indent}  {name}: {tuple(obj.data.shape)} {obj.data.dtype}")
        return lines


def _check_size(where, what, n):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"{where}: {what} must be an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"{where}: {what} must be at least 1, got {n}")


def _spec_problems(name, header, shape, dtype):
    """What is wrong with an array of header (shape, dtype) for a parameter of (shape, dtype)."""
    got_shape, got_dtype = header
    if got_dtype.kind != "f" or (
        dtype is not None and not np.can_cast(got_dtype, dtype, "same_kind")
    ):
        want = "floating point" if dtype is None else dtype.name
        return [f"{name} has dtype {got_dtype} in the file but must be {want}"]
    if shape is not None and (
        len(got_shape) != len(shape)
        or any(want is not None and got != want for got, want in zip(got_shape, shape, strict=True))
    ):
        shown = tuple("any" if n is None else n for n in shape)
        return [f"{name} has shape {got_shape} in the file but {shown} in the model"]
    return []


class _WeightsFile:
    """An .npz archive opened for load_weights: array headers first, data only on request."""

    def __init__(self, path):
        import zipfile

        self.path = path
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            if isinstance(e, (FileNotFoundError, PermissionError, IsADirectoryError)):
                raise
            raise ValueError(self._not_weights("it is not an .npz archive")) from None
        self.headers = {}
        try:
            for member in self.zip.namelist():
                if not member.endswith(".npy"):
                    raise ValueError(
                        self._not_weights(f"it holds {member!r}, which is not an array")
                    )
                with self.zip.open(member) as f:
                    self.headers[member[:-4]] = self._header(f, member)
        except Exception:
            self.zip.close()
            raise

    def _not_weights(self, why):
        return f"cannot load {self.path}: {why}; it is not a weights file written by save_weights"

    def _header(self, f, member):
        fmt = np.lib.format
        try:
            version = fmt.read_magic(f)
            read = {(1, 0): fmt.read_array_header_1_0, (2, 0): fmt.read_array_header_2_0}[version]
            shape, _, dtype = read(f)
        except Exception:  # a damaged or foreign member: say so, whatever NumPy raised
            raise ValueError(self._not_weights(f"{member!r} has no valid array header")) from None
        if dtype.hasobject:
            raise ValueError(
                self._not_weights(
                    f"{member[:-4]} holds Python objects, which would need pickle (refused)"
                )
            )
        return tuple(int(n) for n in shape), dtype

    def read(self, name):
        try:
            with self.zip.open(name + ".npy") as f:
                return np.lib.format.read_array(f, allow_pickle=False)
        except Exception:
            raise ValueError(
                self._not_weights(f"the data of {name} is damaged or cut short")
            ) from None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.zip.close()


class Linear(Layer):
    """y = x @ W + b. W (in_size, out_size) is made at the first call if in_size is not given."""

    def __init__(
        self,
        out_size: int,
        nobias: bool = False,
        dtype: DTypeLike = np.float32,
        in_size: int | None = None,
    ) -> None:
        super().__init__()
        _check_size("Linear", "out_size", out_size)
        if in_size is not None:
            _check_size("Linear", "in_size", in_size)
        self.in_size = in_size
        self.out_size = int(out_size)
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise TypeError(
                f"Linear: dtype must be a floating point type such as np.float32, "
                f"got {self.dtype} (integer weights cannot learn)"
            )
        self.W = Parameter(None, name="W")
        if in_size is not None:
            self._init_W()
        self.b = None if nobias else Parameter(np.zeros(out_size, dtype=self.dtype), name="b")

    def _init_W(self, xp=np):
        scale = np.sqrt(1.0 / self.in_size)
        W = np.random.randn(self.in_size, self.out_size) * scale
        self.W.data = xp.asarray(W.astype(self.dtype))

    def param_spec(self, name):
        in_size = self.W.shape[0] if self.W.data is not None else self.in_size
        return ((in_size, self.out_size) if name == "W" else (self.out_size,)), self.dtype

    def forward(self, x: Variable | np.ndarray) -> Variable:
        if not isinstance(x, Variable):
            # raw batches (float64 or int from a data set) take the layer's dtype
            x = np.asarray(x) if not hasattr(x, "dtype") else x
            if x.dtype != self.dtype:
                x = x.astype(self.dtype)
        if self.W.data is None:
            if x.ndim == 0 or x.shape[-1] == 0:
                raise ValueError(
                    f"Linear: inputs need at least one feature on the last axis, "
                    f"got shape {x.shape}"
                )
            self.in_size = x.shape[-1]
            from dezero_lite import cuda

            self._init_W(cuda.get_array_module(x))
        return F.linear(x, self.W, self.b)

    def extra_repr(self) -> str:
        b = ", nobias=True" if self.b is None else ""
        in_size = self.in_size if self.W.data is None else self.W.shape[0]  # load_weights may set W
        return f"out_size={self.out_size}, in_size={in_size}{b}, dtype={self.dtype.name}"


class Conv2d(Layer):
    """y = conv2d(x, W, b). W (out_channels, in_channels, KH, KW) is made at the first call
    if in_channels is not given, with random values scaled by sqrt(1 / (in * KH * KW))."""

    _in_axis = 1  # where W keeps the input channels

    def __init__(
        self,
        out_channels: int,
        kernel_size: Pair,
        stride: Pair = 1,
        pad: Pair = 0,
        nobias: bool = False,
        dtype: DTypeLike = np.float32,
        in_channels: int | None = None,
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride, self.pad = stride, pad
        self.dtype = np.dtype(dtype)
        self.W = Parameter(None, name="W")
        if in_channels is not None:
            self._init_W()
        self.b = None if nobias else Parameter(np.zeros(out_channels, dtype=self.dtype), name="b")

    def _weight_shape(self):
        return (self.out_channels, self.in_channels) + self.kernel_size

    def _init_W(self, xp=np):
        kh, kw = self.kernel_size
        scale = np.sqrt(1.0 / (self.in_channels * kh * kw))
        W = np.random.randn(*self._weight_shape()) * scale
        self.W.data = xp.asarray(W.astype(self.dtype))

    def _apply(self, x):
        return F.conv2d(x, self.W, self.b, self.stride, self.pad)

    def forward(self, x: Variable | np.ndarray) -> Variable:
        if not isinstance(x, Variable):
            x = np.asarray(x) if not hasattr(x, "dtype") else x
            if x.dtype != self.dtype:
                x = x.astype(self.dtype)  # as Linear: raw batches take the layer's dtype
        if self.W.data is None:
            if x.ndim != 4:
                raise ValueError(
                    f"{type(self).__name__} takes images of shape (N, C, H, W), got shape {x.shape}"
                )
            self.in_channels = x.shape[1]
            from dezero_lite import cuda

            self._init_W(cuda.get_array_module(x))
        return self._apply(x)

    def extra_repr(self) -> str:
        in_channels = self.in_channels if self.W.data is None else self.W.shape[self._in_axis]
        b = ", nobias=True" if self.b is None else ""
        return (
            f"out_channels={self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, pad={self.pad}, in_channels={in_channels}{b}, "
            f"dtype={self.dtype.name}"
        )


class Deconv2d(Conv2d):
    """y = deconv2d(x, W, b), the transposed convolution. W (in_channels, out_channels, KH, KW)
    is made at the first call if in_channels is not given, scaled by sqrt(1 / (in * KH * KW))."""

    _in_axis = 0

    def _weight_shape(self):
        return (self.in_channels, self.out_channels) + self.kernel_size

    def _apply(self, x):
        return F.deconv2d(x, self.W, self.b, self.stride, self.pad)


class BatchNorm(Layer):
    """Batch normalization over axis 1 (features, or channels of (N, C, H, W) input).

    gamma and beta are learned; the running mean and variance (avg_mean, avg_var,
    DeZero's names) are Parameters too, so that save_weights and load_weights keep
    them, but they never get a gradient, so optimizers leave them alone. All four
    are made at the first call, with the input's width and dtype.
    """

    def __init__(self, decay: float = 0.9, eps: float = 2e-5) -> None:
        super().__init__()
        self.decay, self.eps = decay, eps
        self.avg_mean = Parameter(None, name="avg_mean")
        self.avg_var = Parameter(None, name="avg_var")
        self.gamma = Parameter(None, name="gamma")
        self.beta = Parameter(None, name="beta")

    def forward(self, x: Variable | np.ndarray) -> Variable:
        from dezero_lite import cuda

        x = x if isinstance(x, Variable) else np.asarray(x)
        if x.ndim < 2:
            raise ValueError(
                f"BatchNorm takes input of shape (N, C) or (N, C, H, W), got {x.shape}"
            )
        xp = cuda.get_array_module(x.data if isinstance(x, Variable) else x)
        dtype = x.dtype if x.dtype.kind == "f" else np.float32
        C = x.shape[1]
        for p, fill in ((self.avg_mean, 0), (self.avg_var, 1), (self.gamma, 1), (self.beta, 0)):
            if p.data is None:
                p.data = xp.full(C, fill, dtype=dtype)
        return F.batch_norm(
            x, self.gamma, self.beta, self.avg_mean.data, self.avg_var.data, self.decay, self.eps
        )

    def extra_repr(self) -> str:
        return f"decay={self.decay}, eps={self.eps}"


class EmbedID(Layer):
    """A table W (in_size, out_size) of learned vectors; calling it with integer ids looks rows up."""

    def __init__(self, in_size: int, out_size: int, dtype: DTypeLike = np.float32) -> None:
        super().__init__()
        self.W = Parameter(np.random.randn(in_size, out_size).astype(dtype), name="W")

    def forward(self, x: Variable | np.ndarray) -> Variable:
        return F.embed_id(x, self.W)

    def extra_repr(self) -> str:
        return f"in_size={self.W.shape[0]}, out_size={self.W.shape[1]}"


def _check_state(layer, x):
    """A batch of another size would broadcast against the kept state: say so instead."""
    if layer.h is not None and len(x) != len(layer.h):
        raise ValueError(
            f"{type(layer).__name__}: a batch of {len(x)} rows, but the state kept "
            f"from the last call has {len(layer.h)}; call reset_state() before "
            f"feeding batches of another size"
        )


class RNN(Layer):
    """h = tanh(x W_x + b + h W_h), an Elman network; h is kept between calls until reset_state().

    x2h holds W_x and b, h2h holds W_h (hidden_size, hidden_size), DeZero's names."""

    def __init__(self, hidden_size: int, in_size: int | None = None) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.x2h = Linear(hidden_size, in_size=in_size)
        self.h2h = Linear(hidden_size, in_size=hidden_size, nobias=True)
        self.h: Variable | None = None

    def reset_state(self) -> None:
        self.h = None

    def forward(self, x: Variable | np.ndarray) -> Variable:
        _check_state(self, x)
        y = self.x2h(x)
        self.h = F.tanh(y if self.h is None else y + self.h2h(self.h))
        return self.h

    def extra_repr(self) -> str:
        return f"hidden_size={self.hidden_size}"


class LSTM(Layer):
    """A long short-term memory layer; h and the cell c are kept between calls until reset_state().

    Gates f, i, o = sigmoid(x W_x* + b_* + h W_h*), u = tanh(...); c = f c + i u, h = o tanh(c).
    The x2* sub-layers hold W_x* and b_*, the h2* ones W_h* (no bias), DeZero's names."""

    def __init__(self, hidden_size: int, in_size: int | None = None) -> None:
        super().__init__()
        H = self.hidden_size = hidden_size
        self.x2f, self.x2i, self.x2o, self.x2u = (Linear(H, in_size=in_size) for _ in range(4))
        self.h2f, self.h2i, self.h2o, self.h2u = (
            Linear(H, in_size=H, nobias=True) for _ in range(4)
        )
        self.reset_state()

    def reset_state(self) -> None:
        self.h: Variable | None = None
        self.c: Variable | None = None

    def forward(self, x: Variable | np.ndarray) -> Variable:
        _check_state(self, x)
        x2 = (self.x2f, self.x2i, self.x2o, self.x2u)
        h2 = (self.h2f, self.h2i, self.h2o, self.h2u)
        H = self.hidden_size
        for layer in x2:
            if layer.W.data is None:
                layer(x)  # makes W with the input's width, as Linear does
        if not isinstance(x, Variable):
            x = np.asarray(x).astype(self.x2f.dtype, copy=False)
        # The four gates from one product [f i o u] = x [W_xf ... W_xu] + b + h [W_hf ... W_hu]:
        # the same gradients as a product per gate, in 15 ops a step instead of 25.
        a = F.Linear()(
            x,
            F.concatenate([layer.W for layer in x2], axis=1),
            F.concatenate([layer.b for layer in x2]),  # type: ignore[misc]  # (x2* have biases)
        )
        if self.h is not None:
            a = a + F.matmul(self.h, F.concatenate([layer.W for layer in h2], axis=1))
        fio, u = F.split(a, [3 * H], axis=1)
        f, i, o = F.split(F.sigmoid(fio), 3, axis=1)
        u = F.tanh(u)
        self.c = i * u if self.c is None else f * self.c + i * u
        self.h = o * F.tanh(self.c)
        return self.h

    def extra_repr(self) -> str:
        return f"hidden_size={self.hidden_size}"
