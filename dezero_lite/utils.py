"""Array helpers, numerical gradients, graph pictures and file downloads."""
import os
from pathlib import Path

import numpy as np

from dezero_lite._fileio import atomic_write
from dezero_lite.graph import GraphvizNotFoundError, get_dot_graph, plot_dot_graph  # noqa: F401
from dezero_lite.numerical import gradient_check, numerical_grad  # noqa: F401


def sum_to(x, shape):
    """Sum the array x down to shape, undoing a broadcast to x.shape."""
    shape = tuple(shape)
    lead = x.ndim - len(shape)
    if lead < 0 or any(s not in (1, xs) for s, xs in zip(shape, x.shape[lead:])):
        raise ValueError(
            f"sum_to: shape {x.shape} cannot be summed to {shape}: the target must be "
            f"a shape that broadcasts to {x.shape}")
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape)
                                      if s == 1 and x.shape[i + lead] != 1)
    y = x.sum(axis=axes, keepdims=True) if axes else x
    return y.reshape(shape) if lead else y


def reshape_sum_backward(gy, x_shape, axis, keepdims):
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


def logsumexp(x, axis=1):
    """log(sum(exp(x))) along axis, computed without overflow."""
    m = x.max(axis=axis, keepdims=True)
    s = np.log(np.exp(x - m).sum(axis=axis, keepdims=True))
    return m + s


def array_equal(a, b):
    """np.array_equal that also takes Variables."""
    from dezero_lite.cuda import as_numpy
    return np.array_equal(as_numpy(a), as_numpy(b))


def array_allclose(a, b, rtol=1e-4, atol=1e-5):
    """np.allclose that also takes Variables."""
    from dezero_lite.cuda import as_numpy
    return np.allclose(as_numpy(a), as_numpy(b), rtol=rtol, atol=atol)


def cache_dir():
    """Where downloads are kept: $DEZERO_LITE_CACHE or ~/.dezero_lite."""
    return Path(os.environ.get("DEZERO_LITE_CACHE", Path.home() / ".dezero_lite"))


def get_file(url, file_name=None):
    """Download url into the cache folder once and return the local path."""
    import urllib.request  # only when downloading: keeps `import dezero_lite` light
    path = cache_dir() / (file_name or url.rstrip("/").split("/")[-1])
    if path.exists():
        return str(path)
    path.parent.mkdir(parents=True, exist_ok=True)

    def fill(tmp):
        with open(tmp, "wb") as out, urllib.request.urlopen(url, timeout=30) as src:
            while chunk := src.read(1 << 20):
                out.write(chunk)

    try:
        atomic_write(path, fill)
    except OSError as e:  # URLError is an OSError
        raise ConnectionError(
            f"could not download {url} ({e}); download it by other means and place "
            f"it at {path}") from None
    return str(path)


def pair(x, name="value"):
    """(x, x) for an int, the pair itself for a pair of ints: kernel sizes, strides, pads."""
    def is_int(v):
        return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
    if is_int(x):
        return int(x), int(x)
    if isinstance(x, (tuple, list)) and len(x) == 2 and all(is_int(v) for v in x):
        return int(x[0]), int(x[1])
    raise ValueError(f"{name} must be an int or a pair of ints (height, width), got {x!r}")


def get_conv_outsize(input_size, kernel_size, stride, pad):
    """Output length of a convolution or pooling along one axis: (in + 2 pad - k) // stride + 1."""
    return (input_size + pad * 2 - kernel_size) // stride + 1


def get_deconv_outsize(size, k, s, p):
    """Output length of a transposed convolution along one axis: s (in - 1) + k - 2 p."""
    return s * (size - 1) + k - 2 * p
