"""Sparkplug B: hazwatch as a Sparkplug host application reading edge nodes over MQTT.

``CONFIG`` and ``CONNECTOR`` are what the connector registry builds a ``kind: sparkplug``
connector from. ``sparkplug_b_pb2`` is generated from ``sparkplug_b.proto``; do not edit it.
"""

from hazwatch.connectors.sparkplug.config import SparkplugConfig
from hazwatch.connectors.sparkplug.connector import SparkplugConnector

CONFIG = SparkplugConfig
CONNECTOR = SparkplugConnector

__all__ = ["CONFIG", "CONNECTOR", "SparkplugConfig", "SparkplugConnector"]
