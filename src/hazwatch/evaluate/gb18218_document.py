"""The GB 18218 evaluation document (YAML or JSON) and the inventories of a stored plant.

A document lists installations, each with the people resident within 500 m outside the
plant (for α) and its inventory::

    fill_ratio: 0.9                  # optional default for tank items (else 1: the design maximum)
    installations:
      - id: tank-farm-1
        people_within_500m: 120
        inventory:
          - chemical: 氯              # a Table 1 name, alias (Chinese or English) or CAS number
            tonnes: 30
          - cas: 7664-41-7            # a CAS number of Table 1
            tonnes: 50
          - name: solvent blend       # an unlisted chemical or a mixture, by Table 2 category
            category: W5.3            # or a list: [J3, W2] (lowest Q, highest β)
            volume_m3: 1000           # a tank: volume × density (t/m³) × fill ratio …
            density_t_per_m3: 0.8
            fill_ratio: 0.85
          - chemical: LPG
            volume_m3: 400            # … or at the highest level measured (per cent of the
            density_t_per_m3: 0.53    #     height), through the tank's shape
            level_pct: 88
            shape: sphere             # vertical-cylinder (default), horizontal-cylinder, sphere

Every problem of a document is reported at once, each naming the installation (index and
id), the item (index and name) and the field: ``installations[0] (tank-farm-1).inventory[2]
(solvent blend).category: unknown category 'W5.9': …``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from fractions import Fraction
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from hazwatch.domain.clock import iso
from hazwatch.domain.plant import InventorySpec
from hazwatch.evaluate.gb18218 import (
    Gb18218Error,
    Identification,
    Item,
    ItemError,
    MeasuredLevel,
    QuantityBasis,
    classify,
    identify,
)
from hazwatch.evaluate.gb18218_tables import Tables, exact, tables
from hazwatch.evaluate.tank import TankShape, tonnes_at_level, tonnes_in_tank

DEFAULT_FILL_RATIO = Fraction(1)
"""The whole volume: GB 18218 counts the design maximum a tank may hold."""


def _listed(value: object) -> object:
    return [value] if isinstance(value, str) else value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InventoryItem(_Model):
    """One chemical of an installation: what it is, and how much (tonnes, or a tank)."""

    chemical: str | None = None
    cas: str | None = None
    name: str | None = None
    category: Annotated[list[str], BeforeValidator(_listed)] = Field(default_factory=list)
    tonnes: float | None = Field(default=None, ge=0, allow_inf_nan=False, strict=True)
    volume_m3: float | None = Field(default=None, ge=0, allow_inf_nan=False, strict=True)
    density_t_per_m3: float | None = Field(default=None, gt=0, allow_inf_nan=False, strict=True)
    fill_ratio: float | None = Field(default=None, gt=0, le=1, allow_inf_nan=False, strict=True)
    level_pct: float | None = Field(default=None, ge=0, le=100, allow_inf_nan=False, strict=True)
    shape: TankShape | None = None


class Installation(_Model):
    id: str = Field(min_length=1)
    people_within_500m: int = Field(ge=0, strict=True)
    inventory: list[dict[str, Any]]


class Document(_Model):
    # installations and items are validated one by one: every problem is reported at once
    installations: list[Any] = Field(min_length=1)
    fill_ratio: float | None = Field(default=None, gt=0, le=1, allow_inf_nan=False, strict=True)


def evaluate_document(
    data: object, *, fill_ratio: Fraction | None = None, the_tables: Tables | None = None
) -> list[Identification]:
    """Identify and grade every installation of a document (parsed YAML or JSON).

    A tank item's fill ratio is its own, else the document's, else ``fill_ratio``, else 1.
    Raises ``Gb18218Error`` with every problem of every installation and item.
    """
    if not isinstance(data, dict):
        raise Gb18218Error(["expected a mapping with installations: [...]"])
    try:
        document = Document.model_validate(data)
    except ValidationError as exc:
        raise Gb18218Error([_problem(e, data) for e in exc.errors()]) from exc
    t = the_tables or tables()
    default = exact(document.fill_ratio) if document.fill_ratio is not None else fill_ratio
    problems: list[str] = []
    out: list[Identification] = []
    for i, raw in enumerate(document.installations):
        if not isinstance(raw, dict):
            problems.append(
                f"installations[{i}]: expected a mapping (id, people_within_500m, inventory)"
            )
            continue
        found = _installation(data, i, raw, default, t, problems)
        if found is not None:
            if any(o.id == found.id for o in out):
                problems.append(f"installations[{i}] ({found.id}).id: {found.id!r} appears twice")
            out.append(found)
    if problems:
        raise Gb18218Error(problems)
    return out


def _installation(
    data: dict[str, Any],
    i: int,
    raw: dict[str, Any],
    fill_ratio: Fraction | None,
    t: Tables,
    problems: list[str],
) -> Identification | None:
    """One installation of ``data`` (at ``installations[i]``); its problems and its items'
    go to ``problems`` (each item is checked even when the installation is not)."""
    inst: Installation | None = None
    try:
        inst = Installation.model_validate(raw)
    except ValidationError as exc:
        problems += [_problem(e, data, ("installations", i)) for e in exc.errors()]
    label = raw.get("id")
    where = f"installations[{i}]" + (f" ({label})" if isinstance(label, str) else "")
    inventory = raw.get("inventory")
    items: list[Item] = []
    for j, entry in enumerate(inventory if isinstance(inventory, list) else []):
        if not isinstance(entry, dict):
            continue  # the installation's validation reports it
        try:
            item = InventoryItem.model_validate(entry)
        except ValidationError as exc:
            loc = ("installations", i, "inventory", j)
            problems += [_problem(e, data, loc) for e in exc.errors()]
            continue
        try:
            items.append(item_of(item, fill_ratio=fill_ratio, the_tables=t))
        except ItemError as exc:
            problems.append(f"{where}.inventory[{j}]{_label(item)}.{exc}")
    if inst is None:
        return None
    return identify(
        id=inst.id, people_within_500m=inst.people_within_500m, items=items, the_tables=t
    )


def item_of(
    entry: InventoryItem, *, fill_ratio: Fraction | None = None, the_tables: Tables | None = None
) -> Item:
    """The classified item with its quantity; raises ``ItemError``."""
    q_t, basis, detail = _quantity(entry, fill_ratio or DEFAULT_FILL_RATIO)
    found = classify(
        chemical=entry.chemical,
        cas=entry.cas,
        name=entry.name,
        categories=entry.category,
        the_tables=the_tables,
    )
    return Item(
        label=entry.name or entry.chemical,
        cas=entry.cas.strip() if entry.cas else None,
        classification=found,
        q_t=q_t,
        quantity=basis,
        quantity_detail=detail,
    )


def _quantity(entry: InventoryItem, default_fill: Fraction) -> tuple[Fraction, QuantityBasis, str]:
    tank = entry.volume_m3 is not None or entry.density_t_per_m3 is not None
    if entry.tonnes is not None:
        if tank or entry.fill_ratio is not None or entry.level_pct is not None or entry.shape:
            raise ItemError("tonnes", "give tonnes, or a tank (volume_m3, density_t_per_m3)")
        return exact(entry.tonnes), QuantityBasis.DECLARED, f"{entry.tonnes:g} t declared"
    if entry.volume_m3 is None or entry.density_t_per_m3 is None:
        missing = "volume_m3" if entry.volume_m3 is None else "density_t_per_m3"
        if not tank:
            missing = "tonnes"
        raise ItemError(missing, "give tonnes, or both volume_m3 and density_t_per_m3")
    volume, density = exact(entry.volume_m3), exact(entry.density_t_per_m3)
    if entry.level_pct is not None:
        if entry.fill_ratio is not None:
            raise ItemError("fill_ratio", "give a fill ratio or a measured level, not both")
        shape = entry.shape or TankShape.VERTICAL_CYLINDER
        q_t = tonnes_at_level(
            level_pct=entry.level_pct, volume_m3=volume, density_t_per_m3=density, shape=shape
        )
        detail = (
            f"level {entry.level_pct:g} % of a {entry.volume_m3:g} m³ {shape.value}"
            f" × {entry.density_t_per_m3:g} t/m³"
        )
        return q_t, QuantityBasis.LEVEL, detail
    if entry.shape is not None:
        raise ItemError("shape", "a shape only matters with level_pct")
    fill = exact(entry.fill_ratio) if entry.fill_ratio is not None else default_fill
    q_t = tonnes_in_tank(volume_m3=volume, density_t_per_m3=density, fill_ratio=fill)
    detail = f"{entry.volume_m3:g} m³ × {entry.density_t_per_m3:g} t/m³ × {float(fill):g}"
    return q_t, QuantityBasis.TANK, detail


def identify_inventories(
    *,
    id: str,
    people_within_500m: int | None,
    inventories: Sequence[InventorySpec],
    fill_ratio: Fraction | None = None,
    levels: Mapping[int, MeasuredLevel] | None = None,
    the_tables: Tables | None = None,
) -> Identification:
    """Identify and grade an installation of a stored plant from its inventories.

    A plant inventory's ``chemical`` is a free name: it counts as a Table 1 chemical when
    the name or its CAS number is in Table 1, else by its declared ``category``. Its q is
    the declared quantity, or — for inventory ``j`` in ``levels`` — the tonnes its tank
    held at the highest level measured (``quantity_basis`` live). Raises ``Gb18218Error``
    naming each inventory at fault (``inventories[0] (diesel).category: …``).
    """
    items: list[Item] = []
    problems: list[str] = []
    measured = levels or {}
    for j, inv in enumerate(inventories):
        try:
            level = measured.get(j)
            if level is None:
                items.append(_declared(inv, fill_ratio, the_tables))
            else:
                items.append(_live(inv, level, the_tables))
        except ItemError as exc:
            problems.append(f"{id}: inventories[{j}] ({inv.chemical}).{exc}")
    if problems:
        raise Gb18218Error(problems)
    return identify(
        id=id, people_within_500m=people_within_500m, items=items, the_tables=the_tables
    )


def _declared(inv: InventorySpec, fill_ratio: Fraction | None, t: Tables | None) -> Item:
    # with a level tag, volume and density describe the tank; declared tonnes come first
    tank = inv.tonnes is None
    entry = InventoryItem(
        name=inv.chemical,
        cas=inv.cas,
        category=[inv.category] if inv.category else [],
        tonnes=inv.tonnes,
        volume_m3=inv.volume_m3 if tank else None,
        density_t_per_m3=inv.density_t_per_m3 if tank else None,
    )
    return item_of(entry, fill_ratio=fill_ratio, the_tables=t)


def _live(inv: InventorySpec, level: MeasuredLevel, t: Tables | None) -> Item:
    """The item at the highest level measured. A transmitter may read a little past its
    span: a level is counted within 0–100 %, and the detail says so."""
    if inv.volume_m3 is None or inv.density_t_per_m3 is None:
        raise ItemError("level_tag", "needs volume_m3 and density_t_per_m3 to give tonnes")
    counted = min(max(level.level_pct, 0.0), 100.0)
    shape = inv.shape or TankShape.VERTICAL_CYLINDER
    entry = InventoryItem(
        name=inv.chemical,
        cas=inv.cas,
        category=[inv.category] if inv.category else [],
        volume_m3=inv.volume_m3,
        density_t_per_m3=inv.density_t_per_m3,
        level_pct=counted,
        shape=shape,
    )
    item = item_of(entry, the_tables=t)
    read = f"{level.level_pct:g} %"
    if counted != level.level_pct:
        read += f", counted {counted:g} %"
    when = f"at {iso(level.at)}" if level.exact else f"in the minute from {iso(level.at)}"
    detail = (
        f"highest level {read} of {level.tag} {when}, over {iso(level.start)} – {iso(level.end)}:"
        f" a {inv.volume_m3:g} m³ {shape.value} × {inv.density_t_per_m3:g} t/m³"
    )
    return replace(item, quantity=QuantityBasis.LIVE, quantity_detail=detail, measured=level)


def _label(entry: InventoryItem) -> str:
    label = entry.name or entry.chemical or entry.cas
    return f" ({label})" if label else ""


def _problem(error: Any, data: dict[str, Any], within: tuple[int | str, ...] = ()) -> str:
    """``installations[0] (tank-farm-1).inventory[2] (blend).tonnes: message``; ``within``
    is the location of the part of ``data`` that was validated."""
    loc: tuple[int | str, ...] = (*within, *error["loc"])
    out = ""
    node: Any = data
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, dict):
                label = (
                    node.get("id") or node.get("name") or node.get("chemical") or node.get("cas")
                )
                if isinstance(label, str | int) and not isinstance(label, bool):
                    out += f" ({label})"
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] not in {"missing", "extra_forbidden"} and "input" in error:
        message += f", not {error['input']!r}"
    return f"{out}: {message}" if out else message
