"""A Sparkplug B edge node against the whole platform: its birth makes tags, its data is
stored and evaluated, its death raises a device-offline alarm."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hazwatch.api.app import create_app
from hazwatch.auth.password import hash_password
from hazwatch.connectors.config_file import parse_connectors
from hazwatch.connectors.simulator.demo import demo_plant_text
from hazwatch.domain.role import Role
from hazwatch.plant.file import parse_plant
from hazwatch.settings import Settings
from hazwatch.storage.database import Database
from hazwatch.storage.plant_repository import PlantRepository
from hazwatch.storage.user_repository import UserRepository

PASSWORD = "correct-horse-1"
DEVICE = "lpg.main.sphere-farm.gw-1-tk-201"  # group plant1 → installation, node-device → equipment
NODE = "lpg.main.sphere-farm.gw-1"


def eventually(check: Callable[[], Any], what: str, timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.05)
    return result


class Platform:
    def __init__(self, client: TestClient) -> None:
        self.client = client
        token = client.post("/api/v1/auth/token", data={"username": "admin", "password": PASSWORD})
        assert token.status_code == 200, token.text
        self.headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get(f"/api/v1{path}", headers=self.headers, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def tag(self, key: str) -> dict[str, Any] | None:
        return next((t for t in self.get("/tags", q=key) if t["key"] == key), None)

    def latest(self, tag_id: int) -> float | None:
        value: float | None = self.get("/values/latest", tag_ids=str(tag_id))[0]["value"]
        return value

    def alarm(self, key: str, condition: str) -> dict[str, Any] | None:
        return next(
            (a for a in self.get("/alarms") if a["tag_key"] == key and a["condition"] == condition),
            None,
        )


@pytest.fixture
def platform(database_url: str, tmp_path: Path, broker: Any) -> Iterator[Platform]:
    db = Database.open(database_url)
    try:
        db.upgrade()
        plants = PlantRepository(db)
        spec = parse_plant(demo_plant_text(), source="demo")
        plants.save(spec)
        region = plants.node_by_keys([spec.region])
        assert region is not None
        UserRepository(db).add("admin", hash_password(PASSWORD), Role.ADMIN, region.id)
    finally:
        db.close()
    connectors = parse_connectors(
        [
            {
                "kind": "sparkplug",
                "name": "sparkplug",
                "equipment": "lpg.main.sphere-farm.sparkplug-host",
                "host": broker.host,
                "port": broker.port,
                "client_id": f"hazwatch-{broker.port}",
                "host_id": "hazwatch-platform",
                "groups": {"plant1": "lpg.main.sphere-farm"},
            }
        ],
        source="test",
    )
    settings = Settings(
        data_dir=tmp_path,
        database_url=database_url,
        secret_key="a-test-signing-key-long-enough-for-hs256",
        tick_s=0.05,
        link_alarm_delay_s=0,
    )
    with TestClient(create_app(settings, connectors=connectors)) as client:
        yield Platform(client)


def test_an_edge_node_births_publishes_and_dies(platform: Platform, make_edge_node: Any) -> None:
    eventually(lambda: platform.get("/connectors")[0]["health"] == "online", "connector online")
    node = make_edge_node(primary_host="hazwatch-platform")
    node.connect()
    node.wait_born()

    level = eventually(lambda: platform.tag(f"{DEVICE}.level"), "the birth's tags")
    assert (level["unit"], level["range_lo"], level["range_hi"]) == ("%", 0, 100)
    assert platform.tag(f"{DEVICE}.label") is None, "string metrics are not tags"
    eventually(lambda: platform.latest(level["id"]) == 50.0, "birth value stored")

    node.ddata("TK-201", {"Level": 72.5})
    eventually(lambda: platform.latest(level["id"]) == 72.5, "data stored")
    device = eventually(
        lambda: [
            d for c in platform.get("/connectors") for d in c["devices"] if d["key"] == DEVICE
        ],
        "device listed",
    )
    assert device[0]["health"] == "online"

    node.ddeath("TK-201")
    offline = eventually(
        lambda: platform.alarm(f"{DEVICE}.link-status", "device_offline"), "device offline alarm"
    )
    assert offline["active"] and offline["priority"] == "high"

    node.crash()  # the broker publishes the node's NDEATH will
    eventually(
        lambda: platform.alarm(f"{NODE}.link-status", "device_offline"), "node offline alarm"
    )
