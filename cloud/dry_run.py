"""The training job's own command, run on this machine with small inputs.

The command is taken from the job spec and only its ``${{inputs.*}}``/``${{outputs.*}}``
bindings are replaced, and it runs in the job's code folder, so a dry run proves the cloud
job and a local run are one code path.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from cloud.assets import JOB_CODE
from cloud.validate import BINDING

SMALL_INPUTS = {"data_source": "sample", "epochs": 1, "max_train_samples": 500, "batch_size": 32}


def bind(command: str, values: dict[str, dict[str, Any]]) -> str:
    """The command with every ``${{section.name}}`` replaced by its value."""

    def value(match) -> str:
        section, _, name = match.group(1).partition(".")
        return shlex.quote(str(values[section][name]))

    return BINDING.sub(value, command)


def local_command(job_file: str | Path, output: str | Path, **inputs: Any) -> list[str]:
    """The job's command bound to its own input values, ``inputs`` overriding them, its
    data input pointing at ``output/data`` and every output inside ``output``."""
    job = yaml.safe_load(Path(job_file).read_text(encoding="utf-8"))
    output = Path(output).resolve()
    values = {
        name: str(output / "data") if isinstance(value, dict) else value
        for name, value in (job.get("inputs") or {}).items()
    }
    values.update(inputs)
    outputs = {name: str(output / name) for name in job.get("outputs") or {}}
    argv = shlex.split(bind(job["command"], {"inputs": values, "outputs": outputs}))
    return [sys.executable if argv[0] == "python" else argv[0], *argv[1:]]


def dry_run(job_file: str | Path, output: str | Path, **inputs: Any) -> Path:
    """Run the job's command here (small inputs by default); return its outputs folder."""
    command = local_command(job_file, output, **{**SMALL_INPUTS, **inputs})
    (Path(output) / "data").mkdir(parents=True, exist_ok=True)
    environment = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    job = subprocess.run(
        command, cwd=JOB_CODE, env=environment, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    print(job.stdout, end="")  # the job's log, one stream as Azure ML shows it
    if job.returncode:
        raise subprocess.CalledProcessError(job.returncode, command, job.stdout)
    return Path(output)
