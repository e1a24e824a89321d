"""Mini-batches from a Dataset: DataLoader (shuffled) and SeqDataLoader (for recurrent nets)."""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from dezero_lite.datasets import Dataset

if TYPE_CHECKING:
    from typing_extensions import Self

# DeZero's flag: is Pillow installed (found without importing it, to keep imports cheap)
pil_available = importlib.util.find_spec("PIL") is not None


class DataLoader:
    """Yields (x, t) batches of `batch_size` (the last one may be smaller); one `for` loop is one epoch.

    With shuffle=True the order is redrawn each epoch, from NumPy's global generator
    (so np.random.seed works as in DeZero) or from a private one when `seed` is given.
    """

    def __init__(
        self,
        dataset: Dataset | Sequence[Any],
        batch_size: int,
        shuffle: bool = True,
        gpu: bool = False,
        seed: int | None = None,
    ) -> None:
        if (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, (int, np.integer))
            or batch_size < 1
        ):
            raise ValueError(
                f"{type(self).__name__}: batch_size must be a positive int, got {batch_size!r}"
            )
        if seed is not None and (
            isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0
        ):
            raise ValueError(
                f"{type(self).__name__}: seed must be None or an int >= 0, got {seed!r}"
            )
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.gpu = gpu
        self.rng = None if seed is None else np.random.default_rng(seed)
        self.data_size = len(dataset)
        self.max_iter = math.ceil(self.data_size / self.batch_size)
        self.reset()

    def __len__(self) -> int:
        return self.max_iter

    def reset(self) -> None:
        """Start a new epoch: rewind and, when shuffling, draw a new order."""
        self.iteration = 0
        if not self.shuffle:
            self.index = np.arange(self.data_size)
        elif self.rng is not None:
            self.index = self.rng.permutation(self.data_size)
        else:
            self.index = np.random.permutation(self.data_size)

    def __iter__(self) -> Self:
        if self.iteration > 0:  # a loop left early: the next loop is a fresh epoch
            self.reset()
        return self

    def __next__(self) -> tuple[Any, Any]:
        if self.iteration >= self.max_iter:
            self.reset()
            raise StopIteration
        i, b = self.iteration, self.batch_size
        batch = self._gather(self.index[i * b : (i + 1) * b])
        self.iteration += 1
        return batch

    def next(self) -> tuple[Any, Any]:
        return self.__next__()

    def _gather(self, indices):
        ds = self.dataset
        plain = (
            type(ds).__getitem__ is Dataset.__getitem__
            and ds.transform is None
            and ds.target_transform is None
            and isinstance(ds.data, np.ndarray)
            and isinstance(ds.label, (np.ndarray, type(None)))
        )
        if plain:  # no per-item transform: one fancy-index instead of a Python loop
            x = ds.data[indices]
            t = None if ds.label is None else ds.label[indices]
        else:
            examples = [ds[int(j)] for j in indices]
            x = np.array([e[0] for e in examples])
            t = None if examples[0][1] is None else np.array([e[1] for e in examples])
        if self.gpu:
            from dezero_lite import cuda

            x = cuda.as_cupy(x)
            t = None if t is None else cuda.as_cupy(t)
        return x, t

    def to_cpu(self) -> None:
        self.gpu = False

    def to_gpu(self) -> None:
        self.gpu = True


class SeqDataLoader(DataLoader):
    """Batches for truncated BPTT: row k of each batch walks its own contiguous stretch of the sequence.

    The sequence of length N is cut into `batch_size` stretches of N // batch_size steps;
    an epoch has N // batch_size batches, so no stretch runs into the next one.
    """

    def __init__(
        self, dataset: Dataset | Sequence[Any], batch_size: int, gpu: bool = False
    ) -> None:
        super().__init__(dataset, batch_size, shuffle=False, gpu=gpu)
        if self.data_size < self.batch_size:
            raise ValueError(
                f"SeqDataLoader needs at least batch_size={batch_size} items, "
                f"the data set has {self.data_size}"
            )
        self.max_iter = self.data_size // self.batch_size

    def __next__(self) -> tuple[Any, Any]:
        if self.iteration >= self.max_iter:
            self.reset()
            raise StopIteration
        jump = self.data_size // self.batch_size
        indices = np.arange(self.batch_size) * jump + self.iteration
        batch = self._gather(indices)
        self.iteration += 1
        return batch
