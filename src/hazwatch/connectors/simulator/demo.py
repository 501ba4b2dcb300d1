"""The demo park and its incident script (docs/plant-file.md, "Simulator").

All four incidents play out within the first 60 simulated minutes, so that ``hazwatch demo
--speed 60`` shows each of them, alarms included, within one real minute:

- overfill, ``lpg.main.sphere-farm.tk-201.level``, 2–34 min: the level crosses H at about
  26 min and HH at about 29 min, peaks near 97 %, and is pumped back afterwards;
- frozen, ``chlor.main.cl2-storage.v-101.temperature``, 8–38 min: the same value, repeated;
  FROZEN after 120 s;
- offline, ``chlor.main.cl2-storage.gas-detection.at-103``, 10–25 min: no readings; OFFLINE
  after 5 min;
- leak, ``coldchain.main.refrigeration.gas-detection.at-302``, 12–42 min: NH3 rises through H
  at about 25 min and HH at about 35 min, and decays after the leak is isolated.
"""

from __future__ import annotations

from importlib import resources

from hazwatch.connectors.simulator.incident import Incident, IncidentKind

DEMO_PLANT_FILE = "demo_park.yaml"
_MINUTE = 60.0

OVERFILL_TAG = "lpg.main.sphere-farm.tk-201.level"
FROZEN_TAG = "chlor.main.cl2-storage.v-101.temperature"
OFFLINE_TAG = "chlor.main.cl2-storage.gas-detection.at-103"
LEAK_TAG = "coldchain.main.refrigeration.gas-detection.at-302"

DEMO_INCIDENTS: tuple[Incident, ...] = (
    Incident(
        kind=IncidentKind.OVERFILL,
        tag=OVERFILL_TAG,
        start_s=2 * _MINUTE,
        end_s=34 * _MINUTE,
        rate=360.0,
        note="Receipt into sphere TK-201 left running: 360 m³/h more in than out.",
    ),
    Incident(
        kind=IncidentKind.FROZEN,
        tag=FROZEN_TAG,
        start_s=8 * _MINUTE,
        end_s=38 * _MINUTE,
        note="Temperature transmitter of tank V-101 hangs and repeats its last value.",
    ),
    Incident(
        kind=IncidentKind.OFFLINE,
        tag=OFFLINE_TAG,
        start_s=10 * _MINUTE,
        end_s=25 * _MINUTE,
        note="Chlorine detector AT-103 loses its power supply.",
    ),
    Incident(
        kind=IncidentKind.LEAK,
        tag=LEAK_TAG,
        start_s=12 * _MINUTE,
        end_s=42 * _MINUTE,
        rate=0.4,
        note="Shaft seal of compressor C-301 starts leaking ammonia, up to 0.4 g/s.",
    ),
)


def demo_plant_text() -> str:
    """The YAML text of the demo plant file, as shipped in the package.

    Read it with ``hazwatch.plant.parse_plant(text, source=DEMO_PLANT_FILE)``.
    """
    return resources.files(__package__).joinpath(DEMO_PLANT_FILE).read_text(encoding="utf-8")
