"""The demo park, its incident script and its weather (docs/plant-file.md, "Simulator").

All five incidents play out within the first 60 simulated minutes, so that ``hazwatch demo
--speed 60`` shows each of them, alarms included, within one real minute:

- overfill, ``lpg.main.sphere-farm.tk-201.level``, 2–34 min: the level crosses H at about
  26 min and HH at about 29 min, peaks near 97 %, and is pumped back afterwards;
- frozen, ``chlor.main.cl2-storage.v-101.temperature``, 8–38 min: the same value, repeated;
  FROZEN after 120 s;
- offline, ``chlor.main.cl2-storage.gas-detection.at-103``, 10–25 min: no readings; OFFLINE
  after 5 min;
- leak, ``coldchain.main.refrigeration.gas-detection.at-302``, 12–42 min: NH3 rises through H
  at about 25 min and HH at about 35 min, and decays after the leak is isolated;
- leak, ``chlor.main.cl2-storage.gas-detection.at-102``, 45–50 min, after all the others:
  Cl2 crosses H (0.34 ppm) at about 47.7 min and HH (0.68 ppm, level 2) at about 49.2 min,
  peaks near 0.9 ppm when the valve is isolated at 50 min and is back below H by about
  56 min; the store's other detectors stay below H.

The weather mast ``chlor.main.weather.mast`` shows ``DEMO_CLIMATE``: a light north-westerly
that carries a chlorine release from the storage over the park administration centre and
the LPG terminal's offices.

``select_incidents("chlorine-leak@60")`` plays only the chlorine leak, starting at 1
simulated minute (H at about 3.8 min, HH at about 5.2 min): what an end-to-end test of the
chlorine playbook needs.
"""

from __future__ import annotations

import math
from importlib import resources

from hazwatch.connectors.simulator.incident import Incident, IncidentError, IncidentKind
from hazwatch.connectors.simulator.weather import Climate

DEMO_PLANT_FILE = "demo_park.yaml"
_MINUTE = 60.0

# A light north-westerly of the winter monsoon over the lower Yangtze. From the chlorine
# storage (chlor, 32.0852 N 120.0031 E) it carries a release toward 122°: over the park
# administration centre (0.95 km, bearing 117.8°) and the LPG terminal's offices (1.63 km,
# bearing 121.5°), which lie inside the plume's footprint (docs/plant-file.md).
DEMO_CLIMATE = Climate(wind_from_deg=302.0, wind_m_s=2.5, cloud_oktas=3.0)

OVERFILL_TAG = "lpg.main.sphere-farm.tk-201.level"
FROZEN_TAG = "chlor.main.cl2-storage.v-101.temperature"
OFFLINE_TAG = "chlor.main.cl2-storage.gas-detection.at-103"
LEAK_TAG = "coldchain.main.refrigeration.gas-detection.at-302"
CHLORINE_LEAK_TAG = "chlor.main.cl2-storage.gas-detection.at-102"
MAST = "chlor.main.weather.mast"

DEMO_INCIDENTS: tuple[Incident, ...] = (
    Incident(
        kind=IncidentKind.OVERFILL,
        tag=OVERFILL_TAG,
        start_s=2 * _MINUTE,
        end_s=34 * _MINUTE,
        rate=360.0,
        note="Receipt into sphere TK-201 left running: 360 m³/h more in than out.",
        key="lpg-overfill",
    ),
    Incident(
        kind=IncidentKind.FROZEN,
        tag=FROZEN_TAG,
        start_s=8 * _MINUTE,
        end_s=38 * _MINUTE,
        note="Temperature transmitter of tank V-101 hangs and repeats its last value.",
        key="frozen-temperature",
    ),
    Incident(
        kind=IncidentKind.OFFLINE,
        tag=OFFLINE_TAG,
        start_s=10 * _MINUTE,
        end_s=25 * _MINUTE,
        note="Chlorine detector AT-103 loses its power supply.",
        key="offline-detector",
    ),
    Incident(
        kind=IncidentKind.LEAK,
        tag=LEAK_TAG,
        start_s=12 * _MINUTE,
        end_s=42 * _MINUTE,
        rate=0.4,
        note="Shaft seal of compressor C-301 starts leaking ammonia, up to 0.4 g/s.",
        key="ammonia-leak",
    ),
    Incident(
        kind=IncidentKind.LEAK,
        tag=CHLORINE_LEAK_TAG,
        start_s=45 * _MINUTE,
        end_s=50 * _MINUTE,
        rate=0.04,
        note="Packing of V-101's bottom outlet valve starts leaking chlorine, up to 40 mg/s.",
        key="chlorine-leak",
    ),
)


def select_incidents(selection: str) -> tuple[Incident, ...]:
    """The demo incidents named in ``selection``, each optionally moved to another start.

    ``selection`` is a comma-separated list of incident keys (``chlorine-leak``), each
    optionally followed by ``@`` and its start in seconds after the simulator's start
    (``chlorine-leak@60``); an empty selection is a quiet plant. Raises ``IncidentError``
    for an unknown key or a start that is not a number of seconds ≥ 0.
    """
    by_key = {i.key: i for i in DEMO_INCIDENTS}
    picked: list[Incident] = []
    for item in (part.strip() for part in selection.split(",")):
        if not item:
            continue
        key, at, start = item.partition("@")
        incident = by_key.get(key.strip())
        if incident is None:
            known = ", ".join(by_key)
            raise IncidentError(f"unknown incident {key.strip()!r}; the demo script has: {known}")
        if at:
            try:
                start_s = float(start)
            except ValueError:
                start_s = math.nan
            if not (math.isfinite(start_s) and start_s >= 0):
                raise IncidentError(f"{item!r}: the start must be a number of seconds >= 0")
            incident = incident.at(start_s)
        picked.append(incident)
    return tuple(picked)


def demo_plant_text() -> str:
    """The YAML text of the demo plant file, as shipped in the package.

    Read it with ``hazwatch.plant.parse_plant(text, source=DEMO_PLANT_FILE)``.
    """
    return resources.files(__package__).joinpath(DEMO_PLANT_FILE).read_text(encoding="utf-8")
