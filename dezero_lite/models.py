"""Models: Layers that are whole networks, with a picture of their graph."""
import dezero_lite.functions as F
from dezero_lite import layers as L
from dezero_lite.graph import plot_dot_graph


class Model(L.Layer):
    """A Layer that is a whole network; `plot` draws the graph of one forward pass."""

    def plot(self, *inputs, to_file="model.png"):
        """Run the model on inputs and draw its graph to to_file (Graphviz; the .dot text goes beside it)."""
        return plot_dot_graph(self(*inputs), verbose=True, to_file=to_file)


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
        if not isinstance(fc_output_sizes, (list, tuple)):
            raise TypeError(f"MLP takes a list or tuple of layer sizes such as (100, 10), "
                            f"got {fc_output_sizes!r}")
        if not fc_output_sizes:
            raise ValueError("MLP needs at least one layer size, such as (100, 10)")
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
