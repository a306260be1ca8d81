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


PYPROJECT = """[project]
dependencies = ["numpy>=2", "Inference_Schema", "tensorflow==2.21.*; sys_platform == 'darwin'"]
[project.optional-dependencies]
azureml-logging = ["azureml-mlflow"]
notebooks = ["papermill"]
"""
LOCK = """\
azureml-mlflow==1.62.0 ; sys_platform == 'darwin' or sys_platform == 'linux'
    # via mlops-course-kit (pyproject.toml)
inference-schema==1.8 ; sys_platform == 'darwin' or sys_platform == 'linux'
    # via mlops-course-kit (pyproject.toml)
jsonschema==4.0 ; sys_platform == 'darwin' or sys_platform == 'linux'
    # via
    #   inference-schema
    #   papermill
numpy==2.3.5 ; sys_platform == 'darwin' or sys_platform == 'linux'
    # via
    #   mlops-course-kit (pyproject.toml)
    #   tensorflow
papermill==2.7.0 ; sys_platform == 'darwin' or sys_platform == 'linux'
    # via mlops-course-kit (pyproject.toml)
nbclient==0.10 ; sys_platform == 'darwin' or sys_platform == 'linux'
    # via papermill
tensorflow==2.21.0 ; sys_platform == 'darwin'
    # via mlops-course-kit (pyproject.toml)
wrapt==1.16 ; sys_platform == 'darwin'
    # via tensorflow
"""


def environment_for(tmp_path, pyproject: str = PYPROJECT, lock: str = LOCK) -> list[str]:
    (tmp_path / "pyproject.toml").write_text(pyproject)
    (tmp_path / "constraints.txt").write_text(lock)
    env = yaml.safe_load(
        conda_environment(tmp_path / "pyproject.toml", tmp_path / "constraints.txt")
    )
    assert env["dependencies"][:2] == ["python=3.11", "pip"]
    return env["dependencies"][2]["pip"]


def test_the_job_environment_is_the_closure_of_the_core_and_its_logging(tmp_path):
    assert environment_for(tmp_path) == [
        "azureml-mlflow==1.62.0",
        "inference-schema==1.8",
        "jsonschema==4.0",  # needed by inference-schema, so in; papermill's other needs out
        "numpy==2.3.5",
        "tensorflow==2.21.0; sys_platform == 'darwin'",  # a platform's own marker is kept
        "wrapt==1.16; sys_platform == 'darwin'",
    ]


def test_a_dependency_without_a_pin_is_named(tmp_path):
    lock = LOCK.replace("numpy==2.3.5", "scipy==1.17.1")
    with pytest.raises(ValueError, match=r"not pinned in constraints.txt: numpy \(make pins\)"):
        environment_for(tmp_path, lock=lock)


def test_the_job_environment_holds_no_notebook_serving_or_cloud_sdk_package():
    pins = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"][2]["pip"]
    names = {Requirement(pin).name.lower() for pin in pins}
    assert {"tensorflow-cpu", "tensorflow", "keras", "mlflow", "azureml-mlflow"} <= names
    unwanted = {"papermill", "ipykernel", "jupyterlab", "tensorboard", "azure-ai-ml"}
    unwanted |= {"azureml-inference-server-http", "onnxruntime", "tf2onnx", "pytest"}
    assert names & unwanted == set()


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
    wanted = [Requirement(spec) for spec in specs if not spec.startswith(project["name"])]
    for requirement in wanted:
        if requirement.marker is None or requirement.marker.evaluate(environment):
            assert requirement.name.lower() in pins, f"{requirement.name} has no pin on {platform}"
    tensorflow = {name for name in pins if name in ("tensorflow", "tensorflow-cpu")}
    assert tensorflow == ({"tensorflow-cpu"} if platform == "linux-x86_64" else {"tensorflow"})
    assert pins[next(iter(tensorflow))] == "==2.21.0"
