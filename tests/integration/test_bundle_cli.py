"""`python -m production bundle` takes any MLflow model: a registry URI, a run's model or a
local model folder; a URI that leads nowhere gets one line saying what was tried."""

import json
from pathlib import Path

import pytest

from production.__main__ import main
from production.endpoint import served_model_info

pytestmark = pytest.mark.integration


def bundle(small_run, model: str, out: Path) -> Path:
    argv = ["bundle", "--model", model, "--run-dir", str(small_run.output), "--out", str(out)]
    main([*argv, "--float32"])  # quantizing is tested elsewhere
    return out


@pytest.mark.parametrize(
    ("kind", "name"),
    [("registry", "mnist-cnn"), ("run", "run-"), ("folder", "model")],
)
def test_every_kind_of_model_uri_is_bundled(small_run, tmp_path, monkeypatch, kind, name):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    run_id = small_run.result.run_id
    model = {
        "registry": "models:/mnist-cnn/1",
        "run": f"runs:/{run_id}/model",
        "folder": str(small_run.output / "models" / run_id),
    }[kind]
    out = bundle(small_run, model, tmp_path / "bundle")
    info = served_model_info(out)
    assert info["name"].startswith(name) and info["model_uri"].endswith(model.lstrip("."))
    labels = next(out.glob("model/*/*/labels.json"))
    assert json.loads(labels.read_text()) == [str(digit) for digit in range(10)]


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("models:/no-such-model/1", "models:/no-such-model/1: not found in sqlite:"),
        ("models:/mnist-cnn@no-such-role", "no version of 'mnist-cnn' holds the role"),
        ("runs:/0123456789abcdef/model", "runs:/0123456789abcdef/model: not found in sqlite:"),
        ("nowhere/model", "nowhere/model: neither a models:/ or runs:/ URI nor a folder"),
    ],
)
def test_a_model_that_is_not_there_is_one_clear_line(
    small_run, tmp_path, monkeypatch, model, message
):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with pytest.raises(SystemExit) as stopped:
        bundle(small_run, model, tmp_path / "bundle")
    text = str(stopped.value)
    assert message in text and "\n" not in text
    assert not (tmp_path / "bundle").exists()
