"""simulator: a small chemical park with physically plausible signals and scripted incidents."""
