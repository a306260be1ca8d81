"""The error every course command turns into a usage message and exit code 2."""


class UsageError(ValueError):
    """The command cannot run as asked: unknown profile, selection, folder, parameter or
    a malformed input file."""
