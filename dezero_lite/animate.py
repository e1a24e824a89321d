"""The backward pass as an animation: one picture per Function that backward() runs.

animate_backward(y) runs y.backward() itself, watching each Function's backward method for
the duration, so the gradients end exactly as backward() leaves them (intermediate ones
retained) and the frames show the order the real loop takes.
"""

import html
import json
import os
import re
import textwrap
from typing import Any

import numpy as np

from dezero_lite.core import Variable
from dezero_lite.graph import (
    DOT_TIMEOUT,
    GraphvizNotFoundError,
    _array_of,
    _check_timeout,
    _dot,
    _format_array,
    _is_constant,
    _run_dot,
    walk,
)

__all__ = ["animate_backward", "BackwardAnimation"]

# The local rule each Function applies to its upstream gradient gy, input by input.
_RULES = {
    "Add": ("gy", "gy"),
    "Sub": ("gy", "-gy"),
    "Mul": ("gy * x1", "gy * x0"),
    "Div": ("gy / x1", "-gy * x0 / x1**2"),
    "Neg": ("-gy",),
    "Pow": ("gy * c * x**(c - 1)",),
    "PowVar": ("gy * x1 * x0**(x1 - 1)", "gy * y * log(x0)"),
    "Square": ("gy * 2 * x",),
    "Exp": ("gy * y",),
    "Log": ("gy / x",),
    "Sin": ("gy * cos(x)",),
    "Cos": ("-gy * sin(x)",),
    "Tanh": ("gy * (1 - y**2)",),
    "Sigmoid": ("gy * y * (1 - y)",),
    "ReLU": ("gy * (x > 0)",),
    "Sum": ("gy copied to every element of x",),
    "SumTo": ("gy copied back to x's shape",),
    "BroadcastTo": ("gy summed back to x's shape",),
    "Reshape": ("gy reshaped to x's shape",),
    "Transpose": ("gy transposed back",),
    "MatMul": ("gy @ x1.T", "x0.T @ gy"),
    "Linear": ("gy @ W.T", "x.T @ gy", "gy summed over the batch"),
}


def _text(array, max_values):
    array = np.asarray(_array_of(array))
    if array.size <= max_values:
        return _format_array(array)
    return f"(array of shape {tuple(array.shape)})"


class BackwardAnimation:
    """The frames of one backward pass: DOT texts and a caption each; save() draws them."""

    def __init__(
        self, frames: list[str], captions: list[str], timeout: float | None = DOT_TIMEOUT
    ) -> None:
        self.frames = frames
        self.captions = captions
        self.timeout = timeout

    def __len__(self) -> int:
        return len(self.frames)

    def __repr__(self) -> str:
        return f"<BackwardAnimation with {len(self.frames)} frames>"

    def _sized_frames(self):
        """The frames with every node as big as its biggest label in any frame, so that dot
        lays every frame out the same way and nothing jumps from one frame to the next."""
        plain = _run_dot("".join(self.frames), "plain", self.timeout).decode("utf-8")
        sizes = {}
        for line in plain.splitlines():
            parts = line.split()
            if parts and parts[0] == "node":
                w, h = float(parts[4]), float(parts[5])
                old = sizes.get(parts[1], (0.0, 0.0))
                sizes[parts[1]] = (max(old[0], w), max(old[1], h))
        out = []
        for text in self.frames:

            def fix(m):
                node = m.group(1)
                if node not in sizes:
                    return m.group(0)
                w, h = sizes[node]
                return f"{m.group(0)[:-2]}, width={w:.3f}, height={h:.3f}, fixedsize=true];"

            out.append(re.sub(r"(?m)^(v\d+|f\d+|legend) \[.*\];$", fix, text))
        return out

    def svgs(self) -> list[str]:
        """Each frame as an SVG document (text)."""
        out = []
        for text in self._sized_frames():
            svg = _run_dot(text, "svg", self.timeout).decode("utf-8")
            out.append(svg[svg.index("<svg") :])
        return out

    def pngs(self) -> list[bytes]:
        """Each frame as PNG bytes."""
        return [_run_dot(text, "png", self.timeout) for text in self._sized_frames()]

    def _repr_html_(self):
        """In a notebook: the player page in a frame of its own (its keys and ids stay inside)."""
        try:
            page = _page(self.svgs(), self.captions)
        except GraphvizNotFoundError as e:
            return "<p>" + html.escape(str(e).split("\n")[0]) + "</p>"
        srcdoc = html.escape(page, quote=True)
        return (
            f'<iframe srcdoc="{srcdoc}" style="width: 100%; height: 640px; '
            'border: 1px solid #ced4da"></iframe>'
        )

    def save(self, to_file: str | os.PathLike[str]) -> str:
        """Write to_file: .html (one page, works offline), .gif, or a folder ending in / for PNGs.

        Without Graphviz the frames' DOT text is written beside (name.dot) and
        GraphvizNotFoundError says what to install.
        """
        to_file = os.fspath(to_file)
        kind = (
            "png"
            if to_file.endswith(("/", os.sep)) or os.path.isdir(to_file)
            else os.path.splitext(to_file)[1].lower().lstrip(".")
        )
        if kind not in ("html", "gif", "png"):
            raise ValueError(
                f"Cannot write the animation to {to_file!r}: name a .html or .gif "
                "file, or a folder ending in / for one PNG per frame"
            )
        try:
            if kind == "html":
                _write_html(to_file, self.svgs(), self.captions)
            elif kind == "gif":
                _write_gif(to_file, self.pngs(), self.captions)
            else:
                os.makedirs(to_file, exist_ok=True)
                for i, png in enumerate(self.pngs()):
                    with open(os.path.join(to_file, f"frame{i:03d}.png"), "wb") as f:
                        f.write(png)
                with open(os.path.join(to_file, "captions.txt"), "w", encoding="utf-8") as f:
                    f.write("".join(f"{i} {c}\n" for i, c in enumerate(self.captions)))
        except GraphvizNotFoundError as e:
            dot_file = (
                os.path.join(to_file, "frames.dot")
                if kind == "png"
                else os.path.splitext(to_file)[0] + ".dot"
            )
            if kind == "png":
                os.makedirs(to_file, exist_ok=True)
            with open(dot_file, "w", encoding="utf-8") as f:
                f.write("".join(self.frames))
            raise GraphvizNotFoundError(
                f"Cannot draw the animation {to_file}; the DOT text of "
                f"its {len(self.frames)} frames was written to "
                f"{dot_file}.\n{e}"
            ) from None
        return to_file


def animate_backward(
    output: Variable,
    to_file: str | os.PathLike[str] | None = "backward.html",
    *,
    verbose: bool = False,
    show_values: bool = True,
    max_values: int = 16,
    timeout: float | None = DOT_TIMEOUT,
    **options: Any,
) -> BackwardAnimation:
    """Run output.backward(retain_grad=True), recording each step; draw it to to_file.

    Frame 0 shows the graph before backward with only the seed gradient; frame k shows the
    k-th Function the loop runs (highlighted, with the edges its gradients travel) and every
    gradient known by then; a gradient that arrives twice shows the sum. to_file: .html,
    .gif, a folder ending in / (PNG per frame), or None to only return the frames. Other
    options are those of get_dot_graph. Returns a BackwardAnimation.
    """
    _check_timeout(timeout)
    variables, functions, edges = graph = walk(output)
    calls = []

    def watch(f):
        inner = f.backward

        def backward(*gys):
            inputs = tuple(f.inputs)  # kept now, in case the loop frees the graph as it goes
            gxs = inner(*gys)
            calls.append((f, inputs, gys, gxs))
            return gxs

        return backward

    for f in functions:
        f.backward = watch(f)  # an instance attribute shadows the method for this pass only
    try:
        output.backward(retain_grad=True)
    finally:
        for f in functions:
            del f.backward
    if len(calls) != len(functions):
        raise RuntimeError(
            f"animate_backward saw {len(calls)} of the {len(functions)} Functions "
            "run; the backward loop did not call their backward method"
        )
    frames, captions = _frames(
        output,
        graph,
        calls,
        dict(verbose=verbose, show_values=show_values, max_values=max_values, **options),
    )
    animation = BackwardAnimation(frames, captions, timeout)
    if to_file is not None:
        animation.save(to_file)
    return animation


def _frames(output, graph, calls, options):
    variables, functions, edges = graph
    max_values = options["max_values"]
    var_index = {id(v): i for i, v in enumerate(variables)}
    fn_index = {id(f): k for k, f in enumerate(functions)}
    # Captions need a name for every variable: unnamed ones are called t1, t2, ... in the picture too.
    taken = {v.name for v in variables if v.name is not None}
    names = {id(v): v.name for v in variables if v.name is not None}
    if output.name is None:
        names[id(output)] = "y" if "y" not in taken else "out"
    for i, v in enumerate(variables):
        if id(v) not in names:
            names[id(v)] = f"t{i}" if f"t{i}" not in taken else f"t{i}_"
    yname = names[id(output)]
    if calls:
        f, _, gys, _ = calls[0]
        slot = [ref() for ref in f.outputs].index(output)
        seed = np.asarray(_array_of(gys[slot]))
    else:
        seed = np.asarray(getattr(output.grad, "data", output.grad))
    known = {id(output): seed}
    state = dict(grads=dict(known), fresh={0}, edges=set(), done=set(), current=None, names=names)
    frames = [_dot(output, graph=graph, frame=state, **options)]
    captions = [
        f"Before backward: the seed d{yname}/d{yname} = {_text(seed, max_values)} "
        f"(ones, the shape of {yname}) starts the pass."
    ]
    done = set()
    for step, (f, f_inputs, gys, gxs) in enumerate(calls, 1):
        k = fn_index[id(f)]
        if type(gxs) is not tuple:
            gxs = (gxs,)
        fresh, hot, parts = set(), set(), []
        for kind, a, b in edges:
            if kind == "fv" and a == k:
                hot.add((kind, a, b))
        inputs = [
            _text(x.data, 4) if _is_constant(x) else names.get(id(x), f"x{i}")
            for i, x in enumerate(f_inputs)
        ]
        outs = [ref() for ref in f.outputs]
        rules = [
            _rule(r, inputs, [names.get(id(y), "y") for y in outs if y is not None])
            for r in _RULES.get(type(f).__name__, ())
        ]
        for i, (x, gx) in enumerate(zip(f_inputs, gxs, strict=True)):
            if gx is None or _is_constant(x):
                continue
            gx = np.asarray(_array_of(gx))
            j = var_index[id(x)]
            old = known.get(id(x))
            known[id(x)] = gx if old is None else old + gx
            fresh.add(j)
            hot.add(("vf", j, k))
            rule = rules[i] + " = " if i < len(rules) else ""
            if (
                rule
                and len(gys) == 1
                and gys[0] is not None
                and np.shape(_array_of(gys[0])) != gx.shape
                and type(f).__name__ in ("Add", "Sub", "Mul", "Div")
            ):
                rule = f"({rule[:-3]} summed to the shape {tuple(gx.shape)}) = "
            text = f"d{yname}/d{inputs[i]} = {rule}{_text(gx, max_values)}"
            if old is not None:
                text += (
                    f", added to the {_text(old, max_values)} already there: "
                    f"{_text(known[id(x)], max_values)}"
                )
            parts.append(text)
        gy_text = ", ".join(_text(g, max_values) for g in gys)
        sent = "; ".join(parts) or "nothing back"
        captions.append(
            f"{step}/{len(calls)} {type(f).__name__} gets gy = {gy_text} and sends {sent}."
        )
        state = dict(
            grads=dict(known), fresh=fresh, edges=hot, done=set(done), current=k, names=names
        )
        frames.append(_dot(output, graph=graph, frame=state, **options))
        done.add(k)
    return frames, captions


def _rule(rule, inputs, outputs):
    """A rule such as "gy * x1" with the inputs' and output's names: "gy * b"."""
    table = {f"x{i}": name for i, name in enumerate(inputs)}
    if len(inputs) == 1:
        table["x"] = inputs[0]
    if len(outputs) == 1:
        table["y"] = outputs[0]
    if len(inputs) == 3:  # Linear(x, W, b)
        table.update(x=inputs[0], W=inputs[1])
    return re.sub(r"\b(x\d?|y|W)\b", lambda m: table.get(m[1], m[1]), rule)


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>%(title)s</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: .6em 1.2em; color: #212529; }
h1 { font-size: 1.3em; margin: .2em 0; }
p.help { margin: .2em 0; font-size: .9em; color: #495057; }
#controls { display: flex; gap: .5em; align-items: center; margin: .4em 0; }
#controls input[type=range] { flex: 1; max-width: 30em; }
#caption { min-height: 2.6em; margin: .4em 0; background: #f1f3f5; padding: .4em .8em;
           border-left: 4px solid #e03131; }
.frame { display: none; }
.frame.shown { display: block; }
/* the whole graph in the window, below the controls and the caption */
.frame svg { max-width: 100%%; max-height: calc(100vh - 12.5em); width: auto; height: auto; }
#frames.natural svg { max-height: none; }
#log { display: none; }
</style></head>
<body data-frame="" data-errors="0">
<h1>%(title)s</h1>
<p class="help">Each frame is one step of the backward loop: the red box is the Function running, red arrows
carry its gradients, red outlines mark gradients that just arrived. Keys: left and right arrows,
space to play.</p>
<div id="controls">
<button id="first" title="first frame">First</button>
<button id="prev" title="previous frame (left arrow)">&#x25C0; Previous</button>
<button id="play" title="play (space)">&#x25B6; Play</button>
<button id="next" title="next frame (right arrow)">Next &#x25B6;</button>
<input id="slider" type="range" min="0" max="%(last)d" value="0" aria-label="frame">
<span id="counter"></span>
<button id="zoom" title="the picture at its own size, or fitted to the window">Actual size</button>
</div>
<p id="caption"></p>
<div id="frames">
%(frames)s
</div>
<pre id="log"></pre>
<script>
(function () {
  "use strict";
  var log = document.getElementById("log");
  function note(text) { log.textContent += text + "\\n"; }
  window.addEventListener("error", function (e) {
    document.body.dataset.errors = String(Number(document.body.dataset.errors) + 1);
    note("error: " + e.message);
  });
  var captions = %(captions)s;
  var frames = document.querySelectorAll(".frame");
  var slider = document.getElementById("slider");
  var playButton = document.getElementById("play");
  var current = 0, timer = null;
  function show(i) {
    current = Math.max(0, Math.min(frames.length - 1, i));
    for (var k = 0; k < frames.length; k++) frames[k].classList.toggle("shown", k === current);
    slider.value = current;
    document.getElementById("caption").textContent = captions[current];
    document.getElementById("counter").textContent = "frame " + (current + 1) + " of " + frames.length;
    document.body.dataset.frame = String(current);
    note("frame " + current);
  }
  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    playButton.innerHTML = "&#x25B6; Play";
  }
  function play() {
    if (timer !== null) { stop(); return; }
    if (current === frames.length - 1) show(0);
    playButton.innerHTML = "&#x23F8; Pause";
    timer = setInterval(function () {
      if (current >= frames.length - 1) stop(); else show(current + 1);
    }, 1200);
  }
  document.getElementById("first").onclick = function () { stop(); show(0); };
  document.getElementById("prev").onclick = function () { stop(); show(current - 1); };
  document.getElementById("next").onclick = function () { stop(); show(current + 1); };
  playButton.onclick = play;
  document.getElementById("zoom").onclick = function () {
    var natural = document.getElementById("frames").classList.toggle("natural");
    this.textContent = natural ? "Fit to window" : "Actual size";
  };
  slider.oninput = function () { stop(); show(Number(slider.value)); };
  document.addEventListener("keydown", function (e) {
    if (e.key === "ArrowRight") { stop(); show(current + 1); e.preventDefault(); }
    else if (e.key === "ArrowLeft") { stop(); show(current - 1); e.preventDefault(); }
    else if (e.key === " ") { play(); e.preventDefault(); }
  });
  show(0);
  note("ready");
})();
</script>
</body></html>
"""


def _page(svgs, captions):
    frames = "\n".join(
        f'<div class="frame" id="frame{i}">{svg}</div>' for i, svg in enumerate(svgs)
    )
    # json.dumps escapes quotes; "</" is split so that a caption cannot end the script.
    return _PAGE % dict(
        title="The backward pass, step by step",
        last=len(svgs) - 1,
        frames=frames,
        captions=json.dumps(captions).replace("</", "<\\/"),
    )


def _write_html(path, svgs, captions):
    with open(path, "w", encoding="utf-8") as f:
        f.write(_page(svgs, captions))


def _write_gif(path, pngs, captions):
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        raise ImportError(
            "Writing a GIF needs Pillow: pip install 'dezero_lite[graph]' "
            "(or pip install pillow); an .html animation needs only Graphviz"
        ) from None
    import io

    pictures = [Image.open(io.BytesIO(png)).convert("RGB") for png in pngs]
    width = max(max(p.width for p in pictures), 480)
    try:
        font = ImageFont.load_default(size=15)
    except TypeError:  # Pillow before 10.1 has one small bitmap font
        font = ImageFont.load_default()
    chars = max(30, width // 8)
    wrapped = [textwrap.wrap(c, chars) for c in captions]
    line = 20
    strip = line * max(len(w) for w in wrapped) + 16
    height = max(p.height for p in pictures) + strip
    frames = []
    for picture, lines in zip(pictures, wrapped, strict=True):
        canvas = Image.new("RGB", (width, height), "white")
        canvas.paste(picture, ((width - picture.width) // 2, 0))
        draw = ImageDraw.Draw(canvas)
        top = height - strip + 8
        draw.line([(0, top - 8), (width, top - 8)], fill="#ced4da")
        for n, text in enumerate(lines):
            draw.text((10, top + n * line), text, fill="#212529", font=font)
        frames.append(canvas.quantize(colors=128, method=Image.Quantize.MEDIANCUT))
    durations = [1600] * len(frames)
    durations[-1] = 4000  # linger on the result
    frames[0].save(
        path, save_all=True, append_images=frames[1:], duration=durations, loop=0, disposal=1
    )
