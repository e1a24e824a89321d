import gc
import math

import numpy as np
import pytest

from dezero_lite import Parameter, Variable
from dezero_lite import layers as L
from dezero_lite import optimizers as O


class Two(L.Layer):
    def __init__(self, a, b):
        super().__init__()
        self.a = Parameter(np.array(a, dtype=np.float64))
        self.b = Parameter(np.array(b, dtype=np.float64))


class Net(L.Layer):
    def __init__(self):
        super().__init__()
        self.l0 = Two([1.0], [1.0])
        self.l1 = Two([1.0], [1.0])


def with_grads(layer, *grads):
    for p, g in zip(layer.params(), grads, strict=True):
        p.grad = None if g is None else Variable(np.array(g, dtype=np.float64))
    return layer


def test_setup_returns_the_optimizer_and_checks_the_target():
    model = Two([1.0], [2.0])
    opt = O.SGD()
    assert opt.setup(model) is opt and opt.target is model
    with pytest.raises(TypeError, match="params"):
        O.SGD().setup(object())
    with pytest.raises(RuntimeError, match="setup"):
        O.SGD().update()


def test_sgd_step_and_params_without_grad_are_skipped():
    model = with_grads(Two([1.0, 2.0], [5.0]), [10.0, -20.0], None)
    O.SGD(lr=0.1).setup(model).update()
    assert np.allclose(model.a.data, [0.0, 4.0])
    assert model.b.data.tolist() == [5.0]


def test_momentum_sgd_matches_the_formula_over_steps():
    model = Two([1.0], [0.0])
    opt = O.MomentumSGD(lr=0.1, momentum=0.9).setup(model)
    w, v = 1.0, 0.0
    for g in (1.0, 2.0, -1.0):
        with_grads(model, [g], None)
        opt.update()
        v = 0.9 * v - 0.1 * g
        w += v
    assert math.isclose(model.a.data[0], w)


def test_adagrad_and_adadelta_match_their_formulas():
    grads = (0.5, -1.0, 2.0)
    model = Two([1.0], [0.0])
    opt = O.AdaGrad(lr=0.1).setup(model)
    w, h = 1.0, 0.0
    for g in grads:
        with_grads(model, [g], None)
        opt.update()
        h += g * g
        w -= 0.1 * g / (math.sqrt(h) + 1e-8)
    assert math.isclose(model.a.data[0], w)

    model = Two([1.0], [0.0])
    opt = O.AdaDelta(rho=0.9, eps=1e-6).setup(model)
    w, msg, msdx = 1.0, 0.0, 0.0
    for g in grads:
        with_grads(model, [g], None)
        opt.update()
        msg = 0.9 * msg + 0.1 * g * g
        dx = math.sqrt((msdx + 1e-6) / (msg + 1e-6)) * g
        msdx = 0.9 * msdx + 0.1 * dx * dx
        w -= dx
    assert math.isclose(model.a.data[0], w)


def test_adam_matches_the_paper_and_counts_steps_per_parameter():
    model = Two([1.0], [1.0])
    opt = O.Adam(alpha=0.1).setup(model)
    ref = {"a": [1.0, 0.0, 0.0, 0], "b": [1.0, 0.0, 0.0, 0]}

    def step(ref, g):
        ref[3] += 1
        ref[1] = 0.9 * ref[1] + 0.1 * g
        ref[2] = 0.999 * ref[2] + 0.001 * g * g
        mhat, vhat = ref[1] / (1 - 0.9 ** ref[3]), ref[2] / (1 - 0.999 ** ref[3])
        ref[0] -= 0.1 * mhat / (math.sqrt(vhat) + 1e-8)

    # b gets no gradient in the first two steps: its first real step must be bias-corrected as step 1
    for ga, gb in ((1.0, None), (-0.5, None), (2.0, 3.0), (0.1, -1.0)):
        with_grads(model, [ga], None if gb is None else [gb])
        opt.update()
        step(ref["a"], ga)
        if gb is not None:
            step(ref["b"], gb)
    assert math.isclose(model.a.data[0], ref["a"][0], rel_tol=1e-6)
    assert math.isclose(model.b.data[0], ref["b"][0], rel_tol=1e-6)
    assert opt.t == 4 and opt.lr > 0


def test_state_belongs_to_each_parameter_and_a_replaced_one_starts_afresh():
    net = Net()
    opt = O.MomentumSGD(lr=0.1).setup(net)
    for p in net.params():
        p.grad = Variable(np.array([1.0]))
    opt.update()
    assert list(opt.state.keys()) == list(net.params())
    # replace layers (same shape, and another shape): the new parameters start with fresh
    # state, whatever ids Python hands out again
    net.l1 = Two([1.0], [1.0])
    gc.collect()
    net.l0.b = Parameter(np.array([1.0, 1.0]))
    for p in net.params():
        p.grad = Variable(np.ones_like(p.data))
    opt.update()
    assert np.allclose(net.l1.a.data, [0.9]) and np.allclose(net.l0.b.data, [0.9, 0.9])
    assert np.allclose(net.l0.a.data, 1.0 - 0.1 - (0.09 + 0.1))  # kept its momentum


def test_state_of_a_float32_parameter_stays_float32():
    model = Two([1.0], [1.0])
    model.a.data = model.a.data.astype(np.float32)
    model.a.grad = Variable(np.array([0.5]))  # a float64 gradient meets float32 weights
    opt = O.Adam().setup(model)
    opt.update()
    assert model.a.data.dtype == np.float32
    assert opt.state[model.a]["m"].dtype == np.float32


def test_weight_decay_adds_rate_times_weight():
    model = with_grads(Two([2.0], [-4.0]), [0.0], [1.0])
    opt = O.SGD(lr=1.0).setup(model)
    opt.add_hook(O.WeightDecay(0.5))
    opt.update()
    assert model.a.data.tolist() == [1.0] and model.b.data.tolist() == [-3.0]


def test_hooks_do_not_leak_through_a_shared_gradient_object():
    model = Two([2.0], [2.0])
    shared = Variable(np.array([1.0]))
    model.a.grad = model.b.grad = shared  # add's backward hands one gradient to both inputs
    opt = O.SGD(lr=1.0).setup(model)
    opt.add_hook(O.WeightDecay(1.0))
    opt.add_hook(O.ClipGrad(100.0))
    opt.update()
    assert model.a.data.tolist() == [-1.0] and model.b.data.tolist() == [-1.0]
    assert shared.data.tolist() == [1.0]


def test_clip_grad_scales_the_joint_norm():
    model = with_grads(Two([0.0, 0.0], [0.0]), [3.0, 0.0], [4.0])
    opt = O.SGD(lr=1.0).setup(model)
    opt.add_hook(O.ClipGrad(1.0))
    opt.update()
    assert np.allclose(model.a.data, [-0.6, 0.0], atol=1e-6)
    assert np.allclose(model.b.data, [-0.8], atol=1e-6)
    model = with_grads(Two([0.0], [0.0]), [0.3], [0.4])  # under the limit: untouched
    opt.setup(model).update()
    assert np.allclose(model.a.data, [-0.3]) and np.allclose(model.b.data, [-0.4])


def test_freeze_param_really_freezes_layers_and_parameters():
    net = Net()
    for hook in (O.FreezeParam(net.l0), O.FreezeParam(net.l1.b)):
        for p in net.params():
            p.data = np.array([1.0])
            p.grad = Variable(np.array([1.0]))
        opt = O.Adam(alpha=0.1).setup(net)
        opt.add_hook(O.WeightDecay(0.1))
        opt.add_hook(hook)
        opt.update()
        frozen = set(map(id, hook.freeze_params))
        for p in net.params():
            assert (p.data[0] == 1.0) == (id(p) in frozen)


def test_hooks_after_freeze_param_skip_the_frozen_parameters():
    model = with_grads(Two([1.0], [1.0]), [1.0], [1.0])
    opt = O.SGD(lr=0.1).setup(model)
    for hook in (O.FreezeParam(model.a), O.WeightDecay(0.5), O.ClipGrad(1.0)):
        opt.add_hook(hook)
    opt.update()
    assert model.a.data[0] == 1.0 and model.b.data[0] < 1.0


def test_tied_parameters_are_updated_and_saved_once(tmp_path):
    class Tied(L.Layer):
        def __init__(self):
            super().__init__()
            self.enc = Two([1.0], [1.0])
            self.dec = self.enc  # the same weights under two names

    net = Tied()
    assert [name for name, _ in net.named_params()] == ["enc/a", "enc/b"]
    with_grads(net, [1.0], [1.0])
    O.SGD(lr=0.1).setup(net).update()
    assert net.enc.a.data[0] == 0.9
    net.save_weights(tmp_path / "w.npz")
    assert sorted(np.load(tmp_path / "w.npz").files) == ["enc/a", "enc/b"]
