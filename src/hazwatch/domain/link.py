"""Communication links (a connector, or a device behind one) and their health.

A link's health is reported by its connector; the platform turns it into link conditions
(``ConditionKind.DEVICE_OFFLINE``, ``DEGRADED``) on the link's status tag, whose key is the
link's equipment key followed by ``STATUS_TAG``.
"""

from __future__ import annotations

from enum import StrEnum


class Health(StrEnum):
    CONNECTING = "connecting"
    ONLINE = "online"
    DEGRADED = "degraded"
    OFFLINE = "offline"

    @property
    def code(self) -> int:
        """The value written on a status tag: 0 online, 1 degraded, 2 offline/connecting."""
        return {Health.ONLINE: 0, Health.DEGRADED: 1}.get(self, 2)


STATUS_TAG = "link-status"


def status_key(equipment_key: str) -> str:
    """The status tag of the link at ``equipment_key`` (``ent.site.installation.equipment``)."""
    return f"{equipment_key}.{STATUS_TAG}"
