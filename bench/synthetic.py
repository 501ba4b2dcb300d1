"""A synthetic plant of any size, for benchmarks: N tags, each with HH/H/L/LL limits."""

from __future__ import annotations

from hazwatch.domain.plant import (
    EnterpriseSpec,
    EquipmentSpec,
    InstallationSpec,
    LimitSpec,
    ParkSpec,
    PlantSpec,
    SiteSpec,
    TagSpec,
)
from hazwatch.domain.tag import ConditionKind, Priority

TAGS_PER_EQUIPMENT = 20
EQUIPMENT_PER_INSTALLATION = 25
INSTALLATIONS_PER_ENTERPRISE = 20


def synthetic_plant(n_tags: int) -> PlantSpec:
    """Tags ranging 0–100 with LL 5, L 10, H 90, HH 95 (deadband 1, no delays)."""
    limits = {
        ConditionKind.HH: LimitSpec(value=95, priority=Priority.HIGH, deadband=1),
        ConditionKind.H: LimitSpec(value=90, priority=Priority.MEDIUM, deadband=1),
        ConditionKind.L: LimitSpec(value=10, priority=Priority.MEDIUM, deadband=1),
        ConditionKind.LL: LimitSpec(value=5, priority=Priority.HIGH, deadband=1),
    }
    per_enterprise = TAGS_PER_EQUIPMENT * EQUIPMENT_PER_INSTALLATION * INSTALLATIONS_PER_ENTERPRISE
    enterprises = []
    made = 0
    e = 0
    while made < n_tags:
        installations = []
        for i in range(INSTALLATIONS_PER_ENTERPRISE):
            equipment = []
            for q in range(EQUIPMENT_PER_INSTALLATION):
                count = min(TAGS_PER_EQUIPMENT, n_tags - made)
                if count <= 0:
                    break
                tags = [
                    TagSpec(key=f"t{t}", range=(0.0, 100.0), period_s=1.0, limits=limits)
                    for t in range(count)
                ]
                made += count
                equipment.append(EquipmentSpec(key=f"q{q}", tags=tags))
            if equipment:
                installations.append(InstallationSpec(key=f"i{i}", equipment=equipment))
        sites = [SiteSpec(key="s0", installations=installations)]
        enterprises.append(EnterpriseSpec(key=f"e{e}", sites=sites))
        e += 1
        assert made <= e * per_enterprise
    return PlantSpec(region="bench", parks=[ParkSpec(key="p0", enterprises=enterprises)])
