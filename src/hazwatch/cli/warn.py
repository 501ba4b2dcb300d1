"""``hazwatch warn``: early-warning models and their evaluation on public benchmarks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import orjson
import typer

from hazwatch.datasets import nab, skab, tep
from hazwatch.datasets.errors import DatasetError
from hazwatch.datasets.report import Report

warn_app = typer.Typer(no_args_is_help=True, help="Early warning: predictive detectors")
evaluate_app = typer.Typer(
    no_args_is_help=True, help="Score a detector on a public benchmark (TEP, NAB, SKAB)"
)
warn_app.add_typer(evaluate_app, name="evaluate")

JsonOpt = Annotated[bool, typer.Option("--json", help="print the figures as JSON")]
ExistingDir = Annotated[Path, typer.Option(exists=True, file_okay=False, help="data folder")]


def _emit(run: Callable[[], Report], as_json: bool) -> None:
    try:
        report = run()
    except DatasetError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2) from exc
    if as_json:
        typer.echo(orjson.dumps(report.as_json(), option=orjson.OPT_INDENT_2).decode())
    else:
        typer.echo(report.text())


@evaluate_app.command("tep")
def evaluate_tep(
    train: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="normal-operation training file")
    ],
    test: Annotated[
        list[Path],
        typer.Option(exists=True, dir_okay=False, help="test file (repeat the option)"),
    ],
    method: Annotated[
        str | None, typer.Option(help=f"detector (default {tep.DEFAULT_METHOD})")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Tennessee Eastman: detection rate, false-alarm rate and delay per test file."""

    _emit(
        lambda: tep.evaluate(train=train, tests=test, method=method or tep.DEFAULT_METHOD), as_json
    )


@evaluate_app.command("nab")
def evaluate_nab(
    data: ExistingDir,
    windows: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="combined_windows JSON file")
    ],
    results_out: Annotated[
        Path | None, typer.Option(help="write per-file scores in NAB's results layout here")
    ] = None,
    method: Annotated[
        str | None, typer.Option(help=f"detector (default {nab.DEFAULT_METHOD})")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Numenta Anomaly Benchmark: standard, reward-low-FP and reward-low-FN scores."""

    _emit(
        lambda: nab.evaluate(
            data=data,
            windows=windows,
            method=method or nab.DEFAULT_METHOD,
            results_out=results_out,
        ),
        as_json,
    )


@evaluate_app.command("skab")
def evaluate_skab(
    data: ExistingDir,
    method: Annotated[
        str | None, typer.Option(help=f"detector (default {skab.DEFAULT_METHOD})")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Skoltech Anomaly Benchmark: F1, false-alarm rate and missed-alarm rate."""

    _emit(lambda: skab.evaluate(data=data, method=method or skab.DEFAULT_METHOD), as_json)
