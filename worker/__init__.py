"""Celery workers: the grading task, the reconciler, GPU assignment."""
