"""Graph pictures: DOT text, rendering through Graphviz, notebook display and the CLI."""
import importlib.util
import os
import re
import shutil
import struct
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import dezero_lite as dz
import dezero_lite.functions as F
from dezero_lite.graph import (
    DotGraph, GraphvizError, GraphvizNotFoundError, get_dot_graph, plot_dot_graph, show)

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "plot_graph.py"
HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz 'dot' not installed")

STYLE = {
    "input": 'shape=ellipse, style=filled, fillcolor="#ffd8a8"',
    "parameter": 'shape=box, style="filled,rounded,bold", fillcolor="#b2f2bb"',
    "intermediate": 'shape=ellipse, style="filled,dashed", fillcolor="#fff4e6"',
    "output": 'shape=ellipse, style=filled, fillcolor="#ffd8a8", peripheries=2',
    "function": 'shape=box, style=filled, fillcolor="#d0ebff"',
}
HEADER = ('digraph g {\ngraph [rankdir=%s];\nnode [fontname="Helvetica", fontsize=12];\n'
          'edge [color="#495057"];\n')


# A small DOT reader: enough of the grammar to check that the text is well formed.

_TOKEN = re.compile(r'\s+|(?P<str>"(?:[^"\\]|\\.)*")|(?P<arrow>->)|(?P<id>[A-Za-z_][A-Za-z_0-9]*'
                    r'|-?\d+(?:\.\d+)?)|(?P<punct>[{}\[\];,=])', re.S)


def tokenize(text):
    tokens, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        assert m, "bad DOT at %r" % text[pos:pos + 30]
        pos = m.end()
        if m.lastgroup:
            tokens.append((m.lastgroup, m.group()))
    return tokens


def unescape(token):
    """The text a DOT label shows: \\\\ is a backslash, \\" a quote, \\n a new line."""
    return re.sub(r'\\(.)', lambda m: {"\\": "\\", '"': '"', "n": "\n"}.get(m[1], "\\" + m[1]),
                  token[1:-1], flags=re.S)


def parse_dot(text):
    """Parse a digraph; return ({node: attrs}, [(tail, head)], graph attrs)."""
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
        assert k in ("id", "str"), (k, v)
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

    nodes, edges, graph = {}, [], {}
    take("id", "digraph")
    if toks[i][0] in ("id", "str"):
        take()
    take("punct", "{")
    while toks[i] != ("punct", "}"):
        first = value()
        if first in ("graph", "node", "edge"):
            a = attrs()
            if first == "graph":
                graph.update(a)
        elif toks[i] == ("arrow", "->"):
            take()
            edges.append((first, value()))
            if toks[i] == ("punct", "["):
                attrs()
        else:
            assert first not in nodes, "node %s declared twice" % first
            nodes[first] = attrs() if toks[i] == ("punct", "[") else {}
        if toks[i] == ("punct", ";"):
            take()
    take("punct", "}")
    assert i == len(toks), "text after the closing brace"
    for tail, head in edges:
        assert tail in nodes and head in nodes, (tail, head)
    return nodes, edges, graph


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
        'v0 [label="y\\n() float64", %(output)s];\n'
        'f0 [label="Tanh", %(function)s];\n'
        'f0 -> v0;\n'
        'v1 [label="x\\n() float64", %(input)s];\n'
        'v1 -> f0;\n'
        '}\n') % STYLE
    assert get_dot_graph(y) == expected


def test_golden_values_order_lr_and_parameter():
    a = dz.Variable(np.array([1.0, 2.0]), name="a")
    b = dz.Parameter(np.array([3.0, 4.0]), name="b")
    d = a * b + a
    d.name = "d"
    expected = HEADER % "LR" + (
        'v0 [label="d\\ndata: [4 10]", %(output)s];\n'
        'f0 [label="#1 Add", %(function)s];\n'
        'f0 -> v0;\n'
        'v1 [label="data: [3 8]", %(intermediate)s];\n'
        'v1 -> f0;\n'
        'v2 [label="a\\ndata: [1 2]", %(input)s];\n'
        'v2 -> f0;\n'
        'f1 [label="#2 Mul", %(function)s];\n'
        'f1 -> v1;\n'
        'v2 -> f1;\n'
        'v3 [label="b\\ndata: [3 4]", %(parameter)s];\n'
        'v3 -> f1;\n'
        '}\n') % STYLE
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
    a = x ** 2
    y = F.exp(a) * F.sin(a) + F.cos(x) - a
    visited, funcs, stack = [], [], [y.creator]
    while stack:
        f = stack.pop()
        if f in funcs:
            continue
        funcs.append(f)
        stack += [v.creator for v in f.inputs if v.creator is not None]
    for f in funcs:
        f.backward = (lambda f, bw: lambda *gys: (visited.append(f), bw(*gys))[1])(f, f.backward)
    nodes, _, _ = parse_dot(get_dot_graph(y, show_order=True))
    drawn = sorted((int(a["label"].split()[0][1:]), a["label"].split()[1])
                   for n, a in nodes.items() if n.startswith("f"))
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


NASTY = ['a"b', "back\\slash", "trail\\", '\\"', "new\nline", "cr\r\nlf", "\\N", "\\n",
         "tab\there", "ünï ∂ 日本 🙂", "<b>html</b>", "{;}->[]=", "sur\udc80", "\x00nul", ""]
SHOWN = ['a"b', "back\\slash", "trail\\", '\\"', "new\nline", "cr\nlf", "\\N", "\\n",
         "tab\\x09here", "ünï ∂ 日本 🙂", "<b>html</b>", "{;}->[]=", "sur\\udc80", "\\x00nul", ""]


@pytest.mark.parametrize("name, shown", list(zip(NASTY, SHOWN)))
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
            plot_dot_graph(y, to_file=str(tmp_path / ("own%d.svg" % i)))
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
    assert names == sorted(["same.png", "same.dot"] + ["own%d.%s" % (i, e)
                                                        for i in range(4) for e in ("svg", "dot")])


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
    for needle in ("apt-get install graphviz", "brew install graphviz", "conda install",
                   "Windows", str(tmp_path / "out.dot"), "PATH"):
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
    code = tool.main(["x * w + 1", "--at", "x=[1,2,3]", "--at", "w=[0.5, -1, 2]",
                      "--order", "1", "--wrt", "w", "--dot", "--values", "--brief"])
    out, err = capsys.readouterr()
    assert code == 0
    assert "differentiating its sum" in err
    nodes, _, _ = parse_dot(out)
    assert nodes["v0"]["label"] == "dy/dw\ndata: [1 2 3]"  # d/dw sum(x*w + 1) = x


def test_cli_needs_wrt_with_several_variables(capsys):
    code = load_tool().main(["x * y", "--at", "x=1", "--at", "y=2", "--order", "1", "--dot"])
    assert code != 0 and "--wrt" in capsys.readouterr().err


@pytest.mark.parametrize("expr", [
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
])
def test_cli_refuses_unsafe_expressions(tmp_path, monkeypatch, capsys, expr):
    monkeypatch.chdir(tmp_path)
    code = load_tool().main([expr, "--at", "x=1.5", "-o", "out.png"])
    assert code == 2
    assert "refused" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_cli_runs_as_a_script():
    proc = subprocess.run(
        [sys.executable, str(TOOL), "x**2 + sin(x)", "--at", "x=3", "--dot"],
        capture_output=True, text=True, timeout=60, cwd=str(ROOT),
        env=dict(os.environ, PYTHONPATH=""))
    assert proc.returncode == 0, proc.stderr
    labels = [a["label"] for a in parse_dot(proc.stdout)[0].values()]
    assert "x\n() float64" in labels and "Sin" in labels and "Pow" in labels


def test_cli_parameters_and_bad_values(capsys):
    tool = load_tool()
    assert tool.main(["sigmoid(sum(x * w) + b)", "--at", "x=[1,2]", "--param", "w=[0.5,-0.3]",
                      "--param", "b=0.1", "--dot", "--brief"]) == 0
    nodes, _, _ = parse_dot(capsys.readouterr().out)
    shapes = {a["label"]: a["shape"] for a in nodes.values()}
    assert shapes["w"] == shapes["b"] == "box" and shapes["x"] == "ellipse"
    for bad in (["x", "--at", "x=abc"], ["x", "--at", "x=[1,[2]]"], ["x", "--at", "1x=2"],
                ["x", "--at", "x=1", "--param", "x=2"], ["x", "--at", "x=1", "--order", "-1"]):
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
    graph = MLP((3, 1)).plot(np.ones((2, 2)), to_file=str(tmp_path / "model.png"))
    png_size(tmp_path / "model.png")
    nodes, _, _ = parse_dot(graph.source)
    params = sorted(a["label"].split("\n")[0] for a in nodes.values() if "rounded" in a["style"])
    assert params == ["W", "W", "b", "b"]


def test_a_missing_folder_is_named(tmp_path):
    x = dz.Variable(np.array(1.0), name="x")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        plot_dot_graph(F.exp(x), to_file=str(tmp_path / "nowhere" / "g.png"))
