"""Sparkplug B topic names."""

from __future__ import annotations

import pytest

from hazwatch.connectors.sparkplug.topic import (
    MessageType,
    Topic,
    TopicError,
    command_topic,
    group_filter,
    parse,
    state_topic,
)


def test_node_device_and_state_topics() -> None:
    assert parse("spBv1.0/g/NDATA/n") == Topic(type=MessageType.NDATA, group="g", edge_node="n")
    assert parse("spBv1.0/g/DBIRTH/n/d") == Topic(
        type=MessageType.DBIRTH, group="g", edge_node="n", device="d"
    )
    assert parse("spBv1.0/STATE/host") == Topic(type=MessageType.STATE, group="", edge_node="host")


@pytest.mark.parametrize(
    "topic",
    [
        "spAv1.0/g/NDATA/n",
        "spBv1.0/g/NDATA",
        "spBv1.0/g/NDATA/n/d",
        "spBv1.0/g/DDATA/n",
        "spBv1.0/g/DDATA/n//",
        "spBv1.0/g/FOO/n",
        "spBv1.0/g/STATE/n",
        "spBv1.0/STATE/",
        "spBv1.0/STATE/a/b",
        "spBv1.0//NDATA/n",
    ],
)
def test_other_shapes_are_refused(topic: str) -> None:
    with pytest.raises(TopicError):
        parse(topic)


def test_topics_a_host_uses() -> None:
    assert group_filter("g") == "spBv1.0/g/#"
    assert state_topic("h") == "spBv1.0/STATE/h"
    assert command_topic("g", "n") == "spBv1.0/g/NCMD/n"
