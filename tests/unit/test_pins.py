"""The pins live in one place (constraints.txt); environment.yml must mirror them."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def requirement_name(spec: str) -> str:
    return re.match(r"[A-Za-z0-9_.\-]+", spec).group(0).lower()


def test_environment_yml_mirrors_the_pins():
    pins = dict(re.findall(r"^([\w.\-]+)==(\S+)", (ROOT / "constraints.txt").read_text(), re.M))
    pins = {name.lower(): version for name, version in pins.items()}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda_pins = dict(spec.split("==") for spec in pip_section)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {requirement_name(spec) for spec in project["dependencies"]}

    assert set(conda_pins) == wanted
    assert {name: pins.get(name) for name in conda_pins} == conda_pins
    assert "python=3.11" in env["dependencies"]
