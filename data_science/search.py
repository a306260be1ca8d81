"""Hyperparameter search: every trial a nested MLflow run under one parent run.

Trials sample the declared space (``data_science.search_space``) at random or on a grid,
within a budget of trials and seconds; a trial whose validation accuracy trails the best
seen at the same epoch by too much is stopped early. Trials log their model but do not
register it: only the winner goes to the registry, through ``data_science.model_card``.
Optionally the best trials are trained again with other seeds, to show how much of a
difference between trials is only luck.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow import MlflowClient
from tqdm.auto import tqdm

from data_science.model import keras
from data_science.search_space import (
    OBJECTIVE,
    SEARCH_SPACE,
    BanditStopping,
    SearchBudget,
    SearchSpace,
    sample_configs,
    space_to_azureml,
)
from data_science.tracking import use_tracking
from data_science.train import TrainConfig, TrainingSet, train_on

EXPERIMENT = "mnist-tuning"
COMPLETED, HOPELESS, OUT_OF_TIME = "completed", "stopped: hopeless", "stopped: time budget"
DEFAULT_BUDGET = SearchBudget()
DEFAULT_STOPPING = BanditStopping()


@dataclass(frozen=True)
class Trial:
    number: int  # 1, 2, … in the order trials ran
    run_id: str
    params: dict[str, Any]  # the sampled values
    seed: int
    val_accuracy: float  # after the last epoch it trained
    test_accuracy: float
    epochs: int  # epochs actually trained
    seconds: float
    status: str  # COMPLETED, HOPELESS or OUT_OF_TIME
    repeat_of: int | None = None  # for a seed repeat, the number of the trial it repeats


@dataclass(frozen=True)
class SearchResult:
    parent_run_id: str
    sampler: str
    budget: SearchBudget
    trials: list[Trial]
    repeats: list[Trial]  # the best trials trained again with other seeds
    seconds: float  # wall time of the whole search, repeats included

    @property
    def best(self) -> Trial:
        """The trial with the best validation accuracy (never chosen on the test set)."""
        return ranked(self.trials)[0]

    def table(self) -> pd.DataFrame:
        """One row per trial: its parameters, accuracies, epochs, time and status."""
        rows = [
            {"trial": t.number, **t.params, "seed": t.seed, "val_accuracy": t.val_accuracy}
            | {"test_accuracy": t.test_accuracy, "epochs": t.epochs, "seconds": t.seconds}
            | {"status": t.status, "run_id": t.run_id}
            for t in self.trials
        ]
        return pd.DataFrame(rows).set_index("trial")

    def seed_spread(self) -> pd.DataFrame:
        """Per repeated trial: mean, standard deviation and range of its accuracies over
        all the seeds it was trained with."""
        rows = []
        for trial in self.trials:
            runs = [trial, *(r for r in self.repeats if r.repeat_of == trial.number)]
            if len(runs) == 1:
                continue
            val = pd.Series([r.val_accuracy for r in runs])
            test = pd.Series([r.test_accuracy for r in runs])
            rows.append(
                {"trial": trial.number, "seeds": len(runs), "val_mean": val.mean()}
                | {"val_std": val.std(), "test_mean": test.mean(), "test_std": test.std()}
                | {"test_min": test.min(), "test_max": test.max()}
            )
        columns = ["trial", "seeds", "val_mean", "val_std", "test_mean", "test_std"]
        return pd.DataFrame(rows, columns=[*columns, "test_min", "test_max"]).set_index("trial")


class TrialStopper(keras.callbacks.Callback):
    """Ends a trial early when it is hopeless (by the stopping rule, against the best
    validation accuracy seen at each epoch) or when the search's time is up."""

    def __init__(
        self, deadline: float, best_by_epoch: dict[int, float], rule: BanditStopping | None
    ):
        super().__init__()
        self.deadline, self.best_by_epoch, self.rule = deadline, best_by_epoch, rule
        self.status = COMPLETED

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 >= self.params["epochs"]:
            return
        val_accuracy = float((logs or {})["val_accuracy"])
        if time.monotonic() >= self.deadline:
            self.status = OUT_OF_TIME
        elif self.rule and self.rule.is_hopeless(
            epoch, val_accuracy, self.best_by_epoch.get(epoch)
        ):
            self.status = HOPELESS
        else:
            return
        self.model.stop_training = True


def run_search(
    data: TrainingSet,
    base: TrainConfig,
    output: str | Path,
    space: SearchSpace = SEARCH_SPACE,
    sampler: str = "random",
    budget: SearchBudget = DEFAULT_BUDGET,
    stopping: BanditStopping | None = DEFAULT_STOPPING,
    repeat_top: int = 0,
    extra_seeds: int = 0,
    experiment: str = EXPERIMENT,
    progress: bool = True,
) -> SearchResult:
    """Search ``space`` around the ``base`` configuration; see the module docstring.

    ``base.seed`` seeds both the sampler and every trial's training. Afterwards the
    ``repeat_top`` best trials are trained again with ``extra_seeds`` other seeds each,
    while the time budget lasts.
    """
    unknown = sorted(set(space) - set(asdict(base)))
    if unknown:
        raise ValueError(f"not TrainConfig fields, so they cannot be searched: {unknown}")
    started = time.monotonic()
    search = Search(data, Path(output), experiment, started + budget.max_seconds)
    configs = itertools.islice(sample_configs(space, sampler, base.seed), budget.max_trials)
    experiment_id = use_tracking(output, experiment)
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"{sampler} search") as parent:
        log_search_plan(space, sampler, budget, stopping, base, data)
        trials: list[Trial] = []
        bar = tqdm(
            configs, total=budget.max_trials, desc="search", unit="trial", disable=not progress
        )
        for params in bar:
            if trials and search.out_of_time():
                break
            trials.append(search.run(replace(base, **params), len(trials) + 1, params, stopping))
            bar.set_postfix(best_val=f"{max(t.val_accuracy for t in trials):.4f}")
        bar.close()
        result = SearchResult(parent.info.run_id, sampler, budget, trials, [], 0.0)
        repeats = [
            search.repeat(trial, replace(base, **trial.params, seed=base.seed + offset))
            for trial in ranked(trials)[:repeat_top]
            for offset in range(1, extra_seeds + 1)
            if not search.out_of_time()
        ]
        result = replace(result, repeats=repeats, seconds=time.monotonic() - started)
        log_search_summary(result)
    return result


def ranked(trials: list[Trial]) -> list[Trial]:
    """Trials from best to worst validation accuracy, hopeless ones last."""
    return sorted(trials, key=lambda t: (t.status != HOPELESS, t.val_accuracy), reverse=True)


@dataclass
class Search:
    """What every trial of one search shares: the data, where to log, the deadline and
    the best validation accuracy seen so far at each epoch (for the stopping rule)."""

    data: TrainingSet
    output: Path
    experiment: str
    deadline: float  # time.monotonic() value
    best_by_epoch: dict[int, float] = field(default_factory=dict)

    def out_of_time(self) -> bool:
        return time.monotonic() >= self.deadline

    def run(
        self,
        config: TrainConfig,
        number: int,
        params: dict[str, Any],
        stopping: BanditStopping | None,
        repeat_of: int | None = None,
    ) -> Trial:
        """Train one trial as a nested run (its model logged, not registered), tag it."""
        stopper = TrialStopper(self.deadline, self.best_by_epoch, stopping)
        result = train_on(
            self.data,
            config,
            self.output,
            self.experiment,
            progress=False,
            register=False,
            callbacks=[stopper],
        )
        val_accuracy = result.history["val_accuracy"]
        for epoch, value in enumerate(val_accuracy):
            self.best_by_epoch[epoch] = max(self.best_by_epoch.get(epoch, 0.0), value)
        name = f"trial {number}" + (f" seed {config.seed}" if repeat_of else "")
        tags = {"mlflow.runName": name, "trial": number, "trial_status": stopper.status}
        for key, value in (tags | ({"repeat_of": repeat_of} if repeat_of else {})).items():
            MlflowClient().set_tag(result.run_id, key, value)
        return Trial(
            number=number,
            run_id=result.run_id,
            params=params,
            seed=config.seed,
            val_accuracy=float(val_accuracy.iloc[-1]),
            test_accuracy=result.evaluation.accuracy,
            epochs=len(val_accuracy),
            seconds=result.train_seconds,
            status=stopper.status,
            repeat_of=repeat_of,
        )

    def repeat(self, trial: Trial, config: TrainConfig) -> Trial:
        """The trial again with another seed (in ``config``), never stopped as hopeless."""
        return self.run(config, trial.number, trial.params, None, repeat_of=trial.number)


def log_search_plan(
    space: SearchSpace,
    sampler: str,
    budget: SearchBudget,
    stopping: BanditStopping | None,
    base: TrainConfig,
    data: TrainingSet,
) -> None:
    """The search's definition, into the parent run: its settings as parameters and the
    sweep in Azure ML's terms as ``search/sweep.json``."""
    fixed = {k: v for k, v in asdict(base).items() if k not in space}
    rule = {f"stopping_{k}": v for k, v in asdict(stopping).items()} if stopping else {}
    mlflow.log_params(fixed | {"sampler": sampler} | asdict(budget) | rule)
    mlflow.set_tags({"data_source": data.source, "data_digest": data.digest, "role": "search"})
    sweep = {
        "sampling_algorithm": sampler,
        "search_space": space_to_azureml(space, sampler),
        "objective": OBJECTIVE,
        "early_termination": stopping.to_azureml() if stopping else None,
        "limits": budget.to_azureml(),
    }
    mlflow.log_text(json.dumps(sweep, indent=2), "search/sweep.json")


def log_search_summary(result: SearchResult) -> None:
    """The outcome, into the parent run: the best trial, counts, wall time, the tables."""
    best = result.best
    mlflow.log_metrics(
        {
            "best_val_accuracy": best.val_accuracy,
            "best_test_accuracy": best.test_accuracy,
            "trials": len(result.trials),
            "trials_stopped": sum(t.status != COMPLETED for t in result.trials),
            "search_seconds": result.seconds,
        }
    )
    mlflow.set_tags({"best_trial": best.number, "best_run_id": best.run_id})
    mlflow.log_table(result.table().reset_index(), "search/trials.json")
    if result.repeats:
        mlflow.log_table(result.seed_spread().reset_index(), "search/seed_spread.json")
