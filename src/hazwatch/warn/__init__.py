"""Early warning: detectors that say a process is becoming abnormal (pure logic)."""
