"""The dynamic risk colour through the API: every visible node with its colour, one node
with the explanation, its history by period, and 404/409/422 with a message."""

from __future__ import annotations

import time
from typing import Any

from hazwatch.domain.clock import MINUTE_MS, iso
from hazwatch.domain.plant import ParkSpec
from hazwatch.storage.database import Database
from hazwatch.storage.plant_repository import PlantRepository

Api = Any
T0 = 1_800_000_000_000  # the API fixture's clock starts here
LEVEL = "ea.s.i.tank.level"


def _send(api: Api, key: str, values: list[float], start: int = T0 - 10_000) -> None:
    readings = [{"tag": key, "ts": start + i * 1000, "value": v} for i, v in enumerate(values)]
    response = api.post("admin", "/ingest", json={"readings": readings})
    assert response.status_code == 200, response.text


def _contribution(node: dict[str, Any], factor: str, level: str = "") -> dict[str, Any]:
    (found,) = [c for c in node["contributions"] if c["factor"] == factor and c["level"] == level]
    return dict(found)


def test_the_list_holds_every_visible_node_parks_first(api: Api) -> None:
    everything = api.get("admin", "/risk")
    assert everything.status_code == 200, everything.text
    found = [(n["kind"], n["key"], n["colour"]) for n in everything.json()]
    # 12 t of chlorine: S = 2.4, R = 2 × 4 × 2.4 = 19.2 → grade III → yellow
    assert found == [
        ("park", "p", "yellow"),
        ("enterprise", "ea", "yellow"),
        ("enterprise", "eb", "yellow"),
        ("installation", "ea.s.i", "yellow"),
        ("installation", "eb.s.i", "yellow"),
    ]
    mine = api.get("viewer-a", "/risk").json()
    assert [n["key"] for n in mine] == ["ea", "ea.s.i"]
    only = api.get("admin", "/risk", params={"kind": "enterprise"}).json()
    assert [n["key"] for n in only] == ["ea", "eb"]


def test_one_node_explains_its_colour(api: Api) -> None:
    response = api.get("viewer-a", "/risk/ea")
    assert response.status_code == 200, response.text
    node = response.json()
    assert (node["kind"], node["colour"], node["level"], node["baseline"]) == (
        "enterprise",
        "yellow",
        3,  # 三级: red 1, orange 2, yellow 3, blue 4
        "yellow",
    )
    assert node["since"] == iso(T0) and node["previous"] is None
    grade = _contribution(node, "grade")
    assert grade["value"] == "III" and grade["sets"] == "yellow" and "ea.s.i" in grade["text"]
    score = _contribution(node, "assessment")
    assert score["tracked"] is False and score["value"] is None
    assert _contribution(node, "online_rate")["value"] == 1.0
    for factor in ("hidden_dangers", "special_work", "commitment"):
        assert _contribution(node, factor)["text"].endswith("not tracked")


def test_an_alarm_changes_the_colour_and_the_history_keeps_both(api: Api) -> None:
    _send(api, LEVEL, [50, 95])
    node = api.get("op-a", "/risk/ea").json()
    assert node["colour"] == "orange" and node["previous"] == "yellow"
    high = _contribution(node, "alarms", "high")
    assert high["value"] == 1 and high["steps"] == 1
    assert high["subjects"] == [f"{LEVEL} HH"]
    assert api.get("op-a", "/risk/ea.s.i").json()["colour"] == "orange"
    assert api.get("admin", "/risk/eb").json()["colour"] == "yellow"

    api.clock.advance(MINUTE_MS)
    _send(api, LEVEL, [50], start=T0)
    assert api.get("op-a", "/risk/ea").json()["colour"] == "yellow"

    history = api.get("op-a", "/risk/ea/history")
    assert history.status_code == 200, history.text
    changes = history.json()
    assert [(c["colour"], c["previous"]) for c in changes] == [
        ("yellow", None),
        ("orange", "yellow"),
        ("yellow", "orange"),
    ]
    assert [c["at"] for c in changes] == [iso(T0), iso(T0), iso(T0 + MINUTE_MS)]
    explained = changes[1]["explanation"]
    assert explained["colour"] == "orange"
    assert any(f"{LEVEL} HH" in c["subjects"] for c in explained["contributions"])

    later = api.get(
        "op-a", "/risk/ea/history", params={"start": T0 + 1, "end": iso(T0 + 2 * MINUTE_MS)}
    ).json()
    assert [c["colour"] for c in later] == ["yellow"]
    assert api.get("op-a", "/risk/ea/history", params={"end": T0}).json() == []


def test_nodes_outside_the_callers_scope_or_unknown_answer_404(api: Api) -> None:
    for path in ("/risk/eb", "/risk/p", "/risk/eb.s.i", "/risk/eb/history", "/risk/nope"):
        response = api.get("viewer-a", path)
        assert response.status_code == 404, path
        assert "no risk colour" in response.json()["detail"]


def test_bad_parameters_answer_422_naming_them(api: Api) -> None:
    site = api.get("admin", "/risk/ea", params={"kind": "site"})
    assert site.status_code == 422 and "kind" in site.json()["detail"]
    bad = api.get("admin", "/risk/ea/history", params={"start": "yesterday"})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("start:")
    backwards = api.get("admin", "/risk/ea/history", params={"start": T0, "end": T0 - 1})
    assert backwards.status_code == 422 and "must lie after" in backwards.json()["detail"]
    assert api.get("admin", "/risk/ea/history", params={"limit": 0}).status_code == 422


def test_a_key_shared_by_a_park_and_an_enterprise_needs_its_kind(api: Api) -> None:
    db = Database.open(api.db_url)
    try:  # the stored plant with one more park, keyed like enterprise ea
        plants = PlantRepository(db)
        stored = plants.export()
        more = [*stored.parks, ParkSpec(key="ea", name="Another park")]
        plants.save(stored.model_copy(update={"parks": more}))
    finally:
        db.close()
    api.clock.advance(10 * MINUTE_MS)  # the stage reads the plant again at its next tick
    deadline = time.monotonic() + 10
    while len(api.get("admin", "/risk", params={"kind": "park"}).json()) < 2:
        assert time.monotonic() < deadline, "the new park never appeared"
        time.sleep(0.05)
    both = api.get("admin", "/risk/ea")
    assert both.status_code == 409
    assert "give kind" in both.json()["detail"]
    park = api.get("admin", "/risk/ea", params={"kind": "park"})
    assert park.status_code == 200 and park.json()["colour"] == "blue"
    assert (
        api.get("admin", "/risk/ea", params={"kind": "enterprise"}).json()["kind"] == "enterprise"
    )
    assert api.get("op-a", "/risk/ea").status_code == 200  # op-a sees only the enterprise
