"""environment.yml, written from the pins so that it cannot drift from them.

    python -m cloud.conda

environment.yml is the kit's conda environment and the conda file of its Azure ML
environment: the project's dependencies (pyproject.toml) at the versions pinned in
constraints.txt. `make pins` rewrites it after re-resolving the pins. Standard library only,
so that it runs before anything is installed.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = "3.11"  # the version `make pins` resolves for
HEADER = """\
# Conda environment of the kit; also the conda file of its Azure ML environment.
# Written by `python -m cloud.conda` from pyproject.toml and constraints.txt: edit those.
name: mlops-course-kit
channels:
  - conda-forge
dependencies:
"""


def normalised(name: str) -> str:
    """A distribution name as package indexes compare them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(spec: str) -> str:
    return re.match(r"[A-Za-z0-9_.\-]+", spec).group(0).lower()


def conda_environment(pyproject: Path, constraints: Path) -> str:
    """The text of environment.yml: each dependency of the project at its pinned version."""
    pinned = re.findall(r"^([\w.\-]+)==(\S+)", constraints.read_text(), re.M)
    pins = {normalised(name): version for name, version in pinned}
    specs = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    names = [requirement_name(spec) for spec in specs]
    unpinned = [name for name in names if normalised(name) not in pins]
    if unpinned:
        raise ValueError(f"not pinned in {constraints.name}: {', '.join(unpinned)} (make pins)")
    lines = []
    for spec, name in zip(specs, names, strict=True):
        pin = f"{name}=={pins[normalised(name)]}"
        marker = spec.partition(";")[2].strip()  # the platforms it is for, kept for pip
        lines.append(f'      - "{pin}; {marker}"\n' if marker else f"      - {pin}\n")
    return f"{HEADER}  - python={PYTHON}\n  - pip\n  - pip:\n{''.join(lines)}"


def main() -> None:
    target = ROOT / "environment.yml"
    target.write_text(conda_environment(ROOT / "pyproject.toml", ROOT / "constraints.txt"))
    print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
