"""The pins live in one place (constraints.txt); environment.yml is written from them."""

import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from cloud.conda import conda_environment

ROOT = Path(__file__).resolve().parents[2]


def test_environment_yml_is_written_from_the_pins():
    expected = conda_environment(ROOT / "pyproject.toml", ROOT / "constraints.txt")
    assert (ROOT / "environment.yml").read_text() == expected, "run: python -m cloud.conda"


def test_every_dependency_gets_its_pinned_version(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\ndependencies = ["numpy>=2", "Inference_Schema"]\n')
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("inference-schema==1.8\n    # via x\nnumpy==2.3.5\nscipy==1.17.1\n")
    env = yaml.safe_load(conda_environment(pyproject, constraints))
    assert env["dependencies"][:2] == ["python=3.11", "pip"]
    assert env["dependencies"][2] == {"pip": ["numpy==2.3.5", "inference_schema==1.8"]}


def test_a_dependency_without_a_pin_is_named(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\ndependencies = ["numpy", "tqdm"]\n')
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("numpy==2.3.5\n")
    with pytest.raises(ValueError, match=r"not pinned in constraints.txt: tqdm \(make pins\)"):
        conda_environment(pyproject, constraints)


def test_a_dependency_for_some_platforms_keeps_its_marker(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        """[project]\ndependencies = ["tensorflow==2.21.*; sys_platform == 'darwin'"]\n"""
    )
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("tensorflow==2.21.0 ; sys_platform == 'darwin'\n")
    env = yaml.safe_load(conda_environment(pyproject, constraints))
    assert env["dependencies"][2] == {"pip": ["tensorflow==2.21.0; sys_platform == 'darwin'"]}


PLATFORMS = {  # the platforms the lock is for, as pip's environment markers see them
    "linux-x86_64": {
        "sys_platform": "linux",
        "platform_machine": "x86_64",
        "platform_system": "Linux",
    },
    "linux-arm64": {
        "sys_platform": "linux",
        "platform_machine": "aarch64",
        "platform_system": "Linux",
    },
    "macos-arm64": {
        "sys_platform": "darwin",
        "platform_machine": "arm64",
        "platform_system": "Darwin",
    },
}


def pins_for(platform: dict[str, str]) -> dict[str, str]:
    """The lock's pins that apply on ``platform``, by normalised name."""
    environment = {"python_version": "3.11", "python_full_version": "3.11.9", **platform}
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith((" ", "#")):
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate(environment):
                pins[requirement.name.lower()] = str(requirement.specifier)
    return pins


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_lock_pins_every_dependency_on_each_platform(platform):
    pins = pins_for(PLATFORMS[platform])
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    environment = {"python_version": "3.11", "python_full_version": "3.11.9", **PLATFORMS[platform]}
    specs = project["dependencies"] + [
        s for extra in project["optional-dependencies"].values() for s in extra
    ]
    wanted = [Requirement(spec) for spec in specs]
    for requirement in wanted:
        if requirement.marker is None or requirement.marker.evaluate(environment):
            assert requirement.name.lower() in pins, f"{requirement.name} has no pin on {platform}"
    tensorflow = {name for name in pins if name in ("tensorflow", "tensorflow-cpu")}
    assert tensorflow == ({"tensorflow-cpu"} if platform == "linux-x86_64" else {"tensorflow"})
    assert pins[next(iter(tensorflow))] == "==2.21.0"
