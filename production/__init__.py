"""Phase 3 of the course: score.py, the local endpoint, traffic, drift and retraining."""
