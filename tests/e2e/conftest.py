"""A real ``hazwatch demo`` process for end-to-end tests.

The demo runs as a user would start it, on a free loopback port with its own data folder,
simulated time running ``HAZWATCH_E2E_SPEED`` times faster (default 120) so the scripted
incidents happen within seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from ports import free_port

SPEED = os.environ.get("HAZWATCH_E2E_SPEED", "120")
PASSWORD = "demo-password-1"


@dataclass
class DemoServer:
    url: str
    username: str
    password: str
    process: subprocess.Popen[bytes]
    log: Path
    _token: str | None = field(default=None, repr=False)

    def token(self) -> str:
        if self._token is None:
            response = httpx.post(
                f"{self.url}/api/v1/auth/token",
                data={"username": self.username, "password": self.password},
            )
            response.raise_for_status()
            self._token = response.json()["access_token"]
        return self._token

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token()}"}
        return httpx.request(
            method, f"{self.url}/api/v1{path}", headers=headers, timeout=30, **kwargs
        )

    def wait_for_alarm(
        self,
        condition: str,
        timeout: float,
        state: str | None = "unacknowledged",
        tag_key: str | None = None,
    ) -> dict[str, Any]:
        """The first alarm of ``condition`` (of ``tag_key``, if given) in ``state`` (any
        state: ``None``), waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        params = {"include_normal": "true"}
        while time.monotonic() < deadline:
            for alarm in self.api("GET", "/alarms", params=params).json():
                if (
                    alarm["condition"] == condition
                    and state in (None, alarm["state"])
                    and tag_key in (None, alarm["tag_key"])
                ):
                    return dict(alarm)
            if self.process.poll() is not None:
                raise AssertionError(f"the demo exited:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.5)
        raise AssertionError(f"no {state} {condition} alarm within {timeout} s")


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    port = free_port()
    data = tmp_path_factory.mktemp("demo")
    log = data / "demo.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hazwatch",
                "demo",
                "--port",
                str(port),
                "--data-dir",
                str(data / "data"),
                "--speed",
                SPEED,
                "--admin-password",
                PASSWORD,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    server = DemoServer(url=url, username="admin", password=PASSWORD, process=process, log=log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the demo did not become ready:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
