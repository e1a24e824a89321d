import gzip
import struct
import sys
import urllib.error
import urllib.request

import numpy as np
import pytest

from dezero_lite import datasets, transforms
from dezero_lite.dataloaders import DataLoader, SeqDataLoader
from dezero_lite.datasets import (
    MNIST,
    Dataset,
    Digits,
    LinearRegressionData,
    LogicGate,
    LogisticRegressionData,
    SinCurve,
    Spiral,
    load_idx,
)


class Squares(Dataset):
    def prepare(self):
        self.data = np.arange(10.0).reshape(10, 1)
        self.label = np.arange(10) ** 2


def test_dataset_getitem_len_and_transforms():
    ds = Squares()
    assert len(ds) == 10
    x, t = ds[3]
    assert x.tolist() == [3.0] and t == 9
    ds = Squares(transform=lambda x: x * 2, target_transform=lambda t: -t)
    x, t = ds[3]
    assert x.tolist() == [6.0] and t == -9
    with pytest.raises(TypeError, match="one int"):
        ds[1:3]


def test_dataset_without_labels_gives_none():
    class Unlabelled(Dataset):
        def prepare(self):
            self.data = np.zeros((4, 2))

    assert Unlabelled()[0][1] is None


def test_spiral_shape_dtype_and_classes():
    ds = Spiral()
    assert ds.data.shape == (300, 2) and ds.data.dtype == np.float32
    assert ds.label.dtype == np.int32
    assert np.bincount(ds.label).tolist() == [100, 100, 100]
    assert np.abs(ds.data).max() <= 1.0
    assert not np.array_equal(ds.label[:100], np.repeat([0], 100))  # shuffled


def test_spiral_is_deterministic_and_train_differs_from_test():
    state = np.random.get_state()
    a, b, test = Spiral(train=True), Spiral(train=True), Spiral(train=False)
    assert np.array_equal(a.data, b.data) and np.array_equal(a.label, b.label)
    assert not np.allclose(np.sort(a.data, axis=0), np.sort(test.data, axis=0))
    # the global generator is left alone
    assert np.array_equal(np.random.get_state()[1], state[1])


def test_sincurve_predicts_the_next_value():
    train, test = SinCurve(train=True), SinCurve(train=False)
    assert train.data.shape == (999, 1) == train.label.shape
    assert np.array_equal(train.data[1:], train.label[:-1])
    assert np.abs(train.data[:, 0] - np.sin(np.linspace(0, 2 * np.pi, 1000)[:-1])).max() <= 0.05
    assert np.allclose(test.data[:, 0], np.cos(np.linspace(0, 2 * np.pi, 1000)[:-1]))


@pytest.mark.parametrize(
    "gate, table",
    [("and", [0, 0, 0, 1]), ("or", [0, 1, 1, 1]), ("nand", [1, 1, 1, 0]), ("XOR", [0, 1, 1, 0])],
)
def test_logic_gates(gate, table):
    ds = LogicGate(gate)
    assert ds.data.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert ds.label.ravel().tolist() == table
    assert ds.label.shape == (4, 1)


def test_logic_gate_unknown_name():
    with pytest.raises(ValueError, match="xor"):
        LogicGate("nor")


def test_regression_data_of_the_steps():
    lin = LinearRegressionData()
    assert lin.data.ravel().tolist() == [1, 2, 3, 4, 5]
    assert lin.label.ravel().tolist() == [2, 3, 4, 5, 6]
    log = LogisticRegressionData()
    assert log.data.ravel().tolist() == list(range(2, 21, 2))
    assert log.label.ravel().tolist() == [0] * 6 + [1] * 4


def test_digits_split_is_fixed_disjoint_and_complete():
    train, test = Digits(train=True), Digits(train=False)
    assert len(train) + len(test) == 1797 and len(test) == 359
    assert train.data.shape[1:] == (64,) and train.data.dtype == np.float32
    assert train.data.min() >= 0.0 and train.data.max() <= 1.0
    assert sorted(np.unique(train.label).tolist()) == list(range(10))
    rows = {r.tobytes() for r in train.data}
    assert sum(r.tobytes() in rows for r in test.data) <= 5  # only genuine duplicate images
    assert np.array_equal(Digits(train=True).data, train.data)
    assert not np.array_equal(Digits(train=True, seed=1).data, train.data)


def test_digits_without_sklearn_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        Digits()


def write_idx(path, array, code=0x08):
    array = np.asarray(array)
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    dtype = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[code]
    raw = header + array.astype(dtype).tobytes()
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(raw)


@pytest.mark.parametrize(
    "code, values",
    [
        (0x08, np.arange(24).reshape(2, 3, 4) * 10),
        (0x09, np.array([-3, 0, 5])),
        (0x0C, np.array([[70000, -1], [2, 3]])),
        (0x0D, np.array([1.5, -2.25])),
        (0x0E, np.array([[np.pi]])),
    ],
)
def test_load_idx_reads_gzipped_and_plain_files(tmp_path, code, values):
    for name in ("a.idx.gz", "a.idx"):
        write_idx(tmp_path / name, values, code)
        got = load_idx(tmp_path / name)
        assert got.shape == values.shape
        assert np.array_equal(got, values.astype(got.dtype))
        assert got.dtype.isnative


def test_load_idx_rejects_bad_files(tmp_path):
    bad = tmp_path / "bad.gz"
    with gzip.open(bad, "wb") as f:
        f.write(b"\x1f\x8b\x08\x03hello")
    with pytest.raises(ValueError, match="magic"):
        load_idx(bad)
    short = tmp_path / "short.gz"
    write_idx(short, np.zeros((3, 2, 2), np.uint8))
    with gzip.open(short) as f:
        raw = f.read()
    with gzip.open(short, "wb") as f:
        f.write(raw[:-1])
    with pytest.raises(ValueError, match=r"shape \(3, 2, 2\)"):
        load_idx(short)


@pytest.fixture
def tiny_mnist(tmp_path, monkeypatch):
    """A 5-image MNIST in a private cache folder, with the expected table patched to match it."""
    monkeypatch.setenv("DEZERO_LITE_CACHE", str(tmp_path))
    folder = tmp_path / "mnist"
    folder.mkdir()
    rng = np.random.default_rng(0)
    table = {}
    for prefix, n in (("train", 5), ("t10k", 3)):
        images = rng.integers(0, 256, (n, 28, 28))
        labels = rng.integers(0, 10, n)
        for kind, arr in (("images-idx3", images), ("labels-idx1", labels)):
            name = f"{prefix}-{kind}-ubyte.gz"
            write_idx(folder / name, arr)
            table[name] = (datasets._md5(folder / name), arr.shape)
    monkeypatch.setattr(datasets, "MNIST_FILES", table)
    return folder


def offline(*args, **kwargs):
    raise urllib.error.URLError("no network in tests")


def test_mnist_reads_cached_files_without_network(tiny_mnist, monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    train, test = MNIST(train=True), MNIST(train=False)
    assert len(train) == 5 and len(test) == 3
    x, t = train[0]
    assert x.shape == (784,) and x.dtype == np.float32 and x.min() >= 0 and x.max() <= 1
    raw = load_idx(tiny_mnist / "train-images-idx3-ubyte.gz")
    assert np.allclose(x * 255, raw[0].ravel())
    assert train.label.dtype == np.int32
    assert MNIST(transform=lambda img: img)[0][0].shape == (1, 28, 28)


def test_mnist_damaged_file_is_downloaded_again_and_reported_offline(tiny_mnist, monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    path = tiny_mnist / "t10k-labels-idx1-ubyte.gz"
    damaged = path.read_bytes()[:-2]
    path.write_bytes(damaged)
    with pytest.raises(ConnectionError, match=r"(?s)failed its check \(md5 .*could not download"):
        MNIST(train=False)
    assert path.read_bytes() == damaged  # left as it was: nothing better came


def test_mnist_wrong_item_count_is_reported(tiny_mnist, monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    name = "train-labels-idx1-ubyte.gz"
    md5, _ = datasets.MNIST_FILES[name]
    monkeypatch.setitem(datasets.MNIST_FILES, name, (md5, (60000,)))
    with pytest.raises(ConnectionError, match=r"expected shape \(60000,\), got \(5,\)"):
        MNIST(train=True)


def test_mnist_without_network_says_url_folder_and_file_names(tmp_path, monkeypatch):
    monkeypatch.setenv("DEZERO_LITE_CACHE", str(tmp_path))
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(ConnectionError) as err:
        MNIST(train=True)
    msg = str(err.value)
    assert datasets.MNIST_URLS[0] + "train-images-idx3-ubyte.gz" in msg
    assert str(tmp_path / "mnist") in msg
    for name in datasets.MNIST_FILES:
        assert name in msg
    assert list(tmp_path.rglob("*")) in ([], [tmp_path / "mnist"])  # no partial files


def test_dataloader_batches_cover_the_epoch_with_a_partial_last_batch():
    loader = DataLoader(Squares(), batch_size=4, shuffle=False)
    batches = list(loader)
    assert [len(x) for x, _ in batches] == [4, 4, 2]
    assert np.concatenate([t for _, t in batches]).tolist() == [i * i for i in range(10)]
    assert len(loader) == 3
    assert len(list(loader)) == 3  # a second loop is a second epoch


def test_dataloader_reshuffles_each_epoch_and_keeps_pairs():
    loader = DataLoader(Squares(), batch_size=3, seed=0)
    orders = []
    for _ in range(3):
        xs, ts = zip(*loader, strict=True)
        x, t = np.concatenate(xs).ravel(), np.concatenate(ts)
        assert np.array_equal(x**2, t)
        assert sorted(x.tolist()) == list(range(10))
        orders.append(x.tolist())
    assert orders[0] != orders[1] and orders[1] != orders[2]  # seed 0: every epoch differs


def test_dataloader_follows_the_global_seed_like_dezero():
    np.random.seed(3)
    a = np.concatenate([x for x, _ in DataLoader(Squares(), 4)]).ravel()
    np.random.seed(3)
    b = np.concatenate([x for x, _ in DataLoader(Squares(), 4)]).ravel()
    assert np.array_equal(a, b)


def test_dataloader_loop_left_early_starts_fresh_and_next_reset_work():
    loader = DataLoader(Squares(), batch_size=4, shuffle=False)
    for _ in loader:
        break
    assert [len(x) for x, _ in loader] == [4, 4, 2]
    x, t = loader.next()
    assert x.ravel().tolist() == [0, 1, 2, 3]
    loader.reset()
    assert loader.next()[0].ravel().tolist() == [0, 1, 2, 3]


def test_dataloader_applies_transforms():
    ds = Squares(
        transform=transforms.Compose(
            [transforms.Flatten(), transforms.AsType(np.float32), transforms.Normalize(1.0, 2.0)]
        ),
        target_transform=transforms.ToInt(),
    )
    x, t = next(iter(DataLoader(ds, batch_size=10, shuffle=False)))
    assert x.dtype == np.float32 and x.shape == (10, 1)
    assert np.allclose(x.ravel(), (np.arange(10) - 1.0) / 2.0)
    assert t.dtype == np.int32


def test_dataloader_rejects_bad_batch_size():
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(Squares(), batch_size=0)


def test_seq_dataloader_walks_parallel_stretches():
    loader = SeqDataLoader(SinCurve(), batch_size=3)
    batches = list(loader)
    assert len(batches) == 333
    x0, t0 = batches[0]
    x1, _ = batches[1]
    data = SinCurve().data
    assert np.array_equal(x0, data[[0, 333, 666]])
    assert np.array_equal(x1, data[[1, 334, 667]])
    assert np.array_equal(t0, SinCurve().label[[0, 333, 666]])
    assert len(list(loader)) == 333


def test_seq_dataloader_needs_enough_data():
    with pytest.raises(ValueError, match="at least"):
        SeqDataLoader(Squares(), batch_size=11)


def test_data_loader_uses_an_overridden_getitem_and_list_labels():
    class Doubled(Dataset):
        def prepare(self):
            self.data = np.arange(4.0).reshape(4, 1)
            self.label = [0, 1, 0, 1]  # a list, not an array

        def __getitem__(self, i):
            x, t = super().__getitem__(i)
            return x * 2, t

    x, t = next(iter(DataLoader(Doubled(), 4, shuffle=False)))
    assert x.ravel().tolist() == [0.0, 2.0, 4.0, 6.0] and t.tolist() == [0, 1, 0, 1]


def test_normalize_keeps_integer_images():
    y = transforms.Normalize(0.0, 255.0)(np.array([0, 128, 255], np.uint8))
    assert np.allclose(y, [0.0, 128 / 255, 1.0])
    assert transforms.Normalize(1.0, 2.0)(np.ones(2, np.float32)).dtype == np.float32
