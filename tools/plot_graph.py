"""Draw the computation graph of an expression, or of one of its higher derivatives.

    python tools/plot_graph.py "tanh(x)" --at x=1.0 --order 2 -o tanh2.png
    python tools/plot_graph.py "sigmoid(sum(x * w) + b)" --at x=[1,2] --param w=[0.5,-0.3] --param b=0.1

The expression is parsed with `ast` and never handed to eval(): only numbers, the names
given with --at, + - * / ** and unary minus, and calls to dezero_lite.functions by name.
"""
import argparse
import ast
import inspect
import operator
import sys

import numpy as np

import dezero_lite as dz
import dezero_lite.functions as F
from dezero_lite.graph import GraphvizError, get_dot_graph, plot_dot_graph

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.Pow: operator.pow}


class RefusedExpression(ValueError):
    """The expression uses something other than numbers, the given names, arithmetic and F calls."""


def library_functions():
    """The functions of dezero_lite.functions that an expression may call, by name."""
    return {name: obj for name, obj in vars(F).items()
            if not name.startswith("_") and inspect.isfunction(obj)
            and obj.__module__ == F.__name__}


def _check(node, names, funcs):
    """Refuse anything but the allowed kinds of node, before anything is evaluated."""
    if isinstance(node, ast.Expression):
        _check(node.body, names, funcs)
    elif isinstance(node, ast.Constant):
        if type(node.value) not in (int, float, bool) and node.value is not None:
            raise RefusedExpression("constant %r is not allowed; only numbers" % (node.value,))
    elif isinstance(node, ast.Name):
        if node.id in names:
            return
        if node.id in funcs:
            raise RefusedExpression("%r is a function: call it, as in %s(x)" % (node.id, node.id))
        raise RefusedExpression("name %r is not given; pass its value with --at %s=VALUE"
                                % (node.id, node.id))
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            raise RefusedExpression("operator %s is not allowed; use + - * / **"
                                    % type(node.op).__name__)
        _check(node.left, names, funcs)
        _check(node.right, names, funcs)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise RefusedExpression("unary %s is not allowed; only unary minus"
                                    % type(node.op).__name__)
        _check(node.operand, names, funcs)
    elif isinstance(node, ast.Tuple):  # shapes and axes, as in reshape(x, (3, 1))
        for elt in node.elts:
            _check(elt, names, funcs)
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in funcs:
            what = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            raise RefusedExpression("cannot call %r; only functions of dezero_lite.functions "
                                    "by plain name, such as tanh(x) or exp(x)" % what)
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise RefusedExpression("*arguments are not allowed")
            _check(arg, names, funcs)
        for kw in node.keywords:
            if kw.arg is None:
                raise RefusedExpression("**arguments are not allowed")
            _check(kw.value, names, funcs)
    else:
        raise RefusedExpression("%s is not allowed in an expression (%r)"
                                % (type(node).__name__, ast.unparse(node)))


def _number(value):
    # Arithmetic on plain numbers is done in float64, so 9**9**9 cannot run for ever.
    return np.float64(value) if type(value) is int else value


def _evaluate(node, env, funcs):
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, env, funcs)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.Tuple):
        return tuple(_evaluate(e, env, funcs) for e in node.elts)
    if isinstance(node, ast.UnaryOp):
        x = _number(_evaluate(node.operand, env, funcs))
        return -x if isinstance(node.op, ast.USub) else x
    if isinstance(node, ast.BinOp):
        a = _number(_evaluate(node.left, env, funcs))
        b = _number(_evaluate(node.right, env, funcs))
        return _BINARY[type(node.op)](a, b)
    args = [_evaluate(a, env, funcs) for a in node.args]
    kwargs = {kw.arg: _evaluate(kw.value, env, funcs) for kw in node.keywords}
    return funcs[node.func.id](*args, **kwargs)


def parse_expression(text, names):
    """Parse and check an expression; raise RefusedExpression for anything not allowed."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        raise RefusedExpression("cannot parse %r: %s" % (text, e)) from None
    _check(tree, names, library_functions())
    return tree


def evaluate(text, values, params=()):
    """Value of the expression at values {name: ndarray}, as a Variable with a graph.

    Names in params become Parameters (trainable weights), the others plain Variables.
    """
    tree = parse_expression(text, set(values))
    env = {name: (dz.Parameter if name in params else dz.Variable)(
        np.asarray(v, dtype=np.float64), name=name) for name, v in values.items()}
    with np.errstate(all="ignore"):
        result = _evaluate(tree, env, library_functions())
    return dz.as_variable(result), env


def _parse_at(item):
    name, sep, text = item.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier() or name.startswith("_"):
        raise ValueError("--at takes NAME=VALUE, as in x=1.0 or x=[1,2,3]; got %r" % item)
    try:
        value = ast.literal_eval(text.strip())
        array = np.array(value, dtype=np.float64)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise ValueError("the value of %s must be a number or a list of numbers, as in "
                         "%s=2.5 or %s=[1,2,3]; got %r" % (name, name, name, text)) from None
    if isinstance(value, (str, bytes, bool, complex)) or array.dtype == object:
        raise ValueError("the value of %s must be a number or a list of numbers; got %r"
                         % (name, text))
    return name, array


def build_parser():
    p = argparse.ArgumentParser(
        prog="plot_graph.py",
        description="Draw the computation graph of an expression with dezero_lite and Graphviz.",
        epilog='An expression that starts with "-" goes after "--", as in: -- "-x**2" --at x=1')
    p.add_argument("expression", help='for example "tanh(x)" or "x**2 * exp(-y)"')
    p.add_argument("--at", action="append", default=[], metavar="NAME=VALUE",
                   help="value of a variable: a number or a list such as [1,2,3] (repeatable)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="like --at, but the variable is a Parameter (a weight), drawn as one")
    p.add_argument("--order", type=int, default=0, metavar="N",
                   help="draw the graph of the N-th derivative instead of the value (default 0)")
    p.add_argument("--wrt", metavar="NAME", help="variable to differentiate by (needed if there are several)")
    p.add_argument("-o", "--output", default="graph.png",
                   help="picture to write: .png, .svg or .pdf; the .dot text goes beside it")
    p.add_argument("--rankdir", choices=["TB", "LR"], default="TB",
                   help="top-down (TB, default) or left-to-right (LR)")
    p.add_argument("--brief", action="store_true", help="leave out shapes and dtypes")
    p.add_argument("--values", action="store_true", help="show data and grad of small arrays")
    p.add_argument("--show-order", action="store_true",
                   help="number the functions in the order backward visits them")
    p.add_argument("--dot", action="store_true",
                   help="print the DOT text to stdout instead of drawing a picture")
    return p


def derivative(y, x, order):
    """The order-th derivative of y by x, built by repeated backward(create_graph=True)."""
    for k in range(1, order + 1):
        if y.size != 1:
            print("note: the result has shape %s; differentiating its sum" % (y.shape,),
                  file=sys.stderr)
            y = F.sum(y)
        x.cleargrad()
        y.backward(create_graph=True)
        if x.grad is None:
            raise ValueError("derivative %d does not depend on %s (it is zero): nothing to draw"
                             % (k, x.name))
        y = x.grad
        y.name = "dy/d%s" % x.name if k == 1 else "d%dy/d%s%d" % (k, x.name, k)
    return y


def main(argv=None):
    """Command-line entry point; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        values = dict(_parse_at(item) for item in args.at)
        params = dict(_parse_at(item) for item in args.param)
        both = set(values) & set(params)
        if both:
            raise ValueError("%s given both with --at and --param" % ", ".join(sorted(both)))
        values.update(params)
        if args.order < 0:
            raise ValueError("--order must be 0 or more, not %d" % args.order)
        result, env = evaluate(args.expression, values, params)
        if result.name is None:
            result.name = "y"
        if args.order > 0:
            wrt = args.wrt
            if wrt is None:
                if len(env) != 1:
                    raise ValueError("say which variable to differentiate by with --wrt "
                                     "(given: %s)" % ", ".join(sorted(env)) if env else
                                     "the expression has no variable to differentiate by")
                wrt = next(iter(env))
            if wrt not in env:
                raise ValueError("--wrt %s is not one of the given variables" % wrt)
            result = derivative(result, env[wrt], args.order)
    except RefusedExpression as e:
        print("plot_graph.py: refused: %s" % e, file=sys.stderr)
        return 2
    except Exception as e:  # a bad value or a failing op: say what, without a traceback
        print("plot_graph.py: error: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 1
    options = dict(show_values=args.values, rankdir=args.rankdir, show_order=args.show_order)
    if args.dot:
        sys.stdout.write(get_dot_graph(result, not args.brief, **options))
        return 0
    try:
        plot_dot_graph(result, not args.brief, to_file=args.output, **options)
    except (GraphvizError, ValueError, OSError) as e:
        print("plot_graph.py: %s" % e, file=sys.stderr)
        return 1
    print("wrote %s" % args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
