"""ingest: validate incoming batches, reject with reasons, keep what is valid."""
