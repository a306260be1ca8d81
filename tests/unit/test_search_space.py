"""The declared search space: sampling, grids and its Azure ML sweep form."""

import math

import numpy as np
import pytest

from data_science.search_space import (
    SEARCH_SPACE,
    BanditStopping,
    Choice,
    LogUniform,
    SearchBudget,
    Uniform,
    grid_configs,
    random_configs,
    sample_configs,
    space_to_azureml,
)


def take(configs, count):
    return [next(configs) for _ in range(count)]


def test_random_draws_stay_in_the_space_and_repeat_with_the_seed():
    draws = take(random_configs(SEARCH_SPACE, seed=3), 200)
    assert draws == take(random_configs(SEARCH_SPACE, seed=3), 200)
    assert draws != take(random_configs(SEARCH_SPACE, seed=4), 200)
    for draw in draws:
        assert set(draw) == set(SEARCH_SPACE)
        assert 5e-4 <= draw["learning_rate"] <= 1e-2
        assert 0.0 <= draw["dropout"] <= 0.4
        assert draw["batch_size"] in (32, 64, 128) and draw["augment"] in (True, False)
    assert {d["width"] for d in draws} == {16, 24, 32}


def test_log_uniform_is_uniform_in_the_logarithm():
    space = {"learning_rate": LogUniform(1e-4, 1e-2)}
    rates = np.array([d["learning_rate"] for d in take(random_configs(space), 2000)])
    assert abs(np.median(rates) - 1e-3) < 2e-4  # the geometric, not the arithmetic, middle
    assert 0.4 < (rates < 1e-3).mean() < 0.6


def test_grid_visits_every_combination_once():
    space = {"width": Choice((8, 16)), "dropout": Uniform(0.0, 0.4), "augment": Choice((True,))}
    grid = list(grid_configs(space, points=3))
    assert len(grid) == 2 * 3 * 1
    assert {(g["width"], g["dropout"]) for g in grid} == {
        (w, d) for w in (8, 16) for d in (0.0, 0.2, 0.4)
    }
    assert LogUniform(1e-4, 1e-2).grid(3) == pytest.approx([1e-4, 1e-3, 1e-2])


def test_unknown_sampler_and_empty_ranges_are_refused():
    with pytest.raises(ValueError, match="unknown sampler 'bayes'"):
        sample_configs(SEARCH_SPACE, "bayes")
    with pytest.raises(ValueError):
        LogUniform(0.0, 1.0)
    with pytest.raises(ValueError):
        Choice(())
    with pytest.raises(ValueError):
        SearchBudget(max_trials=0)


def test_azureml_form_of_the_space():
    sweep = space_to_azureml(SEARCH_SPACE)
    assert sweep["batch_size"] == {"type": "choice", "values": [32, 64, 128]}
    assert sweep["dropout"] == {"type": "uniform", "min_value": 0.0, "max_value": 0.4}
    rate = sweep["learning_rate"]
    assert rate["type"] == "loguniform"  # Azure ML draws exp(uniform(min, max))
    assert math.exp(rate["min_value"]) == pytest.approx(5e-4)
    assert math.exp(rate["max_value"]) == pytest.approx(1e-2)
    grid = space_to_azureml(SEARCH_SPACE, "grid", grid_points=2)
    assert all(d["type"] == "choice" for d in grid.values())
    assert grid["learning_rate"]["values"] == pytest.approx([5e-4, 1e-2])


def test_budget_and_stopping_rule_in_azureml_terms():
    assert SearchBudget(6, 299.5).to_azureml() == {
        "max_total_trials": 6,
        "max_concurrent_trials": 1,
        "timeout": 300,
    }
    assert BanditStopping(0.05, 2).to_azureml() == {
        "type": "bandit",
        "slack_amount": 0.05,
        "evaluation_interval": 1,
        "delay_evaluation": 2,
    }


def test_bandit_stops_only_trials_far_behind_after_the_delay():
    rule = BanditStopping(slack_amount=0.1, delay_epochs=2)
    assert not rule.is_hopeless(0, 0.1, best_at_epoch=0.9)  # first epoch: too early to judge
    assert rule.is_hopeless(1, 0.79, best_at_epoch=0.9)
    assert not rule.is_hopeless(1, 0.81, best_at_epoch=0.9)  # within the slack
    assert not rule.is_hopeless(1, 0.1, best_at_epoch=None)  # nothing to compare with yet
