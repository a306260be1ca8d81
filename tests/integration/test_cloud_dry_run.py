"""The training job's own command, run here with small inputs, trains and saves a model."""

from __future__ import annotations

import pytest

from cloud.assets import REFERENCE_DIR
from cloud.dry_run import dry_run

pytestmark = pytest.mark.integration


def test_training_job_command_trains_a_model_locally(tmp_path):
    outputs = dry_run(REFERENCE_DIR / "train-job.yml", tmp_path, max_train_samples=300)
    models = list((outputs / "run_output" / "models").glob("*/MLmodel"))
    assert len(models) == 1
    assert (outputs / "run_output" / "mlflow.db").is_file()
