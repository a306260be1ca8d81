"""The Azure ML job environment is complete: a fresh virtual environment holding exactly the
pins of environment.yml, installed without dependency resolution (``--no-deps``), runs the
training entry point end to end from the job's code folder alone, as a job on the cluster
runs it from the uploaded code.
Building it needs the package index, or uv's cache."""

import os
import subprocess

import pytest
import yaml

from cloud.assets import CONDA_FILE, JOB_CODE

pytestmark = pytest.mark.integration


def test_training_trains_tracks_and_registers_in_the_job_environment(fresh_venv, tmp_path):
    conda = yaml.safe_load(CONDA_FILE.read_text())
    pins = next(item["pip"] for item in conda["dependencies"] if isinstance(item, dict))
    python = fresh_venv(tmp_path / "venv", pins, "--no-deps")
    command = [str(python), "-m", "data_science.train", "--epochs", "1", "--batch-size", "32"]
    command += ["--max-train-samples", "200", "--output", str(tmp_path / "run")]
    command += ["--model-name", "job-environment"]
    # The code is uploaded, not installed: the job imports it from its working directory.
    environment = {
        k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "PYTHONPATH")
    }
    done = subprocess.run(
        command, cwd=JOB_CODE, env=environment, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "model models:/job-environment/1" in done.stdout
