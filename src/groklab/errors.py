"""The one exception type users see for bad input: its message is a single line naming the field."""


class GroklabInputError(ValueError):
    """Bad user input (spec field, sweep file, CLI flag). Raised before any work starts."""
