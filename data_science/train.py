"""Training entry point, the same from a notebook, a shell and an Azure ML job.

    python -m data_science.train --data-source sample --epochs 8 --output runs/train

Loads MNIST, passes every image through the shared preprocessing, trains the CNN, evaluates
it on the test set, tracks everything in MLflow (parameters, per-epoch metrics, the data
set's digest, plots, the model with its signature) and registers the model; the new
version becomes the ``champion`` only if it beats the current one on the same test set.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as installed_version
from importlib.util import find_spec
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from data_science import plots, registry
from data_science.evaluate import Evaluation, evaluate_model
from data_science.mnist import load_mnist
from data_science.model import build_cnn, compile_for_training, keras
from data_science.preprocessing import to_model_input
from data_science.registry import PromotionDecision
from data_science.tracking import use_tracking

EXPERIMENT = "mnist-local"
MODEL_NAME = "mnist-cnn"
MODEL_PACKAGES = ("mlflow", "keras", "numpy")  # what a saved model imports, and TensorFlow


CURRENT_CHAMPION = "current champion"  # train's baseline: whichever version holds the role


@dataclass
class TrainConfig:
    """Every knob of a training run; all of them are logged as MLflow parameters."""

    data_source: str = "sample"  # "sample" (embedded, offline) or "full"
    data_dir: str | None = None  # folder of the full MNIST files (else $MNIST_DIR or download)
    epochs: int = 8
    batch_size: int = 128
    learning_rate: float = 3e-3
    width: int = 24  # filters of the first convolution stage
    dropout: float = 0.2
    augment: bool = True
    label_smoothing: float = 0.1
    validation_fraction: float = 0.1
    max_train_samples: int | None = None  # a smaller training set, for quick runs
    seed: int = 0


@dataclass
class TrainResult:
    run_id: str
    model_uri: str  # models:/<name>/<version>, or runs:/<run id>/model when not registered
    model_version: str | None  # None when not registered
    evaluation: Evaluation
    history: pd.DataFrame  # one row per epoch
    promotion: PromotionDecision | None  # None when not registered
    data_digest: str
    train_seconds: float
    test_images: np.ndarray  # the preprocessed test images, for plots
    model: keras.Model  # the trained model, as logged


class EpochProgress(keras.callbacks.Callback):
    """A progress bar over epochs that shows the latest metrics, and logs them to MLflow."""

    def __init__(self, epochs: int, show: bool):
        super().__init__()
        self.bar = tqdm(total=epochs, desc="training", unit="epoch", disable=not show)
        self.started = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        metrics = {k: float(v) for k, v in (logs or {}).items() if k != "learning_rate"}
        metrics["epoch_seconds"] = time.perf_counter() - self.started
        mlflow.log_metrics(metrics, step=epoch)
        self.bar.set_postfix({k: f"{v:.4f}" for k, v in metrics.items() if "acc" in k})
        self.bar.update()

    def on_train_end(self, logs=None):
        self.bar.close()


def tensorboard_logs(folder: Path) -> list[keras.callbacks.Callback]:
    """TensorBoard's callback when TensorBoard is installed (``make lab``), else none:
    MLflow keeps the same curves, and TensorFlow cannot write them without it."""
    if find_spec("tensorboard") is None:
        return []
    return [keras.callbacks.TensorBoard(folder)]


@dataclass(frozen=True)
class TrainingSet:
    """Model inputs ready for training: float32 (N, H, W, C) images on the 0-255 scale,
    passed through the same preprocessing the served model will use."""

    x_train: np.ndarray
    y_train: np.ndarray  # int class indices into class_names
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]
    source: str  # where the data came from, logged as a tag
    digest: str  # content digest of the raw data, logged with the run


def validation_size(train_size: int, fraction: float) -> int:
    """How many of the last training examples ``train_on`` holds out for validation."""
    return max(1, round(train_size * fraction))


def mnist_training_set(config: TrainConfig, progress: bool = True) -> TrainingSet:
    """MNIST as the config asks for it, through the shared preprocessing."""
    data = load_mnist(config.data_source, config.data_dir, config.seed)
    data = data.subsample(max_train=config.max_train_samples)
    return TrainingSet(
        x_train=to_model_input(data.x_train, progress),
        y_train=data.y_train,
        x_test=to_model_input(data.x_test, progress),
        y_test=data.y_test,
        class_names=[str(digit) for digit in range(10)],
        source=data.source,
        digest=data.digest,
    )


def train(
    config: TrainConfig,
    output: str | Path,
    experiment: str = EXPERIMENT,
    model_name: str = MODEL_NAME,
    progress: bool = True,
    register: bool = True,
    baseline: str | None = CURRENT_CHAMPION,
) -> TrainResult:
    """Train, evaluate, track and register a model on MNIST; see the module docstring
    (and ``train_on`` for ``register`` and ``baseline``)."""
    data = mnist_training_set(config, progress)
    return train_on(
        data, config, output, experiment, model_name, progress, register, baseline=baseline
    )


def train_on(
    data: TrainingSet,
    config: TrainConfig,
    output: str | Path,
    experiment: str = EXPERIMENT,
    model_name: str = MODEL_NAME,
    progress: bool = True,
    register: bool = True,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    baseline: str | None = CURRENT_CHAMPION,
) -> TrainResult:
    """Train, evaluate, track and register a model on any prepared training set.

    The last ``validation_fraction`` of the (shuffled) training set is held out for
    validation; ``config``'s data fields are logged but not read here. With
    ``register=False`` the model is logged to the run but neither registered nor promoted
    (a search trial). Inside an active MLflow run the run is nested under it. Extra Keras
    ``callbacks`` (early stopping, say) run after the tracking ones. A registered version
    becomes the champion only if it beats ``baseline`` on the same test set: the version
    holding the role now (``CURRENT_CHAMPION``), a ``models:/<name>/<version>`` pinned by
    the caller, or None (nothing to beat: it becomes the first champion).
    """
    output = Path(output)
    keras.utils.set_random_seed(config.seed)
    num_classes = len(data.class_names)
    n_val = validation_size(len(data.x_train), config.validation_fraction)
    x_fit, y_fit = (
        data.x_train[:-n_val],
        keras.utils.to_categorical(data.y_train[:-n_val], num_classes),
    )
    x_val, y_val = (
        data.x_train[-n_val:],
        keras.utils.to_categorical(data.y_train[-n_val:], num_classes),
    )

    model = build_cnn(
        num_classes,
        width=config.width,
        dropout=config.dropout,
        augment=config.augment,
        input_shape=data.x_train.shape[1:],
    )
    steps = config.epochs * int(np.ceil(len(x_fit) / config.batch_size))
    compile_for_training(model, config.learning_rate, steps, config.label_smoothing)

    experiment_id = use_tracking(output, experiment)
    nested = mlflow.active_run() is not None
    with mlflow.start_run(experiment_id=experiment_id, nested=nested) as run:
        mlflow.log_params({**asdict(config), "parameters": model.count_params()})
        mlflow.log_params({"data_digest": data.digest, "train_size": len(x_fit)})
        mlflow.log_params({"classes": ",".join(data.class_names)})
        mlflow.set_tags({"data_source": data.source, "data_digest": data.digest})
        started = time.perf_counter()
        fit = model.fit(
            x_fit,
            y_fit,
            validation_data=(x_val, y_val),
            batch_size=config.batch_size,
            epochs=config.epochs,
            verbose=0,
            callbacks=[
                EpochProgress(config.epochs, progress),
                *tensorboard_logs(output / "tensorboard" / run.info.run_id),
                *callbacks,
            ],
        )
        train_seconds = time.perf_counter() - started
        evaluation = evaluate_model(model, data.x_test, data.y_test, data.class_names)
        history = pd.DataFrame(fit.history).rename_axis("epoch")
        log_evaluation(evaluation, history, data.x_test, train_seconds)
        version = log_and_register(
            model, data.x_test[:2], evaluation, output, model_name if register else None
        )
        promotion = None
        if version:
            if baseline == CURRENT_CHAMPION:
                baseline = f"models:/{model_name}@{registry.CHAMPION}"
            champion = registry.score(baseline, data.x_test, data.y_test)
            promotion = registry.decide_promotion(
                model_name, version, evaluation.accuracy, champion
            )
            registry.apply_decision(promotion)
            mlflow.set_tags({"promoted": promotion.promoted, "promotion": promotion.reason})
    return TrainResult(
        run_id=run.info.run_id,
        model_uri=f"models:/{model_name}/{version}"
        if version
        else f"runs:/{run.info.run_id}/model",
        model_version=version,
        evaluation=evaluation,
        history=history,
        promotion=promotion,
        data_digest=data.digest,
        train_seconds=train_seconds,
        test_images=data.x_test,
        model=model,
    )


def ensure_champion(
    output: str | Path,
    config: TrainConfig | None = None,
    model_name: str = MODEL_NAME,
    progress: bool = True,
) -> str:
    """The champion's URI in the run folder's registry; trains one first if there is none
    (so a notebook that serves the champion also runs on its own)."""
    use_tracking(output, EXPERIMENT)
    if registry.champion_version(model_name) is None:
        train(config or TrainConfig(epochs=2, max_train_samples=2000), output, progress=progress)
    return registry.role_uri(model_name)


def logged_config(model_uri: str) -> TrainConfig:
    """The settings a registered model was trained with, read back from its MLflow run."""
    params = mlflow.get_run(registry.resolve(model_uri).run_id).data.params
    defaults = TrainConfig()
    values = {}
    for field in fields(TrainConfig):
        text, default = params.get(field.name), getattr(defaults, field.name)
        if text is None or text == "None":
            values[field.name] = None if text == "None" else default
        elif isinstance(default, bool):
            values[field.name] = text == "True"
        else:
            kind = {"data_dir": str, "max_train_samples": int}.get(field.name, type(default))
            values[field.name] = kind(text)
    return TrainConfig(**values)


@dataclass(frozen=True)
class SeenAndUnseen:
    """Raw MNIST digits split by what a model trained with one config saw of them."""

    fitted: np.ndarray  # the images it was fitted on
    unseen: np.ndarray  # the clean images it never fitted on: validation split + test set
    unseen_labels: np.ndarray


def seen_and_unseen(config: TrainConfig) -> SeenAndUnseen:
    """The raw digits a model trained with ``config`` was fitted on, and those it was not."""
    data = load_mnist(config.data_source, config.data_dir, config.seed)
    data = data.subsample(max_train=config.max_train_samples)
    n_val = validation_size(len(data.x_train), config.validation_fraction)
    return SeenAndUnseen(
        fitted=data.x_train[:-n_val],
        unseen=np.concatenate([data.x_train[-n_val:], data.x_test]),
        unseen_labels=np.concatenate([data.y_train[-n_val:], data.y_test]),
    )


def log_evaluation(
    evaluation: Evaluation, history: pd.DataFrame, x_test: np.ndarray, seconds: float
) -> None:
    """Test metrics, the per-class table and the plots, into the active MLflow run."""
    mlflow.log_metrics({"test_accuracy": evaluation.accuracy, "train_seconds": seconds})
    mlflow.log_table(evaluation.per_class.reset_index(), "evaluation/per_class.json")
    for name, figure in {
        "learning_curves": plots.plot_learning_curves(history),
        "confusion_matrix": plots.plot_confusion_matrix(evaluation),
        "worst_errors": plots.plot_worst_errors(evaluation, x_test),
    }.items():
        mlflow.log_figure(figure, f"plots/{name}.png")
        plots.plt.close(figure)


def log_and_register(
    model, example: np.ndarray, evaluation: Evaluation, output: Path, model_name: str | None
) -> str | None:
    """Save the model in MLflow format under ``output/models/<run id>``, log it to the
    active run and register it unless ``model_name`` is None; return the new version.

    Saving first and logging the folder sidesteps ``mlflow.keras.log_model``, which fails
    when given an input example (mlflow issue 16183).
    """
    run_id = mlflow.active_run().info.run_id
    path = output / "models" / run_id
    path.mkdir(parents=True)
    mlflow.keras.save_model(
        model,
        str(path),
        signature=mlflow.models.infer_signature(example, evaluation.probabilities[:2]),
        input_example=example,
        pip_requirements=model_requirements(),
    )
    mlflow.log_artifacts(str(path), "model")
    return None if model_name is None else registry.register(run_id, model_name)


def model_requirements() -> list[str]:
    """A saved model's pip requirements pinned to the installed versions: the list MLflow
    infers by loading the model in a subprocess, which takes half a minute."""
    names = [*MODEL_PACKAGES, tensorflow_distribution()]
    return [f"{name}=={installed_version(name)}" for name in names]


def tensorflow_distribution() -> str:
    """The TensorFlow build installed here: ``tensorflow-cpu`` on x86_64, ``tensorflow``
    on Apple Silicon and Linux arm64 (where it is the CPU build)."""
    try:
        installed_version("tensorflow-cpu")
        return "tensorflow-cpu"
    except PackageNotFoundError:
        return "tensorflow"


def parse_flag(text: str) -> bool:
    """``true``/``false`` in any case: an Azure ML job passes booleans as text."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def parse_args(argv: list[str] | None = None) -> tuple[TrainConfig, argparse.Namespace]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    defaults = TrainConfig()
    for field in fields(TrainConfig):
        flag, default = "--" + field.name.replace("_", "-"), getattr(defaults, field.name)
        if isinstance(default, bool):  # --augment, --augment false (as jobs pass it), --no-augment
            parser.add_argument(flag, nargs="?", const=True, default=default, type=parse_flag)
            parser.add_argument(flag.replace("--", "--no-"), dest=field.name, action="store_false")
        else:
            kind = {"data_dir": str, "max_train_samples": int}.get(field.name, type(default))
            parser.add_argument(flag, type=kind, default=default)
    parser.add_argument("--output", default="runs/train", help="run folder (MLflow store etc.)")
    parser.add_argument("--experiment", default=EXPERIMENT)
    parser.add_argument("--model-name", default=MODEL_NAME)
    parser.add_argument(
        "--no-register",
        dest="register",
        action="store_false",
        help="keep the model in its run only (sweep trials: the best is registered after)",
    )
    args = parser.parse_args(argv)
    config = TrainConfig(**{f.name: getattr(args, f.name) for f in fields(TrainConfig)})
    return config, args


def main(argv: list[str] | None = None) -> None:
    config, args = parse_args(argv)
    result = train(config, args.output, args.experiment, args.model_name, register=args.register)
    print(f"test accuracy {result.evaluation.accuracy:.4f} in {result.train_seconds:.0f} s")
    outcome = result.promotion.reason if result.promotion else "not registered"
    print(f"run {result.run_id}; model {result.model_uri}; {outcome}")


if __name__ == "__main__":
    main()
