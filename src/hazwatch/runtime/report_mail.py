"""Reports by e-mail: one mail per report to all its recipients, with its files attached,
sent through a configured e-mail channel (``/api/v1/channels``, kind ``email``).

The channel is the one the report names, or else the first enabled e-mail channel by name.
The mail's ``Message-ID`` is made from the report's id (``<report-12@hazwatch>``): delivery
is at least once — a restart between the server's acceptance and the record of it sends
the mail again, and the repeated id lets a mail system recognise it.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from hazwatch.evaluate.report import ReportFile
from hazwatch.render.html import when
from hazwatch.render.report_document import KIND_LABELS
from hazwatch.respond.notify.channel import ChannelError
from hazwatch.respond.notify.channel_config import ChannelEntry, ChannelKind, build_channel
from hazwatch.respond.notify.channels.email import (
    Attachment,
    EmailChannel,
    compose_with_attachments,
)
from hazwatch.respond.notify.channels.inapp import MemoryInbox
from hazwatch.storage.channel_repository import ChannelRepository
from hazwatch.storage.report_repository import StoredReport

CHANNEL = "email"
"""The name errors carry when no channel could be chosen."""


def subject_of(report: StoredReport) -> str:
    """``hazwatch 月报 / Monthly report · East Chemical Park · 2027-01``."""
    return (
        f"hazwatch {KIND_LABELS[report.period.kind]} · {report.scope.name} · {report.period.label}"
    )


def text_of(report: StoredReport, files: Sequence[ReportFile]) -> str:
    zone = report.period.zone
    names = ", ".join(f.filename for f in files) or "—"
    return (
        f"{KIND_LABELS[report.period.kind]}\n\n"
        f"范围 / Scope: {report.scope.name} ({report.scope.key})\n"
        f"期间 / Period: {when(report.period.start, zone, offset=False)} – "
        f"{when(report.period.end, zone, offset=False)} ({zone})\n"
        f"附件 / Attached: {names}\n\n"
        "此邮件由 hazwatch 自动发送。/ Sent by hazwatch.\n"
    )


class ReportMailer:
    def __init__(self, *, channels: ChannelRepository) -> None:
        self._channels = channels

    def channel_for(self, report: StoredReport) -> ChannelEntry:
        """The e-mail channel to send ``report`` through; ``ChannelError`` (retryable: an
        admin may set one up) when there is none."""
        if report.channel is not None:
            entry = self._channels.get(report.channel)
            if entry is None or entry.kind is not ChannelKind.EMAIL or not entry.enabled:
                raise ChannelError(
                    report.channel,
                    f"{report.channel!r} is not an enabled e-mail channel",
                    retryable=True,
                )
            return entry
        for entry in self._channels.list():
            if entry.kind is ChannelKind.EMAIL and entry.enabled:
                return entry
        raise ChannelError(CHANNEL, "no enabled e-mail channel is configured", retryable=True)

    async def send(self, report: StoredReport, files: Sequence[ReportFile]) -> None:
        """Mail ``report`` with ``files`` attached to its recipients; ``ChannelError`` when
        the server refuses or cannot be reached (``retryable`` says whether to try again)."""
        entry = self.channel_for(report)
        mail = compose_with_attachments(
            subject=subject_of(report),
            text=text_of(report, files),
            to=report.recipients,
            key=f"report-{report.id}",
            attachments=[
                Attachment(filename=f.filename, media_type=f.media_type, data=f.data) for f in files
            ],
        )
        # an e-mail entry builds an EmailChannel, which uses neither the HTTP client nor
        # the inbox
        async with httpx.AsyncClient() as client:
            channel = build_channel(entry, client=client, inbox=MemoryInbox())
            if not isinstance(channel, EmailChannel):  # pragma: no cover - checked above
                raise ChannelError(entry.name, "not an e-mail channel", retryable=False)
            await channel.send_mail(mail)
