import numpy as np
import pandas as pd
import pytest
from PIL import Image

from data_science.pdf.dataset import build_dataset, load_dataset, split_by_pdf
from data_science.pdf.labels import resolve_labels


def images_of(n_pdfs: int, per_pdf: int = 3) -> pd.DataFrame:
    labels = ["cat", "dog", "other"]
    return pd.DataFrame(
        [
            {"file": f"p{p}_page0_index{i}.png", "pdf": f"p{p}.pdf", "label": labels[p % 3]}
            for p in range(n_pdfs)
            for i in range(per_pdf)
        ]
    )


def test_split_keeps_each_pdf_on_one_side_and_is_stratified():
    images = images_of(60)
    split = split_by_pdf(images, test_fraction=0.2, seed=0)
    assert (images.assign(split=split).groupby("pdf")["split"].nunique() == 1).all()
    test_pdfs = (
        images.assign(split=split).query("split == 'test'").groupby("label")["pdf"].nunique()
    )
    assert test_pdfs.to_dict() == {"cat": 4, "dog": 4, "other": 4}


def test_split_is_deterministic_whatever_the_row_order():
    images = images_of(40)
    split = split_by_pdf(images, seed=3)
    shuffled = images.sample(frac=1.0, random_state=1)
    assert split_by_pdf(shuffled, seed=3).sort_index().equals(split.sort_index())
    assert not split_by_pdf(images, seed=4).equals(split)


@pytest.fixture
def extracted(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    images = images_of(10, per_pdf=2)
    rng = np.random.default_rng(0)
    for file in images["file"]:
        Image.fromarray(rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)).save(folder / file)
    manifest = images.assign(status="ok")
    failed = {"pdf": "broken.pdf", "status": "failed", "reason": "not a PDF"}
    pd.concat([manifest, pd.DataFrame([failed])]).to_csv(folder / "manifest.csv", index=False)
    return folder, images


def test_dataset_folder_manifest_and_version(tmp_path, extracted):
    folder, images = extracted
    annotations = images[["file", "label"]].iloc[1:]  # the first image stays unlabelled
    conflict = pd.DataFrame({"file": [images["file"][2]] * 2, "label": ["cat", "dog"]})
    labels = resolve_labels(pd.concat([annotations.iloc[2:], conflict, annotations.iloc[:1]]))
    version = build_dataset(folder, labels, tmp_path / "v1", progress=False)

    assert len(version.manifest) == len(images) - 2
    assert version.unlabelled == [images["file"][0]]
    assert version.conflicts == [images["file"][2]]
    for row in version.manifest.itertuples():
        assert (tmp_path / "v1" / row.split / row.label / row.file).is_file()
    again = build_dataset(folder, labels, tmp_path / "v2", progress=False)
    assert again.digest == version.digest
    Image.new("RGB", (24, 20)).save(folder / images["file"][5])
    assert build_dataset(folder, labels, tmp_path / "v3", progress=False).digest != version.digest


def test_loaded_data_set_feeds_training(tmp_path, extracted):
    folder, images = extracted
    version = build_dataset(folder, resolve_labels(images), tmp_path / "v", progress=False)
    data = load_dataset(version.folder, "rgb64")
    assert data.x_train.shape[1:] == (64, 64, 3)
    assert len(data.x_train) + len(data.x_test) == len(images)
    assert data.class_names == ["cat", "dog", "other"]
    assert data.digest == version.digest
    assert load_dataset(version.folder, "digits", max_train_samples=3).x_train.shape == (
        3,
        28,
        28,
        1,
    )
