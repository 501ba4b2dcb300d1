"""Early warnings through the API: scoped lists and filters, acknowledge and close (消警)
with their refusals, journals, 404 outside the caller's scope, and the live stream."""

from __future__ import annotations

import asyncio
from typing import Any

from hazwatch.domain.scope import Grant
from hazwatch.domain.warning import Colour, Explanation, Observation, WarningKey
from hazwatch.runtime.hub import Event, Hub, Subscription
from hazwatch.runtime.platform import Platform
from hazwatch.runtime.warnings import WarningEvent

Api = Any
T0 = 1_800_000_000_000  # the API fixture's clock starts here

EA = "ea.s.i"
EB = "eb.s.i"


def _platform(api: Api) -> Platform:
    platform: Platform = api.client.app.state.platform
    return platform


def _observe(
    api: Api, key: WarningKey, at: int, colour: Colour = Colour.YELLOW
) -> WarningEvent | None:
    """What a detector will do: hand the book an observation on the engine's thread."""
    platform = _platform(api)
    observation = Observation(
        key=key,
        at=at,
        colour=colour,
        explanation=Explanation.of("SPE 2.4× its limit", ["level", "temperature"], [0.7, 0.2]),
    )
    done: WarningEvent | None = platform.engine.call(
        lambda _: platform.warning_book.observe(observation, now=platform.clock.now())
    ).result(timeout=10)
    return done


def _subside(api: Api, key: WarningKey, at: int) -> None:
    platform = _platform(api)
    platform.engine.call(
        lambda _: platform.warning_book.subside(key, at=at, now=platform.clock.now())
    ).result(timeout=10)


def _raise(api: Api, key: WarningKey, colour: Colour = Colour.YELLOW) -> str:
    event = _observe(api, key, T0 - 60_000, colour)
    assert event is not None
    return event.stored.warning.id


def test_lists_show_open_warnings_in_the_callers_scope_with_filters(api: Api) -> None:
    pca_a = _raise(api, WarningKey(detector="pca-t2", installation=EA), Colour.YELLOW)
    ttl_a = _raise(
        api, WarningKey(detector="ttl", installation=EA, subject=f"{EA}.tank.level"), Colour.RED
    )
    pca_b = _raise(api, WarningKey(detector="pca-t2", installation=EB), Colour.ORANGE)

    mine = api.get("viewer-a", "/warnings").json()
    assert [w["id"] for w in mine] == [ttl_a, pca_a]
    assert mine[0]["colour"] == "red" and mine[0]["level"] == 1
    assert mine[0]["subject"] == f"{EA}.tank.level"
    assert mine[1]["explanation"]["contributions"][0] == {"variable": "level", "share": 0.7}
    assert mine[1]["state"] == "raised" and mine[1]["active"] is True
    assert [w["id"] for w in api.get("op-b", "/warnings").json()] == [pca_b]
    assert [w["id"] for w in api.get("admin", "/warnings").json()] == [ttl_a, pca_b, pca_a]

    admin = api.as_user("admin")  # one sign-in for the many calls below

    def ids(**params: Any) -> list[str]:
        response = api.client.get("/api/v1/warnings", headers=admin, params=params)
        assert response.status_code == 200, response.text
        return [w["id"] for w in response.json()]

    assert ids(colour=["yellow", "orange"]) == [pca_b, pca_a]
    assert ids(detector="ttl") == [ttl_a]
    assert ids(installation=EB) == [pca_b]
    assert ids(state="acknowledged") == []
    ea_node = next(n for n in api.get("admin", "/scope").json() if n["key"] == "ea")
    assert ids(scope_id=ea_node["id"]) == [ttl_a, pca_a]
    assert ids(limit=1) == [ttl_a]
    assert api.get("admin", "/warnings", params={"colour": "purple"}).status_code == 422


def test_an_operator_acknowledges_and_closes_a_warning_and_the_journal_says_who(
    api: Api,
) -> None:
    key = WarningKey(detector="pca-t2", installation=EA)
    wid = _raise(api, key)

    acked = api.post("op-a", f"/warnings/{wid}/acknowledge", json={"comment": "checking feed"})
    assert acked.status_code == 200, acked.text
    assert acked.json()["state"] == "acknowledged"
    assert acked.json()["acknowledged_by"] == "op-a"

    _subside(api, key, T0 - 30_000)
    closed = api.post(
        "op-a",
        f"/warnings/{wid}/close",
        json={"cause": "feed valve stuck, freed", "feedback": "true_positive", "comment": "WO-7"},
    )
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert body["state"] == "closed"
    assert (body["closed_by"], body["close_cause"], body["feedback"]) == (
        "op-a",
        "feed valve stuck, freed",
        "true_positive",
    )

    assert api.get("viewer-a", "/warnings").json() == []
    closed_list = api.get("viewer-a", "/warnings", params={"include_closed": True}).json()
    assert [w["id"] for w in closed_list] == [wid]
    journal = api.get("viewer-a", f"/warnings/{wid}/journal").json()
    assert [(t["input"], t["to_state"], t["actor"]) for t in journal] == [
        ("close", "closed", "op-a"),
        ("subside", "acknowledged", "system"),
        ("acknowledge", "acknowledged", "op-a"),
        ("raise", "raised", "system"),
    ]
    assert journal[0]["feedback"] == "true_positive"
    assert journal[0]["comment"] == "WO-7"
    assert journal[2]["comment"] == "checking feed"
    assert journal[3]["from_state"] is None
    everything = api.get("viewer-a", "/warnings/journal").json()
    assert sorted(t["seq"] for t in everything if t["warning_id"] == wid) == [1, 2, 3, 4]
    assert [t["at"] for t in everything] == sorted((t["at"] for t in everything), reverse=True)
    assert api.get("viewer-a", f"/warnings/{wid}").json()["seq"] == 4


def test_refusals_say_why(api: Api) -> None:
    key = WarningKey(detector="pca-t2", installation=EA)
    wid = _raise(api, key)
    close_body = {"cause": "nothing found", "feedback": "false_positive"}
    operator = api.as_user("op-a")  # one sign-in for the many calls below

    def close(body: dict[str, str]) -> Any:
        return api.client.post(f"/api/v1/warnings/{wid}/close", headers=operator, json=body)

    def acknowledge() -> Any:
        return api.client.post(f"/api/v1/warnings/{wid}/acknowledge", headers=operator, json={})

    unacked = close(close_body)
    assert unacked.status_code == 409
    assert "acknowledge the warning before closing it" in unacked.json()["detail"]
    assert "not_allowed" in unacked.json()["detail"]

    assert acknowledge().status_code == 200
    twice = acknowledge()
    assert twice.status_code == 409
    assert "acknowledged already" in twice.json()["detail"]

    active = close(close_body)
    assert active.status_code == 409
    assert "still sees the condition" in active.json()["detail"]
    assert "still_active" in active.json()["detail"]

    _subside(api, key, T0 - 30_000)
    blank = close({**close_body, "cause": "   "})
    assert blank.status_code == 422
    assert "needs a cause" in blank.json()["detail"]
    no_feedback = close({"cause": "x"})
    assert no_feedback.status_code == 422
    wrong_feedback = close({"cause": "x", "feedback": "maybe"})
    assert wrong_feedback.status_code == 422

    assert (
        api.client.get(f"/api/v1/warnings/{wid}", headers=operator).json()["state"]
        == "acknowledged"
    )
    assert close(close_body).status_code == 200
    again = close(close_body)
    assert again.status_code == 409
    assert "closed already" in again.json()["detail"]


def test_a_warning_outside_the_callers_scope_is_not_found(api: Api) -> None:
    wid = _raise(api, WarningKey(detector="pca-t2", installation=EA))

    assert api.get("op-b", f"/warnings/{wid}").status_code == 404
    assert api.get("op-b", f"/warnings/{wid}/journal").status_code == 404
    hidden = api.post("op-b", f"/warnings/{wid}/acknowledge")
    assert hidden.status_code == 404
    assert wid in hidden.json()["detail"]
    assert (
        api.post(
            "op-b", f"/warnings/{wid}/close", json={"cause": "x", "feedback": "expected"}
        ).status_code
        == 404
    )
    assert api.get("op-b", "/warnings/journal").json() == []
    assert api.get("op-a", "/warnings/0123456789abcdef").status_code == 404

    viewer = api.post("viewer-a", f"/warnings/{wid}/acknowledge")
    assert viewer.status_code == 403
    assert api.get("op-a", f"/warnings/{wid}").json()["state"] == "raised"
    assert api.client.get("/api/v1/warnings").status_code == 401


def test_openapi_names_the_warning_operations(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    ops = {
        (path, method): op["operationId"]
        for path, item in spec["paths"].items()
        for method, op in item.items()
    }
    assert {
        ("/api/v1/warnings", "get"): "list_warnings",
        ("/api/v1/warnings/journal", "get"): "warning_journal",
        ("/api/v1/warnings/{warning_id}", "get"): "get_warning",
        ("/api/v1/warnings/{warning_id}/journal", "get"): "get_warning_journal",
        ("/api/v1/warnings/{warning_id}/acknowledge", "post"): "acknowledge_warning",
        ("/api/v1/warnings/{warning_id}/close", "post"): "close_warning",
    }.items() <= ops.items()


async def _next(sub: Subscription) -> Event:
    return await asyncio.wait_for(sub.queue.get(), 5)


def test_warning_transitions_reach_the_live_stream_of_those_who_may_see_them(api: Api) -> None:
    hub: Hub = api.client.app.state.hub
    portal = api.client.portal
    ea_path = next(n["path"] for n in api.get("admin", "/scope").json() if n["key"] == "ea")
    eb_path = next(n["path"] for n in api.get("admin", "/scope").json() if n["key"] == "eb")
    in_a: Subscription = portal.call(hub.subscribe, Grant((ea_path,)))
    in_b: Subscription = portal.call(hub.subscribe, Grant((eb_path,)))
    following_tags: Subscription = portal.call(hub.subscribe, Grant((ea_path,)), frozenset({1}))

    wid = _raise(api, WarningKey(detector="pca-t2", installation=EA))
    api.post("op-a", f"/warnings/{wid}/acknowledge")

    raised, acked = portal.call(_next, in_a), portal.call(_next, in_a)
    assert (raised.kind, raised.data["id"], raised.data["state"]) == ("warning", wid, "raised")
    assert (acked.kind, acked.data["state"], acked.data["acknowledged_by"]) == (
        "warning",
        "acknowledged",
        "op-a",
    )
    assert portal.call(_next, following_tags).data["id"] == wid
    assert in_b.queue.qsize() == 0
