"""Prometheus metrics of the provider, in their own registry (one per server, so tests and
several servers in one process never share counters)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# Gatekeeper's webhook budget is 3 s by default; the buckets resolve the sub-millisecond cached
# path as well as cold verifications.
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "attest_provider_requests", "HTTP requests by path and status code.",
            ["path", "code"], registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "attest_provider_request_seconds", "Time to answer a /validate request.",
            buckets=_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.keys = Counter(
            "attest_provider_keys", "Keys answered, by outcome "
            "(allowed, denied, not_applicable, error, timeout).",
            ["outcome"], registry=self.registry,
        )  # fmt: skip
        self.cache = Counter(
            "attest_provider_cache", "Verification cache lookups by result (hit, miss, shared).",
            ["result"], registry=self.registry,
        )  # fmt: skip
        self.verify_seconds = Histogram(
            "attest_provider_verify_seconds", "Time of one cold resolution + verification.",
            buckets=_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.in_flight = Gauge(
            "attest_provider_verifications_in_flight", "Verifications running now.",
            registry=self.registry,
        )  # fmt: skip

    def render(self) -> bytes:
        return generate_latest(self.registry)
