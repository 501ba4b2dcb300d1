"""Emergency plans on both backends: versions kept, built-ins available until overridden."""

from __future__ import annotations

from typing import Any

import pytest

from hazwatch.respond.plan import Plan, builtin_plans, parse_plan
from hazwatch.storage.database import Database
from hazwatch.storage.plan_repository import PlanRepository, PlanVersionError

T0 = 1_800_000_000_000


def _plan(**changes: Any) -> Plan:
    doc: dict[str, Any] = {
        "name": "chlorine-release",
        "version": 5,
        "title": "site chlorine plan",
        "severity": "orange",
        "tasks": [{"key": "isolate", "title": "isolate", "assignee": "user:li", "due_min": 3}],
    }
    return parse_plan(doc | changes, source="test")


@pytest.fixture
def repo(db: Database) -> PlanRepository:
    return PlanRepository(db)


def test_builtin_plans_are_in_force_before_any_upload(repo: PlanRepository) -> None:
    shipped = builtin_plans()
    in_force = repo.in_force()
    assert [s.plan.name for s in in_force] == sorted(shipped)
    assert all(s.builtin and s.created_by == "hazwatch" for s in in_force)
    found = repo.get("chlorine-release")
    assert found is not None and found.plan == shipped["chlorine-release"]
    assert repo.get("chlorine-release", shipped["chlorine-release"].version) is not None
    assert repo.get("chlorine-release", 99) is None
    assert repo.get("nothing") is None


def test_an_upload_overrides_the_builtin_of_its_name(repo: PlanRepository) -> None:
    builtin_version = builtin_plans()["chlorine-release"].version
    repo.save(_plan(), actor="admin", now=T0)
    found = repo.get("chlorine-release")
    assert found is not None and not found.builtin
    assert (found.plan.title, found.created_by, found.created_at) == (
        "site chlorine plan",
        "admin",
        T0,
    )
    by_name = {s.plan.name: s for s in repo.in_force()}
    assert by_name["chlorine-release"].plan.version == 5
    assert by_name["ammonia-release"].builtin
    assert repo.versions("chlorine-release") == sorted({builtin_version, 5})
    assert repo.versions("chlorine-release", builtin=False) == [5]
    # the built-in version stays readable by its number
    old = repo.get("chlorine-release", builtin_version)
    assert old is not None and old.builtin


def test_a_version_is_saved_once(repo: PlanRepository) -> None:
    repo.save(_plan(), actor="admin", now=T0)
    again = repo.save(_plan(), actor="someone", now=T0 + 1)
    assert again.created_by == "admin", "a replayed upload changes nothing"
    with pytest.raises(PlanVersionError, match="new version"):
        repo.save(_plan(title="edited in place"), actor="admin", now=T0 + 2)
    repo.save(_plan(version=6, title="newer"), actor="admin", now=T0 + 3)
    newest = repo.get("chlorine-release")
    assert newest is not None and newest.plan.version == 6
    older = repo.get("chlorine-release", 5)
    assert older is not None and older.plan == _plan()
