"""The warn stage of the pipeline: detectors of early warning feed the warning book.

Two detectors run on every batch of stored readings (``Pipeline.process``):

* the time-to-limit watch (``warn.watch``) raises, refreshes and lets subside the warnings
  of tags heading for a limit, keyed ``ttl:<installation>:<tag key>``;
* the installation monitors (``warn.monitoring``) sample the latest values of each
  installation that has a trained model and key their warnings ``<method>:<installation>``.

``tick`` runs the book's escalation rules and, with a ``ModelLoader``, installs newer trained
models as they are saved. The stage belongs to the engine's worker thread, as the book does.
"""

from __future__ import annotations

from collections.abc import Mapping

from hazwatch.domain.batch import Batch, Stamps, Values
from hazwatch.domain.clock import Millis
from hazwatch.domain.tag import Tag
from hazwatch.domain.tagtable import TagTable
from hazwatch.domain.warning import Explanation, Observation, WarningKey
from hazwatch.runtime.models import ModelLoader
from hazwatch.runtime.warnings import WarningBook
from hazwatch.warn import monitoring, watch
from hazwatch.warn.monitoring import InstallationMonitors
from hazwatch.warn.watch import TimeToLimitWatch


class WarnStage:
    """See the module docstring."""

    def __init__(
        self,
        book: WarningBook,
        *,
        models: ModelLoader | None = None,
        trend: TimeToLimitWatch | None = None,
        monitors: InstallationMonitors | None = None,
    ) -> None:
        self.book = book
        self.models = models
        self.trend = trend or TimeToLimitWatch()
        self.monitors = monitors or InstallationMonitors()

    def start(self, tags_by_key: Mapping[str, Tag], now: Millis) -> None:
        """Pick up where a previous run left: open trend warnings, the newest models."""
        self.trend.restore(
            [
                tags_by_key[s.warning.key.subject].id
                for s in self.book.open()
                if s.warning.key.detector == watch.NAME and s.warning.key.subject in tags_by_key
            ]
        )
        self._reload_models(tags_by_key, now)

    def retable(self, tags_by_key: Mapping[str, Tag], now: Millis) -> None:
        """The plant's tags changed: models map their variables to tags again."""
        if self.models is not None:
            self.models.forget()
            self._reload_models(tags_by_key, now)

    def process(
        self,
        stored: Batch,
        latest_ts: Stamps,
        latest_value: Values,
        *,
        table: TagTable,
        tags: Mapping[int, Tag],
        now: Millis,
    ) -> None:
        """Judge a batch of stored readings; ``latest_*`` already include it."""
        self._trend(self.trend.observe(stored, table, now), tags, now)
        if len(stored) and len(self.monitors):
            newest = int(stored.ts.max())
            self._monitor(self.monitors.observe(latest_ts, latest_value, newest), now)

    def tick(self, tags_by_key: Mapping[str, Tag], now: Millis) -> None:
        self.book.tick(now)
        if self.models is not None and self.models.due(now):
            self._reload_models(tags_by_key, now)

    def _reload_models(self, tags_by_key: Mapping[str, Tag], now: Millis) -> None:
        """Install trained models newer than those in use (``ModelLoader``)."""
        if self.models is None:
            return
        installed = self.models.refresh(self.monitors, tags_by_key, now)
        if not installed:
            return
        # An open warning of a (re)loaded model's key must subside once operation is clean.
        keys = {_monitor_key(m.installation, m.method) for m in installed}
        self.monitors.restore(
            [s.warning.key.installation for s in self.book.open() if s.warning.key in keys]
        )

    def _trend(self, verdicts: watch.Verdicts, tags: Mapping[int, Tag], now: Millis) -> None:
        for warned in verdicts.warned:
            tag = tags.get(warned.tag)
            if tag is None:
                continue
            minutes = max(0.0, (warned.crossing_at - warned.at) / 60_000)
            self.book.observe(
                Observation(
                    key=_trend_key(tag),
                    at=warned.at,
                    colour=warned.colour,
                    explanation=Explanation(
                        text=f"{tag.key} is heading for its {warned.limit} limit: "
                        f"crossing in about {minutes:.0f} min ({warned.reason})"
                    ),
                ),
                now=now,
            )
        for tag_id, at in verdicts.subsided:
            tag = tags.get(tag_id)
            if tag is not None:
                self.book.subside(
                    _trend_key(tag), at=at, now=now, cause="no limit crossing forecast"
                )

    def _monitor(self, verdicts: monitoring.Verdicts, now: Millis) -> None:
        for flagged in verdicts.flagged:
            self.book.observe(
                Observation(
                    key=_monitor_key(flagged.installation, flagged.method),
                    at=flagged.at,
                    colour=flagged.colour,
                    explanation=flagged.explanation,
                ),
                now=now,
            )
        for installation, method, at in verdicts.subsided:
            self.book.subside(
                _monitor_key(installation, method),
                at=at,
                now=now,
                cause="operation back within the trained model",
            )


def _trend_key(tag: Tag) -> WarningKey:
    installation = ".".join(tag.key.split(".")[:3])
    return WarningKey(detector=watch.NAME, installation=installation, subject=tag.key)


def _monitor_key(installation: str, method: str) -> WarningKey:
    return WarningKey(detector=method, installation=installation)
