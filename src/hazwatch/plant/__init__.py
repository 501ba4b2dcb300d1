"""plant: reading and writing plant YAML files (docs/plant-file.md)."""

from hazwatch.plant.errors import PlantFileError, PlantProblem, ProblemKind
from hazwatch.plant.file import dump_plant, load_plant, parse_plant

__all__ = [
    "PlantFileError",
    "PlantProblem",
    "ProblemKind",
    "dump_plant",
    "load_plant",
    "parse_plant",
]
