"""The bundle runs where only the bundle is: a fresh virtual environment built from its
conda file's pip list alone (at the kit's pins), the inference server started from it.

Proof that conda.yml lists everything code/ needs, and that code/ needs nothing else of
the kit. Building the environment needs the package index, or uv's cache."""

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from production.deployment import ROOT
from production.endpoint import LocalEndpoint

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def bundle_python(small_bundle, tmp_path_factory, fresh_venv) -> Path:
    """A virtual environment with the bundle's pip packages and nothing else."""
    conda = yaml.safe_load((small_bundle / "conda.yml").read_text())
    pins = next(item["pip"] for item in conda["dependencies"] if isinstance(item, dict))
    venv = tmp_path_factory.mktemp("bundle-env") / "venv"
    # the same closure as tested here
    return fresh_venv(venv, pins, "-c", str(ROOT / "constraints.txt"))


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
