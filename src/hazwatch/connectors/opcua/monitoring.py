"""What the connector asks of the server: subscription parameters, monitored item requests
and their deadband filters. Pure: settings in, OPC UA request structures out.

* One subscription publishes every ``publishing_interval_ms``; when nothing changed it sends
  a keep-alive at least every health check interval, and it lives ten keep-alive periods
  without a publish request before the server drops it.
* Each monitored item samples its variable every ``sampling_interval_ms`` and queues as many
  samples as fit in one publishing interval (oldest dropped first), so the changes between
  two publishes all arrive.
* A deadband of ``none`` sends no filter (every change of status or value is reported);
  ``absolute`` and ``percent`` send a DataChangeFilter (trigger: status or value) with
  DeadbandType Absolute or Percent.
"""

from __future__ import annotations

import math

from asyncua import ua
from asyncua.ua.attribute_ids import AttributeIds

from hazwatch.connectors.opcua.config import DeadbandConfig

MAX_QUEUE = 1000
LIFETIME_KEEPALIVES = 10
MAX_NOTIFICATIONS = 10_000

_DEADBAND_TYPES = {"absolute": ua.DeadbandType.Absolute, "percent": ua.DeadbandType.Percent}


def deadband_filter(deadband: DeadbandConfig) -> ua.DataChangeFilter | None:
    """The filter of a deadband, or None for no deadband."""
    if deadband.type == "none":
        return None
    return ua.DataChangeFilter(
        Trigger=ua.DataChangeTrigger.StatusValue,
        DeadbandType=int(_DEADBAND_TYPES[deadband.type]),
        DeadbandValue=float(deadband.value),
    )


def keepalive_count(publishing_interval_ms: float, health_check_interval_s: float) -> int:
    """Publishing intervals between keep-alives: about one per health check interval."""
    return max(1, math.ceil(health_check_interval_s * 1000 / publishing_interval_ms))


def subscription_parameters(
    publishing_interval_ms: float, health_check_interval_s: float
) -> ua.CreateSubscriptionParameters:
    keepalives = keepalive_count(publishing_interval_ms, health_check_interval_s)
    return ua.CreateSubscriptionParameters(
        RequestedPublishingInterval=publishing_interval_ms,
        RequestedLifetimeCount=keepalives * LIFETIME_KEEPALIVES,
        RequestedMaxKeepAliveCount=keepalives,
        MaxNotificationsPerPublish=MAX_NOTIFICATIONS,
        PublishingEnabled=True,
        Priority=0,
    )


def queue_size(sampling_interval_ms: float, publishing_interval_ms: float) -> int:
    """Samples one publishing interval can hold (at least 1)."""
    return min(MAX_QUEUE, max(1, math.ceil(publishing_interval_ms / sampling_interval_ms)))


def item_request(
    node_id: ua.NodeId,
    *,
    handle: int,
    sampling_interval_ms: float,
    publishing_interval_ms: float,
    deadband: DeadbandConfig,
) -> ua.MonitoredItemCreateRequest:
    """The request to monitor the value of ``node_id``, its notifications marked ``handle``."""
    parameters = ua.MonitoringParameters(
        ClientHandle=handle,
        SamplingInterval=sampling_interval_ms,
        QueueSize=queue_size(sampling_interval_ms, publishing_interval_ms),
        DiscardOldest=True,
    )
    filter_ = deadband_filter(deadband)
    if filter_ is not None:
        parameters.Filter = filter_
    return ua.MonitoredItemCreateRequest(
        ItemToMonitor=ua.ReadValueId(NodeId=node_id, AttributeId=AttributeIds.Value),
        MonitoringMode=ua.MonitoringMode.Reporting,
        RequestedParameters=parameters,
    )
