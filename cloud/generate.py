"""Write every Azure ML asset of the course as YAML into a folder."""

from __future__ import annotations

from pathlib import Path

from cloud.assets import all_assets
from production.azureml_yaml import to_yaml, write_yaml


def render(folder: str | Path) -> dict[str, str]:
    """The YAML text of every asset, keyed by file name, with paths relative to ``folder``."""
    return {name: to_yaml(spec) for name, spec in all_assets(folder).items()}


def generate(out: str | Path, pdf_model_version: str = "1") -> list[Path]:
    """Write every asset into ``out`` (created if needed); return the files written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    assets = all_assets(out, pdf_model_version)
    return [write_yaml(out / name, spec) for name, spec in assets.items()]
