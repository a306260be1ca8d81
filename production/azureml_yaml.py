"""Azure ML YAML written by hand: ``$schema`` first, keys in the order given, relative paths.

Shared by the bundle's deployment files and every spec in ``cloud``; it lives here because
``cloud`` builds on ``production``, never the reverse.

The SDK's own ``dump()`` is no help here: a dumped command job nests a ``component:`` block
that ``load_job`` rejects, local paths come back absolute as ``azureml:./data``, and
``ManagedOnlineEndpoint.dump(path)`` writes nothing.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import yaml

SCHEMA = "https://azuremlschemas.azureedge.net/latest/{}.schema.json"


def schema(kind: str) -> str:
    """The ``$schema`` URL of an Azure ML YAML kind, e.g. ``commandJob``."""
    return SCHEMA.format(kind)


def schema_kind(spec: dict[str, Any]) -> str | None:
    """``commandJob`` for a spec whose ``$schema`` is the command job schema, else None."""
    url = spec.get("$schema")
    if not isinstance(url, str) or not url.endswith(".schema.json"):
        return None
    return url.rsplit("/", 1)[-1].removesuffix(".schema.json")


class _PlainDumper(yaml.SafeDumper):
    """Writes a value used twice in full both times: YAML's anchors and aliases (``&id001``,
    ``*id001``) are valid but unreadable, and a copy edited later would change both."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def to_yaml(spec: dict[str, Any]) -> str:
    # No line folding: a long command stays on one line, as a reader expects.
    return yaml.dump(spec, Dumper=_PlainDumper, sort_keys=False, width=10_000)


def write_yaml(path: str | Path, spec: dict[str, Any]) -> Path:
    path = Path(path)
    path.write_text(to_yaml(spec), encoding="utf-8")
    return path


def content_version(*contents: str | bytes) -> str:
    """An asset version that follows from the asset's content. Azure keeps versions
    immutable: an unchanged asset names the version already there instead of registering
    another (and rebuilding an environment's image), a changed one gets a new version, and
    a second student's or run folder's model cannot clash with the first. Digits only, as
    the versions Azure gives itself."""
    digest = hashlib.sha256()
    for content in contents:
        digest.update(content.encode() if isinstance(content, str) else content)
    return str(int(digest.hexdigest()[:12], 16))


def folder_version(folder: Path) -> str:
    """``content_version`` of every file in ``folder``, names included, following links as
    Azure ML's upload does; Python's caches left out."""
    files = sorted(
        Path(root, name)
        for root, _, names in os.walk(folder, followlinks=True)
        if "__pycache__" not in Path(root).parts
        for name in names
    )
    parts: list[str | bytes] = []
    for path in files:
        parts += [path.relative_to(folder).as_posix(), path.read_bytes()]
    return content_version(*parts)
