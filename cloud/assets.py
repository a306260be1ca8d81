"""Every Azure ML asset of the course as plain data, ready to be written as YAML.

Paths inside a spec are relative to the YAML file that will hold it. The jobs run the same
entry points as the local course (``python -m data_science.train …``), from ``code:``, the
folder ``cloud/job_code/``: links to exactly the packages a job imports (``data_science``
and ``cloud.steps``), so that the SDK hashes and uploads about thirty files, not the
checkout (it walks a folder, virtual environment included, before ``.amlignore`` applies).

The online endpoint is not here: it serves a bundle (``python -m production bundle``),
which carries its own model, endpoint and deployment YAML.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from data_science.search_space import (
    OBJECTIVE,
    SEARCH_SPACE,
    BanditStopping,
    SearchBudget,
    space_to_azureml,
)
from production.azureml_yaml import content_version, folder_version, schema, to_yaml
from production.deployment import BASE_IMAGE, endpoint_name

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_DIR = ROOT / "cloud" / "azureml"
CONDA_FILE = ROOT / "environment.yml"
JOB_CODE = ROOT / "cloud" / "job_code"
ENVIRONMENT = "mnist-course-kit"
ENVIRONMENT_REF = f"azureml:{ENVIRONMENT}@latest"
DATA_ASSET = "mnist"
# Azure Open Datasets' copy of the four official MNIST IDX files.
MNIST_URL = "https://azureopendatastorage.blob.core.windows.net/mnist/"
COMPUTE = "azureml:cpu-cluster"
EXPERIMENT = "mnist-azureml"
MODEL_NAME = "mnist-cnn"  # the registered model; data_science.train uses the same name
CANDIDATE_NAME = "mnist-cnn-candidate"  # what pipeline and sweep trials register
PDF_MODEL = "pdf-classifier"  # what notebook 02 and data_science.pdf train register
BATCH_ENDPOINT = "pdf-digits-batch"  # before its suffix (production.deployment)
GRID = ("learning_rate", "width")  # what the grid sweep varies; the rest keep their defaults

# The training entry point's knobs exposed as job inputs, with the cloud defaults
# (full MNIST: all 60,000 training digits).
TRAINING_INPUTS: dict[str, Any] = {
    "data_source": "full",
    "epochs": 8,
    "batch_size": 128,
    "learning_rate": 0.003,
    "width": 24,
    "dropout": 0.2,
    "augment": True,
    "max_train_samples": 60000,
    "seed": 0,
}
COMPONENT_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number"}
MNIST_INPUT = {"type": "uri_folder", "path": f"azureml:{DATA_ASSET}@latest", "mode": "ro_mount"}
RUN_OUTPUT = {"type": "uri_folder"}


def relative_to(path: Path, folder: str | Path) -> str:
    """``path`` relative to ``folder``, with forward slashes."""
    return Path(os.path.relpath(path, Path(folder).resolve())).as_posix()


def training_command(data_dir: str, output: str, model_name: str | None, searched=()) -> str:
    """``python -m data_science.train`` with every knob bound to ``${{inputs.*}}``, or to
    ``${{search_space.*}}`` for the names in ``searched``; registering as ``model_name``, or
    (None) not at all."""
    flags = [f"--data-dir {data_dir}"]
    for name in TRAINING_INPUTS:
        source = "search_space" if name in searched else "inputs"
        flags.append(f"--{name.replace('_', '-')} ${{{{{source}.{name}}}}}")
    flags += [f"--output {output}", f"--experiment {EXPERIMENT}"]
    flags.append(f"--model-name {model_name}" if model_name else "--no-register")
    return "python -m data_science.train " + " ".join(flags)


def environment_asset(conda_file: str) -> dict[str, Any]:
    return {
        "$schema": schema("environment"),
        "name": ENVIRONMENT,
        "version": content_version(BASE_IMAGE, CONDA_FILE.read_bytes()),
        "description": "Training environment of the MLOps course kit (conda: environment.yml)",
        "image": BASE_IMAGE,
        "conda_file": conda_file,
    }


def mnist_data_asset() -> dict[str, Any]:
    return {
        "$schema": schema("data"),
        "name": DATA_ASSET,
        "version": content_version(MNIST_URL),
        "description": "MNIST: the four official IDX .gz files (60,000 train, 10,000 test)",
        "type": "uri_folder",
        "path": MNIST_URL,
    }


def training_job(code: str) -> dict[str, Any]:
    """The local training run as a command job; MLflow logs into the workspace there."""
    return {
        "$schema": schema("commandJob"),
        "type": "command",
        "display_name": "mnist-train",
        "experiment_name": EXPERIMENT,
        "description": "python -m data_science.train, the same entry point as local training",
        "code": code,
        "command": training_command("${{inputs.mnist}}", "${{outputs.run_output}}", MODEL_NAME),
        "environment": ENVIRONMENT_REF,
        "compute": COMPUTE,
        "inputs": {"mnist": dict(MNIST_INPUT), **TRAINING_INPUTS},
        "outputs": {"run_output": dict(RUN_OUTPUT)},
    }


def sweepable(distribution: dict[str, Any]) -> dict[str, Any]:
    """Azure ML's choice takes numbers and strings only: booleans become ``true``/``false``,
    which the training entry point reads back (``--augment false``)."""
    values = distribution.get("values")
    if values is None or not any(isinstance(v, bool) for v in values):
        return distribution
    return {
        **distribution,
        "values": [str(v).lower() if isinstance(v, bool) else v for v in values],
    }


def sweep_job(code: str, sampler: str) -> dict[str, Any]:
    """A sweep over ``data_science.search_space``: its space, objective, stopping and budget.
    The grid covers two parameters (over all five it would be 162 trials), and its budget
    is its size: a grid larger than its budget would leave points untried."""
    searched = SEARCH_SPACE if sampler == "random" else {p: SEARCH_SPACE[p] for p in GRID}
    declared = space_to_azureml(searched, sampler)
    space = {name: sweepable(d) for name, d in declared.items()}
    trials = 20 if sampler == "random" else math.prod(len(d["values"]) for d in declared.values())
    # Trials run side by side in the cloud; the rest of the budget is the local search's.
    limits = {
        **SearchBudget(max_trials=trials, max_seconds=7200).to_azureml(),
        "max_concurrent_trials": 4,
    }
    return {
        "$schema": schema("sweepJob"),
        "type": "sweep",
        "display_name": f"mnist-sweep-{sampler}",
        "experiment_name": EXPERIMENT,
        "compute": COMPUTE,
        "sampling_algorithm": sampler,
        "search_space": space,
        "objective": dict(OBJECTIVE),
        "early_termination": BanditStopping().to_azureml(),
        "limits": limits,
        "inputs": {
            "mnist": dict(MNIST_INPUT),
            **{k: v for k, v in TRAINING_INPUTS.items() if k not in space},
        },
        "outputs": {"run_output": dict(RUN_OUTPUT)},
        "trial": {
            "code": code,
            # Trials do not register (each would race the others for the registry): the
            # best trial's run_output holds its model, registered once after the sweep.
            "command": training_command(
                "${{inputs.mnist}}", "${{outputs.run_output}}", None, searched=space
            ),
            "environment": ENVIRONMENT_REF,
        },
    }


def component_version(spec: dict[str, Any], *parts: str) -> str:
    """A component's version follows its content (Azure keeps a component version
    immutable: a changed step under an old version would be refused): the spec without its
    version or code path, and ``parts`` (the code's own version, the steps' versions)."""
    content = {key: value for key, value in spec.items() if key not in ("version", "code")}
    return content_version(to_yaml(content), *parts)


def command_component(
    name: str, description: str, code: str, command: str, inputs: dict, outputs: dict
) -> dict[str, Any]:
    spec = {
        "$schema": schema("commandComponent"),
        "name": name,
        "version": None,
        "display_name": name.replace("_", " "),
        "type": "command",
        "description": description,
        "code": code,
        "environment": ENVIRONMENT_REF,
        "inputs": inputs,
        "outputs": outputs,
        "command": command,
    }
    return {**spec, "version": component_version(spec, folder_version(JOB_CODE))}


def typed_inputs(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: {"type": COMPONENT_TYPES[type(v)], "default": v} for k, v in values.items()}


def pipeline_components(code: str) -> dict[str, dict[str, Any]]:
    """prepare → train → evaluate → register, keyed by file name."""
    folder = {"type": "uri_folder"}
    steps = "python -m cloud.steps"
    prepare = command_component(
        "mnist_prepare",
        "Check the MNIST files against the official checksums and pass them on",
        code,
        f"{steps} prepare --mnist ${{{{inputs.mnist}}}} --out ${{{{outputs.prepared}}}}",
        {"mnist": dict(folder)},
        {"prepared": dict(folder)},
    )
    train = command_component(
        "mnist_train",
        "python -m data_science.train on the prepared data; registers a candidate",
        code,
        training_command("${{inputs.data}}", "${{outputs.run_output}}", CANDIDATE_NAME),
        {"data": dict(folder), **typed_inputs(TRAINING_INPUTS)},
        {"run_output": dict(folder)},
    )
    evaluate = command_component(
        "mnist_evaluate",
        "Does the candidate beat the registered champion on the same test set?",
        code,
        f"{steps} evaluate --trained ${{{{inputs.trained}}}} --data ${{{{inputs.data}}}} "
        f"--model-name {MODEL_NAME} --decision ${{{{outputs.decision}}}}",
        {"trained": dict(folder), "data": dict(folder)},
        {"decision": dict(folder)},
    )
    register = command_component(
        "mnist_register",
        "Register the candidate as the champion, only if the evaluation says so",
        code,
        f"{steps} register --trained ${{{{inputs.trained}}}} "
        f"--decision ${{{{inputs.decision}}}} --model-name {MODEL_NAME}",
        {"trained": dict(folder), "decision": dict(folder)},
        {},
    )
    # Evaluate reads the registry's champion, which may have changed since; register changes
    # the registry. A resubmitted pipeline must run both again, not reuse their earlier
    # (cached) results and silently decide against an old champion or register nothing.
    for decides in (evaluate, register):
        decides["is_deterministic"] = False
    return {
        "component-prepare.yml": prepare,
        "component-train.yml": train,
        "component-evaluate.yml": evaluate,
        "component-register.yml": register,
    }


def pipeline_job() -> dict[str, Any]:
    train_inputs = {name: f"${{{{parent.inputs.{name}}}}}" for name in TRAINING_INPUTS}
    return {
        "$schema": schema("pipelineJob"),
        "type": "pipeline",
        "display_name": "mnist-prepare-train-evaluate-register",
        "experiment_name": EXPERIMENT,
        "settings": {"default_compute": COMPUTE},
        "inputs": {"mnist": dict(MNIST_INPUT), **TRAINING_INPUTS},
        "jobs": {
            "prepare": {
                "component": "./component-prepare.yml",
                "inputs": {"mnist": "${{parent.inputs.mnist}}"},
            },
            "train": {
                "component": "./component-train.yml",
                "inputs": {"data": "${{parent.jobs.prepare.outputs.prepared}}", **train_inputs},
            },
            "evaluate": {
                "component": "./component-evaluate.yml",
                "inputs": {
                    "trained": "${{parent.jobs.train.outputs.run_output}}",
                    "data": "${{parent.jobs.prepare.outputs.prepared}}",
                },
            },
            "register": {
                "component": "./component-register.yml",
                "inputs": {
                    "trained": "${{parent.jobs.train.outputs.run_output}}",
                    "decision": "${{parent.jobs.evaluate.outputs.decision}}",
                },
            },
        },
    }


def pdf_training_job(code: str) -> dict[str, Any]:
    """Notebook 02 end to end as a job (generate labelled PDFs, extract, train): it registers
    the PDF classifier that the batch deployment's pipeline binds."""
    return {
        "$schema": schema("commandJob"),
        "type": "command",
        "display_name": "pdf-classifier-train",
        "experiment_name": "pdf-images",
        "description": "python -m data_science.pdf train: the PDF classifier, as in notebook 02",
        "code": code,
        "command": "python -m data_science.pdf train ${{outputs.run_output}} "
        f"--pdfs ${{{{inputs.pdfs}}}} --epochs ${{{{inputs.epochs}}}} --model-name {PDF_MODEL}",
        "environment": ENVIRONMENT_REF,
        "compute": COMPUTE,
        "inputs": {"pdfs": 1200, "epochs": 8},
        "outputs": {"run_output": dict(RUN_OUTPUT)},
    }


def classify_pdfs_component(code: str) -> dict[str, Any]:
    """The PDF pipeline's batch classifier as a component (one node, all its cores)."""
    return command_component(
        "classify_pdfs",
        "python -m data_science.pdf classify: every image of every PDF in a folder",
        code,
        "python -m data_science.pdf classify ${{inputs.pdfs}} --model ${{inputs.model}} "
        "--out ${{outputs.results}}/classified.csv",
        {"pdfs": {"type": "uri_folder"}, "model": {"type": "mlflow_model"}},
        {"results": {"type": "uri_folder"}},
    )


def classify_pdfs_pipeline(step_version: str, model_version: str) -> dict[str, Any]:
    """A batch deployment runs a pipeline component: here the one classify step (its
    component at ``step_version``). Such a deployment is invoked with data and literal
    inputs only, so the model is bound inside the pipeline, by version: ``@latest`` would
    be resolved once, when the component is created, and a later classifier would clash
    with that version. A new classifier is a new pipeline version (``python -m cloud
    generate --pdf-model-version N``, then ``az ml batch-deployment update``)."""
    spec = {
        "$schema": schema("pipelineComponent"),
        "name": "classify_pdfs_pipeline",
        "version": None,
        "type": "pipeline",
        "description": "Classify every PDF of the input folder",
        "inputs": {"pdfs": {"type": "uri_folder"}},
        "outputs": {"results": {"type": "uri_folder", "mode": "upload"}},
        "jobs": {
            "classify": {
                "type": "command",
                "component": "./component-classify-pdfs.yml",
                "inputs": {
                    "pdfs": "${{parent.inputs.pdfs}}",
                    "model": {
                        "type": "mlflow_model",
                        "path": f"azureml:{PDF_MODEL}:{model_version}",
                    },
                },
                "outputs": {"results": "${{parent.outputs.results}}"},
            }
        },
    }
    return {**spec, "version": component_version(spec, step_version)}


def batch_endpoint() -> dict[str, Any]:
    return {
        "$schema": schema("batchEndpoint"),
        "name": endpoint_name(BATCH_ENDPOINT),
        "description": "Classify a folder of PDFs (e.g. the day's 10,000) in one batch job",
        "auth_mode": "aad_token",
    }


def batch_deployment() -> dict[str, Any]:
    """The SDK sends a pipeline-component deployment's ``settings`` and component only: its
    compute goes in ``settings.default_compute`` (a top-level ``compute`` is dropped)."""
    return {
        "$schema": schema("pipelineComponentBatchDeployment"),
        "name": "classify-pdfs",
        "endpoint_name": endpoint_name(BATCH_ENDPOINT),
        "type": "pipeline",
        "component": "./pipeline-classify-pdfs.yml",
        "settings": {
            "continue_on_step_failure": False,
            "default_compute": COMPUTE.removeprefix("azureml:"),
        },
    }


def all_assets(folder: str | Path, pdf_model_version: str = "1") -> dict[str, dict[str, Any]]:
    """Every asset keyed by its file name, with paths relative to ``folder``; the batch
    deployment serves version ``pdf_model_version`` of the PDF classifier (the first one
    ``pdf-train-job.yml`` registers, by default)."""
    code = relative_to(JOB_CODE, folder)
    classify = classify_pdfs_component(code)
    return {
        "environment.yml": environment_asset(relative_to(CONDA_FILE, folder)),
        "mnist-data.yml": mnist_data_asset(),
        "train-job.yml": training_job(code),
        **pipeline_components(code),
        "pipeline-job.yml": pipeline_job(),
        "sweep-random-job.yml": sweep_job(code, "random"),
        "sweep-grid-job.yml": sweep_job(code, "grid"),
        "pdf-train-job.yml": pdf_training_job(code),
        "component-classify-pdfs.yml": classify,
        "pipeline-classify-pdfs.yml": classify_pdfs_pipeline(
            classify["version"], pdf_model_version
        ),
        "batch-endpoint.yml": batch_endpoint(),
        "batch-deployment.yml": batch_deployment(),
    }
