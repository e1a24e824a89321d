"""Pictures of the computation graph: DOT text, and rendering it through Graphviz's `dot`."""

import heapq
import html
import os
import shutil
import subprocess

from dezero_lite._fileio import atomic_write
from dezero_lite.core import Parameter

__all__ = [
    "get_dot_graph", "plot_dot_graph", "show", "DotGraph",
    "GraphvizError", "GraphvizNotFoundError",
]

FORMATS = ("png", "svg", "pdf")
RANKDIRS = ("TB", "LR", "BT", "RL")

# Roles differ in shape, border and line style, so they read in black and white too.
_STYLES = {
    "input": 'shape=ellipse, style=filled, fillcolor="#ffd8a8"',
    "parameter": 'shape=box, style="filled,rounded,bold", fillcolor="#b2f2bb"',
    "intermediate": 'shape=ellipse, style="filled,dashed", fillcolor="#fff4e6"',
    "output": 'shape=ellipse, style=filled, fillcolor="#ffd8a8", peripheries=2',
    "function": 'shape=box, style=filled, fillcolor="#d0ebff"',
}

_INSTALL_HELP = """\
Install Graphviz (the program, not only the Python package) and make sure `dot` is on PATH:
  Debian/Ubuntu:  sudo apt-get install graphviz
  Fedora:         sudo dnf install graphviz
  macOS:          brew install graphviz
  conda:          conda install -c conda-forge graphviz
  Windows:        winget install graphviz  (or the installer from https://graphviz.org/download/),
                  then add its bin folder (e.g. C:\\Program Files\\Graphviz\\bin) to PATH
Note: `pip install graphviz` installs only Python bindings, not the `dot` program."""


class GraphvizError(RuntimeError):
    """Graphviz's `dot` failed to draw a graph."""


class GraphvizNotFoundError(GraphvizError):
    """Graphviz's `dot` program is not installed (not on PATH)."""


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
            out.append("\\\\x%02x" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _format_number(x):
    if isinstance(x, float):
        return "%.4g" % x
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


def _variable_label(v, verbose, show_values, max_values):
    lines = []
    if v.name is not None:
        lines.append(str(v.name))
    data = v.data
    if verbose:
        lines.append("None" if data is None else "%s %s" % (tuple(data.shape), data.dtype))
    if show_values and data is not None and data.size <= max_values:
        lines.append("data: " + _format_array(data))
        grad = v.grad
        gdata = getattr(grad, "data", grad)
        if gdata is not None and gdata.size <= max_values:
            lines.append("grad: " + _format_array(gdata))
    return "\n".join(lines)


def _role(v, output):
    if v is output:
        return "output"
    if isinstance(v, Parameter):
        return "parameter"
    return "input" if v.creator is None else "intermediate"


def get_dot_graph(output, verbose=True, *, show_values=False, max_values=16,
                  rankdir="TB", show_order=False):
    """DOT text of the graph that made `output`: each Variable and Function once, ids from the walk.

    verbose: shapes and dtypes; show_values: data and grad of arrays with at most `max_values`
    elements; rankdir: "TB" (top-down) or "LR" (left-to-right); show_order: number each
    Function in the order backward() visits it.
    """
    if rankdir not in RANKDIRS:
        raise ValueError("rankdir must be one of %s, not %r" % (", ".join(RANKDIRS), rankdir))
    lines = [
        "digraph g {",
        "graph [rankdir=%s];" % rankdir,
        'node [fontname="Helvetica", fontsize=12];',
        'edge [color="#495057"];',
    ]
    var_ids = {}  # id(Variable) -> node id; the graph keeps every Variable alive meanwhile

    def add_var(v):
        key = id(v)
        if key not in var_ids:
            var_ids[key] = "v%d" % len(var_ids)
            label = _variable_label(v, verbose, show_values, max_values)
            lines.append("%s [label=%s, %s];" % (
                var_ids[key], _quote(label), _STYLES[_role(v, output)]))
        return var_ids[key]

    add_var(output)
    # Same order as backward(): highest generation first, ties in the order they were pushed.
    heap, seen, pushed = [], set(), 0
    if output.creator is not None:
        heap.append((-output.creator.generation, 0, output.creator))
        seen.add(id(output.creator))
        pushed = 1
    visited = 0
    while heap:
        _, _, f = heapq.heappop(heap)
        fid = "f%d" % visited
        visited += 1
        label = type(f).__name__
        if show_order:
            label = "#%d %s" % (visited, label)
        lines.append("%s [label=%s, %s];" % (fid, _quote(label), _STYLES["function"]))
        for ref in f.outputs:
            y = ref()
            if y is not None:
                lines.append("%s -> %s;" % (fid, add_var(y)))
        for x in f.inputs:
            lines.append("%s -> %s;" % (add_var(x), fid))
            g = x.creator
            if g is not None and id(g) not in seen:
                seen.add(id(g))
                heapq.heappush(heap, (-g.generation, pushed, g))
                pushed += 1
    lines.append("}")
    return "\n".join(lines) + "\n"


def _find_dot():
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizNotFoundError("Graphviz's `dot` program was not found on PATH.\n" + _INSTALL_HELP)
    return dot


def _run_dot(source, fmt, out_path=None, target=None):
    """Run dot on DOT text (given on stdin, no shell); return its stdout, or write out_path."""
    cmd = [_find_dot(), "-T" + fmt]
    if out_path is not None:
        cmd += ["-o", out_path]
    proc = subprocess.run(cmd, input=source.encode("utf-8"), capture_output=True)
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip() or "(no message)"
        where = "" if target is None else " drawing %s" % target
        raise GraphvizError("Graphviz dot failed (exit code %d)%s: %s"
                            % (proc.returncode, where, message))
    return proc.stdout


class DotGraph:
    """DOT text that draws itself: save() to a file, or inline SVG in a notebook."""

    def __init__(self, source, path=None):
        self.source = source
        self.path = path
        self._svg = None
        self._error = None

    def __str__(self):
        return self.source

    def __repr__(self):
        where = "" if self.path is None else " saved to %r" % self.path
        return "<DotGraph with %d lines%s>" % (self.source.count("\n"), where)

    def pipe(self, fmt="svg"):
        """The picture as bytes in format fmt ("png", "svg" or "pdf")."""
        _check_format(fmt)
        return _run_dot(self.source, fmt)

    def save(self, to_file):
        """Draw into to_file (format from its extension) and write the DOT text beside it."""
        to_file = os.fspath(to_file)
        fmt = _check_format(os.path.splitext(to_file)[1].lstrip(".").lower(), to_file)
        dot_file = os.path.splitext(to_file)[0] + ".dot"
        def write_dot(tmp):
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(self.source)

        atomic_write(dot_file, write_dot)
        try:
            _find_dot()
        except GraphvizNotFoundError as e:
            raise GraphvizNotFoundError(
                "Cannot draw %s: Graphviz's `dot` program was not found on PATH. The DOT text was "
                "written to %s.\n%s" % (to_file, dot_file, _INSTALL_HELP)) from e
        atomic_write(to_file, lambda tmp: _run_dot(self.source, fmt, tmp, target=to_file))
        self.path = to_file
        return to_file

    def _repr_svg_(self):
        if self._svg is None:
            try:
                self._svg = _run_dot(self.source, "svg").decode("utf-8")
            except GraphvizError as e:
                self._error = e
                return None
        return self._svg

    def _repr_mimebundle_(self, include=None, exclude=None):
        svg = self._repr_svg_()
        if svg is not None:
            return {"image/svg+xml": svg}
        if isinstance(self._error, GraphvizNotFoundError):
            note = "Graphviz 'dot' is not available (see graphviz.org to install it), "
        else:
            note = "Graphviz 'dot' could not draw this graph (%s), " % self._error
        note += "so here is its DOT text:"
        return {
            "text/html": "<p>%s</p><pre>%s</pre>" % (html.escape(note), html.escape(self.source)),
            "text/plain": note + "\n" + self.source,
        }


def _check_format(fmt, to_file=None):
    if fmt not in FORMATS:
        what = "file %r" % to_file if to_file is not None else "format %r" % fmt
        raise ValueError("Cannot draw %s: the format must be one of %s (given by the file's "
                         "extension, e.g. graph.png)." % (what, ", ".join(FORMATS)))
    return fmt


def show(output, verbose=True, **options):
    """The graph of `output` as a DotGraph, which a notebook shows inline (no files written)."""
    return DotGraph(get_dot_graph(output, verbose, **options))


def plot_dot_graph(output, verbose=True, to_file="graph.png", **options):
    """Draw the graph of `output` into to_file (.png, .svg or .pdf) with Graphviz, DOT text beside it.

    Options are those of get_dot_graph. Returns a DotGraph, which a notebook shows inline.
    """
    to_file = os.fspath(to_file)
    _check_format(os.path.splitext(to_file)[1].lstrip(".").lower(), to_file)
    graph = DotGraph(get_dot_graph(output, verbose, **options))
    graph.save(to_file)
    return graph
