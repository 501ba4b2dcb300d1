"""Notifications: mute → dedup → group → rate-limit → plan (pure), then send with retries
and fallback over the channels, recording each delivery (see docs/notifications.md)."""
