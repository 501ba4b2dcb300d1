"""storage: the relational model (SQLAlchemy + Alembic) and the reading store (raw + rollups)."""
