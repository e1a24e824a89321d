"""Per-example transforms for Dataset(transform=...), on NumPy arrays."""
import numpy as np


class Compose:
    """Apply transforms in order; Compose([]) is the identity."""

    def __init__(self, transforms=()):
        self.transforms = list(transforms)

    def __call__(self, x):
        for f in self.transforms:
            x = f(x)
        return x


class Normalize:
    """(x - mean) / std; mean and std are numbers or per-channel sequences (channels first)."""

    def __init__(self, mean=0, std=1):
        self.mean = mean
        self.std = std

    def __call__(self, array):
        mean, std = np.asarray(self.mean), np.asarray(self.std)
        if array.ndim == 3 and mean.ndim == 1:  # one value per channel of a (C, H, W) image
            mean = mean.reshape(-1, 1, 1)
        if array.ndim == 3 and std.ndim == 1:
            std = std.reshape(-1, 1, 1)
        y = (array - mean) / std
        # float32 images stay float32; integer images become float (a cast back would wipe them)
        return y.astype(array.dtype, copy=False) if array.dtype.kind == "f" else y


class Flatten:
    """Reshape to one dimension."""

    def __call__(self, array):
        return array.reshape(-1)


class AsType:
    """Cast to dtype."""

    def __init__(self, dtype=np.float32):
        self.dtype = dtype

    def __call__(self, array):
        return array.astype(self.dtype)


ToFloat = AsType


class ToInt(AsType):
    """Cast to an integer dtype (int32 by default)."""

    def __init__(self, dtype=np.int32):
        super().__init__(dtype)
