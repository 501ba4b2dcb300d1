"""Trained installation models, kept current in the running pipeline without a restart.

``ModelLoader`` asks the repository which model version of each installation is the newest
(one small query) at most every ``check_every_ms``, and installs each newer version into the
pipeline's ``InstallationMonitors`` — which resets that installation's stream, so a new
model never scores history it did not produce. A model naming a tag the plant no longer
holds, or whose stored state cannot be read, is skipped with a logged error and not tried
again until a newer version is saved.

Owned by the engine's worker thread, like the pipeline it feeds.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from hazwatch.domain.clock import Millis
from hazwatch.domain.tag import Tag
from hazwatch.storage.warn_model_repository import WarnModelRepository
from hazwatch.warn.model import ModelError, from_state
from hazwatch.warn.monitoring import InstallationModel, InstallationMonitors

log = logging.getLogger(__name__)


class ModelLoader:
    """See the module docstring."""

    def __init__(self, repository: WarnModelRepository, *, check_every_ms: Millis = 30_000) -> None:
        if check_every_ms <= 0:
            raise ValueError("the check interval must be positive")
        self._repository = repository
        self.check_every_ms = check_every_ms
        self._checked_at: Millis | None = None
        self._seen: dict[str, int] = {}

    def due(self, now: Millis) -> bool:
        return self._checked_at is None or now - self._checked_at >= self.check_every_ms

    def forget(self) -> None:
        """Load every installation's newest model again at the next refresh (new tags)."""
        self._seen.clear()
        self._checked_at = None

    def refresh(
        self, monitors: InstallationMonitors, tags_by_key: Mapping[str, Tag], now: Millis
    ) -> list[InstallationModel]:
        """Install every model version newer than the one seen; the models installed."""
        self._checked_at = now
        installed: list[InstallationModel] = []
        for installation, version in sorted(self._repository.latest_versions().items()):
            if self._seen.get(installation, 0) >= version:
                continue
            self._seen[installation] = version
            model = self._load(installation, version, tags_by_key)
            if model is not None:
                monitors.install(model)
                installed.append(model)
                log.info("monitoring %s with %s model v%d", installation, model.method, version)
        return installed

    def _load(
        self, installation: str, version: int, tags_by_key: Mapping[str, Tag]
    ) -> InstallationModel | None:
        try:
            stored = self._repository.load(installation, version)
            if stored is None:
                return None
            monitor = from_state(stored.state)
        except ModelError:
            log.exception("model v%d of %s cannot be read", version, installation)
            return None
        meta = stored.version
        missing = [key for key in meta.variables if key not in tags_by_key]
        if missing:
            log.error(
                "model v%d of %s names tags the plant does not hold: %s",
                version,
                installation,
                ", ".join(missing),
            )
            return None
        return InstallationModel(
            installation=installation,
            method=meta.method,
            version=version,
            period_ms=meta.period_ms,
            variables=meta.variables,
            tag_ids=tuple(tags_by_key[key].id for key in meta.variables),
            monitor=monitor,
        )
