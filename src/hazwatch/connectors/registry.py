"""Connector families by ``kind``: parse a connector's configuration and build it.

Each family package exports ``CONFIG`` (its pydantic configuration model, whose ``kind``
field names the family) and ``CONNECTOR`` (its ``ConnectorBase`` subclass, built as
``CONNECTOR(config, link)``). Families are imported when first used, so a process pays only
for the protocols it runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import ModuleType
from typing import Any, cast

from pydantic import BaseModel

from hazwatch.connectors.base import Connector, Link

FAMILIES: dict[str, str] = {
    "mqtt": "hazwatch.connectors.mqtt",
    "sparkplug": "hazwatch.connectors.sparkplug",
    "opcua": "hazwatch.connectors.opcua",
    "modbus": "hazwatch.connectors.modbus",
}


class UnknownKindError(ValueError):
    def __init__(self, kind: object) -> None:
        known = ", ".join(sorted(FAMILIES))
        super().__init__(f"kind: unknown connector kind {kind!r}; one of {known}")
        self.kind = kind


def family(kind: str) -> ModuleType:
    if kind not in FAMILIES:
        raise UnknownKindError(kind)
    return importlib.import_module(FAMILIES[kind])


def parse_connector_config(data: Mapping[str, Any]) -> BaseModel:
    """Validate one connector's settings; raises ``UnknownKindError`` or pydantic's
    ``ValidationError`` (whose locations name the offending fields)."""
    kind = data.get("kind")
    if not isinstance(kind, str):
        raise UnknownKindError(kind)
    model = cast(type[BaseModel], family(kind).CONFIG)
    return model.model_validate(data)


def build_connector(config: BaseModel, link: Link) -> Connector:
    kind = str(getattr(config, "kind", ""))
    return cast(Connector, family(kind).CONNECTOR(config, link))
