"""Step 03: every gate has a local gradient you can write down.

Idea: a small catalogue of gates (multiply, add, square, 1/a, max, relu) and
two circuits built from them, each with its backward pass written by hand,
its known figures, and a check against the central difference. Builds on
step 02 (chaining local gradients through a circuit).
"""


def numerical_grads(f, args, h=1e-4):
    """Central difference of f(*args) in each argument."""
    grads = []
    for i in range(len(args)):
        plus, minus = list(args), list(args)
        plus[i] += h
        minus[i] -= h
        grads.append((f(*plus) - f(*minus)) / (2 * h))
    return grads


def mul(a, b):
    return a * b, (b, a)


def add(a, b):
    return a + b, (1.0, 1.0)


def square(a):
    return a**2, (2 * a,)


def reciprocal(a):
    return 1 / a, (-1 / a**2,)


def maximum(a, b):
    # The gradient goes to whichever input won.
    return max(a, b), ((1.0, 0.0) if a > b else (0.0, 1.0))


def relu(a):
    return max(a, 0.0), (1.0 if a > 0 else 0.0,)


def mul_add_square(a, b, c):
    """(a*b + c)**2 as three gates, backward by the chain rule."""
    ab, (dab_da, dab_db) = mul(a, b)
    u, (du_dab, du_dc) = add(ab, c)
    f, (df_du,) = square(u)
    return f, (df_du * du_dab * dab_da, df_du * du_dab * dab_db, df_du * du_dc)


def sum_ratio(a, b, c, d):
    """(a+b)/(c+d) as add, add, 1/x and multiply gates."""
    top, (dt_da, dt_db) = add(a, b)
    bottom, (db_dc, db_dd) = add(c, d)
    inv, (dinv_dbottom,) = reciprocal(bottom)
    f, (df_dtop, df_dinv) = mul(top, inv)
    df_dbottom = df_dinv * dinv_dbottom
    return f, (df_dtop * dt_da, df_dtop * dt_db, df_dbottom * db_dc, df_dbottom * db_dd)


# name, gate, inputs, expected output (None: not part of the check), expected gradients
checks = [
    ("a*b", mul, (11.0, 22.0), None, (22, 11)),
    ("a+b", add, (11.0, 22.0), None, (1, 1)),
    ("a**2", square, (11.0,), None, (22,)),
    ("(a*b + c)**2", mul_add_square, (3.0, 2.0, 1.0), 49, (28, 42, 14)),
    ("1/a", reciprocal, (3.0,), None, (-1 / 9,)),
    ("max(a, b)", maximum, (1.0, 2.0), None, (0, 1)),
    ("relu(a)", relu, (1.0,), None, (1,)),
    ("(a+b)/(c+d)", sum_ratio, (1.0, 2.0, 3.0, 4.0), 3 / 7, (1 / 7, 1 / 7, -3 / 49, -3 / 49)),
]


def row(values):
    return " ".join(f"{v:10.6f}" for v in values)


for name, gate, args, want_out, want_grads in checks:
    out, grads = gate(*args)
    num = numerical_grads(lambda *xs, gate=gate: gate(*xs)[0], args)
    print(f"{name} at ({', '.join(f'{a:g}' for a in args)}): f = {out:.6g}")
    print(f"   backprop  {row(grads)}")
    print(f"   numerical {row(num)}")
    if want_out is not None:
        assert abs(out - want_out) < 1e-12, name
    assert len(grads) == len(want_grads), name
    assert all(abs(g - w) < 1e-12 for g, w in zip(grads, want_grads, strict=True)), name
    assert all(abs(n - w) < 1e-6 for n, w in zip(num, want_grads, strict=True)), name
