"""Alembic revisions, oldest first: ``0001_core`` and those that follow it."""
