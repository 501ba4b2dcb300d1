"""GB 18218 through the API: a posted document answers as the CLI does; an installation of
the stored plant is graded from its declared inventories; bad input answers 4xx naming the
problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from typer.testing import CliRunner

from hazwatch.cli import app
from hazwatch.domain.plant import PlantSpec
from hazwatch.storage.database import Database
from hazwatch.storage.plant_repository import PlantRepository

Api = Any

DOCUMENT = """\
installations:
  - id: tank-farm-1
    people_within_500m: 120
    inventory:
      - chemical: 氯
        tonnes: 30
      - cas: 7664-41-7
        tonnes: 50
      - name: solvent blend
        category: W5.3
        tonnes: 800
  - id: tanks
    people_within_500m: 35
    inventory:
      - {chemical: 甲醇, volume_m3: 1000, density_t_per_m3: 0.79}
"""


def _cli_json(tmp_path: Path, *extra: str) -> dict[str, Any]:
    path = tmp_path / "document.yaml"
    path.write_text(DOCUMENT, encoding="utf-8")
    result = CliRunner().invoke(app, ["evaluate", "gb18218", str(path), "--json", *extra])
    assert result.exit_code == 0, result.output
    out: dict[str, Any] = orjson.loads(result.stdout)
    return out


@pytest.mark.parametrize("content_type", ["application/yaml", "text/yaml"])
def test_a_yaml_document_answers_the_same_json_as_the_cli(
    api: Api, tmp_path: Path, content_type: str
) -> None:
    response = api.client.post(
        "/api/v1/evaluate/gb18218",
        content=DOCUMENT.encode(),
        headers={**api.as_user("op-a"), "Content-Type": content_type},
    )
    assert response.status_code == 200, response.text
    assert response.json() == _cli_json(tmp_path)
    farm = response.json()["installations"][0]
    assert (farm["S"], farm["R"], farm["grade"], farm["major_hazard"]) == (11.8, 69.6, "II", True)


def test_a_json_document_and_a_fill_ratio(api: Api, tmp_path: Path) -> None:
    document = yaml.safe_load(DOCUMENT)
    response = api.post("viewer-a", "/evaluate/gb18218", json=document, params={"fill_ratio": 0.9})
    assert response.status_code == 200, response.text
    assert response.json() == _cli_json(tmp_path, "--fill-ratio", "0.9")
    tanks = response.json()["installations"][1]
    # 1000 m³ × 0.79 t/m³ × 0.9 = 711 t of methanol (Q 500): S = 1.422; α 1.2; β 1
    assert (tanks["items"][0]["q"], tanks["S"], tanks["R"], tanks["grade"]) == (
        711, 1.422, pytest.approx(1.7064), "IV",
    )  # fmt: skip


def test_a_bad_document_answers_422_naming_each_problem(api: Api) -> None:
    document = {
        "installations": [
            {
                "id": "farm",
                "people_within_500m": 3,
                "inventory": [
                    {"chemical": "unobtainium", "tonnes": 1},
                    {"name": "blend", "category": "W9.9", "tonnes": 1},
                    {"chemical": "氯", "tonnes": -1},
                ],
            }
        ]
    }
    response = api.post("op-a", "/evaluate/gb18218", json=document)
    assert response.status_code == 422
    body = response.json()
    assert body["detail"]
    assert [p.split(": ", 1)[0] for p in body["problems"]] == [
        "installations[0] (farm).inventory[0] (unobtainium).chemical",
        "installations[0] (farm).inventory[1] (blend).category",
        "installations[0] (farm).inventory[2] (氯).tonnes",
    ]


def test_unreadable_or_duplicated_input_is_refused(api: Api) -> None:
    headers = {**api.as_user("op-a"), "Content-Type": "application/yaml"}
    broken = api.client.post(
        "/api/v1/evaluate/gb18218", content=b"installations: [", headers=headers
    )
    assert broken.status_code == 400
    assert "not JSON or YAML" in broken.json()["detail"]
    twice = api.client.post(
        "/api/v1/evaluate/gb18218",
        content=b"installations: []\ninstallations: []\n",
        headers=headers,
    )
    assert twice.status_code == 422
    assert twice.json()["problems"] == [
        "line 2: key 'installations' appears twice in one mapping (first at line 1)"
    ]
    empty = api.client.post("/api/v1/evaluate/gb18218", content=b"", headers=headers)
    assert empty.status_code == 422
    bad_ratio = api.post("op-a", "/evaluate/gb18218", json={}, params={"fill_ratio": 2})
    assert bad_ratio.status_code == 422


def test_evaluation_needs_a_signed_in_user(api: Api) -> None:
    response = api.client.post("/api/v1/evaluate/gb18218", content=DOCUMENT.encode())
    assert response.status_code == 401


def test_a_stored_installation_is_graded_from_its_inventories(api: Api) -> None:
    # the fixture's plant: 12 t of chlorine at ea.s.i, no head count declared → α 2 assumed
    response = api.get("op-a", "/installations/ea.s.i/gb18218")
    assert response.status_code == 200, response.text
    (inst,) = response.json()["installations"]
    assert (inst["id"], inst["S"], inst["alpha"], inst["alpha_basis"]) == (
        "ea.s.i", 2.4, 2.0, "assumed",
    )  # fmt: skip
    # R = 2 × 4 × 12/5 = 19.2 → grade III
    assert (inst["R"], inst["major_hazard"], inst["grade"]) == (19.2, True, "III")
    assert inst["items"][0]["name"] == "chlorine"


def _restore(api: Api, change: dict[str, Any]) -> None:
    """Store the API's plant again with ``change`` laid over installation ea.s.i."""
    db = Database.open(api.db_url)
    try:
        plants = PlantRepository(db)
        data = plants.export().model_dump(mode="json")
        inst = data["parks"][0]["enterprises"][0]["sites"][0]["installations"][0]
        assert inst["key"] == "i"
        inst.update(change)
        plants.save(PlantSpec.model_validate(data))
    finally:
        db.close()


def test_declared_people_and_categories_are_used(api: Api) -> None:
    _restore(
        api,
        {
            "people_within_500m": 40,
            "inventories": [
                {"chemical": "chlorine", "cas": "7782-50-5", "tonnes": 12},
                {"chemical": "diesel", "category": "W5.4", "volume_m3": 1000,
                 "density_t_per_m3": 0.85},
            ],
        },
    )  # fmt: skip
    (inst,) = api.get("op-a", "/installations/ea.s.i/gb18218").json()["installations"]
    assert (inst["alpha"], inst["alpha_basis"], inst["people_within_500m"]) == (1.2, "table5", 40)
    _, diesel = inst["items"]
    assert (diesel["q"], diesel["Q"], diesel["basis"]) == (850, 5000, "table2:W5.4")
    # S = 2.4 + 0.17; R = 1.2 × (4 × 2.4 + 1 × 0.17) = 11.724
    assert inst["S"] == pytest.approx(2.57)
    assert inst["R"] == pytest.approx(11.724)
    assert inst["grade"] == "III"
    listed = api.get("op-a", "/inventories").json()
    assert sorted((i["chemical"], i["category"]) for i in listed) == [
        ("chlorine", None), ("diesel", "W5.4"),
    ]  # fmt: skip


def test_an_unclassifiable_stored_inventory_answers_422(api: Api) -> None:
    _restore(api, {"inventories": [{"chemical": "mystery oil", "tonnes": 10}]})
    response = api.get("op-a", "/installations/ea.s.i/gb18218")
    assert response.status_code == 422
    (problem,) = response.json()["problems"]
    assert problem.startswith("ea.s.i: inventories[0] (mystery oil).category: ")


def test_an_installation_outside_the_callers_scope_or_unknown_is_404(api: Api) -> None:
    assert api.get("op-b", "/installations/ea.s.i/gb18218").status_code == 404
    assert api.get("op-b", "/installations/eb.s.i/gb18218").status_code == 200
    assert api.get("admin", "/installations/ea.s.nothing/gb18218").status_code == 404
    assert api.get("admin", "/installations/ea.s/gb18218").status_code == 404
