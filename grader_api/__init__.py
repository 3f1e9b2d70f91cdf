"""The web service: FastAPI pages and JSON API over PostgreSQL (or SQLite), feeding Celery workers."""
