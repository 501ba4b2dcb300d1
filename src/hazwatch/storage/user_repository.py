"""Users, the roles they hold on scope nodes, and device API keys.

Secrets arrive already hashed (passwords by the auth module's argon2, API keys as SHA-256
hex): this module stores and looks up what it is given and never sees a secret. Each role
binding and key is returned with the path of its scope node, ready to become a ``Grant``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Connection, exists, insert, select, update
from sqlalchemy.exc import IntegrityError

from hazwatch.domain.clock import Millis
from hazwatch.domain.role import Role
from hazwatch.domain.scope import Grant
from hazwatch.storage.database import Database
from hazwatch.storage.errors import ConflictError, NotFoundError
from hazwatch.storage.schema import api_keys, role_bindings, scope_nodes, users
from hazwatch.storage.upsert import upsert
from hazwatch.storage.visibility import visible


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleBinding:
    """``role`` held on node ``scope_id``, and so on its subtree (paths below ``scope_path``)."""

    role: Role
    scope_id: int
    scope_path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class UserRecord:
    id: int
    username: str
    password_hash: str
    created_at: Millis
    disabled: bool
    bindings: tuple[RoleBinding, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKeyRecord:
    """A device key that may send readings for tags below ``scope_path``."""

    id: int
    name: str
    scope_id: int
    scope_path: str
    created_at: Millis
    revoked: bool


class UserRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(
        self,
        username: str,
        password_hash: str,
        role: Role,
        scope_id: int,
        *,
        now: Millis | None = None,
    ) -> int:
        """Create a user holding ``role`` on ``scope_id``; returns the user's id.

        ``now`` (epoch ms) is the creation time, the wall clock when omitted. Raises
        ``ConflictError`` when ``username`` is taken, ``NotFoundError`` for an unknown node.
        """
        with self._db.engine.begin() as conn:
            _require_node(conn, scope_id)
            if conn.execute(select(exists().where(users.c.username == username))).scalar():
                raise ConflictError("user", username, "the user name is taken")
            try:
                user_id: int = conn.execute(
                    insert(users).returning(users.c.id),
                    {
                        "username": username,
                        "password_hash": password_hash,
                        "created_at": _now(now),
                        "disabled": False,
                    },
                ).scalar_one()
            except IntegrityError as exc:
                raise ConflictError("user", username, "the user name is taken") from exc
            conn.execute(
                insert(role_bindings),
                {"user_id": user_id, "role": role.value, "scope_id": scope_id},
            )
            return user_id

    def get(self, username: str) -> UserRecord | None:
        """The user ``username`` with every role binding, or ``None``."""
        with self._db.engine.connect() as conn:
            user = conn.execute(select(users).where(users.c.username == username)).first()
            if user is None:
                return None
            bindings = conn.execute(
                select(role_bindings.c.role, role_bindings.c.scope_id, scope_nodes.c.path)
                .join(scope_nodes, scope_nodes.c.id == role_bindings.c.scope_id)
                .where(role_bindings.c.user_id == user.id)
                .order_by(scope_nodes.c.path)
            ).all()
        return UserRecord(
            id=user.id,
            username=user.username,
            password_hash=user.password_hash,
            created_at=user.created_at,
            disabled=bool(user.disabled),
            bindings=tuple(
                RoleBinding(role=Role(role), scope_id=scope_id, scope_path=path)
                for role, scope_id, path in bindings
            ),
        )

    def set_password(self, username: str, password_hash: str) -> None:
        """Replace the stored password hash; ``NotFoundError`` for an unknown user."""
        self._update_user(username, password_hash=password_hash)

    def set_disabled(self, username: str, disabled: bool) -> None:
        """Disable (or re-enable) a user; ``NotFoundError`` for an unknown user."""
        self._update_user(username, disabled=disabled)

    def bind(self, username: str, role: Role, scope_id: int) -> None:
        """Give ``username`` ``role`` on ``scope_id`` (replacing its role there, if any)."""
        statement = upsert(self._db.dialect, role_bindings)
        statement = statement.on_conflict_do_update(
            index_elements=["user_id", "scope_id"], set_={"role": statement.excluded.role}
        )
        with self._db.engine.begin() as conn:
            _require_node(conn, scope_id)
            user_id = _user_id(conn, username)
            conn.execute(statement, {"user_id": user_id, "role": role.value, "scope_id": scope_id})

    def unbind(self, username: str, scope_id: int) -> bool:
        """Remove the role ``username`` holds on ``scope_id``; False when there was none."""
        with self._db.engine.begin() as conn:
            user_id = _user_id(conn, username)
            result = conn.execute(
                role_bindings.delete().where(
                    role_bindings.c.user_id == user_id, role_bindings.c.scope_id == scope_id
                )
            )
            return result.rowcount > 0

    def add_api_key(
        self, name: str, key_hash: str, scope_id: int, *, now: Millis | None = None
    ) -> int:
        """Store a device key by its hash; returns its id.

        Raises ``ConflictError`` for a hash stored already, ``NotFoundError`` for an unknown node.
        """
        with self._db.engine.begin() as conn:
            _require_node(conn, scope_id)
            if conn.execute(select(exists().where(api_keys.c.key_hash == key_hash))).scalar():
                raise ConflictError("api key", name, "the key is stored already")
            key_id: int = conn.execute(
                insert(api_keys).returning(api_keys.c.id),
                {
                    "name": name,
                    "key_hash": key_hash,
                    "scope_id": scope_id,
                    "created_at": _now(now),
                    "revoked": False,
                },
            ).scalar_one()
            return key_id

    def api_key(self, key_hash: str) -> ApiKeyRecord | None:
        """The key stored under ``key_hash`` (revoked ones too: check ``revoked``), or ``None``."""
        with self._db.engine.connect() as conn:
            row = conn.execute(_KEYS.where(api_keys.c.key_hash == key_hash)).first()
        return None if row is None else _key(row)

    def api_keys(self, grant: Grant) -> list[ApiKeyRecord]:
        """The keys bound to nodes ``grant`` may see, ordered by id."""
        query = _KEYS.where(visible(scope_nodes.c.path, grant)).order_by(api_keys.c.id)
        with self._db.engine.connect() as conn:
            return [_key(row) for row in conn.execute(query)]

    def revoke_api_key(self, key_id: int) -> None:
        """Mark a key revoked (kept for the audit trail); ``NotFoundError`` for an unknown id."""
        with self._db.engine.begin() as conn:
            result = conn.execute(
                update(api_keys).where(api_keys.c.id == key_id).values(revoked=True)
            )
            if result.rowcount == 0:
                raise NotFoundError("api key", key_id)

    def _update_user(self, username: str, **values: object) -> None:
        with self._db.engine.begin() as conn:
            result = conn.execute(
                update(users).where(users.c.username == username).values(**values)
            )
            if result.rowcount == 0:
                raise NotFoundError("user", username)


_KEYS = select(
    api_keys.c.id,
    api_keys.c.name,
    api_keys.c.scope_id,
    scope_nodes.c.path,
    api_keys.c.created_at,
    api_keys.c.revoked,
).join(scope_nodes, scope_nodes.c.id == api_keys.c.scope_id)


def _key(row: tuple[int, str, int, str, Millis, bool]) -> ApiKeyRecord:
    key_id, name, scope_id, path, created_at, revoked = row
    return ApiKeyRecord(
        id=key_id,
        name=name,
        scope_id=scope_id,
        scope_path=path,
        created_at=created_at,
        revoked=bool(revoked),
    )


def _require_node(conn: Connection, scope_id: int) -> None:
    if not conn.execute(select(exists().where(scope_nodes.c.id == scope_id))).scalar():
        raise NotFoundError("scope node", scope_id)


def _user_id(conn: Connection, username: str) -> int:
    user_id = conn.execute(select(users.c.id).where(users.c.username == username)).scalar()
    if user_id is None:
        raise NotFoundError("user", username)
    return int(user_id)


def _now(now: Millis | None) -> Millis:
    # Creation times are records of when, not inputs to logic: the wall clock is right here.
    return now if now is not None else time.time_ns() // 1_000_000
