"""A running API on each database backend, with a small plant and users at three levels."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from hazwatch.api.app import create_app
from hazwatch.auth.password import hash_password
from hazwatch.connectors.config_file import ConnectorEntry
from hazwatch.domain.plant import PlantSpec
from hazwatch.domain.role import Role
from hazwatch.runtime.clock import ManualClock
from hazwatch.settings import Settings
from hazwatch.storage.database import Database
from hazwatch.storage.plant_repository import PlantRepository
from hazwatch.storage.user_repository import UserRepository

T0 = 1_800_000_000_000
PASSWORD = "correct-horse-1"

PLANT = {
    "region": "r",
    "parks": [
        {
            "key": "p",
            "enterprises": [
                {
                    "key": ent,
                    "location": {"lat": 32.1, "lon": 119.4},
                    "sites": [
                        {
                            "key": "s",
                            "installations": [
                                {
                                    "key": "i",
                                    "inventories": [
                                        {"chemical": "chlorine", "cas": "7782-50-5", "tonnes": 12}
                                    ],
                                    "equipment": [
                                        {
                                            "key": "tank",
                                            "tags": [
                                                {
                                                    "key": "level",
                                                    "name": f"{ent} tank level",
                                                    "unit": "%",
                                                    "range": [0, 100],
                                                    "limits": {
                                                        "HH": {"value": 90, "priority": "high"},
                                                        "H": {"value": 80, "deadband": 2},
                                                        "L": {"value": 10},
                                                        "LL": {"value": 5, "priority": "high"},
                                                    },
                                                },
                                                {
                                                    "key": "temperature",
                                                    "unit": "°C",
                                                    "range": [-40, 120],
                                                },
                                            ],
                                        }
                                    ],
                                }
                            ],
                        }
                    ],
                }
                for ent in ("ea", "eb")
            ],
        }
    ],
}


@dataclass
class Api:
    client: TestClient
    clock: ManualClock
    db_url: str
    password: str = PASSWORD

    def token(self, user: str) -> str:
        response = self.client.post(
            "/api/v1/auth/token", data={"username": user, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def as_user(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user)}"}

    def get(self, user: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(f"/api/v1{path}", headers=self.as_user(user), **kwargs)

    def post(self, user: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.post(f"/api/v1{path}", headers=self.as_user(user), **kwargs)

    def tag_id(self, key: str) -> int:
        tags = self.get("admin", "/tags", params={"q": key}).json()
        found: int = next(t["id"] for t in tags if t["key"] == key)
        return found


def _prepare(url: str) -> None:
    db = Database.open(url)
    try:
        db.upgrade()
        plants = PlantRepository(db)
        plants.save(PlantSpec.model_validate(PLANT))
        users = UserRepository(db)
        hashed = hash_password(PASSWORD)
        region = plants.node_by_keys(["r"])
        ea = plants.node_by_keys(["r", "p", "ea"])
        eb = plants.node_by_keys(["r", "p", "eb"])
        assert region and ea and eb
        users.add("admin", hashed, Role.ADMIN, region.id)
        users.add("op-a", hashed, Role.OPERATOR, ea.id)
        users.add("viewer-a", hashed, Role.VIEWER, ea.id)
        users.add("op-b", hashed, Role.OPERATOR, eb.id)
    finally:
        db.close()


@pytest.fixture
def api(database_url: str, tmp_path: Path) -> Iterator[Api]:
    yield from _api(database_url, tmp_path)


def _api(
    database_url: str, tmp_path: Path, connectors: Sequence[ConnectorEntry] = ()
) -> Iterator[Api]:
    _prepare(database_url)
    clock = ManualClock(T0)
    settings = Settings(
        data_dir=tmp_path,
        database_url=database_url,
        secret_key="a-test-signing-key-long-enough-for-hs256",
        max_batch_readings=1000,
        max_body_bytes=200_000,
        tick_s=0.05,
        link_alarm_delay_s=5,
    )
    app = create_app(settings, clock=clock, connectors=connectors)
    with TestClient(app) as client:
        yield Api(client=client, clock=clock, db_url=database_url)


@pytest.fixture
def api_with_connectors(database_url: str, tmp_path: Path, fake_family: Any) -> Iterator[Api]:
    """The API running two fake connectors: ``gw`` (status at ``ea.s.i.gw``, device
    ``ea.s.i.tank``) and ``plain`` (no equipment, device ``eb.s.i.tank``)."""
    from hazwatch.connectors.config_file import parse_connectors

    entries = parse_connectors(
        [
            {"kind": "fake", "name": "gw", "equipment": "ea.s.i.gw", "devices": ["ea.s.i.tank"]},
            {"kind": "fake", "name": "plain", "devices": ["eb.s.i.tank"]},
        ],
        source="test",
    )
    yield from _api(database_url, tmp_path, entries)
