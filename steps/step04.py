"""Step 04: the chain rule by hand on composite functions.

Idea: a composite function outer(inner(x)) has the derivative
outer'(inner(x)) * inner'(x): the gradient arriving from the outer gate times
the local gradient of the inner one, as in steps 02-03. Four exercises, each
worked on paper, checked against the central difference at five points, and
at 0 against a closed form: 2e^3, 1200, 1/10 and 6e^3. Builds on step 03
(local gradients of gates, chained).
"""

import math


def numerical_diff(f, x, h=1e-4):
    return (f(x + h) - f(x - h)) / (2 * h)


def compose(outer, inner):
    return lambda x: outer(inner(x))


def chain_rule(outer_diff, inner, inner_diff):
    """Derivative of outer(inner(x)): outer'(inner(x)) * inner'(x)."""
    return lambda x: outer_diff(inner(x)) * inner_diff(x)


# name, inner u(x), u'(x), outer g(u), g'(u), derivative at 0 worked out on paper (as text)
# fmt: off
exercises = [
    ("exp(x**2 + 2x + 3)",
     lambda x: x ** 2 + 2 * x + 3, lambda x: 2 * x + 2,
     math.exp, math.exp,
     2 * math.exp(3), "u'(0) e^u(0) = 2e^3"),
    ("(exp(t) + 3t + 9)**3",
     lambda t: math.exp(t) + 3 * t + 9, lambda t: math.exp(t) + 3,
     lambda u: u ** 3, lambda u: 3 * u ** 2,
     3 * 10 ** 2 * 4, "3 u(0)**2 u'(0) = 3 * 100 * 4"),
    ("log(cos θ + sin θ + 6θ**2 + 9)",
     lambda th: math.cos(th) + math.sin(th) + 6 * th ** 2 + 9,
     lambda th: -math.sin(th) + math.cos(th) + 12 * th,
     math.log, lambda u: 1 / u,
     1 / 10, "u'(0) / u(0) = 1/10"),
    ("exp(x**2 + 6x + 3)",
     lambda x: x ** 2 + 6 * x + 3, lambda x: 2 * x + 6,
     math.exp, math.exp,
     6 * math.exp(3), "u'(0) e^u(0) = 6e^3"),
]
# fmt: on

points = [-1.5, -0.3, 0.0, 0.7, 1.2]
for name, inner, inner_diff, outer, outer_diff, at_zero, on_paper in exercises:
    f = compose(outer, inner)
    df = chain_rule(outer_diff, inner, inner_diff)
    print(f"d/dx {name}; at 0: {on_paper} = {at_zero:.6g}")
    print("      x    chain rule     numerical  rel. diff")
    for x in points:
        analytic, numeric = df(x), numerical_diff(f, x)
        rel = abs(analytic - numeric) / abs(analytic)
        print(f"  {x:5.2f} {analytic:13.6g} {numeric:13.6g}    {rel:.0e}")
        assert rel < 1e-6, (name, x)
    assert abs(df(0.0) - at_zero) <= 1e-12 * abs(at_zero), name
