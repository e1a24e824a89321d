"""Data sets: a base class, toy sets made in memory, sklearn's 8x8 digits and MNIST."""
import gzip
import hashlib
import os
import struct

import numpy as np

from dezero_lite.transforms import Compose, Flatten, Normalize, ToFloat
from dezero_lite.utils import cache_dir, get_file


class Dataset:
    """An indexable set of (x, t) pairs; subclasses fill `data` and `label` in `prepare()`."""

    def __init__(self, train=True, transform=None, target_transform=None):
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        self.data = None
        self.label = None
        self.prepare()

    def __getitem__(self, index):
        if not isinstance(index, (int, np.integer)):
            raise TypeError(f"{type(self).__name__} is indexed by one int, got "
                            f"{type(index).__name__}; use a DataLoader for batches")
        x = self.data[index]
        if self.transform is not None:
            x = self.transform(x)
        if self.label is None:
            return x, None
        t = self.label[index]
        if self.target_transform is not None:
            t = self.target_transform(t)
        return x, t

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        shape = getattr(self.data, "shape", None)
        return f"{type(self).__name__}(train={self.train}, len={len(self)}, data shape={shape})"

    def prepare(self):
        pass


def get_spiral(train=True):
    """Three interleaved spiral arms in 2-D, 100 points each, shuffled; (x float32, t int32)."""
    rng = np.random.default_rng(1984 if train else 2020)
    num_data, num_class = 100, 3
    rate = np.tile(np.arange(num_data) / num_data, num_class)
    cls = np.repeat(np.arange(num_class), num_data)
    theta = cls * 4.0 + 4.0 * rate + rng.standard_normal(rate.size) * 0.2
    x = np.stack([rate * np.sin(theta), rate * np.cos(theta)], axis=1).astype(np.float32)
    t = cls.astype(np.int32)
    order = rng.permutation(t.size)
    return x[order], t[order]


class Spiral(Dataset):
    """300 points on three spiral arms, label = arm (0, 1, 2); train and test use other seeds."""

    def prepare(self):
        self.data, self.label = get_spiral(self.train)


class SinCurve(Dataset):
    """Next-value prediction on a noisy sine (train) or a clean cosine (test), 999 steps."""

    def prepare(self):
        num_data = 1000
        x = np.linspace(0, 2 * np.pi, num_data)
        if self.train:
            noise = np.random.default_rng(0).uniform(-0.05, 0.05, x.shape)
            y = np.sin(x) + noise
        else:
            y = np.cos(x)
        y = y.reshape(-1, 1)
        self.data = y[:-1]
        self.label = y[1:]


_GATE_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
_GATE_TARGETS = {
    "and": [0, 0, 0, 1],
    "or": [0, 1, 1, 1],
    "nand": [1, 1, 1, 0],
    "xor": [0, 1, 1, 0],
}


class LogicGate(Dataset):
    """The four inputs [[0,0],[0,1],[1,0],[1,1]] with the truth table of 'and', 'or', 'nand' or 'xor'."""

    def __init__(self, gate, train=True, transform=None, target_transform=None):
        key = str(gate).lower()
        if key not in _GATE_TARGETS:
            raise ValueError(f"unknown gate {gate!r}; choose one of {sorted(_GATE_TARGETS)}")
        self.gate = key
        super().__init__(train, transform, target_transform)

    def prepare(self):
        self.data = _GATE_INPUTS.copy()
        self.label = np.array(_GATE_TARGETS[self.gate], dtype=np.float64).reshape(-1, 1)


class LinearRegressionData(Dataset):
    """x = [1..5], t = x + 1 as float64 column vectors: fit W = 1, b = 1."""

    def prepare(self):
        self.data = np.arange(1.0, 6.0).reshape(-1, 1)
        self.label = self.data + 1.0


class LogisticRegressionData(Dataset):
    """x = [2, 4, ..., 20], t = six 0s then four 1s, float64 column vectors."""

    def prepare(self):
        self.data = np.arange(2.0, 21.0, 2.0).reshape(-1, 1)
        self.label = np.array([0.0] * 6 + [1.0] * 4).reshape(-1, 1)


class Digits(Dataset):
    """scikit-learn's bundled 8x8 digits (1797 images, no network), float32 in [0, 1], shape (64,).

    A fixed seeded split puts 80% in train and the rest in test.
    """

    def __init__(self, train=True, transform=None, target_transform=None, seed=0, test_ratio=0.2):
        ratio_ok = not isinstance(test_ratio, bool) and isinstance(test_ratio, (int, float, np.floating)) \
            and 0 < test_ratio < 1
        if not ratio_ok:
            raise ValueError(f"Digits: test_ratio must be a number between 0 and 1 (exclusive), "
                             f"such as 0.2, got {test_ratio!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"Digits: seed must be an int >= 0, got {seed!r}")
        self.seed = seed
        self.test_ratio = test_ratio
        super().__init__(train, transform, target_transform)

    def prepare(self):
        try:
            from sklearn.datasets import load_digits
        except ImportError:
            raise ImportError("Digits needs scikit-learn, which ships the 8x8 digits: "
                              "pip install scikit-learn (or pip install dezero_lite[digits])") from None
        bunch = load_digits()
        x = (bunch.data / 16.0).astype(np.float32)
        t = bunch.target.astype(np.int32)
        order = np.random.default_rng(self.seed).permutation(len(t))
        n_test = int(round(len(t) * self.test_ratio))
        if not 0 < n_test < len(t):
            raise ValueError(f"Digits: test_ratio={self.test_ratio} leaves {len(t) - n_test} training "
                             f"and {n_test} test images of {len(t)}; both must be non-empty")
        idx = order[n_test:] if self.train else order[:n_test]
        self.data, self.label = x[idx], t[idx]


def load_idx(path):
    """Read an IDX file (plain or gzipped) into an ndarray, checking its magic number and size."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path} is not an IDX file (bad magic number {raw[:4]!r})")
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    code, ndim = raw[2], raw[3]
    if code not in dtypes:
        raise ValueError(f"{path}: unknown IDX data type code 0x{code:02x}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: IDX header cut short")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(dtypes[code])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(f"{path}: IDX header says shape {shape} ({expected} bytes) "
                         f"but the file holds {len(raw) - header} bytes of data")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


MNIST_URLS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]
# file name -> (md5 of the .gz, expected shape); checksums as published with torchvision
MNIST_FILES = {
    "train-images-idx3-ubyte.gz": ("f68b3c2dcbeaaa9fbdd348bbdeb94873", (60000, 28, 28)),
    "train-labels-idx1-ubyte.gz": ("d53e105ee54ea40749a09fcbcd1e9432", (60000,)),
    "t10k-images-idx3-ubyte.gz": ("9fb629c4189551a2d022fa330f9573f3", (10000, 28, 28)),
    "t10k-labels-idx1-ubyte.gz": ("ec29112dd5afa0611ce80d1b7f02629c", (10000,)),
}


def _md5(path):
    h = hashlib.md5(usedforsecurity=False)  # a checksum, not security
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _mnist_file(name):
    """Path of one MNIST file in the cache, downloaded once and checked by md5."""
    folder = os.path.join(str(cache_dir()), "mnist")
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        tried = []
        for base in MNIST_URLS:
            try:
                get_file(base + name, os.path.join("mnist", name))
                break
            except ConnectionError as e:
                tried.append(str(e))
        else:
            names = ", ".join(MNIST_FILES)
            raise ConnectionError(
                f"could not download MNIST file {name}; tried:\n  " + "\n  ".join(tried)
                + f"\nTo install MNIST by hand, put the four files {names} into the folder "
                f"{folder} (set DEZERO_LITE_CACHE to use another cache folder than "
                f"{os.path.join('~', '.dezero_lite')}).")
    md5 = MNIST_FILES[name][0]
    got = _md5(path) if md5 is not None else None
    if got != md5:
        raise ValueError(f"{path} is damaged or not the MNIST file (md5 {got}, "
                         f"expected {md5}); delete it and try again")
    return path


class MNIST(Dataset):
    """The 28x28 handwritten digits: 60000 train, 10000 test; downloaded once into the cache.

    By default an image comes out as a float32 vector of 784 values in [0, 1]; pass
    `transform=` to change that (it gets the raw uint8 image of shape (1, 28, 28)).
    """

    def __init__(self, train=True, transform=None, target_transform=None):
        if transform is None:
            transform = Compose([Flatten(), ToFloat(), Normalize(0.0, 255.0)])
        super().__init__(train, transform, target_transform)

    def prepare(self):
        prefix = "train" if self.train else "t10k"
        images = f"{prefix}-images-idx3-ubyte.gz"
        labels = f"{prefix}-labels-idx1-ubyte.gz"
        x = load_idx(_mnist_file(images))
        t = load_idx(_mnist_file(labels))
        for name, arr in ((images, x), (labels, t)):
            want = MNIST_FILES[name][1]
            if arr.shape != want:
                raise ValueError(f"{name}: expected shape {want}, got {arr.shape}; "
                                 f"delete it from {os.path.join(str(cache_dir()), 'mnist')} and try again")
        self.data = x.reshape(-1, 1, 28, 28)
        self.label = t.astype(np.int32)

    @staticmethod
    def labels():
        return {i: str(i) for i in range(10)}
