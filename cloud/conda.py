"""environment.yml, written from the lock so that it cannot drift from it.

    python -m cloud.conda

environment.yml is the conda file of the kit's Azure ML job environment (and a conda
environment for training on a laptop): the core dependencies and the ``azureml-logging``
extra of pyproject.toml, and everything they pull in, each at the version constraints.txt
pins, with its platform marker where it has one. No notebook, serving or cloud-SDK
packages: a job does not run them. `make pins` rewrites it after re-resolving the pins.
The lock is read by ``production.lock``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from production.lock import closure, pip_requirement, read_lock, requirement_name

ROOT = Path(__file__).resolve().parents[1]
PYTHON = "3.11"  # the version `make pins` resolves for
JOB_EXTRAS = ("azureml-logging",)  # with the core: what a training job imports
HEADER = """\
# Conda file of the kit's Azure ML job environment; also a conda environment for training.
# The core dependencies and the azureml-logging extra with everything they pull in, at the
# versions of constraints.txt. Written by `python -m cloud.conda`: edit pyproject.toml.
name: mlops-course-kit
channels:
  - conda-forge
dependencies:
"""


def job_requirements(pyproject: Path) -> set[str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    specs = project["dependencies"] + [
        spec for extra in JOB_EXTRAS for spec in project["optional-dependencies"][extra]
    ]
    return {requirement_name(spec) for spec in specs}


def yaml_scalar(requirement: str) -> str:
    return f'"{requirement}"' if ";" in requirement else requirement


def conda_environment(pyproject: Path, constraints: Path) -> str:
    """The text of environment.yml: the job's requirements and their closure, pinned."""
    pins = closure(job_requirements(pyproject), read_lock(constraints))
    lines = "".join(f"      - {yaml_scalar(pip_requirement(pin))}\n" for pin in pins)
    return f"{HEADER}  - python={PYTHON}\n  - pip\n  - pip:\n{lines}"


def main() -> None:
    target = ROOT / "environment.yml"
    target.write_text(conda_environment(ROOT / "pyproject.toml", ROOT / "constraints.txt"))
    print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
