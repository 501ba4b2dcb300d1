"""The tables of GB 18218-2018 as data: named chemicals, categories, β, α and grades.

Each table ships as a YAML file in ``data/`` with a ``source`` header (standard, table,
how it was transcribed, confidence); nothing here restates a value. The files are read once
and checked as they are read: 85 rows in Table 1, every category a row names exists in
Table 2 and Table 4, the α bands of Table 5 cover every head count once, the grade bands
of Table 6 meet without gaps. A broken file raises ``ValueError`` naming the file.

Numbers are ``fractions.Fraction`` built from the decimal text of each value, so sums
of q/Q and products with α and β are exact and the standard's boundaries (S = 1, R = 10,
50, 100) fall where the standard puts them.

Names are matched after folding: Unicode NFKC (full-width brackets and commas become
ASCII, H₂ becomes H2), case folded, whitespace removed.
"""

from __future__ import annotations

import functools
import itertools
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from importlib import resources
from types import MappingProxyType
from typing import Any

import yaml

TABLE1_ROWS = 85


class Grade(StrEnum):
    """Grades of Table 6; grade I is the most hazardous."""

    I = "I"  # noqa: E741 — the standard's numeral
    II = "II"
    III = "III"
    IV = "IV"


def exact(value: float | int | str) -> Fraction:
    """The decimal a person wrote, exactly: ``exact(0.1) == Fraction(1, 10)``.

    A float is read through its shortest repr (the digits YAML or JSON held), not its
    binary value. Raises ``ValueError`` for NaN and infinities.
    """
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    return Fraction(repr(value) if isinstance(value, float) else value)


def fold(name: str) -> str:
    """The form names are compared in (NFKC, case folded, no whitespace)."""
    return "".join(unicodedata.normalize("NFKC", name).casefold().split())


@dataclass(frozen=True, slots=True, kw_only=True)
class Category:
    """A Table 2 hazard category: its symbol (``W5.3``), class and description (Chinese as
    the standard words them, plus an English translation), critical quantity Q in tonnes."""

    symbol: str
    hazard_class: str
    description: str
    english: str
    q_t: Fraction


@dataclass(frozen=True, slots=True, kw_only=True)
class NamedChemical:
    """A Table 1 row: number, name, aliases and CAS numbers as the standard prints them,
    Q in tonnes; plus the project's other accepted names, extra CAS numbers and the Table 2
    categories used for β (see the file's ``project_fields``)."""

    row: int
    name: str
    aliases: tuple[str, ...]
    cas: tuple[str, ...]
    q_t: Fraction
    other_names: tuple[str, ...]
    also_cas: tuple[str, ...]
    categories: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases, *self.other_names)

    @property
    def all_cas(self) -> tuple[str, ...]:
        return (*self.cas, *self.also_cas)


@dataclass(frozen=True, slots=True, kw_only=True)
class AlphaBand:
    """People from ``min_people`` to ``max_people`` (inclusive; ``None``: no limit) → α."""

    min_people: int
    max_people: int | None
    alpha: Fraction


@dataclass(frozen=True, slots=True, kw_only=True)
class GradeBand:
    """``r_min ≤ R < r_max`` → grade (``None``: unbounded on that side)."""

    grade: Grade
    name: str
    r_min: Fraction | None
    r_max: Fraction | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Tables:
    """Tables 1–6 of GB 18218-2018, checked and indexed."""

    chemicals: tuple[NamedChemical, ...]
    categories: Mapping[str, Category]
    table3_beta: Mapping[int, Fraction]
    """β of Table 3, by the Table 1 row of the gas."""
    table4_beta: Mapping[str, Fraction]
    default_beta: Fraction
    alpha_bands: tuple[AlphaBand, ...]
    grade_bands: tuple[GradeBand, ...]
    by_name: Mapping[str, NamedChemical]
    by_cas: Mapping[str, tuple[NamedChemical, ...]]

    def named(self, name: str) -> NamedChemical | None:
        """The Table 1 row called ``name`` (name, alias or other name), if any."""
        return self.by_name.get(fold(name))

    def with_cas(self, cas: str) -> tuple[NamedChemical, ...]:
        """The Table 1 rows with CAS number ``cas`` (several for 硝化纤维素, 硝酸铵)."""
        return self.by_cas.get(cas.strip(), ())

    def alpha(self, people: int) -> Fraction:
        """α of Table 5 for ``people`` (≥ 0) resident within 500 m outside the plant."""
        if people < 0:
            raise ValueError(f"a head count cannot be negative: {people}")
        for band in self.alpha_bands:
            if band.min_people <= people and (band.max_people is None or people <= band.max_people):
                return band.alpha
        raise AssertionError("Table 5 covers every head count (checked when loaded)")

    def grade(self, r: Fraction) -> GradeBand:
        """The Table 6 band holding ``r`` (``r_min ≤ r < r_max``)."""
        for band in self.grade_bands:
            if (band.r_min is None or band.r_min <= r) and (band.r_max is None or r < band.r_max):
                return band
        raise AssertionError("Table 6 covers every R (checked when loaded)")


def _load(name: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"{name}: expected a mapping")
    source = data.get("source")
    if not isinstance(source, dict) or not {"standard", "clause", "transcription"} <= set(source):
        raise ValueError(f"{name}: needs a source header (standard, clause, transcription)")
    return {str(k): v for k, v in data.items()}


def _strings(values: Iterable[Any]) -> tuple[str, ...]:
    return tuple(str(v) for v in values)


def _chemical(entry: dict[str, Any]) -> NamedChemical:
    return NamedChemical(
        row=int(entry["row"]),
        name=str(entry["name"]),
        aliases=_strings(entry["aliases"]),
        cas=_strings(entry["cas"]),
        q_t=exact(entry["Q"]),
        other_names=_strings(entry.get("other_names", ())),
        also_cas=_strings(entry.get("also_cas", ())),
        categories=_strings(entry["categories"]),
    )


def _bound(value: Any) -> Fraction | None:
    return None if value is None else exact(value)


def _check_alpha(bands: tuple[AlphaBand, ...]) -> None:
    ordered = sorted(bands, key=lambda b: b.min_people)
    if not ordered or ordered[0].min_people != 0 or ordered[-1].max_people is not None:
        raise ValueError("gb18218_table5.yaml: the bands must start at 0 and end unbounded")
    for low, high in itertools.pairwise(ordered):
        if low.max_people is None or low.max_people + 1 != high.min_people:
            raise ValueError("gb18218_table5.yaml: bands must meet without gap or overlap")


def _check_grades(bands: tuple[GradeBand, ...]) -> None:
    ordered = sorted(bands, key=lambda b: (b.r_min is not None, b.r_min or 0))
    if not ordered or ordered[0].r_min is not None or ordered[-1].r_max is not None:
        raise ValueError("gb18218_table6.yaml: the bands must be unbounded at both ends")
    for low, high in itertools.pairwise(ordered):
        if low.r_max != high.r_min:
            raise ValueError("gb18218_table6.yaml: bands must meet without gap or overlap")


def _index(
    chemicals: tuple[NamedChemical, ...],
) -> tuple[dict[str, NamedChemical], dict[str, tuple[NamedChemical, ...]]]:
    by_name: dict[str, NamedChemical] = {}
    by_cas: dict[str, list[NamedChemical]] = {}
    for chemical in chemicals:
        for name in chemical.names:
            other = by_name.setdefault(fold(name), chemical)
            if other is not chemical:
                raise ValueError(
                    f"gb18218_table1.yaml: {name!r} names rows {other.row} and {chemical.row}"
                )
        for cas in chemical.all_cas:
            by_cas.setdefault(cas, []).append(chemical)
    return by_name, {cas: tuple(rows) for cas, rows in by_cas.items()}


@functools.cache
def tables() -> Tables:
    """The packaged tables, read and checked once."""
    table1 = _load("gb18218_table1.yaml")
    chemicals = tuple(_chemical(e) for e in table1["rows"])
    if [c.row for c in chemicals] != list(range(1, TABLE1_ROWS + 1)):
        raise ValueError(f"gb18218_table1.yaml: rows must be numbered 1 to {TABLE1_ROWS}")
    categories = {
        str(e["symbol"]): Category(
            symbol=str(e["symbol"]),
            hazard_class=str(e["class"]),
            description=str(e["description"]),
            english=str(e["english"]),
            q_t=exact(e["Q"]),
        )
        for e in _load("gb18218_table2.yaml")["categories"]
    }
    table3 = {int(e["table1_row"]): exact(e["beta"]) for e in _load("gb18218_table3.yaml")["gases"]}
    table4_file = _load("gb18218_table4.yaml")
    table4 = {str(k): exact(v) for k, v in table4_file["betas"].items()}
    if set(table4) != set(categories):
        raise ValueError("gb18218_table4.yaml: needs a β for every Table 2 category, no more")
    for chemical in chemicals:
        unknown = set(chemical.categories) - set(categories)
        if unknown:
            raise ValueError(f"gb18218_table1.yaml: row {chemical.row}: unknown {sorted(unknown)}")
    if not set(table3) <= {c.row for c in chemicals}:
        raise ValueError("gb18218_table3.yaml: table1_row must name a Table 1 row")
    alpha_bands = tuple(
        AlphaBand(
            min_people=int(e["min_people"]),
            max_people=None if e["max_people"] is None else int(e["max_people"]),
            alpha=exact(e["alpha"]),
        )
        for e in _load("gb18218_table5.yaml")["bands"]
    )
    _check_alpha(alpha_bands)
    grade_bands = tuple(
        GradeBand(
            grade=Grade(str(e["grade"])),
            name=str(e["name"]),
            r_min=_bound(e["r_min"]),
            r_max=_bound(e["r_max"]),
        )
        for e in _load("gb18218_table6.yaml")["grades"]
    )
    _check_grades(grade_bands)
    by_name, by_cas = _index(chemicals)
    return Tables(
        chemicals=chemicals,
        categories=MappingProxyType(categories),
        table3_beta=MappingProxyType(table3),
        table4_beta=MappingProxyType(table4),
        default_beta=exact(table4_file["default_beta"]),
        alpha_bands=alpha_bands,
        grade_bands=grade_bands,
        by_name=MappingProxyType(by_name),
        by_cas=MappingProxyType(by_cas),
    )
