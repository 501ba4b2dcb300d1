"""``hazwatch warn``: early-warning models and their evaluation on public benchmarks.

``warn train`` fits an installation's process monitor on its stored normal-operation
history (the tags' 1-minute rollup averages) and saves it as the installation's next model
version; a running platform picks it up without a restart (docs/early-warning.md).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import orjson
import typer

from hazwatch.cli.options import ConfigOpt, DatabaseOpt, DataDirOpt, fail, settings_of
from hazwatch.datasets import nab, skab, tep
from hazwatch.datasets.errors import DatasetError
from hazwatch.datasets.report import Report
from hazwatch.domain.clock import MINUTE_MS, Millis
from hazwatch.domain.keys import INSTALLATION_KEY
from hazwatch.runtime.clock import WallClock
from hazwatch.storage.database import Database
from hazwatch.storage.plant_repository import PlantRepository
from hazwatch.storage.readings.store import read_rollups
from hazwatch.storage.warn_model_repository import (
    ModelVersion,
    UnknownInstallationError,
    WarnModelRepository,
)
from hazwatch.warn.model import METHODS, build, to_state
from hazwatch.warn.training import Series, TrainingSet, training_set

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


def _instant(text: str, option: str) -> Millis:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise fail(f"{option} {text!r} is not an ISO 8601 date or instant") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


@warn_app.command("train")
def train(
    installation: Annotated[
        str, typer.Option(help="installation key: ENTERPRISE.SITE.INSTALLATION")
    ],
    start: Annotated[str, typer.Option(help="start of normal operation (ISO 8601; UTC if bare)")],
    end: Annotated[str, typer.Option(help="end of normal operation, exclusive (ISO 8601)")],
    method: Annotated[str, typer.Option(help=f"monitor: {', '.join(METHODS)}")] = "cva",
    period_s: Annotated[
        int, typer.Option("--period-s", help="sample period, a multiple of 60 s", min=60)
    ] = 60,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Fit an installation's process monitor on stored normal operation; save a new version."""

    if method not in METHODS:
        raise fail(f"unknown method {method!r}; known: {', '.join(METHODS)}")
    if period_s % 60:
        raise fail(f"--period-s {period_s} is not a multiple of 60 (the rollups are minutes)")
    if not INSTALLATION_KEY.fullmatch(installation):
        raise fail(f"{installation!r} is not an installation key (ENTERPRISE.SITE.INSTALLATION)")
    begin, stop = _instant(start, "--start"), _instant(end, "--end")
    if stop <= begin:
        raise fail("--end must come after --start")
    settings = settings_of(config, data_dir=data_dir, database_url=database_url)
    db = Database.open(settings.resolved_database_url)
    try:
        db.upgrade()
        found = _history(db, installation, begin, stop, period_s * 1000)
        version = _fit_and_save(db, installation, method, found, begin, stop, period_s * 1000)
    finally:
        db.close()
    _report(version, found)


def _history(
    db: Database, installation: str, start: Millis, end: Millis, period_ms: Millis
) -> TrainingSet:
    prefix = f"{installation}."
    tags = sorted(
        (t for t in PlantRepository(db).tags() if t.key.startswith(prefix)), key=lambda t: t.key
    )
    if not tags:
        raise fail(f"no installation {installation!r} with tags in the plant")
    # Read only: training may run beside the platform that writes the readings.
    # A rollup minute overlapping the range may start before it; only whole minutes count.
    series = [
        Series(
            key=tag.key,
            ts=rollups.bucket,
            values=rollups.avg,
            weights=rollups.count.astype(float),
        )
        for tag, rollups in zip(
            tags, read_rollups(db.engine, [t.id for t in tags], start, end), strict=True
        )
    ]
    return training_set(
        series, start=-(-start // MINUTE_MS) * MINUTE_MS, end=end, period_ms=period_ms
    )


def _fit_and_save(
    db: Database,
    installation: str,
    method: str,
    found: TrainingSet,
    start: Millis,
    end: Millis,
    period_ms: Millis,
) -> ModelVersion:
    if not found.variables:
        reasons = "; ".join(f"{key}: {why}" for key, why in found.left_out)
        raise fail(f"too little data: no tag of {installation} can be used ({reasons})")
    monitor = build(method, variables=len(found.variables))
    try:
        monitor.fit(found.samples)
    except ValueError as exc:
        # The monitors refuse too few samples (and data they cannot learn from) this way.
        raise fail(
            f"cannot train {method} on {installation} from {len(found.samples)} samples of "
            f"{len(found.variables)} variables: {exc}"
        ) from exc
    try:
        return WarnModelRepository(db).save(
            installation=installation,
            method=method,
            period_ms=period_ms,
            variables=found.variables,
            trained_from=start,
            trained_to=end,
            samples=len(found.samples),
            created_at=WallClock().now(),
            state=to_state(monitor),
        )
    except UnknownInstallationError as exc:
        raise fail(str(exc)) from exc


def _report(version: ModelVersion, found: TrainingSet) -> None:
    typer.echo(
        f"trained {version.installation} version {version.version}: {version.method}, "
        f"{version.period_ms // 1000} s periods"
    )
    typer.echo(f"  samples: {len(found.samples)} of {found.periods} periods")
    typer.echo(f"  variables used ({len(found.variables)}):")
    for key in found.variables:
        typer.echo(f"    {key}")
    if found.left_out:
        typer.echo(f"  variables left out ({len(found.left_out)}):")
        for key, why in found.left_out:
            typer.echo(f"    {key}: {why}")
