"""Pictures of the computation graph: DOT text, and rendering it through the graphviz package."""

from __future__ import annotations

import heapq
import html
import math
import os
import subprocess
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from dezero_lite import core
from dezero_lite._fileio import atomic_write
from dezero_lite.core import Parameter, Variable
from dezero_lite.layer_groups import _layer_groups, record_layers

if TYPE_CHECKING:
    from dezero_lite.animate import BackwardAnimation

__all__ = [
    "get_dot_graph",
    "plot_dot_graph",
    "show",
    "DotGraph",
    "record_layers",
    "animate_backward",
    "GraphvizError",
    "GraphvizNotFoundError",
]

FORMATS = ("png", "svg", "pdf")
RANKDIRS = ("TB", "LR", "BT", "RL")
COLOR_BY = (None, "grad", "data")
DOT_TIMEOUT = 60.0  # seconds; a graph that takes longer is too big to read anyway
MAX_NAME = 60  # characters of a name shown in a label (dot refuses strings over 16384)
_Constant = getattr(core, "Constant", None)

# Roles differ in shape, border and line style, so they read in black and white too.
_SHAPES = {
    "input": "shape=ellipse, style=filled",
    "parameter": 'shape=box, style="filled,rounded,bold"',
    "intermediate": 'shape=ellipse, style="filled,dashed"',
    "output": "shape=ellipse, style=filled, peripheries=2",
    "function": "shape=box, style=filled",
}
_FILLS = {
    "input": "#ffd8a8",
    "parameter": "#b2f2bb",
    "intermediate": "#fff4e6",
    "output": "#ffd8a8",
    "function": "#d0ebff",
}
_STYLES = {role: f'{_SHAPES[role]}, fillcolor="{_FILLS[role]}"' for role in _SHAPES}
# Pale for tiny, dark for large (matplotlib's magma, reversed): a vanishing gradient looks
# washed out, and neighbouring steps differ in hue as well as in lightness.
_PALETTE = [
    "#fcfdbf",
    "#feca8d",
    "#fd9668",
    "#f1605d",
    "#cd4071",
    "#9e2f7f",
    "#721f81",
    "#440f76",
    "#180f3d",
]
_ZERO_FILL = "#ffffff"

_INSTALL_HELP = """\
Install Graphviz (the program, not only the Python package) and make sure `dot` is on PATH:
  Debian/Ubuntu:  sudo apt-get install graphviz
  Fedora:         sudo dnf install graphviz
  macOS:          brew install graphviz
  conda:          conda install -c conda-forge graphviz
  Windows:        winget install graphviz  (or the installer from https://graphviz.org/download/),
                  then add its bin folder (e.g. C:\\Program Files\\Graphviz\\bin) to PATH
Note: `pip install graphviz` installs only Python bindings, not the `dot` program."""
_PIP_HELP = (
    "Drawing needs the Python package graphviz: pip install 'dezero_lite[graph]' "
    "(or pip install graphviz), and Graphviz's `dot` program."
)


class GraphvizError(RuntimeError):
    """Graphviz's `dot` failed to draw a graph."""


class GraphvizNotFoundError(GraphvizError):
    """The graphviz Python package or Graphviz's `dot` program is not installed."""


def _quote(text):
    """Text as a double-quoted DOT string that Graphviz shows literally, one line per newline."""
    text = str(text).encode("utf-8", "backslashreplace").decode("utf-8")
    out = []
    for ch in text.replace("\r\n", "\n").replace("\r", "\n"):
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ord(ch) < 32 or ord(ch) == 127:
            # Other control characters would upset dot: show them as visible escapes.
            out.append(f"\\\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _short(name, limit=MAX_NAME):
    name = str(name)
    if len(name) <= limit:
        return name
    return name[:limit] + f"... ({len(name)} characters)"


def _format_number(x):
    if isinstance(x, float):
        return f"{x:.4g}"
    return str(x)


def _format_values(values, sep=" "):
    """Nested lists from ndarray.tolist() as text, rows split by sep: [[1 2] [3 4]]."""
    if not isinstance(values, list):
        return _format_number(values)
    if values and isinstance(values[0], list):
        return "[" + sep.join(_format_values(row) for row in values) + "]"
    return "[" + " ".join(_format_number(v) for v in values) + "]"


def _format_array(data):
    text = _format_values(data.tolist())
    # A wide matrix reads better one row per line (lines are centred, so no indent).
    return text if len(text) <= 32 or data.ndim < 2 else _format_values(data.tolist(), "\n")


def _array_or_shape(data, max_values):
    if data.size <= max_values:
        return _format_array(data)
    return f"{tuple(data.shape)} {data.dtype}"


def _array_of(g):
    """The ndarray of a gradient given as a Variable or as an array."""
    return g.data if isinstance(g, Variable) else g


def _role(v, output):
    if v is output:
        return "output"
    if isinstance(v, Parameter):
        return "parameter"
    return "input" if v.creator is None else "intermediate"


def _is_constant(x):
    return _Constant is not None and type(x) is _Constant


# the core's bookkeeping
_HIDDEN = {"inputs", "outputs", "generation", "output_specs", "forward_time"}


def _format_argument(value):
    """A constant argument of a Function (exponent, axis, shape) as short text, or None to leave it out."""
    if value is None or value is False:
        return None
    if isinstance(value, (bool, int, float, np.generic)):
        return _format_number(value.item() if isinstance(value, np.generic) else value)
    if isinstance(value, slice):
        return (
            ":".join(
                "" if v is None else str(v) for v in (value.start, value.stop, value.step)
            ).rstrip(":")
            or ":"
        )
    if isinstance(value, (tuple, list)):
        parts = [_format_argument(v) if v is not None else "None" for v in value]
        if None in parts or len(parts) > 6:
            return None
        return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
    if isinstance(value, np.ndarray) and value.size <= 4:
        return _format_array(value)
    return None


def _function_label(f, max_values):
    """The Function's name, its constant arguments (c=2, axis=1) and its constant inputs."""
    lines = [type(f).__name__]
    for key, value in vars(f).items():
        if key.startswith("_") or key in _HIDDEN:
            continue
        text = _format_argument(value)
        if text is not None:
            lines.append(f"{key}={_short(text, 30)}")
    for i, x in enumerate(f.inputs):
        if _is_constant(x):
            shown = _array_or_shape(x.data, min(max_values, 4))
            lines.append(f"x{i} = {_short(shown, 30)} (constant)")
    return "\n".join(lines)


def _variable_label(v, verbose, show_values, max_values, grad=None, alias=None, frame=False):
    """Name, shape and dtype, values; in an animation frame the gradient known so far, always."""
    lines = []
    name = v.name if alias is None else alias
    if name is not None:
        lines.append(_short(name))
    data = v.data
    if verbose:
        lines.append("None" if data is None else f"{tuple(data.shape)} {data.dtype}")
    if show_values and data is not None and data.size <= max_values:
        lines.append("data: " + _format_array(data))
    gdata = _array_of(grad)
    if gdata is not None and (
        frame or (show_values and data is not None and gdata.size <= max_values)
    ):
        lines.append("grad: " + _array_or_shape(gdata, max_values))
    return "\n".join(lines)


def walk(output):
    """The graph behind output in backward()'s order: (variables, functions, edges).

    Variables in order of first visit, Functions highest generation first (ties in the
    order they were reached, as backward() takes them), edges as (kind, index, index)
    with kind "fv" (Function to its output) or "vf" (input to Function). Constant
    inputs are left out: they are drawn inside their Function's box.
    """
    if not isinstance(output, Variable):
        raise TypeError(
            "get_dot_graph takes the Variable at the end of a graph (such as a loss), "
            f"not {type(output).__name__}; make it with dezero_lite functions, "
            "e.g. y = F.exp(Variable(x))"
        )
    variables, var_index, functions, edges = [output], {id(output): 0}, [], []

    def index(v):
        key = id(v)  # safe: the graph keeps every Variable alive meanwhile
        if key not in var_index:
            var_index[key] = len(variables)
            variables.append(v)
        return var_index[key]

    heap, seen, pushed = [], set(), 0
    if output.creator is not None:
        heap.append((-output.creator.generation, 0, output.creator))
        seen.add(id(output.creator))
        pushed = 1
    while heap:
        f = heapq.heappop(heap)[2]
        k = len(functions)
        functions.append(f)
        for ref in f.outputs:
            y = ref()
            if y is not None:
                edges.append(("fv", k, index(y)))
        for x in f.inputs:
            if _is_constant(x):
                continue
            edges.append(("vf", index(x), k))
            g = x.creator
            if g is not None and id(g) not in seen:
                seen.add(id(g))
                heapq.heappush(heap, (-g.generation, pushed, g))
                pushed += 1
    return variables, functions, edges


def _magnitude(v, color_by, grads=None):
    if color_by == "data":
        data = v.data
    else:
        g = v.grad if grads is None else grads.get(id(v))
        data = _array_of(g)
    if data is None or data.size == 0 or data.dtype.kind not in "biuf":
        return None
    return float(np.max(np.abs(data)))


def _color_scale(values):
    """Bins of log10 |value| for the palette: (low exponent, decades per bin, bins)."""
    logs = [math.log10(m) for m in values if m is not None and m > 0 and math.isfinite(m)]
    if not logs:
        return None
    lo, hi = math.floor(min(logs)), math.ceil(max(logs))
    hi = max(hi, lo + 1)
    per = max(1, math.ceil((hi - lo) / len(_PALETTE)))
    bins = math.ceil((hi - lo) / per)
    return lo, per, bins


def _bin_fill(b, bins):
    # One palette step per bin, the top bin darkest: two pictures whose gradients span one
    # decade both look nearly uniform, however large or small those gradients are.
    return _PALETTE[len(_PALETTE) - bins + b]


def _color_of(m, scale):
    if m is None or scale is None:
        return None
    if m == 0 or not math.isfinite(m):
        return _ZERO_FILL if m == 0 else _PALETTE[-1]
    lo, per, bins = scale
    return _bin_fill(min(max(int((math.log10(m) - lo) // per), 0), bins - 1), bins)


def _dark(fill):
    r, g, b = (int(fill[i : i + 2], 16) for i in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b < 140


def _legend(color_by, scale):
    what = "max |grad|" if color_by == "grad" else "max |data|"
    rows = [f'<tr><td colspan="2"><b>{what}</b></td></tr>']
    lo, per, bins = scale
    for b in reversed(range(bins)):
        fill = _bin_fill(b, bins)
        rows.append(
            f'<tr><td bgcolor="{fill}" width="24"> </td>'
            f'<td align="left">1e{lo + b * per} to 1e{lo + (b + 1) * per}</td></tr>'
        )
    rows.append(
        f'<tr><td bgcolor="{_ZERO_FILL}" width="24"> </td><td align="left">exactly 0</td></tr>'
    )
    return (
        'legend [shape=plaintext, label=<<table border="0" cellborder="1" cellspacing="0" '
        f'cellpadding="4">{"".join(rows)}</table>>];'
    )


def get_dot_graph(
    output: Variable,
    verbose: bool = True,
    *,
    show_values: bool = False,
    max_values: int = 16,
    rankdir: Literal["TB", "LR", "BT", "RL"] = "TB",
    show_order: bool = False,
    color_by: Literal["grad", "data"] | None = None,
    group_layers: bool = False,
) -> str:
    """DOT text of the graph that made `output`: each Variable and Function once, ids from the walk.

    verbose: shapes and dtypes; show_values: data and grad of arrays with at most `max_values`
    elements; rankdir: "TB" (top-down) or "LR" (left-to-right); show_order: number each
    Function in the order backward() visits it; color_by: "grad" or "data" fills each
    Variable by its largest absolute element on a log scale, with a legend; group_layers:
    draw the Functions and Parameters of each Layer in a labelled box (the graph must be made
    inside `record_layers(model)`, as Model.plot does).
    """
    return _dot(
        output,
        verbose,
        show_values=show_values,
        max_values=max_values,
        rankdir=rankdir,
        show_order=show_order,
        color_by=color_by,
        group_layers=group_layers,
    )


def _dot(
    output,
    verbose=True,
    *,
    show_values=False,
    max_values=16,
    rankdir="TB",
    show_order=False,
    color_by=None,
    group_layers=False,
    frame=None,
    graph=None,
):
    """get_dot_graph, plus what an animation frame needs (see animate.py): `frame` says which
    gradients are known and what to highlight, `graph` is the walk made before backward."""
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, not {rankdir!r}")
    if color_by not in COLOR_BY:
        raise ValueError(f"color_by must be None, 'grad' or 'data', not {color_by!r}")
    if (
        isinstance(max_values, bool)
        or not isinstance(max_values, (int, np.integer))
        or max_values < 0
    ):
        raise ValueError(
            f"max_values must be a whole number of elements, 0 or more, not {max_values!r}"
        )
    variables, functions, edges = walk(output) if graph is None else graph
    groups = _layer_groups(variables, functions) if group_layers else None
    if group_layers and not groups[0]:
        raise ValueError(
            "group_layers=True found no layer in this graph: build it inside "
            "`with record_layers(model):` (or use model.plot(x)), so that each "
            "layer's part of the graph is known"
        )
    grads = None if frame is None else frame["grads"]
    scale = None
    if color_by is not None:
        mags = [_magnitude(v, color_by, grads) for v in variables]
        scale = _color_scale(mags)
    lines = [
        "digraph g {",
        f"graph [rankdir={rankdir}];",
        'node [fontname="Helvetica", fontsize=12];',
        'edge [color="#495057"];',
    ]
    declared = set()
    aliases = {} if groups is None else groups[2]
    if frame is not None:
        aliases = {**frame["names"], **aliases}

    def var_line(i):
        v = variables[i]
        role = _role(v, output)
        grad = v.grad if grads is None else grads.get(id(v))
        label = _variable_label(
            v, verbose, show_values, max_values, grad, aliases.get(id(v)), frame is not None
        )
        style = _STYLES[role]
        extra = ""
        if scale is not None:
            fill = _color_of(_magnitude(v, color_by, grads), scale)
            if fill is not None:
                style = f'{_SHAPES[role]}, fillcolor="{fill}"'
                if _dark(fill):
                    extra += ', fontcolor="white"'
        if frame is not None and i in frame["fresh"]:
            extra += ', color="#e03131", penwidth=3'
        return f"v{i} [label={_quote(label)}, {style}{extra}];"

    def fn_line(k):
        label = _function_label(functions[k], max_values)
        if show_order or (frame is not None and k in frame["done"]):
            label = f"#{k + 1} {label}"
        style, extra = _STYLES["function"], ""
        if frame is not None:
            if k == frame["current"]:
                style = _SHAPES["function"] + ', fillcolor="#ff8787"'
                extra = ', color="#c92a2a", penwidth=3'
            elif k in frame["done"]:
                style = _SHAPES["function"] + ', fillcolor="#e9ecef"'
        return f"f{k} [label={_quote(label)}, {style}{extra}];"

    def declare(node):
        if node not in declared:
            declared.add(node)
            lines.append(var_line(int(node[1:])) if node[0] == "v" else fn_line(int(node[1:])))

    declare("v0")
    for kind, a, b in edges:
        tail, head = (f"f{a}", f"v{b}") if kind == "fv" else (f"v{a}", f"f{b}")
        declare(tail)
        declare(head)
        hot = frame is not None and (kind, a, b) in frame["edges"]
        attributes = ' [color="#e03131", penwidth=3]' if hot else ""
        lines.append(f"{tail} -> {head}{attributes};")
    for k in range(len(functions)):  # a Function whose outputs are all gone and inputs constant
        declare(f"f{k}")
    if groups is not None:
        lines += _clusters(groups)
    if scale is not None:
        lines.append(_legend(color_by, scale))
    lines.append("}")
    return "\n".join(lines) + "\n"


# Layers as boxes (which layer made which Function: layer_groups.py)


def _clusters(groups):
    """Nested `subgraph cluster_N` blocks, one per layer path (encoder holds encoder/conv1)."""
    fgroups, vgroups, _ = groups
    paths = set(fgroups) | set(vgroups)
    for path in list(paths):
        while "/" in path:
            path = path.rpartition("/")[0]
            paths.add(path)
    children = {}
    for path in sorted(paths):
        parent = path.rpartition("/")[0] if "/" in path else None
        children.setdefault(parent, []).append(path)
    lines, number = [], [0]

    def emit(path, depth):
        indent = "  " * depth
        lines.append(f"{indent}subgraph cluster_{number[0]} {{")
        number[0] += 1
        lines.append(
            f"{indent}  label={_quote(_short(path))}; labeljust=l; "
            'style="rounded,dashed"; color="#868e96"; fontname="Helvetica"; fontsize=12;'
        )
        members = [f"f{k}" for k in fgroups.get(path, [])] + [
            f"v{i}" for i in vgroups.get(path, [])
        ]
        if members:
            lines.append(f"{indent}  {'; '.join(members)};")
        for child in children.get(path, []):
            emit(child, depth + 1)
        lines.append(indent + "}")

    for top in children.get(None, []):
        emit(top, 0)
    return lines


# Rendering, through the graphviz Python package


def _graphviz():
    try:
        import graphviz
    except ImportError:
        raise GraphvizNotFoundError(
            "The Python package graphviz is not installed. " + _PIP_HELP + "\n" + _INSTALL_HELP
        ) from None
    return graphviz


def _check_timeout(timeout):
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0
    ):
        raise ValueError(
            "timeout must be a number of seconds above 0 (or None to wait for "
            f"ever), not {timeout!r}"
        )


def _run_dot(source, fmt, timeout=DOT_TIMEOUT, target=None):
    """Run dot on DOT text given on stdin (no shell, no file name on its command line)."""
    _check_timeout(timeout)
    graphviz = _graphviz()
    from graphviz.backend import dot_command, execute

    cmd = dot_command.command("dot", fmt)
    where = "" if target is None else f" drawing {target}"
    try:
        proc = execute.run_check(
            cmd,
            input=source.encode("utf-8"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            quiet=True,
            timeout=timeout,
        )
    except graphviz.ExecutableNotFound:
        raise GraphvizNotFoundError(
            "Graphviz's `dot` program was not found on PATH.\n" + _INSTALL_HELP
        ) from None
    except graphviz.CalledProcessError as e:
        stderr = e.stderr or getattr(e.__context__, "stderr", None) or b""
        message = stderr.decode("utf-8", "replace").strip() or "(no message)"
        raise GraphvizError(
            f"Graphviz dot failed (exit code {e.returncode}){where}: {message}"
        ) from None
    except subprocess.TimeoutExpired:
        raise GraphvizError(
            f"Graphviz dot gave up after {timeout:g} seconds{where}: the graph is too big or too "
            "tangled to lay out quickly. Try rankdir='LR', fewer nodes (a smaller input, fewer "
            "layers or steps), verbose=False, or a longer timeout=."
        ) from None
    return proc.stdout


class DotGraph:
    """DOT text that draws itself: save() to a file, or inline SVG in a notebook."""

    def __init__(
        self, source: str, path: str | None = None, timeout: float | None = DOT_TIMEOUT
    ) -> None:
        self.source = source
        self.path = path
        self.timeout = timeout
        self._svg = None
        self._error = None

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        where = "" if self.path is None else f" saved to {self.path!r}"
        lines = self.source.count("\n")
        return f"<DotGraph with {lines} lines{where}>"

    def pipe(self, fmt: str = "svg") -> bytes:
        """The picture as bytes in format fmt ("png", "svg" or "pdf")."""
        _check_format(fmt)
        return _run_dot(self.source, fmt, self.timeout)

    def save(self, to_file: str | os.PathLike[str]) -> str:
        """Draw into to_file (format from its extension) and write the DOT text beside it."""
        to_file = os.fspath(to_file)
        fmt = _check_format(os.path.splitext(to_file)[1].lstrip(".").lower(), to_file)
        dot_file = os.path.splitext(to_file)[0] + ".dot"

        def write_dot(tmp):
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(self.source)

        atomic_write(dot_file, write_dot)
        try:
            picture = _run_dot(self.source, fmt, self.timeout, target=to_file)
        except GraphvizNotFoundError as e:
            raise GraphvizNotFoundError(
                f"Cannot draw {to_file}; the DOT text was written to {dot_file}.\n{e}"
            ) from None

        def write_picture(tmp):
            with open(tmp, "wb") as f:
                f.write(picture)

        atomic_write(to_file, write_picture)
        self.path = to_file
        return to_file

    def _repr_svg_(self):
        if self._svg is None:
            try:
                self._svg = _run_dot(self.source, "svg", self.timeout).decode("utf-8")
            except GraphvizError as e:
                self._error = e
                return None
        return self._svg

    def _repr_mimebundle_(self, include=None, exclude=None):
        svg = self._repr_svg_()
        if svg is not None:
            return {"image/svg+xml": svg}
        if isinstance(self._error, GraphvizNotFoundError):
            note = "Graphviz is not available (" + str(self._error).split("\n")[0] + "), "
        else:
            note = f"Graphviz 'dot' could not draw this graph ({self._error}), "
        note += "so here is its DOT text:"
        return {
            "text/html": f"<p>{html.escape(note)}</p><pre>{html.escape(self.source)}</pre>",
            "text/plain": note + "\n" + self.source,
        }


def _check_format(fmt, to_file=None):
    if fmt not in FORMATS:
        what = f"file {to_file!r}" if to_file is not None else f"format {fmt!r}"
        raise ValueError(
            f"Cannot draw {what}: the format must be one of {', '.join(FORMATS)} "
            "(given by the file's extension, e.g. graph.png)."
        )
    return fmt


def show(
    output: Variable, verbose: bool = True, *, timeout: float | None = DOT_TIMEOUT, **options: Any
) -> DotGraph:
    """The graph of `output` as a DotGraph, which a notebook shows inline (no files written)."""
    return DotGraph(get_dot_graph(output, verbose, **options), timeout=timeout)


def plot_dot_graph(
    output: Variable,
    verbose: bool = True,
    to_file: str | os.PathLike[str] = "graph.png",
    *,
    timeout: float | None = DOT_TIMEOUT,
    **options: Any,
) -> DotGraph:
    """Draw the graph of `output` into to_file (.png, .svg or .pdf) with Graphviz, DOT text beside it.

    Options are those of get_dot_graph; dot is stopped after `timeout` seconds. Returns a
    DotGraph, which a notebook shows inline.
    """
    to_file = os.fspath(to_file)
    _check_format(os.path.splitext(to_file)[1].lstrip(".").lower(), to_file)
    _check_timeout(timeout)
    graph = DotGraph(get_dot_graph(output, verbose, **options), timeout=timeout)
    graph.save(to_file)
    return graph


def animate_backward(
    output: Variable, to_file: str | os.PathLike[str] | None = "backward.html", **options: Any
) -> BackwardAnimation:
    """Run output.backward() and record it frame by frame; see dezero_lite.animate."""
    from dezero_lite.animate import animate_backward as animate

    return animate(output, to_file, **options)
