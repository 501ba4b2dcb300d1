"""Playbooks through the API: upload (JSON or YAML), validation naming the field, versions."""

from __future__ import annotations

from typing import Any

import yaml

Api = Any

PLAYBOOK = """
name: chlorine-leak
version: 1
title: chlorine release
trigger: {event: alarm, conditions: [HH], min_priority: high}
steps:
  - {id: notify, kind: notify, to: [position:shift-operator@installation]}
  - {id: wait, kind: wait_ack, timeout_s: 120}
  - {id: close, kind: close}
"""


def _yaml(api: Api, text: str, user: str = "admin") -> Any:
    return api.client.post(
        "/api/v1/playbooks",
        content=text.encode(),
        headers={**api.as_user(user), "content-type": "application/yaml"},
    )


def test_a_yaml_playbook_is_stored_and_listed(api: Api) -> None:
    created = _yaml(api, PLAYBOOK)
    assert created.status_code == 201, created.text
    assert created.json()["created_by"] == "admin"
    assert _yaml(api, PLAYBOOK).status_code == 200, "the same version again changes nothing"
    listed = api.get("admin", "/playbooks").json()
    assert [(p["name"], p["version"]) for p in listed] == [("chlorine-leak", 1)]
    one = api.get("admin", "/playbooks/chlorine-leak").json()
    wait = {"id": "wait", "kind": "wait_ack", "timeout_s": 120.0, "next": {}}
    assert one["document"]["steps"][1] == wait
    assert one["versions"] == [1]


def test_a_json_upload_of_a_new_version_takes_over(api: Api) -> None:
    api.post("admin", "/playbooks", json=yaml.safe_load(PLAYBOOK))
    second = yaml.safe_load(PLAYBOOK) | {"version": 2, "title": "park warned"}
    assert api.post("admin", "/playbooks", json=second).status_code == 201
    assert api.get("admin", "/playbooks/chlorine-leak").json()["title"] == "park warned"
    old = api.get("admin", "/playbooks/chlorine-leak", params={"version": 1}).json()
    assert old["title"] == "chlorine release"
    changed = yaml.safe_load(PLAYBOOK) | {"title": "edited in place"}
    conflict = api.post("admin", "/playbooks", json=changed)
    assert conflict.status_code == 409 and "new version" in conflict.json()["detail"]


def test_an_invalid_playbook_is_refused_with_every_field_named(api: Api) -> None:
    bad = yaml.safe_load(PLAYBOOK)
    bad["steps"][1]["timeout_s"] = -1
    bad["steps"][0]["to"] = ["boss"]
    refused = api.post("admin", "/playbooks", json=bad)
    assert refused.status_code == 422
    problems = refused.json()["problems"]
    assert problems[0].startswith("steps[0] (notify).to: ")
    assert problems[1].startswith("steps[1] (wait).timeout_s: ")
    unreadable = _yaml(api, "name: [x")
    assert unreadable.status_code == 400 and "YAML" in unreadable.json()["detail"]
    assert api.get("admin", "/playbooks/nothing").status_code == 404


def test_only_admins_upload(api: Api) -> None:
    assert _yaml(api, PLAYBOOK, user="op-a").status_code == 403
