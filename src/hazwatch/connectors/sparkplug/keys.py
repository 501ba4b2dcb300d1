"""Tag keys of Sparkplug metrics. Pure.

A metric's key is ``<installation prefix>.<equipment>.<tag>``: the prefix its group is
configured with, the equipment ``slug(edge node)`` for a node's own metrics or
``slug(edge node + "-" + device)`` for a device's, and the tag ``slug(metric name)``
(``hazwatch.domain.keys.slug``: names without an ASCII spelling, or too long, keep apart
by a hash).

Different names can still map to one key (``Level/PV``, ``level pv`` and ``LEVEL-PV`` all
give ``level-pv``). The session keeps the first metric that claims a key and refuses the
others (see ``session``).
"""

from __future__ import annotations

from hazwatch.domain.keys import slug


def equipment_key(prefix: str, edge_node: str, device: str | None = None) -> str:
    """The 4-segment key of an edge node (``device`` None) or of one of its devices."""
    return f"{prefix}.{slug(edge_node if device is None else f'{edge_node}-{device}')}"


def tag_key(equipment: str, metric: str) -> str:
    return f"{equipment}.{slug(metric)}"
