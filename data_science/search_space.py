"""The hyperparameter search space, declared once as plain data.

The local search (``data_science.search``) samples it, and the Azure ML sweep job is built
from the very same declaration: every part has a ``to_azureml()`` form, a plain dict in the
terms of the Azure ML v2 sweep YAML (``search_space``, ``early_termination``, ``limits``).
Nothing here imports TensorFlow or Azure, so the cloud code can read it cheaply.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Choice:
    """One of a list of values, equally likely."""

    values: tuple[Any, ...]

    def __post_init__(self):
        if not self.values:
            raise ValueError("a Choice needs at least one value")

    def sample(self, rng: np.random.Generator) -> Any:
        return self.values[rng.integers(len(self.values))]

    def grid(self, points: int) -> list[Any]:
        return list(self.values)

    def to_azureml(self) -> dict[str, Any]:
        return {"type": "choice", "values": list(self.values)}


@dataclass(frozen=True)
class Uniform:
    """A number drawn evenly between two bounds."""

    min_value: float
    max_value: float

    def __post_init__(self):
        if not self.min_value < self.max_value:
            raise ValueError(f"empty range: {self.min_value} to {self.max_value}")

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.min_value, self.max_value))

    def grid(self, points: int) -> list[float]:
        return [float(v) for v in np.linspace(self.min_value, self.max_value, points)]

    def to_azureml(self) -> dict[str, Any]:
        return {"type": "uniform", "min_value": self.min_value, "max_value": self.max_value}


@dataclass(frozen=True)
class LogUniform:
    """A positive number whose logarithm is uniform: as likely in [1e-4, 1e-3] as in
    [1e-3, 1e-2]. The right prior for learning rates. Bounds are on the natural scale."""

    min_value: float
    max_value: float

    def __post_init__(self):
        if not 0 < self.min_value < self.max_value:
            raise ValueError(f"needs 0 < min < max, got {self.min_value} to {self.max_value}")

    def sample(self, rng: np.random.Generator) -> float:
        return float(np.exp(rng.uniform(math.log(self.min_value), math.log(self.max_value))))

    def grid(self, points: int) -> list[float]:
        return [float(v) for v in np.geomspace(self.min_value, self.max_value, points)]

    def to_azureml(self) -> dict[str, Any]:
        # Azure ML's loguniform returns exp(uniform(min_value, max_value)): natural-log bounds.
        return {
            "type": "loguniform",
            "min_value": math.log(self.min_value),
            "max_value": math.log(self.max_value),
        }


Distribution = Choice | Uniform | LogUniform
SearchSpace = Mapping[str, Distribution]  # keys are TrainConfig field names

SEARCH_SPACE: SearchSpace = {
    "learning_rate": LogUniform(5e-4, 1e-2),
    "batch_size": Choice((32, 64, 128)),
    "width": Choice((16, 24, 32)),
    "dropout": Uniform(0.0, 0.4),
    "augment": Choice((True, False)),
}
SAMPLERS = ("random", "grid")
# What the training entry point logs to MLflow (per epoch, then once at the end), and the
# sweep's objective among them: a sweep on a metric nobody logs never picks a best trial.
LOGGED_METRICS = (
    "loss",
    "accuracy",
    "val_loss",
    "val_accuracy",
    "epoch_seconds",
    "test_accuracy",
    "train_seconds",
)
OBJECTIVE = {"primary_metric": "val_accuracy", "goal": "maximize"}


def random_configs(space: SearchSpace, seed: int = 0) -> Iterator[dict[str, Any]]:
    """Endless independent draws from the space, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    while True:
        yield {name: distribution.sample(rng) for name, distribution in space.items()}


def grid_configs(space: SearchSpace, points: int = 3) -> Iterator[dict[str, Any]]:
    """Every combination, in order; continuous ranges contribute ``points`` values each
    (evenly spaced, or evenly on the log scale for LogUniform)."""
    names = list(space)
    for values in itertools.product(*(space[name].grid(points) for name in names)):
        yield dict(zip(names, values, strict=True))


def sample_configs(
    space: SearchSpace, sampler: str, seed: int = 0, grid_points: int = 3
) -> Iterator[dict[str, Any]]:
    """The trial configurations of a ``"random"`` or ``"grid"`` search."""
    if sampler == "random":
        return random_configs(space, seed)
    if sampler == "grid":
        return grid_configs(space, grid_points)
    raise ValueError(f"unknown sampler {sampler!r}: use one of {', '.join(SAMPLERS)}")


def grid_space(space: SearchSpace, points: int = 3) -> dict[str, Choice]:
    """The space as the grid search sees it: every range replaced by its grid points
    (Azure ML's grid sampling takes choices only)."""
    return {name: Choice(tuple(d.grid(points))) for name, d in space.items()}


def space_to_azureml(
    space: SearchSpace, sampler: str = "random", grid_points: int = 3
) -> dict[str, dict[str, Any]]:
    """The ``search_space`` section of an Azure ML sweep job for this sampler."""
    if sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}: use one of {', '.join(SAMPLERS)}")
    declared = grid_space(space, grid_points) if sampler == "grid" else space
    return {name: distribution.to_azureml() for name, distribution in declared.items()}


@dataclass(frozen=True)
class SearchBudget:
    """How much a search may spend: no trial starts after ``max_trials`` or, the first
    one excepted, once ``max_seconds`` have passed; a running trial stops at the end of
    the epoch in which the time runs out."""

    max_trials: int = 8
    max_seconds: float = 600

    def __post_init__(self):
        if self.max_trials < 1 or self.max_seconds <= 0:
            raise ValueError(f"a budget needs at least one trial and some time, got {self}")

    def to_azureml(self) -> dict[str, Any]:
        """The sweep's ``limits``; trials run one after another, as they do locally."""
        return {
            "max_total_trials": self.max_trials,
            "max_concurrent_trials": 1,
            "timeout": math.ceil(self.max_seconds),
        }


@dataclass(frozen=True)
class BanditStopping:
    """Stop a hopeless trial: one whose validation accuracy at some epoch trails the best
    seen at that epoch by more than ``slack_amount``. Epochs before ``delay_epochs`` are
    not judged, since every trial starts badly: by default a trial always gets its second
    epoch, where learning rates and widths start to tell apart. Azure ML calls this a
    bandit policy."""

    slack_amount: float = 0.1
    delay_epochs: int = 2

    def is_hopeless(self, epoch: int, val_accuracy: float, best_at_epoch: float | None) -> bool:
        """``epoch`` counts from 0; ``best_at_epoch`` is None before any trial got there."""
        if epoch + 1 < self.delay_epochs or best_at_epoch is None:
            return False
        return val_accuracy < best_at_epoch - self.slack_amount

    def to_azureml(self) -> dict[str, Any]:
        """The sweep's ``early_termination``, judged after every logged epoch."""
        return {
            "type": "bandit",
            "slack_amount": self.slack_amount,
            "evaluation_interval": 1,
            "delay_evaluation": self.delay_epochs,
        }
