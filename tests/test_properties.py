"""Properties over generated shapes (hypothesis)."""

import numpy as np
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import dezero_lite as dz
import dezero_lite.functions as F

BINARY = [F.add, F.sub, F.mul, F.div]


@st.composite
def broadcastable_pair(draw):
    """Two shapes that broadcast together, and that common shape."""
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4))
    return shapes.input_shapes, shapes.result_shape


@settings(max_examples=60, deadline=None)
@given(broadcastable_pair(), st.sampled_from(BINARY))
def test_gradient_has_the_shape_of_its_input_after_broadcasting(shapes, op):
    (s0, s1), _ = shapes
    rng = np.random.default_rng(0)
    x0 = dz.Variable(rng.uniform(1, 2, s0))
    x1 = dz.Variable(rng.uniform(1, 2, s1))
    op(x0, x1).backward()
    assert x0.grad.shape == s0 and x1.grad.shape == s1


@settings(max_examples=60, deadline=None)
@given(broadcastable_pair())
def test_sum_to_is_the_adjoint_of_broadcast_to(shapes):
    """<broadcast_to(x, s), y> == <x, sum_to(y, x.shape)>"""
    (s0, _), s = shapes
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal(s0), rng.standard_normal(s)
    left = np.sum(F.broadcast_to(x, s).data * y)
    right = np.sum(x * F.sum_to(y, s0).data)
    assert np.isclose(left, right, rtol=1e-10, atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(hnp.array_shapes(max_dims=3, max_side=4), st.floats(-3, 3), st.floats(-3, 3))
def test_backward_is_linear_in_the_upstream_gradient(shape, a, b):
    rng = np.random.default_rng(2)
    x = dz.Variable(rng.standard_normal(shape))
    g1, g2 = rng.standard_normal(shape), rng.standard_normal(shape)

    def vjp(g):
        y = F.tanh(x) * F.sin(x) + x**2
        return dz.grad(y, x, grad_outputs=g)[0].data

    assert np.allclose(vjp(a * g1 + b * g2), a * vjp(g1) + b * vjp(g2), atol=1e-9)
