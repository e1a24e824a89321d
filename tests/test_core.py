"""Variable, Function, modes and the backward loop."""

import asyncio
import gc
import threading
import weakref

import numpy as np
import pytest

import dezero_lite as dz
import dezero_lite.functions as F
from dezero_lite import Variable


def test_first_example_from_the_readme():
    x = Variable(np.array(0.5))
    y = F.square(F.exp(F.square(x)))
    y.backward()
    assert x.grad.data == pytest.approx(3.297442541400256, abs=1e-15)
    assert repr(x.grad) == "variable(3.297442541400256)"


@pytest.mark.parametrize("bad", [1.0, [1, 2], "a", (1,)])
def test_variable_refuses_anything_but_an_ndarray(bad):
    with pytest.raises(TypeError, match=r"np\.array"):
        Variable(bad)


def test_variable_attributes_and_repr():
    x = Variable(np.array([[1.0, 2.0], [3.0, 4.0]]), name="x")
    assert (x.shape, x.ndim, x.size, x.dtype, len(x)) == ((2, 2), 2, 4, np.float64, 2)
    assert (x.name, x.grad, x.creator, x.generation) == ("x", None, None, 0)
    assert repr(x) == "variable([[1. 2.]\n          [3. 4.]])"
    assert repr(Variable(None)) == "variable(None)"
    assert np.array_equal(x.T.data, x.data.T)


def test_zero_dim_results_stay_ndarrays():
    x = Variable(np.array(2.0))
    for y in (F.exp(x), x * 3, x**2, F.sum(x), -x, 1 / x):
        assert type(y.data) is np.ndarray and y.ndim == 0
    (x * x).backward()
    assert type(x.grad.data) is np.ndarray


def test_operators_with_arrays_and_scalars_on_either_side():
    x = Variable(np.array([1.0, 2.0]))
    a = np.array([3.0, 4.0])
    cases = {
        "x + a": (x + a, [4, 6]),
        "a + x": (a + x, [4, 6]),
        "2 + x": (2 + x, [3, 4]),
        "x - 1": (x - 1, [0, 1]),
        "1 - x": (1 - x, [0, -1]),
        "a - x": (a - x, [2, 2]),
        "x * a": (x * a, [3, 8]),
        "a * x": (a * x, [3, 8]),
        "x / 2": (x / 2, [0.5, 1]),
        "2 / x": (2 / x, [2, 1]),
        "a / x": (a / x, [3, 2]),
        "x ** 2": (x**2, [1, 4]),
        "2 ** x": (2**x, [2, 4]),
        "-x": (-x, [-1, -2]),
        "x @ a": (x @ a, 11.0),
        "a @ x": (a @ x, 11.0),
        "x[1]": (x[1], 2.0),
        "x.sum()": (x.sum(), 3.0),
        "x.mean()": (x.mean(), 1.5),
        "x.max()": (x.max(), 2.0),
        "x.min()": (x.min(), 1.0),
        "x.dot(a)": (x.dot(a), 11.0),
        "x.matmul(a)": (x.matmul(a), 11.0),
        "np.float64(2) * x": (np.float64(2) * x, [2, 4]),
        "np.float32(1) - x": (np.float32(1) - x, [0, -1]),
        "a[0] / x": (a[0] / x, [3, 1.5]),
    }
    for expr, (y, want) in cases.items():
        assert isinstance(y, Variable), expr
        assert np.allclose(y.data, want), expr


def test_numpy_functions_and_lists_are_refused_not_turned_into_object_arrays():
    x = Variable(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="Variable"):
        np.exp(x)  # F.exp(x) is meant, or np.exp(x.data)
    for op in (F.mul, F.matmul):
        with pytest.raises(TypeError, match=r"list.*np\.array"):
            op(x, [1.0, 2.0])


def test_methods_reshape_and_transpose_take_tuples_or_varargs():
    x = Variable(np.arange(6.0).reshape(2, 3))
    assert x.reshape(3, 2).shape == x.reshape((3, 2)).shape == (3, 2)
    y = Variable(np.zeros((2, 3, 4)))
    assert y.transpose(2, 0, 1).shape == y.transpose((2, 0, 1)).shape == (4, 2, 3)
    assert y.transpose().shape == (4, 3, 2)


def test_power_of_a_variable_differentiates_in_both():
    x, c = Variable(np.array(2.0)), Variable(np.array(3.0))
    y = x**c
    y.backward()
    assert y.data == 8.0
    assert x.grad.data == pytest.approx(12.0)  # c x^(c-1)
    assert c.grad.data == pytest.approx(8.0 * np.log(2.0))  # x^c ln x


def test_scalars_take_the_dtype_of_the_array_they_meet():
    x = Variable(np.array([1.0, 2.0], dtype=np.float32))
    for y in (x + 1.5, 2.0 * x, x / 3, 1 - x, x**2.0, 2.0**x):
        assert y.dtype == np.float32
    y = F.sum(x * 0.1 + 1)
    y.backward()
    assert x.grad.dtype == np.float32
    assert (Variable(np.array([1, 2])) * 2.5).dtype == np.float64


def test_gradients_accumulate_until_cleargrad():
    x = Variable(np.array(3.0))
    y = x + x
    y.backward()
    assert x.grad.data == 2.0
    (x * x).backward()
    assert x.grad.data == 8.0
    x.cleargrad()
    (x * x).backward()
    assert x.grad.data == 6.0


def test_retain_grad_keeps_intermediate_gradients():
    x = Variable(np.array(2.0))
    a = F.square(x)
    y = F.exp(a)
    y.backward()
    assert a.grad is None and y.grad is None and x.grad is not None
    x.cleargrad()
    y = F.exp(F.square(x))
    a = y.creator.inputs[0]
    y.backward(retain_grad=True)
    assert a.grad.data == pytest.approx(np.exp(4.0))
    assert y.grad.data == 1.0


def test_a_second_backward_with_retained_gradients_does_not_double_count():
    x = Variable(np.array(2.0))
    a = x * 3
    y = a * a
    y.backward(retain_grad=True)
    y.backward()
    assert x.grad.data == pytest.approx(72.0)  # dy/dx = 18x = 36, twice


def test_backward_from_a_leaf_seeds_its_own_grad():
    x = Variable(np.array([1.0, 2.0]))
    x.backward()
    assert np.array_equal(x.grad.data, [1.0, 1.0])


def test_backward_of_a_non_scalar_seeds_ones():
    x = Variable(np.array([1.0, 2.0, 3.0]))
    (x * x).backward()
    assert np.array_equal(x.grad.data, [2.0, 4.0, 6.0])


def test_an_explicit_seed_is_used():
    x = Variable(np.array(3.0))
    y = x * x
    y.grad = Variable(np.array(10.0))
    y.backward()
    assert x.grad.data == 60.0


def test_diamond_graph_takes_functions_in_generation_order():
    x = Variable(np.array(2.0))
    a = F.square(x)
    y = F.square(a) + F.square(a)  # y = 2 x^4
    y.backward()
    assert x.grad.data == 64.0


def test_higher_order_derivatives():
    x = Variable(np.array(2.0))
    y = x**4 - 2 * x**2
    y.backward(create_graph=True)
    gx = x.grad
    assert gx.data == 24.0 and gx.creator is not None
    x.cleargrad()
    gx.backward(create_graph=True)
    assert x.grad.data == 44.0  # 12 x^2 - 4
    gx2 = x.grad
    x.cleargrad()
    gx2.backward()
    assert x.grad.data == 48.0  # 24 x


def test_newtons_method_converges_to_one_from_two():
    x = Variable(np.array(2.0))
    for _ in range(10):
        y = x**4 - 2 * x**2
        (gx,) = dz.grad(y, x, create_graph=True)
        (gx2,) = dz.grad(gx, x)
        x.data -= gx.data / gx2.data
    assert x.data == pytest.approx(1.0, abs=1e-12)


def test_grad_leaves_every_grad_alone():
    x = Variable(np.array(3.0))
    w = Variable(np.array(2.0))
    y = x * w
    gx, gw = dz.grad(y, [x, w])
    assert (gx.data, gw.data) == (2.0, 3.0)
    assert x.grad is None and w.grad is None and y.grad is None
    (gx,) = dz.grad(y, x, grad_outputs=np.array(5.0))
    assert gx.data == 10.0
    unused = Variable(np.array(1.0))
    assert dz.grad(y, [unused]) == (None,)


def test_grad_with_respect_to_an_intermediate_variable():
    x = Variable(np.array(3.0))
    a = x * 2
    y = a * a
    ga, gx = dz.grad(y, [a, x])
    assert (ga.data, gx.data) == (12.0, 24.0)


class Split(dz.Function):
    """Two outputs: the halves of a vector."""

    def forward(self, x):
        return x[:2].copy(), x[2:].copy()

    def backward(self, g0, g1):
        return Variable(np.concatenate([g0.data, g1.data]))


def test_multi_output_function_with_a_freed_output_still_backpropagates():
    x = Variable(np.array([1.0, 2.0, 3.0, 4.0]))
    a, b = Split()(x)
    del b  # freed: its gradient counts as zero
    y = F.sum(a * a)
    y.backward()
    assert np.array_equal(x.grad.data, [2.0, 4.0, 0.0, 0.0])


def test_outputs_are_weak_references_so_graphs_free_without_gc():
    gc.disable()
    try:
        x = Variable(np.array(1.0))
        y = F.exp(F.square(x))
        f = weakref.ref(y.creator)
        g = weakref.ref(y.creator.inputs[0].creator)
        y.backward()
        del y
        assert f() is None and g() is None
    finally:
        gc.enable()


def test_a_200000_deep_chain_backpropagates_and_frees_without_recursion():
    x = Variable(np.array(0.5))
    y = x
    for _ in range(200_000):
        y = F.sin(y)
    y.backward()
    assert 0 < x.grad.data < 1
    first = weakref.ref(x.grad)
    last = weakref.ref(y.creator)
    del y
    assert last() is None and first() is not None


def test_wide_fan_in_accumulates_every_branch():
    x = Variable(np.array(0.5))
    terms = [x * float(i) for i in range(1, 2001)]
    while len(terms) > 1:
        terms = [
            sum(terms[i : i + 2]) if i + 1 < len(terms) else terms[i]
            for i in range(0, len(terms), 2)
        ]
    terms[0].backward()
    assert x.grad.data == pytest.approx(2000 * 2001 / 2)


def test_no_grad_builds_no_graph():
    x = Variable(np.array(2.0))
    with dz.no_grad():
        y = F.square(x)
        assert not dz.Config.enable_backprop
    assert y.creator is None and dz.Config.enable_backprop
    with dz.test_mode():
        assert dz.Config.train is False
    assert dz.Config.train is True


class Spy(dz.Function):
    """sin, whose backward notes what it was given and what a library call gave it."""

    seen = []

    def forward(self, x):
        return np.sin(x)

    def backward(self, gy):
        (x,) = self.inputs
        cos = F.cos(x)
        Spy.seen.append((type(gy), type(cos), dz.Config.enable_backprop))
        return gy * cos


def test_backward_without_create_graph_runs_on_arrays():
    x = Variable(np.array([0.5, 1.0]))
    Spy.seen.clear()
    Spy()(x).backward()
    Spy()(x).backward(create_graph=True)
    assert Spy.seen == [(np.ndarray, np.ndarray, False), (Variable, Variable, True)]
    assert np.allclose(x.grad.data, 2 * np.cos([0.5, 1.0]))
    assert F.sin(x).creator is not None  # the mode ends with the pass


def test_a_backward_without_graph_in_one_thread_leaves_another_building_graphs():
    inside, done, results = threading.Event(), threading.Event(), {}

    class Wait(dz.Function):
        def forward(self, x):
            return x.copy()

        def backward(self, gy):
            inside.set()
            done.wait()
            return gy

    def worker():
        inside.wait()
        y = F.square(Variable(np.array(2.0)))
        results["y"] = (type(y), y.creator is not None)
        done.set()

    t = threading.Thread(target=worker)
    t.start()
    Wait()(Variable(np.array(1.0))).backward()
    t.join()
    assert results["y"] == (Variable, True)


def test_a_backward_that_fails_leaves_the_modes_as_they_were():
    class Fails(dz.Function):
        def forward(self, x):
            return x.copy()

        def backward(self, gy):
            raise RuntimeError("boom")

    x = Variable(np.array(1.0))
    with pytest.raises(RuntimeError, match="boom"):
        Fails()(x).backward()
    y = F.sin(x)
    assert isinstance(y, Variable) and y.creator is not None and dz.Config.enable_backprop


def test_a_backward_may_return_numbers_arrays_or_variables():
    class Twice(dz.Function):
        def __init__(self, kind):
            self.kind = kind

        def forward(self, x):
            return 2 * x

        def backward(self, gy):
            g = np.asarray(2 * (gy.data if isinstance(gy, Variable) else gy))
            return {
                "number": float(g),
                "scalar": np.float64(g),
                "array": g,
                "variable": Variable(g),
            }[self.kind]

    for kind in ("number", "scalar", "array", "variable"):
        for create_graph in (False, True):
            x = Variable(np.array(1.5))
            Twice(kind)(x).backward(create_graph=create_graph)
            assert isinstance(x.grad.data, np.ndarray) and x.grad.data == 2.0, kind


def test_no_grad_in_one_thread_does_not_switch_it_off_in_another():
    inside, results = threading.Event(), {}

    def worker():
        inside.wait()
        results["creator"] = F.square(Variable(np.array(2.0))).creator
        results["flag"] = dz.Config.enable_backprop

    t = threading.Thread(target=worker)
    t.start()
    with dz.no_grad():
        inside.set()
        t.join()
        assert F.square(Variable(np.array(2.0))).creator is None
    assert results["creator"] is not None and results["flag"] is True


def test_no_grad_in_one_async_task_does_not_leak_into_another():
    async def quiet(ev_in, ev_out):
        with dz.no_grad():
            ev_in.set()
            await ev_out.wait()
            return dz.Config.enable_backprop

    async def loud(ev_in, ev_out):
        await ev_in.wait()
        flag = dz.Config.enable_backprop
        ev_out.set()
        return flag

    async def main():
        a, b = asyncio.Event(), asyncio.Event()
        return await asyncio.gather(quiet(a, b), loud(a, b))

    assert asyncio.run(main()) == [False, True]


def test_unknown_config_name_is_named():
    with (
        pytest.raises(AttributeError, match="enable_backprob"),
        dz.using_config("enable_backprob", False),
    ):
        pass
    with pytest.raises(AttributeError, match="trian"):
        dz.Config.trian  # noqa: B018 (reading it is the test)


def test_unchain_backward_cuts_the_graph_behind():
    x = Variable(np.array(1.0))
    a = F.exp(x)
    y = F.square(a) + a
    y.unchain_backward()
    assert a.creator is None and y.creator is not None


def test_detach_shares_data_but_not_the_graph():
    x = Variable(np.array([1.0, 2.0]))
    y = (x * 2).detach()
    assert y.creator is None and np.array_equal(y.data, [2.0, 4.0])


def test_to_gpu_without_cupy_says_so():
    try:
        import cupy  # noqa: F401

        pytest.skip("CuPy is installed here")
    except ImportError:
        pass
    assert dz.cuda.gpu_enable is False
    with pytest.raises(RuntimeError, match="CuPy is not installed"):
        Variable(np.array(1.0)).to_gpu()
    Variable(np.array(1.0)).to_cpu()


def test_a_backward_that_returns_the_wrong_shape_is_named():
    class Bad(dz.Function):
        def forward(self, x):
            return x.sum()

        def backward(self, gy):
            return gy

    with pytest.raises(ValueError, match=r"Bad\.backward.*shape \(\).*shape \(3,\)"):
        Bad()(Variable(np.ones(3))).backward()


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: F.matmul(np.ones((2, 3)), np.ones((4, 5))), r"\(2, 3\) and \(4, 5\)"),
        (lambda: F.reshape(np.ones((2, 3)), (4,)), r"shape \(2, 3\).*\(4,\)"),
        (lambda: F.sum_to(np.ones((2, 3)), (4,)), r"\(2, 3\).*\(4,\)"),
        (lambda: F.broadcast_to(np.ones(3), (2, 4)), r"\(3,\) to \(2, 4\)"),
        (lambda: Variable(np.ones(3))[5], r"index 5 .*shape \(3,\)"),
        (lambda: F.transpose(np.ones((2, 3)), (0, 0)), r"\(0, 0\)"),
        (lambda: F.softmax_cross_entropy(np.ones((2, 3)), np.array([0, 3])), r"0\.\.2"),
        (lambda: F.add(Variable(np.ones(2)), [1, 2]), r"list"),
    ],
)
def test_bad_input_gets_an_error_that_names_the_culprit(call, match):
    with pytest.raises((ValueError, IndexError, TypeError), match=match):
        call()


def test_parameter_is_a_variable():
    p = dz.Parameter(np.array(1.0))
    assert isinstance(p, Variable)
    (p * 3).backward()
    assert p.grad.data == 3.0


# The figures of the from-scratch framework steps.


def test_framework_steps_backprop_figures():
    for build, want in [
        (lambda x: F.square(F.exp(F.square(x))), 3.297442541400256),
        (lambda x: F.square(F.exp(x)), 5.436563656918091),
        (lambda x: F.square(F.exp(F.exp(F.square(x)))), 33.488363287556496),
    ]:
        x = Variable(np.array(0.5))
        build(x).backward()
        assert x.grad.data == pytest.approx(want, rel=1e-14)


def test_framework_steps_numerical_derivative_of_square():
    from dezero_lite.utils import numerical_grad

    assert numerical_grad(F.square, np.array(2.0)) == pytest.approx(4.000000000004, abs=1e-12)


def test_framework_steps_creator_links_lead_back():
    x = Variable(np.array(0.5))
    a = F.square(x)
    b = F.exp(a)
    y = F.square(b)
    assert isinstance(y.creator, F.Square) and y.creator.inputs[0] is b
    assert b.creator.inputs[0] is a and a.creator.inputs[0] is x and x.creator is None
    assert [v.generation for v in (x, a, b, y)] == [0, 1, 2, 3]


def test_importing_the_package_costs_numpy_and_nothing_else():
    import subprocess
    import sys

    code = (
        "import sys; import dezero_lite; "
        "print(sorted({m.split('.')[0] for m in sys.modules if not m.startswith('_')}"
        " - set(sys.stdlib_module_names)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # (cython_runtime is a module that NumPy's own compiled parts register)
    assert set(eval(out.stdout)) - {"cython_runtime"} == {"dezero_lite", "numpy"}


def test_an_ndarray_seed_works_and_a_seed_of_the_wrong_shape_is_named():
    x = Variable(np.array([1.0, 2.0]))
    y = x * x
    y.grad = np.array([1.0, 0.0])  # as the book does before seeds become Variables
    y.backward()
    assert np.array_equal(x.grad.data, [2.0, 0.0])
    y = x * x
    y.grad = Variable(np.ones(3))
    with pytest.raises(ValueError, match=r"shape \(3,\).*shape \(2,\)"):
        y.backward()
    with pytest.raises(ValueError, match=r"shape \(2, 2\).*shape \(2,\)"):
        dz.grad(x * x, x, grad_outputs=np.ones((2, 2)))


# Robustness of the core: changed arrays, reused Functions, seeds, grad(), threads, modes.


def test_assigning_data_between_forward_and_backward_is_detected():
    x = Variable(np.array(1.0), name="x")
    y = x * x
    x.data = np.array(10.0)
    with pytest.raises(RuntimeError, match=r"'x'.*input 0 of Mul.*forward pass"):
        y.backward()
    x = Variable(np.array([1.0, 2.0]))
    y = F.exp(x)
    y.data *= 2  # an output that Exp's backward reads
    with pytest.raises(RuntimeError, match=r"shape \(2,\).*output 0 of Exp"):
        y.backward()


def test_an_optimizer_step_between_forward_and_a_second_backward_is_detected():
    from dezero_lite.models import MLP
    from dezero_lite.optimizers import SGD

    model = MLP((3, 1))
    opt = SGD(0.1).setup(model)
    loss = F.sum(model(np.ones((2, 4), np.float32)))
    loss.backward()
    opt.update()  # param.data -= lr * grad
    model.cleargrads()
    with pytest.raises(RuntimeError, match="assigned after the forward pass"):
        loss.backward()
    loss = F.sum(model(np.ones((2, 4), np.float32)))  # a fresh forward pass is fine
    loss.backward()


def test_writes_before_the_forward_pass_or_to_other_variables_are_fine():
    x, w = Variable(np.array(3.0)), Variable(np.array(2.0))
    x.data -= 1.0
    y = x * x
    w.data += 1.0  # not used by y's graph
    y.backward()
    assert x.grad.data == 4.0
    for _ in range(3):  # Newton's method writes x after each pair of passes
        z = x**2
        (gx,) = dz.grad(z, x)
        x.data -= gx.data / 4


def test_an_index_array_changed_after_the_forward_pass_does_not_change_the_gradient():
    x = Variable(np.arange(4.0))
    idx = np.array([0, 0, 1])
    y = F.sum(x[idx])
    idx[0] = 3
    y.backward()
    assert np.array_equal(x.grad.data, [2.0, 1.0, 0.0, 0.0])


def test_element_writes_are_detected_inside_detect_changes():
    x = Variable(np.array([1.0, np.nan]), name="x")
    with dz.detect_changes():
        y = x * x
        z = F.exp(x)
    y.backward()  # unchanged arrays (NaN included) pass the check
    x.data[0] = 10.0
    with pytest.raises(RuntimeError, match=r"'x'.*input 0 of Mul.*changed in place"):
        y.backward()
    x.data[0] = 1.0  # the same values again: fine
    y.backward()
    z.data[...] = 0.0  # an output that Exp's backward reads
    with pytest.raises(RuntimeError, match=r"output 0 of Exp.*changed in place"):
        z.backward()
    x.data = np.array([1.0, 2.0])  # assignment is still named as such
    with pytest.raises(RuntimeError, match="assigned"):
        y.backward()


def test_detect_changes_nests_works_as_a_decorator_and_ends_with_its_block():
    x = Variable(np.array(2.0))

    @dz.detect_changes()
    def square(v):
        with dz.detect_changes():
            pass  # an inner block ending leaves the outer one on
        return v * v

    y = square(x)
    x.data[...] = 3.0
    with pytest.raises(RuntimeError, match="changed in place"):
        y.backward()
    y = x * x  # outside the block: no copies, the write is not seen
    assert y.creator.copies is None
    x.data[...] = 4.0
    y.backward()
    assert x.grad.data == 2 * 4.0


def test_numpy_errors_from_a_forward_pass_start_with_the_op_name():
    flags = Variable(np.array([True, False]))
    with pytest.raises(TypeError, match=r"^Neg: .*boolean negative") as info:
        -flags  # noqa: B018 (the negation is the test)
    assert info.value.__suppress_context__  # NumPy's inner traceback is not shown
    with pytest.raises(ValueError, match=r"^Add: .*\(2,\) \(3,\)"):
        Variable(np.ones(2)) + Variable(np.ones(3))
    with pytest.raises(ValueError, match=r"^matmul: cannot multiply"):  # ours are left alone
        F.matmul(Variable(np.ones((2, 3))), Variable(np.ones((2, 3))))


def test_a_function_object_called_twice_is_refused():
    f = F.Exp()
    x1, x2 = Variable(np.array(1.0)), Variable(np.array(2.0))
    f(x1)
    with pytest.raises(RuntimeError, match=r"Exp object was called before.*Exp\(\)\(x\)"):
        f(x2)
    g = F.Exp()
    with dz.no_grad():  # no graph recorded: nothing to lose
        g(x1), g(x2)


def test_a_gradient_left_by_an_earlier_backward_is_not_a_seed():
    x = Variable(np.array(1.0))
    y = x * 2
    z = y * 3
    z.backward(retain_grad=True)
    assert (y.grad.data, x.grad.data) == (3.0, 6.0)
    y.backward()  # seeds ones, not the 3 left in y.grad
    assert x.grad.data == 8.0


def test_a_gradient_set_on_purpose_is_the_seed_and_is_used_up():
    x = Variable(np.array(1.0))
    y = x * 2
    y.grad = Variable(np.array(5.0))
    y.backward()
    assert x.grad.data == 10.0 and y.grad is None
    y.grad = np.array(1.0)  # an ndarray works too, as in the book
    y.backward()
    assert x.grad.data == 12.0


def test_grad_outputs_must_match_the_outputs_in_number():
    x = Variable(np.array(2.0))
    a, b = x * 2, x * 3
    with pytest.raises(ValueError, match="1 grad_outputs for 2 outputs"):
        dz.grad([a, b], x, grad_outputs=[None])
    with pytest.raises(ValueError, match="3 grad_outputs for 2 outputs"):
        dz.grad([a, b], x, grad_outputs=[None, None, None])
    (gx,) = dz.grad([a, b], x, grad_outputs=[None, np.array(2.0)])
    assert gx.data == 8.0


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # np.matrix's own warning
@pytest.mark.parametrize(
    "make",
    [
        lambda: np.matrix([[1.0, 2.0], [3.0, 4.0]]),
        lambda: np.ma.masked_array([1.0, 2.0], mask=[0, 1]),
    ],
)
def test_ndarray_subclasses_are_refused_everywhere(make):
    with pytest.raises(TypeError, match=r"subclass of ndarray.*np\.asarray"):
        Variable(make())
    x = Variable(np.ones((2, 2)) if make().ndim == 2 else np.ones(2))
    with pytest.raises(TypeError, match=r"subclass of ndarray"):
        x * make()
    with pytest.raises(TypeError, match=r"subclass of ndarray"):
        x.data = make()
    y = Variable(np.asarray(make()))
    assert type((y * y).data) is np.ndarray


def test_threads_accumulating_into_one_leaf_lose_no_update():
    x = Variable(np.array(1.0))
    n_threads, n_each = 4, 1000
    start = threading.Barrier(n_threads)

    def work():
        start.wait()
        for _ in range(n_each):
            (x * x).backward()

    import sys

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        threads = [threading.Thread(target=work) for _ in range(n_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert x.grad.data == 2.0 * n_threads * n_each


def test_one_no_grad_object_can_be_entered_again_and_shared_by_threads():
    ng = dz.no_grad()
    with ng:
        with ng:
            assert not dz.Config.enable_backprop
        assert not dz.Config.enable_backprop
    assert dz.Config.enable_backprop
    errors, inside = [], threading.Barrier(3)

    def worker():
        try:
            with ng:
                inside.wait(timeout=10)
                assert not dz.Config.enable_backprop
                inside.wait(timeout=10)
            assert dz.Config.enable_backprop
        except Exception as e:  # collected: pytest does not see a thread's exceptions
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and dz.Config.enable_backprop


def test_no_grad_and_using_config_work_as_decorators():
    @dz.no_grad
    def bare(x):
        return F.square(x), dz.Config.enable_backprop

    @dz.no_grad()
    def called(x):
        return F.square(x)

    @dz.test_mode()
    def testing():
        return dz.Config.train

    x = Variable(np.array(2.0))
    y, flag = bare(x)
    assert y.creator is None and flag is False and called(x).creator is None
    assert testing() is False and dz.Config.train is True
    assert dz.Config.enable_backprop and F.square(x).creator is not None
    assert bare.__name__ == "bare"


def test_assigned_data_must_be_an_array_and_numpy_scalars_become_0_dim_arrays():
    x = Variable(np.array(2.0))
    x.data = x.data - np.array(0.5)  # NumPy gives a scalar here
    assert type(x.data) is np.ndarray and x.data.ndim == 0 and x.data == 1.5
    with pytest.raises(TypeError, match=r"float.*np\.array"):
        x.data = 1.0
