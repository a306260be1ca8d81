import numpy as np
import pytest
from PIL import Image

from data_science.mnist import load_mnist
from data_science.preprocessing import (
    ImageInputError,
    _fit_in_box,
    normalise_digit,
    normalise_digits,
)


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    weights = image.astype(float)
    rows, cols = np.indices(image.shape)
    return (rows * weights).sum() / weights.sum(), (cols * weights).sum() / weights.sum()


def ink_box(image: np.ndarray) -> tuple[int, int]:
    rows, cols = np.nonzero(image)
    return np.ptp(rows) + 1, np.ptp(cols) + 1


def test_mnist_digits_are_nearly_unchanged():
    digits = load_mnist("sample").x_test[:200]
    normalised = normalise_digits(digits)
    assert normalised.shape == digits.shape and normalised.dtype == np.uint8
    assert np.abs(normalised.astype(int) - digits).mean() < 1.0


def test_a_large_dark_on_light_off_centre_digit_is_normalised():
    page = np.full((120, 90), 250, np.uint8)  # a light page with a dark, off-centre stroke
    page[10:70, 60:68] = 20
    digit = normalise_digit(page)
    assert digit.shape == (28, 28) and digit.max() == 255
    assert max(ink_box(digit)) == 20
    cy, cx = centre_of_mass(digit)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


def test_colour_and_float_inputs_match_gray_uint8():
    gray = np.zeros((40, 40), np.uint8)
    gray[5:30, 10:20] = 200
    gray[25:30, 20:31] = 120  # an asymmetric glyph: no centring tie to break
    rgb = np.repeat(gray[..., None], 3, axis=2)
    expected = normalise_digit(gray)
    np.testing.assert_array_equal(normalise_digit(rgb), expected)
    np.testing.assert_array_equal(normalise_digit(gray / 255.0), expected)


def test_ink_that_already_fits_the_box_is_not_resampled():
    ink = np.zeros((28, 28), np.float32)
    ink[4:24, 9:21] = np.random.default_rng(0).uniform(50, 255, (20, 12))  # 20 high: fits
    crop = Image.fromarray(ink[4:24, 9:21])
    resampled = crop.resize(crop.size, Image.Resampling.LANCZOS)
    np.testing.assert_array_equal(_fit_in_box(ink, ink.max()), np.asarray(resampled))


def test_blank_image_stays_blank():
    assert normalise_digit(np.zeros((28, 28))).max() == 0


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.full((5, 5), np.nan), "finite"),
        (np.array([["a"]]), "numbers"),
        (np.zeros((4, 4, 2)), "channels"),
        (np.zeros(10), "2-D"),
        (np.full((3, 3), 300.0), "0-255"),
    ],
)
def test_bad_images_get_clear_errors(image, message):
    with pytest.raises(ImageInputError, match=message):
        normalise_digit(image)


def test_a_bad_image_in_a_batch_is_named_by_its_index():
    good, bad = np.zeros((28, 28)), np.full((28, 28), np.nan)
    with pytest.raises(ImageInputError, match=r"^image 1: pixels must be finite"):
        normalise_digits([good, bad])
