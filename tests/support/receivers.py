"""Loopback receivers for notification tests: an HTTP server that records requests and
answers from a script, and an SMTP server (aiosmtpd) that captures mail and can refuse."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ports import free_port


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpServer:
    """Answers each request with the next scripted (status, body), then with ``default``."""

    url: str
    received: list[Received] = field(default_factory=list)
    script: list[tuple[int, str]] = field(default_factory=list)
    default: tuple[int, str] = (200, '{"errcode": 0, "errmsg": "ok"}')


@contextmanager
def http_receiver() -> Iterator[HttpServer]:
    port = free_port()
    state = HttpServer(url=f"http://127.0.0.1:{port}")

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            state.received.append(
                Received(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
            )
            status, reply = state.script.pop(0) if state.script else state.default
            raw = reply.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:
            self._answer()

        def do_PUT(self) -> None:
            self._answer()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class SmtpServer:
    port: int
    mails: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    reply: str = "250 Message accepted for delivery"


@contextmanager
def smtp_receiver() -> Iterator[SmtpServer]:
    from aiosmtpd.controller import Controller

    state = SmtpServer(port=free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
            if state.reply.startswith("250"):
                mail = message_from_bytes(envelope.original_content, policy=policy.default)
                assert isinstance(mail, EmailMessage)
                state.mails.append(mail)
                state.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            return state.reply

    controller = Controller(Handler(), hostname="127.0.0.1", port=state.port)
    controller.start()
    try:
        yield state
    finally:
        controller.stop()
