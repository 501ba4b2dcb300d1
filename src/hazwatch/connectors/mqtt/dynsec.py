"""Device credentials and topic rights at the broker, through Mosquitto's dynamic-security
plugin: the broker, not the platform, stops a device from publishing where it may not.

The model (docs/mqtt.md, "Access control"):

* each **device** is a broker client whose user name is its device key
  (``lpg.main.sphere-farm.plc-1``), with a password and the role of its enterprise;
* the role of an **enterprise** ``hazwatch-enterprise-<e>`` may publish under
  ``hazwatch/v1/<e>/#`` and ``spBv1.0/<e>/#`` (a Sparkplug group named after the
  enterprise), and subscribe to the Sparkplug commands of that group and to host states;
  nothing else, so a device of ``lpg`` cannot publish for ``acme``;
* the **platform** role ``hazwatch-platform`` may subscribe to everything under
  ``hazwatch/v1/#`` and ``spBv1.0/#`` and send Sparkplug commands and its host state.

``BrokerAdmin`` sends the plugin's commands to ``$CONTROL/dynamic-security/v1`` as an
administrator and awaits each answer on ``…/response`` (matched by correlation data), with
a timeout. A refused command raises ``DynsecError`` with the plugin's own message.
``bootstrap_config`` writes the plugin's first configuration (an administrator), as
``mosquitto_ctrl dynsec init`` does.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import hashlib
import itertools
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import orjson
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from hazwatch.connectors.base import AuthError, ConnectError
from hazwatch.connectors.mqtt.connector import socket_code
from hazwatch.domain.keys import EQUIPMENT_KEY, SEGMENT_RE

CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC = f"{CONTROL_TOPIC}/response"
PLATFORM_ROLE = "hazwatch-platform"
ENTERPRISE_ROLE_PREFIX = "hazwatch-enterprise-"


class DynsecError(Exception):
    """The dynamic-security plugin refused a command, or did not answer in time."""

    def __init__(self, command: str, error: str) -> None:
        super().__init__(f"{command}: {error}")
        self.command = command
        self.error = error


@dataclass(frozen=True, slots=True, kw_only=True)
class Acl:
    """One rule of a role: ``acltype`` is publishClientSend, subscribePattern, …"""

    acltype: str
    topic: str
    allow: bool = True
    priority: int = 0

    def command_fields(self) -> dict[str, object]:
        return {
            "acltype": self.acltype,
            "topic": self.topic,
            "allow": self.allow,
            "priority": self.priority,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Device:
    """A device known to the broker: its key (the user name) and its enterprise."""

    key: str
    enterprise: str
    disabled: bool = False


def enterprise_role(enterprise: str) -> str:
    return f"{ENTERPRISE_ROLE_PREFIX}{_check_enterprise(enterprise)}"


def enterprise_acls(enterprise: str) -> tuple[Acl, ...]:
    """What a device of ``enterprise`` may do: publish its readings (JSON and Sparkplug),
    and hear the Sparkplug commands of its group and the host applications' states."""
    e = _check_enterprise(enterprise)
    return (
        Acl(acltype="publishClientSend", topic=f"hazwatch/v1/{e}/#"),
        Acl(acltype="publishClientSend", topic=f"spBv1.0/{e}/#"),
        Acl(acltype="subscribePattern", topic=f"spBv1.0/{e}/NCMD/#"),
        Acl(acltype="subscribePattern", topic=f"spBv1.0/{e}/DCMD/#"),
        Acl(acltype="subscribePattern", topic="spBv1.0/STATE/#"),
    )


PLATFORM_ACLS: tuple[Acl, ...] = (
    Acl(acltype="subscribePattern", topic="hazwatch/v1/#"),
    Acl(acltype="subscribePattern", topic="spBv1.0/#"),
    # Mosquitto checks a shared subscription with its $share/<group>/ prefix.
    Acl(acltype="subscribePattern", topic="$share/+/hazwatch/v1/#"),
    Acl(acltype="subscribePattern", topic="$share/+/spBv1.0/#"),
    Acl(acltype="publishClientReceive", topic="hazwatch/v1/#"),
    Acl(acltype="publishClientReceive", topic="spBv1.0/#"),
    Acl(acltype="publishClientSend", topic="spBv1.0/+/NCMD/#"),
    Acl(acltype="publishClientSend", topic="spBv1.0/+/DCMD/#"),
    Acl(acltype="publishClientSend", topic="spBv1.0/STATE/#"),
)
"""What the platform may do: read all readings, send Sparkplug commands and its state."""


class BrokerAdmin:
    """Manages devices and roles at a broker with the dynamic-security plugin.

    ``async with BrokerAdmin(host=…, port=…, username=…, password=…) as admin:`` connects
    as a client of the plugin's ``admin`` role (raises ``AuthError`` for a refused password,
    ``ConnectError`` when the broker cannot be reached); each call then awaits the plugin's
    answer for at most ``timeout_s`` seconds.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str,
        password: str,
        timeout_s: float = 5.0,
        client_id: str | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.timeout_s = timeout_s
        self._username, self._password = username, password
        self._client_id = client_id or f"hazwatch-admin-{uuid.uuid4().hex[:12]}"
        self._client: paho.Client | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: dict[str, asyncio.Future[list[dict[str, Any]]]] = {}
        self._numbers = itertools.count(1)
        self._lost: ConnectError | None = None

    # Connection.

    async def __aenter__(self) -> Self:
        loop = self._loop = asyncio.get_running_loop()
        connack: asyncio.Future[ReasonCode] = loop.create_future()
        suback: asyncio.Future[list[ReasonCode]] = loop.create_future()
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self._client_id,
            protocol=paho.MQTTv5,
            reconnect_on_failure=False,
        )
        client.username_pw_set(self._username, self._password)
        client.connect_timeout = self.timeout_s

        def settle(future: asyncio.Future[Any], value: object) -> None:
            def done() -> None:
                if not future.done():
                    future.set_result(value)

            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(done)

        def on_connect(
            _c: paho.Client, _u: object, _f: object, code: ReasonCode, _p: object
        ) -> None:
            settle(connack, code)

        def on_subscribe(
            _c: paho.Client, _u: object, _m: int, codes: list[ReasonCode], _p: object
        ) -> None:
            settle(suback, codes)

        def on_message(_c: paho.Client, _u: object, message: paho.MQTTMessage) -> None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._answer, bytes(message.payload))

        def on_disconnect(
            _c: paho.Client, _u: object, _f: object, code: ReasonCode, _p: object
        ) -> None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._disconnected, code)

        client.on_connect = on_connect
        client.on_subscribe = on_subscribe
        client.on_message = on_message
        client.on_disconnect = on_disconnect
        try:
            await loop.run_in_executor(
                None, functools.partial(client.connect, self.host, self.port, keepalive=30)
            )
        except OSError as exc:
            raise ConnectError(
                f"cannot reach the broker at {self.host}:{self.port}: {exc.strerror or exc}",
                code=socket_code(exc),
            ) from None
        self._client = client
        client.loop_start()
        try:
            code = await self._within(connack, "CONNECT")
            if code.is_failure:
                message = f"broker refused the administrator {self._username!r}: {code}"
                if code.value in (0x86, 0x87):
                    raise AuthError(message, code=f"mqtt.{code.value}")
                raise ConnectError(message, code=f"mqtt.{code.value}")
            client.subscribe(RESPONSE_TOPIC, qos=1)
            codes = await self._within(suback, "SUBSCRIBE")
            if codes[0].is_failure:
                raise AuthError(
                    f"{self._username!r} may not read {RESPONSE_TOPIC}: {codes[0]} (is it "
                    "an administrator of the dynamic-security plugin?)",
                    code=f"mqtt.{codes[0].value}",
                )
        except BaseException:
            await self._close()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._close()

    async def _close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await asyncio.to_thread(_stop, client)
        for future in self._pending.values():
            future.cancel()
        self._pending.clear()

    async def _within(self, future: asyncio.Future[Any], what: str) -> Any:
        try:
            return await asyncio.wait_for(future, self.timeout_s)
        except TimeoutError:
            raise ConnectError(
                f"no answer to {what} from {self.host}:{self.port} within {self.timeout_s:g} s",
                code="mqtt.timeout",
            ) from None

    # Commands.

    async def run(self, *commands: Mapping[str, object]) -> list[dict[str, Any]]:
        """Send commands in one request; return the plugin's answers in the same order
        (each a dict with ``command`` and ``data`` or ``error``)."""
        if self._client is None or self._loop is None:
            raise RuntimeError("BrokerAdmin is not connected (use it as `async with`)")
        if self._lost is not None:
            raise self._lost
        tag = f"hazwatch-{next(self._numbers)}-{uuid.uuid4().hex[:8]}"
        body = {
            "commands": [
                {**command, "correlationData": f"{tag}.{index}"}
                for index, command in enumerate(commands)
            ]
        }
        answer: asyncio.Future[list[dict[str, Any]]] = self._loop.create_future()
        self._pending[tag] = answer
        try:
            self._client.publish(CONTROL_TOPIC, orjson.dumps(body), qos=1)
            try:
                return await asyncio.wait_for(answer, self.timeout_s)
            except TimeoutError:
                names = ", ".join(str(c.get("command")) for c in commands)
                raise DynsecError(
                    names,
                    f"no answer from the dynamic-security plugin within {self.timeout_s:g} s "
                    "(is the plugin loaded in the broker?)",
                ) from None
        finally:
            self._pending.pop(tag, None)

    async def command(self, name: str, **fields: object) -> dict[str, Any]:
        """Run one command; return its ``data`` (empty when it has none); raise
        ``DynsecError`` when the plugin refuses it."""
        (answer,) = await self.run({"command": name, **fields})
        if "error" in answer:
            raise DynsecError(name, str(answer["error"]))
        data = answer.get("data")
        return data if isinstance(data, dict) else {}

    def _disconnected(self, code: ReasonCode) -> None:
        if self._client is None:  # we closed it
            return
        self._lost = ConnectError(
            f"lost the connection to {self.host}:{self.port}: {code}", code=f"mqtt.{code.value}"
        )
        for future in self._pending.values():
            if not future.done():
                future.set_exception(self._lost)

    def _answer(self, payload: bytes) -> None:
        try:
            doc = orjson.loads(payload)
            responses = doc["responses"]
            tag = str(responses[0].get("correlationData", "")).rpartition(".")[0]
        except (orjson.JSONDecodeError, KeyError, IndexError, TypeError, AttributeError):
            return
        future = self._pending.get(tag)
        if future is not None and not future.done():
            future.set_result([r for r in responses if isinstance(r, dict)])

    # Roles.

    async def ensure_role(self, rolename: str, acls: Sequence[Acl]) -> None:
        """Make the role exist with at least these rules (rules it has beyond them stay)."""
        try:
            await self.command(
                "createRole", rolename=rolename, acls=[acl.command_fields() for acl in acls]
            )
            return
        except DynsecError as exc:
            if "already exists" not in exc.error:
                raise
        answers = await self.run(
            *(
                {"command": "addRoleACL", "rolename": rolename, **acl.command_fields()}
                for acl in acls
            )
        )
        for answer in answers:
            error = str(answer.get("error", ""))
            if error and "already exists" not in error:
                raise DynsecError("addRoleACL", error)

    async def ensure_enterprise_role(self, enterprise: str) -> str:
        """The role of the devices of ``enterprise``, created where missing; its name."""
        rolename = enterprise_role(enterprise)
        await self.ensure_role(rolename, enterprise_acls(enterprise))
        return rolename

    async def ensure_platform_role(self) -> str:
        await self.ensure_role(PLATFORM_ROLE, PLATFORM_ACLS)
        return PLATFORM_ROLE

    async def ensure_platform_client(self, username: str, password: str) -> None:
        """The platform's own broker account (its ingest processes log in with it)."""
        await self.ensure_platform_role()
        try:
            await self.command(
                "createClient",
                username=username,
                password=password,
                textname="hazwatch platform",
                roles=[{"rolename": PLATFORM_ROLE}],
            )
        except DynsecError as exc:
            if "already exists" not in exc.error:
                raise
            await self.command("setClientPassword", username=username, password=password)
            with contextlib.suppress(DynsecError):  # it may hold the role already
                await self.command("addClientRole", username=username, rolename=PLATFORM_ROLE)

    # Devices.

    async def create_device(self, device_key: str, password: str | None = None) -> str:
        """Create a device's account in its enterprise's role; return its password
        (a new random one unless given). Raises ``DynsecError`` if it exists."""
        enterprise = _enterprise_of(device_key)
        rolename = await self.ensure_enterprise_role(enterprise)
        secret = password if password is not None else secrets.token_urlsafe(24)
        await self.command(
            "createClient",
            username=device_key,
            password=secret,
            textname=f"hazwatch device of {enterprise}",
            roles=[{"rolename": rolename}],
        )
        return secret

    async def set_device_password(self, device_key: str, password: str) -> None:
        await self.command(
            "setClientPassword", username=_check_device(device_key), password=password
        )

    async def delete_device(self, device_key: str) -> None:
        """Remove a device's account; the broker disconnects it if it is connected."""
        await self.command("deleteClient", username=_check_device(device_key))

    async def list_devices(self) -> list[Device]:
        """The devices: broker clients holding an enterprise role, by key."""
        data = await self.command("listClients", verbose=True, count=-1, offset=0)
        devices: list[Device] = []
        for client in data.get("clients", []):
            if not isinstance(client, dict):
                continue
            roles = [r.get("rolename", "") for r in client.get("roles", []) if isinstance(r, dict)]
            enterprises = [
                str(r).removeprefix(ENTERPRISE_ROLE_PREFIX)
                for r in roles
                if str(r).startswith(ENTERPRISE_ROLE_PREFIX)
            ]
            if enterprises:
                devices.append(
                    Device(
                        key=str(client.get("username")),
                        enterprise=enterprises[0],
                        disabled=bool(client.get("disabled", False)),
                    )
                )
        return sorted(devices, key=lambda d: d.key)


def bootstrap_config(admin_username: str, admin_password: str) -> dict[str, Any]:
    """The plugin's first configuration file (JSON): one administrator who may send it
    commands, and everything else denied until roles allow it."""
    salt = secrets.token_bytes(12)
    iterations = 101
    digest = hashlib.pbkdf2_hmac("sha512", admin_password.encode(), salt, iterations)
    control = "$CONTROL/dynamic-security/#"
    return {
        "clients": [
            {
                "username": admin_username,
                "textName": "hazwatch broker administrator",
                "password": base64.b64encode(digest).decode(),
                "salt": base64.b64encode(salt).decode(),
                "iterations": iterations,
                "roles": [{"rolename": "admin"}],
            }
        ],
        "roles": [
            {
                "rolename": "admin",
                "acls": [
                    {"acltype": "publishClientSend", "topic": control, "allow": True},
                    {"acltype": "publishClientReceive", "topic": control, "allow": True},
                    {"acltype": "subscribePattern", "topic": control, "allow": True},
                ],
            }
        ],
        "defaultACLAccess": {
            "publishClientSend": False,
            "publishClientReceive": True,
            "subscribe": False,
            "unsubscribe": True,
        },
    }


def _check_enterprise(enterprise: str) -> str:
    if not SEGMENT_RE.fullmatch(enterprise):
        raise ValueError(f"enterprise: {enterprise!r} is not a key (a-z, 0-9, - and _)")
    return enterprise


def _check_device(device_key: str) -> str:
    if not EQUIPMENT_KEY.fullmatch(device_key):
        raise ValueError(
            f"device key: {device_key!r} is not enterprise.site.installation.equipment"
        )
    return device_key


def _enterprise_of(device_key: str) -> str:
    return _check_device(device_key).partition(".")[0]


def _stop(client: paho.Client) -> None:
    with contextlib.suppress(Exception):
        client.disconnect()
    with contextlib.suppress(Exception):
        client.loop_stop()


__all__ = [
    "PLATFORM_ACLS",
    "Acl",
    "BrokerAdmin",
    "Device",
    "DynsecError",
    "bootstrap_config",
    "enterprise_acls",
    "enterprise_role",
]
