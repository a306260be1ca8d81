"""The kit's lock, constraints.txt, read as a dependency graph: the pins of some packages
and of everything they pull in, as pip lines for a conda file.

Every environment the kit hands to Azure ML is such a closure, so that what Azure installs
is what was tested here, package for package: the job environment (``cloud.conda``) and a
bundle's serving environment (``production.deployment``). Standard library only, so that it
runs before anything is installed.
"""

from __future__ import annotations

import re
from pathlib import Path

# The lock's own platforms ([tool.uv] environments): true wherever the kit installs.
EVERYWHERE = "sys_platform == 'darwin' or sys_platform == 'linux'"


def normalised(name: str) -> str:
    """A distribution name as package indexes compare them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(spec: str) -> str:
    return normalised(re.match(r"[A-Za-z0-9_.\-]+", spec).group(0))


def read_lock(constraints: Path) -> dict[str, tuple[str, set[str]]]:
    """name -> (its pin line, the packages that need it), from uv's annotated output."""
    locked: dict[str, tuple[str, set[str]]] = {}
    name = None
    for line in constraints.read_text().splitlines():
        if line and not line.startswith((" ", "#")):
            name = requirement_name(line)
            locked[name] = (line.strip(), set())
        elif name and line.strip().startswith("#") and line.strip() != "# via":
            parent = line.strip().lstrip("#").strip().removeprefix("via ").split(" (")[0]
            locked[name][1].add(normalised(parent.split("[")[0]))
    return locked


def closure(roots: set[str], locked: dict[str, tuple[str, set[str]]]) -> list[str]:
    """The pin lines of ``roots`` and of everything they need, in name order."""
    unpinned = sorted(roots - set(locked))
    if unpinned:
        raise ValueError(f"not pinned in constraints.txt: {', '.join(unpinned)} (make pins)")
    needed = set(roots)
    while True:
        more = {name for name, (_, needs) in locked.items() if needs & needed} - needed
        if not more:
            return [locked[name][0] for name in sorted(needed)]
        needed |= more


def pip_requirement(pin: str) -> str:
    """A pin as pip takes it: its platform marker only where it does not hold everywhere."""
    requirement, _, marker = (part.strip() for part in pin.partition(";"))
    return f"{requirement}; {marker}" if marker and marker != EVERYWHERE else requirement
