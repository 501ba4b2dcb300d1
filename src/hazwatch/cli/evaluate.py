"""``hazwatch evaluate``: system evaluation from files.

``evaluate gb18218 FILE`` identifies and grades major hazard installations by GB 18218-2018
from a YAML (or JSON) document of installations and their inventories
(docs/evaluation.md): S, R, α, the grade, and per item q, Q, β and the rule that gave each.
A document that cannot be evaluated exits with code 2 and every problem, each naming the
installation, the item and the field.
"""

from __future__ import annotations

import unicodedata
from fractions import Fraction
from pathlib import Path
from typing import Annotated

import orjson
import typer
import yaml

from hazwatch.cli.options import fail
from hazwatch.evaluate.gb18218 import STANDARD, Gb18218Error, Identification, report
from hazwatch.evaluate.gb18218_document import evaluate_document
from hazwatch.evaluate.gb18218_tables import exact
from hazwatch.plant.document import compose

evaluate_app = typer.Typer(
    no_args_is_help=True, help="System evaluation: major-hazard identification and grading"
)


def read_document(text: str, source: str) -> object:
    """The data of a YAML or JSON document; ``Gb18218Error`` on bad syntax or a key given
    twice in one mapping (the second would silently win)."""
    try:
        document = compose(text)
    except yaml.YAMLError as exc:
        raise Gb18218Error([f"{source}: not valid YAML or JSON: {exc}"]) from exc
    if document.findings:
        raise Gb18218Error(
            [f"{source}: line {f.position[0]}: {f.message}" for f in document.findings]
        )
    return document.data


def _number(value: float) -> str:
    return f"{value:.6g}"


def _cell(text: str, width: int) -> str:
    """``text`` cut and padded to ``width`` terminal columns (CJK characters take two)."""
    out, used = "", 0
    for char in text:
        wide = 2 if unicodedata.east_asian_width(char) in "WF" else 1
        if used + wide > width - 1 and len(out) < len(text) - 1:
            return out + "…" + " " * (width - used - 1)
        out, used = out + char, used + wide
    return out + " " * (width - used)


def _text(found: list[Identification]) -> str:
    lines = [f"{STANDARD} major hazard identification and grading", ""]
    for inst in found:
        verdict = (
            f"MAJOR HAZARD, grade {inst.grade} ({inst.grade_name})"
            if inst.major_hazard
            else "not a major hazard"
        )
        people = (
            f"{inst.people_within_500m} people within 500 m"
            if inst.people_within_500m is not None
            else "people within 500 m not declared: α assumed"
        )
        lines += [
            f"{inst.id}: {verdict}",
            f"  S = {_number(float(inst.s))}   R = {_number(float(inst.r))}"
            f"   α = {_number(float(inst.alpha))} ({people})",
            f"  {'chemical':<24} {'q t':>10} {'Q t':>8} {'q/Q':>10} {'β':>4}  basis / β basis",
        ]
        for item in inst.items:
            c = item.classification
            lines.append(
                f"  {_cell(c.chemical, 24)} {_number(float(item.q_t)):>10}"
                f" {_number(float(c.critical_t)):>8}"
                f" {_number(float(item.ratio)):>10} {_number(float(c.beta)):>4}"
                f"  {c.basis} / {c.beta_basis}  ({item.quantity_detail})"
            )
        lines.append("")
    lines.append("S = Σ q/Q, a major hazard when S ≥ 1; R = α Σ β q/Q, graded I when R ≥ 100,")
    lines.append("II when 50 ≤ R < 100, III when 10 ≤ R < 50, IV when R < 10.")
    return "\n".join(lines)


@evaluate_app.command("gb18218")
def gb18218(
    file: Annotated[
        Path,
        typer.Argument(help="installations and inventories (YAML or JSON)", dir_okay=False),
    ],
    fill_ratio: Annotated[
        float | None,
        typer.Option(
            "--fill-ratio",
            help="fill ratio of tank items that state none, when the file gives no default"
            " (0-1; default 1: the design maximum)",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """GB 18218-2018: S, R, α and the grade of each installation of FILE."""

    ratio: Fraction | None = None
    if fill_ratio is not None:
        if not 0 < fill_ratio <= 1:
            raise fail(f"--fill-ratio must lie in (0, 1], not {fill_ratio:g}")
        ratio = exact(fill_ratio)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"{file}: cannot read: {exc}") from exc
    try:
        found = evaluate_document(read_document(text, str(file)), fill_ratio=ratio)
    except Gb18218Error as exc:
        raise fail("\n  ".join([f"{file}: cannot evaluate", *exc.problems])) from exc
    if as_json:
        typer.echo(orjson.dumps(report(found), option=orjson.OPT_INDENT_2).decode())
    else:
        typer.echo(_text(found))
