"""Incidents and emergency plans through the API: opening (by hand, from a plan, by the
runtime), scoped reads, status and checklist changes recorded with who made them, reports."""

from __future__ import annotations

from typing import Any

import yaml

from hazwatch.respond.incident import (
    EntryKind,
    Source,
    SourceKind,
    TimelineEntry,
    incident_key,
    open_from_plan,
)
from hazwatch.respond.plan import builtin_plans
from hazwatch.storage.database import Database
from hazwatch.storage.incident_repository import IncidentRepository
from hazwatch.storage.plant_repository import PlantRepository

Api = Any

T0 = 1_800_000_000_000
PLAN = """
name: chlorine-release
version: 7
title: 厂区液氯泄漏 / site chlorine plan
severity: orange
chemicals: [chlorine]
tasks:
  - {key: isolate, title: isolate the leak, assignee: position:shift-operator@installation,
     due_min: 5}
  - {key: inform-park, title: inform the park, assignee: user:zhang.wei, due_min: 15}
"""


def _node(api: Api, *keys: str) -> int:
    with Database.open(api.db_url) as db:
        node = PlantRepository(db).node_by_keys(["r", "p", *keys])
    assert node is not None
    return node.id


def _open(api: Api, user: str = "op-a", **body: Any) -> Any:
    payload = {"scope_id": _node(api, "ea", "s", "i"), "plan": "chlorine-release"} | body
    return api.post(user, "/incidents", json=payload)


def _patch(api: Api, user: str, path: str, body: dict[str, Any]) -> Any:
    return api.client.patch(f"/api/v1{path}", headers=api.as_user(user), json=body)


def test_an_incident_opened_from_a_builtin_plan_has_its_checklist(api: Api) -> None:
    opened = _open(api, title="1号液氯罐泄漏 / tank 1 leaks")
    assert opened.status_code == 201, opened.text
    body = opened.json()
    plan = builtin_plans()["chlorine-release"]
    assert body["title"] == "1号液氯罐泄漏 / tank 1 leaks"
    assert (body["status"], body["severity"], body["level"]) == ("open", "red", 1)
    assert (body["scope"], body["plan"], body["plan_version"]) == ("ea.s.i", plan.name, 1)
    assert [t["key"] for t in body["tasks"]] == [t.key for t in plan.tasks]
    # the first chlorine task is due 5 min after opening at T0: 2027-01-15 08:05:00 UTC
    assert body["tasks"][0]["due_at"] == "2027-01-15T08:05:00.000Z"
    assert [(e["kind"], e["actor"]) for e in body["timeline"]] == [("status", "op-a")]
    assert body["source"] == {"kind": "manual", "ref": "", "run": ""}
    again = _open(api, title="1号液氯罐泄漏 / tank 1 leaks")
    assert again.status_code == 200, "the same caller, instant and title: the same incident"
    assert again.json()["key"] == body["key"]
    assert len(api.get("op-a", "/incidents").json()) == 1


def test_a_manual_incident_needs_a_title_and_severity_without_a_plan(api: Api) -> None:
    scope = _node(api, "ea")
    refused = api.post("op-a", "/incidents", json={"scope_id": scope, "severity": "blue"})
    assert refused.status_code == 422 and "give a title or a plan" in refused.text
    unknown = _open(api, plan="no-such-plan")
    assert unknown.status_code == 422 and "plan: no emergency plan" in unknown.text
    made = api.post(
        "op-a",
        "/incidents",
        json={
            "scope_id": scope,
            "title": "smell of gas at gate 3",
            "severity": "yellow",
            "source": {"kind": "alarm", "ref": "7.HH"},
            "note": "patrol reported it",
            "key": "gate-3",
        },
    )
    assert made.status_code == 201, made.text
    assert made.json()["key"] == "gate-3" and made.json()["tasks"] == []
    assert [e["kind"] for e in made.json()["timeline"]] == ["status", "note"]
    assert made.json()["source"]["ref"] == "7.HH"


def test_reads_and_writes_follow_the_callers_scope(api: Api) -> None:
    key = _open(api).json()["key"]
    assert api.get("op-b", f"/incidents/{key}").status_code == 404
    assert api.get("op-b", "/incidents").json() == []
    assert api.get("viewer-a", f"/incidents/{key}").status_code == 200
    assert api.get("admin", "/incidents").json()[0]["key"] == key
    refused = api.post("viewer-a", f"/incidents/{key}/notes", json={"text": "hello"})
    assert refused.status_code == 403
    assert api.post("op-b", f"/incidents/{key}/notes", json={"text": "x"}).status_code == 404
    # another enterprise's node is not there for op-b to open an incident on
    assert _open(api, user="op-b").status_code == 422
    assert _open(api, user="viewer-a").status_code == 403


def test_the_checklist_and_status_change_with_who_did_it(api: Api) -> None:
    key = _open(api, plan="ammonia-release").json()["key"]
    tasks = [t.key for t in builtin_plans()["ammonia-release"].tasks]
    closing = api.post("op-a", f"/incidents/{key}/status", json={"status": "closed"})
    assert closing.status_code == 409 and "(tasks_open)" in closing.json()["detail"]
    responding = api.post(
        "op-a", f"/incidents/{key}/status", json={"status": "responding", "note": "on site"}
    )
    assert responding.status_code == 200 and responding.json()["status"] == "responding"
    api.clock.advance(60_000)
    done = _patch(api, "op-a", f"/incidents/{key}/tasks/{tasks[0]}", {"done": True})
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["done_by"]) == ("done", "op-a")
    assert done.json()["done_at"] == "2027-01-15T08:01:00.000Z"
    skip = _patch(api, "admin", f"/incidents/{key}/tasks/{tasks[1]}", {"status": "skipped"})
    assert skip.status_code == 422 and "needs a note" in skip.json()["detail"]
    bad = _patch(api, "op-a", f"/incidents/{key}/tasks/{tasks[1]}", {"assignee": "boss"})
    assert bad.status_code == 422 and "assignee" in bad.text
    both = _patch(
        api, "op-a", f"/incidents/{key}/tasks/{tasks[1]}", {"done": True, "status": "open"}
    )
    assert both.status_code == 422
    assert _patch(api, "op-a", f"/incidents/{key}/tasks/nothing", {"done": True}).status_code == 404
    added = api.post(
        "op-a",
        f"/incidents/{key}/tasks",
        json={"title": "call 119", "assignee": "user:wang", "due_in_min": 2},
    )
    assert added.status_code == 201, added.text
    assert added.json()["key"] == f"task-{len(tasks) + 1}"
    assert added.json()["due_at"] == "2027-01-15T08:03:00.000Z"  # T0 + 60 s + 2 min
    taken = api.post(
        "op-a",
        f"/incidents/{key}/tasks",
        json={"title": "again", "assignee": "user:wang", "key": tasks[0]},
    )
    assert taken.status_code == 409 and "(task_exists)" in taken.json()["detail"]
    for task in [*tasks[1:], added.json()["key"]]:
        changed = _patch(
            api, "admin", f"/incidents/{key}/tasks/{task}", {"status": "skipped", "note": "drill"}
        )
        assert changed.status_code == 200, changed.text
    note = api.post("op-a", f"/incidents/{key}/notes", json={"text": "water curtain on"})
    assert note.status_code == 201 and note.json()["actor"] == "op-a"
    closed = api.post("op-a", f"/incidents/{key}/status", json={"status": "closed"})
    assert closed.status_code == 200, closed.text
    assert (closed.json()["closed_by"], closed.json()["summary"]["skipped"]) == (
        "op-a",
        len(tasks),
    )
    reopened = api.post("op-a", f"/incidents/{key}/status", json={"status": "responding"})
    assert reopened.status_code == 409
    assert "from closed to responding" in reopened.json()["detail"]
    late = _patch(api, "op-a", f"/incidents/{key}/tasks/{tasks[0]}", {"done": False})
    assert late.status_code == 409 and "(closed)" in late.json()["detail"]
    timeline = api.get("viewer-a", f"/incidents/{key}").json()["timeline"]
    actors = {e["actor"] for e in timeline}
    assert actors == {"op-a", "admin"}
    assert [e["kind"] for e in timeline].count("status") == 3  # opened, responding, closed
    assert api.get("op-a", "/incidents").json() == [], "closed ones are left out by default"
    listed = api.get("op-a", "/incidents", params={"status": "closed"}).json()
    assert [i["key"] for i in listed] == [key]


def test_listing_filters_by_scope_and_time(api: Api) -> None:
    first = _open(api, title="first").json()["key"]
    api.clock.advance(120_000)
    second = _open(api, title="second", scope_id=_node(api, "ea")).json()["key"]
    keys = [i["key"] for i in api.get("admin", "/incidents").json()]
    assert keys == [second, first], "newest opened first"
    since = api.get("admin", "/incidents", params={"since": "2027-01-15T08:01:00Z"}).json()
    assert [i["key"] for i in since] == [second]
    by_ms = api.get("admin", "/incidents", params={"since": str(T0 + 1)}).json()
    assert [i["key"] for i in by_ms] == [second]
    below = api.get("admin", "/incidents", params={"scope_id": _node(api, "ea", "s")}).json()
    assert [i["key"] for i in below] == [first]
    bad = api.get("admin", "/incidents", params={"since": "yesterday"})
    assert bad.status_code == 422 and "since" in bad.json()["detail"]


def test_an_incident_the_runtime_opens_shows_its_messages(api: Api) -> None:
    """The respond stage's path: open from a plan by run and step, record its messages."""
    run = "0123456789abcdef"
    key = incident_key(run, "incident")
    with Database.open(api.db_url) as db:
        repo = IncidentRepository(db)
        scope = repo.scope_of(_node(api, "ea", "s", "i"))
        assert scope is not None
        opening = open_from_plan(
            builtin_plans()["lpg-fire"],
            key=key,
            scope=scope,
            source=Source(kind=SourceKind.ALARM, ref="1.HH", run=run),
            now=T0,
            actor="system",
        )
        assert repo.open(opening) and not repo.open(opening)
        told = TimelineEntry(
            key=f"{run}:notify:{T0}:zhang.wei",
            at=T0 + 1_000,
            kind=EntryKind.MESSAGE,
            actor="system",
            text="told zhang.wei (inapp)",
            data={"user": "zhang.wei"},
        )
        assert repo.record(key, [told]) == 1 and repo.record(key, [told]) == 0
    body = api.get("op-a", f"/incidents/{key}").json()
    assert body["source"] == {"kind": "alarm", "ref": "1.HH", "run": run}
    assert [e["kind"] for e in body["timeline"]] == ["status", "message"]
    assert body["timeline"][1]["data"] == {"user": "zhang.wei"}


def test_the_report_as_html_and_pdf(api: Api) -> None:
    key = _open(api, title="报告测试 / report test").json()["key"]
    api.post("op-a", f"/incidents/{key}/notes", json={"text": "碱液吸收塔已启动"})
    html = api.get("viewer-a", f"/incidents/{key}/report.html")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert html.text.count('<tr class="entry ') == 2
    assert "碱液吸收塔已启动" in html.text
    assert "2027-01-15 16:00:00+08:00" in html.text, "Shanghai time by default"
    utc = api.get("viewer-a", f"/incidents/{key}/report.html", params={"zone": "UTC"})
    assert "2027-01-15 08:00:00+00:00" in utc.text
    bad_zone = api.get("viewer-a", f"/incidents/{key}/report.html", params={"zone": "Nowhere"})
    assert bad_zone.status_code == 422 and "zone" in bad_zone.json()["detail"]
    pdf = api.get("viewer-a", f"/incidents/{key}/report.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert api.get("op-b", f"/incidents/{key}/report.pdf").status_code == 404


def _yaml(api: Api, text: str, user: str = "admin") -> Any:
    return api.client.post(
        "/api/v1/plans",
        content=text.encode(),
        headers={**api.as_user(user), "content-type": "application/yaml"},
    )


def test_plans_builtin_until_an_upload_overrides(api: Api) -> None:
    listed = api.get("viewer-a", "/plans").json()
    assert {p["name"] for p in listed} == set(builtin_plans())
    assert all(p["builtin"] for p in listed)
    created = _yaml(api, PLAN)
    assert created.status_code == 201, created.text
    assert _yaml(api, PLAN).status_code == 200, "the same version again changes nothing"
    changed = yaml.safe_load(PLAN) | {"title": "edited in place"}
    conflict = api.post("admin", "/plans", json=changed)
    assert conflict.status_code == 409 and "new version" in conflict.json()["detail"]
    one = api.get("op-a", "/plans/chlorine-release").json()
    assert (one["version"], one["builtin"], one["created_by"]) == (7, False, "admin")
    assert one["versions"] == [1, 7]
    shipped = api.get("op-a", "/plans/chlorine-release", params={"version": 1}).json()
    assert shipped["builtin"] is True
    assert api.get("op-a", "/plans/chlorine-release", params={"version": 3}).status_code == 404
    # a new incident from the plan takes the uploaded checklist
    body = _open(api).json()
    assert [t["key"] for t in body["tasks"]] == ["isolate", "inform-park"]
    assert (body["severity"], body["plan_version"]) == ("orange", 7)


def test_an_invalid_plan_is_refused_with_every_field_named(api: Api) -> None:
    bad = yaml.safe_load(PLAN)
    bad["tasks"][1]["assignee"] = "boss"
    bad["tasks"][0]["due_min"] = -5
    refused = api.post("admin", "/plans", json=bad)
    assert refused.status_code == 422
    problems = refused.json()["problems"]
    assert problems[0].startswith("tasks[0] (isolate).due_min: ")
    assert problems[1].startswith("tasks[1] (inform-park).assignee: 'boss' is not")
    assert _yaml(api, "name: [x").status_code == 400
    assert _yaml(api, PLAN, user="op-a").status_code == 403
    assert api.get("admin", "/plans/nothing").status_code == 404
