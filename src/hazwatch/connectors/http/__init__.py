"""http: the batch ingest endpoint's payload formats (JSON and CSV)."""
