"""A plant file's GB 18218 fields: people within 500 m of an installation, an inventory's
hazard category; written back out as read, and checked."""

from __future__ import annotations

import pytest

from hazwatch.plant.errors import PlantFileError
from hazwatch.plant.file import dump_plant, parse_plant

PLANT = """\
version: 1
region: r
parks:
  - key: p
    enterprises:
      - key: e
        sites:
          - key: s
            installations:
              - key: farm
                people_within_500m: 45
                inventories:
                  - {chemical: diesel, category: W5.4, tonnes: 300}
                  - {chemical: chlorine, cas: 7782-50-5, tonnes: 12}
"""


def test_the_fields_are_read_and_written_back() -> None:
    spec = parse_plant(PLANT, source="plant.yaml")
    farm = spec.parks[0].enterprises[0].sites[0].installations[0]
    assert farm.people_within_500m == 45
    assert [i.category for i in farm.inventories] == ["W5.4", None]
    text = dump_plant(spec)
    assert "people_within_500m: 45" in text
    assert "category: W5.4" in text
    assert parse_plant(text, source="again") == spec


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("people_within_500m: 45", "people_within_500m: -3", "people_within_500m"),
        ("category: W5.4", "category: diesel", "category"),
    ],
)
def test_bad_values_are_refused_naming_the_field(old: str, new: str, field: str) -> None:
    with pytest.raises(PlantFileError) as caught:
        parse_plant(PLANT.replace(old, new), source="plant.yaml")
    assert field in str(caught.value)
