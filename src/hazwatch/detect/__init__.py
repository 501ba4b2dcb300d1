"""detect: readings → condition events (limits with deadband and delays, offline, frozen)."""
