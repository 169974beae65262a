"""The `/ws` manager's counters as Prometheus metrics, read at scrape time (nothing to update per message)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


class WebSocketCounters(Protocol):
    """What the collector reads: the manager's plain counters."""

    @property
    def connection_count(self) -> int: ...

    accepted: int
    events: int
    sent: int
    dropped: int
    disconnects: dict[str, int]
    rejected: dict[str, int]


class WebSocketCollector(Collector):
    """The counters of one manager, in the app's registry while the manager runs."""

    def __init__(self, counters: WebSocketCounters):
        self._counters = counters

    def collect(self) -> Iterable[Metric]:
        m = self._counters
        yield GaugeMetricFamily("mlsec_ws_clients", "WebSocket clients connected now.", value=m.connection_count)
        yield CounterMetricFamily("mlsec_ws_connections", "WebSocket clients accepted.", value=m.accepted)
        yield CounterMetricFamily("mlsec_ws_events", "Events read from the hub for fan-out.", value=m.events)
        yield CounterMetricFamily("mlsec_ws_messages_sent", "Messages sent to WebSocket clients.", value=m.sent)
        yield CounterMetricFamily(
            "mlsec_ws_messages_dropped", "Messages dropped because a client's queue was full.", value=m.dropped
        )
        yield _labelled(
            "mlsec_ws_disconnects",
            "WebSocket clients gone, by reason (closed, lost, failed, slow, timeout, shutdown).",
            m.disconnects,
        )
        yield _labelled(
            "mlsec_ws_rejected", "WebSocket connections refused, by reason (auth, capacity, unavailable).", m.rejected
        )


def _labelled(name: str, documentation: str, counts: Mapping[str, int]) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=["reason"])
    for reason, count in sorted(counts.items()):
        family.add_metric([reason], count)
    return family
