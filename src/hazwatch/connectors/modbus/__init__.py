"""The Modbus TCP connector family (kind ``modbus``): registers and bits polled from the
devices behind one TCP connection, on pymodbus. See docs/modbus.md."""

from hazwatch.connectors.modbus.config import ModbusConfig
from hazwatch.connectors.modbus.connector import ModbusConnector

CONFIG = ModbusConfig
CONNECTOR = ModbusConnector

__all__ = ["CONFIG", "CONNECTOR", "ModbusConfig", "ModbusConnector"]
