"""dezero_lite: define-by-run automatic differentiation on NumPy, with DeZero's API."""
from dezero_lite.core import (  # noqa: F401
    Config, Function, Parameter, Variable, as_array, as_variable, grad, no_grad,
    test_mode, using_config)
from dezero_lite import cuda, functions, utils  # noqa: F401  (functions binds the operators)
from dezero_lite import (  # noqa: F401
    dataloaders, datasets, layers, models, optimizers, transforms)
from dezero_lite.dataloaders import DataLoader, SeqDataLoader  # noqa: F401
from dezero_lite.datasets import Dataset  # noqa: F401
from dezero_lite.layers import Layer  # noqa: F401
from dezero_lite.models import Model  # noqa: F401

__version__ = "0.1.0"
