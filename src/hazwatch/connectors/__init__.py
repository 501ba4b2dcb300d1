"""connectors: sources of batches (HTTP, simulator; MQTT, OPC UA, Modbus later)."""
