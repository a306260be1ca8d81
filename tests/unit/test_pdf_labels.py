import json

import pandas as pd
import pytest

from data_science.pdf.labels import import_annotations, read_labels_csv, resolve_labels


def export(*pairs):
    return {"annotations": [{"fileName": f, "annotation": {"label": lab}} for f, lab in pairs]}


def test_disagreeing_annotators_make_a_conflict_that_is_left_out():
    labels = import_annotations(
        export(
            ("a.png", "cat"),
            ("a.png", "dog"),
            ("b.png", "dog"),
            ("b.png", "dog"),
            ("c.png", "other"),
        )
    )
    assert labels.labels.to_dict("records") == [
        {"file": "b.png", "label": "dog"},
        {"file": "c.png", "label": "other"},
    ]
    assert labels.conflicts.to_dict("records") == [
        {"file": "a.png", "labels": "cat|dog", "annotations": 2}
    ]


def test_import_from_a_json_file(tmp_path):
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export(("x_page0_index0.png", "cat"))))
    assert import_annotations(path).labels["label"].tolist() == ["cat"]


@pytest.mark.parametrize(
    "bad",
    [
        {"items": []},
        {"annotations": [{"fileName": "a.png"}]},
        {"annotations": [{"annotation": {}}]},
    ],
)
def test_malformed_exports_are_rejected_with_the_reason(bad):
    with pytest.raises(ValueError, match="annotation"):
        import_annotations(bad)


def test_csv_labels_and_conflicts(tmp_path):
    path = tmp_path / "labels.csv"
    pd.DataFrame({"file": ["a.png", "b.png", "b.png"], "label": ["1", "2", "7"]}).to_csv(
        path, index=False
    )
    labels = read_labels_csv(path)
    assert labels.labels.to_dict("records") == [{"file": "a.png", "label": "1"}]
    assert labels.conflicts["file"].tolist() == ["b.png"]


def test_missing_columns_and_blank_labels_are_errors():
    with pytest.raises(ValueError, match="columns"):
        resolve_labels(pd.DataFrame({"file": ["a.png"]}))
    with pytest.raises(ValueError, match="empty"):
        resolve_labels(pd.DataFrame({"file": ["a.png"], "label": [" "]}))
