"""mqtt: readings published as JSON to an MQTT broker under hazwatch/v1/<enterprise>/…
(see docs/mqtt.md); broker-side device credentials and ACLs in ``dynsec``."""

from hazwatch.connectors.mqtt.config import MqttConfig
from hazwatch.connectors.mqtt.connector import MqttConnector

CONFIG = MqttConfig
CONNECTOR = MqttConnector

__all__ = ["CONFIG", "CONNECTOR", "MqttConfig", "MqttConnector"]
