"""plant: reading and writing plant YAML files."""
