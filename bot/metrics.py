"""Prometheus metrics for one engine: jobs, latency, queue depth, quota refusals, errors, images.

Each `Metrics` owns its own CollectorRegistry (no process-global state), so two engines in one
process (tests) never share counters. `bot.app.health` serves `render()` on `/metrics`.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

__all__ = ["CONTENT_TYPE", "Metrics"]

# The classic text format every Prometheus version scrapes (our names need no escaping).
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

# Seconds: sync providers answer a 2K image in ~10-30 s, polling ones up to the deadline.
LATENCY_BUCKETS = (1.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0, 300.0, 600.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.jobs = Counter(
            "seedbot_jobs",
            "Jobs finished, by outcome (succeeded, failed, cancelled, checkpointed, taken_over) and provider.",
            ["status", "provider"],
            registry=r,
        )
        self.latency = Histogram(
            "seedbot_generation_seconds",
            "Time from a job's provider call to its images, by provider that answered.",
            ["provider"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.queue_depth = Gauge("seedbot_queue_depth", "Jobs waiting for a concurrency slot.", registry=r)
        self.running = Gauge("seedbot_jobs_running", "Jobs holding a concurrency slot.", registry=r)
        self.quota_refusals = Counter(
            "seedbot_quota_refusals",
            "Requests refused by quota, by scope (daily, monthly, pool, blocked).",
            ["scope"],
            registry=r,
        )
        self.provider_errors = Counter(
            "seedbot_provider_errors",
            "Provider errors that ended a job (after retries and failover), by provider and kind.",
            ["provider", "kind"],
            registry=r,
        )
        self.images = Counter(
            "seedbot_images_delivered",
            "Images delivered to users, by platform.",
            ["platform"],
            registry=r,
        )

    def watch_gate(self, queued: Callable[[], int], running: Callable[[], int]) -> None:
        """Read queue depth and running slots from the Gate whenever metrics are scraped."""
        self.queue_depth.set_function(lambda: float(queued()))
        self.running.set_function(lambda: float(running()))

    def job_finished(self, status: str, provider: str | None) -> None:
        self.jobs.labels(status=status, provider=provider or "none").inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
