"""Foreign digit sources: the rendered default, folder data sets, the labelling split."""

import numpy as np
import pytest
from PIL import Image

from production.foreign import folder_source, load_source, rendered_digits, split_labelled


def test_rendered_digits_are_balanced_varied_and_seeded():
    source = rendered_digits("devanagari", count=40, seed=3)
    assert source.images.dtype == np.uint8 and source.images.shape[0] == 40
    assert np.bincount(source.labels, minlength=10).tolist() == [4] * 10
    first_two_zeros = source.images[source.labels == 0][:2]
    assert not np.array_equal(*first_two_zeros)  # no two drawn alike
    again = rendered_digits("devanagari", count=40, seed=3)
    np.testing.assert_array_equal(again.images, source.images)
    assert not np.array_equal(rendered_digits("devanagari", 40, seed=4).images, source.images)


def test_unknown_script_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown script 'klingon': choose from devanagari"):
        load_source("rendered-klingon")


def test_a_folder_source_reports_the_files_it_could_not_read(tmp_path):
    for digit in (0, 7):
        folder = tmp_path / f"digit_{digit}"
        folder.mkdir()
        image = np.zeros((32, 32), np.uint8)
        image[8:24, 14:18] = 255
        Image.fromarray(image).save(folder / "a.png")
    (tmp_path / "digit_7" / "broken.png").write_bytes(b"not a png")
    source = load_source(str(tmp_path))
    assert source.name == tmp_path.name
    assert sorted(source.labels.tolist()) == [0, 7]
    [(path, reason)] = source.failures
    assert path.name == "broken.png" and "UnidentifiedImageError" in reason
    assert folder_source(tmp_path, name="mine").name == "mine"


def test_labelling_split_is_disjoint_complete_and_checked():
    source = rendered_digits("latin", count=30, seed=0)
    labelled, held_out = split_labelled(source, budget=12, seed=1)
    assert (len(labelled.labels), len(held_out.labels)) == (12, 18)
    together = np.concatenate([labelled.images, held_out.images]).reshape(30, -1)
    assert len(np.unique(together, axis=0)) == 30  # every image once
    assert held_out.name == "latin (rendered), held out"
    for budget in (0, 30):
        with pytest.raises(ValueError, match="label budget"):
            split_labelled(source, budget)


def test_the_embedded_default_is_real_handwriting_balanced_over_ten_digits():
    source = load_source("devanagari")
    assert source.name == "devanagari (handwritten)"
    assert source.images.shape == (3000, 28, 28) and source.images.dtype == np.uint8
    assert np.bincount(source.labels).tolist() == [300] * 10
    assert len(np.unique(source.images.reshape(3000, -1), axis=0)) == 3000  # no copies
