"""auth: password hashes (argon2), short-lived bearer tokens, device API keys."""
