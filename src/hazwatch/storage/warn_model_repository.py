"""Trained process monitors of installations, versioned: 1, 2, … per installation.

A model is saved once and never changed: training again saves the next version, and the
runtime monitors each installation with its newest version (``latest_versions`` is the cheap
query it polls to notice a new one). The fitted state is stored as the ``.npz`` archive of
``hazwatch.warn.model.encode`` — arrays and JSON parameters, never a pickle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from hazwatch.domain.clock import Millis
from hazwatch.domain.keys import INSTALLATION_KEY
from hazwatch.domain.warning import WarningKey
from hazwatch.storage.database import Database
from hazwatch.storage.schema import warn_models
from hazwatch.storage.warning_repository import WarningRepository
from hazwatch.warn.model import ModelState, decode, encode

# A concurrent save may take the same next version; the unique key refuses one, which retries.
_ATTEMPTS = 3


class UnknownInstallationError(LookupError):
    """No installation of the plant has the key ``installation``."""

    def __init__(self, installation: str) -> None:
        super().__init__(f"no installation {installation!r}")
        self.installation = installation


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelVersion:
    """What is known of a stored model without loading it.

    ``variables``: tag keys in the model's column order; ``trained_from``/``trained_to``:
    the normal-operation range it learnt from (epoch ms, ``[from, to)``); ``samples``: rows
    of its training matrix; ``period_ms``: the sample period.
    """

    installation: str
    version: int
    method: str
    period_ms: Millis
    variables: tuple[str, ...]
    trained_from: Millis
    trained_to: Millis
    samples: int
    created_at: Millis


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredModel:
    """A stored model version and its fitted state."""

    version: ModelVersion
    state: ModelState


class WarnModelRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def save(
        self,
        *,
        installation: str,
        method: str,
        period_ms: Millis,
        variables: Sequence[str],
        trained_from: Millis,
        trained_to: Millis,
        samples: int,
        created_at: Millis,
        state: ModelState,
    ) -> ModelVersion:
        """Store the next version of ``installation``'s model; ``UnknownInstallationError``
        when the plant has no such installation."""
        if not INSTALLATION_KEY.fullmatch(installation):
            raise UnknownInstallationError(installation)
        # The node a warning of the installation as a whole would be placed on.
        placement = WarningRepository(self._db).place(
            WarningKey(detector=method or "model", installation=installation)
        )
        if placement is None:
            raise UnknownInstallationError(installation)
        blob = encode(state)
        for attempt in range(_ATTEMPTS):
            try:
                with self._db.engine.begin() as conn:
                    newest = conn.execute(
                        select(func.max(warn_models.c.version)).where(
                            warn_models.c.installation == installation
                        )
                    ).scalar()
                    version = ModelVersion(
                        installation=installation,
                        version=(newest or 0) + 1,
                        method=method,
                        period_ms=period_ms,
                        variables=tuple(variables),
                        trained_from=trained_from,
                        trained_to=trained_to,
                        samples=samples,
                        created_at=created_at,
                    )
                    conn.execute(
                        warn_models.insert().values(
                            scope_id=placement.scope_id, model=blob, **_row(version)
                        )
                    )
                return version
            except IntegrityError:
                if attempt == _ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def versions(self, installation: str) -> list[ModelVersion]:
        """Every stored version of ``installation``'s model, oldest first."""
        query = (
            select(*_META)
            .where(warn_models.c.installation == installation)
            .order_by(warn_models.c.version)
        )
        with self._db.engine.connect() as conn:
            return [_version(row) for row in conn.execute(query)]

    def latest_versions(self) -> dict[str, int]:
        """The newest version number of every installation that has a model."""
        query = select(warn_models.c.installation, func.max(warn_models.c.version)).group_by(
            warn_models.c.installation
        )
        with self._db.engine.connect() as conn:
            return {row[0]: int(row[1]) for row in conn.execute(query)}

    def load(self, installation: str, version: int | None = None) -> StoredModel | None:
        """Version ``version`` (default: the newest) of ``installation``'s model, or None.

        Raises ``hazwatch.warn.model.ModelError`` when the stored blob cannot be read.
        """
        query = select(*_META, warn_models.c.model).where(
            warn_models.c.installation == installation
        )
        if version is None:
            query = query.order_by(warn_models.c.version.desc()).limit(1)
        else:
            query = query.where(warn_models.c.version == version)
        with self._db.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return StoredModel(version=_version(row), state=decode(bytes(row.model)))


_META = (
    warn_models.c.installation,
    warn_models.c.version,
    warn_models.c.method,
    warn_models.c.period_ms,
    warn_models.c.variables,
    warn_models.c.trained_from,
    warn_models.c.trained_to,
    warn_models.c.samples,
    warn_models.c.created_at,
)


def _row(v: ModelVersion) -> dict[str, object]:
    return {
        "installation": v.installation,
        "version": v.version,
        "method": v.method,
        "period_ms": v.period_ms,
        "variables": orjson.dumps(list(v.variables)).decode(),
        "trained_from": v.trained_from,
        "trained_to": v.trained_to,
        "samples": v.samples,
        "created_at": v.created_at,
    }


def _version(row: Any) -> ModelVersion:
    return ModelVersion(
        installation=row.installation,
        version=row.version,
        method=row.method,
        period_ms=row.period_ms,
        variables=tuple(orjson.loads(row.variables)),
        trained_from=row.trained_from,
        trained_to=row.trained_to,
        samples=row.samples,
        created_at=row.created_at,
    )
