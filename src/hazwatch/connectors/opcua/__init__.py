"""OPC UA connectors (kind ``opcua``): a subscription to an OPC UA server's variables.

See ``docs/opcua.md`` for the configuration, the quality and timestamp rules and how a
lost server is found and reconnected.
"""

from hazwatch.connectors.opcua.config import OpcUaConfig
from hazwatch.connectors.opcua.connector import OpcUaConnector

CONFIG = OpcUaConfig
CONNECTOR = OpcUaConnector

__all__ = ["CONFIG", "CONNECTOR", "OpcUaConfig", "OpcUaConnector"]
