"""The deployable bundle: everything a managed online deployment needs, in one folder.

bundle/
  code/score.py, code/data_science/, code/production/   the scoring script and its code
  model/<name>/<version>/model.onnx, labels.json          the model (int8 when that is safe),
                                                          served by ONNX Runtime
  conda.yml                                               the serving environment, pinned
  endpoint.yml, deployment.yml                            Azure ML managed online YAML
  sample-request.json                                     a request to try it with
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import data_science
import production
from cloud.assets import deployment_spec, endpoint_spec, serving_environment
from cloud.yaml_io import write_yaml
from data_science.mnist import load_mnist
from data_science.model import inference_model, keras
from production.endpoint import served_model_info
from production.quantize import quantize_model


def export_onnx(model: keras.Model, path: Path) -> None:
    """Export the inference graph (training=False, no augmentation) to ONNX."""
    import tensorflow as tf
    import tf2onnx

    serving = inference_model(model)
    spec = (tf.TensorSpec((None, *serving.input_shape[1:]), tf.float32, name="image"),)
    function = tf.function(lambda images: serving(images, training=False), input_signature=spec)
    tf2onnx.convert.from_function(function, input_signature=spec, output_path=str(path))


def sample_request(count: int = 2) -> dict:
    """A few real test digits as nested lists."""
    digits = load_mnist("sample").x_test[:count]
    return {"data": digits.tolist()}


def copy_code(target: Path) -> None:
    """score.py and the two packages it imports, so the bundle runs on its own."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in (data_science, production):
        source = Path(package.__file__).parent
        shutil.copytree(source, target / source.name, ignore=ignore)
    shutil.copy(Path(production.__file__).parent / "score.py", target / "score.py")


def build_bundle(
    model: keras.Model,
    out: str | Path,
    class_names: list[str] | None = None,
    endpoint: str = "digits-endpoint",
    deployment: str = "blue",
    instance_type: str = "Standard_DS3_v2",
    instance_count: int = 1,
    model_info: dict | None = None,
    quantize: bool = True,
) -> Path:
    """Write the bundle for ``model`` into ``out`` (which must not exist or be empty).

    With ``quantize`` the served model is int8 if it predicts like the float32 one
    (``production.quantize``); model-info.json records the precision and the evidence.
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
    classes = class_names or [str(i) for i in range(model.output_shape[-1])]
    (model_dir / "labels.json").write_text(json.dumps(classes))
    (model_dir / "model-info.json").write_text(json.dumps(info, indent=2))
    copy_code(out / "code")
    write_yaml(out / "conda.yml", serving_environment(f"{endpoint}-env"))
    write_yaml(out / "endpoint.yml", endpoint_spec(endpoint))
    spec = deployment_spec(endpoint, deployment, instance_type, instance_count)
    write_yaml(out / "deployment.yml", spec)
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


def baseline_bundle(bundle: str | Path, target: str | Path) -> Path:
    """A copy of ``bundle`` whose score.py does no work (same server, same schema, same
    request parsing): what serving costs before the model does anything."""
    target = Path(target)
    shutil.copytree(bundle, target)
    code = target / "code"
    (code / "score.py").rename(code / "score_schema.py")  # reuse its schema classes
    (code / "score.py").write_text(BASELINE_SCORE)
    return target


def model_folder(bundle: Path, info: dict) -> Path:
    return bundle / "model" / info["name"] / str(info["version"])


def bundle_registered_model(model_uri: str, out: str | Path, **options) -> Path:
    """Bundle a model from the MLflow registry (e.g. ``models:/mnist-cnn@champion``)."""
    import mlflow

    from data_science.registry import resolve

    model = mlflow.keras.load_model(model_uri)
    version = resolve(model_uri)
    classes = mlflow.get_run(version.run_id).data.params.get("classes")
    info = {"name": version.name, "version": version.version, "model_uri": model_uri}
    class_names = classes.split(",") if classes else None
    return build_bundle(model, out, class_names, model_info=info, **options)


def precision_variants(bundle: Path, model_uri: str) -> dict[str, Path]:
    """The bundles to compare, by precision: the served one and, when it serves int8, a
    float32 bundle of the same model written beside it."""
    if served_model_info(bundle)["quantization"]["precision"] != "int8":
        return {"float32": bundle}
    float32 = bundle.with_name(bundle.name + "-float32")
    return {"float32": bundle_registered_model(model_uri, float32, quantize=False), "int8": bundle}
