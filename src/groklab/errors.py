"""The one exception type users see for bad input: its message is a single line naming the field."""


class GroklabInputError(ValueError):
    """Bad user input (spec field, sweep file, CLI flag). Raised before any work starts."""


class GroklabRunError(RuntimeError):
    """A run that could not finish (a remote chunk failed for good); one line saying where to look."""


def one_line(err: BaseException) -> str:
    """The last non-empty line of an exception's message: remote errors carry whole tracebacks, whose
    last line is the error itself."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return lines[-1] if lines else type(err).__name__
