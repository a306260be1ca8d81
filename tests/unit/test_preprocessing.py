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


def one_by_one(stack: np.ndarray) -> np.ndarray:
    return np.stack([normalise_digit(image) for image in stack])


def synthetic_stack(height: int, width: int, count: int = 120) -> np.ndarray:
    """Strokes of every kind: either polarity, faint and strong ink, blank images, ink that
    fits the box and ink that needs a resize, backgrounds that are not 0 or 255."""
    rng = np.random.default_rng(height * 1000 + width)
    stack = np.empty((count, height, width), np.uint8)
    for image in stack:
        background = rng.choice([0, 255, int(rng.integers(0, 256))])
        image[:] = background
        if rng.random() < 0.1:
            continue  # blank
        if height >= 20 and rng.random() < 0.5:  # ink 20 high: fits the box as it is
            top, bottom = (top := rng.integers(0, height - 19)), top + 20
        else:
            top = rng.integers(0, height - 4)
            bottom = rng.integers(top + 1, height + 1)
        left = rng.integers(0, width - 4)
        right = rng.integers(left + 1, min(left + 20, width) + 1)
        image[top:bottom, left:right] = rng.integers(0, 256, (bottom - top, right - left))
        image[0, rng.integers(0, width)] = rng.integers(0, 256)  # an uneven border
    return stack


@pytest.mark.parametrize("shape", [(28, 28), (20, 20), (24, 36), (60, 45), (12, 12)])
def test_the_vectorised_path_matches_the_per_image_path_to_the_bit(shape):
    stack = synthetic_stack(*shape)
    np.testing.assert_array_equal(normalise_digits(stack), one_by_one(stack))
    np.testing.assert_array_equal(normalise_digits(stack.astype(np.int64)), one_by_one(stack))


def test_mnist_sample_through_both_paths_is_identical():
    digits = load_mnist("sample").x_train
    np.testing.assert_array_equal(normalise_digits(digits), one_by_one(digits))


def test_a_stack_with_bad_values_is_named_by_index_as_before():
    stack = np.zeros((10, 28, 28), np.int64)  # enough images for the vectorised path
    stack[9, 5, 5] = 300
    with pytest.raises(ImageInputError, match=r"^image 9: pixels must lie in 0-255"):
        normalise_digits(stack)
