"""KPI endpoints: alarm-system KPIs of alarms driven through the platform, data-access KPIs of
readings sent through the ingest endpoint, scoping, and 422 on bad parameters."""

from __future__ import annotations

from typing import Any

import pytest

from hazwatch.domain.clock import DAY_MS, HOUR_MS, MINUTE_MS

Api = Any
T0 = 1_800_000_000_000  # the API fixture's clock starts here (a whole minute)
LEVEL = "ea.s.i.tank.level"


def _send(api: Api, key: str, values: list[float], start: int) -> None:
    readings = [{"tag": key, "ts": start + i * 1000, "value": v} for i, v in enumerate(values)]
    response = api.post("admin", "/ingest", json={"readings": readings})
    assert response.status_code == 200, response.text


def _node_id(api: Api, key: str) -> int:
    found: int = next(n["id"] for n in api.get("admin", "/scope").json() if n["key"] == key)
    return found


def _alarm_kpis(api: Api, user: str, **params: Any) -> dict[str, Any]:
    base = {"start": T0 - HOUR_MS, "end": T0}
    response = api.get(user, "/kpi/alarms", params=base | params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_chattering_alarm_is_recognised_per_position(api: Api) -> None:
    # H (80, deadband 2) activates at 85 and clears at 70: three activations in four seconds
    _send(api, LEVEL, [50, 85, 70, 85, 70, 85], start=T0 - 10_000)
    tag = api.tag_id(LEVEL)
    report = _alarm_kpis(api, "op-a")
    overall = report["overall"]
    assert overall["annunciations"] == 3
    assert overall["activations"] == 3
    assert [(c["alarm"], c["activations"], c["most_in_window"]) for c in overall["chattering"]] == [
        (f"{tag}.H", 3, 3)
    ]
    assert [(b["alarm"], b["annunciations"], b["share"]) for b in overall["bad_actors"]] == [
        (f"{tag}.H", 3, 1.0)
    ]
    assert [(g["enterprise"], g["position"]) for g in report["groups"]] == [("ea", "ea.s.i")]
    assert report["start"] == "2027-01-15T07:00:00.000Z"
    assert report["targets"]["per_10min"] == {"acceptable": 1, "manageable": 2}
    rate = overall["per_hour"]
    assert (rate["value"], rate["verdict"]) == (3, "acceptable")
    shares = {p["priority"]: (p["annunciations"], p["share"]) for p in overall["priorities"]}
    assert shares["medium"] == (3, 1.0)  # H limits default to medium priority

    assert _alarm_kpis(api, "op-b")["overall"]["annunciations"] == 0
    assert _alarm_kpis(api, "op-b")["groups"] == []
    by_site = _alarm_kpis(api, "op-a", position="site")
    assert [g["position"] for g in by_site["groups"]] == ["ea.s"]
    by_enterprise = _alarm_kpis(api, "admin", group="enterprise")
    assert [(g["enterprise"], g["position"]) for g in by_enterprise["groups"]] == [("ea", "")]


def test_shelved_out_of_service_and_stale_alarms_are_counted(api: Api) -> None:
    _send(api, LEVEL, [50, 92], start=T0 - 10_000)  # H and HH from T0 - 9 s
    tag = api.tag_id(LEVEL)
    shelved = api.post(
        "op-a", f"/alarms/{tag}.H/shelve", json={"duration_s": 3600, "comment": "known"}
    )
    assert shelved.status_code == 200, shelved.text
    api.clock.advance(DAY_MS)
    removed = api.post("op-a", f"/alarms/{tag}.LL/remove-from-service", json={"comment": "swap"})
    assert removed.status_code == 200, removed.text
    api.clock.advance(MINUTE_MS)  # HH has stood for a day and a minute

    now = T0 + DAY_MS + MINUTE_MS
    overall = _alarm_kpis(api, "viewer-a", start=now - DAY_MS, end=now)["overall"]
    stale = [(s["alarm"], s["at_end"], s["standing_since"]) for s in overall["stale"]]
    assert (f"{tag}.HH", True, "2027-01-15T07:59:51.000Z") in stale
    assert f"{tag}.H" not in [s[0] for s in stale]  # standing again only since its shelf ended
    assert overall["stale_at_end"] == len([s for s in stale if s[1]])
    assert overall["out_of_service"] == {"actions": 1, "alarms": 1, "at_end": 1}
    # the shelf (an hour from T0) ran out before this day began, with H still active
    assert overall["shelved"]["at_end"] == 0


def test_access_kpis_rank_enterprises_and_flag_those_below_the_threshold(api: Api) -> None:
    minute = T0 - 3 * MINUTE_MS
    _send(api, LEVEL, [50.0] * 54, start=minute)  # 54 of the 60 readings a 1 s tag owes
    _send(api, LEVEL, [50.0], start=T0 - 30_000)  # a later minute, so the first is stored
    params = {"start": minute, "end": minute + MINUTE_MS, "late_after_s": 150}
    response = api.get("admin", "/kpi/access", params=params)
    assert response.status_code == 200, response.text
    report = response.json()
    ea, eb = report["enterprises"]
    assert (ea["enterprise"], ea["rank"], ea["review"]) == ("ea", 1, "below_threshold")
    assert (ea["expected"], ea["received"]) == (120, 54)  # level and temperature, 60 each
    assert ea["online_rate"] == pytest.approx(54 / 120)
    assert (ea["slots"], ea["filled"]) == (2, 1)
    # received at T0, 180 s after the minute began: latency 180 s - k s for k = 0…53;
    # late (> 150 s) for k < 30
    latency = ea["latency"]
    assert (latency["readings"], latency["late"], latency["max_ms"]) == (54, 30, 180_000)
    assert latency["mean_ms"] == pytest.approx(180_000 - 26_500)
    assert latency["timeliness"] == pytest.approx(24 / 54)
    assert (eb["enterprise"], eb["online_rate"], eb["review"]) == ("eb", 0.0, "below_threshold")
    assert report["flagged"] == ["ea", "eb"]  # 45 % is below 90 % too
    assert report["threshold"] == 0.9

    lenient = api.get("admin", "/kpi/access", params=params | {"threshold": 0.45}).json()
    assert lenient["flagged"] == ["eb"]  # exactly at the threshold is not below it
    mine = api.get("op-a", "/kpi/access", params=params).json()
    assert [e["enterprise"] for e in mine["enterprises"]] == ["ea"]
    scoped = api.get("admin", "/kpi/access", params=params | {"scope": _node_id(api, "eb")})
    assert [e["enterprise"] for e in scoped.json()["enterprises"]] == ["eb"]


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("/kpi/alarms", {"start": T0, "end": T0 - HOUR_MS}, "must lie after start"),
        ("/kpi/alarms", {"start": T0 - 400 * DAY_MS, "end": T0}, "period too long"),
        ("/kpi/alarms", {"start": "yesterday", "end": T0}, "start: expected ISO 8601"),
        ("/kpi/alarms", {"start": "2027-01-15T07:00:00", "end": T0}, "start: expected"),
        ("/kpi/alarms", {"end": T0 + HOUR_MS}, "lies in the future"),
        ("/kpi/alarms", {"scope": 999_999}, "scope: unknown scope node 999999"),
        ("/kpi/access", {"start": T0 - HOUR_MS + 1, "end": T0}, "start: must be a whole minute"),
        ("/kpi/access", {"threshold": 1.5}, "threshold"),
        ("/kpi/alarms", {"group": "console"}, "group"),
    ],
)
def test_bad_parameters_answer_422_naming_them(
    api: Api, path: str, params: dict[str, Any], message: str
) -> None:
    response = api.get("op-a", path, params=params)
    assert response.status_code == 422, response.text
    assert message in response.text


def test_a_scope_outside_the_callers_view_is_unknown(api: Api) -> None:
    eb = _node_id(api, "eb")
    response = api.get("op-a", "/kpi/alarms", params={"scope": eb})
    assert response.status_code == 422
    assert f"unknown scope node {eb}" in response.text
    park = _node_id(api, "p")  # above the caller's enterprise: narrowed to it
    report = api.get("op-a", "/kpi/access", params={"scope": park}).json()
    assert [e["enterprise"] for e in report["enterprises"]] == ["ea"]
    assert api.client.get("/api/v1/kpi/alarms").status_code == 401
