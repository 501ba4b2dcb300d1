"""An inventory measured by a level tag: the tag, the tank's volume, density and shape are
read and written back; a tag that is not a level of the installation, or geometry that is
missing or misplaced, is refused naming the field; the demo park's tanks are measured."""

from __future__ import annotations

import pytest

from hazwatch.connectors.simulator import demo_plant_text
from hazwatch.connectors.simulator.model import compile_plant
from hazwatch.domain.plant import InventorySpec, TankShape
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
                inventories:
                  - chemical: chlorine
                    tonnes: 60
                    volume_m3: 48
                    density_t_per_m3: 1.41
                    level_tag: v-101.level
                    shape: horizontal-cylinder
                  - chemical: LPG
                    volume_m3: 400
                    density_t_per_m3: 0.53
                    level_tag: v-102.level
                equipment:
                  - key: v-101
                    tags:
                      - {key: level, unit: "%", range: [0, 100]}
                      - {key: temperature, unit: °C, range: [-50, 100]}
                  - key: v-102
                    tags:
                      - {key: level, unit: "%", range: [0, 100]}
"""
WHERE = "parks[p].enterprises[e].sites[s].installations[farm].inventories"


def _inventories(text: str) -> list[InventorySpec]:
    spec = parse_plant(text, source="plant.yaml")
    return spec.parks[0].enterprises[0].sites[0].installations[0].inventories


def test_level_tags_are_read_and_written_back() -> None:
    chlorine, lpg = _inventories(PLANT)
    assert (chlorine.level_tag, chlorine.shape) == ("v-101.level", TankShape.HORIZONTAL_CYLINDER)
    assert (lpg.level_tag, lpg.shape) == ("v-102.level", None)
    # the declared quantity: tonnes where given, else volume × density
    assert (chlorine.quantity_t, lpg.quantity_t) == (60, 400 * 0.53)
    spec = parse_plant(PLANT, source="plant.yaml")
    text = dump_plant(spec)
    assert "level_tag: v-101.level" in text
    assert "shape: horizontal-cylinder" in text
    assert parse_plant(text, source="again") == spec


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        ("level_tag: v-101.level", "level_tag: v-109.level", "[chlorine].level_tag",
         "'v-109.level' is not a tag of installation 'farm'"),
        ("level_tag: v-101.level", "level_tag: v-101.temperature", "[chlorine].level_tag",
         "reads in '°C'"),
        ("level_tag: v-101.level", "level_tag: e.s.farm.v-101.level", "[chlorine].level_tag",
         "expected equipment.tag of this installation"),
        ("level_tag: v-102.level", "level_tag: v-101.level", "[LPG].level_tag",
         "v-101.level already measures inventories[0]"),
        ("                    volume_m3: 48\n", "", "[chlorine]",
         "volume_m3: needed with level_tag"),
        ("                    density_t_per_m3: 0.53\n", "", "[LPG]",
         "density_t_per_m3: needed with level_tag"),
        ("                    level_tag: v-101.level\n", "", "[chlorine].shape",
         "only with level_tag"),
        ("shape: horizontal-cylinder", "shape: cube", "[chlorine].shape", "sphere"),
    ],
)  # fmt: skip
def test_bad_level_tags_are_refused_naming_the_field(
    old: str, new: str, path: str, message: str
) -> None:
    assert old in PLANT
    with pytest.raises(PlantFileError) as caught:
        parse_plant(PLANT.replace(old, new), source="plant.yaml")
    (problem,) = caught.value.problems
    assert problem.path == WHERE + path, problem
    assert message in problem.message
    assert problem.line is not None


def test_without_a_level_tag_tonnes_and_a_tank_are_still_one_or_the_other() -> None:
    """The LPG item above without its tag is a plain tank: valid. Chlorine's tonnes with a
    tank but no tag would say two quantities: refused."""
    text = PLANT.replace("                    level_tag: v-101.level\n", "").replace(
        "                    shape: horizontal-cylinder\n", ""
    )
    with pytest.raises(PlantFileError) as caught:
        parse_plant(text, source="plant.yaml")
    (problem,) = caught.value.problems
    assert problem.path == WHERE + "[chlorine]"
    assert "not both" in problem.message


def test_the_demo_park_measures_its_storage_tanks() -> None:
    spec = parse_plant(demo_plant_text(), source="demo_park.yaml")
    installations = {
        f"{e.key}.{s.key}.{i.key}": i
        for p in spec.parks
        for e in p.enterprises
        for s in e.sites
        for i in s.installations
    }
    chlorine = installations["chlor.main.cl2-storage"].inventories
    spheres = installations["lpg.main.sphere-farm"].inventories
    assert [i.level_tag for i in chlorine] == ["v-101.level", "v-102.level"]
    assert [i.level_tag for i in spheres] == ["tk-201.level", "tk-202.level"]
    assert {i.shape for i in spheres} == {TankShape.SPHERE}
    # the declared quantities stay those of the demo: 120 t of chlorine, 2 × 400 m³ × 0.53
    assert sum(i.quantity_t for i in chlorine) == 120
    assert sum(i.quantity_t for i in spheres) == pytest.approx(424)
    # the simulator's vessels take the volume of the inventory their level measures
    model = compile_plant(spec)
    assert model.vessel_of("lpg.main.sphere-farm.tk-201.level").volume_m3 == 400
    assert model.vessel_of("chlor.main.cl2-storage.v-102.level").volume_m3 == 48
