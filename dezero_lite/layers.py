"""Layers: objects that own Parameters (found by attribute) and compute with them."""
import os

import numpy as np

import dezero_lite.functions as F
from dezero_lite._fileio import atomic_write
from dezero_lite.core import Parameter, Variable


class Layer:
    """Base class. Parameters and sub-layers assigned as attributes are tracked in assignment order."""

    def __init__(self):
        object.__setattr__(self, "_params", {})  # name -> None: an ordered set

    def __setattr__(self, name, value):
        if "_params" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}.__init__ must call super().__init__() "
                               f"before setting attributes")
        if isinstance(value, (Parameter, Layer)):
            self._params[name] = None
        else:
            self._params.pop(name, None)
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self._params.pop(name, None)
        object.__delattr__(self, name)

    def __call__(self, *inputs):
        return self.forward(*inputs)

    def forward(self, *inputs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def named_params(self, prefix="", _seen=None):
        """Yield (path, Parameter) pairs such as ('l0/W', W), depth first in assignment order.

        A parameter reached twice (a layer stored under two names: tied weights) is
        yielded once, under its first name, so that it is updated and saved once.
        Layers kept in a plain list, tuple or dict attribute are found too, after the
        others, under names such as 'blocks/0/W'."""
        for path, _, _, p in self._walk(prefix, set() if _seen is None else _seen):
            yield path, p

    def _walk(self, prefix, seen):
        """(path, owning layer, attribute name, Parameter) for every parameter, once each."""
        for name in self._params:
            obj = self.__dict__[name]
            if isinstance(obj, Layer):
                yield from obj._walk(prefix + name + "/", seen)
            elif id(obj) not in seen:  # ids are safe: every parameter here is alive
                seen.add(id(obj))
                yield prefix + name, self, name, obj
        for name, group in self.__dict__.items():
            if isinstance(group, dict):
                items = [(str(k), v) for k, v in group.items()]
            elif isinstance(group, (list, tuple)):
                items = [(str(i), v) for i, v in enumerate(group)]
            else:
                continue
            for key, obj in items:
                if isinstance(obj, Layer):
                    yield from obj._walk(f"{prefix}{name}/{key}/", seen)
                elif isinstance(obj, Parameter) and id(obj) not in seen:
                    raise TypeError(f"{type(self).__name__}.{name} holds a Parameter in a "
                                    f"{type(group).__name__}; assign each Parameter to its own "
                                    f"attribute so that it can be named, trained and saved")

    def params(self):
        """Yield every Parameter of this layer and its sub-layers."""
        for _, p in self.named_params():
            yield p

    def named_layers(self):
        """The direct sub-layers as (name, Layer) pairs."""
        return [(n, self.__dict__[n]) for n in self._params if isinstance(self.__dict__[n], Layer)]

    def cleargrads(self):
        for p in self.params():
            p.cleargrad()

    def to_cpu(self):
        for p in self.params():
            p.to_cpu()
        return self

    def to_gpu(self):
        for p in self.params():
            p.to_gpu()
        return self

    def _flatten_params(self, params_dict, parent_key=""):
        """DeZero's name for filling a dict path -> Parameter."""
        params_dict.update(self.named_params(parent_key + "/" if parent_key else ""))

    def save_weights(self, path):
        """Write the parameters to an .npz file atomically (a temporary file, then a rename)."""
        from dezero_lite import cuda
        arrays = {}
        for name, p in self.named_params():
            if p.data is None:
                raise ValueError(f"cannot save: parameter {name} is not created yet (a layer such as "
                                 f"Linear makes its weight at the first call); run the model on one "
                                 f"input batch before save_weights")
            arrays[name] = cuda.as_numpy(p.data)
        if not arrays:
            raise ValueError(f"cannot save: {type(self).__name__} has no parameters (layers must be "
                             f"attributes, or kept in a list, tuple or dict attribute)")
        path = os.fspath(path)
        if not path.lower().endswith(".npz"):
            path += ".npz"  # as np.savez would

        def fill(tmp):
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)

        atomic_write(path, fill)

    def param_spec(self, name):
        """(shape, dtype) that parameter `name` must have when loaded; None in shape means any size."""
        p = self.__dict__[name]
        return (None, None) if p.data is None else (p.data.shape, p.data.dtype)

    def load_weights(self, path):
        """Load parameters saved by save_weights; any mismatch raises before anything is changed.

        Names, shapes and dtypes are checked from the file's headers before any array is
        read, so a file that would decompress to something huge is refused cheaply."""
        from dezero_lite import cuda
        path = os.fspath(path)
        if not os.path.exists(path) and os.path.exists(path + ".npz"):
            path += ".npz"
        owners = {k: (owner, attr, p) for k, owner, attr, p in self._walk("", set())}
        with _WeightsFile(path) as npz:
            problems = []
            missing = [k for k in owners if k not in npz.headers]
            extra = [k for k in npz.headers if k not in owners]
            if missing:
                problems.append(f"missing from the file: {', '.join(missing)}")
            if extra:
                problems.append(f"in the file but not in the model: {', '.join(extra)}")
            for k, (owner, attr, p) in owners.items():
                if k in npz.headers:
                    problems += _spec_problems(k, npz.headers[k], *owner.param_spec(attr))
            if problems:
                raise ValueError(f"cannot load {path} into {type(self).__name__}: " + "; ".join(problems))
            loaded = {}
            for k, (owner, attr, p) in owners.items():
                dtype = owner.param_spec(attr)[1]
                loaded[k] = npz.read(k).astype(dtype or npz.headers[k][1], copy=False)
        for k, (owner, attr, p) in owners.items():  # every check passed: now change the model
            on_gpu = p.data is not None and cuda.get_array_module(p.data) is not np
            p.data = cuda.as_cupy(loaded[k]) if on_gpu else loaded[k]

    def count_params(self):
        """Number of scalar weights created so far."""
        return int(sum(p.data.size for p in self.params() if p.data is not None))

    def extra_repr(self):
        return ""

    def __repr__(self):
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
    if got_dtype.kind != "f" or (dtype is not None and not np.can_cast(got_dtype, dtype, "same_kind")):
        want = "floating point" if dtype is None else dtype.name
        return [f"{name} has dtype {got_dtype} in the file but must be {want}"]
    if shape is not None and (len(got_shape) != len(shape) or any(
            want is not None and got != want for got, want in zip(got_shape, shape))):
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
                    raise ValueError(self._not_weights(f"it holds {member!r}, which is not an array"))
                with self.zip.open(member) as f:
                    self.headers[member[:-4]] = self._header(f, member)
        except Exception:
            self.zip.close()
            raise

    def _not_weights(self, why):
        return (f"cannot load {self.path}: {why}; it is not a weights file written by "
                f"save_weights")

    def _header(self, f, member):
        fmt = np.lib.format
        try:
            version = fmt.read_magic(f)
            read = {(1, 0): fmt.read_array_header_1_0, (2, 0): fmt.read_array_header_2_0}[version]
            shape, _, dtype = read(f)
        except Exception:  # a damaged or foreign member: say so, whatever NumPy raised
            raise ValueError(self._not_weights(f"{member!r} has no valid array header")) from None
        if dtype.hasobject:
            raise ValueError(self._not_weights(f"{member[:-4]} holds Python objects, which would "
                                               f"need pickle (refused)"))
        return tuple(int(n) for n in shape), dtype

    def read(self, name):
        try:
            with self.zip.open(name + ".npy") as f:
                return np.lib.format.read_array(f, allow_pickle=False)
        except Exception:
            raise ValueError(self._not_weights(f"the data of {name} is damaged or cut short")) from None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.zip.close()


class Linear(Layer):
    """y = x @ W + b. W (in_size, out_size) is made at the first call if in_size is not given."""

    def __init__(self, out_size, nobias=False, dtype=np.float32, in_size=None):
        super().__init__()
        _check_size("Linear", "out_size", out_size)
        if in_size is not None:
            _check_size("Linear", "in_size", in_size)
        self.in_size = in_size
        self.out_size = int(out_size)
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise TypeError(f"Linear: dtype must be a floating point type such as np.float32, "
                            f"got {self.dtype} (integer weights cannot learn)")
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

    def forward(self, x):
        if not isinstance(x, Variable):
            # raw batches (float64 or int from a data set) take the layer's dtype
            x = np.asarray(x) if not hasattr(x, "dtype") else x
            if x.dtype != self.dtype:
                x = x.astype(self.dtype)
        if self.W.data is None:
            if x.ndim == 0 or x.shape[-1] == 0:
                raise ValueError(f"Linear: inputs need at least one feature on the last axis, "
                                 f"got shape {x.shape}")
            self.in_size = x.shape[-1]
            from dezero_lite import cuda
            self._init_W(cuda.get_array_module(x))
        return F.linear(x, self.W, self.b)

    def extra_repr(self):
        b = ", nobias=True" if self.b is None else ""
        in_size = self.in_size if self.W.data is None else self.W.shape[0]  # load_weights may set W
        return f"out_size={self.out_size}, in_size={in_size}{b}, dtype={self.dtype.name}"
