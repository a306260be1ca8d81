"""Azure ML assets of the course, from the command line.

python -m cloud generate --out DIR [--pdf-model-version N]   write every asset as YAML
python -m cloud validate DIR           SDK loaders plus the checks they miss
python -m cloud submit FILE            create it in the configured workspace
python -m cloud rehearse DIR [DIR …]   submit every file to a stand-in workspace, offline
python -m cloud deploy-guide BUNDLE    the az commands that deploy a bundle, and their cost
"""

from __future__ import annotations

import argparse
import sys

from cloud.assets import REFERENCE_DIR
from cloud.deploy import Workspace


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cloud", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("generate", help="write every asset as YAML")
    command.add_argument("--out", default=str(REFERENCE_DIR))
    command.add_argument(
        "--pdf-model-version",
        default="1",
        help="the PDF classifier version the batch deployment serves (default: %(default)s)",
    )
    command = commands.add_parser("validate", help="validate a folder of Azure ML YAML")
    command.add_argument("folder")
    command = commands.add_parser("submit", help="submit a YAML file to the workspace")
    command.add_argument("file")
    command = commands.add_parser(
        "rehearse", help="submit every YAML file of the folders to a stand-in workspace"
    )
    command.add_argument("folders", nargs="+")
    command.add_argument(
        "--record", default="runs/rehearsal/requests.jsonl", help="where every request goes"
    )
    command = commands.add_parser(
        "deploy-guide", help="the az commands that deploy a bundle, checked, and their cost"
    )
    command.add_argument("bundle")
    command.add_argument("--run-dir", help="the run folder whose registry has the model")
    defaults = Workspace()
    command.add_argument("--resource-group", default=defaults.resource_group)
    command.add_argument("--workspace", default=defaults.name)
    command.add_argument("--region", default=defaults.region)
    args = parser.parse_args(argv)
    run = {
        "generate": run_generate,
        "validate": run_validate,
        "submit": run_submit,
        "rehearse": run_rehearse,
        "deploy-guide": run_deploy_guide,
    }
    return run[args.command](args)


def run_generate(args: argparse.Namespace) -> int:
    from cloud.generate import generate

    written = generate(args.out, args.pdf_model_version)
    print(f"wrote {len(written)} files to {args.out}")
    return 0


def run_validate(args: argparse.Namespace) -> int:
    from cloud.validate import validate_folder

    problems = validate_folder(args.folder)
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problem(s) in {args.folder}", file=sys.stderr)
    return 1 if problems else 0


def run_submit(args: argparse.Namespace) -> int:
    from cloud.submit import NotConfigured, SubmissionError, submit

    try:
        print(submit(args.file))
    except NotConfigured as error:
        print(f"not submitted: {error}", file=sys.stderr)
        return 2
    except SubmissionError as error:
        print(f"not submitted: {error}", file=sys.stderr)
        return 1
    return 0


def run_rehearse(args: argparse.Namespace) -> int:
    from pathlib import Path

    from cloud.rehearse import rehearse, table

    rehearsal = rehearse(args.folders, Path(args.record))
    print(table(rehearsal.rows))
    for problem in rehearsal.problems:
        print(f"rule broken: {problem}")
    for row in rehearsal.failed:
        print(f"{row.file}: {row.outcome}\n{row.console}".strip(), file=sys.stderr)
    print(f"{rehearsal.summary()}; requests in {args.record}")
    return 0 if rehearsal.passed else 1


def run_deploy_guide(args: argparse.Namespace) -> int:
    from cloud.deploy import cost_lines, deployment_guide, guide_problems

    workspace = Workspace(args.resource_group, args.workspace, args.region)
    guide = deployment_guide(args.bundle, workspace, args.run_dir)
    for step, commands in guide.items():
        print(f"# {step}", *commands, "", sep="\n")
    print(*(f"# {line}" for line in cost_lines(args.bundle, workspace)), sep="\n")
    problems = guide_problems(guide, workspace)
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
