"""Users, role bindings and API keys; hashes are stored as given."""

from __future__ import annotations

import hashlib

import pytest

from hazwatch.domain.role import Role
from hazwatch.domain.scope import Grant
from hazwatch.domain.tag import Tag
from hazwatch.storage.database import Database
from hazwatch.storage.errors import ConflictError, NotFoundError
from hazwatch.storage.plant_repository import PlantRepository
from hazwatch.storage.user_repository import RoleBinding, UserRepository

HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"


def _node_path(db: Database, *keys: str) -> tuple[int, str]:
    node = PlantRepository(db).node_by_keys(["jiangsu", *keys])
    assert node is not None
    return node.id, node.path


def test_a_user_comes_back_with_its_bindings(db: Database, stored_tags: dict[str, Tag]) -> None:
    repo = UserRepository(db)
    acid_id, acid_path = _node_path(db, "east", "acid")
    west_id, west_path = _node_path(db, "west")
    user_id = repo.add("li.wei", HASH, Role.OPERATOR, acid_id, now=1_700_000_000_000)
    repo.bind("li.wei", Role.VIEWER, west_id)

    user = repo.get("li.wei")

    assert user is not None
    assert (user.id, user.username, user.password_hash) == (user_id, "li.wei", HASH)
    assert (user.created_at, user.disabled) == (1_700_000_000_000, False)
    assert set(user.bindings) == {
        RoleBinding(role=Role.OPERATOR, scope_id=acid_id, scope_path=acid_path),
        RoleBinding(role=Role.VIEWER, scope_id=west_id, scope_path=west_path),
    }
    assert repo.get("nobody") is None


def test_binding_again_replaces_the_role_and_unbind_removes_it(
    db: Database, stored_tags: dict[str, Tag]
) -> None:
    repo = UserRepository(db)
    acid_id, _ = _node_path(db, "east", "acid")
    repo.add("wang", HASH, Role.VIEWER, acid_id)
    repo.bind("wang", Role.ADMIN, acid_id)
    user = repo.get("wang")
    assert user is not None
    assert [b.role for b in user.bindings] == [Role.ADMIN]
    assert repo.unbind("wang", acid_id)
    assert not repo.unbind("wang", acid_id)
    user = repo.get("wang")
    assert user is not None and user.bindings == ()


def test_password_and_disabled_flag_change(db: Database, stored_tags: dict[str, Tag]) -> None:
    repo = UserRepository(db)
    region_id, _ = _node_path(db)
    repo.add("admin", HASH, Role.ADMIN, region_id)
    repo.set_password("admin", "new-hash")
    repo.set_disabled("admin", True)
    user = repo.get("admin")
    assert user is not None
    assert (user.password_hash, user.disabled) == ("new-hash", True)
    with pytest.raises(NotFoundError) as missing:
        repo.set_password("ghost", "x")
    assert (missing.value.entity, missing.value.key) == ("user", "ghost")


def test_writes_that_collide_or_point_nowhere_are_refused(
    db: Database, stored_tags: dict[str, Tag]
) -> None:
    repo = UserRepository(db)
    region_id, _ = _node_path(db)
    repo.add("admin", HASH, Role.ADMIN, region_id)
    with pytest.raises(ConflictError) as taken:
        repo.add("admin", HASH, Role.VIEWER, region_id)
    assert taken.value.code == "storage.conflict"
    with pytest.raises(NotFoundError):
        repo.add("other", HASH, Role.VIEWER, 10_000)
    assert repo.get("other") is None
    with pytest.raises(NotFoundError):
        repo.bind("admin", Role.VIEWER, 10_000)
    with pytest.raises(NotFoundError):
        repo.bind("ghost", Role.VIEWER, region_id)


def test_api_keys_are_found_by_hash_scoped_and_revoked(
    db: Database, stored_tags: dict[str, Tag]
) -> None:
    repo = UserRepository(db)
    acid_id, acid_path = _node_path(db, "east", "acid")
    steel_id, steel_path = _node_path(db, "west", "steel")
    digest = hashlib.sha256(b"secret-device-key").hexdigest()
    key_id = repo.add_api_key("gateway-1", digest, acid_id, now=5_000)
    other = repo.add_api_key("gateway-2", hashlib.sha256(b"k2").hexdigest(), steel_id)

    key = repo.api_key(digest)
    assert key is not None
    assert (key.id, key.name, key.scope_id, key.scope_path) == (
        key_id,
        "gateway-1",
        acid_id,
        acid_path,
    )
    assert (key.created_at, key.revoked) == (5_000, False)
    assert repo.api_key(hashlib.sha256(b"wrong").hexdigest()) is None
    assert [k.id for k in repo.api_keys(Grant((steel_path,)))] == [other]
    assert [k.id for k in repo.api_keys(Grant.everything())] == [key_id, other]

    with pytest.raises(ConflictError):
        repo.add_api_key("copy", digest, acid_id)
    repo.revoke_api_key(key_id)
    revoked = repo.api_key(digest)
    assert revoked is not None and revoked.revoked
    with pytest.raises(NotFoundError):
        repo.revoke_api_key(10_000)
