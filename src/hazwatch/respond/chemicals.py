"""Toxic chemicals of the park-linkage plume: identity, molar mass and exposure thresholds.

The table ships in ``chemicals.yaml`` next to this module (reference standards §6.4; the file
records each value's source and verification status). Thresholds are in ppm:

- ``AEGL-1/2/3`` — EPA Acute Exposure Guideline Levels, 60 minutes;
- ``ERPG-1/2/3`` — AIHA Emergency Response Planning Guidelines, 1 hour;
- ``IDLH`` — NIOSH Immediately Dangerous to Life or Health.

A higher level means a more severe effect: level 1 notification, level 2 evacuation or
shelter, level 3 lethal zone (§6.3 park use-case).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

THRESHOLD_NAMES = ("AEGL-1", "AEGL-2", "AEGL-3", "ERPG-1", "ERPG-2", "ERPG-3", "IDLH")


class UnknownChemicalError(LookupError):
    """No chemical of the table answers to ``query``; ``known`` lists the table's names."""

    def __init__(self, query: str, known: tuple[str, ...]) -> None:
        super().__init__(f"unknown chemical {query!r}; known: {', '.join(known)}")
        self.query = query
        self.known = known


@dataclass(frozen=True, kw_only=True)
class Threshold:
    """One exposure threshold: its name (one of ``THRESHOLD_NAMES``) and level in ppm."""

    name: str
    ppm: float


@dataclass(frozen=True, kw_only=True)
class Chemical:
    """A toxic gas: English and Chinese names, other names, CAS number, molar mass (g/mol)
    and its thresholds in the order of ``THRESHOLD_NAMES``."""

    name: str
    name_zh: str
    aliases: tuple[str, ...]
    cas: str
    molar_mass_g_mol: float
    thresholds: tuple[Threshold, ...]

    def threshold(self, name: str) -> Threshold | None:
        """The threshold called ``name`` (e.g. ``"AEGL-2"``), if the table gives it."""
        return next((t for t in self.thresholds if t.name == name.upper()), None)


def _chemical(entry: dict[str, Any]) -> Chemical:
    levels: dict[str, Any] = entry.get("thresholds") or {}
    unknown = set(levels) - set(THRESHOLD_NAMES)
    if unknown:
        raise ValueError(f"{entry['name']}: unknown thresholds {sorted(unknown)}")
    return Chemical(
        name=str(entry["name"]),
        name_zh=str(entry.get("name_zh", "")),
        aliases=tuple(str(a) for a in entry.get("aliases", ())),
        cas=str(entry["cas"]),
        molar_mass_g_mol=float(entry["molar_mass_g_mol"]),
        thresholds=tuple(
            Threshold(name=n, ppm=float(levels[n])) for n in THRESHOLD_NAMES if n in levels
        ),
    )


@functools.cache
def chemicals() -> tuple[Chemical, ...]:
    """The packaged table, read once."""
    text = resources.files(__package__).joinpath("chemicals.yaml").read_text(encoding="utf-8")
    return tuple(_chemical(e) for e in yaml.safe_load(text)["chemicals"])


def _keys(chemical: Chemical) -> set[str]:
    names = (chemical.name, chemical.name_zh, chemical.cas, *chemical.aliases)
    return {n.casefold() for n in names if n}


def find_chemical(query: str) -> Chemical:
    """The chemical named ``query``: English name, Chinese name, an alias (formula) or CAS
    number, case-insensitive. Raises ``UnknownChemicalError`` listing the known chemicals."""
    wanted = query.strip().casefold()
    for chemical in chemicals():
        if wanted in _keys(chemical):
            return chemical
    raise UnknownChemicalError(
        query, tuple(f"{c.name} ({c.name_zh}, CAS {c.cas})" for c in chemicals())
    )
