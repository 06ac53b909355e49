"""`groklab` command line. Bad input exits 2 with one line naming the field, before any work."""
from __future__ import annotations

import sys

from groklab.errors import GroklabInputError, GroklabRunError


def main() -> None:
    from groklab.runtime import configure_process

    configure_process()  # before JAX loads: single-threaded XLA, persistent compile cache
    import typer
    from typer._click.exceptions import (
        BadParameter,
        NoArgsIsHelpError,
        NoSuchOption,
        UsageError,
    )

    try:
        from groklab.cli import (  # noqa: F401  (their commands register on import)
            checks,
            data,
            store_commands,
        )
        from groklab.cli.app import app
        from groklab.cli.recipes import add_recipe_commands

        add_recipe_commands()
        # Not standalone: typer hands usage errors back instead of printing a multi-line panel.
        code = app(standalone_mode=False)
    except GroklabInputError as err:
        _fail(str(err))
    except GroklabRunError as err:  # work started and could not finish: one line, exit 1
        print(f"error: {' '.join(str(err).split())}", file=sys.stderr)
        raise SystemExit(1) from None
    except NoArgsIsHelpError as err:  # `groklab` or `groklab run` alone: the help text
        print(err.format_message(), file=sys.stderr)
        raise SystemExit(err.exit_code) from None
    except BadParameter as err:  # a flag's value of the wrong type, or a missing argument
        hint = err.param.opts[0] if err.param is not None and err.param.opts else "argument"
        _fail(f"{err.param_hint or hint}: {err.message or 'required'}")
    except NoSuchOption as err:
        _fail(f"{err.option_name}: {err.format_message()}")
    except UsageError as err:  # e.g. an unexpected extra argument
        _fail(f"arguments: {err.format_message()}")
    except typer.Abort:
        print("Aborted.", file=sys.stderr)
        raise SystemExit(1) from None
    if isinstance(code, int) and code:  # typer.Exit(code) from a command (e.g. a FAIL verdict)
        raise SystemExit(code)


def _fail(message: str) -> None:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)  # one line, whatever the message
    raise SystemExit(2) from None
