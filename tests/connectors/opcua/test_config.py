"""OPC UA connector settings: the documented example, and every impossible setting refused
with a message naming the field."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from hazwatch.connectors.opcua import CONFIG, CONNECTOR, OpcUaConfig, OpcUaConnector
from hazwatch.connectors.registry import parse_connector_config

DOC = Path(__file__).parents[3] / "docs" / "opcua.md"


def base(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "opcua",
        "name": "tank-farm",
        "endpoint": "opc.tcp://10.0.4.30:4840/plant",
        "device": "lpg.main.sphere-farm.plc-2",
        "nodes": [{"node_id": "ns=2;s=TK201.Level", "tag": "lpg.main.sphere-farm.tk-201.level"}],
    }
    data.update(overrides)
    return data


def refused(data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        OpcUaConfig.model_validate(data)
    return "\n".join(
        f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in caught.value.errors()
    )


def test_the_family_exports_its_config_and_connector() -> None:
    assert CONFIG is OpcUaConfig and CONNECTOR is OpcUaConnector
    config = parse_connector_config(base())
    assert isinstance(config, OpcUaConfig)


def test_defaults() -> None:
    config = OpcUaConfig.model_validate(base())
    assert config.security.policy == "none"
    assert config.deadband.type == "none"
    assert config.publishing_interval_ms == 1000 and config.sampling_interval_ms == 500
    assert config.username is None and config.password is None


def test_the_documented_example_is_valid() -> None:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(connectors:\n.*?)```", text, re.DOTALL)
    assert block, "docs/opcua.md has a connectors: example"
    entries = yaml.safe_load(block.group(1))["connectors"]
    for entry in entries:
        entry.pop("equipment", None)
        config = parse_connector_config(entry)
        assert isinstance(config, OpcUaConfig)


@pytest.mark.parametrize(
    ("node_id", "where"),
    [
        ("TK201.Level", "nodes.0.node_id"),
        ("ns=x;s=Level", "nodes.0.node_id"),
        ("ns=2;q=1", "nodes.0.node_id"),
        ("ns=2;s=", "nodes.0.node_id"),
        ("ns=2;i=abc", "nodes.0.node_id"),
    ],
)
def test_node_ids_are_checked(node_id: str, where: str) -> None:
    message = refused(
        base(nodes=[{"node_id": node_id, "tag": "lpg.main.sphere-farm.tk-201.level"}])
    )
    assert message.startswith(where)
    assert "node id" in message or "empty identifier" in message


@pytest.mark.parametrize(
    "node_id",
    [
        "i=2258",
        "ns=2;i=5001",
        "nsu=urn:plc:tanks;s=TK201.Level",
        "ns=3;g=09087e75-8e5e-499b-954f-f2a9603db28a",
        "ns=1;b=AAEC",
    ],
)
def test_node_id_forms(node_id: str) -> None:
    OpcUaConfig.model_validate(
        base(nodes=[{"node_id": node_id, "tag": "lpg.main.sphere-farm.tk-201.level"}])
    )


@pytest.mark.parametrize(
    ("overrides", "where"),
    [
        ({"device": "lpg.main.sphere-farm"}, "device"),
        ({"device": "LPG.main.sphere-farm.plc-2"}, "device"),
        ({"nodes": [{"node_id": "i=1", "tag": "lpg.main.sphere-farm.tk-201"}]}, "nodes.0.tag"),
        (
            {"browse": [{"root": "i=85", "tag_prefix": "lpg.main.sphere-farm.tk-201.x"}]},
            "browse.0.tag_prefix",
        ),
        (
            {"browse": [{"root": "85", "tag_prefix": "lpg.main.sphere-farm.tk-201"}]},
            "browse.0.root",
        ),
    ],
)
def test_keys_are_checked(overrides: dict[str, Any], where: str) -> None:
    assert refused(base(**overrides)).startswith(where)


@pytest.mark.parametrize(
    ("overrides", "where"),
    [
        ({"publishing_interval_ms": 0}, "publishing_interval_ms"),
        ({"sampling_interval_ms": -5}, "sampling_interval_ms"),
        ({"health_check_interval_s": 0}, "health_check_interval_s"),
        ({"timeout_s": 0}, "timeout_s"),
        (
            {
                "nodes": [
                    {
                        "node_id": "i=1",
                        "tag": "lpg.main.sphere-farm.tk-201.level",
                        "sampling_interval_ms": 0,
                    }
                ]
            },
            "nodes.0.sampling_interval_ms",
        ),
        ({"publishing_interval_ms": float("nan")}, "publishing_interval_ms"),
    ],
)
def test_intervals_are_positive(overrides: dict[str, Any], where: str) -> None:
    assert refused(base(**overrides)).startswith(where)


@pytest.mark.parametrize(
    ("deadband", "words"),
    [
        ({"type": "percent", "value": 120}, "percent deadband lies in 0–100"),
        ({"type": "percent", "value": -1}, "greater than or equal to 0"),
        ({"type": "absolute", "value": -0.5}, "greater than or equal to 0"),
        ({"type": "none", "value": 2}, "takes no value"),
        ({"type": "relative", "value": 2}, "'none', 'absolute' or 'percent'"),
    ],
)
def test_deadbands_are_checked(deadband: dict[str, Any], words: str) -> None:
    message = refused(base(deadband=deadband))
    assert message.startswith("deadband")
    assert words in message


def test_a_percent_deadband_up_to_100_is_fine() -> None:
    config = OpcUaConfig.model_validate(base(deadband={"type": "percent", "value": 100}))
    assert config.deadband.value == 100


@pytest.mark.parametrize(
    ("endpoint", "words"),
    [
        ("http://10.0.4.30:4840", "expected opc.tcp://"),
        ("opc.tcp://10.0.4.30", "no port"),
        ("opc.tcp://:4840", "no host"),
        ("opc.tcp://10.0.4.30:99999", "port"),
        ("opc.tcp://op:pw@10.0.4.30:4840", "credentials belong in username and password"),
    ],
)
def test_endpoints_are_checked(endpoint: str, words: str) -> None:
    message = refused(base(endpoint=endpoint))
    assert message.startswith("endpoint") and words in message


def test_nothing_to_read_is_refused() -> None:
    assert "at least one variable" in refused(base(nodes=[]))


def test_a_node_or_tag_named_twice_is_refused() -> None:
    level = {"node_id": "ns=2;s=TK201.Level", "tag": "lpg.main.sphere-farm.tk-201.level"}
    twice = refused(base(nodes=[level, {**level, "tag": "lpg.main.sphere-farm.tk-201.other"}]))
    assert "nodes[1].node_id: ns=2;s=TK201.Level is already nodes[0]" in twice
    again = refused(base(nodes=[level, {**level, "node_id": "ns=2;s=TK201.Other"}]))
    assert "nodes[1].tag: lpg.main.sphere-farm.tk-201.level is already read by nodes[0]" in again
    roots = [{"root": "i=85", "tag_prefix": "lpg.main.sphere-farm.tk-201"}] * 2
    assert "browse[1].root" in refused(base(browse=roots))


def test_credentials() -> None:
    assert "password: given without a username" in refused(base(password="x"))
    config = OpcUaConfig.model_validate(base(username="op", password="secret"))
    assert config.password is not None and config.password.get_secret_value() == "secret"
    assert "secret" not in repr(config)


def test_security_needs_its_files() -> None:
    assert "certificate: policy Basic256Sha256 needs" in refused(
        base(security={"policy": "Basic256Sha256"})
    )
    assert "private_key: policy Basic256Sha256 needs" in refused(
        base(security={"policy": "Basic256Sha256", "certificate": "client.der"})
    )
    assert "certificate: only used with policy Basic256Sha256" in refused(
        base(security={"certificate": "client.der"})
    )
    assert "'Sign' or 'SignAndEncrypt'" in refused(
        base(
            security={
                "policy": "Basic256Sha256",
                "mode": "None",
                "certificate": "c.der",
                "private_key": "k.pem",
            }
        )
    )


def test_unknown_fields_are_refused() -> None:
    assert refused(base(publish_ms=100)).startswith("publish_ms")
