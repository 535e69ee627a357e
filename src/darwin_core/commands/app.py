"""The ``darwin`` command-line application and its console plumbing, shared by
:mod:`darwin_core.cli` and the command modules (which never import the CLI itself).

Exit codes: 0 success; 1 failure; 2 bad input (config, unknown backend, missing dependency);
3 broken plugin; 4 storage; 5 budget spent; 6 sandbox unusable; 130 interrupted.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator, NoReturn

import typer
from rich.console import Console
from rich.text import Text

from darwin_hookspecs import DarwinError

from .. import __version__

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  context_settings={"help_option_names": ["-h", "--help"]},
                  help="Darwin: self-improving code, validated in sandboxes.")
# markup is off: messages print literally ("[run] initial" stays "[run] initial"); styles are
# given as Text objects
console = Console(stderr=True, markup=False, highlight=False)
out = Console(markup=False, highlight=False)


def styled(label: str, style: str, message: str = "") -> Text:
    """``label`` in ``style`` followed by ``message`` as plain text (never parsed as markup)."""
    return Text.assemble((label, style), message)


def _fail(exc: DarwinError) -> NoReturn:
    console.print(styled("error:", "bold red", " " + str(exc)), soft_wrap=True)
    raise typer.Exit(exc.exit_code)


def _version(value: bool) -> None:
    if value:
        out.print(f"darwin {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", "-V", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Darwin: self-improving code, validated in sandboxes."""


@contextmanager
def guard() -> Iterator[None]:
    """Turn errors into a message and an exit code: never a traceback for the user."""
    try:
        yield
    except DarwinError as exc:
        _fail(exc)
    except (typer.Exit, KeyboardInterrupt):
        raise
    except Exception as exc:  # noqa: BLE001 - last resort
        from ..infra import as_error

        if (infra := as_error(exc)) is not None:  # a full or read-only disk: exit 4 naming it
            _fail(infra)
        if os.environ.get("DARWIN_DEBUG"):
            raise
        console.print(styled(
            "unexpected error:", "bold red", f" {type(exc).__name__}: {exc}\n"
            "What was recorded is intact; `darwin resume RUN_DIR` continues a run. "
            "Set DARWIN_DEBUG=1 to see the traceback, and please report it."))
        raise typer.Exit(1) from None


def set_label(settings: list[str]) -> str | None:
    """How errors in ``--set`` values name their source."""
    return f"--set ({' '.join(settings)})" if settings else None
