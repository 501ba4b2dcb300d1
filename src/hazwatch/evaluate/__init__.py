"""System evaluation: major-hazard grading, risk colour and KPIs; pure logic."""
