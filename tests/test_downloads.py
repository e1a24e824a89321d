"""Downloads against a local server on 127.0.0.1: checked, complete, atomic, with a deadline."""

import contextlib
import gzip
import hashlib
import http.server
import io
import struct
import tarfile
import threading
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from dezero_lite import datasets
from dezero_lite.datasets import CIFAR10, CIFAR100, ImageNet, Shakespear, load_idx
from dezero_lite.utils import DownloadError, get_file

GOOD = b"the genuine file\n" * 100
PORTAL = b"<!DOCTYPE html><html><body>Please log in to the hotel Wi-Fi</body></html>"


class Handler(http.server.BaseHTTPRequestHandler):
    routes = {}  # path -> function(handler)
    hits = []

    def do_GET(self):
        self.hits.append(self.path)
        # A broken connection: the client gave up, as it should.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.routes[self.path.split("?")[0]](self)

    def log_message(self, *args):
        pass

    def send_body(self, body, declared=None):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body) if declared is None else declared))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A server on the loopback interface only, and a private cache folder."""
    monkeypatch.setenv("DEZERO_LITE_CACHE", str(tmp_path / "cache"))
    Handler.routes, Handler.hits = {}, []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield base
    httpd.shutdown()
    httpd.server_close()


def cache_files(tmp_path):
    folder = tmp_path / "cache"
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


def test_a_file_is_downloaded_once_and_then_read_from_the_cache(server, tmp_path):
    Handler.routes["/data/good.bin"] = lambda h: h.send_body(GOOD)
    md5 = hashlib.md5(GOOD).hexdigest()
    path = get_file(server + "/data/good.bin?version=2", md5=md5)
    assert Path(path).read_bytes() == GOOD and path.endswith("good.bin")
    assert get_file(server + "/data/good.bin", md5=md5) == path
    assert Handler.hits == ["/data/good.bin?version=2"]  # the second call used the cache
    assert cache_files(tmp_path) == ["good.bin"]


def test_a_truncated_download_is_refused_and_nothing_is_kept(server, tmp_path):
    Handler.routes["/cut"] = lambda h: h.send_body(b"x" * 70, declared=100_000)
    with pytest.raises(DownloadError, match="declared 100000 bytes but sent 70") as err:
        get_file(server + "/cut", "cut.bin")
    assert isinstance(err.value, ConnectionError)
    assert str(tmp_path / "cache" / "cut.bin") in str(err.value)  # where to put it by hand
    assert cache_files(tmp_path) == []  # no partial file, no temporary file


def test_a_page_that_fails_the_check_is_never_cached(server, tmp_path):
    Handler.routes["/data.bin"] = lambda h: h.send_body(PORTAL)
    with pytest.raises(DownloadError, match="md5 .* expected .*login page"):
        get_file(server + "/data.bin", md5=hashlib.md5(GOOD).hexdigest())

    def not_html(path):
        if Path(path).read_bytes()[:15].lower().startswith(b"<!doctype html"):
            raise ValueError("an HTML page, not the data")

    with pytest.raises(DownloadError, match="an HTML page, not the data"):
        get_file(server + "/data.bin", check=not_html)
    assert cache_files(tmp_path) == []


def test_a_cached_file_that_fails_its_check_is_downloaded_again(server, tmp_path):
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "good.bin").write_bytes(PORTAL)  # left by a captive portal
    Handler.routes["/good.bin"] = lambda h: h.send_body(GOOD)
    path = get_file(server + "/good.bin", md5=hashlib.md5(GOOD).hexdigest())
    assert Path(path).read_bytes() == GOOD and Handler.hits == ["/good.bin"]


def test_a_server_that_trickles_runs_into_the_deadline(server, tmp_path):
    def trickle(h):
        h.send_response(200)
        h.send_header("Content-Length", "1000")
        h.end_headers()
        for _ in range(1000):
            h.wfile.write(b"x")
            h.wfile.flush()
            time.sleep(0.05)  # each read is quick: only an overall deadline stops this

    Handler.routes["/slow"] = trickle
    start = time.monotonic()
    with pytest.raises(DownloadError, match="longer than the deadline of 0.5 s"):
        get_file(server + "/slow", timeout=5, deadline=0.5)
    assert time.monotonic() - start < 10  # 1000 bytes would take 50 s
    assert cache_files(tmp_path) == []


def test_headers_that_trickle_run_into_the_deadline_too(server, tmp_path):
    def slow_headers(h):
        h.wfile.write(b"HTTP/1.0 200 OK\r\n")
        for i in range(200):
            h.wfile.write(b"X-Pad-%d: 1\r\n" % i)
            h.wfile.flush()
            time.sleep(0.05)

    Handler.routes["/slow-headers"] = slow_headers
    with pytest.raises(DownloadError, match="deadline"):
        get_file(server + "/slow-headers", timeout=5, deadline=0.5)


def test_http_errors_and_bad_names_are_clear(server, tmp_path):
    Handler.routes["/missing"] = lambda h: h.send_error(404)
    with pytest.raises(DownloadError, match="HTTP Error 404"):
        get_file(server + "/missing")
    for name in ("../outside.bin", "/etc/passwd", "a/../../b"):
        with pytest.raises(ValueError, match="plain relative name"):
            get_file(server + "/x", name)
    with pytest.raises(ValueError, match="plain relative name"):
        get_file(server + "/")
    assert Handler.hits == ["/missing"]


def idx_gz(array, extra=b""):
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return gzip.compress(header + array.tobytes() + extra)


def test_mnist_replaces_a_cached_login_page_with_the_real_file(server, tmp_path, monkeypatch):
    files = {}
    for prefix, n in (("train", 4), ("t10k", 2)):
        files[f"{prefix}-images-idx3-ubyte.gz"] = (idx_gz(np.full((n, 28, 28), 7)), (n, 28, 28))
        files[f"{prefix}-labels-idx1-ubyte.gz"] = (idx_gz(np.arange(n)), (n,))
    for name, (body, _) in files.items():
        Handler.routes[f"/mnist/{name}"] = lambda h, body=body: h.send_body(body)
    monkeypatch.setattr(datasets, "MNIST_URLS", [server + "/down/", server + "/mnist/"])
    Handler.routes.update({f"/down/{name}": lambda h: h.send_error(503) for name in files})
    monkeypatch.setattr(
        datasets,
        "MNIST_FILES",
        {name: (hashlib.md5(body).hexdigest(), shape) for name, (body, shape) in files.items()},
    )
    (tmp_path / "cache" / "mnist").mkdir(parents=True)
    (tmp_path / "cache" / "mnist" / "t10k-images-idx3-ubyte.gz").write_bytes(PORTAL)
    test = datasets.MNIST(train=False)
    assert len(test) == 2 and test.data.shape == (2, 1, 28, 28) and test.data.max() == 7
    assert "/mnist/t10k-images-idx3-ubyte.gz" in Handler.hits  # the bad one fetched again
    raw = datasets.MNIST(train=False, transform=None)[0][0]  # the book's step 51 does this
    assert raw.shape == (1, 28, 28) and raw.dtype == np.uint8
    # a mirror that is down is skipped; with no md5 to go by, the IDX header is checked
    monkeypatch.setitem(datasets.MNIST_FILES, "train-labels-idx1-ubyte.gz", (None, (60000,)))
    with pytest.raises(DownloadError, match=r"expected shape \(60000,\), got \(4,\)"):
        datasets.MNIST(train=True)


def test_load_idx_refuses_a_decompression_bomb_without_unpacking_it(tmp_path):
    bomb = tmp_path / "bomb.idx.gz"
    bomb.write_bytes(idx_gz(np.arange(10), extra=bytes(64 << 20)))  # 64 MB of zeros
    assert bomb.stat().st_size < 100_000
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"shape \(10,\) \(10 bytes\) but the file holds more"):
            load_idx(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 << 20


@pytest.mark.parametrize("shape", [(65536, 65536, 65536, 65536), (2**32 - 1,) * 3, (40000, 40000)])
def test_load_idx_checks_the_declared_size_before_reading(tmp_path, shape):
    # np.prod of the first shape overflows int64 to 0; Python integers do not
    path = tmp_path / "huge.idx.gz"
    path.write_bytes(
        gzip.compress(bytes([0, 0, 0x08, len(shape)]) + struct.pack(f">{len(shape)}I", *shape))
    )
    with pytest.raises(ValueError, match=r"more than max_bytes=1073741824; refusing"):
        load_idx(path)


def test_load_idx_names_a_damaged_gzip_file(tmp_path):
    path = tmp_path / "cut.idx.gz"
    path.write_bytes(idx_gz(np.arange(100))[:-12])
    with pytest.raises(ValueError, match="cut.idx.gz is not a readable IDX file: the gzip stream"):
        load_idx(path)
    assert datasets.idx_shape(tmp_path / "cut.idx.gz") == (100,)  # the header alone is intact


def tar_gz(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def cifar_records(labels, label_bytes):
    """Records as in CIFAR's binary files: label byte(s), then 3072 pixels, R then G then B planes."""
    rows = []
    for i, label in enumerate(labels):
        pixels = np.arange(3 * 32 * 32, dtype=np.uint16).reshape(3, 32, 32) + i
        rows.append(bytes(label) + (pixels % 256).astype(np.uint8).tobytes())
    assert all(len(r) == label_bytes + 3072 for r in rows)
    return b"".join(rows)


@pytest.fixture
def small_cifar10(server, monkeypatch):
    monkeypatch.setattr(CIFAR10, "url", server + "/cifar-10-binary.tar.gz")
    monkeypatch.setattr(CIFAR10, "train_files", {f"data_batch_{i}.bin": 2 for i in range(1, 6)})
    monkeypatch.setattr(CIFAR10, "test_files", {"test_batch.bin": 3})
    members = {
        f"cifar-10-batches-bin/data_batch_{i}.bin": cifar_records([[i], [9]], 1)
        for i in range(1, 6)
    }
    members["cifar-10-batches-bin/test_batch.bin"] = cifar_records([[3], [1], [4]], 1)
    members["cifar-10-batches-bin/batches.meta.txt"] = b"airplane\n"
    body = tar_gz(members)
    Handler.routes["/cifar-10-binary.tar.gz"] = lambda h: h.send_body(body)
    return body


def test_cifar10_downloads_once_reads_the_binary_records_and_caches_arrays(small_cifar10, tmp_path):
    train = CIFAR10(train=True)
    assert train.data.shape == (10, 3, 32, 32) and train.data.dtype == np.uint8
    assert train.label.tolist() == [1, 9, 2, 9, 3, 9, 4, 9, 5, 9] and train.label.dtype == np.int32
    # pixel (c, y, x) of record i is (c*1024 + y*32 + x + i) % 256: the planes are R, G, B
    assert train.data[0, 1, 2, 3] == (1024 + 2 * 32 + 3) % 256
    assert train.data[1, 2, 0, 0] == (2048 + 1) % 256
    x, t = train[0]
    assert x.dtype == np.float32 and x.min() >= -1 and x.max() <= 1 and t == 1
    raw = CIFAR10(train=True, transform=None)[0][0]  # None: no transform, as in DeZero
    assert raw.shape == (3, 32, 32) and raw.dtype == np.uint8
    test = CIFAR10(train=False)
    assert test.label.tolist() == [3, 1, 4]
    assert Handler.hits == ["/cifar-10-binary.tar.gz"]  # the second set came from the cache
    assert sorted(cache_files(tmp_path)) == [
        "cifar-10-binary.tar.gz",
        "cifar-10-binary.tar.gz.test.npz",
        "cifar-10-binary.tar.gz.train.npz",
    ]
    (tmp_path / "cache" / "cifar-10-binary.tar.gz").unlink()
    assert np.array_equal(CIFAR10(train=True).data, train.data)  # from the .npz alone
    assert CIFAR10.labels()[0] == "airplane" and len(CIFAR10.labels()) == 10


def test_cifar10_refuses_an_archive_of_the_wrong_shape(small_cifar10, server, monkeypatch):
    monkeypatch.setattr(CIFAR10, "train_files", {f"data_batch_{i}.bin": 10000 for i in range(1, 6)})
    with pytest.raises(
        DownloadError, match=r"data_batch_1.bin holds 6146 bytes, expected 30730000"
    ):
        CIFAR10(train=True)
    Handler.routes["/cifar-10-binary.tar.gz"] = lambda h: h.send_body(PORTAL)
    with pytest.raises(DownloadError, match="not a readable tar.gz archive"):
        CIFAR10(train=True)


def test_cifar_refuses_archives_built_to_take_long(small_cifar10, server, monkeypatch):
    flood = tar_gz({f"junk/{i}.bin": b"" for i in range(100)})
    Handler.routes["/cifar-10-binary.tar.gz"] = lambda h: h.send_body(flood)
    with pytest.raises(DownloadError, match="lacks data_batch_1.bin"):
        CIFAR10(train=True)
    big = tar_gz({"cifar-10-batches-bin/readme.html": bytes(1 << 20)})
    Handler.routes["/cifar-10-binary.tar.gz"] = lambda h: h.send_body(big)
    with pytest.raises(DownloadError, match="readme.html of 1048576 bytes is larger than any"):
        CIFAR10(train=True)


def test_cifar100_has_fine_and_coarse_labels(server, monkeypatch, tmp_path):
    monkeypatch.setattr(CIFAR100, "url", server + "/cifar-100-binary.tar.gz")
    monkeypatch.setattr(CIFAR100, "train_files", {"train.bin": 2})
    monkeypatch.setattr(CIFAR100, "test_files", {"test.bin": 1})
    body = tar_gz(
        {
            "cifar-100-binary/train.bin": cifar_records([[19, 99], [0, 3]], 2),
            "cifar-100-binary/test.bin": cifar_records([[4, 0]], 2),
        }
    )
    Handler.routes["/cifar-100-binary.tar.gz"] = lambda h: h.send_body(body)
    assert CIFAR100(train=True).label.tolist() == [99, 3]
    assert CIFAR100(train=True, label_type="coarse").label.tolist() == [19, 0]
    assert CIFAR100(train=False).label.tolist() == [0]
    assert len(Handler.hits) == 1
    fine, coarse = CIFAR100.labels(), CIFAR100.labels("coarse")
    assert len(fine) == 100 and fine[0] == "apple" and fine[99] == "worm"
    assert len(coarse) == 20 and coarse[19] == "vehicles_2"
    with pytest.raises(ValueError, match="label_type"):
        CIFAR100(label_type="medium")


def test_cifar_offline_says_the_url_and_where_to_put_the_file(tmp_path, monkeypatch):
    import urllib.error
    import urllib.request

    monkeypatch.setenv("DEZERO_LITE_CACHE", str(tmp_path))

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network in tests")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(ConnectionError) as err:
        CIFAR10()
    assert CIFAR10.url in str(err.value) and str(tmp_path / "cifar-10-binary.tar.gz") in str(
        err.value
    )
    assert list(tmp_path.iterdir()) == []


def test_imagenet_labels_are_read_as_a_literal_never_run(server, monkeypatch, tmp_path):
    table = {i: f"class {i}" for i in range(1000)}
    table[0] = "tench, Tinca tinca"
    Handler.routes["/labels.txt"] = lambda h: h.send_body(repr(table).encode())
    monkeypatch.setattr(datasets, "IMAGENET_LABELS_URL", server + "/labels.txt")
    labels = ImageNet.labels()
    assert labels == table and ImageNet.labels()[0] == "tench, Tinca tinca"
    assert Handler.hits == ["/labels.txt"]
    with pytest.raises(NotImplementedError, match=r"ImageNet.labels\(\)"):
        ImageNet()

    marker = tmp_path / "ran"
    evil = f"__import__('pathlib').Path({str(marker)!r}).touch() or {{0: 'x'}}".encode()
    (tmp_path / "cache" / "imagenet1000_clsidx_to_labels.txt").write_bytes(evil)
    Handler.routes["/labels.txt"] = lambda h: h.send_body(evil)
    with pytest.raises(DownloadError, match="not a Python dict literal"):
        ImageNet.labels()
    assert not marker.exists()


def test_shakespear_gives_next_character_ids(server, monkeypatch, tmp_path):
    text = "First Citizen:\nBefore we proceed any further, hear me speak.\n" * 20000
    Handler.routes["/input.txt"] = lambda h: h.send_body(text.encode())
    monkeypatch.setattr(datasets, "SHAKESPEAR_URL", server + "/input.txt")
    ds = Shakespear()
    assert len(ds) == len(text) - 1
    assert ds.id_to_char[ds.data[0]] == "F" and ds.id_to_char[ds.label[0]] == "i"
    assert ds.char_to_id["F"] == 0 and ds.char_to_id["i"] == 1  # numbered by first appearance
    assert "".join(ds.id_to_char[i] for i in ds.data[:14]) == "First Citizen:"
    assert np.array_equal(ds.data[1:], ds.label[:-1])
    assert cache_files(tmp_path) == ["shakespear.txt"]
    Shakespear()
    assert len(Handler.hits) == 1
    (tmp_path / "cache" / "shakespear.txt").write_bytes(PORTAL)
    Handler.routes["/input.txt"] = lambda h: h.send_body(PORTAL)
    with pytest.raises(DownloadError, match="not the 1.1 MB of tiny Shakespeare"):
        Shakespear()


def test_cache_npz_round_trips_and_a_damaged_one_reads_as_absent(tmp_path, monkeypatch):
    monkeypatch.setenv("DEZERO_LITE_CACHE", str(tmp_path))
    data, label = np.arange(12, dtype=np.uint8).reshape(3, 4), np.array([1, 2, 3])
    path = datasets.save_cache_npz(data, label, "https://example.org/x/set.tar.gz", train=True)
    assert path.endswith("set.tar.gz.train.npz")
    got_data, got_label = datasets.load_cache_npz("set.tar.gz", train=True)
    assert np.array_equal(got_data, data) and np.array_equal(got_label, label)
    assert datasets.load_cache_npz("set.tar.gz", train=False) == (None, None)
    (tmp_path / "set.tar.gz.train.npz").write_bytes(b"PK\x03\x04 not really")
    assert datasets.load_cache_npz("set.tar.gz", train=True) == (None, None)
    assert [p.name for p in tmp_path.iterdir()] == ["set.tar.gz.train.npz"]  # no temporary files
