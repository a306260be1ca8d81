"""The pins live in one place (constraints.txt); environment.yml is written from them."""

from pathlib import Path

import pytest
import yaml

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
