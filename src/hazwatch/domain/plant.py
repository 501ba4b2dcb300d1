"""The declaration of a plant, as written in a plant YAML file (see docs/plant-file.md).

These are Pydantic models because a plant file is an edge: it is validated before anything
is stored, and every error names the path inside the file. Keys are short slugs; a tag's
full key is ``enterprise.site.installation.equipment.tag`` and enterprise keys are unique
in a file, so full keys are unique.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hazwatch.domain.tag import ConditionKind, Priority

Key = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LimitSpec(_Strict):
    value: float
    priority: Priority = Priority.MEDIUM
    deadband: float = Field(default=0.0, ge=0)
    on_delay_s: float = Field(default=0.0, ge=0)
    off_delay_s: float = Field(default=0.0, ge=0)


class TagSpec(_Strict):
    key: Key
    name: str = ""
    unit: str = ""
    range: tuple[float, float]
    period_s: float = Field(default=1.0, gt=0)
    limits: dict[ConditionKind, LimitSpec] = Field(default_factory=dict)
    offline_after_s: float | None = Field(default=None, gt=0)
    frozen_after_s: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _check(self) -> Self:
        lo, hi = self.range
        if not lo < hi:
            raise ValueError(f"range: low end {lo} must be below high end {hi}")
        for kind, lim in self.limits.items():
            if not kind.is_limit:
                raise ValueError(f"limits: {kind} is not a limit (use HH, H, L or LL)")
            if not lo <= lim.value <= hi:
                raise ValueError(f"limits.{kind}: {lim.value} lies outside the range [{lo}, {hi}]")
        order = [ConditionKind.LL, ConditionKind.L, ConditionKind.H, ConditionKind.HH]
        values = [self.limits[k].value for k in order if k in self.limits]
        if values != sorted(values):
            raise ValueError("limits: must satisfy LL <= L <= H <= HH")
        return self


class TankShape(StrEnum):
    """How a tank's level (per cent of its internal height, or of its diameter when it
    lies or is a sphere) relates to the volume it holds (docs/evaluation.md)."""

    VERTICAL_CYLINDER = "vertical-cylinder"
    HORIZONTAL_CYLINDER = "horizontal-cylinder"
    SPHERE = "sphere"


LEVEL_UNIT = "%"
"""The unit of a level tag that measures an inventory: per cent of the tank's height."""

_LEVEL_TAG = re.compile(r"^[a-z0-9][a-z0-9_-]*\.[a-z0-9][a-z0-9_-]*$")


class InventorySpec(_Strict):
    """A hazardous chemical held in an installation: tonnes, or tank volume and density.

    ``category`` is the GB 18218 Table 2 hazard category (``W5.4``) of a chemical Table 1
    does not name, or of a mixture (docs/evaluation.md).

    ``level_tag`` names the tag that measures the tank holding it, as ``equipment.tag`` of
    the same installation (unit ``%``); the tank's internal ``volume_m3``, the liquid's
    ``density_t_per_m3`` and its ``shape`` (default vertical cylinder) turn a level into
    tonnes. With a level tag, ``tonnes`` may still be given: it is then the declared
    quantity, and volume and density describe the tank.
    """

    chemical: str
    cas: str | None = Field(default=None, pattern=r"^\d{2,7}-\d{2}-\d$")
    category: str | None = Field(default=None, pattern=r"^[JW]\d+(\.\d+)?$")
    tonnes: float | None = Field(default=None, ge=0)
    volume_m3: float | None = Field(default=None, ge=0)
    density_t_per_m3: float | None = Field(default=None, gt=0)
    level_tag: str | None = None
    shape: TankShape | None = None

    @field_validator("level_tag")
    @classmethod
    def _level_tag(cls, value: str | None) -> str | None:
        if value is not None and not _LEVEL_TAG.match(value):
            raise ValueError(
                f"expected equipment.tag of this installation (v-101.level), not {value!r}"
            )
        return value

    @model_validator(mode="after")
    def _check(self) -> Self:
        by_volume = self.volume_m3 is not None or self.density_t_per_m3 is not None
        if self.shape is not None and self.level_tag is None:
            raise ValueError("shape: only with level_tag (it turns the level into a volume)")
        if self.level_tag is not None:
            for name in ("volume_m3", "density_t_per_m3"):
                if getattr(self, name) is None:
                    raise ValueError(
                        f"{name}: needed with level_tag, to turn the tank's level into tonnes"
                    )
        elif self.tonnes is not None and by_volume:
            raise ValueError("give either tonnes, or volume_m3 with density_t_per_m3, not both")
        if self.tonnes is None and (self.volume_m3 is None or self.density_t_per_m3 is None):
            raise ValueError("give tonnes, or both volume_m3 and density_t_per_m3")
        return self

    @property
    def quantity_t(self) -> float:
        """The declared quantity: ``tonnes``, else volume × density."""
        if self.tonnes is not None:
            return self.tonnes
        assert self.volume_m3 is not None and self.density_t_per_m3 is not None
        return self.volume_m3 * self.density_t_per_m3


class Location(_Strict):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class EquipmentSpec(_Strict):
    key: Key
    name: str = ""
    tags: list[TagSpec] = Field(default_factory=list)


class InstallationSpec(_Strict):
    key: Key
    name: str = ""
    people_within_500m: int | None = Field(
        default=None,
        ge=0,
        description="people normally resident within 500 m outside the plant boundary"
        " (GB 18218 Table 5, α)",
    )
    inventories: list[InventorySpec] = Field(default_factory=list)
    equipment: list[EquipmentSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _level_tags(self) -> Self:
        """Each ``level_tag`` is a ``%`` tag of this installation measuring one inventory:
        two inventories read from one tank would count its contents twice."""
        units = {f"{q.key}.{t.key}": t.unit for q in self.equipment for t in q.tags}
        measures: dict[str, int] = {}
        for i, inventory in enumerate(self.inventories):
            tag = inventory.level_tag
            if tag is None:
                continue
            where = f"inventories.{i}.level_tag"
            if tag not in units:
                raise ValueError(f"{where}: {tag!r} is not a tag of installation {self.key!r}")
            if units[tag] != LEVEL_UNIT:
                raise ValueError(
                    f"{where}: {tag} reads in {units[tag]!r}; a level tag reads per cent of the"
                    f" tank's height ({LEVEL_UNIT!r})"
                )
            if tag in measures:
                raise ValueError(f"{where}: {tag} already measures inventories[{measures[tag]}]")
            measures[tag] = i
        return self


class SiteSpec(_Strict):
    key: Key
    name: str = ""
    installations: list[InstallationSpec] = Field(default_factory=list)


class EnterpriseSpec(_Strict):
    key: Key
    name: str = ""
    location: Location | None = None
    assessment_score: float | None = Field(
        default=None,
        ge=0,
        le=100,
        allow_inf_nan=False,
        description="static safety risk assessment score on the MEM 100-point scale (red < 60,"
        " orange < 75, yellow < 90, blue ≥ 90): the baseline of the dynamic risk colour",
    )
    sites: list[SiteSpec] = Field(default_factory=list)


class PlaceKind(StrEnum):
    SCHOOL = "school"
    HOSPITAL = "hospital"
    RESIDENTIAL = "residential"
    ENTERPRISE = "enterprise"
    OFFICE = "office"
    OTHER = "other"

    @property
    def sensitive(self) -> bool:
        """Places where people cannot shelter or leave on their own are warned first."""
        return self in _SENSITIVE


_SENSITIVE = frozenset({PlaceKind.SCHOOL, PlaceKind.HOSPITAL, PlaceKind.RESIDENTIAL})


class PlaceSpec(_Strict):
    """Somewhere people are, in or around a park, warned when a release footprint covers it.

    ``sensitive`` defaults to the kind's (schools, hospitals and residential areas are).
    """

    key: Key
    name: str = ""
    kind: PlaceKind
    location: Location
    sensitive: bool = False
    enterprise: Key | None = None
    """the enterprise (of this park) the place belongs to: its posts are warned"""

    @model_validator(mode="before")
    @classmethod
    def _default_sensitive(cls, data: Any) -> Any:
        if isinstance(data, dict) and "sensitive" not in data:
            try:
                kind = PlaceKind(str(data.get("kind")))
            except ValueError:
                return data
            return {**data, "sensitive": kind.sensitive}
        return data


class ResourceKind(StrEnum):
    FIRE_BRIGADE = "fire-brigade"
    MEDICAL_TEAM = "medical-team"
    MATERIALS = "materials"
    RESCUE_TEAM = "rescue-team"
    OTHER = "other"


class ResourceSpec(_Strict):
    """An emergency resource of a park: ``capacity`` in ``unit`` (people, vehicles, tonnes)."""

    key: Key
    name: str = ""
    kind: ResourceKind
    location: Location
    capacity: float = Field(default=1.0, ge=0)
    unit: str = ""
    contact: str = ""


class ParkSpec(_Strict):
    key: Key
    name: str = ""
    location: Location | None = None
    enterprises: list[EnterpriseSpec] = Field(default_factory=list)
    places: list[PlaceSpec] = Field(default_factory=list)
    resources: list[ResourceSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _places_belong(self) -> Self:
        keys = {e.key for e in self.enterprises}
        for place in self.places:
            if place.enterprise is not None and place.enterprise not in keys:
                raise ValueError(
                    f"place {place.key!r}: enterprise {place.enterprise!r} is not in park "
                    f"{self.key!r}"
                )
        return self


class PlantSpec(_Strict):
    """A whole plant file: one region with its parks."""

    version: int = Field(default=1, ge=1, le=1)
    region: Key
    region_name: str = ""
    parks: list[ParkSpec] = Field(default_factory=list)
    connectors: list[dict[str, Any]] = Field(
        default_factory=list,
        description="connectors reading this plant (validated by hazwatch.connectors, "
        "run by `hazwatch serve`; not stored with the plant)",
    )

    @model_validator(mode="after")
    def _unique(self) -> Self:
        _check_unique("parks", [p.key for p in self.parks])
        enterprises = [e.key for p in self.parks for e in p.enterprises]
        _check_unique("enterprises (across all parks)", enterprises)
        for p in self.parks:
            _check_unique(f"places of {p.key}", [x.key for x in p.places])
            _check_unique(f"resources of {p.key}", [r.key for r in p.resources])
            for e in p.enterprises:
                _check_unique(f"sites of {e.key}", [s.key for s in e.sites])
                for s in e.sites:
                    installations = [i.key for i in s.installations]
                    _check_unique(f"installations of {e.key}.{s.key}", installations)
                    for i in s.installations:
                        where = f"{e.key}.{s.key}.{i.key}"
                        _check_unique(f"equipment of {where}", [q.key for q in i.equipment])
                        for q in i.equipment:
                            _check_unique(f"tags of {where}.{q.key}", [t.key for t in q.tags])
        return self

    def tag_keys(self) -> list[str]:
        """Full keys of every tag, in file order."""
        return [
            f"{e.key}.{s.key}.{i.key}.{q.key}.{t.key}"
            for p in self.parks
            for e in p.enterprises
            for s in e.sites
            for i in s.installations
            for q in i.equipment
            for t in q.tags
        ]


def _check_unique(what: str, keys: list[str]) -> None:
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            raise ValueError(f"{what}: key {key!r} appears twice")
        seen.add(key)
