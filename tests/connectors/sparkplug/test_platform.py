"""A Sparkplug B edge node against the whole platform: its birth makes tags, its data is
stored and evaluated, its death raises a device-offline alarm; and malformed input of every
kind, to the Sparkplug and the MQTT JSON connector, is kept as dead letters while both go on
reading."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from paho.mqtt import publish
from waiting import eventually

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
            },
            {
                "kind": "mqtt",
                "name": "mqtt",
                "host": broker.host,
                "port": broker.port,
                "client_id": f"hazwatch-json-{broker.port}",
                "flush_ms": 5,
            },
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


def online(platform: Platform) -> None:
    eventually(
        lambda: all(c["health"] == "online" for c in platform.get("/connectors")),
        "connectors online",
    )


def test_an_edge_node_births_publishes_and_dies(platform: Platform, make_edge_node: Any) -> None:
    online(platform)
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


def test_malformed_input_of_every_kind_is_kept_and_reading_goes_on(
    platform: Platform, make_edge_node: Any, broker: Any
) -> None:
    online(platform)
    node = make_edge_node(primary_host="hazwatch-platform")
    node.connect()
    node.wait_born()
    level = eventually(lambda: platform.tag(f"{DEVICE}.level"), "the birth's tags")

    node.raw("spBv1.0/plant1/DDATA/gw-1/TK-201", b"\x0a\xff\xff not protobuf")
    node.ddata_alias("TK-201", 999, 1.0)  # an alias no birth declared
    json_topic = "hazwatch/v1/lpg/field"
    bad_json = [
        b"{not json",  # not JSON at all
        b'{"tag": "lpg.main.sphere-farm.tk-201.level", "ts": "yesterday", "value": 1}',
        b'{"tag": "lpg.main.sphere-farm.tk-201.level", "ts": 1, "value": "high"}',
        b'{"tag": "chlor.main.cl2-storage.v-101.level", "ts": 1, "value": 1}',  # not lpg's
    ]
    publish.multiple(
        [{"topic": json_topic, "payload": p, "qos": 1} for p in bad_json],
        hostname=broker.host,
        port=broker.port,
    )

    def letters() -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        for letter in platform.get("/dead-letters", limit=100):
            found.setdefault(letter["source"], []).append(letter)
        return found

    seen = eventually(
        lambda: (
            (found := letters())
            and len(found.get("sparkplug:sparkplug", [])) >= 2
            and len(found.get("mqtt:mqtt", [])) >= 4
            and found
        ),
        lambda: f"every malformed input kept; kept: {letters()}",
    )
    sparkplug = {(d["reason"], d["detail"]) for d in seen["sparkplug:sparkplug"]}
    assert any(r == "malformed" and "protobuf" in d.lower() for r, d in sparkplug), sparkplug
    assert any(r == "unknown_tag" and "alias 999" in d for r, d in sparkplug), sparkplug
    json_letters = seen["mqtt:mqtt"]
    mqtt = sorted(d["reason"] for d in json_letters)
    assert mqtt == ["forbidden", "malformed", "malformed", "malformed"], json_letters
    assert all(d["detail"] for d in json_letters)

    node.ddata("TK-201", {"Level": 33.0})  # both connectors read on
    publish.single(
        json_topic,
        orjson.dumps({"tag": f"{DEVICE}.running", "ts": int(time.time() * 1000), "value": 0}),
        qos=1,
        hostname=broker.host,
        port=broker.port,
    )
    eventually(lambda: platform.latest(level["id"]) == 33.0, "sparkplug data after the bad")
    running = platform.tag(f"{DEVICE}.running")
    assert running is not None
    eventually(lambda: platform.latest(running["id"]) == 0.0, "JSON data after the bad")
