"""alarms: the ISA-18.2 lifecycle of conditions as operators see them."""
