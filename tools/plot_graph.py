"""Draw the computation graph of an expression, or of one of its higher derivatives.

    python tools/plot_graph.py "tanh(x)" --at x=1.0 --order 2 -o tanh2.png
    python tools/plot_graph.py "sigmoid(sum(x * w) + b)" --at x=[1,2] --param w=[0.5,-0.3] --param b=0.1
    python tools/plot_graph.py "x * y + x" --at x=2 --at y=3 --grads -o grads.png
    python tools/plot_graph.py "tanh(x) * x" --at x=0.5 --animate backward.html

The expression is parsed with `ast` and never handed to eval(): only numbers, the names
given with --at, + - * / ** and unary minus, and calls to dezero_lite.functions by name,
and no array may grow past --max-elements (a million by default).
"""

import argparse
import ast
import inspect
import math
import operator
import sys
import threading

import numpy as np

import dezero_lite as dz
import dezero_lite.functions as F
from dezero_lite.graph import GraphvizError, get_dot_graph, plot_dot_graph

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}


MAX_ELEMENTS = 10**6  # per intermediate array: a formula tool should not fill the memory
MAX_ECHO = 80  # characters of the user's text repeated in a message


class RefusedExpression(ValueError):
    """The expression uses something other than numbers, the given names, arithmetic and F calls,
    or would make arrays bigger than the limit."""


def _echo(text):
    """The user's text for a message, cut short: a 100 KB formula is not repeated back."""
    text = str(text)
    return (
        repr(text) if len(text) <= MAX_ECHO else f"{text[:MAX_ECHO]!r}... ({len(text)} characters)"
    )


def _cut(text, limit=400):
    """A message cut short, in case it quotes a long input (NumPy's messages quote shapes)."""
    text = str(text)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def _source(node):
    try:
        return _echo(ast.unparse(node))
    except RecursionError:
        return "(a deeply nested part)"


def library_functions():
    """The functions of dezero_lite.functions that an expression may call, by name."""
    return {
        name: obj
        for name, obj in vars(F).items()
        if not name.startswith("_") and inspect.isfunction(obj) and obj.__module__ == F.__name__
    }


def _check(tree, names, funcs):
    """Refuse anything but the allowed kinds of node, before anything is evaluated.

    A loop over a stack rather than recursion, so that a sum of thousands of terms is fine."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Expression):
            stack.append(node.body)
        elif isinstance(node, ast.Constant):
            if type(node.value) not in (int, float, bool) and node.value is not None:
                raise RefusedExpression(
                    f"constant {_echo(repr(node.value))} is not allowed; only numbers"
                )
        elif isinstance(node, ast.Name):
            if node.id in names:
                continue
            if node.id in funcs:
                raise RefusedExpression(f"{node.id!r} is a function: call it, as in {node.id}(x)")
            hint = node.id if len(node.id) <= 40 else "NAME"
            raise RefusedExpression(
                f"name {_echo(node.id)} is not given; pass its value with --at {hint}=VALUE"
            )
        elif isinstance(node, ast.BinOp):
            if type(node.op) not in _BINARY:
                raise RefusedExpression(
                    f"operator {type(node.op).__name__} is not allowed; use + - * / **"
                )
            stack += [node.right, node.left]
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                raise RefusedExpression(
                    f"unary {type(node.op).__name__} is not allowed; only unary minus"
                )
            stack.append(node.operand)
        elif isinstance(node, ast.Tuple):  # shapes and axes, as in reshape(x, (3, 1))
            stack += reversed(node.elts)
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in funcs:
                what = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
                raise RefusedExpression(
                    f"cannot call {_echo(what)}; only functions of dezero_lite.functions "
                    "by plain name, such as tanh(x) or exp(x)"
                )
            for arg in node.args:
                if isinstance(arg, ast.Starred):
                    raise RefusedExpression("*arguments are not allowed")
            for kw in node.keywords:
                if kw.arg is None:
                    raise RefusedExpression("**arguments are not allowed")
            stack += reversed([*node.args, *(kw.value for kw in node.keywords)])
        else:
            raise RefusedExpression(
                f"{type(node).__name__} is not allowed in an expression ({_source(node)})"
            )


def _arithmetic(op, a, b):
    """Python numbers stay Python numbers (so axis=-1 and (2*3,) are integers), but an integer
    result too big for 64 bits is computed in float64, so that 9**9**9 cannot run for ever."""
    if type(a) is int and type(b) is int:
        if op is operator.pow:
            if b < 0 or (a not in (0, 1, -1) and b * math.log2(abs(a)) > 62):
                return float(np.float64(a) ** np.float64(b))
        elif op is operator.mul and a and b and math.log2(abs(a)) + math.log2(abs(b)) > 62:
            return float(a) * float(b)
    return op(a, b)


def _size(shape):
    n = 1
    for s in shape:
        n *= int(s)
    return n


class _Guard:
    """Refuse an operation whose result would have more than `limit` elements."""

    def __init__(self, limit):
        self.limit = limit

    def refuse(self, what, n):
        raise RefusedExpression(
            f"{what} would make an array of {n:,} elements, more than the "
            f"limit of {self.limit:,} (--max-elements)"
        )

    def before(self, what, values, matmul=False):
        shapes = [
            np.shape(v.data if isinstance(v, dz.Variable) else v)
            for v in values
            if isinstance(v, (dz.Variable, np.ndarray, np.generic, int, float))
        ]
        for v in values:  # shapes given as arguments, as in broadcast_to(x, (3, 4))
            if (
                isinstance(v, tuple)
                and v
                and all(type(s) is int for s in v)
                and _size(v) > self.limit
            ):
                self.refuse(what, _size(v))
        if matmul and len(shapes) >= 2 and len(shapes[0]) >= 1 and len(shapes[1]) >= 1:
            n = _size(shapes[0][:-1]) * shapes[1][-1]
        else:
            try:
                n = _size(np.broadcast_shapes(*shapes)) if shapes else 0
            except ValueError:
                return  # the op itself says what is wrong with the shapes
        if n > self.limit:
            self.refuse(what, n)

    def after(self, what, value):
        data = value.data if isinstance(value, dz.Variable) else value
        if isinstance(data, np.ndarray) and data.size > self.limit:
            self.refuse(what, data.size)
        return value


def _evaluate(tree, env, funcs, limit=MAX_ELEMENTS):
    """The value of a checked tree, computed bottom-up with an explicit stack (no recursion)."""
    guard = _Guard(limit)
    results = {}  # id(node) -> value
    stack = [(tree.body if isinstance(tree, ast.Expression) else tree, False)]
    while stack:
        node, ready = stack.pop()
        if isinstance(node, ast.Constant):
            results[id(node)] = node.value
            continue
        if isinstance(node, ast.Name):
            results[id(node)] = env[node.id]
            continue
        if isinstance(node, ast.Tuple):
            kids = node.elts
        elif isinstance(node, ast.UnaryOp):
            kids = [node.operand]
        elif isinstance(node, ast.BinOp):
            kids = [node.left, node.right]
        else:  # a Call
            kids = [*node.args, *(kw.value for kw in node.keywords)]
        if not ready:
            stack.append((node, True))
            stack += [(kid, False) for kid in reversed(kids)]
            continue
        values = [results.pop(id(kid)) for kid in kids]
        if isinstance(node, ast.Tuple):
            value = tuple(values)
        elif isinstance(node, ast.UnaryOp):
            x = values[0]
            value = -x if isinstance(node.op, ast.USub) else x
        elif isinstance(node, ast.BinOp):
            guard.before(f"the operator {type(node.op).__name__}", values)
            value = _arithmetic(_BINARY[type(node.op)], *values)
        else:
            name = node.func.id
            args = values[: len(node.args)]
            kwargs = {
                kw.arg: v for kw, v in zip(node.keywords, values[len(node.args) :], strict=True)
            }
            guard.before(name + "()", values, matmul=name in ("matmul", "linear"))
            value = funcs[name](*args, **kwargs)
        results[id(node)] = guard.after(
            type(node).__name__ if not isinstance(node, ast.Call) else node.func.id + "()", value
        )
    return results.popitem()[1]


def _parse(text):
    """ast.parse in a fresh thread with a big stack: Python's parser recurses once per term of
    a+b+c+..., so a long sum needs more depth than whatever called us has left."""
    out = {}

    def work():
        try:
            out["tree"] = ast.parse(text, mode="eval")
        except (RecursionError, SyntaxError, ValueError, MemoryError) as e:
            out["error"] = e

    old_limit, old_size = sys.getrecursionlimit(), threading.stack_size()
    threading.stack_size(256 * 1024 * 1024)
    sys.setrecursionlimit(max(old_limit, 20000))
    try:
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
    finally:
        sys.setrecursionlimit(old_limit)
        threading.stack_size(old_size)
    if "error" in out:
        raise out["error"]
    return out["tree"]


def parse_expression(text, names):
    """Parse and check an expression; raise RefusedExpression for anything not allowed."""
    try:
        tree = _parse(text.strip())
    except RecursionError:
        raise RefusedExpression(
            f"the expression {_echo(text)} is nested too deeply for Python's parser; "
            "split it, or use sum(...) over an array"
        ) from None
    except (SyntaxError, ValueError, MemoryError) as e:
        message = e.msg if isinstance(e, SyntaxError) else str(e)
        raise RefusedExpression(f"cannot parse {_echo(text)}: {_cut(message, MAX_ECHO)}") from None
    _check(tree, names, library_functions())
    return tree


def evaluate(text, values, params=(), max_elements=MAX_ELEMENTS):
    """Value of the expression at values {name: ndarray}, as a Variable with a graph.

    Names in params become Parameters (trainable weights), the others plain Variables.
    """
    tree = parse_expression(text, set(values))
    for name, v in values.items():
        if np.size(v) > max_elements:
            raise RefusedExpression(
                f"the value of {name} has {np.size(v):,} elements, more than "
                f"the limit of {max_elements:,} (--max-elements)"
            )
    env = {
        name: (dz.Parameter if name in params else dz.Variable)(
            np.asarray(v, dtype=np.float64), name=name
        )
        for name, v in values.items()
    }
    with np.errstate(all="ignore"):
        result = _evaluate(tree, env, library_functions(), max_elements)
    return dz.as_variable(result), env


def _parse_at(item):
    name, sep, text = item.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier() or name.startswith("_"):
        raise ValueError(f"--at takes NAME=VALUE, as in x=1.0 or x=[1,2,3]; got {item!r}")
    try:
        value = ast.literal_eval(text.strip())
        array = np.array(value, dtype=np.float64)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise ValueError(
            f"the value of {name} must be a number or a list of numbers, as in "
            f"{name}=2.5 or {name}=[1,2,3]; got {text!r}"
        ) from None
    if isinstance(value, (str, bytes, bool, complex)) or array.dtype == object:
        raise ValueError(f"the value of {name} must be a number or a list of numbers; got {text!r}")
    return name, array


def build_parser():
    p = argparse.ArgumentParser(
        prog="plot_graph.py",
        description="Draw the computation graph of an expression with dezero_lite and Graphviz.",
        epilog='An expression that starts with "-" goes after "--", as in: -- "-x**2" --at x=1',
    )
    p.add_argument("expression", help='for example "tanh(x)" or "x**2 * exp(-y)"')
    p.add_argument(
        "--at",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="value of a variable: a number or a list such as [1,2,3] (repeatable)",
    )
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="like --at, but the variable is a Parameter (a weight), drawn as one",
    )
    p.add_argument(
        "--order",
        type=int,
        default=0,
        metavar="N",
        help="draw the graph of the N-th derivative instead of the value (default 0)",
    )
    p.add_argument(
        "--wrt", metavar="NAME", help="variable to differentiate by (needed if there are several)"
    )
    p.add_argument(
        "--grads",
        action="store_true",
        help="run one backward pass and draw values, gradients and the backward order",
    )
    p.add_argument(
        "--animate",
        metavar="FILE",
        help="draw the backward pass frame by frame into FILE (.html or .gif)",
    )
    p.add_argument(
        "-o",
        "--output",
        default="graph.png",
        help="picture to write: .png, .svg or .pdf; the .dot text goes beside it",
    )
    p.add_argument(
        "--rankdir",
        choices=["TB", "LR"],
        default="TB",
        help="top-down (TB, default) or left-to-right (LR)",
    )
    p.add_argument("--brief", action="store_true", help="leave out shapes and dtypes")
    p.add_argument("--values", action="store_true", help="show data and grad of small arrays")
    p.add_argument(
        "--show-order",
        action="store_true",
        help="number the functions in the order backward visits them",
    )
    p.add_argument(
        "--max-elements",
        type=int,
        default=MAX_ELEMENTS,
        metavar="N",
        help="refuse to make any array bigger than N elements (default {})".format(
            format(MAX_ELEMENTS, ",")
        ),
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="stop Graphviz's dot after this long (default 60)",
    )
    p.add_argument(
        "--dot",
        action="store_true",
        help="print the DOT text to stdout instead of drawing a picture",
    )
    return p


def output_name(names):
    """The result's name in the picture: y, unless the formula already has a y."""
    return next(n for n in ("y", "f", "out", "result") if n not in names)


def derivative(y, x, order):
    """The order-th derivative of y by x, built by dz.grad(create_graph=True).

    Unlike backward(), grad() leaves every .grad alone, so no leaf shows a gradient left from
    an earlier pass; the seed of each pass is a Variable named "seed", so that it cannot be
    mistaken for a constant of the formula."""
    yname = y.name or "y"
    for k in range(1, order + 1):
        if y.size != 1:
            print(f"note: the result has shape {y.shape}; differentiating its sum", file=sys.stderr)
            y = F.sum(y)
        seed = dz.Variable(np.ones_like(y.data), name="seed")
        (gx,) = dz.grad([y], [x], grad_outputs=[seed], create_graph=True)
        if gx is None:
            raise ValueError(
                f"derivative {k} does not depend on {x.name} (it is zero): nothing to draw"
            )
        y = gx
        y.name = f"d{yname}/d{x.name}" if k == 1 else f"d{k}{yname}/d{x.name}{k}"
    return y


def main(argv=None):
    """Command-line entry point; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.max_elements < 1:
            raise ValueError(f"--max-elements must be 1 or more, not {args.max_elements}")
        if not args.timeout > 0:
            raise ValueError(f"--timeout must be above 0 seconds, not {args.timeout:g}")
        values = dict(_parse_at(item) for item in args.at)
        params = dict(_parse_at(item) for item in args.param)
        both = set(values) & set(params)
        if both:
            raise ValueError("{} given both with --at and --param".format(", ".join(sorted(both))))
        values.update(params)
        if args.order < 0:
            raise ValueError(f"--order must be 0 or more, not {args.order}")
        if args.order > 0 and (args.grads or args.animate):
            raise ValueError(
                "--grads and --animate show the backward pass of the formula "
                "itself: leave out --order"
            )
        result, env = evaluate(args.expression, values, params, args.max_elements)
        if result.name is None:
            result.name = output_name(env)
        if args.order > 0:
            wrt = args.wrt
            if wrt is None:
                if len(env) != 1:
                    raise ValueError(
                        "say which variable to differentiate by with --wrt (given: {})".format(
                            ", ".join(sorted(env))
                        )
                        if env
                        else "the expression has no variable to differentiate by"
                    )
                wrt = next(iter(env))
            if wrt not in env:
                raise ValueError(f"--wrt {_echo(wrt)} is not one of the given variables")
            result = derivative(result, env[wrt], args.order)
        elif args.grads:
            result.backward(retain_grad=True)
    except RefusedExpression as e:
        print(f"plot_graph.py: refused: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # a bad value or a failing op: say what, without a traceback
        print(f"plot_graph.py: error: {type(e).__name__}: {_cut(e)}", file=sys.stderr)
        return 1
    options = dict(
        show_values=args.values or args.grads,
        rankdir=args.rankdir,
        show_order=args.show_order or args.grads,
    )
    try:
        if args.animate:
            from dezero_lite.graph import animate_backward

            animate_backward(
                result,
                args.animate,
                verbose=not args.brief,
                rankdir=args.rankdir,
                timeout=args.timeout,
            )
            print(f"wrote {args.animate}")
            return 0
        if args.dot:
            sys.stdout.write(get_dot_graph(result, not args.brief, **options))
            return 0
        plot_dot_graph(result, not args.brief, to_file=args.output, timeout=args.timeout, **options)
    except (GraphvizError, ValueError, OSError, ImportError) as e:
        print(f"plot_graph.py: {e}", file=sys.stderr)
        return 1
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
