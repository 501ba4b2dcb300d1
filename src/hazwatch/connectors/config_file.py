"""Connector configuration files: a ``connectors:`` list in YAML, validated before use.

The same list is read from a connectors file of its own, from the ``connectors:`` section
of a plant file, and from an edge gateway's file::

    connectors:
      - kind: modbus              # the family; the other fields are the family's own
        name: tank-farm-plc
        equipment: lpg.main.sphere-farm.plc-1   # optional: where the connector's own
        host: 10.0.4.21                         #   status tag and health alarms live
        ...

Every problem of a file is reported at once, each naming the entry and the field
(``connectors[0] (tank-farm-plc).port: Input should be less than or equal to 65535``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from hazwatch.connectors.registry import UnknownKindError, parse_connector_config
from hazwatch.domain.keys import EQUIPMENT_KEY


class ConnectorConfigError(Exception):
    """A connectors list that cannot be used; ``problems`` name entry and field each."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__("\n".join(f"{source}: {p}" for p in self.problems))


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectorEntry:
    """One configured connector: its family's settings and, optionally, the equipment
    whose status tag carries the connector's own health."""

    config: BaseModel
    equipment: str | None = None

    @property
    def name(self) -> str:
        return str(getattr(self.config, "name", ""))

    @property
    def kind(self) -> str:
        return str(getattr(self.config, "kind", ""))


def load_connectors(path: Path) -> list[ConnectorEntry]:
    """The connectors of a YAML file (a connectors file or a plant file)."""
    source = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConnectorConfigError(source, [f"cannot read: {exc.strerror or exc}"]) from exc
    except yaml.YAMLError as exc:
        raise ConnectorConfigError(source, [f"not valid YAML: {exc}"]) from exc
    if data is None:
        return []
    if not isinstance(data, dict):
        raise ConnectorConfigError(source, ["expected a mapping with a 'connectors' list"])
    return parse_connectors(data.get("connectors", []), source=source)


def parse_connectors(items: object, *, source: str) -> list[ConnectorEntry]:
    """Validate a ``connectors`` list; raises ``ConnectorConfigError`` with every problem."""
    if not isinstance(items, list):
        raise ConnectorConfigError(source, ["connectors: expected a list of connectors"])
    entries: list[ConnectorEntry] = []
    problems: list[str] = []
    names: dict[str, int] = {}
    for index, item in enumerate(items):
        where = f"connectors[{index}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: expected a mapping with 'kind' and 'name'")
            continue
        name = item.get("name")
        if isinstance(name, str):
            where += f" ({name})"
            if name in names:
                problems.append(
                    f"{where}.name: {name!r} is already used by connectors[{names[name]}]"
                )
            names.setdefault(name, index)
        fields: dict[str, Any] = dict(item)
        equipment = fields.pop("equipment", None)
        if equipment is not None and (
            not isinstance(equipment, str) or not EQUIPMENT_KEY.fullmatch(equipment)
        ):
            problems.append(
                f"{where}.equipment: expected an equipment key "
                "'enterprise.site.installation.equipment'"
            )
        try:
            config = parse_connector_config(fields)
        except UnknownKindError as exc:
            problems.append(f"{where}.{exc}")
            continue
        except ValidationError as exc:
            problems += [f"{where}.{_loc(e['loc'])}: {e['msg']}" for e in exc.errors()]
            continue
        entries.append(ConnectorEntry(config=config, equipment=equipment))
    if problems:
        raise ConnectorConfigError(source, problems)
    return entries


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(entry)"
