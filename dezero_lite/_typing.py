"""Type aliases for the hints of the public API."""

from collections.abc import Sequence
from typing import TypeAlias

import numpy as np

from dezero_lite.core import Variable

# What an op takes: a Variable, or an array or Python number, which it treats as a constant.
VariableLike: TypeAlias = Variable | np.ndarray | float
# An axis argument (sum, mean, max, softmax, ...): one axis, several, or None for all of them.
Axis: TypeAlias = int | tuple[int, ...] | None
# A shape argument (reshape, broadcast_to, sum_to): one int or a sequence of them.
Shape: TypeAlias = int | Sequence[int]
# A kernel size, stride or pad: one int for both axes, or (height, width).
Pair: TypeAlias = int | tuple[int, int]
