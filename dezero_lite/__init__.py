"""dezero_lite: define-by-run automatic differentiation on NumPy, with DeZero's API."""

import numpy as _np

from dezero_lite import core
from dezero_lite.core import (  # noqa: F401
    Config,
    Function,
    Parameter,
    Variable,
    as_array,
    as_variable,
    detect_changes,
    grad,
    no_grad,
    test_mode,
    using_config,
)
from dezero_lite import cuda, functions, utils  # noqa: F401  (functions binds the operators)
from dezero_lite import (  # noqa: F401
    dataloaders,
    datasets,
    layers,
    models,
    optimizers,
    transforms,
)
from dezero_lite.dataloaders import DataLoader, SeqDataLoader  # noqa: F401
from dezero_lite.datasets import Dataset  # noqa: F401
from dezero_lite.layers import Layer  # noqa: F401
from dezero_lite.models import Model  # noqa: F401

__version__: str  # from the package's metadata, read on first use (see __getattr__ below)

# DeZero switches between a simple core and a full one; here there is one core, and
# dezero_lite.core_simple is that same module, so the book's `if is_simple_core:` works.
is_simple_core = False


def setup_variable() -> None:
    """Bind Variable's operators and methods (done on import; calling it again changes nothing)."""
    for name, method in functions._VARIABLE_METHODS.items():  # the one table of operators
        setattr(Variable, name, method)


# DeZero's core module also holds the arithmetic ops; ours live in functions, and the
# same objects are given DeZero's path (dezero_lite.core.add is dezero_lite.functions.add).
for _name in (
    "Add",
    "add",
    "Sub",
    "sub",
    "rsub",
    "Mul",
    "mul",
    "Div",
    "div",
    "rdiv",
    "Neg",
    "neg",
    "Pow",
    "pow",
):
    setattr(core, _name, getattr(functions, _name))
core.setup_variable = setup_variable  # type: ignore[attr-defined]  # (names core lacks)
# DeZero adds cupy.ndarray; importing CuPy here would be slow
core.array_types = (_np.ndarray,)  # type: ignore[attr-defined]
del _name


def __getattr__(name: str) -> object:
    # dezero_lite.as_dezero.install() after a plain `import dezero_lite`, without loading it always
    if name in ("as_dezero", "core_simple"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    if name == "__version__":
        # pyproject.toml's version, as installed; read only when asked for, since
        # importlib.metadata imports email, zipfile and more
        global __version__
        from importlib.metadata import PackageNotFoundError, version

        try:
            __version__ = version("dezero_lite")
        except PackageNotFoundError:  # a source tree that was never installed
            __version__ = "0+unknown"
        return __version__
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
