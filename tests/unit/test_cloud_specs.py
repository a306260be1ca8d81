"""The generated Azure ML YAML: in step with the committed copies, and valid offline."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
import yaml

from cloud.assets import CONDA_FILE, GRID, REFERENCE_DIR
from cloud.generate import changes_from, render
from cloud.validate import validate_file, validate_folder
from data_science.search_space import SEARCH_SPACE
from production.azureml_yaml import content_version
from production.deployment import (
    BASE_IMAGE,
    PLACEHOLDER_SUFFIX,
    SUFFIX_VARIABLE,
    WORKSPACE_VARIABLES,
    endpoint_name,
    endpoint_suffix,
)


def test_committed_copies_match_the_generator(monkeypatch):
    for name in (SUFFIX_VARIABLE, *WORKSPACE_VARIABLES):
        monkeypatch.delenv(name, raising=False)  # the committed copies carry the placeholder
    expected = render(REFERENCE_DIR)
    committed = {path.name: path.read_text() for path in REFERENCE_DIR.glob("*.yml")}
    assert committed == expected, "regenerate with: python -m cloud generate"


def test_committed_specs_pass_validation():
    assert [str(problem) for problem in validate_folder(REFERENCE_DIR)] == []


def test_a_bundles_online_specs_pass_validation_beside_them(azureml_folder):
    assert [str(problem) for problem in validate_folder(azureml_folder)] == []


def test_specs_are_relative_to_their_folder(azureml_folder):
    for name in ("train-job.yml", "deployment.yml"):  # paths resolve from there
        assert validate_file(azureml_folder / name) == []
    job = yaml.safe_load((azureml_folder / "train-job.yml").read_text())
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


def test_sweep_trials_do_not_register_and_the_steps_that_decide_are_never_reused():
    for sampler in ("random", "grid"):
        sweep = yaml.safe_load((REFERENCE_DIR / f"sweep-{sampler}-job.yml").read_text())
        assert sweep["trial"]["command"].endswith("--no-register")
    for step in ("evaluate", "register"):  # they read and change the registry
        component = yaml.safe_load((REFERENCE_DIR / f"component-{step}.yml").read_text())
        assert component["is_deterministic"] is False, step


def test_environment_that_drifted_from_environment_yml_is_caught(azureml_folder, tmp_path):
    folder = shutil.copytree(azureml_folder, tmp_path / "specs")
    (folder / "other-conda.yml").write_text("name: other\ndependencies: [python=3.12]\n")
    spec = yaml.safe_load((folder / "environment.yml").read_text())
    spec["conda_file"] = "other-conda.yml"
    (folder / "environment.yml").write_text(yaml.safe_dump(spec))
    messages = [str(p) for p in validate_file(folder / "environment.yml")]
    assert any("differs from the project's environment.yml" in m for m in messages), messages


def test_endpoint_suffix_comes_from_the_user_or_the_workspace(monkeypatch):
    for name in (SUFFIX_VARIABLE, *WORKSPACE_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    assert endpoint_name() == f"digits-endpoint-{PLACEHOLDER_SUFFIX}"
    for name, value in zip(WORKSPACE_VARIABLES, ("sub-1", "rg", "ws"), strict=True):
        monkeypatch.setenv(name, value)
    derived = endpoint_suffix()
    assert len(derived) == 6 and derived.isdigit() and derived != PLACEHOLDER_SUFFIX
    monkeypatch.setenv(WORKSPACE_VARIABLES[2], "another-ws")
    assert endpoint_suffix() != derived  # another workspace, another name
    monkeypatch.setenv(SUFFIX_VARIABLE, "JD2026")
    assert endpoint_name() == "digits-endpoint-jd2026"  # lowercase: names are compared so
    monkeypatch.setenv(SUFFIX_VARIABLE, "alice")  # no digit: as likely taken as a name
    with pytest.raises(ValueError, match="AZUREML_ENDPOINT_SUFFIX='alice': a suffix is 4 to 12"):
        endpoint_suffix()


def test_the_environment_and_data_are_versioned_by_their_content():
    environment = yaml.safe_load((REFERENCE_DIR / "environment.yml").read_text())
    data = yaml.safe_load((REFERENCE_DIR / "mnist-data.yml").read_text())
    # unchanged: the version already registered; changed: a new one (Azure's are immutable)
    assert environment["version"] == content_version(BASE_IMAGE, CONDA_FILE.read_bytes())
    assert environment["version"] != content_version(BASE_IMAGE, b"another conda file")
    assert data["version"] == content_version(data["path"]) and data["version"].isdigit()


def test_component_versions_follow_their_content_and_code(tmp_path, monkeypatch):
    from cloud import assets

    before = assets.all_assets(tmp_path)
    assert assets.all_assets(tmp_path) == before  # unchanged: the same versions, no clash
    code = tmp_path / "job_code"
    shutil.copytree(assets.JOB_CODE, code)  # the linked packages copied in
    (code / "changed.py").write_text("# a change to the job code\n")
    monkeypatch.setattr(assets, "JOB_CODE", code)
    after = assets.all_assets(tmp_path)
    components = [name for name in before if name.startswith(("component-", "pipeline-classify"))]
    for name in components:  # every component uploads the code, or runs one that does
        assert after[name]["version"] != before[name]["version"], name
    assert after["pipeline-job.yml"] == before["pipeline-job.yml"]  # it names files, not versions


def test_a_new_pdf_classifier_is_a_new_batch_pipeline_version(tmp_path):
    from cloud.assets import all_assets

    first, second = all_assets(tmp_path, "1"), all_assets(tmp_path, "2")
    pipeline = second["pipeline-classify-pdfs.yml"]
    bound = pipeline["jobs"]["classify"]["inputs"]["model"]["path"]
    assert bound == "azureml:pdf-classifier:2"  # a version, not @latest
    assert pipeline["version"] != first["pipeline-classify-pdfs.yml"]["version"]
    assert second["component-classify-pdfs.yml"] == first["component-classify-pdfs.yml"]


def test_a_spec_read_as_its_changes_from_another_loses_nothing():
    base, sweep = REFERENCE_DIR / "train-job.yml", REFERENCE_DIR / "sweep-random-job.yml"
    text = changes_from(base, sweep)
    first, second = yaml.safe_load(base.read_text()), yaml.safe_load(sweep.read_text())
    changes = yaml.safe_load(text)
    dropped = text.splitlines()[-1].split("'s ")[1].split(", ")
    assert {**{k: v for k, v in first.items() if k not in dropped}, **changes} == second
    assert "search_space" in changes and "command" in dropped
    assert "  batch_size: {type: choice, values: [32, 64, 128]}" in text.splitlines()
    assert len(text.splitlines()) < len(sweep.read_text().splitlines())
