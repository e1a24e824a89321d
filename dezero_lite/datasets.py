"""Data sets: a base class, toy sets made in memory, sklearn's 8x8 digits, and downloaded ones."""

import ast
import gzip
import math
import os
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from typing import Any, TypeAlias

import numpy as np

from dezero_lite._fileio import atomic_write
from dezero_lite.transforms import Compose, Flatten, Normalize, ToFloat
from dezero_lite.utils import DownloadError, _md5, cache_dir, get_file  # noqa: F401


class _Default:
    def __repr__(self):
        return "DEFAULT"


# the default transform of a data set; transform=None means none at all, as in DeZero
DEFAULT = _Default()
Transform: TypeAlias = Callable[[Any], Any]  # what transform= and target_transform= take


class Dataset:
    """An indexable set of (x, t) pairs; subclasses fill `data` and `label` in `prepare()`."""

    def __init__(
        self,
        train: bool = True,
        transform: Transform | None = None,
        target_transform: Transform | None = None,
    ) -> None:
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        self.data: Any = None  # an ndarray in every data set here
        self.label: Any = None
        self.prepare()

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        if not isinstance(index, (int, np.integer)):
            raise TypeError(
                f"{type(self).__name__} is indexed by one int, got "
                f"{type(index).__name__}; use a DataLoader for batches"
            )
        x = self.data[index]
        if self.transform is not None:
            x = self.transform(x)
        if self.label is None:
            return x, None
        t = self.label[index]
        if self.target_transform is not None:
            t = self.target_transform(t)
        return x, t

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        shape = getattr(self.data, "shape", None)
        return f"{type(self).__name__}(train={self.train}, len={len(self)}, data shape={shape})"

    def prepare(self) -> None:
        pass


def get_spiral(train: bool = True) -> tuple[np.ndarray, np.ndarray]:
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

    def prepare(self) -> None:
        self.data, self.label = get_spiral(self.train)


class SinCurve(Dataset):
    """Next-value prediction on a noisy sine (train) or a clean cosine (test), 999 steps."""

    def prepare(self) -> None:
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

    def __init__(
        self,
        gate: str,
        train: bool = True,
        transform: Transform | None = None,
        target_transform: Transform | None = None,
    ) -> None:
        key = str(gate).lower()
        if key not in _GATE_TARGETS:
            raise ValueError(f"unknown gate {gate!r}; choose one of {sorted(_GATE_TARGETS)}")
        self.gate = key
        super().__init__(train, transform, target_transform)

    def prepare(self) -> None:
        self.data = _GATE_INPUTS.copy()
        self.label = np.array(_GATE_TARGETS[self.gate], dtype=np.float64).reshape(-1, 1)


class LinearRegressionData(Dataset):
    """x = [1..5], t = x + 1 as float64 column vectors: fit W = 1, b = 1."""

    def prepare(self) -> None:
        self.data = np.arange(1.0, 6.0).reshape(-1, 1)
        self.label = self.data + 1.0


class LogisticRegressionData(Dataset):
    """x = [2, 4, ..., 20], t = six 0s then four 1s, float64 column vectors."""

    def prepare(self) -> None:
        self.data = np.arange(2.0, 21.0, 2.0).reshape(-1, 1)
        self.label = np.array([0.0] * 6 + [1.0] * 4).reshape(-1, 1)


class Digits(Dataset):
    """scikit-learn's bundled 8x8 digits (1797 images, no network), float32 in [0, 1], shape (64,).

    A fixed seeded split puts 80% in train and the rest in test.
    """

    def __init__(
        self,
        train: bool = True,
        transform: Transform | None = None,
        target_transform: Transform | None = None,
        seed: int = 0,
        test_ratio: float = 0.2,
    ) -> None:
        ratio_ok = (
            not isinstance(test_ratio, bool)
            and isinstance(test_ratio, (int, float, np.floating))
            and 0 < test_ratio < 1
        )
        if not ratio_ok:
            raise ValueError(
                f"Digits: test_ratio must be a number between 0 and 1 (exclusive), "
                f"such as 0.2, got {test_ratio!r}"
            )
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"Digits: seed must be an int >= 0, got {seed!r}")
        self.seed = seed
        self.test_ratio = test_ratio
        super().__init__(train, transform, target_transform)

    def prepare(self) -> None:
        try:
            from sklearn.datasets import load_digits
        except ImportError:
            raise ImportError(
                "Digits needs scikit-learn, which ships the 8x8 digits: "
                "pip install scikit-learn (or pip install dezero_lite[digits])"
            ) from None
        bunch = load_digits()
        x = (bunch.data / 16.0).astype(np.float32)
        t = bunch.target.astype(np.int32)
        order = np.random.default_rng(self.seed).permutation(len(t))
        n_test = int(round(len(t) * self.test_ratio))
        if not 0 < n_test < len(t):
            raise ValueError(
                f"Digits: test_ratio={self.test_ratio} leaves {len(t) - n_test} training "
                f"and {n_test} test images of {len(t)}; both must be non-empty"
            )
        idx = order[n_test:] if self.train else order[:n_test]
        self.data, self.label = x[idx], t[idx]


_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _open_idx(path):
    """The file, decompressed on the fly when it is gzipped (told by its first bytes, not its name)."""
    with open(path, "rb") as f:
        gzipped = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gzipped else open(path, "rb")


def _read_idx_header(f, path):
    """(dtype, shape) from the header at the start of the open IDX file f."""
    head = f.read(4)
    if len(head) < 4 or head[0] != 0 or head[1] != 0:
        raise ValueError(f"{path} is not an IDX file (bad magic number {head!r})")
    code, ndim = head[2], head[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"{path}: unknown IDX data type code 0x{code:02x}")
    dims = f.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise ValueError(f"{path}: IDX header cut short")
    return np.dtype(_IDX_DTYPES[code]), struct.unpack(f">{ndim}I", dims)


_GZIP_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile)


def _damaged_gzip(path, e):
    return ValueError(f"{path} is not a readable IDX file: the gzip stream is damaged ({e})")


def idx_shape(path: str | os.PathLike[str]) -> tuple[int, ...]:
    """The shape an IDX file's header declares, read without decompressing the data."""
    try:
        with _open_idx(path) as f:
            return _read_idx_header(f, path)[1]
    except _GZIP_ERRORS as e:
        raise _damaged_gzip(path, e) from None


def load_idx(path: str | os.PathLike[str], max_bytes: int = 1 << 30) -> np.ndarray:
    """Read an IDX file (plain or gzipped) into an ndarray, checking its magic number and size.

    The size the header declares is checked (with Python integers, which cannot overflow)
    against `max_bytes` before any data is decompressed, and exactly that much is read,
    so a small file that would unpack to gigabytes is refused rather than unpacked.
    """
    try:
        with _open_idx(path) as f:
            dtype, shape = _read_idx_header(f, path)
            expected = math.prod(shape) * dtype.itemsize
            if expected > max_bytes:
                raise ValueError(
                    f"{path}: IDX header says shape {shape}, {expected} bytes of "
                    f"data, more than max_bytes={max_bytes}; refusing to unpack "
                    f"it (pass a larger max_bytes if the file is genuine)"
                )
            data = f.read(expected + 1)  # one byte more tells a file that is too long
    except _GZIP_ERRORS as e:
        raise _damaged_gzip(path, e) from None
    if len(data) != expected:
        got = f"{len(data)} bytes" if len(data) < expected else "more"
        raise ValueError(
            f"{path}: IDX header says shape {shape} ({expected} bytes) "
            f"but the file holds {got} bytes of data"
        )
    return np.frombuffer(data, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


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


def _mnist_file(name):
    """Path of one MNIST file in the cache, downloaded once and checked by md5 and header."""
    md5, want = MNIST_FILES[name]

    def check(path):
        if (shape := idx_shape(path)) != want:
            raise ValueError(f"{name}: expected shape {want}, got {shape}")

    tried = []
    for base in MNIST_URLS:
        try:
            return get_file(base + name, os.path.join("mnist", name), md5=md5, check=check)
        except ConnectionError as e:
            tried.append(str(e))
    folder = os.path.join(str(cache_dir()), "mnist")
    names = ", ".join(MNIST_FILES)
    raise DownloadError(
        f"could not download MNIST file {name}; tried:\n  "
        + "\n  ".join(tried)
        + f"\nTo install MNIST by hand, put the four files {names} into the folder "
        f"{folder} (set DEZERO_LITE_CACHE to use another cache folder than "
        f"{os.path.join('~', '.dezero_lite')})."
    )


class MNIST(Dataset):
    """The 28x28 handwritten digits: 60000 train, 10000 test; downloaded once into the cache.

    By default an image comes out as a float32 vector of 784 values in [0, 1]; a
    `transform=` of your own gets the raw uint8 image of shape (1, 28, 28), which
    `transform=None` gives as it is (as in DeZero).
    """

    def __init__(
        self,
        train: bool = True,
        transform: Transform | _Default | None = DEFAULT,
        target_transform: Transform | None = None,
    ) -> None:
        if isinstance(transform, _Default):
            transform = Compose([Flatten(), ToFloat(), Normalize(0.0, 255.0)])
        super().__init__(train, transform, target_transform)

    def prepare(self) -> None:
        prefix = "train" if self.train else "t10k"
        images = f"{prefix}-images-idx3-ubyte.gz"
        labels = f"{prefix}-labels-idx1-ubyte.gz"
        x = load_idx(_mnist_file(images))
        t = load_idx(_mnist_file(labels))
        self.data = x.reshape(-1, 1, 28, 28)
        self.label = t.astype(np.int32)

    @staticmethod
    def labels() -> dict[int, str]:
        return {i: str(i) for i in range(10)}


def _cache_npz_path(filename, train):
    name = str(filename).rstrip("/").rsplit("/", 1)[-1]
    return cache_dir() / (name + (".train.npz" if train else ".test.npz"))


def save_cache_npz(data: np.ndarray, label: np.ndarray, filename: str, train: bool = False) -> str:
    """Keep arrays made from a download as <cache>/<file name>.train.npz (or .test.npz); returns the path.

    The file is written under a temporary name and renamed, so it is whole or absent.
    """
    path = _cache_npz_path(filename, train)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, lambda tmp: _write_npz(tmp, data=data, label=label))


def _write_npz(tmp, **arrays):
    with open(tmp, "wb") as f:
        np.savez_compressed(f, **arrays)


def load_cache_npz(
    filename: str, train: bool = False
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(data, label) saved by save_cache_npz, or (None, None) when there is none or it is damaged."""
    path = _cache_npz_path(filename, train)
    if not path.is_file():
        return None, None
    try:
        with np.load(path, allow_pickle=False) as f:
            return f["data"], f["label"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None, None  # made again from the download, then saved over


def _tar_members(path, wanted, largest=None, max_members=64):
    """{name: bytes} of the tar members whose base names are keys of wanted ({name: size}).

    Sizes are checked from the tar headers before anything is read, the archive is
    never unpacked onto disk, and a flood of members or one larger than `largest` (by
    default the largest wanted; a huge one would take long to skip) is refused.
    """
    largest = max(wanted.values()) if largest is None else largest
    found = {}
    with tarfile.open(path, "r:gz") as tar:
        for i, member in enumerate(tar):
            if i >= max_members:
                break
            if member.size > largest:
                raise ValueError(
                    f"{path}: the member {member.name} of {member.size} bytes is "
                    f"larger than any this data set has"
                )
            base = member.name.rsplit("/", 1)[-1]
            if member.isfile() and base in wanted:
                if member.size != wanted[base]:
                    raise ValueError(
                        f"{path}: {member.name} holds {member.size} bytes, expected {wanted[base]}"
                    )
                found[base] = tar.extractfile(member).read()
            if len(found) == len(wanted):
                return found
    missing = sorted(set(wanted) - set(found))
    raise ValueError(f"{path} lacks {', '.join(missing)}")


def _check_tar(wanted):
    def check(path):
        try:
            _tar_members(path, wanted)
        except (tarfile.TarError, EOFError, zlib.error, OSError) as e:
            raise ValueError(f"not a readable tar.gz archive ({e})") from None

    return check


_CIFAR_PIXELS = 3 * 32 * 32


class CIFAR10(Dataset):
    """32x32 colour photos in 10 classes: 50000 train, 10000 test; downloaded once (about 160 MB).

    `data` holds the uint8 images, shape (N, 3, 32, 32). By default an image comes out
    as float32 in [-1, 1]; `transform=` gets the raw uint8 image (`transform=None` keeps
    it). The download (CIFAR's binary version, no pickles) is read once into an .npz
    beside it in the cache.
    """

    url = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
    label_bytes = 1  # each record: its label, then the pixels
    n_classes = 10
    train_files = {f"data_batch_{i}.bin": 10000 for i in range(1, 6)}
    test_files = {"test_batch.bin": 10000}

    def __init__(
        self,
        train: bool = True,
        transform: Transform | _Default | None = DEFAULT,
        target_transform: Transform | None = None,
    ) -> None:
        if isinstance(transform, _Default):
            transform = Compose([ToFloat(), Normalize(127.5, 127.5)])
        super().__init__(train, transform, target_transform)

    def prepare(self) -> None:
        counts = self.train_files if self.train else self.test_files
        n = sum(counts.values())
        self.data, self.label = load_cache_npz(self.url, self.train)
        if (
            self.data is not None
            and self.data.shape == (n, 3, 32, 32)
            and self.data.dtype == np.uint8
            and len(self.label) == n
        ):
            return
        record = self.label_bytes + _CIFAR_PIXELS
        sizes = {
            name: count * record for name, count in {**self.train_files, **self.test_files}.items()
        }
        # both halves are checked, so that a bad archive is fetched anew
        path = get_file(self.url, check=_check_tar(sizes))
        members = _tar_members(path, {name: sizes[name] for name in counts}, max(sizes.values()))
        rows = np.concatenate(
            [np.frombuffer(members[name], np.uint8).reshape(-1, record) for name in counts]
        )
        self.data = rows[:, self.label_bytes :].reshape(-1, 3, 32, 32)
        self.label = self._labels_of(rows)
        if self.label.max(initial=0) >= self.n_classes:
            raise ValueError(
                f"{path} holds a label {self.label.max()}, but {type(self).__name__} "
                f"has {self.n_classes} classes: the file is damaged; delete it"
            )
        save_cache_npz(self.data, self.label, self.url, self.train)

    def _labels_of(self, rows):
        return rows[:, 0].astype(np.int32)

    @staticmethod
    def labels() -> dict[int, str]:
        names = "airplane automobile bird cat deer dog frog horse ship truck"
        return dict(enumerate(names.split()))


_CIFAR100_FINE = """apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge
bus butterfly camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach couch crab
crocodile cup dinosaur dolphin elephant flatfish forest fox girl hamster house kangaroo keyboard lamp
lawn_mower leopard lion lizard lobster man maple_tree motorcycle mountain mouse mushroom oak_tree
orange orchid otter palm_tree pear pickup_truck pine_tree plain plate poppy porcupine possum rabbit
raccoon ray road rocket rose sea seal shark shrew skunk skyscraper snail snake spider squirrel
streetcar sunflower sweet_pepper table tank telephone television tiger tractor train trout tulip
turtle wardrobe whale willow_tree wolf woman worm""".split()
_CIFAR100_COARSE = """aquatic_mammals fish flowers food_containers fruit_and_vegetables
household_electrical_devices household_furniture insects large_carnivores
large_man-made_outdoor_things large_natural_outdoor_scenes large_omnivores_and_herbivores
medium_mammals non-insect_invertebrates people reptiles small_mammals trees vehicles_1
vehicles_2""".split()


class CIFAR100(CIFAR10):
    """32x32 colour photos in 100 classes (`label_type='fine'`) or 20 super-classes ('coarse')."""

    url = "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz"
    label_bytes = 2  # coarse label, fine label, then the pixels
    n_classes = 100
    train_files = {"train.bin": 50000}
    test_files = {"test.bin": 10000}

    def __init__(
        self,
        train: bool = True,
        transform: Transform | _Default | None = DEFAULT,
        target_transform: Transform | None = None,
        label_type: str = "fine",
    ) -> None:
        if label_type not in ("fine", "coarse"):
            raise ValueError(f"label_type must be 'fine' or 'coarse', got {label_type!r}")
        self.label_type = label_type
        super().__init__(train, transform, target_transform)

    def prepare(self) -> None:
        super().prepare()
        if self.label.ndim == 2:  # the cache keeps both kinds of label
            self.label = self.label[:, 1 if self.label_type == "fine" else 0]

    def _labels_of(self, rows):
        return rows[:, :2].astype(np.int32)

    @staticmethod
    def labels(label_type: str = "fine") -> dict[int, str]:
        if label_type not in ("fine", "coarse"):
            raise ValueError(f"label_type must be 'fine' or 'coarse', got {label_type!r}")
        return dict(enumerate(_CIFAR100_FINE if label_type == "fine" else _CIFAR100_COARSE))


IMAGENET_LABELS_URL = (
    "https://gist.githubusercontent.com/yrevar/942d3a0ac09ec9e5eb3a/raw/"
    "238f720ff059c1f82f368259d1ca4ffa5dd8f9f5/imagenet1000_clsidx_to_labels.txt"
)


def _read_imagenet_labels(path):
    """The {0: 'tench, Tinca tinca', ...} table in path, read as a literal (never run as code)."""
    if os.path.getsize(path) > 1 << 20:
        raise ValueError("larger than 1 MB, not the table of 1000 ImageNet labels")
    try:
        with open(path, encoding="utf-8") as f:
            table = ast.literal_eval(f.read())
    except (ValueError, SyntaxError, UnicodeDecodeError, MemoryError, RecursionError):
        raise ValueError("not a Python dict literal of ImageNet labels") from None
    if (
        not isinstance(table, dict)
        or sorted(table) != list(range(1000))
        or not all(isinstance(v, str) for v in table.values())
    ):
        raise ValueError("not a table of the labels of classes 0 to 999")
    return table


class ImageNet(Dataset):
    """Only the class names of ImageNet: `ImageNet.labels()` (the images are not downloadable)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(
            "the ImageNet images cannot be downloaded automatically; "
            "ImageNet.labels() gives the names of its 1000 classes"
        )

    @staticmethod
    def labels() -> dict[int, str]:
        """{class id: name} for the 1000 ImageNet classes (as VGG16 and ResNet predict them)."""
        path = get_file(
            IMAGENET_LABELS_URL, "imagenet1000_clsidx_to_labels.txt", check=_read_imagenet_labels
        )
        return _read_imagenet_labels(path)


SHAKESPEAR_URL = (
    "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
)


def _check_shakespeare(path):
    size = os.path.getsize(path)
    if not 1_000_000 <= size <= 2_000_000:  # the text is 1,115,394 characters
        raise ValueError(f"{size} bytes, not the 1.1 MB of tiny Shakespeare")
    with open(path, "rb") as f:
        if not f.read(14) == b"First Citizen:":
            raise ValueError("does not start with 'First Citizen:', not tiny Shakespeare")


class Shakespear(Dataset):
    """Tiny Shakespeare as character ids: data[i] is a character, label[i] the next one.

    `char_to_id` and `id_to_char` map between characters and ids (numbered in order of
    first appearance, as DeZero does). DeZero's spelling of the name is kept.
    """

    def prepare(self) -> None:
        path = get_file(SHAKESPEAR_URL, "shakespear.txt", check=_check_shakespeare)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self.char_to_id: dict[str, int] = {}
        for c in text:
            self.char_to_id.setdefault(c, len(self.char_to_id))
        self.id_to_char = {i: c for c, i in self.char_to_id.items()}
        ids = np.array([self.char_to_id[c] for c in text], dtype=np.int32)
        self.data, self.label = ids[:-1], ids[1:]
