"""Per-example transforms for Dataset(transform=...): on NumPy arrays, and on Pillow images.

The image transforms (Convert, Resize, CenterCrop, ToArray, ToPIL, RandomHorizontalFlip)
import Pillow only when they are used, so that importing dezero_lite costs NumPy alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import DTypeLike
    from PIL.Image import Image


class Compose:
    """Apply transforms in order; Compose([]) is the identity."""

    def __init__(self, transforms: Iterable[Callable[[Any], Any]] = ()) -> None:
        self.transforms = list(transforms)

    def __call__(self, x: Any) -> Any:
        for f in self.transforms:
            x = f(x)
        return x


class Normalize:
    """(x - mean) / std; mean and std are numbers or per-channel sequences (channels first)."""

    def __init__(self, mean: float | Sequence[float] = 0, std: float | Sequence[float] = 1) -> None:
        self.mean = mean
        self.std = std

    def __call__(self, array: np.ndarray) -> np.ndarray:
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

    def __call__(self, array: np.ndarray) -> np.ndarray:
        return array.reshape(-1)


class AsType:
    """Cast to dtype."""

    def __init__(self, dtype: DTypeLike = np.float32) -> None:
        self.dtype = dtype

    def __call__(self, array: np.ndarray) -> np.ndarray:
        return array.astype(self.dtype)


ToFloat = AsType


class ToInt(AsType):
    """Cast to an integer dtype (int32 by default)."""

    def __init__(self, dtype: DTypeLike = np.int32) -> None:
        super().__init__(dtype)


def _pil_image():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(
            "this image transform needs Pillow: pip install pillow "
            "(or pip install dezero_lite[image])"
        ) from None
    return Image


def _size(size, what):
    """(width, height) from an int or a pair of positive ints."""

    def positive_int(s):
        return isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0

    pair = (
        (size, size)
        if positive_int(size)
        else tuple(size)
        if isinstance(size, (tuple, list))
        else ()
    )
    if len(pair) != 2 or not all(positive_int(s) for s in pair):
        raise ValueError(
            f"{what}: size must be a positive int or a (width, height) pair of them, got {size!r}"
        )
    return int(pair[0]), int(pair[1])


class Convert:
    """Convert a PIL image to another mode ('RGB', 'L', ...); 'BGR' swaps the channels of RGB."""

    def __init__(self, mode: str = "RGB") -> None:
        self.Image = _pil_image()
        self.mode = mode

    def __call__(self, img: Image) -> Image:
        if self.mode == "BGR":
            r, g, b = img.convert("RGB").split()
            return self.Image.merge("RGB", (b, g, r))
        return img.convert(self.mode)


class Resize:
    """Resize a PIL image to size = (width, height), or to a square for an int."""

    def __init__(self, size: int | tuple[int, int], mode: int | None = None) -> None:
        self.Image = _pil_image()
        self.size = _size(size, "Resize")
        self.mode = self.Image.BILINEAR if mode is None else mode

    def __call__(self, img: Image) -> Image:
        return img.resize(self.size, self.mode)


class CenterCrop:
    """Cut the central (width, height) region out of a PIL image (an int: a square)."""

    def __init__(self, size: int | tuple[int, int]) -> None:
        _pil_image()
        self.size = _size(size, "CenterCrop")

    def __call__(self, img: Image) -> Image:
        (w, h), (ow, oh) = img.size, self.size
        if ow > w or oh > h:
            raise ValueError(
                f"CenterCrop: the crop {ow}x{oh} is larger than the image {w}x{h}; Resize it first"
            )
        left, top = (w - ow) // 2, (h - oh) // 2
        return img.crop((left, top, left + ow, top + oh))


class ToArray:
    """A PIL image as an array of shape (channels, height, width) in dtype; arrays pass through."""

    def __init__(self, dtype: DTypeLike = np.float32) -> None:
        self.dtype = dtype

    def __call__(self, img: Image | np.ndarray) -> np.ndarray:
        if isinstance(img, np.ndarray):
            return img
        if not isinstance(img, _pil_image().Image):
            raise TypeError(f"ToArray takes a PIL image or an ndarray, got {type(img).__name__}")
        array = np.asarray(img)
        array = array[np.newaxis] if array.ndim == 2 else array.transpose(2, 0, 1)
        return array.astype(self.dtype)


class ToPIL:
    """A uint8 array of shape (channels, height, width), 1, 3 or 4 channels, as a PIL image."""

    def __init__(self) -> None:
        self.Image = _pil_image()

    def __call__(self, array: np.ndarray) -> Image:
        array = np.asarray(array)
        if array.ndim != 3 or array.shape[0] not in (1, 3, 4):
            raise ValueError(
                f"ToPIL takes an array of shape (channels, height, width) with 1, 3 "
                f"or 4 channels, got shape {array.shape}"
            )
        if array.dtype != np.uint8:
            raise TypeError(
                f"ToPIL takes uint8 values 0-255, got {array.dtype}; scale them and "
                f"cast with AsType(np.uint8) first"
            )
        data = array[0] if array.shape[0] == 1 else array.transpose(1, 2, 0)
        return self.Image.fromarray(np.ascontiguousarray(data))


class RandomHorizontalFlip:
    """Mirror left to right with probability p: a PIL image, or an array along its last axis.

    The coin comes from NumPy's global generator (np.random.seed repeats it), or from a
    private one when `seed` is given.
    """

    def __init__(self, p: float = 0.5, seed: int | None = None) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p!r}")
        self.p = p
        self.rng = None if seed is None else np.random.default_rng(seed)

    def __call__(self, img: Image | np.ndarray) -> Image | np.ndarray:
        coin = self.rng.random() if self.rng is not None else np.random.random()
        if coin >= self.p:
            return img
        if isinstance(img, np.ndarray):
            return img[..., ::-1].copy()
        return img.transpose(_pil_image().Transpose.FLIP_LEFT_RIGHT)
