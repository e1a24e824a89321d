"""Image transforms on Pillow images (and arrays), against plain NumPy slicing."""

import sys

import numpy as np
import pytest

from dezero_lite import transforms as T
from dezero_lite.datasets import Dataset

Image = pytest.importorskip("PIL.Image")


def picture(w=6, h=4):
    """An RGB image whose pixel (y, x) is (x, y, x + 10 y): every position is told apart."""
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x, y, x + 10 * y], axis=-1).astype(np.uint8)


def test_to_array_gives_channels_first_and_to_pil_goes_back():
    hwc = picture()
    arr = T.ToArray()(Image.fromarray(hwc))
    assert arr.shape == (3, 4, 6) and arr.dtype == np.float32
    assert np.array_equal(arr, hwc.transpose(2, 0, 1))
    gray = T.ToArray(np.uint8)(Image.fromarray(hwc[..., 2]))
    assert gray.shape == (1, 4, 6) and gray.dtype == np.uint8
    back = T.ToPIL()(hwc.transpose(2, 0, 1))
    assert back.mode == "RGB" and back.size == (6, 4) and np.array_equal(np.asarray(back), hwc)
    assert T.ToPIL()(gray).mode == "L"
    already = np.zeros((3, 2, 2))
    assert T.ToArray()(already) is already


def test_to_pil_and_to_array_refuse_what_they_cannot_convert():
    with pytest.raises(TypeError, match="uint8.*AsType"):
        T.ToPIL()(np.zeros((3, 2, 2), np.float32))
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        T.ToPIL()(np.zeros((2, 2), np.uint8))
    with pytest.raises(TypeError, match="PIL image or an ndarray, got list"):
        T.ToArray()([[1, 2]])


def test_center_crop_takes_the_middle_and_refuses_a_crop_larger_than_the_image():
    hwc = picture(7, 5)
    out = np.asarray(T.CenterCrop((3, 2))(Image.fromarray(hwc)))  # (width, height)
    assert np.array_equal(out, hwc[1:3, 2:5])
    assert np.asarray(T.CenterCrop(5)(Image.fromarray(hwc))).shape == (5, 5, 3)
    with pytest.raises(ValueError, match="crop 8x8 is larger than the image 7x5"):
        T.CenterCrop(8)(Image.fromarray(hwc))
    for bad in (0, (3,), (2, -1), 2.5, True, "4"):
        with pytest.raises(ValueError, match="CenterCrop: size must be"):
            T.CenterCrop(bad)


def test_resize_takes_width_then_height_and_keeps_a_flat_image_flat():
    img = Image.fromarray(np.full((4, 6, 3), 200, np.uint8))
    out = T.Resize((3, 8))(img)
    assert out.size == (3, 8) and np.all(np.asarray(out) == 200)
    assert T.Resize(5)(img).size == (5, 5)
    assert T.Resize(2, mode=Image.NEAREST)(Image.fromarray(picture(4, 4))).size == (2, 2)


def test_convert_changes_the_mode_and_bgr_swaps_red_and_blue():
    hwc = picture()
    img = Image.fromarray(hwc)
    assert np.array_equal(np.asarray(T.Convert("BGR")(img)), hwc[..., ::-1])
    assert T.Convert("L")(img).mode == "L"
    assert T.Convert()(Image.fromarray(hwc[..., 0])).mode == "RGB"


def test_random_horizontal_flip_mirrors_with_probability_p():
    hwc = picture()
    img = Image.fromarray(hwc)
    assert np.array_equal(np.asarray(T.RandomHorizontalFlip(p=1.0)(img)), hwc[:, ::-1])
    assert T.RandomHorizontalFlip(p=0.0)(img) is img
    chw = hwc.transpose(2, 0, 1)
    assert np.array_equal(T.RandomHorizontalFlip(p=1.0)(chw), chw[..., ::-1])
    flip = T.RandomHorizontalFlip(seed=0)
    flipped = sum(not np.array_equal(flip(chw), chw) for _ in range(400))
    assert 160 < flipped < 240
    np.random.seed(5)
    a = [np.array_equal(T.RandomHorizontalFlip()(chw), chw) for _ in range(20)]
    np.random.seed(5)
    b = [np.array_equal(T.RandomHorizontalFlip()(chw), chw) for _ in range(20)]
    assert a == b
    with pytest.raises(ValueError, match="p must be in"):
        T.RandomHorizontalFlip(p=1.5)


def test_a_pipeline_of_pil_images_feeds_a_dataset():
    class Photos(Dataset):
        def prepare(self):
            self.data = [Image.fromarray(picture(10, 8)) for _ in range(3)]
            self.label = np.array([0, 1, 2])

    pipeline = T.Compose(
        [
            T.Convert("RGB"),
            T.Resize((6, 6)),
            T.CenterCrop(4),
            T.ToArray(),
            T.Normalize([0.0, 0.0, 0.0], [255.0, 255.0, 255.0]),
        ]
    )
    x, t = Photos(transform=pipeline)[1]
    assert x.shape == (3, 4, 4) and x.dtype == np.float32 and x.min() >= 0 and x.max() <= 1
    assert t == 1


def test_without_pillow_an_image_transform_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    for make in (
        lambda: T.Resize(4),
        lambda: T.CenterCrop(2),
        lambda: T.Convert("L"),
        lambda: T.ToPIL(),
        lambda: T.ToArray()(object()),
    ):
        with pytest.raises(
            ImportError, match=r"pip install pillow \(or pip install dezero_lite\[image\]\)"
        ):
            make()
    arr = np.ones((1, 2, 2))
    assert T.ToArray()(arr) is arr  # arrays need no Pillow
    assert T.RandomHorizontalFlip(p=1.0)(arr).shape == (1, 2, 2)
