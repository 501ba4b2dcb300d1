"""Fixtures shared by the whole suite.

Storage-backed tests take ``database_url``, which is parametrised over the embedded SQLite
backend and PostgreSQL, so the same test runs on both. PostgreSQL tests get a private schema
each (parallel-safe). Where PostgreSQL is not reachable they skip with a reason, unless
``HAZWATCH_REQUIRE_SERVICES=1`` (set by ``.ci/run``), where they fail.
"""

from __future__ import annotations

import getpass
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest
from ports import free_port
from pydantic import Field

if TYPE_CHECKING:
    from hazwatch.storage.database import Database

PG_URL = os.environ.get("HAZWATCH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_SERVICES = os.environ.get("HAZWATCH_REQUIRE_SERVICES") == "1"


def service_reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def need_service(name: str, host: str, port: int) -> None:
    """Skip (or, in CI, fail) the calling test when a service is not listening."""
    if service_reachable(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (HAZWATCH_REQUIRE_SERVICES=1)")
    pytest.skip(message)


BENCHMARK_DATA = Path(
    os.environ.get(
        "HAZWATCH_BENCHMARK_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"
    )
)


@pytest.fixture(scope="session")
def benchmark_data() -> Path:
    """The public benchmark data (TEP, NAB, SKAB), read in place, never copied.

    ``HAZWATCH_BENCHMARK_DATA`` names the folder (default: ``shared/data`` beside the
    checkout). Tests that need it skip with a reason where it is absent, and fail in CI.
    """
    if BENCHMARK_DATA.is_dir():
        return BENCHMARK_DATA
    message = f"benchmark data not found at {BENCHMARK_DATA} (set HAZWATCH_BENCHMARK_DATA)"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (HAZWATCH_REQUIRE_SERVICES=1)")
    pytest.skip(message)


def _pg_plain_url() -> str:
    return PG_URL.replace("+psycopg", "")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hazwatch.db'}"
        return
    need_service("PostgreSQL", "127.0.0.1", 5432)
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(_pg_plain_url(), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    with psycopg.connect(_pg_plain_url(), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A ``Database`` on ``database_url``, migrated to the newest revision, closed afterwards."""
    from hazwatch.storage.database import Database

    database = Database.open(database_url)
    database.upgrade()
    yield database
    database.close()


MOSQUITTO = "/usr/sbin/mosquitto"


class Broker:
    """A private Mosquitto on a free loopback port, which a test may stop and start again.

    ``extra`` lines go into its configuration (for example the dynamic-security plugin).
    The port stays the same across restarts, so clients can reconnect to it.
    """

    def __init__(self, workdir: Path, extra: str = "") -> None:
        self.port = free_port()
        self.host = "127.0.0.1"
        self.workdir = workdir
        self.config = workdir / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            f"persistence true\npersistence_location {workdir}/\n"
            "max_queued_messages 1000000\nmax_inflight_messages 0\n"
            f"log_dest file {workdir}/mosquitto.log\n"
            # as root, Mosquitto would drop to its own user and lose access to workdir
            f"user {getpass.getuser()}\n" + (extra or "allow_anonymous true\n")
        )
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        import time

        self._process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not service_reachable(self.host, self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                log = self.workdir / "mosquitto.log"
                tail = log.read_text()[-2000:] if log.exists() else ""
                raise RuntimeError(f"mosquitto did not start on port {self.port}: {tail}")
            time.sleep(0.02)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None


def need_mosquitto() -> None:
    """Skip (or, in CI, fail) when the Mosquitto binary is not installed."""
    if Path(MOSQUITTO).exists():
        return
    message = f"Mosquitto is not installed ({MOSQUITTO})"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (HAZWATCH_REQUIRE_SERVICES=1)")
    pytest.skip(message)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A running private Mosquitto (anonymous access), stopped after the test."""
    need_mosquitto()
    b = Broker(_mkdir(tmp_path / "broker"))
    b.start()
    yield b
    b.stop()


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def fake_family(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A connector family ``kind: fake`` whose connectors the test drives by hand.

    ``config: {kind: fake, name, devices: [equipment keys], values: {key: value}}``. Each
    built connector is appended to ``fake_family.CONNECTOR.built``; ``await c.send({key:
    value}, ts)`` emits a batch, ``c.fail(exc)`` ends the session with ``exc`` (the base
    class reconnects).
    """
    import asyncio
    import types
    from typing import ClassVar, Literal

    from pydantic import BaseModel, ConfigDict

    from hazwatch.connectors import registry
    from hazwatch.connectors.base import Backoff, ConnectorBase, Health, Link
    from hazwatch.domain.batch import Batch

    class FakeConfig(BaseModel):
        model_config = ConfigDict(extra="forbid")
        kind: Literal["fake"]
        name: str
        devices: list[str] = []
        port: int = Field(default=1, ge=1, le=65535)
        values: dict[str, float] = {}  # emitted once when a session starts

    class FakeConnector(ConnectorBase):
        built: ClassVar[list[FakeConnector]] = []

        def __init__(self, config: FakeConfig, link: Link) -> None:
            super().__init__(config.name, link, backoff=Backoff(initial=0.01, cap=0.05))
            self.config = config
            self.inbox: asyncio.Queue[object] = asyncio.Queue()
            self.sessions = 0
            FakeConnector.built.append(self)

        async def session(self) -> None:
            self.sessions += 1
            self.online()
            for device in self.config.devices:
                self.link.device(device, Health.ONLINE, "")
            if self.config.values:
                await self.send(self.config.values, self.link.now())
            while True:
                item = await self.inbox.get()
                if isinstance(item, BaseException):
                    raise item
                assert isinstance(item, Batch)
                await self.emit(item)

        async def send(self, values: dict[str, float], ts: int) -> None:
            ids = [self.link.resolve(k) for k in values]
            assert None not in ids, f"unknown keys in {values}"
            batch = Batch.of(tag=ids, ts=[ts] * len(ids), value=list(values.values()), received=ts)
            await self.inbox.put(batch)

        def fail(self, exc: BaseException) -> None:
            self.inbox.put_nowait(exc)

    module = types.ModuleType("hazwatch_fake_family")
    module.CONFIG = FakeConfig  # type: ignore[attr-defined]
    module.CONNECTOR = FakeConnector  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(registry.FAMILIES, "fake", module.__name__)
    return module
