"""One notebook executed by papermill: the runner's child process (``python -m course.execute``).

What papermill's command line does with the options the runner uses, except that the kernel
is killed once the last cell has run instead of asked to shut down: a kernel that imported
TensorFlow spends seconds of CPU tearing itself down (01 on the smoke profile: 21-22 s this
way, 24-25 s with a graceful shutdown), and nothing it holds is needed once its cells are done.
Servers a notebook starts stop when their parent dies.
"""

import logging
import sys

import papermill
import yaml
from papermill.iorw import NoDatesSafeLoader


def main(argv: list[str] | None = None) -> None:
    source, executed, kernel, cwd, parameters = argv or sys.argv[1:]
    logging.basicConfig(level=logging.INFO, format="%(message)s")  # cell outputs to the log
    papermill.execute_notebook(
        source,
        executed,
        parameters=yaml.load(parameters, Loader=NoDatesSafeLoader),
        kernel_name=kernel,
        cwd=cwd,
        log_output=True,
        shutdown_kernel="immediate",
    )


if __name__ == "__main__":
    main()
