"""The deployable bundle: everything a managed online deployment needs, in one folder.

bundle/
  code/score.py                                  the scoring script and what it imports:
  code/production/serving/                       decoding, ONNX inference, the collector,
  code/data_science/preprocessing.py             the shared preprocessing (no training,
                                                 no MLflow, no cloud SDK)
  model/<name>/<version>/model.onnx, labels.json the model (int8 when that is safe),
                                                 served by ONNX Runtime
  model/<name>/<version>/novelty.npz             the novelty detector, fitted on the
                                                 served model's features
  conda.yml                                      the serving environment: what code/ imports,
                                                 pinned
  model.yml, endpoint.yml, deployment.yml        Azure ML YAML: the model to register (the
                                                 ONNX model and its labels), the endpoint,
                                                 the deployment that serves that model
  reference/, reference-data.yml, monitor.yml    the monitor: what the collector records for
                                                 clean digits the model never saw (an
                                                 MLTable), and the daily drift and quality
                                                 signals against it
  sample-request.json                            a request to try it with
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import NamedTuple

import numpy as np
import onnxruntime
import pandas as pd

from data_science.mnist import DataUnavailableError, load_mnist
from data_science.model import inference_model, keras, with_features
from data_science.preprocessing import to_model_input
from production.deployment import (
    DEFAULT_INSTANCE_TYPE,
    REFERENCE_FOLDER,
    ROOT,
    SERVED_CODE,
    endpoint_name,
    write_azureml_files,
    write_reference,
)
from production.drift import MAX_FITTED, DriftMonitor, ModelView
from production.endpoint import served_model_info
from production.quantize import quantize_model
from production.serving.collect import collected_records
from production.serving.novelty import NOVELTY_FILE, NoveltyDetector
from production.serving.scoring import Scorer

REFERENCE_DIGITS = 2000  # the monitor's reference: enough for its histograms, a small upload


def export_onnx(model: keras.Model, path: Path) -> None:
    """Export the inference graph (training=False, no augmentation) to ONNX, with two
    outputs: the probabilities, and the penultimate features the novelty score reads."""
    import tensorflow as tf
    import tf2onnx

    serving = with_features(inference_model(model))
    spec = (tf.TensorSpec((None, *serving.input_shape[1:]), tf.float32, name="image"),)
    function = tf.function(lambda images: serving(images, training=False), input_signature=spec)
    tf2onnx.convert.from_function(function, input_signature=spec, output_path=str(path))


def sample_request(count: int = 2) -> dict:
    """A few real test digits as nested lists."""
    digits = load_mnist("sample").x_test[:count]
    return {"data": digits.tolist()}


def copy_code(target: Path) -> None:
    """score.py at the top (where the deployment's scoring_script points) and exactly what
    it imports: the serving package and the shared preprocessing, nothing else."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "score.py")
    for relative in SERVED_CODE:
        source, copy = ROOT / relative, target / relative
        copy.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, copy, ignore=ignore)
        else:
            shutil.copy(source, copy)
    shutil.copy(ROOT / "production" / "serving" / "score.py", target / "score.py")


class NoveltyDigits(NamedTuple):
    """Raw digits for the novelty detector: some the model was fitted on (class means and
    covariance), and clean ones it never saw (the threshold), with where they come from."""

    fitted: np.ndarray
    unseen: np.ndarray
    source: str


def sample_novelty_digits(why: str = "") -> NoveltyDigits:
    sample = load_mnist("sample")
    return NoveltyDigits(sample.x_train, sample.x_test, f"the embedded MNIST sample{why}")


def fit_novelty(model: Path, digits: NoveltyDigits, batch: int = 512) -> NoveltyDetector:
    """The detector for the served ONNX model (its own features, int8 or float32), as
    notebook 06 fits its monitor: class means and covariance from up to 20,000 fitted
    digits, the threshold from the unseen ones."""
    session = onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    feed = session.get_inputs()[0].name

    def view(images: np.ndarray) -> ModelView:
        inputs = to_model_input(images)
        starts = range(0, len(inputs), batch)
        parts = [session.run(None, {feed: inputs[i : i + batch]}) for i in starts]
        return ModelView(*(np.concatenate(column) for column in zip(*parts, strict=True)))

    fitted = view(digits.fitted[:MAX_FITTED])
    return DriftMonitor.fit(fitted, view(digits.unseen)).novelty_detector()


def reference_table(model_dir: Path, digits: np.ndarray) -> pd.DataFrame:
    """What the collector records for ``digits``, pixels aside: the scalar columns a
    monitor compares, as the served model (and its novelty detector) produce them."""
    scored = Scorer.from_model_dir(model_dir).score_input(to_model_input(digits))
    inputs, outputs = collected_records(scored, scored.reply())
    return pd.concat([inputs.drop(columns="pixels"), outputs], axis=1)


def build_bundle(
    model: keras.Model,
    out: str | Path,
    class_names: list[str] | None = None,
    endpoint: str | None = None,
    deployment: str = "blue",
    instance_type: str = DEFAULT_INSTANCE_TYPE,
    instance_count: int = 1,
    model_info: dict | None = None,
    quantize: bool = True,
    novelty_digits: NoveltyDigits | None = None,
    alert_emails: tuple[str, ...] = (),
) -> Path:
    """Write the bundle for ``model`` into ``out`` (which must not exist or be empty).

    The endpoint's name defaults to ``digits-endpoint`` with the suffix of
    ``production.deployment.endpoint_suffix``. With ``quantize`` the served model is int8
    if it predicts like the float32 one (``production.quantize``); model-info.json records
    the precision and the evidence. The novelty detector is fitted on ``novelty_digits``
    (default: the embedded sample's split); the monitor's reference data are the
    collector's records of the digits that set its threshold (clean, never trained on: as
    production should look), and its alerts go to ``alert_emails``.
    """
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty: choose a new folder for the bundle")
    info = {"name": "model", "version": "1", **(model_info or {})}
    # Azure ML mounts a model at azureml-models/<name>/<version>; the server reads that layout.
    model_dir = model_folder(out, info)
    model_dir.mkdir(parents=True)
    export_onnx(model, model_dir / "model.onnx")
    if quantize:
        info["quantization"] = asdict(quantize_model(model_dir / "model.onnx"))
    digits = novelty_digits or sample_novelty_digits()
    detector = fit_novelty(model_dir / "model.onnx", digits)
    detector.save(model_dir / NOVELTY_FILE)
    info["novelty"] = {
        "threshold": round(detector.threshold, 4),
        "expected_rate": detector.expected_rate,
        "fitted_on": f"{min(len(digits.fitted), MAX_FITTED)} and {len(digits.unseen)} digits, "
        f"from {digits.source}",
    }
    classes = class_names or [str(i) for i in range(model.output_shape[-1])]
    (model_dir / "labels.json").write_text(json.dumps(classes))
    (model_dir / "model-info.json").write_text(json.dumps(info, indent=2))
    reference = reference_table(model_dir, digits.unseen[:REFERENCE_DIGITS])
    write_reference(out / REFERENCE_FOLDER, reference)
    copy_code(out / "code")
    name = endpoint or endpoint_name()
    write_azureml_files(out, info, name, deployment, instance_type, instance_count, alert_emails)
    (out / "sample-request.json").write_text(json.dumps(sample_request()))
    return out


BASELINE_SCORE = """
from inference_schema.schema_decorators import input_schema
from score_schema import AnyJsonList, SAMPLE_IMAGE

def init():
    pass

@input_schema("data", AnyJsonList([SAMPLE_IMAGE]))
def run(data):
    return {"predictions": [{"label": "0"}] * len(data)}
"""


def bundle_with_script(bundle: str | Path, target: str | Path, script: str | Path) -> Path:
    """A copy of ``bundle`` that serves ``script`` as its score.py, alone in ``code/``: the
    same model, environment and deployment files, your own scoring."""
    target = Path(target)
    shutil.copytree(bundle, target, ignore=shutil.ignore_patterns("code"))
    (target / "code").mkdir()
    shutil.copy(script, target / "code" / "score.py")
    return target


def baseline_bundle(bundle: str | Path, target: str | Path) -> Path:
    """A copy of ``bundle`` whose score.py does no work (same server, same schema, same
    request parsing): what serving costs before the model does anything."""
    target = Path(target)
    shutil.copytree(bundle, target)
    code = target / "code"
    (code / "score.py").rename(code / "score_schema.py")  # reuse its schema classes
    (code / "score.py").write_text(BASELINE_SCORE)
    return target


def bundle_contents(bundle: str | Path) -> pd.DataFrame:
    """Every file of a bundle with its size in kB, and the total: what goes to Azure ML."""
    files = sorted(path for path in Path(bundle).rglob("*") if path.is_file())
    sizes = pd.Series(
        [path.stat().st_size / 1000 for path in files],
        index=[str(path.relative_to(bundle)) for path in files],
        name="kB",
    )
    return pd.concat([sizes, pd.Series({"total": sizes.sum()}, name="kB")]).round(1).to_frame()


def model_folder(bundle: Path, info: dict) -> Path:
    return bundle / "model" / info["name"] / str(info["version"])


class ModelNotFoundError(LookupError):
    """A model URI that leads to no model."""


class ModelSource(NamedTuple):
    """Where a model comes from: a URI to load it by (a role resolved to its version), what
    model-info.json records (name, version, the URI asked for) and the class names its run
    logged, if any."""

    uri: str
    info: dict
    class_names: list[str] | None


def model_source(model_uri: str) -> ModelSource:
    """For a registry URI (``models:/name/version``, ``models:/name@role``), a run's model
    (``runs:/<run id>/model``) or a local MLflow model folder (what ``python -m
    data_science.train --output DIR`` saves in DIR/models/)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from data_science.registry import resolve

    folder = Path(model_uri)
    if (folder / "MLmodel").is_file():
        uri = str(folder.resolve())
        return ModelSource(uri, {"name": "model", "version": "1", "model_uri": uri}, None)
    if not model_uri.startswith(("models:/", "runs:/")):
        raise ModelNotFoundError(
            f"{model_uri}: neither a models:/ or runs:/ URI nor a folder with an MLmodel file"
        )
    try:
        if model_uri.startswith("models:/"):
            version = resolve(model_uri)
            name, number, run_id = version.name, version.version, version.run_id
            uri = f"models:/{name}/{number}"
        else:
            run_id = model_uri.removeprefix("runs:/").split("/", 1)[0]
            name, number, uri = f"run-{run_id[:8]}", "1", model_uri
        classes = mlflow.get_run(run_id).data.params.get("classes")
    except (MlflowException, LookupError) as error:
        store = mlflow.get_tracking_uri()
        raise ModelNotFoundError(f"{model_uri}: not found in {store} ({_reason(error)})") from None
    info = {"name": name, "version": number, "model_uri": model_uri}
    return ModelSource(uri, info, classes.split(",") if classes else None)


def _reason(error: Exception) -> str:
    """An MLflow error's first line: its messages run to whole server responses."""
    return str(getattr(error, "message", error)).splitlines()[0]


def bundle_mlflow_model(model_uri: str, out: str | Path, **options) -> Path:
    """Bundle an MLflow model: any URI ``model_source`` accepts (``build_bundle``'s
    options pass through)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    source = model_source(model_uri)
    try:
        model = mlflow.keras.load_model(source.uri)
    except (MlflowException, OSError) as error:
        raise ModelNotFoundError(
            f"{model_uri}: no Keras model could be loaded ({_reason(error)})"
        ) from None
    digits = None
    if source.uri.startswith("models:/"):  # its run logged what it was trained on
        from data_science.train import logged_config, seen_and_unseen

        try:
            split = seen_and_unseen(logged_config(source.uri))
            digits = NoveltyDigits(split.fitted, split.unseen, f"the training run of {source.uri}")
        except DataUnavailableError as error:  # e.g. full MNIST, trained in the cloud
            digits = sample_novelty_digits(f" (the run's own data: {error})")
    return build_bundle(
        model, out, source.class_names, model_info=source.info, novelty_digits=digits, **options
    )


def precision_variants(bundle: Path, model_uri: str) -> dict[str, Path]:
    """The bundles to compare, by precision: the served one and, when it serves int8, a
    float32 bundle of the same model written beside it."""
    if served_model_info(bundle)["quantization"]["precision"] != "int8":
        return {"float32": bundle}
    float32 = bundle.with_name(bundle.name + "-float32")
    return {"float32": bundle_mlflow_model(model_uri, float32, quantize=False), "int8": bundle}
