"""Execute the course notebooks headless (`course run`), show their parameters (`course list`),
compare two runs (`course compare`) and check that committed notebooks are clean
(`course check-notebooks`)."""

import argparse
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from papermill.iorw import NoDatesSafeLoader

from course.compare import compare_runs
from course.errors import UsageError
from course.notebook_checks import check_notebooks
from course.profiles import PROFILES
from course.report import format_line
from course.runner import NOTEBOOKS_DIR, find_notebooks, run_notebooks

# YAML 1.1 reads 1e-3 as a string; on the command line it means a float.
_EXPONENT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def parse_parameter(text: str) -> tuple[str, Any]:
    """`name=value` with the value read as a YAML scalar, the way papermill will read it."""
    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    if _EXPONENT.fullmatch(value):
        return name, float(value)
    try:
        return name, yaml.load(value, Loader=NoDatesSafeLoader)
    except yaml.YAMLError as error:
        raise argparse.ArgumentTypeError(f"{name}: not a YAML value: {value!r}") from error


def _prefixes(text: str) -> list[str]:
    return [prefix.strip() for prefix in text.split(",") if prefix.strip()]


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 up, got {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="course", description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--notebooks-dir",
        type=Path,
        default=NOTEBOOKS_DIR,
        metavar="DIR",
        help="default: %(default)s",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", parents=[common], help="execute the notebooks, write a report")
    run.add_argument(
        "--profile",
        choices=list(PROFILES),
        help="parameter values and timeout (default: default)",
    )
    run.add_argument(
        "--only",
        type=_prefixes,
        metavar="NN,NN",
        help="notebook numbers, e.g. 01,03; what they stand on runs first unless it passed "
        "in the run folder",
    )
    run.add_argument(
        "--resume",
        type=Path,
        metavar="DIR",
        help="in run folder DIR, run again what did not pass and what stands on it, with the "
        "folder's profile and -p values",
    )
    run.add_argument(
        "-p",
        dest="overrides",
        type=parse_parameter,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a parameter (repeatable); the value is read as YAML",
    )
    run.add_argument(
        "--out", type=Path, metavar="DIR", help="run folder (default: runs/<YYYYmmdd-HHMMSS>/)"
    )
    run.add_argument("--keep-going", action="store_true", help="run the rest after a failure")
    run.add_argument(
        "--allow-results-off",
        action="store_true",
        help="exit 0 when notebooks execute but some expected results do not hold",
    )
    run.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="per notebook (default: the profile's)"
    )
    run.add_argument(
        "--jobs", type=_positive, metavar="N", help="notebooks at once (default: the profile's)"
    )
    run.set_defaults(handler=_run)

    listing = commands.add_parser("list", parents=[common], help="show each notebook's parameters")
    listing.set_defaults(handler=_list)

    compare = commands.add_parser(
        "compare", help="a Markdown table of two runs' metrics and durations, with differences"
    )
    compare.add_argument("base", type=Path, metavar="RUN_A", help="the base run folder")
    compare.add_argument("change", type=Path, metavar="RUN_B", help="the run folder to compare")
    compare.add_argument("--out", type=Path, metavar="FILE", help="write here, not to stdout")
    compare.set_defaults(handler=_compare)

    check = commands.add_parser(
        "check-notebooks", help="fail on outputs, execution counts, kernel or parameters problems"
    )
    check.add_argument(
        "paths",
        type=Path,
        nargs="*",
        default=[NOTEBOOKS_DIR],
        metavar="PATH",
        help="notebooks or folders of notebooks (default: the course notebooks)",
    )
    check.set_defaults(handler=_check_notebooks)
    return parser


def _run(args: argparse.Namespace) -> int:
    if args.resume and (args.out or args.only or args.profile or args.overrides):
        raise UsageError(
            "--resume takes its folder's profile and -p values: no --out, --only, "
            "--profile or -p beside it"
        )
    report = run_notebooks(
        notebooks_dir=args.notebooks_dir,
        out=args.resume or args.out,
        profile=args.profile or "default",
        only=args.only,
        overrides=dict(args.overrides),
        keep_going=args.keep_going,
        timeout=args.timeout,
        jobs=args.jobs,
        on_result=lambda result: print(format_line(result), flush=True),
        resume=bool(args.resume),
        on_plan=lambda line: print(line, flush=True),
    )
    print(f"Report: {report.run_dir / 'report.md'}")
    return 1 if report.failed or (report.results_off and not args.allow_results_off) else 0


def _list(args: argparse.Namespace) -> int:
    for notebook in find_notebooks(args.notebooks_dir):
        print(notebook.path.name)
        for spec in notebook.declared.values():
            print(f"  {_describe(spec)}")
        if not notebook.declared:
            print("  (no parameters cell)")
        print()
    return 0


def _compare(args: argparse.Namespace) -> int:
    markdown = compare_runs(args.base, args.change)
    if args.out:
        args.out.write_text(markdown, encoding="utf-8")
    else:
        print(markdown, end="")
    return 0


def _check_notebooks(args: argparse.Namespace) -> int:
    problems = check_notebooks(args.paths)
    print("\n".join(problems or ["notebooks are clean"]))
    return 1 if problems else 0


def _describe(spec: dict[str, Any]) -> str:
    """`name: type = default  # help`, as written in the parameters cell."""
    kind = spec["inferred_type_name"]
    annotation = "" if kind == "None" else f": {kind}"
    comment = f"  # {spec['help']}" if spec["help"] else ""
    return f"{spec['name']}{annotation} = {spec['default']}{comment}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except UsageError as error:
        parser.error(str(error))
