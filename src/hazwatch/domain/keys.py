"""Keys of the scope tree as text: one place for their shape.

A segment is lowercase letters, digits, ``-`` and ``_``, starting with a letter or digit, at
most 64 characters. Keys join segments with dots, from the enterprise down:

    enterprise.site.installation              installation key
    enterprise.site.installation.equipment    equipment key (a device, a link)
    enterprise.site.installation.equipment.tag   tag key
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field

SEGMENT = r"[a-z0-9][a-z0-9_-]{0,63}"


def _key(parts: int) -> re.Pattern[str]:
    return re.compile(rf"{SEGMENT}(?:\.{SEGMENT}){{{parts - 1}}}")


SEGMENT_RE = _key(1)
INSTALLATION_KEY = _key(3)
EQUIPMENT_KEY = _key(4)
TAG_KEY = _key(5)
"""Compiled patterns; use ``fullmatch``."""

EquipmentKey = Annotated[
    str,
    Field(
        pattern=rf"^{EQUIPMENT_KEY.pattern}$",
        description="An equipment key: enterprise.site.installation.equipment.",
    ),
]
TagKey = Annotated[
    str,
    Field(
        pattern=rf"^{TAG_KEY.pattern}$",
        description="A tag key: enterprise.site.installation.equipment.tag.",
    ),
]
