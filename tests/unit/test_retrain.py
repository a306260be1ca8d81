"""Retraining's data mixing, its promotion rule and the roll-out, against a real registry
with constant models (conftest), so the outcome of every comparison is known in advance."""

import numpy as np
import pandas as pd
import pytest
import yaml
from mlflow import MlflowClient

from data_science import registry
from data_science.registry import CHALLENGER, CHAMPION
from data_science.train import TrainingSet
from production import retrain


def training_set(n: int) -> TrainingSet:
    x = np.zeros((n, 28, 28, 1), np.float32)
    y = np.arange(n) % 10
    return TrainingSet(x, y, x[:5], y[:5], [str(d) for d in range(10)], "mnist", "d")


def test_foreign_digits_make_up_the_share_asked_for_and_the_test_set_stays():
    data = training_set(900)
    foreign = np.full((20, 28, 28, 1), 255, np.float32)
    mixed = retrain.with_labelled_foreign(data, foreign, np.full(20, 3), share=0.1, seed=0)
    is_foreign = mixed.x_train[:, 0, 0, 0] == 255
    assert len(mixed.x_train) == 900 + 100 and is_foreign.sum() == 100  # 5 copies of 20
    assert (mixed.y_train[is_foreign] == 3).all()
    assert np.bincount(mixed.y_train[~is_foreign]).tolist() == [90] * 10  # MNIST all kept
    assert 0 < np.flatnonzero(is_foreign)[0] < 800  # shuffled in, not appended
    assert mixed.x_test is data.x_test and mixed.source == "mnist+foreign"


def accuracies(champion: tuple[float, float], challenger: tuple[float, float]) -> pd.DataFrame:
    table = pd.DataFrame(
        [champion, challenger], index=[CHAMPION, CHALLENGER], columns=["mnist", "foreign"]
    )
    return retrain.with_mix(table, foreign_share=0.1)


@pytest.mark.parametrize(
    ("champion", "challenger", "wins"),
    [
        ((0.980, 0.30), (0.980, 0.90), True),  # same MNIST, better foreign
        ((0.980, 0.30), (0.9601, 0.90), True),  # MNIST drop 0.0199, within the 0.02
        ((0.980, 0.30), (0.955, 0.95), False),  # MNIST drop 0.025, over it
        ((0.980, 0.30), (0.970, 0.35), False),  # within the drop, but worse on the mix
    ],
)
def test_promotion_rule(champion, challenger, wins):
    table = accuracies(champion, challenger)
    assert table.loc[CHAMPION, "mix"] == pytest.approx(0.9 * champion[0] + 0.1 * champion[1])
    assert retrain.challenger_wins(table, max_mnist_drop=0.02) == wins


IMAGES = np.zeros((10, 28, 28, 1), np.float32)
MNIST = np.array([0, 0, 0, 0, 0, 0, 1, 2, 3, 4])  # always-0 scores 0.6, always-1 0.1
FOREIGN = np.array([1, 1, 1, 1, 1, 0, 2, 3, 4, 5])  # always-0 scores 0.1, always-1 0.5


@pytest.mark.parametrize(("max_mnist_drop", "promoted"), [(0.6, True), (0.1, False)])
def test_the_challenger_becomes_champion_only_when_the_rule_holds(
    register_constant, request, max_mnist_drop, promoted
):
    name = request.node.name
    champion = register_constant(name, 0)
    registry.apply_decision(registry.decide_promotion(name, champion, 0.6, None))
    challenger = register_constant(name, 1)
    registry.set_role(name, challenger, CHALLENGER)

    test_sets = {"mnist": (IMAGES, MNIST), "foreign": (IMAGES, FOREIGN)}
    pinned = (f"models:/{name}/{champion}", f"models:/{name}/{challenger}")
    decision = retrain.compare_and_promote(test_sets, *pinned, max_mnist_drop, foreign_share=0.9)
    assert decision.table.loc[CHALLENGER].tolist() == pytest.approx([0.1, 0.5, 0.46])
    assert decision.table.loc[CHAMPION].tolist() == pytest.approx([0.6, 0.1, 0.15])
    assert decision.promoted == promoted and decision.candidate_version == challenger
    serving = registry.champion_version(name).version
    assert str(serving) == (challenger if promoted else champion)
    tags = MlflowClient().get_model_version(name, challenger).tags
    assert tags["promotion"] == decision.reason and "mnist 0.6000 -> 0.1000" in decision.reason


def decision(promoted: bool) -> retrain.ChallengerDecision:
    table = accuracies((0.98, 0.3), (0.97, 0.9))
    return retrain.ChallengerDecision("m", "2", "1", table, 0.02, 0.1, promoted)


def traffic(path) -> dict[str, int]:
    return yaml.safe_load(path.read_text())["traffic"]


def test_two_promotions_in_a_row_end_with_all_traffic_on_the_newest_model(tmp_path):
    first = retrain.plan_rollout(decision(True), tmp_path / "first", live="blue")
    assert (first.live, first.new) == ("blue", "green")
    assert [traffic(step) for step in first.steps] == [
        {"green": 10, "blue": 90},
        {"green": 50, "blue": 50},
        {"green": 100, "blue": 0},
    ]
    # the next model goes to the deployment the first one left idle, not over the live one
    second = retrain.plan_rollout(decision(True), tmp_path / "second", live=first.new)
    assert (second.live, second.new) == ("green", "blue")
    assert traffic(second.steps[-1]) == {"blue": 100, "green": 0}
    commands = second.commands(tmp_path / "bundles" / "blue", tmp_path)
    assert commands[:2] == [
        "az ml model create -f bundles/blue/model.yml",
        "az ml online-deployment create -f bundles/blue/deployment.yml",
    ]
    # the monitor follows the traffic: the new bundle's starts, the old deployment's stops
    assert commands[-4:] == [
        "az ml online-endpoint update -f second/step-3-blue-100.yml",
        "az ml data create -f bundles/blue/reference-data.yml",
        "az ml schedule create -f bundles/blue/monitor.yml",
        f"az ml schedule disable --name {second.endpoint}-green-monitor",
    ]


def test_enough_labels_is_where_the_curve_comes_within_reach_of_its_best():
    curve = pd.DataFrame({"foreign": [0.76, 0.87, 0.88, 0.88]}, index=[100, 250, 500, 1000])
    assert retrain.enough_labels(curve) == 250
    assert retrain.enough_labels(curve, within=0.005) == 500


def test_a_challenger_that_lost_gets_no_rollout(tmp_path):
    out = tmp_path / "rollout"
    assert retrain.plan_rollout(decision(False), out, live="blue") is None
    assert not out.exists()
    with pytest.raises(ValueError, match="blue/green"):
        retrain.idle_colour("red")
