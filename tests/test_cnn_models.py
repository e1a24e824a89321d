"""VGG16, ResNet and SqueezeNet: output shapes, DeZero's layer names and weight layouts,
weight files that round-trip, and pretrained downloads (with the network blocked)."""

import io
import urllib.error
import urllib.request

import numpy as np
import pytest

import dezero_lite as dz
import dezero_lite.functions as F
import dezero_lite.layers as L
from dezero_lite import models
from dezero_lite.models import ResNet, ResNet50, ResNet101, ResNet152, SqueezeNet, VGG16
from dezero_lite.utils import gradient_check


def image(size, seed=0):
    return np.random.default_rng(seed).standard_normal((1, 3, size, size)).astype(np.float32)


def run(model, x):
    with dz.test_mode(), dz.no_grad():
        return model(x)


def shapes(model):
    return {name: p.shape for name, p in model.named_params()}


def test_vgg16_has_dezeros_layer_names():
    names = [n for n, _ in VGG16().named_params()]
    convs = [f"conv{i}_{j}" for i, n in enumerate((2, 2, 3, 3, 3), 1) for j in range(1, n + 1)]
    assert names == [f"{layer}/{p}" for layer in convs + ["fc6", "fc7", "fc8"] for p in ("W", "b")]


@pytest.mark.slow  # (this and the others marked slow make full-size weights: seconds each)
def test_vgg16_takes_any_image_of_32_or_more():
    model = VGG16()
    y = run(model, image(32))  # five poolings leave 1x1, so fc6 takes 512 inputs here
    assert y.shape == (1, 1000) and y.dtype == np.float32
    assert shapes(model)["conv3_1/W"] == (256, 128, 3, 3) and shapes(model)["fc6/W"] == (512, 4096)


@pytest.mark.slow
def test_vgg16_on_a_224x224_image():
    model = VGG16()
    # Random weights for fc6's 103 million inputs alone take seconds to draw: give zeros.
    model.fc6.W.data = np.zeros((512 * 7 * 7, 4096), np.float32)
    y = run(model, image(224))
    assert y.shape == (1, 1000) and y.dtype == np.float32
    s = shapes(model)
    assert s["conv1_1/W"] == (64, 3, 3, 3) and s["conv5_3/W"] == (512, 512, 3, 3)
    assert s["fc7/W"] == (4096, 4096) and s["fc8/b"] == (1000,)


def test_vgg16_preprocess_gives_bgr_minus_the_mean_channels_first():
    from PIL import Image  # Pillow comes with matplotlib, which the tests install

    rgb = np.zeros((2, 3, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 10, 20, 30
    x = VGG16.preprocess(Image.fromarray(rgb), size=None)
    assert x.shape == (3, 2, 3) and x.dtype == np.float32
    np.testing.assert_allclose(x[:, 0, 0], [30 - 103.939, 20 - 116.779, 10 - 123.68], rtol=1e-6)
    gray = Image.fromarray(np.full((50, 40), 128, np.uint8))  # any mode is turned into RGB
    x = VGG16.preprocess(gray)
    assert x.shape == (3, 224, 224)
    np.testing.assert_allclose(
        x[:, 100, 100], 128 - np.array([103.939, 116.779, 123.68]), rtol=1e-5
    )


def test_resnet_stages_have_dezeros_names_and_depths():
    for cls, depths in (
        (ResNet50, (3, 4, 6, 3)),
        (ResNet101, (3, 4, 23, 3)),
        (ResNet152, (3, 8, 36, 3)),
    ):
        model = cls()  # weights are made at the first call: building costs nothing
        assert [len(getattr(model, f"res{i}")._forward) for i in range(2, 6)] == list(depths)
    names = [n for n, _ in ResNet50().named_params()]
    assert names[:6] == [
        "conv1/W",
        "conv1/b",
        "bn1/avg_mean",
        "bn1/avg_var",
        "bn1/gamma",
        "bn1/beta",
    ]
    assert "res2/a/conv4/W" in names and "res2/b2/conv3/W" in names and "res5/b2/bn3/beta" in names
    assert names[-2:] == ["fc6/W", "fc6/b"]
    assert not any(n.endswith("conv1/b") and n != "conv1/b" for n in names)  # bottlenecks: nobias
    with pytest.raises(ValueError, match="50, 101 or 152"):
        ResNet(34)


@pytest.mark.slow
def test_resnet50_on_a_224x224_image():
    model = ResNet50()
    y = run(model, image(224))
    assert y.shape == (1, 1000) and y.dtype == np.float32
    s = shapes(model)
    assert s["conv1/W"] == (64, 3, 7, 7) and s["res2/a/conv1/W"] == (64, 64, 1, 1)
    assert s["res3/a/conv2/W"] == (128, 128, 3, 3) and s["res5/a/conv4/W"] == (2048, 1024, 1, 1)
    assert s["res4/b5/bn2/gamma"] == (256,) and s["fc6/W"] == (2048, 1000)
    # the published ResNet-50, plus BatchNorm's running stats
    assert model.count_params() == 25_610_216


@pytest.mark.slow
def test_resnet_trains_on_small_images():
    np.random.seed(0)
    model = ResNet50()
    x, t = np.concatenate([image(32, 0), image(32, 1)]), np.array([3, 7])  # 2: batch norm at 1x1
    loss = F.softmax_cross_entropy(model(x), t)
    loss.backward()
    assert model.conv1.W.grad.shape == (64, 3, 7, 7) and model.res5.b2.bn3.gamma.grad is not None


def test_squeezenet_output_and_round_trip_of_its_weight_file(tmp_path):
    np.random.seed(0)
    model = SqueezeNet()
    x = image(64)
    y = run(model, x)
    assert y.shape == (1, 1000) and y.dtype == np.float32 and (y.data >= 0).all()
    assert model.count_params() == 1_235_496  # SqueezeNet 1.1
    model.save_weights(tmp_path / "squeezenet.npz")
    fresh = SqueezeNet()
    fresh.load_weights(tmp_path / "squeezenet.npz")  # lazy layers take the saved shapes
    np.testing.assert_array_equal(run(fresh, x).data, y.data)
    assert shapes(fresh) == shapes(model) and "fire9/expand3x3/W" in shapes(model)
    with pytest.raises(ValueError, match="no pretrained SqueezeNet"):
        SqueezeNet(pretrained=True)
    assert SqueezeNet(n_classes=10)(image(64)).shape == (1, 10)


@pytest.mark.slow
def test_squeezenet_on_a_224x224_image():
    assert run(SqueezeNet(), image(224)).shape == (1, 1000)


@pytest.mark.slow
def test_resnet_weight_file_round_trip(tmp_path):
    np.random.seed(1)
    model = ResNet50()
    x = image(32)
    y = run(model, x)
    model.save_weights(tmp_path / "resnet50.npz")
    with np.load(tmp_path / "resnet50.npz") as npz:  # DeZero's names and layouts in the file
        assert npz["res3/a/conv1/W"].shape == (128, 256, 1, 1) and npz["bn1/avg_var"].shape == (64,)
    fresh = ResNet50()
    fresh.load_weights(tmp_path / "resnet50.npz")
    np.testing.assert_array_equal(run(fresh, x).data, y.data)


def test_concatenating_channels_is_differentiable():
    a, b = np.random.randn(2, 3, 2, 2), np.random.randn(2, 1, 2, 2)
    y = models._concat_channels(dz.Variable(a), dz.Variable(b))
    np.testing.assert_array_equal(y.data, np.concatenate([a, b], axis=1))
    assert gradient_check(lambda v: models._concat_channels(v, dz.Variable(b)), a)
    assert gradient_check(lambda v: models._concat_channels(dz.Variable(a), v), b)


def _block_network(monkeypatch, calls):
    def no_network(url, *args, **kwargs):
        calls.append(getattr(url, "full_url", url))
        raise urllib.error.URLError("network blocked by the test")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)


@pytest.mark.parametrize(
    "make, file_name",
    [
        (lambda: VGG16(pretrained=True), "vgg16.npz"),
        (lambda: ResNet50(pretrained=True), "resnet50.npz"),
        (lambda: ResNet152(pretrained=True), "resnet152.npz"),
    ],
)
def test_pretrained_offline_names_the_url_and_the_folder_and_leaves_no_file(
    make, file_name, tmp_path, monkeypatch
):
    monkeypatch.setenv("DEZERO_LITE_CACHE", str(tmp_path))
    calls = []
    _block_network(monkeypatch, calls)
    url = "https://github.com/koki0702/dezero-models/releases/download/v0.1/" + file_name
    with pytest.raises(ConnectionError) as err:
        make()
    assert url in str(err.value) and str(tmp_path) in str(err.value)
    assert calls == [url]
    assert list(tmp_path.rglob("*")) == []  # no partial file left behind


def test_pretrained_weights_are_downloaded_once_then_read_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DEZERO_LITE_CACHE", str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()
    source = models.Sequential(L.Conv2d(2, 3, in_channels=1))
    source.save_weights(tmp_path / "published.npz")
    payload = (tmp_path / "published.npz").read_bytes()
    calls = []

    class Response(io.BytesIO):  # what urlopen returns, as far as get_file reads it
        headers = {"Content-Length": str(len(payload))}

    def serve(url, *args, **kwargs):
        calls.append(url)
        return Response(payload)

    monkeypatch.setattr(urllib.request, "urlopen", serve)
    url = "https://example.org/weights/tiny.npz"
    for _ in range(2):
        model = models.Sequential(L.Conv2d(2, 3))
        models._load_pretrained(model, url)
        np.testing.assert_array_equal(model.l0.W.data, source.l0.W.data)
    assert calls == [url] and (tmp_path / "cache" / "tiny.npz").read_bytes() == payload
