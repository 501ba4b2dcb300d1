"""Notification channels, one module each, all passing the same conformance suite."""
