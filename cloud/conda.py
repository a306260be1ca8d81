"""environment.yml, written from the lock so that it cannot drift from it.

    python -m cloud.conda

environment.yml is the conda file of the kit's Azure ML job environment (and a conda
environment for training on a laptop): the core dependencies and the ``azureml-logging``
extra of pyproject.toml, and everything they pull in, each at the version constraints.txt
pins, with its platform marker where it has one. No notebook, serving or cloud-SDK
packages: a job does not run them. `make pins` rewrites it after re-resolving the pins.
Standard library only, so that it runs before anything is installed.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = "3.11"  # the version `make pins` resolves for
JOB_EXTRAS = ("azureml-logging",)  # with the core: what a training job imports
# The lock's own platforms ([tool.uv] environments): true wherever the kit installs.
EVERYWHERE = "sys_platform == 'darwin' or sys_platform == 'linux'"
HEADER = """\
# Conda file of the kit's Azure ML job environment; also a conda environment for training.
# The core dependencies and the azureml-logging extra with everything they pull in, at the
# versions of constraints.txt. Written by `python -m cloud.conda`: edit pyproject.toml.
name: mlops-course-kit
channels:
  - conda-forge
dependencies:
"""


def normalised(name: str) -> str:
    """A distribution name as package indexes compare them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(spec: str) -> str:
    return normalised(re.match(r"[A-Za-z0-9_.\-]+", spec).group(0))


def read_lock(constraints: Path) -> dict[str, tuple[str, set[str]]]:
    """name -> (its pin line, the packages that need it), from uv's annotated output."""
    locked: dict[str, tuple[str, set[str]]] = {}
    name = None
    for line in constraints.read_text().splitlines():
        if line and not line.startswith((" ", "#")):
            name = requirement_name(line)
            locked[name] = (line.strip(), set())
        elif name and line.strip().startswith("#") and line.strip() != "# via":
            parent = line.strip().lstrip("#").strip().removeprefix("via ").split(" (")[0]
            locked[name][1].add(normalised(parent.split("[")[0]))
    return locked


def closure(roots: set[str], locked: dict[str, tuple[str, set[str]]]) -> list[str]:
    """The pin lines of ``roots`` and of everything they need, in name order."""
    unpinned = sorted(roots - set(locked))
    if unpinned:
        raise ValueError(f"not pinned in constraints.txt: {', '.join(unpinned)} (make pins)")
    needed = set(roots)
    while True:
        more = {name for name, (_, needs) in locked.items() if needs & needed} - needed
        if not more:
            return [locked[name][0] for name in sorted(needed)]
        needed |= more


def job_requirements(pyproject: Path) -> set[str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    specs = project["dependencies"] + [
        spec for extra in JOB_EXTRAS for spec in project["optional-dependencies"][extra]
    ]
    return {requirement_name(spec) for spec in specs}


def pip_line(pin: str) -> str:
    requirement, _, marker = (part.strip() for part in pin.partition(";"))
    return f'"{requirement}; {marker}"' if marker and marker != EVERYWHERE else requirement


def conda_environment(pyproject: Path, constraints: Path) -> str:
    """The text of environment.yml: the job's requirements and their closure, pinned."""
    pins = closure(job_requirements(pyproject), read_lock(constraints))
    lines = "".join(f"      - {pip_line(pin)}\n" for pin in pins)
    return f"{HEADER}  - python={PYTHON}\n  - pip\n  - pip:\n{lines}"


def main() -> None:
    target = ROOT / "environment.yml"
    target.write_text(conda_environment(ROOT / "pyproject.toml", ROOT / "constraints.txt"))
    print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
