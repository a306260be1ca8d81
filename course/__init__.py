"""Runs the course notebooks headless and reports on them."""

from course.metrics import record_metrics

__all__ = ["record_metrics"]
