"""Basic256Sha256: the connector signs (and encrypts) its secure channel with its
certificate, against a server that offers nothing else."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from asyncua import Server, ua
from asyncua.crypto.cert_gen import setup_self_signed_certificate
from cryptography.x509.oid import ExtendedKeyUsageOID

from hazwatch.connectors.base import Backoff, Health
from hazwatch.connectors.conformance import Reader, RecordingLink
from hazwatch.connectors.opcua import OpcUaConfig, OpcUaConnector

pytestmark = pytest.mark.asyncio(loop_scope="module")

SERVER_URI = "urn:hazwatch:test:secured-server"
CLIENT_URI = "urn:hazwatch:test:client"
KEY = "lpg.main.sphere-farm.tk-201.level"


class Secured:
    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.endpoint = f"opc.tcp://127.0.0.1:{port}/secured/"
        self.server = Server()
        self.variable: Any = None

    async def start(self) -> None:
        host = socket.gethostname()
        folder = self.folder
        await setup_self_signed_certificate(
            folder / "server.pem",
            folder / "server.der",
            SERVER_URI,
            host,
            [ExtendedKeyUsageOID.SERVER_AUTH],
            {},
        )
        await setup_self_signed_certificate(
            folder / "client.pem",
            folder / "client.der",
            CLIENT_URI,
            host,
            [ExtendedKeyUsageOID.CLIENT_AUTH],
            {},
        )
        server = self.server
        await server.init()
        server.disable_clock()
        await server.set_application_uri(SERVER_URI)
        server.set_endpoint(self.endpoint)
        await server.load_certificate(str(folder / "server.der"))
        await server.load_private_key(str(folder / "server.pem"))
        server.set_security_policy(
            [
                ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt,
                ua.SecurityPolicyType.Basic256Sha256_Sign,
            ]
        )
        self.variable = await server.nodes.objects.add_variable(
            ua.NodeId("TK201.Level", 2), "Level", 0.0
        )
        await server.start()

    def config(self, **security: Any) -> OpcUaConfig:
        return OpcUaConfig.model_validate(
            {
                "kind": "opcua",
                "name": "secured",
                "endpoint": self.endpoint,
                "device": "lpg.main.sphere-farm.tk-201",
                "publishing_interval_ms": 50,
                "timeout_s": 2,
                "nodes": [{"node_id": "ns=2;s=TK201.Level", "tag": KEY}],
                "security": security,
            }
        )

    def credentials(self, mode: str = "SignAndEncrypt") -> dict[str, Any]:
        return {
            "policy": "Basic256Sha256",
            "mode": mode,
            "certificate": str(self.folder / "client.der"),
            "private_key": str(self.folder / "client.pem"),
            "application_uri": CLIENT_URI,
        }


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def secured(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Secured]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = Secured(tmp_path_factory.mktemp("pki"), port)
    await server.start()
    yield server
    await server.server.stop()


@pytest.mark.parametrize("mode", ["SignAndEncrypt", "Sign"])
async def test_a_secure_channel_reads(secured: Secured, mode: str) -> None:
    link = RecordingLink([KEY])
    connector = OpcUaConnector(
        secured.config(**secured.credentials(mode)), link.link(), backoff=Backoff(initial=0.1)
    )
    async with connector:
        reader = Reader(connector, link)
        await asyncio.wait_for(connector.health.wait_for(Health.ONLINE), 10)
        value = 40.0 + len(mode)
        await secured.variable.write_value(value)
        await reader.until({KEY: value}, timeout=10)
    await reader.ended()


async def _first_error(config: OpcUaConfig) -> Any:
    connector = OpcUaConnector(config, RecordingLink([KEY]).link(), backoff=Backoff(initial=0.1))
    async with connector:
        await asyncio.wait_for(connector.health.wait_for(Health.OFFLINE), 10)
    return connector.last_error


async def test_no_security_against_a_secured_server_is_refused(secured: Secured) -> None:
    error = await _first_error(secured.config())
    assert error is not None
    assert error.code == "opcua.BadSecurityPolicyRejected"
    assert not error.retryable


async def test_a_missing_certificate_is_an_auth_error(secured: Secured, tmp_path: Path) -> None:
    credentials = {**secured.credentials(), "certificate": str(tmp_path / "nowhere.der")}
    error = await _first_error(secured.config(**credentials))
    assert error is not None
    assert error.code == "opcua.BadCertificateInvalid"
    assert "security.certificate" in str(error) and not error.retryable
