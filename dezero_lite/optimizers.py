"""Optimizers that update a model's parameters from their gradients, and hooks that edit gradients first."""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from dezero_lite.core import Parameter, Variable

if TYPE_CHECKING:
    from typing_extensions import Self

    from dezero_lite.layers import Layer


def _check(owner, name, value, low, high, low_open=False, high_open=False):
    """Refuse a hyper-parameter that is not a finite number in its range."""
    bad = isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating))
    if not bad:
        value = float(value)
        bad = (
            not math.isfinite(value)
            or value < low
            or value > high
            or (low_open and value == low)
            or (high_open and value == high)
        )
    if bad:
        closing = ")" if high_open or high == math.inf else "]"
        interval = ("(" if low_open else "[") + f"{low:g}, {high:g}" + closing
        raise ValueError(f"{owner}: {name} must be a finite number in {interval}, got {value!r}")
    return value


POSITIVE = (0, math.inf, True, False)  # (low, high, low excluded, high excluded)
FRACTION = (0, 1, False, True)  # [0, 1)


class Optimizer:
    """Base class: `setup(target)`, then `update()` after each backward pass.

    `target` is anything with `params()` (a Layer or Model). Per-parameter state
    (momentum, running averages) is held in a WeakKeyDictionary keyed by the
    parameter itself: a replaced parameter starts afresh and its old state goes
    with it. Parameters whose grad is None are skipped.
    """

    # hyper-parameter name -> allowed range, checked whenever it is set
    ranges: dict[str, tuple[float, float, bool, bool]] = {}

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.ranges:
            value = _check(type(self).__name__, name, value, *self.ranges[name])
        object.__setattr__(self, name, value)

    def __init__(self) -> None:
        self.target: Layer | None = None
        self.hooks: list[Callable[[list[Parameter]], None]] = []
        self.state: weakref.WeakKeyDictionary[Parameter, dict[str, Any]] = (
            weakref.WeakKeyDictionary()
        )

    def setup(self, target: Layer) -> Self:
        if not hasattr(target, "params"):
            raise TypeError(
                f"an optimizer needs a target with params() (a Layer or Model), "
                f"got {type(target).__name__}"
            )
        if next(iter(target.params()), None) is None:
            raise ValueError(
                f"{type(self).__name__}: {type(target).__name__} has no parameters to "
                f"train (layers must be attributes, or kept in a list, tuple or dict "
                f"attribute)"
            )
        self.target = target
        self.state = weakref.WeakKeyDictionary()
        return self

    def update(self) -> None:
        if self.target is None:
            raise RuntimeError("call optimizer.setup(model) before update()")
        params = [p for p in self.target.params() if p.grad is not None]
        for p in params:
            if not isinstance(p.grad, Variable):
                if not isinstance(p.grad, np.ndarray) or p.grad.shape != p.shape:
                    raise TypeError(
                        f"{type(self).__name__}: a gradient must be a Variable or an "
                        f"ndarray of the parameter's shape {p.shape}, got "
                        f"{type(p.grad).__name__} {getattr(p.grad, 'shape', '')}"
                    )
                p.grad = Variable(p.grad)  # an array set by hand is taken as the gradient
        for f in self.hooks:  # a hook may drop grads (FreezeParam), so look again each time
            params = [p for p in params if p.grad is not None]
            f(params)
        for p in params:
            if p.grad is not None:
                self.update_one(p)

    def update_one(self, param: Parameter) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define update_one(param)")

    def add_hook(self, f: Callable[[list[Parameter]], None]) -> None:
        self.hooks.append(f)

    def param_state(self, param: Parameter, *names: str) -> dict[str, Any]:
        """The state dict of `param`, holding arrays `names` (zeros at first); fresh if the shape changed."""
        st = self.state.get(param)
        if st is None or any(st[n].shape != param.data.shape for n in names):
            st = self.state[param] = {n: np.zeros_like(param.data) for n in names}
        return st


class SGD(Optimizer):
    """W <- W - lr * dW."""

    ranges = {"lr": POSITIVE}

    def __init__(self, lr: float = 0.01) -> None:
        super().__init__()
        self.lr = lr

    def update_one(self, param):
        param.data -= self.lr * param.grad.data


class MomentumSGD(Optimizer):
    """v <- momentum * v - lr * dW; W <- W + v."""

    ranges = {"lr": POSITIVE, "momentum": FRACTION}

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        super().__init__()
        self.lr = lr
        self.momentum = momentum

    def update_one(self, param):
        v = self.param_state(param, "v")["v"]
        v *= self.momentum
        v -= self.lr * param.grad.data
        param.data += v


class AdaGrad(Optimizer):
    """h <- h + dW**2; W <- W - lr * dW / (sqrt(h) + eps)."""

    ranges = {"lr": POSITIVE, "eps": POSITIVE}

    def __init__(self, lr: float = 0.001, eps: float = 1e-8) -> None:
        super().__init__()
        self.lr = lr
        self.eps = eps

    def update_one(self, param):
        h = self.param_state(param, "h")["h"]
        grad = param.grad.data
        h += grad * grad
        param.data -= self.lr * grad / (np.sqrt(h) + self.eps)


class AdaDelta(Optimizer):
    """Zeiler's AdaDelta: step = sqrt(E[dx**2] + eps) / sqrt(E[g**2] + eps) * g, no learning rate."""

    ranges = {"rho": FRACTION, "eps": POSITIVE}

    def __init__(self, rho: float = 0.95, eps: float = 1e-6) -> None:
        super().__init__()
        self.rho = rho
        self.eps = eps

    def update_one(self, param):
        st = self.param_state(param, "msg", "msdx")
        msg, msdx = st["msg"], st["msdx"]
        rho, eps, grad = self.rho, self.eps, param.grad.data
        msg *= rho
        msg += (1 - rho) * grad * grad
        dx = np.sqrt((msdx + eps) / (msg + eps)) * grad
        msdx *= rho
        msdx += (1 - rho) * dx * dx
        param.data -= dx


class Adam(Optimizer):
    """Adam with bias correction; each parameter counts its own steps."""

    # beta1 = 1 would divide by zero in the bias correction
    ranges = {"alpha": POSITIVE, "beta1": FRACTION, "beta2": FRACTION, "eps": POSITIVE}

    def __init__(
        self, alpha: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
    ) -> None:
        super().__init__()
        self.t = 0
        self.alpha = alpha
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps

    def update(self) -> None:
        self.t += 1
        super().update()

    @property
    def lr(self) -> float:
        """The bias-corrected step size after `t` updates (as DeZero's `Adam.lr`)."""
        return self._lr(max(self.t, 1))

    def _lr(self, t):
        fix1 = 1.0 - math.pow(self.beta1, t)
        fix2 = 1.0 - math.pow(self.beta2, t)
        return self.alpha * math.sqrt(fix2) / fix1

    def update_one(self, param):
        st = self.param_state(param, "m", "v")
        m, v = st["m"], st["v"]
        st["t"] = st.get("t", 0) + 1
        grad = param.grad.data
        m += (1 - self.beta1) * (grad - m)
        v += (1 - self.beta2) * (grad * grad - v)
        param.data -= self._lr(st["t"]) * m / (np.sqrt(v) + self.eps)


class WeightDecay:
    """Hook: adds rate * W to each gradient (L2 regularization of 0.5 * rate * ||W||**2)."""

    def __init__(self, rate: float) -> None:
        self.rate = _check("WeightDecay", "rate", rate, 0, math.inf)

    def __call__(self, params):
        for p in params:  # new grads, not +=: two parameters may share one gradient object
            p.grad = Variable(p.grad.data + self.rate * p.data)


class ClipGrad:
    """Hook: scales all gradients down together so that their joint L2 norm is at most max_norm."""

    def __init__(self, max_norm: float) -> None:
        self.max_norm = _check("ClipGrad", "max_norm", max_norm, *POSITIVE)

    def __call__(self, params):
        total = math.sqrt(sum(float((p.grad.data**2).sum()) for p in params))
        rate = self.max_norm / (total + 1e-6)
        if rate < 1:
            for p in params:
                p.grad = Variable(p.grad.data * rate)


class FreezeParam:
    """Hook: the given layers or parameters get no update (their grads are dropped before the step)."""

    def __init__(self, *layers: Layer | Parameter) -> None:
        self.freeze_params: list[Parameter] = []
        for obj in layers:
            if hasattr(obj, "params"):
                self.freeze_params.extend(obj.params())
            else:
                self.freeze_params.append(obj)

    def __call__(self, params):
        for p in self.freeze_params:
            p.grad = None
