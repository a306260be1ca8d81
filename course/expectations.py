"""Expected results: what each notebook must show on each profile, checked after it runs.

The course's notebooks folder holds one ``expectations.yml``::

    01_mnist_local:            # a notebook, by file name without .ipynb
      smoke:                   # a profile
        test_accuracy: {min: 0.80, max: 1.0}   # a metric the notebook records, and its rule
        promoted: {equals: true}

A rule has ``min`` and/or ``max`` (inclusive, numbers) or ``equals`` (any value). The file
is checked before anything runs: unknown notebooks, profiles, rule keys, and metrics that
the notebook's ``record_metrics`` call never records are errors that name the file and key.
"""

from __future__ import annotations

import ast
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

FILE_NAME = "expectations.yml"
RULE_KEYS = {"min", "max", "equals"}
_UNSET = object()


class ExpectationsError(ValueError):
    """The expectations file cannot be used as written."""


@dataclass(frozen=True)
class Expectation:
    metric: str
    min: float | None = None
    max: float | None = None
    equals: Any = _UNSET

    def describe(self) -> str:
        if self.equals is not _UNSET:
            return f"= {json.dumps(self.equals)}"
        if self.min is not None and self.max is not None:
            return f"{self.min:g} to {self.max:g}"
        return f">= {self.min:g}" if self.min is not None else f"<= {self.max:g}"

    def holds(self, value: Any) -> bool:
        if self.equals is not _UNSET:
            return value == self.equals and type(value) is type(self.equals)
        if not _is_number(value) or math.isnan(value):
            return False
        low = -math.inf if self.min is None else self.min
        high = math.inf if self.max is None else self.max
        return low <= value <= high

    def check(self, metrics: dict[str, Any]) -> str | None:
        """None when the recorded metrics meet this expectation, else what is off."""
        if self.metric not in metrics:
            return f"{self.metric}: expected {self.describe()}, not recorded"
        value = metrics[self.metric]
        if self.holds(value):
            return None
        return f"{self.metric}: expected {self.describe()}, got {json.dumps(value)}"


Expectations = dict[str, dict[str, list[Expectation]]]  # notebook -> profile -> rules


def recorded_metric_names(notebook: Path) -> set[str]:
    """The metric names a notebook's ``record_metrics(run_dir, name, {...})`` call records,
    read from its source without running it."""
    names: set[str] = set()
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or "record_metrics" not in source:
            continue
        for node in ast.walk(ast.parse(source)):
            called = getattr(node, "func", None)
            name = getattr(called, "id", getattr(called, "attr", None))
            if name == "record_metrics" and len(node.args) == 3:
                keys = getattr(node.args[2], "keys", [])
                names |= {key.value for key in keys if isinstance(key, ast.Constant)}
    return names


def load_expectations(notebooks_dir: Path, profiles: set[str]) -> Expectations:
    """The folder's expectations file, checked against its notebooks; {} without a file."""
    path = notebooks_dir / FILE_NAME
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise ExpectationsError(f"{path}: not valid YAML: {error}") from None
    _require(isinstance(data, dict), path, "the top level", "a mapping of notebook names")
    notebooks = {p.stem: p for p in notebooks_dir.glob("[0-9][0-9]_*.ipynb")}
    return {
        name: _notebook_expectations(path, name, by_profile, notebooks, profiles)
        for name, by_profile in data.items()
    }


def _notebook_expectations(
    path: Path, name: str, by_profile: Any, notebooks: dict[str, Path], profiles: set[str]
) -> dict[str, list[Expectation]]:
    _require(name in notebooks, path, name, f"a notebook in {path.parent}")
    _require(isinstance(by_profile, dict), path, name, "a mapping of profiles")
    recorded = recorded_metric_names(notebooks[name])
    result = {}
    for profile, rules in by_profile.items():
        key = f"{name}.{profile}"
        _require(profile in profiles, path, key, f"one of the profiles {sorted(profiles)}")
        _require(isinstance(rules, dict), path, key, "a mapping of metrics to rules")
        result[profile] = [
            _expectation(path, f"{key}.{metric}", metric, rule, recorded)
            for metric, rule in rules.items()
        ]
    return result


def _expectation(path: Path, key: str, metric: str, rule: Any, recorded: set[str]) -> Expectation:
    _require(metric in recorded, path, key, "a metric the notebook records")
    _require(isinstance(rule, dict) and rule, path, key, "a rule such as {min: 0.9}")
    unknown = sorted(set(rule) - RULE_KEYS)
    _require(not unknown, path, key, f"rule keys among {sorted(RULE_KEYS)}, not {unknown}")
    if "equals" in rule:
        _require(len(rule) == 1, path, key, "equals alone, without min or max")
        return Expectation(metric, equals=rule["equals"])
    bounds = [rule.get("min"), rule.get("max")]
    numbers = all(bound is None or _is_number(bound) for bound in bounds)
    _require(numbers and bounds != [None, None], path, key, "numbers for min and max")
    if None not in bounds:
        _require(bounds[0] <= bounds[1], path, key, "min no larger than max")
    return Expectation(metric, min=bounds[0], max=bounds[1])


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _require(condition: bool, path: Path, key: str, expected: str) -> None:
    if not condition:
        raise ExpectationsError(f"{path}: {key}: expected {expected}")


def check_results(
    expectations: Expectations, notebook: str, profile: str, metrics: dict[str, Any]
) -> list[str]:
    """What is off in a notebook's recorded metrics on this profile (empty: all holds)."""
    rules = expectations.get(notebook, {}).get(profile, [])
    if rules and not metrics:
        return ["recorded no metrics"]
    return [problem for rule in rules if (problem := rule.check(metrics))]
