"""The backward pass as an animation: frames, captions, HTML, GIF, and the page in a real browser."""

import io
import os
import re
import shutil

import numpy as np
import pytest

import dezero_lite as dz
import dezero_lite.functions as F
from dezero_lite.animate import BackwardAnimation
from dezero_lite.graph import animate_backward
from test_graph import parse_dot

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz 'dot' not installed")


def build():
    """y = (tanh(x) * x) + x * w: x reaches y three ways, so its gradient is a sum."""
    x = dz.Variable(np.array(0.5), name="x")
    w = dz.Parameter(np.array(2.0), name="w")
    y = F.tanh(x) * x + x * w
    y.name = "y"
    return x, w, y


def every_variable(y):
    out, stack, seen = [y], [y.creator], set()
    while stack:
        f = stack.pop()
        if f is None or f in seen:
            continue
        seen.add(f)
        out += [ref() for ref in f.outputs] + list(f.inputs)
        stack += [v.creator for v in f.inputs]
    return list({id(v): v for v in out}.values())


def test_gradients_end_exactly_as_backward_leaves_them():
    x, w, y = build()
    animation = animate_backward(y, to_file=None)
    x2, w2, y2 = build()
    y2.backward(retain_grad=True)
    mine = [None if v.grad is None else v.grad.data for v in every_variable(y)]
    plain = [None if v.grad is None else v.grad.data for v in every_variable(y2)]
    assert len(mine) == len(plain) and all(a is not None for a in mine)
    for a, b in zip(mine, plain, strict=True):
        assert np.array_equal(a, b)
    t = np.tanh(0.5)
    assert np.isclose(x.grad.data, (1 - t * t) * 0.5 + t + 2.0) and w.grad.data == 0.5
    assert isinstance(animation, BackwardAnimation) and len(animation) == 5  # 4 Functions + 1
    for f in {v.creator for v in every_variable(y) if v.creator is not None}:
        assert "backward" not in vars(f)  # the watch is gone


def labels(text):
    return {n: a["label"] for n, a in parse_dot(text)[0].items()}


def test_frames_show_the_seed_then_one_function_at_a_time():
    x, w, y = build()
    frames = animate_backward(y, to_file=None).frames
    first = labels(frames[0])
    assert first["v0"] == "y\ndata: 1.231\ngrad: 1"
    assert sum("grad:" in label for label in first.values()) == 1  # only the seed
    order = []
    for text in frames[1:]:
        nodes = parse_dot(text)[0]
        current = [n for n, a in nodes.items() if a.get("fillcolor") == "#ff8787"]
        assert len(current) == 1
        order.append(nodes[current[0]]["label"].split("\n")[0])
        hot = re.findall(r"^(\w+) -> (\w+) \[color=\"#e03131\", penwidth=3\];$", text, re.M)
        assert hot and all(current[0] in edge for edge in hot)
    assert order == ["Add", "Mul", "Mul", "Tanh"]  # the order the loop takes them
    # x gets t = tanh(x) from tanh(x) * x, then w = 2 from x * w, then the Tanh term: the sum shows
    t = np.tanh(0.5)
    shown = [
        next((label for label in labels(text).values() if label.startswith("x\n")), None)
        for text in frames
    ]
    grads = [float(s.split("grad: ")[1]) if "grad: " in s else None for s in shown]
    expected = [None, None, t, t + 2.0, t + 2.0 + 0.5 * (1 - t * t)]
    for a, b in zip(grads, expected, strict=True):
        assert (a is None and b is None) or np.isclose(a, b, atol=1e-3)
    with_values = parse_dot(frames[-1])[0]
    assert sum("grad:" in a["label"] for a in with_values.values()) == 6  # every variable by then


def test_captions_say_what_happens():
    x, w, y = build()
    captions = animate_backward(y, to_file=None).captions
    assert captions[0].startswith("Before backward: the seed dy/dy = 1")
    assert captions[1].startswith("1/4 Add gets gy = 1")
    assert "dy/dx = gy * t3 = 0.4621" in captions[2]  # t3 is tanh(x), unnamed, so named for us
    assert "dy/dx = gy * w = 2, added to the 0.4621 already there: 2.462" in captions[3]
    assert "dy/dw = gy * x = 0.5" in captions[3]
    assert captions[4].startswith("4/4 Tanh") and "gy * (1 - t" in captions[4]


def test_big_arrays_show_their_shape_and_options_apply():
    x = dz.Variable(np.arange(40.0).reshape(4, 10) / 40, name="x")
    y = F.sum(F.exp(x))
    frames = animate_backward(y, to_file=None, rankdir="LR", verbose=True).frames
    last = labels(frames[-1])
    assert last["v2"] == "x\n(4, 10) float64\ngrad: (4, 10) float64"
    assert "graph [rankdir=LR];" in frames[-1]


def test_the_watch_is_removed_when_backward_fails():
    class Broken(dz.Function):
        def forward(self, x):
            return x * 2

        def backward(self, gy):
            raise ArithmeticError("broken backward")

    x = dz.Variable(np.array(1.0))
    y = F.exp(Broken()(x))
    with pytest.raises(ArithmeticError):
        animate_backward(y, to_file=None)
    assert "backward" not in vars(y.creator) and "backward" not in vars(y.creator.inputs[0].creator)


def test_a_leaf_alone_and_bad_targets(tmp_path):
    x = dz.Variable(np.array(3.0), name="x")
    animation = animate_backward(x, to_file=None)
    assert len(animation) == 1 and x.grad.data == 1.0
    with pytest.raises(ValueError, match=r"\.html or \.gif"):
        animation.save(tmp_path / "a.mp4")
    with pytest.raises(TypeError, match="get_dot_graph takes the Variable"):
        animate_backward(np.array(1.0), to_file=None)


@needs_dot
def test_html_is_one_self_contained_page(tmp_path):
    x, w, y = build()
    animate_backward(y, to_file=tmp_path / "b.html")
    page = (tmp_path / "b.html").read_text("utf-8")
    assert page.count("<svg") == 5 and page.count('class="frame"') == 5
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", page)  # nothing loaded from outside
    assert "http://" not in page.replace("http://www.w3.org/", "") and "https://" not in page
    for control in (
        'id="prev"',
        'id="next"',
        'id="play"',
        'id="slider"',
        "ArrowRight",
        "ArrowLeft",
    ):
        assert control in page
    sizes = re.findall(r'<svg width="(\w+)" height="(\w+)"', page)
    assert len(set(sizes)) == 1  # every frame laid out the same, so nothing jumps


@needs_dot
def test_gif_and_png_frames(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    x, w, y = build()
    animation = animate_backward(y, to_file=tmp_path / "b.gif")
    with Image.open(tmp_path / "b.gif") as gif:
        assert gif.n_frames == len(animation) == 5
        first = np.asarray(gif.convert("RGB"))
        gif.seek(gif.n_frames - 1)
        last = np.asarray(gif.convert("RGB"))
    assert first.shape == last.shape and not np.array_equal(first, last)
    animation.save(str(tmp_path / "frames") + "/")
    names = sorted(p.name for p in (tmp_path / "frames").iterdir())
    assert names == ["captions.txt"] + [f"frame{i:03d}.png" for i in range(5)]


def test_without_dot_the_frames_are_written_as_text(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    from dezero_lite.graph import GraphvizNotFoundError

    x, w, y = build()
    with pytest.raises(GraphvizNotFoundError, match="5 frames was written to"):
        animate_backward(y, to_file=tmp_path / "b.html")
    assert (tmp_path / "b.dot").read_text("utf-8").count("digraph g {") == 5
    assert x.grad is not None  # backward ran all the same


# In a real browser


def blankness(png_bytes):
    """(share of non-white pixels, number of distinct colours) of a screenshot."""
    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(png_bytes)).convert("RGB"))
    return (img.min(axis=2) < 250).mean(), len(np.unique(img.reshape(-1, 3), axis=0))


@needs_dot
def test_the_page_in_headless_chromium(tmp_path):
    pytest.importorskip("PIL.Image")
    from browser import INSTALL, Browser, find_chromium

    executable = find_chromium()
    if executable is None:
        if os.environ.get("CI"):  # CI installs Chromium (.ci/run): missing there is a failure
            pytest.fail("Chromium is not installed on CI: " + INSTALL)
        pytest.skip("Chromium is not installed: " + INSTALL)
    x, w, y = build()
    animate_backward(y, to_file=tmp_path / "b.html")
    browser = Browser(executable)
    try:
        browser.open((tmp_path / "b.html").as_uri())
        assert browser.evaluate("document.body.dataset.frame") == "0"
        first = browser.screenshot()
        for _ in range(4):
            browser.key("ArrowRight", "ArrowRight", 39)
        assert browser.evaluate("document.body.dataset.frame") == "4"
        assert browser.evaluate("document.getElementById('caption').textContent").startswith(
            "4/4 Tanh"
        )
        last = browser.screenshot()
        browser.key("ArrowLeft", "ArrowLeft", 37)
        assert browser.evaluate("document.body.dataset.frame") == "3"
        browser.evaluate("document.getElementById('prev').click()")
        browser.evaluate(
            "var s = document.getElementById('slider'); s.value = 4;"
            "s.dispatchEvent(new Event('input'))"
        )
        assert browser.evaluate("document.body.dataset.frame") == "4"
        browser.evaluate("document.getElementById('zoom').click()")
        assert browser.evaluate("document.getElementById('frames').className") == "natural"
        log = browser.evaluate("document.getElementById('log').textContent").split("\n")
        assert log[:3] == ["frame 0", "ready", "frame 1"] and "frame 2" in log
        assert browser.evaluate("document.body.dataset.errors") == "0"
        assert browser.errors() == []
    finally:
        browser.close()
    assert first != last
    for shot in (first, last):
        ink, colours = blankness(shot)
        assert ink > 0.03 and colours > 20, (ink, colours)


@needs_dot
def test_a_notebook_shows_the_player():
    x, w, y = build()
    shown = animate_backward(y, to_file=None)._repr_html_()
    assert shown.startswith('<iframe srcdoc="') and shown.count("&lt;svg") == 5


def test_options_of_get_dot_graph_apply_to_frames():
    from dezero_lite.graph import record_layers
    from dezero_lite.models import MLP

    model = MLP((3, 1))
    with record_layers(model):
        y = F.sum(model(dz.Variable(np.ones((2, 2)), name="x")))
    frames = animate_backward(y, to_file=None, color_by="grad", group_layers=True).frames
    first, last = parse_dot(frames[0]), parse_dot(frames[-1])
    assert "legend" in first[0] and "legend" in last[0]
    assert sorted(info["label"] for info in last[2]["clusters"].values()) == ["l0", "l1"]
    coloured = [
        a
        for n, a in last[0].items()
        if n.startswith("v") and a["fillcolor"] not in ("#ffd8a8", "#b2f2bb", "#fff4e6")
    ]
    assert len(coloured) == sum(1 for n in last[0] if n.startswith("v"))  # every one has a grad
