"""Broken specs fail validation, one clear line each (file, key, what is wrong)."""

from __future__ import annotations

import shutil
from collections.abc import Callable

import pytest
import yaml

from cloud.__main__ import main
from cloud.validate import validate_file


def edit(key_path: str, value) -> Callable[[dict], None]:
    """Set (or, with value None, delete) a dotted key of a spec."""

    def apply(spec: dict) -> None:
        *parents, last = key_path.split(".")
        for part in parents:
            spec = spec[part]
        if value is None:
            del spec[last]
        else:
            spec[last] = value

    return apply


def rename_command(spec: dict) -> None:
    spec["comand"] = spec.pop("command")


def bad_binding(spec: dict) -> None:
    spec["command"] = spec["command"].replace("${{inputs.epochs}}", "${{inputs.epoch}}")


CASES = {  # name: (file, change, a fragment the problem line must contain)
    "misspelled key": ("train-job.yml", rename_command, "train-job.yml: comand"),
    "missing command": ("component-train.yml", edit("command", None), "command"),
    "bad binding": ("train-job.yml", bad_binding, "no inputs named 'epoch'"),
    "bad output reference": (
        "pipeline-job.yml",
        edit("jobs.register.inputs.decision", "${{parent.jobs.evaluate.outputs.verdict}}"),
        "step 'evaluate' has no output 'verdict'",
    ),
    "missing scoring script": (
        "deployment.yml",
        edit("code_configuration.scoring_script", "production/scorer.py"),
        "production/scorer.py does not exist",
    ),
    "bad instance count": (
        "deployment.yml",
        edit("instance_count", 0),
        "instance_count",
    ),
    "invalid endpoint name": ("endpoint.yml", edit("name", "digits_endpoint!"), "name"),
    "endpoint name over 32 characters": (
        "endpoint.yml",
        edit("name", "handwritten-digits-endpoint-123456"),
        "invalid endpoint name 'handwritten-digits-endpoint-123456': 3-32",
    ),
    "endpoint without a uniqueness suffix": (
        "endpoint.yml",
        edit("name", "digits-endpoint"),
        "endpoint.yml: name: 'digits-endpoint' has no uniqueness suffix",
    ),
    "batch endpoint without a uniqueness suffix": (
        "batch-endpoint.yml",
        edit("name", "pdf-digits-batch"),
        "'pdf-digits-batch' has no uniqueness suffix",
    ),
    "deployment of a model version nothing registers": (
        "deployment.yml",
        edit("model", "azureml:mnist-cnn-onnx:4"),
        "model: azureml:mnist-cnn-onnx:4: this folder creates 'mnist-cnn-onnx' version(s) ['",
    ),
    "deployment of a model nothing creates": (
        "deployment.yml",
        edit("model", "azureml:digits-onnx:1"),
        "model: azureml:digits-onnx:1: no model named 'digits-onnx' is created by a file",
    ),
    "job environment nothing creates": (
        "train-job.yml",
        edit("environment", "azureml:gpu-env@latest"),
        "environment: azureml:gpu-env@latest: no environment named 'gpu-env'",
    ),
    "sweep trial environment nothing creates": (
        "sweep-random-job.yml",
        edit("trial.environment", "azureml:gpu-env:2"),
        "trial.environment: azureml:gpu-env:2: no environment named 'gpu-env'",
    ),
    "data asset nothing creates": (
        "train-job.yml",
        edit("inputs.mnist.path", "azureml:fashion-mnist@latest"),
        "inputs.mnist.path: azureml:fashion-mnist@latest: no data named 'fashion-mnist'",
    ),
    "traffic at creation": (
        "endpoint.yml",
        edit("traffic", {"blue": 100}),
        "endpoint.yml: traffic: cannot be set when an endpoint is created",
    ),
    "workers fewer than concurrent requests": (
        "deployment.yml",
        edit("request_settings.max_concurrent_requests_per_instance", 8),
        "WORKER_COUNT: 2 inference-server workers for 8 concurrent requests",
    ),
    "unpinned deployment image": (
        "deployment.yml",
        edit("environment.image", "mcr.microsoft.com/azureml/openmpi5.0-ubuntu24.04:latest"),
        "environment.image: mcr.microsoft.com/azureml/openmpi5.0-ubuntu24.04:latest: unpinned",
    ),
    "untagged job image": (
        "environment.yml",
        edit("image", "mcr.microsoft.com/azureml/openmpi5.0-ubuntu24.04"),
        "image: mcr.microsoft.com/azureml/openmpi5.0-ubuntu24.04: unpinned",
    ),
    "batch compute outside settings": (
        "batch-deployment.yml",
        edit("compute", "azureml:cpu-cluster"),
        "batch-deployment.yml: compute: Unknown field",
    ),
    "objective nobody logs": (
        "sweep-random-job.yml",
        edit("objective.primary_metric", "val_acc"),
        "objective.primary_metric: 'val_acc' is not logged by the training entry point",
    ),
    "endpoint key the SDK accepts and drops": (
        "endpoint.yml",
        edit("kind", "managed"),
        "endpoint.yml: kind: accepted by the SDK's loader but not kept by its entity",
    ),
    "model key the SDK accepts and drops": (
        "model.yml",
        edit("job_name", "train-20261202"),
        "model.yml: job_name: accepted by the SDK's loader but not kept by its entity",
    ),
    "grid larger than its budget": (
        "sweep-grid-job.yml",
        edit("limits.max_total_trials", 5),
        "5 trials for a grid of 9 points: 4 would never be tried",
    ),
}


def test_a_model_passed_to_a_pipeline_batch_deployment_is_caught(azureml_folder, tmp_path):
    folder = shutil.copytree(azureml_folder, tmp_path / "specs")
    pipeline = yaml.safe_load((folder / "pipeline-classify-pdfs.yml").read_text())
    pipeline["inputs"]["model"] = {"type": "mlflow_model"}
    (folder / "pipeline-classify-pdfs.yml").write_text(yaml.safe_dump(pipeline, sort_keys=False))
    problems = [str(problem) for problem in validate_file(folder / "batch-deployment.yml")]
    assert problems == [
        "batch-deployment.yml: component: input 'model' is mlflow_model: a pipeline batch "
        "deployment is invoked with data and literal inputs only; bind it inside the pipeline"
    ]


@pytest.mark.parametrize("case", CASES)
def test_broken_spec_is_caught(case, azureml_folder, tmp_path):
    file, change, fragment = CASES[case]
    folder = shutil.copytree(azureml_folder, tmp_path / "specs")
    spec = yaml.safe_load((folder / file).read_text())
    change(spec)
    (folder / file).write_text(yaml.safe_dump(spec, sort_keys=False))
    problems = [str(problem) for problem in validate_file(folder / file)]
    assert problems, f"{case}: not caught"
    assert any(fragment in line for line in problems), problems
    assert all(line.startswith(f"{file}: ") and "\n" not in line for line in problems)


def test_a_model_nobody_registers_is_caught_in_a_pipeline_step(azureml_folder, tmp_path):
    folder = shutil.copytree(azureml_folder, tmp_path / "specs")
    (folder / "pdf-train-job.yml").unlink()  # the job that registers the PDF classifier
    problems = [str(p) for p in validate_file(folder / "pipeline-classify-pdfs.yml")]
    assert (
        "pipeline-classify-pdfs.yml: jobs.classify.inputs.model.path: "
        "azureml:pdf-classifier:1: no model named 'pdf-classifier' is created by a file "
        "in this folder (nor registered by a command's --model-name): add its YAML"
    ) in problems


def test_curated_environments_need_no_file(azureml_folder, tmp_path):
    # tmp_path is as deep as azureml_folder: the code root (../..) still resolves
    folder = shutil.copytree(azureml_folder, tmp_path, dirs_exist_ok=True)
    spec = yaml.safe_load((folder / "train-job.yml").read_text())
    spec["environment"] = "azureml:AzureML-tensorflow-2.16-cuda12@latest"
    (folder / "train-job.yml").write_text(yaml.safe_dump(spec, sort_keys=False))
    assert validate_file(folder / "train-job.yml") == []


def test_yaml_syntax_error_is_caught_and_fails_the_command(azureml_folder, tmp_path, capsys):
    folder = shutil.copytree(azureml_folder, tmp_path / "specs")
    (folder / "train-job.yml").write_text("type: command\ncommand: [python -m x\n")
    assert main(["validate", str(folder)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert any(
        line.startswith("train-job.yml: line ") and "YAML syntax error" in line for line in lines
    )
