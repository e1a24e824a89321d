"""Progress of long training: a progress bar (tqdm when installed) and a loss curve as a PNG."""

import os
import sys
import time
from collections.abc import Iterable
from typing import Any

from dezero_lite.core import Variable


class SimpleBar:
    """A minimal stand-in for tqdm: `for x in SimpleBar(it, desc=...)`, `set_postfix(loss=...)`."""

    def __init__(
        self, iterable=None, total=None, desc="", file=None, mininterval=0.1, disable=False
    ):
        self.iterable = iterable
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)
        self.total = total
        self.desc = desc or ""
        self.file = file if file is not None else sys.stderr
        self.mininterval = mininterval
        self.disable = disable
        self.n = 0
        self.postfix = ""
        self._start = time.perf_counter()
        self._last = 0.0
        self._drawn = -1  # n at the last draw

    def __iter__(self):
        try:
            for item in self.iterable:
                yield item
                self.update()
        finally:
            self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def update(self, n=1):
        self.n += n
        now = time.perf_counter()
        if now - self._last >= self.mininterval or self.n == self.total:
            self._last = now
            self._draw(now)

    def set_postfix(self, **values):
        self.postfix = ", ".join(f"{k}={_fmt(v)}" for k, v in values.items())

    def _draw(self, now):
        if self.disable:
            return
        self._drawn = self.n
        elapsed = now - self._start
        if self.total:
            frac = min(self.n / self.total, 1.0)
            filled = int(frac * 20)
            bar = f"|{'#' * filled}{' ' * (20 - filled)}| {self.n}/{self.total}"
        else:
            bar = f"{self.n} it"
        text = f"{self.desc + ': ' if self.desc else ''}{bar} [{elapsed:.1f}s]"
        if self.postfix:
            text += " " + self.postfix
        self.file.write("\r" + text)
        self.file.flush()

    def close(self):
        if self.disable or self._last < 0:
            return
        if self._drawn != self.n:
            self._draw(time.perf_counter())
        self.file.write("\n")
        self.file.flush()
        self._last = -1.0  # closed


def _value(v):
    return v.data if isinstance(v, Variable) else v


def _fmt(v):
    v = _value(v)
    try:
        return str(v) if isinstance(v, int) else f"{float(v):.4g}"
    except (TypeError, ValueError):
        return str(v)


def progress(
    iterable: Iterable[Any] | None = None,
    total: int | None = None,
    desc: str = "",
    disable: bool = False,
) -> Any:
    """A progress bar over iterable: tqdm if it is installed, else SimpleBar (both have set_postfix)."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return SimpleBar(iterable, total=total, desc=desc, disable=disable)
    return tqdm(iterable, total=total, desc=desc, disable=disable)


def save_loss_curve(
    losses: Iterable[float | Variable],
    to_file: str | os.PathLike[str] = "loss.png",
    title: str = "training loss",
    xlabel: str = "epoch",
    **more: Iterable[float | Variable],
) -> str:
    """Plot losses (and any other named series in `more`) against epochs into a PNG with matplotlib."""
    try:
        from matplotlib.figure import Figure  # no pyplot: leaves the user's backend alone
    except ImportError:
        raise ImportError(
            "saving a loss curve needs matplotlib: pip install matplotlib "
            "(or pip install dezero_lite[plot])"
        ) from None
    series = {"loss": losses, **more}
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    for name, values in series.items():
        ys = [float(_value(v)) for v in values]
        ax.plot(range(1, len(ys) + 1), ys, label=name)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.grid(True, alpha=0.3)
    ax.legend()
    to_file = os.fspath(to_file)
    folder = os.path.dirname(os.path.abspath(to_file))
    os.makedirs(folder, exist_ok=True)
    fig.savefig(to_file, dpi=100)
    return to_file
