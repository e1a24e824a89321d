"""dezero_lite: define-by-run automatic differentiation on NumPy, with DeZero's API."""
from dezero_lite.core import (  # noqa: F401
    Config, Function, Parameter, Variable, as_array, as_variable, grad, no_grad,
    test_mode, using_config)
from dezero_lite import cuda, functions, utils  # noqa: F401  (functions binds the operators)

__version__ = "0.1.0"
