"""Runs the course notebooks headless and reports on them."""

from course.handover import hand_over, handed_over
from course.metrics import record_metrics

__all__ = ["hand_over", "handed_over", "record_metrics"]
