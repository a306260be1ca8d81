"""The search, the run comparison and the promotion, end to end on a tiny slice of MNIST."""

from dataclasses import replace

import mlflow
import pytest
from mlflow import MlflowClient

from data_science import registry
from data_science.compare import plot_metric_by_parameter, plot_parallel_coordinates, runs_table
from data_science.model_card import Finalist, promote_with_evidence, train_like_champion
from data_science.search import EXPERIMENT, HOPELESS, OUT_OF_TIME, run_search
from data_science.search_space import Choice, SearchBudget
from data_science.train import TrainConfig, mnist_training_set

BASE = TrainConfig(epochs=3, max_train_samples=600, batch_size=16, width=8, augment=False)
# A learning rate that learns, one that cannot (1e-6) and one the budget never reaches.
RATES = Choice((3e-3, 1e-6, 1e-3))


@pytest.fixture(scope="module")
def data():
    return mnist_training_set(BASE, progress=False)


@pytest.fixture(scope="module")
def searched(tmp_path_factory, data):
    output = tmp_path_factory.mktemp("search")
    search = run_search(
        data, BASE, output, {"learning_rate": RATES}, "grid", SearchBudget(2, 600), progress=False
    )
    return output, search


def test_search_keeps_to_its_trial_budget_and_its_space(searched):
    _, search = searched
    assert [t.params["learning_rate"] for t in search.trials] == [3e-3, 1e-6]
    for trial in search.trials:
        assert (
            float(mlflow.get_run(trial.run_id).data.params["learning_rate"])
            == (trial.params["learning_rate"])
        )
    assert search.best.number == 1


def test_trials_are_nested_runs_and_not_registered(searched):
    _, search = searched
    children = mlflow.search_runs(
        experiment_names=[EXPERIMENT],
        filter_string=f"tags.mlflow.parentRunId = '{search.parent_run_id}'",
    )
    assert set(children["run_id"]) == {t.run_id for t in search.trials}
    parent = mlflow.get_run(search.parent_run_id).data
    assert parent.metrics["trials"] == 2 and parent.tags["best_run_id"] == search.trials[0].run_id
    assert MlflowClient().search_model_versions("name = 'mnist-cnn'") == []


def test_a_hopeless_trial_is_stopped_early(searched):
    _, search = searched
    hopeless = search.trials[1]
    assert hopeless.status == HOPELESS and hopeless.epochs == 2  # never before the second
    assert mlflow.get_run(hopeless.run_id).data.tags["trial_status"] == HOPELESS
    assert search.trials[0].epochs == 3


def test_search_keeps_to_its_time_budget(tmp_path, data):
    budget = SearchBudget(max_trials=5, max_seconds=1e-9)  # up before the first epoch ends
    search = run_search(
        data, BASE, tmp_path, {"width": Choice((8,))}, budget=budget, progress=False
    )
    assert len(search.trials) == 1  # only the first trial starts once the time is up
    assert search.trials[0].status == OUT_OF_TIME and search.trials[0].epochs == 1


def test_comparison_table_and_plots_come_from_the_store(searched, data):
    output, search = searched
    table = runs_table(output, ["mnist-local", EXPERIMENT], search.parent_run_id)
    assert sorted(table["learning_rate"]) == [1e-6, 3e-3]
    assert set(table["data_digest"]) == {data.digest[:12]}
    assert table.loc[search.trials[1].run_id, "status"] == HOPELESS
    assert (table["seconds"] > 0).all() and table["val_accuracy"].notna().all()
    assert plot_metric_by_parameter(table, ["learning_rate", "width"]).axes
    assert plot_parallel_coordinates(table, ["learning_rate", "width"]).axes


CHAMPION_NOW = "models:/mnist-cnn@champion"


def as_finalist(trial, data) -> Finalist:
    return Finalist(trial, trial.run_id, replace(BASE, **trial.params), data)


def test_promotion_accepts_only_a_model_better_by_a_standard_error(searched, data):
    output, search = searched
    good, bad = search.trials
    first = promote_with_evidence(search, as_finalist(bad, data), output, None)
    assert first.decision.promoted and first.decision.champion_version is None
    better = promote_with_evidence(search, as_finalist(good, data), output, CHAMPION_NOW)
    assert better.decision.promoted
    assert better.evaluation.accuracy == pytest.approx(good.test_accuracy)
    champion = first.evaluation.accuracy
    assert better.decision.margin == pytest.approx((champion * (1 - champion) / 1000) ** 0.5)
    equal = promote_with_evidence(search, as_finalist(good, data), output, CHAMPION_NOW)
    worse = promote_with_evidence(search, as_finalist(bad, data), output, CHAMPION_NOW, margin=0.0)
    assert not equal.decision.promoted and not worse.decision.promoted
    champion = registry.champion_version("mnist-cnn")
    assert str(champion.version) == better.decision.candidate_version
    assert "**Not promoted**" in worse.card_path.read_text()
    assert data.digest in better.card and "Weak spots" in better.card

    # measured against a pinned version that lost the role since, a loser gives it back
    pinned = f"models:/mnist-cnn/{first.decision.candidate_version}"
    replayed = promote_with_evidence(search, as_finalist(bad, data), output, pinned, margin=0.0)
    assert not replayed.decision.promoted
    assert str(registry.champion_version("mnist-cnn").version) == first.decision.candidate_version

    # the finalist of a later search trains with the champion's budget, not its own
    finalist = train_like_champion(good, replace(BASE, epochs=1), output, CHAMPION_NOW)
    assert finalist.config.epochs == BASE.epochs and finalist.run_id != good.run_id
    assert finalist.config.learning_rate == good.params["learning_rate"]
