"""A request's images are read the same whatever else the request holds."""

import numpy as np
import pytest

from data_science.preprocessing import to_model_input
from production.serving.scoring import ScoringError, decode_batch


def test_same_size_whole_number_images_are_decoded_into_one_array():
    images = decode_batch([[[0, 255], [255, 0]]] * 3)
    assert isinstance(images, np.ndarray) and images.shape == (3, 2, 2)


def test_an_image_reads_the_same_beside_a_float_image():
    """One 0-1 float image must not put a 0/1 integer image on the 0-1 scale."""
    digit = np.ones((28, 28), int)  # integers: the 0-255 scale, so nearly black all over
    digit[4:24, 12:16] = 0
    faint = np.full((28, 28), 0.5).tolist()
    alone = to_model_input(decode_batch([digit.tolist()] * 8))[0]
    beside = to_model_input(decode_batch([digit.tolist()] * 7 + [faint]))[0]
    np.testing.assert_array_equal(alone, beside)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([[[0, 1], [2]]], "image 0: rows of different lengths"),
        ([[[0, 1]], "not base64"], "image 1: not a base64-encoded PNG or JPEG"),
        ([[["a"]]], "image 0: pixels must be numbers"),
    ],
)
def test_a_bad_image_is_named_by_its_index(data, message):
    with pytest.raises(ScoringError, match=message):
        decode_batch(data)
