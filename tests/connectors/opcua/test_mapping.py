"""Pure pieces of the OPC UA connector: slugs, the watch plan, request building, errors."""

from __future__ import annotations

import re
from typing import Any

import pytest
from asyncua import ua
from asyncua.ua.uaerrors import BadNodeIdUnknown, BadUserAccessDenied, UaError, UaStatusCodeError

from hazwatch.connectors.base import AuthError, ConnectError, ProtocolError
from hazwatch.connectors.opcua import OpcUaConfig
from hazwatch.connectors.opcua.config import DeadbandConfig
from hazwatch.connectors.opcua.errors import from_exception, from_status
from hazwatch.connectors.opcua.monitoring import (
    deadband_filter,
    item_request,
    keepalive_count,
    queue_size,
    subscription_parameters,
)
from hazwatch.connectors.opcua.naming import browse_key
from hazwatch.connectors.opcua.plan import Found, make_plan, needs_namespaces, resolve
from hazwatch.domain.keys import slug

PREFIX = "lpg.main.sphere-farm.tk-201"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Level", "level"),
        ("TK201.Level", "tk201-level"),
        ("Temperature (°C)", "temperature-c"),
        ("Flow  -  Rate", "flow-rate"),
        ("_hidden_", "hidden_"),
        ("Druck_bar", "druck_bar"),
        ("Füllstand", "fullstand"),
    ],
)
def test_slug(name: str, expected: str) -> None:
    assert slug(name) == expected
    assert browse_key(PREFIX, name) == f"{PREFIX}.{expected}"


@pytest.mark.parametrize("name", ["温度", "---", "x" * 80])
def test_names_that_would_merge_or_vanish_keep_apart_by_a_hash(name: str) -> None:
    key = browse_key(PREFIX, name)
    assert re.fullmatch(r"(x{55}-)?[0-9a-f]{8}", key.removeprefix(f"{PREFIX}."))
    assert key != browse_key(PREFIX, name + "2")


def config(**overrides: Any) -> OpcUaConfig:
    data: dict[str, Any] = {
        "kind": "opcua",
        "name": "t",
        "endpoint": "opc.tcp://127.0.0.1:4840",
        "device": PREFIX,
        "sampling_interval_ms": 250,
        "nodes": [
            {
                "node_id": "ns=2;s=TK201.Level",
                "tag": f"{PREFIX}.level",
                "deadband": {"type": "absolute", "value": 0.5},
            }
        ],
        "browse": [{"root": "ns=2;s=TK201", "tag_prefix": PREFIX, "sampling_interval_ms": 1000}],
    }
    data.update(overrides)
    return OpcUaConfig.model_validate(data)


def found(name: str, ident: str | None = None) -> Found:
    return Found(node_id=ua.NodeId(ident or f"TK201.{name}", 2), browse_name=name)


def test_plan_named_nodes_first_then_browsed_ones() -> None:
    plan = make_plan(config(), [[found("Level"), found("Temperature"), found("Running")]])
    assert [(w.label, w.key) for w in plan.watches] == [
        ("ns=2;s=TK201.Level", f"{PREFIX}.level"),
        ("ns=2;s=TK201.Temperature", f"{PREFIX}.temperature"),
        ("ns=2;s=TK201.Running", f"{PREFIX}.running"),
    ]
    level, temperature, _ = plan.watches
    assert level.found is None, "a named node is the plant's, not declared"
    assert (level.sampling_interval_ms, level.deadband.type) == (250, "absolute")
    assert temperature.found is not None
    assert (temperature.sampling_interval_ms, temperature.deadband.type) == (1000, "none")
    assert plan.problems == ()


def test_plan_keys_every_name_and_reports_keys_taken_twice() -> None:
    plan = make_plan(
        config(),
        [[found("温度", "TK201.T1"), found("level", "TK201.OtherLevel"), found("Running")]],
    )
    assert [w.key for w in plan.watches] == [
        f"{PREFIX}.level",
        browse_key(PREFIX, "温度"),
        f"{PREFIX}.running",
    ]
    assert [(p.label, p.key) for p in plan.problems] == [
        ("ns=2;s=TK201.OtherLevel", f"{PREFIX}.level"),
    ]
    assert "already read from ns=2;s=TK201.Level" in plan.problems[0].detail


def test_plan_skips_variables_found_twice() -> None:
    roots = [
        {"root": "ns=2;s=TK201", "tag_prefix": PREFIX},
        {"root": "ns=2;s=Area", "tag_prefix": "lpg.main.sphere-farm.area", "recursive": True},
    ]
    plan = make_plan(config(browse=roots), [[found("Running")], [found("Running")]])
    assert [w.key for w in plan.watches] == [f"{PREFIX}.level", f"{PREFIX}.running"]
    assert plan.problems == ()


def test_namespace_uris_are_resolved() -> None:
    named = config(
        nodes=[{"node_id": "nsu=urn:plc:tanks;s=TK201.Level", "tag": f"{PREFIX}.level"}],
        browse=[],
    )
    assert needs_namespaces(named) and not needs_namespaces(config())
    namespaces = ["http://opcfoundation.org/UA/", "urn:server", "urn:plc:tanks"]
    (watch,) = make_plan(named, [], namespaces).watches
    assert watch.node_id == ua.NodeId("TK201.Level", 2)
    (lost,) = make_plan(named, [], namespaces[:2]).watches
    assert lost.node_id is None
    assert resolve(ua.NodeId(5, 3), []) == ua.NodeId(5, 3)


def test_deadband_filters() -> None:
    assert deadband_filter(DeadbandConfig()) is None
    absolute = deadband_filter(DeadbandConfig(type="absolute", value=0.5))
    assert absolute is not None
    assert (absolute.DeadbandType, absolute.DeadbandValue) == (ua.DeadbandType.Absolute, 0.5)
    assert absolute.Trigger == ua.DataChangeTrigger.StatusValue
    percent = deadband_filter(DeadbandConfig(type="percent", value=2))
    assert percent is not None
    assert (percent.DeadbandType, percent.DeadbandValue) == (ua.DeadbandType.Percent, 2.0)


def test_item_requests() -> None:
    request = item_request(
        ua.NodeId("TK201.Level", 2),
        handle=7,
        sampling_interval_ms=100,
        publishing_interval_ms=1000,
        deadband=DeadbandConfig(type="absolute", value=1),
    )
    assert request.ItemToMonitor.NodeId == ua.NodeId("TK201.Level", 2)
    parameters = request.RequestedParameters
    assert (parameters.ClientHandle, parameters.SamplingInterval) == (7, 100)
    assert parameters.QueueSize == 10, "a publishing interval's worth of samples"
    assert parameters.DiscardOldest
    assert isinstance(parameters.Filter, ua.DataChangeFilter)
    plain = item_request(
        ua.NodeId(1, 2),
        handle=0,
        sampling_interval_ms=500,
        publishing_interval_ms=100,
        deadband=DeadbandConfig(),
    )
    assert not isinstance(plain.RequestedParameters.Filter, ua.DataChangeFilter)
    assert plain.RequestedParameters.QueueSize == 1


def test_subscription_parameters() -> None:
    assert keepalive_count(1000, 5) == 5
    assert keepalive_count(50, 0.01) == 1
    assert queue_size(1, 1_000_000) == 1000
    parameters = subscription_parameters(500, 5)
    assert parameters.RequestedPublishingInterval == 500
    assert parameters.RequestedMaxKeepAliveCount == 10
    assert parameters.RequestedLifetimeCount >= 3 * parameters.RequestedMaxKeepAliveCount


def test_status_codes_map_to_connector_errors() -> None:
    refused = from_status(ua.StatusCodes.BadIdentityTokenRejected, "activate")
    assert isinstance(refused, AuthError) and not refused.retryable
    assert refused.code == "opcua.BadIdentityTokenRejected"
    lost = from_status(ua.StatusCodes.BadSessionClosed, "read")
    assert isinstance(lost, ConnectError) and lost.code == "opcua.BadSessionClosed"
    odd = from_status(ua.StatusCodes.BadTooManyMonitoredItems, "create")
    assert isinstance(odd, ProtocolError) and odd.code == "opcua.BadTooManyMonitoredItems"


@pytest.mark.parametrize(
    ("exc", "kind", "code"),
    [
        (BadUserAccessDenied(), AuthError, "opcua.BadUserAccessDenied"),
        (BadNodeIdUnknown(), ProtocolError, "opcua.BadNodeIdUnknown"),
        (UaStatusCodeError(ua.StatusCodes.BadTimeout), ConnectError, "opcua.BadTimeout"),
        (ConnectionRefusedError(111, "refused"), ConnectError, "opcua.BadConnectionRejected"),
        (ConnectionResetError(104, "reset"), ConnectError, "opcua.BadConnectionClosed"),
        (ConnectionError("client is disconnected"), ConnectError, "opcua.BadConnectionClosed"),
        (TimeoutError(), ConnectError, "opcua.BadTimeout"),
        (OSError(113, "No route to host"), ConnectError, "opcua.BadCommunicationError"),
        (UaError("Server certificate mismatch"), ProtocolError, "opcua.UaError"),
        (UaError("No matching endpoints: 1, …#None"), AuthError, "opcua.BadSecurityPolicyRejected"),
    ],
)
def test_exceptions_map_to_connector_errors(exc: BaseException, kind: type, code: str) -> None:
    error = from_exception(exc)
    assert type(error) is kind
    assert error.code == code
    assert from_exception(error) is error
