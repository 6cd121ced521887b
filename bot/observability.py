"""What an operator and a reverse proxy ask of a worker: ``/metrics``, ``/healthz``, ``/readyz``.

Metrics live in one ``CollectorRegistry`` per process, never prometheus-client's global one, so
tests and several apps in one process do not collide. Behind a proxy each worker is scraped on
its own port; when ``PROMETHEUS_MULTIPROC_DIR`` is set (workers forked by one supervisor sharing
a port, as prometheus-client's documentation describes), ``/metrics`` serves the merged values
of every process from that directory instead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from bot.conversation.ports import TaggerPort, TagResult

# Update handling is milliseconds; the buckets reach into the seconds a stalled database costs.
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The worker's metrics, registered in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.events = Counter(
            "pikir_events_total",
            "Citizen events handled (Telegram updates, web chat steps), by channel and result.",
            ["channel", "result"],
            registry=r,
        )
        self.event_seconds = Histogram(
            "pikir_event_seconds",
            "Time to handle one citizen event, from receipt to commit.",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.outbox_depth = Gauge(
            "pikir_outbox_pending", "Outbox messages waiting to be sent.", registry=r
        )
        self.outbox_sent = Counter(
            "pikir_outbox_sent_total", "Messages the channel accepted.", ["channel"], registry=r
        )
        self.outbox_failed = Counter(
            "pikir_outbox_failed_total",
            "Deliveries that failed (retried later or given up).",
            ["channel"],
            registry=r,
        )
        self.outbox_throttled = Counter(
            "pikir_outbox_throttled_total",
            "Deliveries the channel refused for rate (HTTP 429).",
            ["channel"],
            registry=r,
        )
        self.job_runs = Counter(
            "pikir_job_runs_total",
            "Scheduled job runs this worker made, by job and outcome.",
            ["job", "outcome"],
            registry=r,
        )
        self.classifier_seconds = Histogram(
            "pikir_classifier_seconds",
            "Time to tag one complaint.",
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1),
            registry=r,
        )
        self.lock_wait_seconds = Histogram(
            "pikir_chat_lock_wait_seconds",
            "Time an event waited for its chat's lock (ordering window included).",
            ["scope"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.pool_in_use = Gauge(
            "pikir_db_pool_in_use", "Database connections checked out of the pool.", registry=r
        )

    def event_handled(self, channel: str, result: str, seconds: float) -> None:
        """Count one citizen event (the core's observer port)."""
        self.events.labels(channel, result).inc()
        self.event_seconds.labels(channel).observe(seconds)

    def delivery(self, channel: str, result: str) -> None:
        """Count one outbox delivery: ``sent``, ``failed`` or ``throttled``."""
        counter = {
            "sent": self.outbox_sent,
            "failed": self.outbox_failed,
            "throttled": self.outbox_throttled,
        }[result]
        counter.labels(channel).inc()

    def lock_waited(self, scope: str, seconds: float) -> None:
        """One event waited ``seconds`` for its chat's lock (the coordination's observer)."""
        self.lock_wait_seconds.labels(scope).observe(seconds)

    def job_finished(self, job: str, outcome: str) -> None:
        """Count one scheduled job run this worker made."""
        self.job_runs.labels(job, outcome).inc()

    def exposition(self) -> bytes:
        """The metrics in the Prometheus text format."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            merged = CollectorRegistry()
            multiprocess.MultiProcessCollector(merged)
            return generate_latest(merged)
        return generate_latest(self.registry)


class MeteredTagger:
    """A tagger that times every call of the one it wraps."""

    def __init__(self, tagger: TaggerPort, metrics: Metrics) -> None:
        self._tagger = tagger
        self._metrics = metrics

    def tag(self, text: str) -> TagResult | None:
        """Tag ``text`` with the wrapped tagger, recording how long it took."""
        started = time.perf_counter()
        try:
            return self._tagger.tag(text)
        finally:
            self._metrics.classifier_seconds.observe(time.perf_counter() - started)


Probe = Callable[[], Awaitable[str | None]]
"""A readiness check: None when fine, else a short reason."""


def metrics_handler(
    metrics: Metrics, refresh: Callable[[], Awaitable[None]]
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """``GET /metrics``: refresh the sampled gauges, then the text exposition."""

    async def handler(request: web.Request) -> web.Response:
        await refresh()
        response = web.Response(body=metrics.exposition())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    return handler


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process answers. (A database outage is readiness, not a reason to restart.)"""
    return web.json_response({"status": "ok"})


def readyz_handler(probes: dict[str, Probe]) -> Callable[[web.Request], Awaitable[web.Response]]:
    """``GET /readyz``: 200 when every probe passes, else 503 naming what failed."""

    async def handler(request: web.Request) -> web.Response:
        checks: dict[str, str] = {}
        for name, probe in probes.items():
            try:
                problem = await probe()
            except Exception as exc:  # a probe that cannot even run is a failed check
                problem = type(exc).__name__
            checks[name] = problem or "ok"
        ready = all(value == "ok" for value in checks.values())
        return web.json_response(
            {"status": "ready" if ready else "unavailable", **checks}, status=200 if ready else 503
        )

    return handler
