"""The reading store: raw readings and one-minute rollups, on SQLite or PostgreSQL.

``store.open_reading_store(engine)`` gives a ``ReadingStore``; ``schema.create_tables`` makes
its tables (as migration ``0002_readings`` does); ``history.history`` and
``downsample.downsample`` turn stored readings into chart points that keep every peak;
``peak.highest_reading`` finds a tag's highest reading over a period and when it was read.
"""
