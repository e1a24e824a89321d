"""Array helpers, numerical gradients, graph pictures and file downloads."""

import hashlib
import os
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO, TypeGuard, TypeVar

import numpy as np

from dezero_lite._fileio import atomic_write
from dezero_lite._typing import Axis, Pair, VariableLike
from dezero_lite.core import Variable
from dezero_lite.graph import GraphvizNotFoundError, get_dot_graph, plot_dot_graph  # noqa: F401
from dezero_lite.numerical import gradient_check, numerical_grad  # noqa: F401


def sum_to(x: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Sum the array x down to shape, undoing a broadcast to x.shape."""
    shape = tuple(shape)
    lead = x.ndim - len(shape)
    if lead >= 0 and x.shape[lead:] == shape:  # only leading axes to sum away (a bias's, say)
        return x.sum(axis=tuple(range(lead))) if lead else x
    if lead < 0 or any(s not in (1, xs) for s, xs in zip(shape, x.shape[lead:], strict=True)):
        raise ValueError(
            f"sum_to: shape {x.shape} cannot be summed to {shape}: the target must be "
            f"a shape that broadcasts to {x.shape}"
        )
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and x.shape[i + lead] != 1
    )
    y = x.sum(axis=axes, keepdims=True) if axes else x
    return y.reshape(shape) if lead else y


_Grad = TypeVar("_Grad", Variable, np.ndarray)


def reshape_sum_backward(gy: _Grad, x_shape: tuple[int, ...], axis: Axis, keepdims: bool) -> _Grad:
    """Reshape the gradient of a sum so that it broadcasts back to x_shape."""
    ndim = len(x_shape)
    if ndim == 0 or keepdims:
        return gy
    if axis is None:
        return gy.reshape((1,) * ndim)
    axes = (axis,) if isinstance(axis, int) else axis
    shape = list(gy.shape)
    for a in sorted(a % ndim for a in axes):
        shape.insert(a, 1)
    return gy.reshape(tuple(shape))


def logsumexp(x: np.ndarray, axis: Axis = 1) -> np.ndarray:
    """log(sum(exp(x))) along axis, computed without overflow."""
    m = x.max(axis=axis, keepdims=True)
    s = np.log(np.exp(x - m).sum(axis=axis, keepdims=True))
    return m + s


def array_equal(a: VariableLike, b: VariableLike) -> bool:
    """np.array_equal that also takes Variables."""
    from dezero_lite.cuda import as_numpy

    return np.array_equal(as_numpy(a), as_numpy(b))


def array_allclose(
    a: VariableLike, b: VariableLike, rtol: float = 1e-4, atol: float = 1e-5
) -> bool:
    """np.allclose that also takes Variables."""
    from dezero_lite.cuda import as_numpy

    return np.allclose(as_numpy(a), as_numpy(b), rtol=rtol, atol=atol)


def max_backward_shape(x: Variable | np.ndarray, axis: Axis) -> list[int]:
    """The shape of max(x, axis) with the reduced axes kept as 1, to broadcast its gradient back."""
    if axis is None:
        axes = set(range(x.ndim))
    else:
        axes = {a % x.ndim for a in ((axis,) if isinstance(axis, (int, np.integer)) else axis)}
    return [1 if i in axes else s for i, s in enumerate(x.shape)]


def cache_dir() -> Path:
    """Where downloads are kept: $DEZERO_LITE_CACHE or ~/.dezero_lite."""
    return Path(os.environ.get("DEZERO_LITE_CACHE", Path.home() / ".dezero_lite"))


def show_progress(
    block_num: int, block_size: int, total_size: int, file: TextIO | None = None
) -> None:
    """Draw a download bar on stderr; the signature of urlretrieve's reporthook, as in DeZero."""
    done = block_num * block_size
    if total_size and total_size > 0:
        frac = min(done / total_size, 1.0)
        text = f"[{'#' * int(frac * 30):.<30}] {frac * 100:.2f}%"
    else:  # the server did not say how long the file is
        text = f"{done / 1e6:.1f} MB"
    out = file if file is not None else sys.stderr
    out.write("\r" + text)
    out.flush()


class DownloadError(ConnectionError):
    """A download failed, was cut short, timed out or did not pass its check."""


def _md5(path):
    h = hashlib.md5(usedforsecurity=False)  # a checksum, not security
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _problem(path, md5, check):
    """Why the file at path is not the one wanted (a sentence), or None when it passes."""
    if md5 is not None and (got := _md5(path)) != md5:
        return f"md5 {got}, expected {md5}"
    if check is not None:
        try:
            check(path)
        except ValueError as e:
            return str(e)
    return None


def _fetch(url, out, timeout, deadline, progress):
    """Copy url into the open binary file out, within `deadline` seconds in all.

    `timeout` bounds each network read; the deadline bounds the whole transfer, so a
    server that trickles one byte at a time cannot hold the caller forever. The reads
    run in a helper thread that the caller stops waiting for when the deadline passes.
    """
    import urllib.request  # only when downloading: keeps `import dezero_lite` light

    stop = threading.Event()
    result = {}

    def copy():
        try:
            with urllib.request.urlopen(url, timeout=timeout) as src:
                declared = src.headers.get("Content-Length")
                result["declared"] = int(declared) if declared and declared.isdigit() else None
                read = getattr(src, "read1", src.read)  # read1: whatever has arrived, at once
                got = 0
                while not stop.is_set():
                    chunk = read(1 << 16)
                    if not chunk:
                        break
                    out.write(chunk)
                    got += len(chunk)
                    result["got"] = got
                    if progress:
                        show_progress(got, 1, result["declared"] or 0)
        except BaseException as e:  # handed to the caller's thread
            result["error"] = e

    worker = threading.Thread(target=copy, name=f"download {url}", daemon=True)
    worker.start()
    worker.join(deadline)
    if progress:
        sys.stderr.write("\n")
    if worker.is_alive():
        stop.set()
        raise DownloadError(
            f"the download took longer than the deadline of {deadline:g} s "
            f"({result.get('got', 0)} bytes received); pass a larger deadline= "
            f"for a slow connection"
        )
    if "error" in result:
        e = result["error"]
        raise DownloadError(f"{type(e).__name__}: {e}") from e
    declared, got = result.get("declared"), result.get("got", 0)
    if declared is not None and got != declared:
        raise DownloadError(
            f"the server declared {declared} bytes but sent {got}: the connection was cut"
        )


def _is_terminal(stream):
    return stream is not None and hasattr(stream, "isatty") and stream.isatty()


def get_file(
    url: str,
    file_name: str | None = None,
    *,
    md5: str | None = None,
    check: Callable[[str | Path], object] | None = None,
    timeout: float = 30,
    deadline: float = 1800,
) -> str:
    """Download url into the cache folder once, check it, and return the local path.

    The file is written under a temporary name and renamed into place only once it is
    complete (as long as the server's Content-Length) and has passed its checks: its
    `md5` when given, and `check(path)`, a function that raises ValueError for a file
    that is not the expected one (a login page served by a proxy, say). A cached file
    that fails the checks is downloaded again. `timeout` bounds each network read and
    `deadline` the whole download, in seconds. Failures raise DownloadError (a
    ConnectionError) saying what happened and where to put the file by hand.
    """
    from urllib.parse import urlsplit

    name = file_name or urlsplit(url).path.rstrip("/").split("/")[-1]
    path = cache_dir() / name
    if not name or ".." in Path(name).parts or Path(name).is_absolute():
        raise ValueError(
            f"get_file: cannot name a cache file {name!r} after {url!r}; "
            f"pass file_name= with a plain relative name"
        )
    stale = None
    if path.is_file():
        stale = _problem(path, md5, check)
        if stale is None:
            return str(path)
    elif path.exists():
        raise ValueError(f"get_file: {path} exists but is not a file; move it away")
    path.parent.mkdir(parents=True, exist_ok=True)

    def fill(tmp):
        with open(tmp, "wb") as out:
            _fetch(url, out, timeout, deadline, progress=_is_terminal(sys.stderr))
        problem = _problem(tmp, md5, check)
        if problem is not None:
            problem = problem.replace(str(tmp), str(path))  # name the file the user knows
            raise DownloadError(
                f"the downloaded file is not the expected one ({problem}); "
                f"a proxy or login page may have answered instead"
            )

    try:
        atomic_write(path, fill)
    except OSError as e:  # DownloadError, and a folder we cannot write
        before = f"the cached file {path} failed its check ({stale}), and " if stale else ""
        raise DownloadError(
            f"{before}could not download {url}: {e}; nothing was saved. Download it by "
            f"other means and place it at {path}"
        ) from None
    return str(path)


def pair(x: Pair | Sequence[int], name: str = "value") -> tuple[int, int]:
    """(x, x) for an int, the pair itself for a pair of ints: kernel sizes, strides, pads."""

    def is_int(v: object) -> TypeGuard[int]:  # (NumPy integers too)
        return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))

    if is_int(x):
        return int(x), int(x)
    if isinstance(x, (tuple, list)) and len(x) == 2 and all(is_int(v) for v in x):
        return int(x[0]), int(x[1])
    raise ValueError(f"{name} must be an int or a pair of ints (height, width), got {x!r}")


def get_conv_outsize(input_size: int, kernel_size: int, stride: int, pad: int) -> int:
    """Output length of a convolution or pooling along one axis: (in + 2 pad - k) // stride + 1."""
    return (input_size + pad * 2 - kernel_size) // stride + 1


def get_deconv_outsize(size: int, k: int, s: int, p: int) -> int:
    """Output length of a transposed convolution along one axis: s (in - 1) + k - 2 p."""
    return s * (size - 1) + k - 2 * p
