"""Options shared by commands that open the database, and how they become settings.

A command that opens the database takes ``--config FILE`` (a settings file), or
``--data-dir DIR`` (the embedded SQLite database inside it), or ``--database-url URL``; the
settings file may be combined with the other two, which override it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hazwatch.settings import ConfigError, Settings, load_settings

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="settings file (YAML)", exists=True)
]
DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="folder of the embedded database")
]
DatabaseOpt = Annotated[
    str | None, typer.Option("--database-url", help="SQLAlchemy URL (default: SQLite in data dir)")
]


def fail(message: str) -> typer.Exit:
    """Print ``message`` as an error; raise the returned exit (code 2)."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code=2)


def settings_of(config: Path | None, **overrides: object) -> Settings:
    """The settings of ``config`` (or the defaults) with the given options laid over them."""
    try:
        if config is not None:
            return load_settings(config, **overrides)
        return Settings.model_validate({k: v for k, v in overrides.items() if v is not None})
    except ConfigError as exc:
        raise fail(str(exc)) from exc
