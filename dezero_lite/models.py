"""Models: Layers that are whole networks, with a picture of their graph."""
import dezero_lite.functions as F
from dezero_lite import layers as L
from dezero_lite.core import Variable
from dezero_lite.graph import plot_dot_graph, record_layers


class Model(L.Layer):
    """A Layer that is a whole network; `plot` draws the graph of one forward pass."""

    def plot(self, *inputs, to_file="model.png", verbose=True, group_layers=True, **options):
        """Run the model on inputs and draw the graph of that pass into to_file (Graphviz; the
        .dot text goes beside it). Each layer is a labelled box (l0, encoder/conv1) holding its
        Functions and Parameters; other options are those of get_dot_graph. An ndarray input
        is drawn inside the box of the first Function that takes it (as a constant); pass a
        named Variable of the model's dtype to see it as a node of its own."""
        with record_layers(self):
            y = self(*inputs)
        if isinstance(y, Variable) and y.name is None:
            y.name = "y"
        group_layers = group_layers and bool(self.named_layers())  # a flat model has no boxes
        return plot_dot_graph(y, verbose, to_file=to_file, group_layers=group_layers, **options)


class Sequential(Model):
    """Layers (or plain functions such as F.relu) applied one after another; layers are named l0, l1, ..."""

    def __init__(self, *layers):
        super().__init__()
        self.layers = []
        for i, layer in enumerate(layers):
            if not callable(layer):
                raise TypeError(f"Sequential takes layers or functions, got "
                                f"{type(layer).__name__} at position {i}")
            if isinstance(layer, L.Layer):
                setattr(self, f"l{i}", layer)
            self.layers.append(layer)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class MLP(Model):
    """Fully connected layers of the given output sizes, `activation` between them (not after the last)."""

    def __init__(self, fc_output_sizes, activation=F.sigmoid):
        super().__init__()
        self.activation = activation
        self.layers = []
        for i, out_size in enumerate(fc_output_sizes):
            layer = L.Linear(out_size)
            setattr(self, f"l{i}", layer)
            self.layers.append(layer)

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
        return self.layers[-1](x)

    def extra_repr(self):
        return f"activation={getattr(self.activation, '__name__', self.activation)}"
