"""The park simulator: readings of every tag of a plant file, as batches.

``ParkSimulator.step(now)`` advances the process (``physics``) second by second up to
``now`` and returns the readings of every tag whose reporting period has elapsed since
the previous step. A tag with period ``p`` reports at the instants ``k·p`` (epoch ms); when
``now`` jumps by several periods it returns several readings of that tag, each with its
own timestamp and the process value of that second plus measurement noise. Values are
clipped to the instrument range, the way a transmitter saturates; a wind direction wraps
around instead (359.8° plus 0.5° of noise reads 0.3°). ``received`` is ``now``.

The output is a pure function of the plant, the start, the seed, the incidents, the
climate and the instants stepped to; measurement noise depends only on (seed, tag,
timestamp), so how the time is cut into steps changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hazwatch.connectors.simulator.demo import DEMO_CLIMATE, DEMO_INCIDENTS
from hazwatch.connectors.simulator.incident import Incident, IncidentError, IncidentKind
from hazwatch.connectors.simulator.model import ParkModel, Role, compile_plant
from hazwatch.connectors.simulator.noise import standard_normal
from hazwatch.connectors.simulator.physics import TICK_MS, Leak, Overfill, Physics
from hazwatch.connectors.simulator.weather import Climate
from hazwatch.domain.batch import Batch
from hazwatch.domain.clock import Millis
from hazwatch.domain.plant import PlantSpec

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

# Longest stretch of simulated time handled in one piece: bounds the memory of a big jump.
_CHUNK_MS = 600_000


@dataclass(slots=True)
class _Fault:
    """An instrument fault on one emitted tag during [start, end)."""

    kind: IncidentKind
    column: int
    start: Millis
    end: Millis
    held: float = math.nan


class ParkSimulator:
    """Readings of a plant, with scripted incidents.

    ``tag_ids`` maps full tag keys (``enterprise.site.installation.equipment.tag``) to tag
    ids; tags of the plant missing from it are simulated but not emitted. ``incidents``
    defaults to the demo script (``DEMO_INCIDENTS``), keeping those whose tag the plant has;
    incidents given explicitly must all fit the plant, else ``IncidentError``. ``climate``
    is the weather a weather mast shows (default: the demo's, ``DEMO_CLIMATE``).
    """

    def __init__(
        self,
        spec: PlantSpec,
        tag_ids: Mapping[str, int],
        *,
        start: Millis,
        seed: int = 0,
        incidents: Sequence[Incident] | None = None,
        climate: Climate = DEMO_CLIMATE,
    ) -> None:
        self._model = compile_plant(spec)
        model = self._model
        if incidents is None:
            known = set(model.keys)
            incidents = [i for i in DEMO_INCIDENTS if i.tag in known]
        self._incidents = tuple(incidents)
        self._start = start
        self._seed = seed
        emitted = [i for i, key in enumerate(model.keys) if key in tag_ids]
        self._cols = np.array(emitted, dtype=np.int64)
        self._ids = np.array([tag_ids[model.keys[i]] for i in emitted], dtype=np.int32)
        self._period = model.period_ms[self._cols]
        self._lo = model.lo[self._cols]
        self._hi = model.hi[self._cols]
        self._noise = model.noise_sd[self._cols]
        self._wraps = model.role[self._cols] == Role.WIND_DIRECTION
        overfills, leaks, faults = self._bind(self._incidents, emitted)
        self._faults = faults
        self._physics = Physics(
            model, start=start, seed=seed, overfills=overfills, leaks=leaks, climate=climate
        )
        self._row = self._physics.values()
        self._last: Millis = start - 1

    @property
    def model(self) -> ParkModel:
        """What the simulator recognised in the plant file (roles, vessels, detectors)."""
        return self._model

    @property
    def incidents(self) -> tuple[Incident, ...]:
        return self._incidents

    @property
    def start(self) -> Millis:
        return self._start

    def step(self, now: Millis) -> Batch:
        """Readings with timestamps in (previous ``now``, ``now``], sorted by timestamp.

        The first step covers [start, now]. A ``now`` not after the previous one returns an
        empty batch.
        """
        if now <= self._last:
            return Batch.empty(now)
        parts: list[Batch] = []
        while self._last < now:
            upto = min(now, self._last + _CHUNK_MS)
            parts.append(self._readings(upto, received=now))
        return parts[0] if len(parts) == 1 else Batch.concat(parts)

    def _readings(self, upto: Millis, *, received: Millis) -> Batch:
        first_tick = self._physics.now
        rows = self._advance_to(upto - upto % TICK_MS)
        period = self._period
        counts = upto // period - self._last // period
        ends = np.cumsum(counts)
        total = int(ends[-1]) if len(ends) else 0
        column = np.repeat(np.arange(len(period), dtype=np.int64), counts)
        within = np.arange(total, dtype=np.int64) - np.repeat(ends - counts, counts)
        ts = (np.repeat(self._last // period + 1, counts) + within) * period[column]
        row = (ts - ts % TICK_MS - first_tick) // TICK_MS
        model_col = self._cols[column]
        values = rows[row, model_col]
        values += self._noise[column] * standard_normal(self._seed, model_col, ts)
        wraps = self._wraps[column]
        values[wraps] %= 360.0
        np.clip(values, self._lo[column], self._hi[column], out=values)
        keep = self._apply_faults(column, ts, values, ends - counts, ends)
        self._last = upto
        order = np.argsort(ts[keep], kind="stable")
        return Batch(
            tag=self._ids[column[keep]][order],
            ts=ts[keep][order],
            value=values[keep][order],
            quality=np.zeros(int(keep.sum()), dtype=np.uint8),
            received=received,
        )

    def _advance_to(self, tick: Millis) -> Floats:
        """Process values at every tick from the current one up to ``tick`` (rows)."""
        n = (tick - self._physics.now) // TICK_MS
        rows = np.empty((n + 1, len(self._row)))
        rows[0] = self._row
        for r in range(1, n + 1):
            self._physics.advance()
            rows[r] = self._physics.values()
        self._row = rows[-1]
        return rows

    def _apply_faults(
        self, column: Ints, ts: Ints, values: Floats, begins: Ints, ends: Ints
    ) -> npt.NDArray[np.bool_]:
        """Hold frozen values in place; return the mask of readings that are sent.

        Readings are grouped by emitted tag (``begins``/``ends`` delimit each tag's run),
        in time order within a group.
        """
        keep = np.ones(len(ts), dtype=np.bool_)
        for fault in self._faults:
            lo, hi = int(begins[fault.column]), int(ends[fault.column])
            stamps = ts[lo:hi]
            inside = (stamps >= fault.start) & (stamps < fault.end)
            if not inside.any():
                if hi > lo and fault.kind == IncidentKind.FROZEN:
                    fault.held = float(values[hi - 1])
                continue
            if fault.kind == IncidentKind.OFFLINE:
                keep[lo:hi] &= ~inside
                continue
            first = lo + int(np.argmax(inside))
            if first > lo and stamps[0] < fault.start:
                fault.held = float(values[first - 1])
            elif math.isnan(fault.held):
                fault.held = float(values[first])
            values[lo:hi][inside] = fault.held
        return keep

    def _bind(
        self, incidents: tuple[Incident, ...], emitted: list[int]
    ) -> tuple[tuple[Overfill, ...], tuple[Leak, ...], list[_Fault]]:
        model = self._model
        emitted_at = {model_col: i for i, model_col in enumerate(emitted)}
        overfills: list[Overfill] = []
        leaks: list[Leak] = []
        faults: list[_Fault] = []
        for incident in incidents:
            try:
                col = model.index(incident.tag)
            except KeyError:
                raise IncidentError(
                    f"{incident.kind}: the plant has no tag {incident.tag}"
                ) from None
            role = Role(int(model.role[col]))
            start = self._start + round(incident.start_s * 1000)
            end = self._start + round(incident.end_s * 1000)
            if incident.kind == IncidentKind.OVERFILL:
                if role != Role.LEVEL:
                    raise IncidentError(f"overfill: {incident.tag} is not a vessel's level tag")
                vessel = int(model.unit[col])
                overfills.append(
                    Overfill(vessel=vessel, rate_m3_h=incident.rate, start=start, end=end)
                )
            elif incident.kind == IncidentKind.LEAK:
                if role != Role.GAS:
                    raise IncidentError(f"leak: {incident.tag} is not a gas detector")
                detector = int(model.unit[col])
                leaks.append(Leak(detector=detector, rate_g_s=incident.rate, start=start, end=end))
            elif col in emitted_at:
                faults.append(
                    _Fault(kind=incident.kind, column=emitted_at[col], start=start, end=end)
                )
        return tuple(overfills), tuple(leaks), faults
