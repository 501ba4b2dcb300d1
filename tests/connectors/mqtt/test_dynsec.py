"""Device credentials and ACLs enforced by a real Mosquitto with the dynamic-security plugin,
managed through ``BrokerAdmin``."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hazwatch.connectors.base import AuthError, ConnectError, Health
from hazwatch.connectors.conformance import Reader, RecordingLink
from hazwatch.connectors.mqtt import MqttConnector
from hazwatch.connectors.mqtt.dynsec import (
    PLATFORM_ROLE,
    BrokerAdmin,
    Device,
    DynsecError,
    enterprise_role,
)

NOT_AUTHORIZED = 135
LOGIN_REFUSED = {134, 135}  # bad user name or password; Mosquitto answers not authorized
DEVICE = "lpg.main.sphere-farm.plc-1"
PLATFORM = ("hazwatch-platform", "platform-secret")
TIMEOUT = 20.0


def _admin(broker: Any, kit: Any, **overrides: Any) -> BrokerAdmin:
    username, password = kit.ADMIN
    fields: dict[str, Any] = {"username": username, "password": password} | overrides
    return BrokerAdmin(host=broker.host, port=broker.port, **fields)


async def test_a_device_publishes_only_into_its_own_enterprise(
    secure_broker: Any, kit: Any
) -> None:
    async with _admin(secure_broker, kit) as admin:
        await admin.ensure_platform_client(*PLATFORM)
        password = await admin.create_device(DEVICE)
        await admin.ensure_enterprise_role("acme")

    keys = [kit.KEYS[0], "acme.main.farm.tk-1.level"]
    link = RecordingLink(keys)
    username, secret = PLATFORM
    settings = kit.config(secure_broker.port, username=username, password=secret)
    async with MqttConnector(settings, link.link(), backoff=kit.fast_backoff()) as connector:
        reader = Reader(connector, link)
        await asyncio.wait_for(connector.health.wait_for(Health.ONLINE), TIMEOUT)
        assert connector.health.state is Health.ONLINE  # all of hazwatch/v1/# granted

        login = {"username": DEVICE, "password": password}
        own = ("hazwatch/v1/lpg/main", kit.single(kit.KEYS[0], 1.0))
        foreign = ("hazwatch/v1/acme/main", kit.single(keys[1], 2.0))
        after = ("hazwatch/v1/lpg/main", kit.single(kit.KEYS[0], 3.0))
        codes = await asyncio.to_thread(
            kit.publish_all, secure_broker.host, secure_broker.port, [own, foreign, after], **login
        )
        assert [code.value for code in codes] == [0, NOT_AUTHORIZED, 0]
        await reader.until({kit.KEYS[0]: 3.0})
    seen = reader.seen()
    assert seen == {kit.KEYS[0]: [1.0, 3.0]}
    assert link.refused == []


async def test_a_wrong_password_cannot_connect(secure_broker: Any, kit: Any) -> None:
    async with _admin(secure_broker, kit) as admin:
        await admin.create_device(DEVICE, "right")
    publisher = await asyncio.to_thread(
        kit.Publisher, secure_broker.host, secure_broker.port, username=DEVICE, password="wrong"
    )
    try:
        assert publisher.refused
        assert publisher.connack.value in LOGIN_REFUSED
    finally:
        publisher.close()


async def test_a_connector_with_a_wrong_password_reports_an_auth_error(
    secure_broker: Any, kit: Any
) -> None:
    settings = kit.config(secure_broker.port, username="nobody", password="wrong")
    connector = MqttConnector(settings, RecordingLink(kit.KEYS).link())
    async with connector:
        await asyncio.wait_for(connector.health.wait_for(Health.OFFLINE), TIMEOUT)
    assert isinstance(connector.last_error, AuthError)
    assert connector.last_error.code in {f"mqtt.{code}" for code in LOGIN_REFUSED}
    assert not connector.last_error.retryable


async def test_anonymous_clients_are_refused(secure_broker: Any, kit: Any) -> None:
    publisher = await asyncio.to_thread(kit.Publisher, secure_broker.host, secure_broker.port)
    try:
        assert publisher.refused
    finally:
        publisher.close()


async def test_devices_are_listed_and_deleted(secure_broker: Any, kit: Any) -> None:
    async with _admin(secure_broker, kit) as admin:
        await admin.ensure_platform_client(*PLATFORM)
        password = await admin.create_device(DEVICE)
        await admin.create_device("acme.north.tanks.plc-9", "pw")
        assert await admin.list_devices() == [
            Device(key="acme.north.tanks.plc-9", enterprise="acme"),
            Device(key=DEVICE, enterprise="lpg"),
        ]
        with pytest.raises(DynsecError, match="already exists"):
            await admin.create_device(DEVICE)
        await admin.delete_device(DEVICE)
        assert [d.key for d in await admin.list_devices()] == ["acme.north.tanks.plc-9"]
    publisher = await asyncio.to_thread(
        kit.Publisher, secure_broker.host, secure_broker.port, username=DEVICE, password=password
    )
    try:
        assert publisher.refused
    finally:
        publisher.close()


async def test_roles_are_ensured_idempotently_with_their_rules(
    secure_broker: Any, kit: Any
) -> None:
    async with _admin(secure_broker, kit) as admin:
        for _ in range(2):
            assert await admin.ensure_enterprise_role("lpg") == enterprise_role("lpg")
            assert await admin.ensure_platform_role() == PLATFORM_ROLE
        role = await admin.command("getRole", rolename=enterprise_role("lpg"))
        rules = {(acl["acltype"], acl["topic"]) for acl in role["role"]["acls"]}
        assert ("publishClientSend", "hazwatch/v1/lpg/#") in rules
        assert ("publishClientSend", "spBv1.0/lpg/#") in rules
        assert not any("acme" in topic or topic == "#" for _, topic in rules)


async def test_bad_keys_are_refused_before_reaching_the_broker(
    secure_broker: Any, kit: Any
) -> None:
    async with _admin(secure_broker, kit) as admin:
        with pytest.raises(ValueError, match="device key"):
            await admin.create_device("lpg.main.plc-1")
        with pytest.raises(ValueError, match="enterprise"):
            await admin.ensure_enterprise_role("LPG/#")


async def test_a_refused_command_raises_with_the_plugins_message(
    secure_broker: Any, kit: Any
) -> None:
    async with _admin(secure_broker, kit) as admin:
        with pytest.raises(DynsecError, match=r"deleteClient: .*not found"):
            await admin.delete_device("lpg.main.sphere-farm.ghost")


async def test_a_wrong_administrator_password_is_an_auth_error(
    secure_broker: Any, kit: Any
) -> None:
    with pytest.raises(AuthError) as refused:
        async with _admin(secure_broker, kit, password="wrong"):
            pass
    assert refused.value.code in {f"mqtt.{code}" for code in LOGIN_REFUSED}


async def test_a_broker_without_the_plugin_does_not_answer_in_time(broker: Any, kit: Any) -> None:
    async with _admin(broker, kit, timeout_s=0.5) as admin:
        with pytest.raises(DynsecError, match="no answer"):
            await admin.list_devices()


async def test_an_unreachable_broker_is_a_connect_error(broker: Any, kit: Any) -> None:
    broker.stop()
    with pytest.raises(ConnectError, match="cannot reach"):
        async with _admin(broker, kit):
            pass


async def test_a_lost_connection_fails_the_commands_at_once(secure_broker: Any, kit: Any) -> None:
    async with _admin(secure_broker, kit, timeout_s=10) as admin:
        await asyncio.to_thread(secure_broker.stop)
        with pytest.raises(ConnectError, match="lost the connection"):
            await asyncio.wait_for(admin.list_devices(), 5)
