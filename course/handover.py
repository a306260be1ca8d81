"""What a notebook hands to the notebooks that stand on it, pinned by version.

A notebook writes what it leaves behind (the model version that won its decision, the
bundle it served) to ``<run_dir>/handover/<notebook>.json``; a notebook that stands on it
reads that record, never a moving role such as ``@champion`` that a later notebook may
have moved. So re-running any notebook, after any other, starts from the same place — as
a production pipeline pins the versions that pass from one step to the next.
"""

from __future__ import annotations

import json
from pathlib import Path


class NotHandedOver(LookupError):
    """The notebook a step stands on has not run (to its end) in this run folder."""


def handover_path(run_dir: str | Path, notebook: str) -> Path:
    return Path(run_dir) / "handover" / f"{notebook}.json"


def hand_over(run_dir: str | Path, notebook: str, **items: str) -> dict[str, str]:
    """Record what ``notebook`` hands on (names to model URIs, paths); return it to show."""
    path = handover_path(run_dir, notebook)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(items, indent=2) + "\n", encoding="utf-8")
    return items


def handed_over(run_dir: str | Path, notebook: str) -> dict[str, str]:
    """What ``notebook`` handed on in this run folder; a clear error when it has not run."""
    path = handover_path(run_dir, notebook)
    if not path.exists():
        raise NotHandedOver(
            f"{notebook} has not run to its end in {Path(run_dir).resolve()}: run it first "
            f"there (or run this notebook with `course run --only NN`, which runs what it "
            "stands on first)"
        )
    return json.loads(path.read_text(encoding="utf-8"))
