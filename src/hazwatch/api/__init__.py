"""api: the FastAPI application (REST under /api/v1, live stream, health, metrics)."""
