"""The generated Azure ML YAML: in step with the committed copies, and valid offline."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
import yaml

from cloud.assets import GRID, REFERENCE_DIR
from cloud.generate import generate, render
from cloud.validate import validate_file, validate_folder
from data_science.search_space import SEARCH_SPACE


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("azureml")
    generate(out)
    return out


def test_committed_copies_match_the_generator():
    expected = render(REFERENCE_DIR)
    committed = {path.name: path.read_text() for path in REFERENCE_DIR.glob("*.yml")}
    assert committed == expected, "regenerate with: python -m cloud generate"


def test_committed_specs_pass_validation():
    assert [str(problem) for problem in validate_folder(REFERENCE_DIR)] == []


def test_specs_are_relative_to_their_folder(generated):
    for name in ("train-job.yml", "online-deployment-blue.yml"):  # paths resolve from there
        assert validate_file(generated / name) == []
    job = yaml.safe_load((generated / "train-job.yml").read_text())
    assert job["$schema"].endswith("commandJob.schema.json")
    assert not Path(job["code"]).is_absolute()
    assert job["command"].startswith("python -m data_science.train ")


@pytest.mark.parametrize(
    ("sampler", "searched"), [("random", set(SEARCH_SPACE)), ("grid", set(GRID))]
)
def test_sweep_searches_the_declared_space(sampler, searched):
    sweep = yaml.safe_load((REFERENCE_DIR / f"sweep-{sampler}-job.yml").read_text())
    assert set(sweep["search_space"]) == searched and sweep["sampling_algorithm"] == sampler
    for name in SEARCH_SPACE:  # searched or passed at its default
        bound = f"${{{{search_space.{name}}}}}" if name in searched else f"${{{{inputs.{name}}}}}"
        assert bound in sweep["trial"]["command"]


def test_the_grid_sweep_tries_every_point_of_its_grid():
    sweep = yaml.safe_load((REFERENCE_DIR / "sweep-grid-job.yml").read_text())
    points = math.prod(len(d["values"]) for d in sweep["search_space"].values())
    assert sweep["limits"]["max_total_trials"] == points == 9


def test_sweep_trials_do_not_register_and_the_register_step_is_never_reused():
    for sampler in ("random", "grid"):
        sweep = yaml.safe_load((REFERENCE_DIR / f"sweep-{sampler}-job.yml").read_text())
        assert sweep["trial"]["command"].endswith("--no-register")
    register = yaml.safe_load((REFERENCE_DIR / "component-register.yml").read_text())
    assert register["is_deterministic"] is False


def test_environment_that_drifted_from_environment_yml_is_caught(generated, tmp_path):
    folder = shutil.copytree(generated, tmp_path / "specs")
    (folder / "other-conda.yml").write_text("name: other\ndependencies: [python=3.12]\n")
    spec = yaml.safe_load((folder / "environment.yml").read_text())
    spec["conda_file"] = "other-conda.yml"
    (folder / "environment.yml").write_text(yaml.safe_dump(spec))
    messages = [str(p) for p in validate_file(folder / "environment.yml")]
    assert any("differs from the project's environment.yml" in m for m in messages), messages
