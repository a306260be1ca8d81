"""Write every Azure ML asset of the course as YAML into a folder."""

from __future__ import annotations

from pathlib import Path

import yaml

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


def changes_from(base: str | Path, other: str | Path) -> str:
    """How the spec ``other`` differs from ``base``, for reading: its top-level keys that
    ``base`` lacks or sets otherwise, then the keys of ``base`` it drops."""
    first, second = (yaml.safe_load(Path(path).read_text()) for path in (base, other))
    changed = {key: value for key, value in second.items() if first.get(key) != value}
    text = yaml.dump(changed, Dumper=_CompactDumper, sort_keys=False, width=10_000)
    dropped = [key for key in first if key not in second]
    return text + (f"# and none of {Path(base).name}'s {', '.join(dropped)}\n" if dropped else "")


class _CompactDumper(yaml.SafeDumper):
    """Small mappings and lists of short scalars on one line (``{type: choice, values: [32,
    64]}``), everything else as blocks."""

    def represent_mapping(self, tag, mapping, flow_style=None):
        return super().represent_mapping(tag, mapping, _short(mapping.values()) or None)

    def represent_sequence(self, tag, sequence, flow_style=None):
        return super().represent_sequence(tag, sequence, _short(sequence) or None)


def _short(values) -> bool:
    """Short scalars, or short lists of them, in few characters."""
    values = list(values)
    scalar = (str, int, float, bool)
    leaves = all(isinstance(v, scalar) or (isinstance(v, list) and _short(v)) for v in values)
    return leaves and len(str(values)) < 80
