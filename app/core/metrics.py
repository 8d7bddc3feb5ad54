"""Prometheus metrics of this process, and their exposition for GET /metrics.

Counters and histograms are per process (each process is scraped on its own, the standard Prometheus
practice; sum them in queries). Queue depths are read from the database at scrape time, so any process
tells the same figure for the whole service.
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

CONTENT_TYPE = CONTENT_TYPE_LATEST  # what exposition() writes
REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

HTTP_REQUEST_SECONDS = Histogram(
    "parcours_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route template and status.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
FEEDBACK_ANALYSED = Counter(
    "parcours_feedback_analysed", "Pieces of feedback analysed and stored by this process.", registry=REGISTRY
)
FEEDBACK_FAILED = Counter(
    "parcours_feedback_failed", "Pieces of feedback the pipeline could not analyse.", registry=REGISTRY
)
ANALYSIS_BATCH_SECONDS = Histogram(
    "parcours_analysis_batch_seconds",
    "Time to claim, analyse and store one batch of feedback.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
    registry=REGISTRY,
)
UPLOAD_ROWS = Counter(
    "parcours_upload_rows",
    "CSV rows read from uploads: stored (new feedback), duplicate (already stored) or failed (invalid).",
    ["outcome"],
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "parcours_rate_limited", "Requests refused with 429, by the limit that was over.", ["limit"], registry=REGISTRY
)


class _QueueDepths(Collector):
    def __init__(self, depths: Mapping[str, int]) -> None:
        self.depths = depths

    def collect(self) -> list[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "parcours_queue_depth", "Jobs waiting or running, by kind (read from the database).", labels=["kind"]
        )
        for kind, depth in sorted(self.depths.items()):
            gauge.add_metric([kind], depth)
        return [gauge]


def exposition(queue_depths: Mapping[str, int]) -> bytes:
    """This process's metrics and the queue depths, in the Prometheus text format."""
    queues = CollectorRegistry(auto_describe=True)
    queues.register(_QueueDepths(queue_depths))
    return generate_latest(REGISTRY) + generate_latest(queues)
