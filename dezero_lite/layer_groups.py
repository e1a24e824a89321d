"""Layers as boxes: which Layer of a model made each Function of a forward pass.

record_layers(model) wraps Layer.__call__ only inside its with block, so a forward pass
outside it costs exactly what it did before; the graph pictures (graph.py) read the result.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from dezero_lite.core import Parameter, Variable

if TYPE_CHECKING:
    from dezero_lite.layers import Layer

__all__ = ["record_layers"]

# Filled only inside record_layers, and weak, so that recording keeps no graph alive:
# id(Function) -> (weakref to it, layer path); id(Parameter) -> (weakref to it, "l0/W")
_layer_of: dict[int, tuple[weakref.ref[Any], str]] = {}
_param_path: dict[int, tuple[weakref.ref[Any], str]] = {}
_recording: list[record_layers] = []  # the active recorders, innermost last


def _remember(table, obj, path):
    if len(table) > 1000:  # drop entries whose object is gone
        for key in [k for k, (ref, _) in table.items() if ref() is None]:
            del table[key]
    table[id(obj)] = (weakref.ref(obj), path)


def _recalled(table, obj):
    hit = table.get(id(obj))
    return hit[1] if hit is not None and hit[0]() is obj else None


class record_layers:
    """Remember which Layer of `model` made each Function of the forward passes run inside.

        with record_layers(model):
            loss = F.softmax_cross_entropy(model(x), t)
        plot_dot_graph(loss, group_layers=True)

    Layer.__call__ is wrapped only inside the with block: training costs nothing extra.
    """

    def __init__(self, model: Layer) -> None:
        from dezero_lite.layers import Layer

        if not isinstance(model, Layer):
            raise TypeError(f"record_layers takes a Layer or Model, not {type(model).__name__}")
        self.model = model
        self.paths: dict[int, str] = {}  # id(sub-layer) -> attribute path
        stack = [("", model)]
        while stack:
            prefix, layer = stack.pop()
            for name, sub in reversed(layer.named_layers()):
                if id(sub) not in self.paths:
                    self.paths[id(sub)] = prefix + name
                    stack.append((prefix + name + "/", sub))
        # call number -> (path, inputs, outputs, parent call number)
        self.calls: dict[int, Any] = {}
        # call numbers in the order the calls returned (inner ones first)
        self.finished: list[int] = []
        self._stack: list[int] = []

    def __enter__(self):
        from dezero_lite.layers import Layer

        if not _recording:
            original = Layer.__call__

            def recording_call(layer, *inputs):
                for rec in reversed(_recording):
                    if id(layer) in rec.paths:
                        return rec._call(original, layer, inputs)
                return original(layer, *inputs)

            Layer.__call__ = recording_call
            record_layers._original = original
        _recording.append(self)
        return self

    def _call(self, original, layer, inputs):
        n = len(self.calls)
        self.calls[n] = None
        parent = self._stack[-1] if self._stack else None
        self._stack.append(n)
        try:
            outputs = original(layer, *inputs)
        finally:
            self._stack.pop()
        self.calls[n] = (self.paths[id(layer)], inputs, outputs, parent)
        self.finished.append(n)
        return outputs

    def __exit__(self, *exc):
        from dezero_lite.layers import Layer

        _recording.remove(self)
        if not _recording:
            Layer.__call__ = record_layers._original
        self._assign()

    def _inside(self, inner, outer):
        n = self.calls[inner][3]
        while n is not None:
            if n == outer:
                return True
            n = self.calls[n][3]
        return False

    def _assign(self):
        """Each Function made by a layer call gets that layer's path: walk back from the call's
        outputs to its inputs, through Functions of calls nested in it, never into other calls'."""
        claimed = {}  # id(Function) -> call number
        for n in self.finished:
            path, inputs, outputs, _ = self.calls[n]
            stop = {id(x) for x in inputs if isinstance(x, Variable)}
            outs = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
            todo = [
                y.creator
                for y in outs
                if isinstance(y, Variable) and y.creator is not None and id(y) not in stop
            ]
            seen = set()
            while todo:
                f = todo.pop()
                if id(f) in seen:
                    continue
                seen.add(id(f))
                owner = claimed.get(id(f))
                if owner is None:
                    claimed[id(f)] = n
                    _remember(_layer_of, f, path)
                elif not self._inside(owner, n):
                    continue  # made by an earlier, separate call (an RNN's state, say)
                todo += [x.creator for x in f.inputs if id(x) not in stop and x.creator is not None]
        for name, p in self.model.named_params():
            _remember(_param_path, p, name)
        self.calls, self.finished = {}, []  # keep no graph alive


def _layer_groups(variables, functions):
    """({path: [function index]}, {path: [variable index]}, {id(Parameter): "l0/W"})."""
    fgroups, vgroups, aliases, made_in = {}, {}, {}, {}
    for k, f in enumerate(functions):
        path = _recalled(_layer_of, f)
        if path is not None:
            fgroups.setdefault(path, []).append(k)
            for ref in f.outputs:
                y = ref()
                if y is not None:
                    made_in[id(y)] = path
    for i, v in enumerate(variables):
        name = _recalled(_param_path, v) if isinstance(v, Parameter) else None
        if name is not None:
            aliases[id(v)] = name
            if "/" in name:
                vgroups.setdefault(name.rpartition("/")[0], []).append(i)
        elif id(v) in made_in and i != 0:
            vgroups.setdefault(made_in[id(v)], []).append(i)
    return fgroups, vgroups, aliases
