"""Settings of a hazwatch process, from a YAML config file and ``HAZWATCH_*`` variables.

Built once by the CLI and passed down (``create_app(settings)``); nothing reads the
environment at import time.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from hazwatch.domain.clock import DAY_MS, MINUTE_MS, Millis
from hazwatch.domain.tag import Priority
from hazwatch.domain.warning import Colour
from hazwatch.evaluate.gb18218_tables import Grade
from hazwatch.evaluate.risk_rules import Adjustment, ParkRule, RiskRules, ScoreBands
from hazwatch.warn.escalation import (
    AgreementBasis,
    AgreementRule,
    EscalationPolicy,
    PersistBasis,
    PersistRule,
)
from hazwatch.warn.forecast import TimeToLimit
from hazwatch.warn.watch import TimeToLimitWatch


class ConfigError(Exception):
    """A config file that cannot be used; the message names the file and the field."""


class SimulatorSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    speed: float = Field(default=1.0, gt=0, le=3600)
    seed: int = 0
    step_s: float = Field(default=0.25, gt=0, description="wall-clock seconds between steps")
    incidents: str | None = Field(
        default=None,
        description="which scripted incidents play, and when: 'chlorine-leak@60,lpg-overfill' "
        "(key, optionally @ start in simulated seconds); '' a quiet plant; default the script",
    )
    epoch_ms: int | None = Field(
        default=None,
        ge=0,
        description="wall-clock instant (epoch ms) the simulation began: plant time is "
        "epoch + speed × (wall − epoch), and a restart continues the same simulation",
    )


class PersistRuleSettings(BaseModel):
    """One colour up per ``after_min`` that a warning persists (``warn.escalation``)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["persist"]
    name: str = Field(min_length=1)
    after_min: float = Field(gt=0, description="minutes at one colour before the next")
    basis: PersistBasis = PersistBasis.UNACKNOWLEDGED
    ceiling: Colour = Colour.RED


class AgreementRuleSettings(BaseModel):
    """One colour up when ``detectors`` detectors of one installation agree."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["agreement"]
    name: str = Field(min_length=1)
    detectors: int = Field(ge=2, description="distinct detectors (or sources) that agree")
    window_min: float = Field(gt=0, description="within this many minutes")
    basis: AgreementBasis = AgreementBasis.DETECTOR
    at_least: Colour = Colour.BLUE
    ceiling: Colour = Colour.RED


RuleSettings = Annotated[PersistRuleSettings | AgreementRuleSettings, Field(discriminator="kind")]


def _default_rules() -> list[PersistRuleSettings | AgreementRuleSettings]:
    return [
        PersistRuleSettings(kind="persist", name="unacknowledged-30min", after_min=30),
        AgreementRuleSettings(kind="agreement", name="area-agreement", detectors=2, window_min=10),
    ]


class WarningSettings(BaseModel):
    """Early warning: escalation rules and the time-to-limit forecast.

    The default rules are placeholders of the proposed national rule set (persisting
    unacknowledged for 30 min; two detectors of one installation within 10 min): set the
    ones the supervising authority prescribes.
    """

    model_config = ConfigDict(extra="forbid")

    escalation: list[RuleSettings] = Field(
        default_factory=_default_rules,
        description="escalation rules, each named; an empty list never escalates",
    )
    horizon_min: float = Field(
        default=60, gt=0, description="time to limit: how far ahead a crossing warns"
    )
    confidence: float = Field(
        default=0.95, gt=0, lt=1, description="time to limit: confidence of the trend"
    )
    trend_period_s: float = Field(
        default=30, gt=0, description="time to limit: one reading per tag per period"
    )

    def policy(self) -> EscalationPolicy:
        rules: list[PersistRule | AgreementRule] = []
        for rule in self.escalation:
            if isinstance(rule, PersistRuleSettings):
                rules.append(
                    PersistRule(
                        name=rule.name,
                        after_ms=int(rule.after_min * MINUTE_MS),
                        basis=rule.basis,
                        ceiling=rule.ceiling,
                    )
                )
            else:
                rules.append(
                    AgreementRule(
                        name=rule.name,
                        detectors=rule.detectors,
                        window_ms=int(rule.window_min * MINUTE_MS),
                        basis=rule.basis,
                        at_least=rule.at_least,
                        ceiling=rule.ceiling,
                    )
                )
        return EscalationPolicy(rules=tuple(rules))

    def trend(self) -> TimeToLimitWatch:
        return TimeToLimitWatch(
            forecaster=TimeToLimit(horizon_s=self.horizon_min * 60, confidence=self.confidence),
            period_ms=int(self.trend_period_s * 1000),
        )


class _StepSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: int = Field(default=0, ge=0, le=3, description="colours up")
    floor: Colour | None = Field(default=None, description="at least this colour")

    def adjustment(self) -> Adjustment:
        return Adjustment(steps=self.steps, floor=self.floor)


class AdjustmentSettings(_StepSettings):
    """What one factor of the risk colour does when present (``evaluate.risk_rules``)."""

    at_least: int = Field(default=1, ge=1, description="from this many on")

    def adjustment(self) -> Adjustment:
        return Adjustment(steps=self.steps, floor=self.floor, at_least=self.at_least)


class ScoreBandSettings(BaseModel):
    """MEM assessment score → colour: red below ``red_below``, orange below …, else blue."""

    model_config = ConfigDict(extra="forbid")

    red_below: float = Field(default=60, ge=0, le=100)
    orange_below: float = Field(default=75, ge=0, le=100)
    yellow_below: float = Field(default=90, ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.red_below <= self.orange_below <= self.yellow_below:
            raise ValueError("must satisfy red_below ≤ orange_below ≤ yellow_below")
        return self


class OnlineRateSettings(_StepSettings):
    """The enterprise's live data online rate below ``below`` raises its colour."""

    below: float = Field(default=0.9, gt=0, le=1)
    steps: int = Field(default=1, ge=0, le=3, description="colours up")


class ParkRiskSettings(_StepSettings):
    """A park rises when ``enterprises`` of its enterprises are at ``at_colour`` or above."""

    enterprises: int = Field(default=2, ge=1)
    at_colour: Colour = Colour.ORANGE
    steps: int = Field(default=1, ge=0, le=3, description="colours up")


def _step(steps: int, floor: Colour | None = None) -> AdjustmentSettings:
    return AdjustmentSettings(steps=steps, floor=floor)


_RISK_DEFAULTS = RiskRules()


class RiskSettings(BaseModel):
    """The dynamic risk colour of installations, enterprises and parks (``evaluate.risk``).

    ``grades``, ``alarms``, ``warnings`` and ``unacknowledged_after_min`` are merged onto
    their defaults: name only what changes (``alarms: {medium: {steps: 1}}``). The defaults
    are placeholders of our design, except the score bands (MEM 2018 assessment guide).
    """

    model_config = ConfigDict(extra="forbid")

    every_s: float = Field(
        default=60, gt=0, description="plant seconds between re-evaluations by the clock"
    )
    grades: dict[Grade, Colour] = Field(default_factory=lambda: dict(_RISK_DEFAULTS.grades))
    not_major_hazard: Colour = _RISK_DEFAULTS.not_major_hazard
    score_bands: ScoreBandSettings = ScoreBandSettings()
    alarms: dict[Priority, AdjustmentSettings] = Field(
        default_factory=lambda: {
            Priority.CRITICAL: _step(1, Colour.ORANGE),
            Priority.HIGH: _step(1),
            Priority.MEDIUM: _step(0),
            Priority.LOW: _step(0),
        }
    )
    unacknowledged: AdjustmentSettings = _step(1)
    unacknowledged_after_min: dict[Priority, Annotated[float, Field(ge=0)]] = Field(
        default_factory=lambda: {
            p: ms / MINUTE_MS for p, ms in _RISK_DEFAULTS.unacknowledged_after_ms.items()
        }
    )
    warnings: dict[Colour, AdjustmentSettings] = Field(
        default_factory=lambda: {
            Colour.RED: _step(1, Colour.ORANGE),
            Colour.ORANGE: _step(1),
            Colour.YELLOW: _step(0),
            Colour.BLUE: _step(0),
        }
    )
    hidden_dangers: AdjustmentSettings = _step(1)
    special_work: AdjustmentSettings = _step(1)
    commitment_missing: AdjustmentSettings = _step(1)
    online_rate: OnlineRateSettings = OnlineRateSettings()
    max_steps: int = Field(default=2, ge=0, le=3, description="at most this many colours up")
    park: ParkRiskSettings = ParkRiskSettings()

    @field_validator("grades", "alarms", "warnings", "unacknowledged_after_min", mode="after")
    @classmethod
    def _onto_defaults(cls, given: dict[Any, Any], info: ValidationInfo) -> dict[Any, Any]:
        default = cls.model_fields[str(info.field_name)].get_default(call_default_factory=True)
        return {**default, **given}

    @model_validator(mode="after")
    def _check(self) -> Self:
        self.rules()  # the rules check themselves too: refuse here, naming the section
        return self

    def rules(self) -> RiskRules:
        bands = self.score_bands
        park = self.park
        return RiskRules(
            grades=MappingProxyType(dict(self.grades)),
            not_major_hazard=self.not_major_hazard,
            score_bands=ScoreBands(
                red_below=bands.red_below,
                orange_below=bands.orange_below,
                yellow_below=bands.yellow_below,
            ),
            alarms=MappingProxyType({p: a.adjustment() for p, a in self.alarms.items()}),
            unacknowledged=self.unacknowledged.adjustment(),
            unacknowledged_after_ms=MappingProxyType(
                {p: int(m * MINUTE_MS) for p, m in self.unacknowledged_after_min.items()}
            ),
            warnings=MappingProxyType({c: a.adjustment() for c, a in self.warnings.items()}),
            hidden_dangers=self.hidden_dangers.adjustment(),
            special_work=self.special_work.adjustment(),
            commitment_missing=self.commitment_missing.adjustment(),
            online_rate_below=self.online_rate.below,
            online_rate=self.online_rate.adjustment(),
            max_steps=self.max_steps,
            park=ParkRule(
                enterprises=park.enterprises, at_least=park.at_colour, adjustment=park.adjustment()
            ),
        )


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data_dir: Path = Path("hazwatch-data")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file in data_dir"
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    secret_key: str | None = Field(
        default=None, description="token signing key; default: generated, kept in data_dir"
    )
    token_ttl_s: int = Field(default=3600, ge=60)
    raw_retention_days: float = Field(default=30, gt=0)
    rollup_retention_days: float = Field(default=730, gt=0)
    future_tolerance_s: float = Field(default=300, ge=0)
    max_batch_readings: int = Field(default=100_000, ge=1)
    max_body_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    queue_batches: int = Field(default=64, ge=1)
    tick_s: float = Field(default=1.0, gt=0, description="wall-clock seconds between ticks")
    plant_file: Path | None = None
    connectors_file: Path | None = Field(
        default=None, description="connectors to run (YAML, see docs/connectors.md)"
    )
    link_alarm_delay_s: float = Field(
        default=10, ge=0, description="a link must be down this long to raise its alarm"
    )
    warn_model_check_s: float = Field(
        default=30, gt=0, description="seconds between checks for newer trained warn models"
    )
    simulator: SimulatorSettings = SimulatorSettings()
    warnings: WarningSettings = WarningSettings()
    risk: RiskSettings = RiskSettings()

    @property
    def raw_retention_ms(self) -> Millis:
        return int(self.raw_retention_days * DAY_MS)

    @property
    def rollup_retention_ms(self) -> Millis:
        return int(self.rollup_retention_days * DAY_MS)

    @property
    def future_tolerance_ms(self) -> Millis:
        return int(self.future_tolerance_s * 1000)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir.resolve() / 'hazwatch.db'}"

    def signing_key(self) -> str:
        """The token signing key: configured, or generated once and kept in ``data_dir``."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


def load_settings(path: Path, **overrides: Any) -> Settings:
    """Settings from a YAML file, with keyword overrides on top."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top")
    raw.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from exc
