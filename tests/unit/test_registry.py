"""The registry module against a real SQLite MLflow store, with models that answer one class
each (conftest's ``constant_model``), so every accuracy and decision is known in advance."""

import os
import shutil

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from data_science import registry
from data_science.registry import CHALLENGER, CHAMPION
from data_science.tracking import use_tracking
from production.__main__ import newest_run_with

LABELS = np.array([0, 0, 0, 1, 2, 3, 4, 5, 6, 7])  # "always 0" scores 0.3, "always 1" 0.1
IMAGES = np.zeros((len(LABELS), 28, 28, 1), np.float32)


@pytest.fixture
def name(register_constant, request) -> str:
    return request.node.name


@pytest.fixture
def version_of(register_constant, name):
    """``version_of(digit)``: a new version of this test's model that always answers digit."""
    return lambda digit: register_constant(name, digit)


def decide(name: str, version: str, accuracy: float) -> registry.PromotionDecision:
    champion = registry.champion_score(name, IMAGES, LABELS)
    return registry.decide_promotion(name, version, accuracy, champion)


def test_no_model_and_no_role_are_none_not_errors(name):
    assert registry.champion_version(name) is None
    MlflowClient().create_registered_model(name)
    assert registry.champion_version(name) is None
    with pytest.raises(LookupError, match="holds the role 'champion'"):
        registry.resolve(registry.role_uri(name))


def test_a_store_that_fails_is_an_error_not_a_missing_champion(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    mlflow.set_registry_uri(f"sqlite:///{tmp_path / 'a-file' / 'mlflow.db'}")
    with pytest.raises(Exception, match="(?i)file exists|not a directory"):
        registry.champion_version("m")


def test_the_first_version_becomes_champion_and_a_worse_one_does_not(name, version_of):
    first = version_of(0)
    decision = decide(name, first, 0.3)
    assert decision.promoted and decision.champion_version is None
    registry.apply_decision(decision)
    assert registry.champion_score(name, IMAGES, LABELS) == (first, pytest.approx(0.3))

    worse = version_of(1)
    decision = decide(name, worse, 0.1)
    assert not decision.promoted and decision.champion_accuracy == pytest.approx(0.3)
    registry.apply_decision(decision)
    assert str(registry.champion_version(name).version) == first
    assert "does not beat" in MlflowClient().get_model_version(name, worse).tags["promotion"]


def test_an_equal_version_is_not_promoted_a_better_one_is(name, version_of):
    registry.apply_decision(decide(name, version_of(0), 0.3))
    equal = version_of(0)
    registry.apply_decision(decide(name, equal, 0.3))
    assert str(registry.champion_version(name).version) != equal
    better = version_of(0)
    registry.apply_decision(decide(name, better, 0.31))
    assert str(registry.resolve(registry.role_uri(name)).version) == better
    assert str(registry.resolve(f"models:/{name}/{equal}").version) == equal


def test_the_challenger_role_never_moves_the_champion(name, version_of):
    champion = version_of(0)
    registry.apply_decision(decide(name, champion, 0.3))
    challenger = version_of(1)
    registry.set_role(name, challenger, CHALLENGER)
    assert str(registry.version_in_role(name, CHALLENGER).version) == challenger
    assert str(registry.champion_version(name).version) == champion
    with pytest.raises(ValueError, match="apply_decision"):
        registry.set_role(name, challenger, CHAMPION)


@pytest.fixture
def no_aliases(monkeypatch):
    """A registry like Azure ML's MLflow: model version aliases are not supported."""

    def unsupported(*args, **kwargs):
        raise MlflowException("model version aliases are not supported by this registry")

    for method in (
        "set_registered_model_alias",
        "delete_registered_model_alias",
        "get_model_version_by_alias",
    ):
        monkeypatch.setattr(MlflowClient, method, unsupported)


def test_roles_work_where_the_registry_has_no_aliases(no_aliases, name, version_of):
    first = version_of(0)
    registry.apply_decision(decide(name, first, 0.3))
    better = version_of(0)
    registry.apply_decision(decide(name, better, 0.31))
    challenger = version_of(1)
    registry.set_role(name, challenger, CHALLENGER)
    assert str(registry.champion_version(name).version) == better
    assert registry.role_uri(name) == f"models:/{name}/{better}"
    assert str(registry.resolve(f"models:/{name}@{CHALLENGER}").version) == challenger
    holders = [
        str(v.version)
        for v in MlflowClient().search_model_versions(f"name = '{name}'")
        if v.tags.get(registry.ROLE_TAG) == CHAMPION
    ]
    assert holders == [better]  # the role moved: the first version no longer holds it


def test_a_decision_survives_its_json_record():
    decision = registry.decide_promotion("m", "4", 0.91, ("3", 0.9), margin=0.005)
    record = decision.record()
    assert record["reason"] == decision.reason and "beats" in record["reason"]
    assert registry.PromotionDecision.from_record(record | {"run_id": "x"}) == decision


def test_promotion_rule():
    first = registry.decide_promotion("m", "1", 0.9, None)
    assert first.promoted and "first" in first.reason
    assert not registry.decide_promotion("m", "2", 0.95, ("1", 0.95)).promoted  # equal
    assert not registry.decide_promotion("m", "2", 0.94, ("1", 0.95)).promoted
    assert registry.decide_promotion("m", "2", 0.96, ("1", 0.95)).promoted
    assert not registry.decide_promotion("m", "2", 0.96, ("1", 0.95), margin=0.02).promoted


def test_a_decision_against_a_pinned_version_gives_the_role_back_when_it_wins(name, version_of):
    first = version_of(0)
    registry.apply_decision(decide(name, first, 0.3))
    later = version_of(1)
    registry.apply_decision(registry.decide_promotion(name, later, 0.9, (first, 0.3)))
    assert str(registry.champion_version(name).version) == later
    # a notebook re-run: its candidate measured against the version it started from
    replayed = version_of(1)
    pinned = registry.score(f"models:/{name}/{first}", IMAGES, LABELS)
    decision = registry.decide_promotion(name, replayed, 0.1, pinned)
    registry.apply_decision(decision)
    assert str(registry.champion_version(name).version) == first
    assert registry.winner(decision) == f"models:/{name}/{first}"


def test_make_serve_takes_the_newest_run_folder_whose_registry_has_the_model(
    name, version_of, registry_store, tmp_path
):
    registry.apply_decision(decide(name, version_of(0), 0.3))
    runs = tmp_path / "runs"
    shutil.copytree(registry_store, runs / "with-champion")
    use_tracking(runs / "newer-without", "registry")
    os.utime(runs / "with-champion" / "mlflow.db", (0, 0))  # the older store
    found = newest_run_with(f"models:/{name}@{CHAMPION}", runs)
    assert found == runs / "with-champion"
    with pytest.raises(SystemExit, match="no run folder under .* has models:/nobody@champion"):
        newest_run_with("models:/nobody@champion", runs)
