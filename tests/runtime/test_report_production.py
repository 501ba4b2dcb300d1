"""A report shows the recorded risk colours: each node's colour at the period's end and
every change within it."""

from __future__ import annotations

from datetime import UTC, datetime

from hazwatch.domain.clock import DAY_MS, to_millis
from hazwatch.domain.plant import PlantSpec
from hazwatch.domain.scope import Grant
from hazwatch.domain.warning import Colour
from hazwatch.evaluate.report import ReportFormat
from hazwatch.evaluate.report_period import PeriodKind, period_of
from hazwatch.render.report_document import report_html
from hazwatch.runtime.report_production import RecordedRisk, ReportMaker
from hazwatch.storage.database import Database
from hazwatch.storage.plant_repository import PlantRepository
from hazwatch.storage.risk_repository import RiskChange, RiskRepository

JAN1 = to_millis(datetime(2026, 12, 31, 16, tzinfo=UTC))  # 2027-01-01 00:00 Shanghai
FEB1 = JAN1 + 31 * DAY_MS

PLANT = {
    "region": "r",
    "parks": [
        {
            "key": "p",
            "name": "Park P",
            "enterprises": [
                {
                    "key": "e",
                    "name": "Enterprise E",
                    "sites": [{"key": "s", "installations": [{"key": "i", "name": "Unit I"}]}],
                }
            ],
        }
    ],
}


def test_colours_at_the_end_and_changes_within_the_period(db: Database) -> None:
    plants = PlantRepository(db)
    plants.save(PlantSpec.model_validate(PLANT))
    park, enterprise, unit = (
        plants.node_by_keys(keys)
        for keys in (["r", "p"], ["r", "p", "e"], ["r", "p", "e", "s", "i"])
    )
    assert park and enterprise and unit
    raised = {
        "colour": "yellow",
        "baseline": "blue",
        "contributions": [
            {"text": "grade IV: blue", "sets": None, "steps": 0, "floor": None},
            {"text": "2 active high-priority alarms", "sets": None, "steps": 1, "floor": None},
        ],
    }

    def change(node_id: int, at: int, colour: Colour, before: Colour | None) -> RiskChange:
        return RiskChange(scope_id=node_id, at=at, colour=colour, previous=before, explanation={})

    RiskRepository(db).record(
        [
            change(park.id, JAN1 - 2 * DAY_MS, Colour.BLUE, None),
            change(enterprise.id, JAN1 - DAY_MS, Colour.BLUE, None),
            RiskChange(
                scope_id=enterprise.id,
                at=JAN1 + 5 * DAY_MS,
                colour=Colour.YELLOW,
                previous=Colour.BLUE,
                explanation=raised,
            ),
            change(enterprise.id, FEB1 + DAY_MS, Colour.RED, Colour.YELLOW),  # after the end
            change(unit.id, JAN1 - 3 * DAY_MS, Colour.ORANGE, None),
            change(unit.id, FEB1 + 2 * DAY_MS, Colour.RED, Colour.ORANGE),  # after the end
        ]
    )
    section = RecordedRisk(risk=RiskRepository(db), plants=plants).section(
        Grant((park.path,)), JAN1, FEB1
    )
    assert section is not None
    # most severe first: the unit was orange from before the period to its end; the
    # enterprise turned yellow on January 6; the park stayed blue
    assert [(s.scope_key, s.colour, s.since) for s in section.standings] == [
        ("r.p.e.s.i", Colour.ORANGE, JAN1 - 3 * DAY_MS),
        ("r.p.e", Colour.YELLOW, JAN1 + 5 * DAY_MS),
        ("r.p", Colour.BLUE, JAN1 - 2 * DAY_MS),
    ]
    assert [(c.scope_key, c.at, c.before, c.after, c.reason) for c in section.changes] == [
        ("r.p.e", JAN1 + 5 * DAY_MS, Colour.BLUE, Colour.YELLOW, "2 active high-priority alarms")
    ]

    maker = ReportMaker(
        db=db, plants=plants, risk=RecordedRisk(risk=RiskRepository(db), plants=plants)
    )
    report, files = maker.make(
        park, period_of(PeriodKind.MONTH, JAN1), [ReportFormat.HTML], now=FEB1
    )
    assert report.risk == section
    html = report_html(report)
    assert html == files[0].data.decode("utf-8")
    assert "当前风险等级 / Risk colours now" in html and "2 active high-priority alarms" in html
    assert "keeps no dynamic risk colours" not in html
