"""Graph pictures: DOT text, rendering through Graphviz, notebook display and the CLI."""

import importlib.util
import os
import re
import shutil
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import dezero_lite as dz
import dezero_lite.functions as F
import dezero_lite.layers as L
from dezero_lite.graph import (
    DotGraph,
    GraphvizError,
    GraphvizNotFoundError,
    get_dot_graph,
    plot_dot_graph,
    record_layers,
    show,
)

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "plot_graph.py"
HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz 'dot' not installed")

STYLE = {
    "input": 'shape=ellipse, style=filled, fillcolor="#ffd8a8"',
    "parameter": 'shape=box, style="filled,rounded,bold", fillcolor="#b2f2bb"',
    "intermediate": 'shape=ellipse, style="filled,dashed", fillcolor="#fff4e6"',
    "output": 'shape=ellipse, style=filled, peripheries=2, fillcolor="#ffd8a8"',
    "function": 'shape=box, style=filled, fillcolor="#d0ebff"',
}
HEADER = (
    'digraph g {\ngraph [rankdir=%s];\nnode [fontname="Helvetica", fontsize=12];\n'
    'edge [color="#495057"];\n'
)


# A small DOT reader: enough of the grammar to check that the text is well formed.

_TOKEN = re.compile(
    r'\s+|(?P<str>"(?:[^"\\]|\\.)*")|(?P<arrow>->)|(?P<id>[A-Za-z_][A-Za-z_0-9]*'
    r"|-?\d+(?:\.\d+)?)|(?P<punct>[{}\[\];,=])",
    re.S,
)


def tokenize(text):
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos] == "<":  # an HTML-like label: <...> with nested angle brackets
            depth, end = 0, pos
            while True:
                depth += {"<": 1, ">": -1}.get(text[end], 0)
                end += 1
                if depth == 0:
                    break
            tokens.append(("html", text[pos:end]))
            pos = end
            continue
        m = _TOKEN.match(text, pos)
        assert m, f"bad DOT at {text[pos : pos + 30]!r}"
        pos = m.end()
        if m.lastgroup:
            tokens.append((m.lastgroup, m.group()))
    return tokens


def unescape(token):
    """The text a DOT label shows: \\\\ is a backslash, \\" a quote, \\n a new line."""
    return re.sub(
        r"\\(.)",
        lambda m: {"\\": "\\", '"': '"', "n": "\n"}.get(m[1], "\\" + m[1]),
        token[1:-1],
        flags=re.S,
    )


def parse_dot(text):
    """Parse a digraph; return ({node: attrs}, [(tail, head)], graph attrs).

    Clusters go into graph["clusters"]: {label: (parent label or None, [member nodes])}."""
    toks = tokenize(text)
    i = 0

    def take(kind=None, value=None):
        nonlocal i
        k, v = toks[i]
        assert (kind is None or k == kind) and (value is None or v == value), (k, v, i)
        i += 1
        return v

    def value():
        k, v = toks[i]
        assert k in ("id", "str", "html"), (k, v)
        take()
        return unescape(v) if k == "str" else v

    def attrs():
        out = {}
        take("punct", "[")
        while toks[i] != ("punct", "]"):
            name = value()
            take("punct", "=")
            out[name] = value()
            if toks[i] in (("punct", ","), ("punct", ";")):
                take()
        take("punct", "]")
        return out

    nodes, edges, graph = {}, [], {"clusters": {}}

    def body(cluster, parent):
        members = []
        while toks[i] != ("punct", "}"):
            first = value()
            if first == "subgraph":
                name = value()
                take("punct", "{")
                body(name, cluster)
                take("punct", "}")
            elif first in ("graph", "node", "edge"):
                a = attrs()
                if first == "graph" and cluster is None:
                    graph.update(a)
            elif toks[i] == ("punct", "="):
                take()
                a = {first: value()}
                if cluster is not None:
                    graph["clusters"].setdefault(cluster, {}).update(a)
            elif toks[i] == ("arrow", "->"):
                take()
                edges.append((first, value()))
                if toks[i] == ("punct", "["):
                    attrs()
            elif cluster is not None and toks[i] != ("punct", "["):
                members.append(first)  # a node named inside a cluster belongs to it
            else:
                assert first not in nodes, f"node {first} declared twice"
                nodes[first] = attrs() if toks[i] == ("punct", "[") else {}
            if toks[i] == ("punct", ";"):
                take()
        if cluster is not None:
            info = graph["clusters"].setdefault(cluster, {})
            info.update(parent=parent, members=members)

    take("id", "digraph")
    if toks[i][0] in ("id", "str"):
        take()
    take("punct", "{")
    body(None, None)
    take("punct", "}")
    assert i == len(toks), "text after the closing brace"
    for tail, head in edges:
        assert tail in nodes and head in nodes, (tail, head)
    for info in graph["clusters"].values():
        assert all(m in nodes for m in info["members"]), info
    return nodes, edges, graph


def clusters(graph):
    """{cluster label: (parent cluster label, [members])} from parse_dot's graph attrs."""
    by_id = graph["clusters"]
    return {
        info["label"]: (by_id[info["parent"]]["label"] if info["parent"] else None, info["members"])
        for info in by_id.values()
    }


def png_size(path):
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def load_tool():
    spec = importlib.util.spec_from_file_location("plot_graph_tool", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tanh_graph():
    x = dz.Variable(np.array(1.0), name="x")
    y = F.tanh(x)
    y.name = "y"
    return x, y


def neuron():
    x = dz.Variable(np.array([[1.0, 2.0]]), name="x")
    W = dz.Parameter(np.array([[0.5], [-0.3]]), name="W")
    b = dz.Parameter(np.array([0.1]), name="b")
    y = F.sigmoid(F.linear(x, W, b))
    y.name = "y"
    return y


# DOT text


def test_golden_tanh_verbose():
    _, y = tanh_graph()
    expected = HEADER % "TB" + (
        'v0 [label="y\\n() float64", {output}];\n'
        'f0 [label="Tanh", {function}];\n'
        "f0 -> v0;\n"
        'v1 [label="x\\n() float64", {input}];\n'
        "v1 -> f0;\n"
        "}}\n"
    ).format(**STYLE)
    assert get_dot_graph(y) == expected


def test_golden_values_order_lr_and_parameter():
    a = dz.Variable(np.array([1.0, 2.0]), name="a")
    b = dz.Parameter(np.array([3.0, 4.0]), name="b")
    d = a * b + a
    d.name = "d"
    expected = HEADER % "LR" + (
        'v0 [label="d\\ndata: [4 10]", {output}];\n'
        'f0 [label="#1 Add", {function}];\n'
        "f0 -> v0;\n"
        'v1 [label="data: [3 8]", {intermediate}];\n'
        "v1 -> f0;\n"
        'v2 [label="a\\ndata: [1 2]", {input}];\n'
        "v2 -> f0;\n"
        'f1 [label="#2 Mul", {function}];\n'
        "f1 -> v1;\n"
        "v2 -> f1;\n"
        'v3 [label="b\\ndata: [3 4]", {parameter}];\n'
        "v3 -> f1;\n"
        "}}\n"
    ).format(**STYLE)
    text = get_dot_graph(d, verbose=False, rankdir="LR", show_order=True, show_values=True)
    assert text == expected


def test_same_graph_same_text_and_ids_do_not_come_from_id():
    texts = []
    for _ in range(2):
        x = dz.Variable(np.array([1.0, 2.0]), name="x")
        texts.append(get_dot_graph(F.exp(x) * F.sin(x) + x, show_order=True))
    assert texts[0] == texts[1]
    nodes, _, _ = parse_dot(texts[0])
    assert all(re.fullmatch(r"[vf]\d+", n) for n in nodes)


def test_each_node_once_however_often_used():
    x = dz.Variable(np.array(2.0), name="x")
    h = x * x
    y = h + h * x + F.exp(h)
    nodes, edges, _ = parse_dot(get_dot_graph(y))
    assert [a["label"] for a in nodes.values()].count("x\n() float64") == 1
    x_id = next(n for n, a in nodes.items() if a["label"].startswith("x\n"))
    assert sum(1 for tail, _ in edges if tail == x_id) == 3  # x*x twice, h*x once
    functions = [a["label"] for n, a in nodes.items() if n.startswith("f")]
    assert sorted(functions) == ["Add", "Add", "Exp", "Mul", "Mul"]
    assert len(nodes) == 5 + 6  # x, h, h*x, exp(h), h + h*x, y


def test_order_numbers_follow_backward():
    x = dz.Variable(np.array(0.5), name="x")
    a = x**2
    y = F.exp(a) * F.sin(a) + F.cos(x) - a
    visited, funcs, stack = [], [], [y.creator]
    while stack:
        f = stack.pop()
        if f in funcs:
            continue
        funcs.append(f)
        stack += [v.creator for v in f.inputs if v.creator is not None]
    for f in funcs:
        f.backward = (lambda f, bw: lambda *gys: (visited.append(f), bw(*gys))[1])(f, f.backward)  # noqa: B023 (bound)
    nodes, _, _ = parse_dot(get_dot_graph(y, show_order=True))
    drawn = sorted(
        (int(a["label"].split()[0][1:]), a["label"].split()[1])
        for n, a in nodes.items()
        if n.startswith("f")
    )
    y.backward()
    assert [name for _, name in drawn] == [type(f).__name__ for f in visited]
    assert [k for k, _ in drawn] == list(range(1, len(funcs) + 1))


def test_roles_differ_without_colour():
    x = dz.Variable(np.array([[1.0, 2.0]]), name="x")
    W = dz.Parameter(np.array([[0.5], [-0.3]]), name="W")
    h = F.matmul(x, W)
    h.name = "h"
    y = F.tanh(h)
    y.name = "y"
    nodes, _, _ = parse_dot(get_dot_graph(y, verbose=False))
    by_label = {a["label"]: a for a in nodes.values()}

    def look(attrs):
        return tuple(attrs.get(k) for k in ("shape", "style", "peripheries"))

    looks = [look(by_label[name]) for name in ("x", "W", "h", "y", "MatMul")]
    assert len(set(looks)) == 5, looks
    assert by_label["W"]["shape"] == "box" and "rounded" in by_label["W"]["style"]
    assert by_label["y"]["peripheries"] == "2"
    assert "dashed" in by_label["h"]["style"]


def test_values_and_gradients_only_for_small_arrays():
    x = dz.Variable(np.array([1.0, -2.5]), name="x")
    big = dz.Variable(np.arange(20.0), name="big")
    y = F.sum(x * x) + F.sum(big)
    y.backward()
    nodes, _, _ = parse_dot(get_dot_graph(y, verbose=False, show_values=True, max_values=16))
    labels = {a["label"].split("\n")[0]: a["label"] for a in nodes.values()}
    assert labels["x"] == "x\ndata: [1 -2.5]\ngrad: [2 -5]"
    assert labels["big"] == "big"
    m = dz.Variable(np.arange(12.0).reshape(3, 4) / 3, name="m")
    label = parse_dot(get_dot_graph(m, verbose=False, show_values=True))[0]["v0"]["label"]
    assert label == "m\ndata: [[0 0.3333 0.6667 1]\n[1.333 1.667 2 2.333]\n[2.667 3 3.333 3.667]]"


def test_leaf_none_data_and_dead_outputs():
    class Split(dz.Function):
        def forward(self, x):
            return x[:1], x[1:]

    x = dz.Variable(np.array([1.0, 2.0, 3.0]), name="x")
    keep, gone = Split()(x)
    keep.name, gone.name = "keep", "gone"
    del gone
    nodes, edges, _ = parse_dot(get_dot_graph(keep))
    assert sorted(a["label"].split("\n")[0] for a in nodes.values()) == ["Split", "keep", "x"]
    assert len(edges) == 2
    empty = dz.Variable(None, name="nothing")
    assert parse_dot(get_dot_graph(empty))[0]["v0"]["label"] == "nothing\nNone"


def test_bad_rankdir():
    _, y = tanh_graph()
    with pytest.raises(ValueError, match="rankdir"):
        get_dot_graph(y, rankdir="sideways")


def test_deep_chain_without_recursion():
    x = dz.Variable(np.array(1.0), name="x")
    y = x
    for _ in range(100_000):
        y = F.neg(y)
    text = get_dot_graph(y, verbose=False, show_order=True)
    assert text.count(" -> ") == 200_000
    assert '"#100000 Neg"' in text
    assert text.index('label="x"') > text.index('"#100000 Neg"')


NASTY = [
    'a"b',
    "back\\slash",
    "trail\\",
    '\\"',
    "new\nline",
    "cr\r\nlf",
    "\\N",
    "\\n",
    "tab\there",
    "ünï ∂ 日本 🙂",
    "<b>html</b>",
    "{;}->[]=",
    "sur\udc80",
    "\x00nul",
    "",
]
SHOWN = [
    'a"b',
    "back\\slash",
    "trail\\",
    '\\"',
    "new\nline",
    "cr\nlf",
    "\\N",
    "\\n",
    "tab\\x09here",
    "ünï ∂ 日本 🙂",
    "<b>html</b>",
    "{;}->[]=",
    "sur\\udc80",
    "\\x00nul",
    "",
]


@pytest.mark.parametrize("name, shown", list(zip(NASTY, SHOWN, strict=True)))
def test_nasty_names_give_valid_dot(name, shown):
    x = dz.Variable(np.array(1.0), name=name)
    y = F.exp(x)
    y.name = name
    text = get_dot_graph(y, verbose=True)
    nodes, edges, _ = parse_dot(text)
    assert nodes["v0"]["label"] == shown + "\n() float64"
    assert nodes["v1"]["label"] == shown + "\n() float64"
    assert edges == [("f0", "v0"), ("v1", "f0")]
    if HAS_DOT:  # dot must read the same labels back
        proc = subprocess.run(["dot", "-Tcanon"], input=text.encode("utf-8"), capture_output=True)
        assert proc.returncode == 0 and not proc.stderr, proc.stderr
        canon = parse_dot(proc.stdout.decode("utf-8"))[0]
        assert canon["v0"]["label"] == nodes["v0"]["label"]


# Rendering


@needs_dot
@pytest.mark.parametrize("ext", ["png", "svg", "pdf"])
def test_renders_each_format_with_dot_text_beside(tmp_path, ext):
    y = neuron()  # Parameters, as Model.plot draws them
    target = tmp_path / ("neuron." + ext)
    graph = plot_dot_graph(y, verbose=True, to_file=str(target))
    data = target.read_bytes()
    if ext == "png":
        width, height = png_size(target)
        assert 100 <= width <= 2000 and 300 <= height <= 4000, (width, height)
        assert height > width  # top-down chain of 5 functions
    elif ext == "svg":
        assert b"<svg" in data[:1000] and b"MatMul" in data and b"</svg>" in data
    else:
        assert data.startswith(b"%PDF-")
    assert (tmp_path / "neuron.dot").read_text("utf-8") == get_dot_graph(y, verbose=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["neuron.dot", target.name])
    assert isinstance(graph, DotGraph) and graph.path == str(target)


@needs_dot
def test_left_to_right_is_wider_than_tall(tmp_path):
    y = neuron()
    plot_dot_graph(y, to_file=tmp_path / "lr.png", rankdir="LR")
    width, height = png_size(tmp_path / "lr.png")
    assert width > 2 * height


@needs_dot
def test_file_name_is_only_a_file_name(tmp_path):
    _, y = tanh_graph()
    name = "my graph; touch PWNED 'q\" $(id).png"
    plot_dot_graph(y, to_file=str(tmp_path / name))
    png_size(tmp_path / name)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, name[:-4] + ".dot"])


@needs_dot
def test_concurrent_calls_do_not_collide(tmp_path):
    _, y = tanh_graph()
    errors = []

    def draw(i):
        try:
            plot_dot_graph(y, to_file=str(tmp_path / "same.png"))
            plot_dot_graph(y, to_file=str(tmp_path / f"own{i}.svg"))
        except Exception as e:  # collected: the assert below shows it
            errors.append(e)

    threads = [threading.Thread(target=draw, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    png_size(tmp_path / "same.png")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(
        ["same.png", "same.dot"] + [f"own{i}.{e}" for i in range(4) for e in ("svg", "dot")]
    )


def test_without_dot_explains_and_still_writes_dot_text(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    _, y = tanh_graph()
    target = tmp_path / "out.png"
    with pytest.raises(GraphvizNotFoundError) as info:
        plot_dot_graph(y, to_file=str(target))
    message = str(info.value)
    assert isinstance(info.value, RuntimeError)
    for needle in (
        "apt-get install graphviz",
        "brew install graphviz",
        "conda install",
        "Windows",
        str(tmp_path / "out.dot"),
        "PATH",
    ):
        assert needle in message
    assert not target.exists()
    assert (tmp_path / "out.dot").read_text("utf-8") == get_dot_graph(y)


@pytest.mark.skipif(sys.platform == "win32", reason="uses a POSIX shell script as a fake dot")
def test_failed_dot_run_reports_its_stderr(tmp_path, monkeypatch):
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'Error: the fake dot refuses' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent))
    _, y = tanh_graph()
    with pytest.raises(GraphvizError, match="exit code 3.*the fake dot refuses"):
        plot_dot_graph(y, to_file=str(tmp_path / "g.svg"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin", "g.dot"]


@needs_dot
def test_real_dot_syntax_error_is_reported(tmp_path):
    with pytest.raises(GraphvizError, match="syntax error"):
        DotGraph("digraph { a -> ;; }").save(tmp_path / "bad.png")
    assert not (tmp_path / "bad.png").exists()


@pytest.mark.parametrize("name", ["graph.jpg", "graph", "graph.dot", "graph.png.txt"])
def test_unknown_extension(tmp_path, name):
    _, y = tanh_graph()
    with pytest.raises(ValueError, match="png, svg, pdf"):
        plot_dot_graph(y, to_file=str(tmp_path / name))
    assert list(tmp_path.iterdir()) == []


# Notebook display


@needs_dot
def test_notebook_shows_svg():
    graph = show(neuron(), show_values=True)
    svg = graph._repr_svg_()
    assert "<svg" in svg and "Sigmoid" in svg
    assert graph._repr_mimebundle_() == {"image/svg+xml": svg}
    assert graph.pipe("png")[:8] == b"\x89PNG\r\n\x1a\n"
    bad = DotGraph("digraph { -> }")
    assert bad._repr_svg_() is None
    assert "syntax error" in bad._repr_mimebundle_()["text/plain"]
    assert str(graph) == get_dot_graph(neuron(), show_values=True)


def test_notebook_falls_back_to_dot_text(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    x = dz.Variable(np.array(1.0), name='<"x">')
    graph = show(F.exp(x))
    assert graph._repr_svg_() is None
    bundle = graph._repr_mimebundle_()
    assert "image/svg+xml" not in bundle
    assert "<pre>" in bundle["text/html"] and "&lt;\\&quot;x\\&quot;&gt;" in bundle["text/html"]
    assert "not available" in bundle["text/plain"] and graph.source in bundle["text/plain"]


# The command-line renderer


def test_cli_second_derivative_of_tanh(tmp_path, capsys):
    tool = load_tool()
    target = tmp_path / "tanh2.png"
    if HAS_DOT:
        assert tool.main(["tanh(x)", "--at", "x=1.0", "--order", "2", "-o", str(target)]) == 0
        png_size(target)
        assert (tmp_path / "tanh2.dot").exists()
    result, env = tool.evaluate("tanh(x)", {"x": np.array(1.0)})
    d2 = tool.derivative(result, env["x"], 2)
    t = np.tanh(1.0)
    assert d2.name == "d2y/dx2"
    assert np.allclose(d2.data, -2 * t * (1 - t * t))


def test_cli_prints_dot_and_sums_a_vector_result(capsys):
    tool = load_tool()
    code = tool.main(
        [
            "x * w + 1",
            "--at",
            "x=[1,2,3]",
            "--at",
            "w=[0.5, -1, 2]",
            "--order",
            "1",
            "--wrt",
            "w",
            "--dot",
            "--values",
            "--brief",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert "differentiating its sum" in err
    nodes, _, _ = parse_dot(out)
    assert nodes["v0"]["label"] == "dy/dw\ndata: [1 2 3]"  # d/dw sum(x*w + 1) = x


def test_cli_needs_wrt_with_several_variables(capsys):
    code = load_tool().main(["x * y", "--at", "x=1", "--at", "y=2", "--order", "1", "--dot"])
    assert code != 0 and "--wrt" in capsys.readouterr().err


@pytest.mark.parametrize(
    "expr",
    [
        "__import__('os').system('touch PWNED')",
        "x.data",
        "x[0]",
        "(lambda: 1)()",
        "y + 1",
        "open('PWNED', 'w')",
        "'text'",
        "x if x else x",
        "[x, x]",
        "x < 1",
        "x @ x",
        "x // 2",
        "tanh",
        "np.exp(x)",
        "exp(*[x])",
        "(x := 1)",
        "import os",
    ],
)
def test_cli_refuses_unsafe_expressions(tmp_path, monkeypatch, capsys, expr):
    monkeypatch.chdir(tmp_path)
    code = load_tool().main([expr, "--at", "x=1.5", "-o", "out.png"])
    assert code == 2
    assert "refused" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_cli_runs_as_a_script():
    proc = subprocess.run(
        [sys.executable, str(TOOL), "x**2 + sin(x)", "--at", "x=3", "--dot"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=str(ROOT),
        env=dict(os.environ, PYTHONPATH=""),
    )
    assert proc.returncode == 0, proc.stderr
    labels = [a["label"] for a in parse_dot(proc.stdout)[0].values()]
    assert "x\n() float64" in labels and "Sin" in labels and "Pow\nc=2" in labels


def test_cli_parameters_and_bad_values(capsys):
    tool = load_tool()
    assert (
        tool.main(
            [
                "sigmoid(sum(x * w) + b)",
                "--at",
                "x=[1,2]",
                "--param",
                "w=[0.5,-0.3]",
                "--param",
                "b=0.1",
                "--dot",
                "--brief",
            ]
        )
        == 0
    )
    nodes, _, _ = parse_dot(capsys.readouterr().out)
    shapes = {a["label"]: a["shape"] for a in nodes.values()}
    assert shapes["w"] == shapes["b"] == "box" and shapes["x"] == "ellipse"
    for bad in (
        ["x", "--at", "x=abc"],
        ["x", "--at", "x=[1,[2]]"],
        ["x", "--at", "1x=2"],
        ["x", "--at", "x=1", "--param", "x=2"],
        ["x", "--at", "x=1", "--order", "-1"],
    ):
        assert tool.main(bad + ["--dot"]) == 1
        assert "error" in capsys.readouterr().err


def test_cli_without_dot_says_how_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    code = load_tool().main(["exp(x)", "--at", "x=1", "-o", str(tmp_path / "e.png")])
    assert code == 1
    assert "install graphviz" in capsys.readouterr().err.lower()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.dot"]


@needs_dot
def test_model_plot_draws_its_parameters(tmp_path):
    from dezero_lite.models import MLP

    x = dz.Variable(np.ones((2, 2), np.float32), name="x")
    graph = MLP((3, 1)).plot(x, to_file=str(tmp_path / "model.png"))
    png_size(tmp_path / "model.png")
    nodes, _, g = parse_dot(graph.source)
    params = sorted(a["label"].split("\n")[0] for a in nodes.values() if "rounded" in a["style"])
    assert params == ["l0/W", "l0/b", "l1/W", "l1/b"]  # their paths, as save_weights names them
    boxes = clusters(g)
    assert sorted(boxes) == ["l0", "l1"]
    assert [nodes[m]["label"].split("\n")[0] for m in boxes["l0"][1] if m.startswith("f")] == [
        "Add",
        "MatMul",
    ]
    x = next(n for n, a in nodes.items() if a["label"].startswith("x\n"))  # the data
    assert all(x not in members for _, members in boxes.values())
    assert nodes["v0"]["label"] == "y\n(2, 1) float32"


class Encoder(dz.Model):
    def __init__(self):
        super().__init__()
        self.fc1 = L.Linear(3)
        self.fc2 = L.Linear(2)

    def forward(self, x):
        return F.tanh(self.fc2(F.relu(self.fc1(x))))


class Net(dz.Model):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.head = L.Linear(1)

    def forward(self, x):
        return F.sigmoid(self.head(self.encoder(x))) * 2


def test_layers_as_nested_boxes_named_by_path():
    net = Net()
    x = dz.Variable(np.ones((2, 2)), name="x")
    with record_layers(net):
        y = net(x)
    nodes, _, g = parse_dot(get_dot_graph(y, verbose=False, group_layers=True))
    boxes = clusters(g)
    assert {k: v[0] for k, v in boxes.items()} == {
        "encoder": None,
        "encoder/fc1": "encoder",
        "encoder/fc2": "encoder",
        "head": None,
    }

    def labels(box):
        return sorted(nodes[m]["label"].split("\n")[0] for m in boxes[box][1])

    assert labels("encoder") == ["", "", "ReLU", "Tanh"]  # and the outputs of both
    assert labels("encoder/fc1") == ["", "", "Add", "MatMul", "encoder/fc1/W", "encoder/fc1/b"]
    assert labels("head") == ["", "", "Add", "MatMul", "head/W", "head/b"]
    inside = {m for _, members in boxes.values() for m in members}
    outside = sorted(nodes[n]["label"].split("\n")[0] for n in nodes if n not in inside)
    assert outside == ["", "", "Mul", "Sigmoid", "x"]


def test_recording_layers_costs_nothing_afterwards():
    original = L.Layer.__call__
    net = Net()
    with record_layers(net):
        assert L.Layer.__call__ is not original
        net(np.ones((1, 2)))
    assert L.Layer.__call__ is original
    y = net(dz.Variable(np.ones((1, 2))))  # made outside: nothing known about its layers
    with pytest.raises(ValueError, match="record_layers"):
        get_dot_graph(y, group_layers=True)
    with pytest.raises(RuntimeError), record_layers(net):
        raise RuntimeError("a failing forward pass")
    assert L.Layer.__call__ is original
    with pytest.raises(TypeError, match="Layer or Model"):
        record_layers(np.ones(2))


def test_a_layer_reaching_into_another_layers_output_does_not_claim_it():
    class Remember(L.Layer):
        def forward(self, x):
            self.last = F.exp(x)
            return self.last

    class UsesIt(L.Layer):
        def __init__(self, other):
            super().__init__()
            self.other = other  # reads other.last, not an argument

        def forward(self, x):
            return F.sin(x) + self.other.last

    class Pair(dz.Model):
        def __init__(self):
            super().__init__()
            self.a = Remember()
            self.b = UsesIt(self.a)

        def forward(self, x):
            h = self.a(x)
            return self.b(h * 3)

    model = Pair()
    with record_layers(model):
        y = model(dz.Variable(np.array(0.5), name="x"))
    nodes, _, g = parse_dot(get_dot_graph(y, verbose=False, group_layers=True))
    boxes = clusters(g)
    names = {
        box: sorted(nodes[m]["label"] for m in members if m.startswith("f"))
        for box, (_, members) in boxes.items()
    }
    assert names == {"a": ["Exp"], "b": ["Add", "Sin"]}


def test_function_boxes_show_constant_arguments_and_inputs():
    x = dz.Variable(np.arange(6.0).reshape(2, 3), name="x")
    y = F.sum(F.reshape(x**3, (3, 2)), axis=1)
    labels = [a["label"] for a in parse_dot(get_dot_graph(y, verbose=False))[0].values()]
    assert "Sum\naxis=1" in labels and "Pow\nc=3" in labels and "Reshape\nshape=(3, 2)" in labels
    t = dz.Variable(np.array(1.0), name="x")
    y = F.tanh(t)
    (gx,) = dz.grad(y, t, create_graph=True)  # 1 - y**2 has the constant 1
    nodes = parse_dot(get_dot_graph(gx, verbose=True))[0]
    assert not any("bool" in a["label"] for a in nodes.values())
    boxes = [a["label"] for n, a in nodes.items() if n.startswith("f")]
    assert any("= 1 (constant)" in b for b in boxes), boxes
    leaves = [
        a["label"] for n, a in nodes.items() if n.startswith("v") and "(constant)" in a["label"]
    ]
    assert leaves == []
    # what a Function keeps for its backward (softmax cross-entropy's log-probabilities) is no argument
    loss = F.softmax_cross_entropy(dz.Variable(np.array([[1.0, 2.0]])), np.array([1]))
    labels = [a["label"] for a in parse_dot(get_dot_graph(loss))[0].values()]
    assert "SoftmaxCrossEntropy\nx1 = [1] (constant)" in labels, labels


def test_colour_by_gradient_size_with_a_legend():
    x = dz.Variable(np.array([0.5]), name="x")
    h = x
    for _ in range(6):
        h = F.sigmoid(h)  # each sigmoid multiplies the gradient by at most 1/4
    h.name = "y"
    h.backward(retain_grad=True)
    nodes, _, _ = parse_dot(get_dot_graph(h, verbose=False, color_by="grad"))
    assert "legend" in nodes and "max |grad|" in nodes["legend"]["label"]
    fills = [nodes[f"v{i}"]["fillcolor"] for i in range(7)]  # y first, x last
    palette = [
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
    ranks = [palette.index(f) for f in fills]
    assert ranks == sorted(ranks, reverse=True) and ranks[0] > ranks[-1]  # paler toward x
    assert nodes["v0"]["fontcolor"] == "white"  # dark fill, light text
    data_nodes = parse_dot(get_dot_graph(h, verbose=False, color_by="data"))[0]
    assert "max |data|" in data_nodes["legend"]["label"]
    with pytest.raises(ValueError, match="color_by"):
        get_dot_graph(h, color_by="size")


def test_long_names_are_cut_and_arrays_are_refused():
    x = dz.Variable(np.array(1.0), name="n" * 100_000)
    text = get_dot_graph(F.exp(x))
    label = parse_dot(text)[0]["v1"]["label"]
    assert label.startswith("n" * 60 + "... (100000 characters)") and len(label) < 200
    if HAS_DOT:
        assert DotGraph(text).pipe("svg").startswith(b"<?xml")
    with pytest.raises(TypeError, match="get_dot_graph takes the Variable.*not ndarray"):
        get_dot_graph(np.array(1.0))
    with pytest.raises(ValueError, match="max_values"):
        get_dot_graph(F.exp(x), max_values=-1)


def test_without_the_graphviz_package_says_pip_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz now fails
    _, y = tanh_graph()
    with pytest.raises(GraphvizNotFoundError) as info:
        plot_dot_graph(y, to_file=str(tmp_path / "g.png"))
    assert "pip install 'dezero_lite[graph]'" in str(info.value)
    assert str(tmp_path / "g.dot") in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.dot"]


@pytest.mark.skipif(sys.platform == "win32", reason="uses a POSIX shell script as a fake dot")
def test_a_stuck_dot_is_stopped(tmp_path, monkeypatch):
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nexec sleep 60\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent) + os.pathsep + os.environ["PATH"])
    _, y = tanh_graph()
    start = time.monotonic()
    with pytest.raises(
        GraphvizError, match=r"gave up after 0.5 seconds.*rankdir='LR'.*verbose=False"
    ):
        plot_dot_graph(y, to_file=str(tmp_path / "g.png"), timeout=0.5)
    assert time.monotonic() - start < 20
    assert not (tmp_path / "g.png").exists() and (tmp_path / "g.dot").exists()
    for bad in (0, -1, "10", True):
        with pytest.raises(ValueError, match="timeout"):
            plot_dot_graph(y, to_file=str(tmp_path / "g.png"), timeout=bad)


@needs_dot
def test_a_file_name_starting_with_a_dash_is_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _, y = tanh_graph()
    plot_dot_graph(y, to_file="-Tsvg.png")
    png_size(tmp_path / "-Tsvg.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["-Tsvg.dot", "-Tsvg.png"]


def test_a_missing_folder_is_named(tmp_path):
    x = dz.Variable(np.array(1.0), name="x")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        plot_dot_graph(F.exp(x), to_file=str(tmp_path / "nowhere" / "g.png"))


# The command line: labels that tell the truth, integers, limits


def test_cli_output_name_is_not_one_of_the_inputs(capsys):
    tool = load_tool()
    assert (
        tool.main(["(x + y) * z", "--at", "x=1", "--at", "y=2", "--at", "z=3", "--dot", "--brief"])
        == 0
    )
    labels = [a["label"] for a in parse_dot(capsys.readouterr().out)[0].values()]
    assert labels.count("y") == 1 and "f" in labels
    assert (
        tool.main(
            [
                "x ** y",
                "--at",
                "x=2",
                "--at",
                "y=3",
                "--order",
                "1",
                "--wrt",
                "y",
                "--dot",
                "--brief",
            ]
        )
        == 0
    )
    assert parse_dot(capsys.readouterr().out)[0]["v0"]["label"] == "df/dy"


def test_cli_derivative_graph_has_a_named_seed_and_no_stale_gradients(capsys):
    tool = load_tool()
    assert (
        tool.main(
            [
                "x * z",
                "--at",
                "x=2",
                "--at",
                "z=3",
                "--order",
                "1",
                "--wrt",
                "x",
                "--dot",
                "--brief",
                "--values",
            ]
        )
        == 0
    )
    nodes = parse_dot(capsys.readouterr().out)[0]
    labels = [a["label"] for a in nodes.values()]
    assert "seed\ndata: 1" in labels
    assert not any("grad:" in label for label in labels)  # z would show dy/dz = 2 otherwise
    result, env = tool.evaluate("x ** y", {"x": np.array(2.0), "y": np.array(3.0)})
    d = tool.derivative(result, env["y"], 1)
    assert env["x"].grad is None and env["y"].grad is None
    assert np.isclose(d.data, 8 * np.log(2))
    assert not any("bool" in a["label"] for a in parse_dot(get_dot_graph(d))[0].values())


def test_cli_grads_draws_values_gradients_and_order(capsys):
    tool = load_tool()
    assert (
        tool.main(["x * y + x", "--at", "x=2", "--at", "y=3", "--grads", "--dot", "--brief"]) == 0
    )
    labels = sorted(a["label"] for a in parse_dot(capsys.readouterr().out)[0].values())
    assert labels == [
        "#1 Add",
        "#2 Mul",
        "data: 6\ngrad: 1",
        "f\ndata: 8\ngrad: 1",
        "x\ndata: 2\ngrad: 4",
        "y\ndata: 3\ngrad: 2",
    ]
    assert tool.main(["x", "--at", "x=1", "--grads", "--order", "1", "--dot"]) == 1
    assert "leave out --order" in capsys.readouterr().err


def test_cli_integers_stay_integers(capsys):
    tool = load_tool()
    result, _ = tool.evaluate("sum(x, axis=-1)", {"x": np.array([[1.0, 2.0], [3.0, 4.0]])})
    assert result.data.tolist() == [3.0, 7.0]
    result, _ = tool.evaluate("reshape(x, (2*3,))", {"x": np.arange(6.0).reshape(2, 3)})
    assert result.shape == (6,)
    result, _ = tool.evaluate("x * 2**-1 + 9**9**9", {"x": np.array(4.0)})
    assert result.data == np.inf  # 9**9**9 in float64, not a number with 370 million digits


@pytest.mark.parametrize(
    "expr, at",
    [
        ("sum(broadcast_to(x, (10000000, 10000000)))", "x=1"),
        ("exp(broadcast_to(x, (15000, 15000)))", "x=1"),
        ("matmul(x, transpose(x))", "x=[{}]".format(",".join(["[1]"] * 2000))),
        ("x + transpose(x)", "x=[{}]".format(",".join(["[1]"] * 2000))),
    ],
)
def test_cli_refuses_work_beyond_the_size_limit(capsys, expr, at):
    start = time.monotonic()
    assert load_tool().main([expr, "--at", at, "--dot"]) == 2
    err = capsys.readouterr().err
    assert "refused" in err and "--max-elements" in err and "1,000,000" in err
    assert time.monotonic() - start < 10


def test_cli_long_sums_and_long_formulas(capsys):
    tool = load_tool()
    terms = "+".join(["x"] * 2900)
    result, env = tool.evaluate(terms, {"x": np.array(0.5)})
    assert result.data == 1450.0
    result.backward()
    assert env["x"].grad.data == 2900.0
    assert tool.main(["+".join(["x"] * 100_000), "--at", "x=1", "--dot"]) == 2
    err = capsys.readouterr().err
    assert "nested too deeply" in err and len(err) < 400
    huge = "x + " + "q" * 100_000
    assert tool.main([huge, "--at", "x=1", "--dot"]) == 2
    err = capsys.readouterr().err
    assert "(100004 characters)" in err or "100000 characters" in err
    assert len(err) < 400


@needs_dot
def test_cli_animate(tmp_path, capsys):
    target = tmp_path / "anim.html"
    assert load_tool().main(["tanh(x) * x", "--at", "x=0.5", "--animate", str(target)]) == 0
    page = target.read_text("utf-8")
    assert page.count("<svg") == 3 and "Tanh" in page
