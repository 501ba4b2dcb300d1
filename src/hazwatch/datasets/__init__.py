"""Public benchmark data sets (TEP, NAB, SKAB): readers and evaluation protocols."""
