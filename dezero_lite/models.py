"""Models: Layers that are whole networks, with a picture of their graph."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

import dezero_lite.functions as F
from dezero_lite import layers as L
from dezero_lite._typing import VariableLike
from dezero_lite.core import Variable
from dezero_lite.graph import DotGraph, plot_dot_graph, record_layers

if TYPE_CHECKING:
    from numpy.typing import DTypeLike
    from PIL.Image import Image


class Model(L.Layer):
    """A Layer that is a whole network; `plot` draws the graph of one forward pass."""

    def plot(
        self,
        *inputs: VariableLike,
        to_file: str | os.PathLike[str] = "model.png",
        verbose: bool = True,
        group_layers: bool = True,
        **options: Any,
    ) -> DotGraph:
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

    def __init__(self, *layers: Callable[..., Any]) -> None:
        super().__init__()
        self.layers = []
        for i, layer in enumerate(layers):
            if not callable(layer):
                raise TypeError(
                    f"Sequential takes layers or functions, got "
                    f"{type(layer).__name__} at position {i}"
                )
            if isinstance(layer, L.Layer):
                setattr(self, f"l{i}", layer)
            self.layers.append(layer)

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x


class MLP(Model):
    """Fully connected layers of the given output sizes, `activation` between them (not after the last)."""

    def __init__(
        self, fc_output_sizes: Sequence[int], activation: Callable[[Variable], Variable] = F.sigmoid
    ) -> None:
        super().__init__()
        if not isinstance(fc_output_sizes, (list, tuple)):
            raise TypeError(
                f"MLP takes a list or tuple of layer sizes such as (100, 10), "
                f"got {fc_output_sizes!r}"
            )
        if not fc_output_sizes:
            raise ValueError("MLP needs at least one layer size, such as (100, 10)")
        self.activation = activation
        self.layers = []
        for i, out_size in enumerate(fc_output_sizes):
            layer = L.Linear(out_size)
            setattr(self, f"l{i}", layer)
            self.layers.append(layer)

    def forward(self, x: Variable | np.ndarray) -> Variable:
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
        return self.layers[-1](x)

    def extra_repr(self) -> str:
        return f"activation={getattr(self.activation, '__name__', self.activation)}"


def _load_pretrained(model, url):
    """Load the weight file at url, downloaded once into the cache folder (see utils.get_file)."""
    from dezero_lite import utils

    model.load_weights(utils.get_file(url))


def _global_average_pooling_2d(x):
    n, c, h, w = x.shape
    return F.reshape(F.average_pooling(x, (h, w), stride=1), (n, c))


class VGG16(Model):
    """VGG-16 (Simonyan and Zisserman, 2014) for 224x224 images: 13 3x3 convolutions in five
    blocks, each block ending in a 2x2 max pooling, then three Linear layers to 1000 classes.
    `pretrained=True` loads the ImageNet weights DeZero publishes (about 528 MB, once)."""

    WEIGHTS_PATH = "https://github.com/koki0702/dezero-models/releases/download/v0.1/vgg16.npz"
    BLOCKS = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))

    def __init__(self, pretrained: bool = False) -> None:
        super().__init__()
        self.convs = []
        for i, widths in enumerate(self.BLOCKS, start=1):
            block = []
            for j, out_channels in enumerate(widths, start=1):
                layer = L.Conv2d(out_channels, kernel_size=3, stride=1, pad=1)
                setattr(self, f"conv{i}_{j}", layer)  # DeZero's names: conv1_1 .. conv5_3
                block.append(layer)
            self.convs.append(block)
        self.fc6 = L.Linear(4096)
        self.fc7 = L.Linear(4096)
        self.fc8 = L.Linear(1000)
        if pretrained:
            _load_pretrained(self, VGG16.WEIGHTS_PATH)

    def forward(self, x: Variable | np.ndarray) -> Variable:
        for block in self.convs:
            for conv in block:
                x = F.relu(conv(x))
            x = F.pooling(x, 2, 2)
        x = F.flatten(x)
        x = F.dropout(F.relu(self.fc6(x)))
        x = F.dropout(F.relu(self.fc7(x)))
        return self.fc8(x)

    @staticmethod
    def preprocess(
        image: Image, size: tuple[int, int] | None = (224, 224), dtype: DTypeLike = np.float32
    ) -> np.ndarray:
        """A PIL image as the network wants it: RGB resized to size, channels in BGR order
        minus the ImageNet mean of each, shape (3, H, W)."""
        image = image.convert("RGB")
        if size:
            image = image.resize(size)
        array = np.asarray(image, dtype=dtype)[:, :, ::-1]
        array = array - np.array([103.939, 116.779, 123.68], dtype=dtype)
        return array.transpose((2, 0, 1))


class ResNet(Model):
    """ResNet-50/101/152 (He et al., 2015) for 224x224 images: a 7x7 convolution, max pooling,
    four stages of bottleneck blocks (res2 .. res5), global average pooling, Linear to 1000.
    Layer names and weight layouts are DeZero's, so `pretrained=True` loads its files."""

    WEIGHTS_PATH = "https://github.com/koki0702/dezero-models/releases/download/v0.1/resnet{}.npz"
    BLOCKS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}

    def __init__(self, n_layers: int = 152, pretrained: bool = False) -> None:
        super().__init__()
        if n_layers not in self.BLOCKS:
            raise ValueError(f"ResNet has 50, 101 or 152 layers, not {n_layers!r}")
        block = self.BLOCKS[n_layers]
        # (DeZero's own line passes Chainer's argument order to its Conv2d and builds a
        # 3-channel convolution with a 64x64 kernel; its weight files hold this one.)
        self.conv1 = L.Conv2d(64, 7, stride=2, pad=3)
        self.bn1 = L.BatchNorm()
        self.res2 = BuildingBlock(block[0], 64, 64, 256, 1)
        self.res3 = BuildingBlock(block[1], 256, 128, 512, 2)
        self.res4 = BuildingBlock(block[2], 512, 256, 1024, 2)
        self.res5 = BuildingBlock(block[3], 1024, 512, 2048, 2)
        self.fc6 = L.Linear(1000)
        if pretrained:
            _load_pretrained(self, ResNet.WEIGHTS_PATH.format(n_layers))

    def forward(self, x: Variable | np.ndarray) -> Variable:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.pooling(x, kernel_size=3, stride=2)
        x = self.res5(self.res4(self.res3(self.res2(x))))
        return self.fc6(_global_average_pooling_2d(x))


class ResNet50(ResNet):
    def __init__(self, pretrained: bool = False) -> None:
        super().__init__(50, pretrained)


class ResNet101(ResNet):
    def __init__(self, pretrained: bool = False) -> None:
        super().__init__(101, pretrained)


class ResNet152(ResNet):
    def __init__(self, pretrained: bool = False) -> None:
        super().__init__(152, pretrained)


class BuildingBlock(L.Layer):
    """One ResNet stage: a BottleneckA (a, which may shrink the image) then n_layers - 1
    BottleneckBs (b1, b2, ...)."""

    def __init__(
        self,
        n_layers=None,
        in_channels=None,
        mid_channels=None,
        out_channels=None,
        stride=None,
        downsample_fb=None,
    ):
        super().__init__()
        self.a = BottleneckA(in_channels, mid_channels, out_channels, stride, downsample_fb)
        self._forward = ["a"]
        for i in range(1, n_layers):
            setattr(self, f"b{i}", BottleneckB(out_channels, mid_channels))
            self._forward.append(f"b{i}")

    def forward(self, x):
        for name in self._forward:
            x = getattr(self, name)(x)
        return x


def _conv_bn(out_channels, kernel_size, stride, pad):
    # the input channels are left to the first call (or to load_weights), as in VGG16
    return L.Conv2d(out_channels, kernel_size, stride, pad, nobias=True), L.BatchNorm()


class BottleneckA(L.Layer):
    """1x1, 3x3, 1x1 convolutions beside a 1x1 projection of the input (conv4), added.

    The stride sits on the first 1x1 convolution (MSRA's ResNet) unless
    downsample_fb, which puts it on the 3x3 one (Facebook's)."""

    def __init__(self, in_channels, mid_channels, out_channels, stride=2, downsample_fb=False):
        super().__init__()
        stride_1x1, stride_3x3 = (1, stride) if downsample_fb else (stride, 1)
        self.conv1, self.bn1 = _conv_bn(mid_channels, 1, stride_1x1, 0)
        self.conv2, self.bn2 = _conv_bn(mid_channels, 3, stride_3x3, 1)
        self.conv3, self.bn3 = _conv_bn(out_channels, 1, 1, 0)
        self.conv4, self.bn4 = _conv_bn(out_channels, 1, stride, 0)

    def forward(self, x):
        h1 = F.relu(self.bn1(self.conv1(x)))
        h1 = F.relu(self.bn2(self.conv2(h1)))
        h1 = self.bn3(self.conv3(h1))
        h2 = self.bn4(self.conv4(x))
        return F.relu(h1 + h2)


class BottleneckB(L.Layer):
    """1x1, 3x3, 1x1 convolutions added to the input itself (the image keeps its size)."""

    def __init__(self, in_channels, mid_channels):
        super().__init__()
        self.conv1, self.bn1 = _conv_bn(mid_channels, 1, 1, 0)
        self.conv2, self.bn2 = _conv_bn(mid_channels, 3, 1, 1)
        self.conv3, self.bn3 = _conv_bn(in_channels, 1, 1, 0)

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = F.relu(self.bn2(self.conv2(h)))
        h = self.bn3(self.conv3(h))
        return F.relu(h + x)


def _concat_channels(a, b):
    """a and b side by side along the channel axis, each placed into zeros by GetItemGrad
    (the adjoint of slicing, so the gradient of each part is its slice)."""
    shape = (a.shape[0], a.shape[1] + b.shape[1]) + a.shape[2:]
    left = F.GetItemGrad((slice(None), slice(0, a.shape[1])), shape)(a)
    right = F.GetItemGrad((slice(None), slice(a.shape[1], None)), shape)(b)
    return left + right


class Fire(L.Layer):
    """SqueezeNet's module: a 1x1 'squeeze' convolution, then 1x1 and 3x3 'expand'
    convolutions side by side, their channels concatenated."""

    def __init__(self, squeeze, expand1x1, expand3x3):
        super().__init__()
        self.squeeze = L.Conv2d(squeeze, 1)
        self.expand1x1 = L.Conv2d(expand1x1, 1)
        self.expand3x3 = L.Conv2d(expand3x3, 3, pad=1)

    def forward(self, x):
        x = F.relu(self.squeeze(x))
        return _concat_channels(F.relu(self.expand1x1(x)), F.relu(self.expand3x3(x)))


class SqueezeNet(Model):
    """SqueezeNet 1.1 (Iandola et al., 2016): AlexNet's accuracy with 1.2 M weights, from
    eight Fire modules and a 1x1 convolution to n_classes, averaged over the image.

    DeZero declares this model but leaves it empty and publishes no weights for it."""

    FIRES = (
        (16, 64, 64),
        (16, 64, 64),
        (32, 128, 128),
        (32, 128, 128),
        (48, 192, 192),
        (48, 192, 192),
        (64, 256, 256),
        (64, 256, 256),
    )

    def __init__(self, pretrained: bool = False, n_classes: int = 1000) -> None:
        super().__init__()
        if pretrained:
            raise ValueError(
                "there are no pretrained SqueezeNet weights: DeZero publishes none. "
                "Train the model, or load a file of your own with load_weights"
            )
        self.conv1 = L.Conv2d(64, 3, stride=2)
        for i, widths in enumerate(self.FIRES, start=2):
            setattr(self, f"fire{i}", Fire(*widths))
        self.conv10 = L.Conv2d(n_classes, 1)

    def forward(self, x):
        x = F.pooling(F.relu(self.conv1(x)), 3, 2)
        x = F.pooling(self.fire3(self.fire2(x)), 3, 2)
        x = F.pooling(self.fire5(self.fire4(x)), 3, 2)
        x = self.fire9(self.fire8(self.fire7(self.fire6(x))))
        x = F.relu(self.conv10(F.dropout(x)))
        return _global_average_pooling_2d(x)
