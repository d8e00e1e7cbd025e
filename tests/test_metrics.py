"""bot/metrics.py: each Metrics counts on its own registry, jobs are labelled by status and
provider ("none" when none answered), the gate is read at scrape time, and render() gives the
text format Prometheus scrapes."""

from __future__ import annotations

import prometheus_client
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import CONTENT_TYPE, Metrics

NAMES = (
    "seedbot_jobs",
    "seedbot_generation_seconds",
    "seedbot_queue_depth",
    "seedbot_jobs_running",
    "seedbot_quota_refusals",
    "seedbot_provider_errors",
    "seedbot_images_delivered",
)


def lines(metrics: Metrics) -> list[str]:
    return metrics.render().decode().splitlines()


def test_two_metrics_never_share_counters() -> None:
    first, second = Metrics(), Metrics()  # one registry would refuse the second ("Duplicated timeseries")
    first.job_finished("succeeded", "demo")
    first.images.labels("discord").inc(4)
    assert 'seedbot_jobs_total{provider="demo",status="succeeded"} 1.0' in lines(first)
    assert not any(
        line.startswith(("seedbot_jobs_total", "seedbot_images_delivered_total")) for line in lines(second)
    )
    in_global = prometheus_client.REGISTRY.get_sample_value(
        "seedbot_jobs_total", {"provider": "demo", "status": "succeeded"}
    )
    assert in_global is None  # nothing reaches the process-global registry


def test_jobs_are_counted_by_status_and_provider() -> None:
    metrics = Metrics()
    metrics.job_finished("succeeded", "novita")
    metrics.job_finished("succeeded", "novita")
    metrics.job_finished("failed", "novita")
    metrics.job_finished("succeeded", "fal")
    text = lines(metrics)
    assert 'seedbot_jobs_total{provider="novita",status="succeeded"} 2.0' in text
    assert 'seedbot_jobs_total{provider="novita",status="failed"} 1.0' in text
    assert 'seedbot_jobs_total{provider="fal",status="succeeded"} 1.0' in text


def test_a_job_no_provider_answered_is_labelled_none() -> None:
    metrics = Metrics()
    metrics.job_finished("cancelled", None)
    metrics.job_finished("taken_over", None)
    text = lines(metrics)
    assert 'seedbot_jobs_total{provider="none",status="cancelled"} 1.0' in text
    assert 'seedbot_jobs_total{provider="none",status="taken_over"} 1.0' in text
    assert not any('provider="None"' in line or 'provider=""' in line for line in text)


def test_queue_depth_and_running_are_read_from_the_gate_at_each_scrape() -> None:
    gate = {"queued": 0, "running": 0}
    metrics = Metrics()
    metrics.watch_gate(lambda: gate["queued"], lambda: gate["running"])
    assert {"seedbot_queue_depth 0.0", "seedbot_jobs_running 0.0"} <= set(lines(metrics))
    gate.update(queued=5, running=8)  # no call on Metrics: the next scrape reads the new values
    assert {"seedbot_queue_depth 5.0", "seedbot_jobs_running 8.0"} <= set(lines(metrics))
    gate.update(queued=0, running=3)
    assert {"seedbot_queue_depth 0.0", "seedbot_jobs_running 3.0"} <= set(lines(metrics))


def test_latency_buckets_tell_a_typical_image_from_a_slow_one() -> None:
    """Sync providers answer in ~10-30 s: the buckets must split that range, not lump it in one."""
    metrics = Metrics()
    metrics.latency.labels("novita").observe(12.0)
    metrics.latency.labels("novita").observe(200.0)
    text = lines(metrics)
    assert 'seedbot_generation_seconds_bucket{le="10.0",provider="novita"} 0.0' in text
    assert 'seedbot_generation_seconds_bucket{le="15.0",provider="novita"} 1.0' in text
    assert 'seedbot_generation_seconds_bucket{le="180.0",provider="novita"} 1.0' in text
    assert 'seedbot_generation_seconds_bucket{le="300.0",provider="novita"} 2.0' in text
    assert 'seedbot_generation_seconds_count{provider="novita"} 2.0' in text
    assert 'seedbot_generation_seconds_sum{provider="novita"} 212.0' in text


def test_render_gives_every_metric_by_name_with_its_values() -> None:
    metrics = Metrics()
    metrics.watch_gate(lambda: 2, lambda: 1)
    metrics.job_finished("succeeded", "demo")
    metrics.latency.labels("demo").observe(3.0)
    metrics.quota_refusals.labels("daily").inc()
    metrics.provider_errors.labels("fal", "moderation").inc()
    metrics.images.labels("slack").inc(2)
    families = {f.name: f for f in text_string_to_metric_families(metrics.render().decode())}
    assert set(NAMES) <= set(families)
    assert families["seedbot_jobs"].type == "counter"
    assert families["seedbot_generation_seconds"].type == "histogram"
    assert families["seedbot_queue_depth"].type == "gauge"
    values = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in families.values()
        for s in f.samples
        if not s.name.endswith("_created")
    }
    assert values[("seedbot_queue_depth", ())] == 2.0
    assert values[("seedbot_jobs_running", ())] == 1.0
    assert values[("seedbot_quota_refusals_total", (("scope", "daily"),))] == 1.0
    assert values[("seedbot_provider_errors_total", (("kind", "moderation"), ("provider", "fal")))] == 1.0
    assert values[("seedbot_images_delivered_total", (("platform", "slack"),))] == 2.0
    assert values[("seedbot_generation_seconds_count", (("provider", "demo"),))] == 1.0


def test_served_as_the_classic_text_format() -> None:
    assert CONTENT_TYPE.startswith("text/plain; version=0.0.4")
    assert b"# TYPE seedbot_jobs_running gauge" in Metrics().render()
