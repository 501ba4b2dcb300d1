from __future__ import annotations

from typing import Any

from hazwatch.domain.clock import iso

Api = Any
T0 = 1_800_000_000_000  # the API fixture's clock starts here


def _reading(key: str, ts: int, value: object) -> dict[str, object]:
    return {"tag": key, "ts": ts, "value": value}


def test_bad_readings_are_refused_counted_and_cost_none_of_the_good_ones(api: Api) -> None:
    level = "ea.s.i.tank.level"
    body = {
        "readings": [
            _reading(level, T0 - 3000, 40.0),
            _reading("no.such.tag.at.all", T0, 1.0),
            _reading(level, T0 - 2000, "forty"),
            _reading(level, T0 - 1000, 140.0),
            _reading(level, T0 + 3_600_000, 41.0),
            _reading(level, T0, 42.0),
        ]
    }
    response = api.post("admin", "/ingest", json=body)
    assert response.status_code == 422, response.text
    report = response.json()
    assert report["accepted"] == 2
    assert report["rejected"] == 4
    assert report["rejected_by_reason"] == {
        "unknown_tag": 1,
        "malformed": 1,
        "out_of_range": 1,
        "future": 1,
    }

    tag = api.tag_id(level)
    latest = api.get("admin", "/values/latest", params={"tag_ids": str(tag)}).json()
    assert latest[0]["value"] == 42.0
    history = api.get(
        "admin",
        f"/tags/{tag}/history",
        params={"start": "2027-01-15T07:00:00Z", "end": "2027-01-15T09:00:00Z", "mode": "raw"},
    ).json()
    assert [p["value"] for p in history["points"]] == [40.0, 42.0]

    letters = api.get("admin", "/dead-letters").json()
    assert sorted(d["reason"] for d in letters) == [
        "future",
        "malformed",
        "out_of_range",
        "unknown_tag",
    ]
    metrics = api.client.get("/metrics").text
    assert 'hazwatch_ingest_rejected_total{reason="out_of_range"} 1.0' in metrics
    assert 'hazwatch_ingest_readings_total{source="http"} 2.0' in metrics


def test_a_replayed_batch_changes_nothing(api: Api) -> None:
    level = "ea.s.i.tank.level"
    body = {"readings": [_reading(level, T0 - 2000 + i * 1000, 50.0 + i) for i in range(2)]}
    first = api.post("admin", "/ingest", json=body)
    assert first.json()["accepted"] == 2
    again = api.post("admin", "/ingest", json=body)
    assert again.status_code == 422
    assert again.json()["accepted"] == 0
    assert again.json()["rejected_by_reason"] == {"duplicate": 2}
    tag = api.tag_id(level)
    history = api.get("admin", f"/tags/{tag}/history", params={"mode": "raw"}).json()
    assert [p["value"] for p in history["points"]] == [50.0, 51.0]


def test_unreadable_and_oversized_payloads_get_4xx_and_are_kept(api: Api) -> None:
    broken = api.client.post(
        "/api/v1/ingest",
        content=b'{"readings": [ {"tag": ',
        headers={**api.as_user("admin"), "content-type": "application/json"},
    )
    assert broken.status_code == 400
    assert "JSON" in broken.json()["detail"]

    too_many = {"readings": [_reading("ea.s.i.tank.level", T0 - i, 1.0) for i in range(1001)]}
    oversized = api.post("admin", "/ingest", json=too_many)
    assert oversized.status_code == 413

    huge = api.client.post(
        "/api/v1/ingest",
        content=b" " * 300_000,
        headers={**api.as_user("admin"), "content-type": "application/json"},
    )
    assert huge.status_code == 413

    letters = api.get("admin", "/dead-letters").json()
    reasons = sorted(d["reason"] for d in letters)
    assert reasons == ["malformed", "oversized", "oversized"]
    kept = next(d for d in letters if d["reason"] == "malformed")
    assert kept["payload"].startswith('{"readings"')


def test_a_device_key_sends_csv_only_for_its_own_scope(api: Api) -> None:
    nodes = {n["key"]: n["id"] for n in api.get("admin", "/scope").json()}
    created = api.post("admin", "/api-keys", json={"name": "gateway-a", "scope_id": nodes["ea"]})
    assert created.status_code == 201, created.text
    key = created.json()["key"]

    csv = (
        "tag,ts,value\n"
        f"ea.s.i.tank.temperature,{T0 - 1000},21.5\n"
        f"eb.s.i.tank.temperature,{T0 - 1000},22.5\n"
    )
    response = api.client.post(
        "/api/v1/ingest",
        content=csv.encode(),
        headers={"X-API-Key": key, "content-type": "text/csv"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["accepted"] == 1
    assert response.json()["rejected_by_reason"] == {"forbidden": 1}

    wrong = api.client.post(
        "/api/v1/ingest", content=csv.encode(), headers={"X-API-Key": "hzk_wrong"}
    )
    assert wrong.status_code == 401
    viewer = api.post("viewer-a", "/ingest", json={"readings": []})
    assert viewer.status_code == 403


def test_a_server_timestamp_is_stored_and_shown_with_raw_history(api: Api) -> None:
    level = "ea.s.i.tank.level"
    stamped = {**_reading(level, T0 - 2000, 50.0), "server_ts": T0 - 1500}
    body = {"readings": [stamped, _reading(level, T0 - 1000, 51.0)]}
    assert api.post("admin", "/ingest", json=body).json()["accepted"] == 2
    tag = api.tag_id(level)
    history = api.get("admin", f"/tags/{tag}/history", params={"mode": "raw"}).json()
    assert [p["server_ts"] for p in history["points"]] == [iso(T0 - 1500), None]
