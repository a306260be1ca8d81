"""Phase 2 of the course: Azure ML v2 assets, their offline validation and submission."""
