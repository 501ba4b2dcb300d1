"""GB 18218-2018 identification and grading of a major hazard installation.

For each installation (a production or storage unit, §4.1.1) with hazardous chemicals
q₁ … qₙ in tonnes:

- identification (§4.1): S = Σ qᵢ/Qᵢ; the unit is a major hazard when S ≥ 1 — equality
  counts. Q comes from Table 1 when the chemical is named there, else from Table 2 by its
  hazard category; of several categories the lowest Q is taken;
- grading (§4.3): R = α · Σ βᵢ·qᵢ/Qᵢ, with β from Table 3 for the toxic gases it lists,
  else from Table 4 by category (of several, the highest β), and α from Table 5 by the
  people resident within 500 m outside the plant; the grade follows Table 6:
  I R ≥ 100, II 50 ≤ R < 100, III 10 ≤ R < 50, IV R < 10. Only a major hazard has a grade.

Every number is an exact ``Fraction`` (see ``gb18218_tables.exact``), so the boundaries
fall exactly where the standard puts them. Each item records which rule gave its Q
(``basis``: ``table1`` or ``table2:W5.3``) and its β (``beta_basis``: ``table3``,
``table4:W2`` or ``table4:default``); the tables themselves are data files in ``data/``.

Errors: ``ItemError`` (one item: the field and what is wrong) is raised while classifying;
``Gb18218Error`` carries every problem of a document, each naming the installation and
the item (see ``gb18218_document``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Any

from hazwatch.domain.clock import Millis, iso
from hazwatch.evaluate.gb18218_tables import Grade, NamedChemical, Tables, tables

CAS = re.compile(r"^\d{2,7}-\d{2}-\d$")
STANDARD = "GB 18218-2018"


class ItemError(ValueError):
    """One inventory item cannot be classified: ``field`` names the item's key at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Gb18218Error(ValueError):
    """A document that cannot be evaluated; ``problems`` name the installation, the item
    and the field of each (``installations[0] (tank-farm-1).inventory[2] (blend).category:
    …``)."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


class QuantityBasis(StrEnum):
    """Where an item's q came from."""

    DECLARED = "declared"
    """tonnes stated in the inventory"""
    TANK = "tank"
    """volume × density × fill ratio"""
    LEVEL = "level"
    """the highest level measured over a period, through the tank's shape"""
    LIVE = "live"
    """the highest level the plant's level tag read over a period, through the tank's shape"""


@dataclass(frozen=True, slots=True, kw_only=True)
class MeasuredLevel:
    """The highest reading of an inventory's level tag over ``[start, end)`` (epoch ms).

    ``level_pct`` is per cent of the tank's height; ``at`` is when it was read, or the start
    of the minute that held it when only that minute's rollup is left (``exact`` False).
    """

    tag: str
    level_pct: float
    at: Millis
    exact: bool
    start: Millis
    end: Millis

    def as_json(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "highest_pct": self.level_pct,
            "at": iso(self.at),
            "exact": self.exact,
            "start": iso(self.start),
            "end": iso(self.end),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Classification:
    """What the tables say of one chemical: its Table 1 row (``None`` when unlisted), the
    name shown, Q (t) and the rule that gave it, β and the rule that gave it, and the Table
    2 categories considered."""

    row: NamedChemical | None
    chemical: str
    critical_t: Fraction
    basis: str
    beta: Fraction
    beta_basis: str
    categories: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    """One chemical of an installation with its quantity ``q_t`` (tonnes)."""

    label: str | None
    """the name the inventory gave, when it gave one"""
    cas: str | None
    classification: Classification
    q_t: Fraction
    quantity: QuantityBasis
    quantity_detail: str
    measured: MeasuredLevel | None = None
    """the reading q came from (``quantity`` live)"""

    @property
    def ratio(self) -> Fraction:
        """q/Q."""
        return self.q_t / self.classification.critical_t

    def as_json(self) -> dict[str, Any]:
        c = self.classification
        measured = {} if self.measured is None else {"level": self.measured.as_json()}
        return {
            "chemical": c.chemical,
            "name": self.label,
            "row": None if c.row is None else c.row.row,
            "cas": self.cas,
            "categories": list(c.categories),
            "q": float(self.q_t),
            "Q": float(c.critical_t),
            "beta": float(c.beta),
            "q_over_Q": float(self.ratio),
            "basis": c.basis,
            "beta_basis": c.beta_basis,
            "quantity_basis": self.quantity.value,
            "quantity_detail": self.quantity_detail,
            **measured,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Identification:
    """The identification and grading of one installation."""

    id: str
    people_within_500m: int | None
    alpha: Fraction
    alpha_basis: str
    """``table5``, or ``assumed`` (head count not declared: Table 5's highest α)"""
    s: Fraction
    r: Fraction
    items: tuple[Item, ...]
    grade: Grade | None
    grade_name: str | None

    @property
    def major_hazard(self) -> bool:
        return self.s >= 1

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "S": float(self.s),
            "R": float(self.r),
            "alpha": float(self.alpha),
            "alpha_basis": self.alpha_basis,
            "people_within_500m": self.people_within_500m,
            "major_hazard": self.major_hazard,
            "grade": None if self.grade is None else self.grade.value,
            "grade_name": self.grade_name,
            "items": [i.as_json() for i in self.items],
        }


def classify(
    *,
    chemical: str | None = None,
    cas: str | None = None,
    name: str | None = None,
    categories: Sequence[str] = (),
    the_tables: Tables | None = None,
) -> Classification:
    """Q and β of one chemical, looked up in this order: ``chemical`` (a Table 1 name,
    alias or CAS number) or ``cas``; else ``name`` if Table 1 knows it; else the Table 2
    ``categories`` (of an unlisted chemical or a mixture, §4.2.3). Declared categories of
    a Table 1 chemical choose its β (Table 4) and leave its Q alone. Raises ``ItemError``."""
    t = the_tables or tables()
    declared = _categories(t, categories)
    row = _row(t, chemical, cas, name)
    if row is not None:
        return _named(t, row, declared)
    if not declared:
        if cas is not None:
            raise ItemError("cas", f"{cas} is not in Table 1: give the category (Table 2)")
        if name is not None:
            raise ItemError("category", f"{name!r} is not in Table 1: give its Table 2 category")
        raise ItemError("chemical", "give chemical, cas, or name with category")
    lowest = min(declared, key=lambda s: t.categories[s].q_t)
    highest = max(declared, key=lambda s: t.table4_beta[s])
    return Classification(
        row=None,
        chemical=name or cas or lowest,
        critical_t=t.categories[lowest].q_t,
        basis=f"table2:{lowest}",
        beta=t.table4_beta[highest],
        beta_basis=f"table4:{highest}",
        categories=declared,
    )


def _categories(t: Tables, given: Sequence[str]) -> tuple[str, ...]:
    known = {s.upper(): s for s in t.categories}
    out: list[str] = []
    for symbol in given:
        found = known.get(symbol.strip().upper())
        if found is None:
            raise ItemError(
                "category",
                f"unknown category {symbol!r}: Table 2 has {', '.join(t.categories)}",
            )
        if found not in out:
            out.append(found)
    return tuple(out)


def _row(
    t: Tables, chemical: str | None, cas: str | None, name: str | None
) -> NamedChemical | None:
    """The Table 1 row the item names, ``None`` for an unlisted chemical; a ``cas`` that
    contradicts the name is an error (a row without CAS numbers, such as 烷基铝, takes any)."""
    named: NamedChemical | None = None
    if chemical is not None:
        named = t.named(chemical)
        if named is None and CAS.match(chemical.strip()):
            named = _one_by_cas(t, chemical.strip(), "chemical")
        if named is None:
            raise ItemError(
                "chemical",
                f"{chemical!r} is not a Table 1 name, alias or CAS number; an unlisted "
                "chemical or a mixture is given by name and category",
            )
    elif name is not None:
        named = t.named(name)
    if cas is None:
        return named
    wanted = cas.strip()
    if not CAS.match(wanted):
        raise ItemError("cas", f"{cas!r} is not a CAS number (e.g. 7782-50-5)")
    if named is None:
        return _one_by_cas(t, wanted, "cas")
    if named.all_cas and wanted not in named.all_cas:
        raise ItemError(
            "cas", f"{wanted} is not the CAS number of {named.name} ({', '.join(named.all_cas)})"
        )
    return named


def _one_by_cas(t: Tables, cas: str, field: str) -> NamedChemical | None:
    rows = t.with_cas(cas)
    if len(rows) > 1:
        choices = "; ".join(f"{r.row} {r.name}" for r in rows)
        raise ItemError(
            field, f"CAS {cas} has several Table 1 rows ({choices}): give the chemical's name"
        )
    return rows[0] if rows else None


def _named(t: Tables, row: NamedChemical, declared: tuple[str, ...]) -> Classification:
    table3 = t.table3_beta.get(row.row)
    if table3 is not None:
        if declared:
            raise ItemError(
                "category", f"β of {row.name} is fixed by Table 3: leave the category out"
            )
        beta, beta_basis, considered = table3, "table3", row.categories
    else:
        considered = declared or row.categories
        if considered:
            highest = max(considered, key=lambda s: t.table4_beta[s])
            beta, beta_basis = t.table4_beta[highest], f"table4:{highest}"
        else:
            beta, beta_basis = t.default_beta, "table4:default"
    return Classification(
        row=row,
        chemical=row.name,
        critical_t=row.q_t,
        basis="table1",
        beta=beta,
        beta_basis=beta_basis,
        categories=considered,
    )


def identify(
    *,
    id: str,
    people_within_500m: int | None,
    items: Iterable[Item],
    the_tables: Tables | None = None,
) -> Identification:
    """S, R, α and the grade of one installation.

    ``people_within_500m`` ``None`` (not declared) takes Table 5's highest α and says so
    in ``alpha_basis``: an unknown neighbourhood is graded as a crowded one.
    """
    t = the_tables or tables()
    held = tuple(items)
    if people_within_500m is None:
        alpha, alpha_basis = max(b.alpha for b in t.alpha_bands), "assumed"
    else:
        alpha, alpha_basis = t.alpha(people_within_500m), "table5"
    s = sum((i.ratio for i in held), Fraction(0))
    r = alpha * sum((i.classification.beta * i.ratio for i in held), Fraction(0))
    band = t.grade(r) if s >= 1 else None
    return Identification(
        id=id,
        people_within_500m=people_within_500m,
        alpha=alpha,
        alpha_basis=alpha_basis,
        s=s,
        r=r,
        items=held,
        grade=None if band is None else band.grade,
        grade_name=None if band is None else band.name,
    )


def report(identifications: Sequence[Identification]) -> dict[str, Any]:
    """The JSON answer of a document: the standard and each installation, in order."""
    return {"standard": STANDARD, "installations": [i.as_json() for i in identifications]}
