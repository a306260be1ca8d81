import numpy as np
import pytest
from PIL import Image

from data_science.folders import class_labels, load_image_folder


def write_digit(path, value=255, size=32):
    image = np.zeros((size, size), np.uint8)
    image[6:26, 12:18] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path)


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["digit_0", "digit_3"], {"digit_0": 0, "digit_3": 3}),
        (["00", "07"], {"00": 0, "07": 7}),
        (["3", "9"], {"3": 3, "9": 9}),
        (["dog", "cat", "other"], {"cat": 0, "dog": 1, "other": 2}),
        (["3", "cat"], {"3": 0, "cat": 1}),
    ],
)
def test_class_names_become_labels(names, expected):
    assert class_labels(names) == expected


def test_loads_normalised_digits_and_reports_unreadable_files(tmp_path):
    write_digit(tmp_path / "digit_1" / "a.png")
    write_digit(tmp_path / "digit_7" / "b.png", size=50)
    write_digit(tmp_path / "digit_7" / "c.png")
    (tmp_path / "digit_7" / "broken.png").write_bytes(b"not a png at all")
    (tmp_path / "digit_7" / "notes.txt").write_text("ignored: not an image")

    data = load_image_folder(tmp_path, progress=False)

    assert data.images.shape == (3, 28, 28) and data.images.dtype == np.uint8
    assert data.labels.tolist() == [1, 7, 7]
    assert data.class_names == ["digit_1", "digit_7"]
    assert [(p.name, "UnidentifiedImageError" in why) for p, why in data.failures] == [
        ("broken.png", True)
    ]
    assert all(max(np.ptp(np.nonzero(img)[k]) + 1 for k in (0, 1)) == 20 for img in data.images)


def test_missing_or_flat_folder_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_image_folder(tmp_path / "nope")
    (tmp_path / "x.png").write_bytes(b"")
    with pytest.raises(ValueError, match="no class sub-folders"):
        load_image_folder(tmp_path)
