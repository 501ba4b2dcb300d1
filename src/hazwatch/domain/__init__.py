"""Values shared by every stage: scopes, tags, readings, conditions, alarms. No I/O here."""
