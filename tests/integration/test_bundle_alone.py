"""The bundle runs where only the bundle is: a fresh virtual environment built from its
conda file's pip list alone (no constraints file: what Azure's image build gets), the
inference server started from it.

Proof that conda.yml pins everything code/ needs, every package beneath included, so that
what Azure installs is what runs here; and that code/ needs nothing else of the kit.
Building the environment needs the package index, or uv's cache."""

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from production.endpoint import LocalEndpoint

pytestmark = pytest.mark.integration
SEEDED = {"pip", "setuptools", "wheel"}  # what a new virtual environment starts with


def conda_pins(bundle: Path) -> list[str]:
    conda = yaml.safe_load((bundle / "conda.yml").read_text())
    return next(item["pip"] for item in conda["dependencies"] if isinstance(item, dict))


@pytest.fixture(scope="module")
def bundle_python(small_bundle, tmp_path_factory, fresh_venv) -> Path:
    """A virtual environment built from the bundle's conda file alone."""
    venv = tmp_path_factory.mktemp("bundle-env") / "venv"
    return fresh_venv(venv, conda_pins(small_bundle))


def test_every_package_installed_is_pinned_at_its_version(small_bundle, bundle_python):
    pins = {}
    for line in conda_pins(small_bundle):
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate():
            (version,) = [spec.version for spec in requirement.specifier if spec.operator == "=="]
            pins[canonicalize_name(requirement.name)] = version
    listed = subprocess.run(
        [str(bundle_python), "-m", "pip", "list", "--format", "json"],
        capture_output=True,
        check=True,
    )
    installed = {
        canonicalize_name(package["name"]): package["version"]
        for package in json.loads(listed.stdout)
        if canonicalize_name(package["name"]) not in SEEDED
    }
    assert installed == pins
    assert len(pins) > 50  # the closure, not the eight packages score.py imports


def test_the_bundle_environment_has_no_training_stack(bundle_python):
    probe = """
import importlib.util
def installed(module):
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its parent package is missing
        return False
print([module for module in %r if installed(module)])
"""
    heavy = ("tensorflow", "keras", "mlflow", "tf2onnx", "azure.ai.ml", "tqdm")
    found = subprocess.run([str(bundle_python), "-c", probe % (heavy,)], capture_output=True)
    assert found.stdout.decode().strip() == "[]", found.stderr.decode()


def test_the_bundle_serves_from_its_own_environment(small_bundle, bundle_python, tmp_path):
    sample = json.loads((small_bundle / "sample-request.json").read_text())
    log = tmp_path / "server.log"
    with LocalEndpoint(small_bundle, python=bundle_python, log_file=log) as endpoint:
        status, reply = endpoint.post(sample)
        assert status == 200 and len(reply["predictions"]) == len(sample["data"])
        status, reply = endpoint.post({"data": [[["a"]]]})
        assert status == 400 and "image 0" in reply["error"]
    assert "Traceback" not in log.read_text()


def test_the_bundle_code_names_no_training_stack(small_bundle):
    code = small_bundle / "code"
    files = sorted(str(path.relative_to(code)) for path in code.rglob("*.py"))
    assert files == [
        "data_science/__init__.py",
        "data_science/preprocessing.py",
        "production/__init__.py",
        "production/serving/__init__.py",
        "production/serving/collect.py",
        "production/serving/metrics.py",
        "production/serving/novelty.py",
        "production/serving/scoring.py",
        "score.py",
    ]
    grep = subprocess.run(["grep", "-rliE", "tensorflow|mlflow", str(code)], capture_output=True)
    assert grep.stdout == b""
