"""Alembic migrations of the relational schema (run by ``Database.upgrade``)."""
