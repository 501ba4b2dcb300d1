"""E-mail over SMTP (the standard library's ``smtplib``, run in a worker thread).

Subject: the message title; body: the markdown text as ``text/plain; charset=utf-8``;
``Message-ID: <first 32 hex digits of the idempotency key@hazwatch>`` (short enough not to
be folded), so that a mail system can spot a duplicate. SMTP replies 4xx (try later) and
connection failures are retryable; 5xx (refused) are not.

``compose_with_attachments`` builds a mail with files attached (a report's PDF and XLSX),
and ``EmailChannel.send_mail`` submits such a composed mail through the channel's server,
with the same settings and the same error mapping.
"""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from enum import StrEnum

from hazwatch.respond.notify.channel import ChannelError
from hazwatch.respond.notify.message import Message, Recipient


class Tls(StrEnum):
    STARTTLS = "starttls"
    IMPLICIT = "ssl"
    """TLS from the first byte, usually port 465."""
    NONE = "none"


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpSettings:
    """How to reach the mail server; ``timeout`` in seconds."""

    host: str
    port: int = 25
    sender: str = "hazwatch@localhost"
    username: str = ""
    password: str = ""
    tls: Tls = Tls.STARTTLS
    timeout: float = 10.0


def compose(message: Message, address: str, sender: str, key: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = address
    mail["Subject"] = message.title
    mail["Message-ID"] = f"<{key[:32]}@hazwatch>"
    mail.set_content(message.text)
    return mail


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    """A file to attach: its name, its media type (``application/pdf``) and its bytes."""

    filename: str
    media_type: str
    data: bytes


def compose_with_attachments(
    *,
    subject: str,
    text: str,
    to: Sequence[str],
    key: str,
    attachments: Sequence[Attachment],
    sender: str | None = None,
) -> EmailMessage:
    """A mail to every address of ``to``: ``text`` as the plain-text body and each
    attachment as a part of its media type. ``Message-ID`` is made from ``key`` as in
    ``compose``; ``From`` is ``sender``, or left to ``EmailChannel.send_mail``."""
    mail = EmailMessage()
    if sender is not None:
        mail["From"] = sender
    mail["To"] = ", ".join(to)
    mail["Subject"] = subject
    mail["Message-ID"] = f"<{key[:32]}@hazwatch>"
    mail.set_content(text)
    for attachment in attachments:
        maintype, _, subtype = attachment.media_type.partition(";")[0].strip().partition("/")
        mail.add_attachment(
            attachment.data,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    return mail


class EmailChannel:
    """Mails the recipient's ``email`` address."""

    def __init__(self, *, settings: SmtpSettings, name: str = "email") -> None:
        self.name, self._settings = name, settings

    async def send(self, message: Message, recipient: Recipient, *, key: str) -> None:
        address = recipient.address(self.name)
        if not address:
            raise ChannelError(
                self.name, f"no e-mail address for {recipient.user}", retryable=False
            )
        mail = compose(message, address, self._settings.sender, key)
        await asyncio.to_thread(self._submit, mail)

    async def send_mail(self, mail: EmailMessage) -> None:
        """Submit a composed mail to its own ``To`` addresses; ``From`` is the channel's
        sender unless the mail has one. Raises ``ChannelError`` as ``send`` does."""
        if "From" not in mail:
            mail["From"] = self._settings.sender
        if not mail.get("To"):
            raise ChannelError(self.name, "the mail has no recipient", retryable=False)
        await asyncio.to_thread(self._submit, mail)

    def _submit(self, mail: EmailMessage) -> None:
        s = self._settings
        try:
            smtp: smtplib.SMTP
            if s.tls is Tls.IMPLICIT:
                smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout)
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            with smtp:
                if s.tls is Tls.STARTTLS:
                    smtp.starttls()
                if s.username:
                    smtp.login(s.username, s.password)
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            retryable = all(400 <= code < 500 for code in codes)
            raise ChannelError(
                self.name, f"recipients refused: {exc.recipients}", retryable=retryable
            ) from exc
        except smtplib.SMTPResponseException as exc:
            retryable = 400 <= exc.smtp_code < 500
            detail = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
            raise ChannelError(self.name, detail, retryable=retryable) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise ChannelError(self.name, f"not supported: {exc}", retryable=False) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise ChannelError(self.name, f"{type(exc).__name__}: {exc}", retryable=True) from exc
