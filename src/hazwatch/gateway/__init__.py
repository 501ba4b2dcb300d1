"""gateway: the edge gateway (connectors at the plant, a store-and-forward queue, upstream)."""

from hazwatch.gateway.config import (
    GatewayConfig,
    GatewayConfigError,
    load_gateway_config,
    parse_gateway_config,
)
from hazwatch.gateway.gateway import Gateway, connectors_of, make_upstream, run_gateway
from hazwatch.gateway.status import GatewayStatus

__all__ = [
    "Gateway",
    "GatewayConfig",
    "GatewayConfigError",
    "GatewayStatus",
    "connectors_of",
    "load_gateway_config",
    "make_upstream",
    "parse_gateway_config",
    "run_gateway",
]
