"""simulator: a small chemical park with physically plausible signals and scripted incidents.

``ParkSimulator(spec, tag_ids, start=…, seed=…)`` turns a plant file into batches of
readings; ``demo_plant_text()`` (the ``demo_park.yaml`` shipped here), ``DEMO_INCIDENTS``
and ``DEMO_CLIMATE`` are the park, the script and the weather of ``hazwatch demo``;
``select_incidents("chlorine-leak@60")`` picks and re-times incidents of the script. See
docs/plant-file.md, "Simulator".
"""

from hazwatch.connectors.simulator.demo import (
    DEMO_CLIMATE,
    DEMO_INCIDENTS,
    DEMO_PLANT_FILE,
    demo_plant_text,
    select_incidents,
)
from hazwatch.connectors.simulator.incident import Incident, IncidentError, IncidentKind
from hazwatch.connectors.simulator.simulator import ParkSimulator
from hazwatch.connectors.simulator.weather import Climate

__all__ = [
    "DEMO_CLIMATE",
    "DEMO_INCIDENTS",
    "DEMO_PLANT_FILE",
    "Climate",
    "Incident",
    "IncidentError",
    "IncidentKind",
    "ParkSimulator",
    "demo_plant_text",
    "select_incidents",
]
