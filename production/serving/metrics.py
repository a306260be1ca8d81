"""The endpoint's service metrics, in Prometheus's format: what a dashboard watches live.

score.py records every request here: its status class, its latency, how many images it
held, the label predicted for each and how many were flagged as novel. Under gunicorn each
worker is its own process, so the metrics are kept in prometheus-client's multiprocess
mode, one file per worker in ``PROMETHEUS_MULTIPROC_DIR``; the local endpoint's master
process adds them up and serves them on 127.0.0.1 (``production/gunicorn_config.py``).
Without that variable (in a managed endpoint, say) they are kept in memory and cost next
to nothing; Azure Monitor shows the same signals there.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

# run()'s latency histogram: a quantile is only known to lie between two of these bounds.
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10)
REQUESTS = Counter("score_requests", "Scoring requests by status class", ["status"])
LATENCY = Histogram(
    "score_latency_seconds",
    "Time run() took per request",
    buckets=LATENCY_BUCKETS,
)
IMAGES = Histogram(
    "score_images_per_request", "Images in a request", buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256)
)
PREDICTED = Counter("score_predicted", "Images by predicted label", ["label"])
NOVEL = Counter("score_novel", "Images flagged as novel (unlike the training digits)")


def record(status: int, seconds: float, labels: list[str] = (), novel: int = 0) -> None:
    """One request: its HTTP status, how long run() took, the labels it answered and how
    many of its images were flagged as novel."""
    REQUESTS.labels(status=f"{status // 100}xx").inc()
    LATENCY.observe(seconds)
    if labels:
        IMAGES.observe(len(labels))
        for label in labels:
            PREDICTED.labels(label=label).inc()
        NOVEL.inc(novel)
