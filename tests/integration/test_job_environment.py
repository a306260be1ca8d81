"""The Azure ML job environment is complete: a fresh virtual environment holding exactly the
pins of environment.yml, installed without dependency resolution (``--no-deps``), runs the
training entry point end to end, as a job on the cluster would with the uploaded code.
Building it needs the package index, or uv's cache."""

import os
import subprocess

import pytest
import yaml

from production.deployment import ROOT

pytestmark = pytest.mark.integration


def test_training_trains_tracks_and_registers_in_the_job_environment(fresh_venv, tmp_path):
    conda = yaml.safe_load((ROOT / "environment.yml").read_text())
    pins = next(item["pip"] for item in conda["dependencies"] if isinstance(item, dict))
    python = fresh_venv(tmp_path / "venv", pins, "--no-deps")
    command = [str(python), "-m", "data_science.train", "--epochs", "1", "--batch-size", "32"]
    command += ["--max-train-samples", "200", "--output", str(tmp_path / "run")]
    command += ["--model-name", "job-environment"]
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}  # the code is uploaded, not installed
    environment.pop("MLFLOW_TRACKING_URI", None)
    done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "model models:/job-environment/1" in done.stdout
