"""Labels for extracted images: a ``file,label`` CSV, or the labelling tool's JSON export.

An image labelled differently by several annotators is a conflict: it is reported and left
out, never copied into each class (which would teach the model both answers).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

CONFLICT_SEPARATOR = "|"


@dataclass(frozen=True)
class LabelSet:
    """Agreed labels, one per file, and the files whose annotators disagreed."""

    labels: pd.DataFrame  # file, label
    conflicts: pd.DataFrame  # file, labels ("cat|dog"), annotations

    def write_csv(self, path: str | Path) -> Path:
        self.labels.to_csv(path, index=False)
        return Path(path)


def resolve_labels(annotations: pd.DataFrame) -> LabelSet:
    """One label per file from (file, label) rows that may repeat; disagreements are
    conflicts."""
    missing = {"file", "label"} - set(annotations.columns)
    if missing:
        raise ValueError(f"labels need the columns file and label; missing {sorted(missing)}")
    rows = annotations[["file", "label"]].astype(str).apply(lambda c: c.str.strip())
    blank = rows[(rows["file"] == "") | (rows["label"] == "")]
    if len(blank):
        raise ValueError(
            f"{len(blank)} label rows have an empty file or label, e.g. row {blank.index[0]}"
        )
    per_file = rows.groupby("file")["label"].agg(
        labels=lambda labels: sorted(set(labels)), annotations="size"
    )
    agreed = per_file["labels"].str.len() == 1
    labels = pd.DataFrame(
        {"file": per_file.index[agreed], "label": per_file["labels"][agreed].str[0].to_numpy()}
    )
    conflicts = per_file[~agreed].reset_index()
    conflicts["labels"] = conflicts["labels"].str.join(CONFLICT_SEPARATOR)
    return LabelSet(labels.reset_index(drop=True), conflicts[["file", "labels", "annotations"]])


def read_labels_csv(path: str | Path) -> LabelSet:
    """Labels from a CSV with the columns ``file`` and ``label``."""
    return resolve_labels(pd.read_csv(path, dtype=str, keep_default_na=False))


def import_annotations(export: str | Path | dict) -> LabelSet:
    """Labels from the labelling tool's export (a path to its JSON, or the parsed JSON):
    ``{"annotations": [{"fileName": "a_page0_index0.png", "annotation": {"label": "cat"}}]}``.
    """
    data = json.loads(Path(export).read_text()) if isinstance(export, str | Path) else export
    if not isinstance(data, dict) or not isinstance(data.get("annotations"), list):
        raise ValueError('an annotation export is a JSON object with an "annotations" list')
    rows = []
    for position, entry in enumerate(data["annotations"]):
        try:
            rows.append({"file": entry["fileName"], "label": entry["annotation"]["label"]})
        except (KeyError, TypeError) as err:
            raise ValueError(
                f"annotation {position} lacks fileName or annotation.label: {entry!r}"
            ) from err
    return resolve_labels(pd.DataFrame(rows, columns=["file", "label"]))
