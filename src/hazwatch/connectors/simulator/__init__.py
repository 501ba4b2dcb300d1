"""simulator: a small chemical park with physically plausible signals and scripted incidents.

``ParkSimulator(spec, tag_ids, start=…, seed=…)`` turns a plant file into batches of
readings; ``demo_plant_text()`` (the ``demo_park.yaml`` shipped here) and ``DEMO_INCIDENTS``
are the park and the script of ``hazwatch demo``. See docs/plant-file.md, "Simulator".
"""

from hazwatch.connectors.simulator.demo import DEMO_INCIDENTS, DEMO_PLANT_FILE, demo_plant_text
from hazwatch.connectors.simulator.incident import Incident, IncidentError, IncidentKind
from hazwatch.connectors.simulator.simulator import ParkSimulator

__all__ = [
    "DEMO_INCIDENTS",
    "DEMO_PLANT_FILE",
    "Incident",
    "IncidentError",
    "IncidentKind",
    "ParkSimulator",
    "demo_plant_text",
]
