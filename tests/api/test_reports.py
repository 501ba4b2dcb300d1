"""Reports through the API: made on demand and downloaded in every format, scoped to what
the caller sees; schedules created, replaced and removed by admins; every refusal names
the field."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from openpyxl import load_workbook

Api = Any  # the ``api`` fixture of tests/api/conftest.py

# The API's clock starts at 1 800 000 000 000 ms = 2027-01-15 08:00 UTC, 16:00 in Shanghai:
# 2027-01-14 is the last day that is over there.


def _node_id(api: Api, key: str) -> int:
    found: int = next(n["id"] for n in api.get("admin", "/scope").json() if n["key"] == key)
    return found


def _make(api: Api, user: str, body: dict[str, Any]) -> Any:
    return api.post(user, "/reports", json=body)


def test_a_report_made_on_demand_downloads_in_every_format(api: Api) -> None:
    park = _node_id(api, "p")
    made = _make(
        api,
        "admin",
        {
            "scope": park,
            "period": "day",
            "start": "2027-01-14",
            "formats": ["pdf", "xlsx", "csv", "html"],
        },
    )
    assert made.status_code == 201, made.text
    report = made.json()
    assert report["status"] == "ready" and report["schedule"] is None
    assert report["scope"] == {"id": park, "kind": "park", "key": "r.p", "name": "p"}
    assert report["period"] == {
        "kind": "day",
        "label": "2027-01-14",
        "zone": "Asia/Shanghai",
        "start": "2027-01-13T16:00:00.000Z",
        "end": "2027-01-14T16:00:00.000Z",
    }
    assert report["delivery"]["status"] == "none" and report["created_by"] == "admin"
    files = {f["format"]: f for f in report["files"]}
    assert list(files) == ["pdf", "xlsx", "csv", "html"]
    expected = {
        "pdf": ("application/pdf", "hazwatch-r.p-2027-01-14.pdf"),
        "xlsx": (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "hazwatch-r.p-2027-01-14.xlsx",
        ),
        "csv": ("application/zip", "hazwatch-r.p-2027-01-14.csv.zip"),
        "html": ("text/html; charset=utf-8", "hazwatch-r.p-2027-01-14.html"),
    }
    bodies = {}
    for fmt, (media_type, filename) in expected.items():
        assert files[fmt]["url"] == f"/api/v1/reports/{report['id']}.{fmt}"
        got = api.get("admin", f"/reports/{report['id']}.{fmt}")
        assert got.status_code == 200, got.text
        assert got.headers["content-type"] == media_type
        assert got.headers["content-disposition"] == f'attachment; filename="{filename}"'
        assert len(got.content) == files[fmt]["size"]
        bodies[fmt] = got.content
    assert bodies["pdf"].startswith(b"%PDF-")
    # the two enterprises, each with two tags of 1 s period and no readings: online rate 0
    sheet = load_workbook(io.BytesIO(bodies["xlsx"]))["data_access"]
    assert [(r[1], r[2], r[5]) for r in sheet.iter_rows(min_row=2, values_only=True)] == [
        ("ea", 2, 0),
        ("eb", 2, 0),
    ]
    assert "data_access.csv" in zipfile.ZipFile(io.BytesIO(bodies["csv"])).namelist()
    assert "日报 / Daily report" in bodies["html"].decode("utf-8")

    assert api.get("admin", f"/reports/{report['id']}").json() == report
    assert [r["id"] for r in api.get("admin", "/reports").json()] == [report["id"]]
    assert api.get("admin", "/reports", params={"scope": park + 1000}).json() == []
    assert api.get("admin", f"/reports/{report['id']}.docx").status_code == 422
    assert api.get("admin", f"/reports/{report['id'] + 1}").status_code == 404


def test_reports_follow_the_callers_scope(api: Api) -> None:
    park, ea, eb = (_node_id(api, k) for k in ("p", "ea", "eb"))
    refused = _make(api, "viewer-a", {"scope": park, "period": "day"})
    assert refused.status_code == 422
    assert refused.json()["problems"] == [f"scope: unknown scope node {park}"]
    own = _make(api, "viewer-a", {"scope": ea, "period": "week", "start": "2027-01-06"})
    assert own.status_code == 201, own.text
    assert own.json()["period"]["label"] == "2027-W01"
    park_report = _make(api, "admin", {"scope": park, "period": "day"}).json()
    assert park_report["period"]["label"] == "2027-01-14", "default: the last day over"

    seen = [r["id"] for r in api.get("viewer-a", "/reports").json()]
    assert seen == [own.json()["id"]]
    assert api.get("viewer-a", f"/reports/{park_report['id']}").status_code == 404
    assert api.get("viewer-a", f"/reports/{park_report['id']}.pdf").status_code == 404
    assert api.get("op-b", f"/reports/{own.json()['id']}").status_code == 404
    assert api.get("op-b", "/reports").json() == []
    assert _make(api, "op-b", {"scope": eb, "period": "day"}).status_code == 201
    assert {r["scope"]["key"] for r in api.get("admin", "/reports").json()} == {
        "r.p",
        "r.p.ea",
        "r.p.eb",
    }


def test_a_bad_request_names_each_field(api: Api) -> None:
    park = _node_id(api, "p")
    site = next(n["id"] for n in api.get("admin", "/scope").json() if n["kind"] == "site")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"scope": park, "period": "year"}, "period: expected day, week, month"),
        ({"scope": park, "period": "day", "formats": ["docx"]}, "formats[0]: 'docx' is not one of"),
        ({"scope": park, "period": "day", "recipients": ["nobody"]}, "recipients[0]: 'nobody'"),
        ({"scope": park, "period": "day", "zone": "Mars/Olympus"}, "zone: 'Mars/Olympus'"),
        ({"scope": site, "period": "day"}, "scope: a report is made for a region, park"),
        ({"scope": "p", "period": "day"}, "scope: expected a scope node id"),
        ({"scope": park, "period": "month", "start": "2027-01-10"}, "end: the period 2027-01 is"),
        ({"scope": park, "period": "day", "start": "2027-13-01"}, "start: expected a date"),
        ({"scope": park, "period": "day", "end": "2027-01-14T00:00:00Z"}, "end: a day ends by"),
        (
            {"scope": park, "start": "2027-01-14T00:00:30Z", "end": "2027-01-14T01:00:00Z"},
            "start: must be a whole minute",
        ),
        (
            {"scope": park, "start": "2027-01-14T02:00:00Z", "end": "2027-01-14T01:00:00Z"},
            "end (2027-01-14T01:00:00.000Z) must lie after start",
        ),
        ({"scope": park, "period": "day", "colour": "red"}, "colour: not a field"),
    ]
    for body, problem in cases:
        response = _make(api, "admin", body)
        assert response.status_code == 422, (body, response.text)
        problems = response.json()["problems"]
        assert any(p.startswith(problem) for p in problems), (body, problems)
    custom = _make(
        api,
        "admin",
        {"scope": park, "start": "2027-01-14T00:00:00Z", "end": "2027-01-14T06:00:00Z"},
    )
    assert custom.status_code == 201, custom.text
    assert custom.json()["period"]["kind"] == "custom"


def _schedule(park: int, **more: Any) -> dict[str, Any]:
    return {
        "name": "park-monthly",
        "scope": park,
        "period": "month",
        "formats": ["pdf", "xlsx"],
        "recipients": ["anquan@park.example.cn"],
    } | more


def test_admins_keep_schedules_and_viewers_read_their_own(api: Api) -> None:
    park, ea = _node_id(api, "p"), _node_id(api, "ea")
    created = api.post("admin", "/report-schedules", json=_schedule(park))
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["period"], body["zone"], body["enabled"]) == ("month", "Asia/Shanghai", True)
    assert body["since"] == "2027-01-15T08:00:00.000Z"
    assert body["next"] == {
        "label": "2027-01",
        "start": "2026-12-31T16:00:00.000Z",
        "due": "2027-01-31T16:00:00.000Z",
    }
    again = api.post("admin", "/report-schedules", json=_schedule(park))
    assert again.status_code == 409

    api.clock.advance(60_000)
    replaced = api.client.put(
        "/api/v1/report-schedules/park-monthly",
        json=_schedule(park, recipients=[], enabled=False),
        headers=api.as_user("admin"),
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["since"] == body["since"], "same period and zone: same periods"
    assert replaced.json()["enabled"] is False
    weekly = api.client.put(
        "/api/v1/report-schedules/park-monthly",
        json=_schedule(park, period="week"),
        headers=api.as_user("admin"),
    )
    assert weekly.json()["since"] == "2027-01-15T08:01:00.000Z"

    assert [s["name"] for s in api.get("admin", "/report-schedules").json()] == ["park-monthly"]
    assert api.get("viewer-a", "/report-schedules").json() == []
    assert api.get("viewer-a", "/report-schedules/park-monthly").status_code == 404
    own = api.post("admin", "/report-schedules", json=_schedule(ea, name="ea-daily", period="day"))
    assert own.status_code == 201
    assert [s["name"] for s in api.get("viewer-a", "/report-schedules").json()] == ["ea-daily"]
    assert api.post("op-a", "/report-schedules", json=_schedule(ea, name="x")).status_code == 403

    gone = api.client.delete("/api/v1/report-schedules/ea-daily", headers=api.as_user("admin"))
    assert gone.status_code == 204
    again_gone = api.client.delete(
        "/api/v1/report-schedules/ea-daily", headers=api.as_user("admin")
    )
    assert again_gone.status_code == 404


def test_a_bad_schedule_names_each_field(api: Api) -> None:
    park = _node_id(api, "p")
    response = api.post(
        "admin",
        "/report-schedules",
        json={
            "name": "Bad Name",
            "scope": park,
            "period": "year",
            "formats": ["pdf", "pdf"],
            "recipients": ["no-at-sign"],
            "zone": "Nowhere/Else",
        },
    )
    assert response.status_code == 422
    problems = response.json()["problems"]
    for field in ("name:", "period:", "formats[1]:", "recipients[0]:", "zone:"):
        assert any(p.startswith(field) for p in problems), (field, problems)
    missing = api.post("admin", "/report-schedules", json={"name": "x", "period": "day"})
    assert missing.status_code == 422
    assert any(p.startswith("scope:") for p in missing.json()["problems"])
    renamed = api.client.put(
        "/api/v1/report-schedules/a",
        json=_schedule(park, name="b"),
        headers=api.as_user("admin"),
    )
    assert renamed.status_code == 422
    assert renamed.json()["problems"] == ["name: 'b' differs from the name in the path 'a'"]
