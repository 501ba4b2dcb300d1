"""``hazwatch plume``: ground-level concentrations and threshold distances of a toxic release.

A screening figure for park linkage (docs/plume.md): a continuous release of a chemical of
the packaged table, a Gaussian plume with Briggs coefficients, the distances downwind to
each of the chemical's exposure thresholds.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

import orjson
import typer

from hazwatch.cli.options import fail
from hazwatch.respond.chemicals import Chemical, UnknownChemicalError, find_chemical
from hazwatch.respond.plume import (
    MAX_DISTANCE_M,
    MIN_DISTANCE_M,
    Release,
    Stability,
    Terrain,
    centerline_mg_m3,
    mg_m3_to_ppm,
    ppm_to_mg_m3,
    threshold_distance_m,
)

DEFAULT_DISTANCES_M = (100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0)


def _distances(text: str | None) -> tuple[float, ...]:
    if text is None:
        return DEFAULT_DISTANCES_M
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise fail(f"--distances-m: {text!r} is not a comma-separated list of metres") from None
    if not all(math.isfinite(v) and v > 0 for v in values):
        raise fail(f"--distances-m: every distance must be > 0 m, not {text!r}")
    if not all(MIN_DISTANCE_M <= v <= MAX_DISTANCE_M for v in values):
        typer.secho(
            f"warning: distances outside {MIN_DISTANCE_M:g}-{MAX_DISTANCE_M:g} m lie beyond"
            " the model's validity",
            err=True,
            fg=typer.colors.YELLOW,
        )
    return values


def _release(
    rate_g_s: float, wind_m_s: float, stability: str, height_m: float, terrain: str
) -> Release:
    try:
        the_class = Stability(stability.upper())
    except ValueError:
        raise fail(f"unknown stability class {stability!r}: use A, B, C, D, E or F") from None
    try:
        the_terrain = Terrain(terrain.lower())
    except ValueError:
        raise fail(f"unknown terrain {terrain!r}: use rural or urban") from None
    if not rate_g_s > 0:
        raise fail(f"--rate-g-s must be > 0 g/s, not {rate_g_s:g}")
    try:
        return Release(
            rate_g_s=rate_g_s,
            wind_m_s=wind_m_s,
            stability=the_class,
            height_m=height_m,
            terrain=the_terrain,
        )
    except ValueError as exc:
        raise fail(str(exc)) from exc


def _report(chemical: Chemical, release: Release, distances: tuple[float, ...]) -> dict[str, Any]:
    mg = centerline_mg_m3(release, distances)
    ppm = mg_m3_to_ppm(mg, chemical.molar_mass_g_mol)
    thresholds = []
    for t in chemical.thresholds:
        limit = float(ppm_to_mg_m3(t.ppm, chemical.molar_mass_g_mol))
        reach = threshold_distance_m(release, limit)
        thresholds.append(
            {
                "name": t.name,
                "ppm": t.ppm,
                "distance_m": reach,
                "beyond_range": reach == MAX_DISTANCE_M,
            }
        )
    return {
        "chemical": chemical.name,
        "cas": chemical.cas,
        "molar_mass_g_mol": chemical.molar_mass_g_mol,
        "rate_g_s": release.rate_g_s,
        "wind_m_s": release.wind_m_s,
        "stability": release.stability.value,
        "height_m": release.height_m,
        "terrain": release.terrain.value,
        "centerline": [
            {"distance_m": d, "mg_m3": float(m), "ppm": float(p)}
            for d, m, p in zip(distances, mg, ppm, strict=True)
        ],
        "thresholds": thresholds,
    }


def _text(report: dict[str, Any]) -> str:
    lines = [
        f"{report['chemical']} (CAS {report['cas']}, M {report['molar_mass_g_mol']:g} g/mol):"
        f" {report['rate_g_s']:g} g/s at {report['height_m']:g} m, wind {report['wind_m_s']:g}"
        f" m/s, class {report['stability']}, {report['terrain']}",
        "",
        f"{'distance m':>12}  {'mg/m3':>12}  {'ppm':>12}",
    ]
    for row in report["centerline"]:
        lines.append(f"{row['distance_m']:>12g}  {row['mg_m3']:>12.4g}  {row['ppm']:>12.4g}")
    lines += ["", f"{'threshold':>12}  {'ppm':>12}  {'reach m':>12}"]
    for t in report["thresholds"]:
        if t["distance_m"] is None:
            reach = f"< {MIN_DISTANCE_M:g}"
        elif t["beyond_range"]:
            reach = f">= {MAX_DISTANCE_M:g}"
        else:
            reach = f"{t['distance_m']:.0f}"
        lines.append(f"{t['name']:>12}  {t['ppm']:>12g}  {reach:>12}")
    lines += [
        "",
        "Gaussian plume, ground-level centreline, 10-min mean; valid 100 m-10 km;"
        " not for dense gases near the source.",
    ]
    return "\n".join(lines)


def plume(
    chemical: Annotated[str, typer.Option(help="English or Chinese name, formula or CAS number")],
    rate_g_s: Annotated[float, typer.Option("--rate-g-s", help="release rate, g/s")],
    wind_m_s: Annotated[
        float, typer.Option("--wind-m-s", help="wind speed at release height, m/s")
    ],
    stability: Annotated[str, typer.Option(help="Pasquill stability class A..F")],
    height_m: Annotated[
        float, typer.Option("--height-m", help="effective release height, m")
    ] = 0.0,
    distances_m: Annotated[
        str | None,
        typer.Option("--distances-m", help="downwind distances, m, e.g. 100,500,1000"),
    ] = None,
    terrain: Annotated[str, typer.Option(help="rural or urban dispersion")] = "rural",
    as_json: Annotated[bool, typer.Option("--json", help="print the figures as JSON")] = False,
) -> None:
    """Concentrations downwind of a continuous toxic release and its threshold distances."""

    try:
        the_chemical = find_chemical(chemical)
    except UnknownChemicalError as exc:
        raise fail(str(exc)) from exc
    release = _release(rate_g_s, wind_m_s, stability, height_m, terrain)
    report = _report(the_chemical, release, _distances(distances_m))
    if as_json:
        typer.echo(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
    else:
        typer.echo(_text(report))
