"""The packages' dependencies point one way, and what the endpoint runs imports only what
its conda file lists (read from the source, so nothing is imported here)."""

import ast
import sys
import tomllib
from functools import cache
from importlib.metadata import distribution, packages_distributions
from pathlib import Path

from production.deployment import ROOT, SERVED_CODE, SERVING_PACKAGES
from production.lock import normalised, requirement_name


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, wherever in the file (lazy imports included)."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            modules.add(node.module)
    return modules


@cache
def distribution_of(module: str) -> str:
    """The installed distribution that holds ``module`` (``azureml`` alone has several)."""
    candidates = top_level_distributions()[module.split(".")[0]]
    path = module.replace(".", "/")
    holders = [
        name
        for name in candidates
        if any(file.startswith((f"{path}/", f"{path}.py")) for file in files_of(name))
    ]
    return (holders or candidates)[0].lower()


@cache
def top_level_distributions() -> dict[str, list[str]]:
    return packages_distributions()  # reads every installed distribution: once


@cache
def files_of(name: str) -> tuple[str, ...]:
    return tuple(str(file) for file in distribution(name).files)


def python_files(*relatives: str) -> list[Path]:
    paths = [ROOT / relative for relative in relatives]
    return [file for path in paths for file in ([path] if path.is_file() else path.rglob("*.py"))]


def test_production_and_data_science_never_import_cloud():
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m for m in imported_modules(path) if m.split(".")[0] == "cloud"
        )
        for path in python_files("production", "data_science")
    }
    assert not {path: found for path, found in offenders.items() if found}


def test_served_code_imports_only_itself_the_standard_library_and_the_serving_packages():
    modules = {module for path in python_files(*SERVED_CODE) for module in imported_modules(path)}
    kit = {m for m in modules if m.split(".")[0] in ("production", "data_science")}
    assert kit <= {
        "production.serving",  # from production.serving import metrics
        "production.serving.collect",
        "production.serving.novelty",
        "production.serving.scoring",
        "data_science.preprocessing",
    }
    standard = {m for m in modules if m.split(".")[0] in sys.stdlib_module_names | {"__future__"}}
    # tqdm only draws a progress bar that training asks for; the endpoint never does.
    third_party = modules - kit - standard - {"tqdm.auto"}
    assert {normalised(distribution_of(m)) for m in third_party} == set(SERVING_PACKAGES)


def test_every_package_the_kit_imports_is_declared():
    """Not only installed because something else pulls it in: a declared dependency."""
    modules = {
        m
        for path in python_files("data_science", "cloud", "production", "course")
        for m in imported_modules(path)
    }
    kit = {"data_science", "cloud", "production", "course", "__future__"}
    third_party = {m for m in modules if m.split(".")[0] not in kit | set(sys.stdlib_module_names)}
    declared = set().union(*declared_by_use().values())
    found = {module: normalised(distribution_of(module)) for module in third_party}
    assert {module: name for module, name in found.items() if name not in declared} == {}


def declared_by_use() -> dict[str, set[str]]:
    """pyproject.toml's distributions: the core's, and each extra's."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    uses = {"core": project["dependencies"], **project["optional-dependencies"]}
    return {use: {requirement_name(spec) for spec in specs} for use, specs in uses.items()}


def test_the_serving_environment_is_built_from_the_serve_extra_alone():
    assert set(SERVING_PACKAGES) <= declared_by_use()["serve"]


def test_the_core_imports_no_notebook_serving_or_cloud_package():
    """What a training job runs (data_science, and the cloud steps it calls) needs only the
    core and the azureml-logging extra: environment.yml holds nothing else."""
    job_code = python_files("data_science", "cloud/steps.py")
    modules = {m for path in job_code for m in imported_modules(path)}
    third_party = {
        m
        for m in modules
        if m.split(".")[0] not in {"data_science", "__future__"} | set(sys.stdlib_module_names)
    }
    uses = declared_by_use()
    allowed = uses["core"] | uses["azureml-logging"]
    found = {module: normalised(distribution_of(module)) for module in third_party}
    assert {module: name for module, name in found.items() if name not in allowed} == {}
