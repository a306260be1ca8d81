"""Expected results: the file's checks before anything runs, and the rules themselves."""

import shutil
from pathlib import Path

import pytest

from course.expectations import (
    Expectation,
    ExpectationsError,
    check_results,
    load_expectations,
    recorded_metric_names,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "notebooks"
PROFILES = {"smoke", "default"}


@pytest.fixture
def folder(tmp_path) -> Path:
    shutil.copy(FIXTURES / "01_passes.ipynb", tmp_path)
    return tmp_path


def write(folder: Path, text: str) -> Path:
    (folder / "expectations.yml").write_text(text)
    return folder


def test_metric_names_are_read_from_the_record_metrics_call():
    assert recorded_metric_names(FIXTURES / "01_passes.ipynb") == {"accuracy", "samples", "model"}
    assert recorded_metric_names(FIXTURES / "03_sleeps.ipynb") == set()


def test_a_valid_file_gives_each_notebook_its_rules_per_profile(folder):
    write(folder, "01_passes:\n  smoke:\n    accuracy: {min: 0.4, max: 0.6}\n"
                  "    model: {equals: tiny}\n  default:\n    samples: {min: 40}\n")  # fmt: skip
    expectations = load_expectations(folder, PROFILES)
    smoke = expectations["01_passes"]["smoke"]
    assert [rule.describe() for rule in smoke] == ["0.4 to 0.6", '= "tiny"']
    assert expectations["01_passes"]["default"] == [Expectation("samples", min=40)]


def test_no_file_means_no_expectations(folder):
    assert load_expectations(folder, PROFILES) == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("01_passes: [\n", "not valid YAML"),
        ("- 01_passes\n", "the top level: expected a mapping of notebook names"),
        ("07_missing:\n  smoke: {}\n", "07_missing: expected a notebook in"),
        ("01_passes:\n  huge: {}\n", "01_passes.huge: expected one of the profiles"),
        ("01_passes:\n  smoke:\n    loss: {max: 1}\n", "smoke.loss: expected a metric the"),
        ("01_passes:\n  smoke:\n    accuracy: 0.5\n", "01_passes.smoke.accuracy: expected a rule"),
        ("01_passes:\n  smoke:\n    accuracy: {above: 0.5}\n", "not ['above']"),
        ("01_passes:\n  smoke:\n    accuracy: {min: high}\n", "expected numbers for min and max"),
        ("01_passes:\n  smoke:\n    accuracy: {min: 0.9, max: 0.1}\n", "min no larger than max"),
        ("01_passes:\n  smoke:\n    accuracy: {equals: 1, min: 0}\n", "equals alone"),
    ],
)  # fmt: skip
def test_a_malformed_file_is_an_error_naming_file_and_key(folder, text, message):
    write(folder, text)
    with pytest.raises(ExpectationsError, match="expectations.yml: ") as error:
        load_expectations(folder, PROFILES)
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("rule", "value", "holds"),
    [
        (Expectation("a", min=0.5, max=0.6), 0.5, True),
        (Expectation("a", min=0.5, max=0.6), 0.61, False),
        (Expectation("a", min=0.5), float("nan"), False),
        (Expectation("a", max=3), True, False),  # a flag is not a number
        (Expectation("a", max=3), "2", False),
        (Expectation("a", equals=True), True, True),
        (Expectation("a", equals=True), 1, False),
        (Expectation("a", equals="int8"), "float32", False),
    ],
)
def test_rules(rule, value, holds):
    assert rule.holds(value) == holds


def test_what_is_off_names_expected_and_actual():
    expectations = {"01": {"smoke": [Expectation("acc", min=0.9), Expectation("v", equals=2)]}}
    assert check_results(expectations, "01", "smoke", {"acc": 0.95, "v": 2}) == []
    assert check_results(expectations, "01", "smoke", {"acc": 0.08}) == [
        "acc: expected >= 0.9, got 0.08",
        "v: expected = 2, not recorded",
    ]
    assert check_results(expectations, "01", "smoke", {}) == ["recorded no metrics"]
    assert check_results(expectations, "01", "default", {}) == []
