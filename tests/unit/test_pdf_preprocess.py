import numpy as np
import pytest

from data_science.pdf.preprocess import flatten_alpha, model_input


def test_transparent_pixels_show_white_paper():
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 2] = 200  # blue ink
    rgba[1, 1, 3] = 255  # one opaque pixel
    flat = flatten_alpha(rgba)
    assert flat.shape == (4, 4, 3)
    assert flat[0, 0].tolist() == [255, 255, 255]
    assert flat[1, 1].tolist() == [0, 0, 200]


def test_digit_drawn_in_the_alpha_channel_is_recognised_like_a_gray_one():
    gray = np.full((28, 28), 255, np.uint8)
    gray[6:22, 12:16] = 0  # a dark stroke on paper
    rgba = np.zeros((28, 28, 4), np.uint8)
    rgba[..., 3] = 255 - gray
    np.testing.assert_array_equal(model_input([rgba]), model_input([gray]))


def test_named_preprocessings_and_their_shapes():
    images = [np.zeros((30, 40), np.uint8), np.zeros((10, 12, 3), np.uint8)]
    assert model_input(images, "digits").shape == (2, 28, 28, 1)
    assert model_input(images, "rgb64").shape == (2, 64, 64, 3)
    assert model_input([], "rgb64").shape == (0, 64, 64, 3)
    with pytest.raises(ValueError, match="unknown preprocessing"):
        model_input(images, "resnet")
