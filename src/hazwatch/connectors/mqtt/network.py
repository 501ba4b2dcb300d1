"""The network thread of one paho client, through paho's API for external event loops.

``client.loop_start()`` would run ``loop_forever``, which goes once through ``select``,
the read of one packet and the keep-alive bookkeeping for every packet received: at tens
of thousands of small messages a second, that round is a good part of the cost. This
thread instead reads packets while they come (``loop_read`` until a read yields no
message), then writes what is queued (``loop_write``) and does the bookkeeping
(``loop_misc``) once per round.

Other threads queue packets (acknowledgements, DISCONNECT) through paho as usual; paho
tells this thread through ``on_socket_register_write``, which wakes it from ``select``.
The thread ends when the client's socket is closed — a lost connection (paho reports it
to ``on_disconnect``) or a DISCONNECT written — or when ``stop`` is called.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
from collections.abc import Callable

import paho.mqtt.client as paho

log = logging.getLogger(__name__)

SELECT_TIMEOUT_S = 1.0
"""The longest wait without a look at keep-alive."""
BURST = 10_000
"""Packets read in one round at most, so that writes and keep-alive are not starved."""


class NetworkThread:
    """Runs ``client``'s network I/O (see module docstring). ``received`` counts the
    messages handed over so far (a read that does not raise it ends a burst); ``on_error``
    hears of an exception in the thread, after which the socket is closed."""

    def __init__(
        self,
        client: paho.Client,
        *,
        received: Callable[[], int],
        on_error: Callable[[BaseException], None],
        name: str,
    ) -> None:
        self._client = client
        self._received = received
        self._on_error = on_error
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        client.on_socket_register_write = self._wake

    def start(self) -> None:
        self._thread.start()

    def stop(self, grace_s: float = 2.0) -> None:
        """Blocking: let the thread write what is queued (a DISCONNECT ends it), then end
        it if it has not ended, and release its resources."""
        if self._thread.is_alive():
            self._thread.join(grace_s)
        self._stop.set()
        self._wake()
        if self._thread.is_alive():
            self._thread.join(grace_s)
        self._client.on_socket_register_write = None
        self._wake_r.close()
        self._wake_w.close()

    def _wake(self, *_: object) -> None:
        with contextlib.suppress(OSError):  # full (a wake-up is pending) or closed
            self._wake_w.send(b"\0")

    def _run(self) -> None:
        try:
            self._serve()
        except Exception as exc:  # a library failure: the connection is unusable
            log.debug("network thread failed", exc_info=True)
            self._on_error(exc)
            with contextlib.suppress(Exception):
                sock = self._client.socket()
                if sock is not None:
                    sock.close()

    def _serve(self) -> None:
        client = self._client
        while not self._stop.is_set():
            sock = client.socket()
            if sock is None:
                return
            pending = getattr(sock, "pending", None)  # bytes decrypted and not yet read (TLS)
            timeout = 0.0 if pending is not None and pending() > 0 else SELECT_TIMEOUT_S
            writing = [sock] if client.want_write() else []
            readable, _, _ = select.select([sock, self._wake_r], writing, [], timeout)
            if self._wake_r in readable:
                with contextlib.suppress(BlockingIOError):
                    self._wake_r.recv(4096)
            if (sock in readable or timeout == 0.0) and not self._read_burst():
                return
            if client.want_write() and client.loop_write() != paho.MQTT_ERR_SUCCESS:
                return
            if client.loop_misc() != paho.MQTT_ERR_SUCCESS:
                return

    def _read_burst(self) -> bool:
        """Read packets while they yield messages; False once the connection is gone."""
        client = self._client
        for _ in range(BURST):
            before = self._received()
            if client.loop_read() != paho.MQTT_ERR_SUCCESS or client.socket() is None:
                return False
            if self._received() == before:
                return True
        return True
