"""Linkage disposal end to end, as a plant runs it: the simulator's chlorine leak raises the
detector's level-2 (HH) alarm; the playbook tells the shift operator by signed webhook and
e-mail (a real SMTP server on loopback); nobody acknowledges within two simulated minutes,
so the park's emergency office is told; the plume from the weather mast's wind reaches the
LPG terminal next door, whose safety officer is warned; the incident's timeline holds it
all. The platform is killed (SIGKILL) while it waits and started again: every person is
told exactly once over each channel.
"""

from __future__ import annotations

import hashlib
import hmac
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from ports import free_port
from receivers import HttpServer, SmtpServer, http_receiver, smtp_receiver

from hazwatch.connectors.simulator.demo import demo_plant_text

pytestmark = pytest.mark.slow

SPEED = 15  # a simulated minute in 4 s: the HH comes ~21 s after start, the escalation 8 s later
SECRET = "e2e-webhook-secret"
PASSWORD = "e2e-password-1"
LEAK_TAG = "chlor.main.cl2-storage.gas-detection.at-102"
MAST = "chlor.main.weather.mast"
PLAYBOOK = f"""
name: chlorine-leak
version: 1
title: 液氯泄漏 chlorine release
trigger:
  {{event: alarm, conditions: [HH], min_priority: critical, tags: ["chlor.*.gas-detection.*"]}}
steps:
  - {{id: notify-shift, kind: notify, to: [position:shift-operator@installation],
     channels: [webhook, email]}}
  - {{id: incident, kind: open_incident, plan: chlorine-release}}
  - {{id: wait-shift, kind: wait_ack, timeout_s: 120, next: {{acknowledged: plume}}}}
  - {{id: notify-park, kind: notify, to: [position:emergency-office@park],
     channels: [webhook, email]}}
  - id: plume
    kind: park_linkage
    chemical: chlorine
    rate_g_s: 200
    wind_speed_tag: {MAST}.wind-speed
    wind_direction_tag: {MAST}.wind-direction
    stability: D
    warn: [position:safety-officer@enterprise]
  - {{id: resources, kind: suggest_resources, kinds: [fire-brigade, rescue-team], count: 1}}
  - {{id: close, kind: close}}
"""
PEOPLE = {
    "li.na": ("shift-operator", "chlor.main.cl2-storage"),
    "zhao.min": ("emergency-office", "demo-park"),
    "wang.qiang": ("safety-officer", "lpg"),
}


class Platform:
    """``hazwatch serve`` in a subprocess, restartable on the same settings."""

    def __init__(self, folder: Path, port: int, config: Path) -> None:
        self.folder, self.url, self.config = folder, f"http://127.0.0.1:{port}", config
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self._token = ""

    def start(self) -> None:
        self.starts += 1
        with (self.folder / f"serve-{self.starts}.log").open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "hazwatch", "serve", "--config", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _until(self._ready, 60, "the platform did not become ready", self.logs)
        self._token = httpx.post(
            f"{self.url}/api/v1/auth/token", data={"username": "admin", "password": PASSWORD}
        ).json()["access_token"]

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def api(
        self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = (headers or {}) | {"Authorization": f"Bearer {self._token}"}
        return httpx.request(
            method, f"{self.url}/api/v1{path}", headers=headers, timeout=30, **kwargs
        )

    def logs(self) -> str:
        return "\n".join(p.read_text()[-3000:] for p in sorted(self.folder.glob("serve-*.log")))

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"the platform exited:\n{self.logs()}")
        try:
            return httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False


def _until(check: Callable[[], bool], timeout: float, what: str, logs: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout} s\n{logs()}")
        time.sleep(0.2)


@pytest.fixture
def plant(tmp_path: Path) -> Iterator[tuple[Platform, HttpServer, SmtpServer]]:
    (tmp_path / "plant.yaml").write_text(demo_plant_text(), encoding="utf-8")
    port = free_port()
    settings = {
        "data_dir": str(tmp_path / "data"),
        "port": port,
        "plant_file": str(tmp_path / "plant.yaml"),
        "simulator": {
            "enabled": True,
            "speed": SPEED,
            "incidents": "chlorine-leak@60",
            "epoch_ms": time.time_ns() // 1_000_000,
        },
    }
    config = tmp_path / "hazwatch.yaml"
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    for command in (
        ["plant", "import", str(tmp_path / "plant.yaml")],
        ["user", "add", "admin", "--role", "admin", "--password", PASSWORD],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "hazwatch", *command, "--config", str(config)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    platform = Platform(tmp_path, port, config)
    with http_receiver() as hooks, smtp_receiver() as mail:
        try:
            yield platform, hooks, mail
        finally:
            platform.stop()


def _configure(platform: Platform, hooks: HttpServer, mail: SmtpServer) -> None:
    for name, body in (
        ("webhook", {"kind": "webhook", "config": {"url": f"{hooks.url}/in", "secret": SECRET}}),
        (
            "email",
            {
                "kind": "email",
                "config": {
                    "host": "127.0.0.1",
                    "port": mail.port,
                    "tls": "none",
                    "sender": "hazwatch@park.example",
                },
            },
        ),
    ):
        put = platform.api("PUT", f"/channels/{name}", json=body)
        assert put.status_code == 201, put.text
    for user, (position, scope) in PEOPLE.items():
        contact = {
            "posts": [{"position": position, "scope": scope}],
            "channels": ["email"],
            "addresses": {"email": f"{user}@park.example"},
        }
        put = platform.api("PUT", f"/contacts/{user}", json=contact)
        assert put.status_code == 200, put.text
    posted = platform.api(
        "POST", "/playbooks", content=PLAYBOOK, headers={"Content-Type": "application/yaml"}
    )
    assert posted.status_code == 201, posted.text


def _hooks_for(hooks: HttpServer, user: str) -> list[dict[str, Any]]:
    return [r.json() for r in hooks.received if r.json()["recipient"] == user]


def _mails_to(mail: SmtpServer, user: str) -> list[Any]:
    return [m for m in mail.mails if m["To"] == f"{user}@park.example"]


def test_a_chlorine_leak_is_handled_end_to_end_across_a_restart(
    plant: tuple[Platform, HttpServer, SmtpServer],
) -> None:
    platform, hooks, mail = plant
    platform.start()
    _configure(platform, hooks, mail)

    told = lambda: bool(_hooks_for(hooks, "li.na")) and bool(_mails_to(mail, "li.na"))  # noqa: E731
    _until(told, 90, "the shift operator was not told by webhook and e-mail", platform.logs)
    platform.kill()  # in the middle: the run waits for an acknowledgement nobody gives
    assert not _hooks_for(hooks, "zhao.min"), "killed before the escalation"
    platform.start()

    def warned() -> bool:
        return all(_mails_to(mail, u) for u in PEOPLE) and bool(_hooks_for(hooks, "zhao.min"))

    _until(warned, 90, "the park and the neighbour were not warned", platform.logs)
    time.sleep(3)  # anything sent twice would arrive now

    # every person told exactly once per channel, the webhook signed
    assert Counter(m["To"] for m in mail.mails) == {f"{u}@park.example": 1 for u in PEOPLE}
    assert Counter(r.json()["recipient"] for r in hooks.received) == {"li.na": 1, "zhao.min": 1}
    for request in hooks.received:
        digest = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
        assert request.headers["x-hazwatch-signature"] == f"sha256={digest}"
    [shift] = _hooks_for(hooks, "li.na")
    assert shift["notices"][0]["level"] == "critical"
    assert LEAK_TAG in shift["notices"][0]["scope"]
    [neighbour] = _mails_to(mail, "wang.qiang")
    body = neighbour.get_content() if not neighbour.is_multipart() else str(neighbour)
    assert "LPG terminal offices" in body

    # the incident holds all of it
    [incident] = platform.api("GET", "/incidents").json()
    assert incident["plan"] == "chlorine-release"
    timeline = platform.api("GET", f"/incidents/{incident['key']}").json()["timeline"]
    text = "\n".join(e["text"] for e in timeline)
    for expected in (
        "HH",  # the alarm that started it
        "notify notify-shift: done — told li.na (",
        "li.na (webhook)",
        "li.na (email)",
        "wait_ack wait-shift: timed_out",
        "notify notify-park: done — told zhao.min",
        "LPG terminal offices",
        "told wang.qiang",
        "suggest_resources resources: done — fire-brigade: Park fire station",
    ):
        assert expected in text, f"{expected!r} missing from the timeline:\n{text}"
    keys = [e["key"] for e in timeline]
    assert len(keys) == len(set(keys))
