"""The relational model: one ``MetaData`` holding the core tables.

Migrations in ``storage/migrations`` create exactly these tables (a test compares them with
Alembic's autogenerate). Portable types only, so one schema serves SQLite and PostgreSQL:

* instants are ``BIGINT`` epoch milliseconds UTC (``domain.clock.Millis``);
* measured values are ``DOUBLE`` (IEEE float64, exactly what numpy holds);
* enumerations (kinds, states, priorities, roles, reasons) are ``TEXT`` holding the
  ``StrEnum`` value, so adding a member needs no migration;
* scope membership is the materialised ``path`` of node ids (``/1/4/9/``), copied onto rows
  that are filtered by scope (``tags.scope_path``, ``dead_letters.scope_path``,
  ``warnings.scope_path``), so that a grant is a prefix test inside SQL.

Journal and dead-letter ids are 64-bit on PostgreSQL; SQLite keeps ``INTEGER PRIMARY KEY``
there because only that column type aliases the rowid (and so autoincrements).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
)

# Deterministic constraint names: the same on both backends, and required by Alembic's
# batch mode on SQLite to alter a constraint later.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

BigId = BigInteger().with_variant(Integer(), "sqlite")

scope_nodes = Table(
    "scope_nodes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("parent_id", Integer, ForeignKey("scope_nodes.id"), nullable=True),
    Column("path", Text, nullable=False, unique=True),
    Column("lat", Double, nullable=True),
    Column("lon", Double, nullable=True),
    # an installation's neighbourhood, for GB 18218 grading (α); other kinds leave it NULL
    Column("people_within_500m", Integer, nullable=True),
    # an enterprise's static assessment score (MEM 100-point scale); other kinds leave it NULL
    Column("assessment_score", Double, nullable=True),
    UniqueConstraint("parent_id", "key"),
)

tags = Table(
    "tags",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("scope_id", Integer, ForeignKey("scope_nodes.id"), nullable=False, index=True),
    Column("scope_path", Text, nullable=False, index=True),
    Column("unit", Text, nullable=False),
    Column("range_lo", Double, nullable=False),
    Column("range_hi", Double, nullable=False),
    Column("period_s", Double, nullable=False),
    Column("offline_after_s", Double, nullable=True),
    Column("frozen_after_s", Double, nullable=True),
)

tag_limits = Table(
    "tag_limits",
    metadata,
    Column("tag_id", Integer, ForeignKey("tags.id", ondelete="CASCADE"), nullable=False),
    Column("kind", Text, nullable=False),
    Column("value", Double, nullable=False),
    Column("priority", Text, nullable=False),
    Column("deadband", Double, nullable=False),
    Column("on_delay_s", Double, nullable=False),
    Column("off_delay_s", Double, nullable=False),
    PrimaryKeyConstraint("tag_id", "kind"),
)

inventories = Table(
    "inventories",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("scope_id", Integer, ForeignKey("scope_nodes.id"), nullable=False, index=True),
    Column("chemical", Text, nullable=False),
    Column("cas", Text, nullable=True),
    Column("tonnes", Double, nullable=True),
    Column("volume_m3", Double, nullable=True),
    Column("density_t_per_m3", Double, nullable=True),
    Column("category", Text, nullable=True),
    # the tag measuring the tank (equipment.tag of the installation) and the tank's shape
    Column("level_tag", Text, nullable=True),
    Column("shape", Text, nullable=True),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", Text, nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("disabled", Boolean, nullable=False, server_default=false()),
)

role_bindings = Table(
    "role_bindings",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("role", Text, nullable=False),
    Column("scope_id", Integer, ForeignKey("scope_nodes.id"), nullable=False),
    PrimaryKeyConstraint("user_id", "scope_id"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False),
    Column("key_hash", Text, nullable=False, unique=True),
    Column("scope_id", Integer, ForeignKey("scope_nodes.id"), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked", Boolean, nullable=False, server_default=false()),
)

alarms = Table(
    "alarms",
    metadata,
    Column("tag_id", Integer, ForeignKey("tags.id", ondelete="CASCADE"), nullable=False),
    Column("condition", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("priority", Text, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("activated_at", BigInteger, nullable=True),
    Column("acknowledged_at", BigInteger, nullable=True),
    Column("shelved_until", BigInteger, nullable=True),
    Column("value", Double, nullable=True),
    Column("message", Text, nullable=False),
    PrimaryKeyConstraint("tag_id", "condition"),
)

alarm_journal = Table(
    "alarm_journal",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("tag_id", Integer, ForeignKey("tags.id", ondelete="CASCADE"), nullable=False),
    Column("condition", Text, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("from_state", Text, nullable=False),
    Column("to_state", Text, nullable=False),
    Column("input", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("cause", Text, nullable=False),
    Column("comment", Text, nullable=False),
    Column("value", Double, nullable=True),
    UniqueConstraint("tag_id", "condition", "seq"),
    Index(None, "at"),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("received", BigInteger, nullable=False),
    Column("source", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("scope_path", Text, nullable=False, index=True),
    Column("tag_key", Text, nullable=True),
    Column("ts", BigInteger, nullable=True),
    Column("value", Double, nullable=True),
    Column("payload", Text, nullable=True),
    Index(None, "received"),
)

warnings = Table(
    "warnings",
    metadata,
    Column("id", Text, primary_key=True),
    Column("key", Text, nullable=False, index=True),
    Column("detector", Text, nullable=False),
    Column("installation", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("scope_id", Integer, ForeignKey("scope_nodes.id"), nullable=False),
    Column("scope_path", Text, nullable=False, index=True),
    Column("state", Text, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("colour", Text, nullable=False),
    Column("raised_colour", Text, nullable=False),
    Column("colour_since", BigInteger, nullable=False),
    Column("explanation", Text, nullable=False),
    Column("raised_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("last_observed_at", BigInteger, nullable=False),
    Column("observations", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("active_since", BigInteger, nullable=False),
    Column("acknowledged_at", BigInteger, nullable=True),
    Column("acknowledged_by", Text, nullable=True),
    Column("closed_at", BigInteger, nullable=True),
    Column("closed_by", Text, nullable=True),
    Column("close_cause", Text, nullable=True),
    Column("feedback", Text, nullable=True),
    Column("escalations", Text, nullable=False),
)
"""Early warnings, one row each (current state). ``explanation`` and ``escalations`` are
JSON text (the explanation's text and contributions; the colour rises, oldest first);
``scope_path`` is the path of the node the warning belongs to (its subject tag's node, or
its installation), so that scoped reads are a prefix test like tags'."""

warning_journal = Table(
    "warning_journal",
    metadata,
    Column("warning_id", Text, ForeignKey("warnings.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("input", Text, nullable=False),
    Column("from_state", Text, nullable=True),
    Column("to_state", Text, nullable=False),
    Column("from_colour", Text, nullable=True),
    Column("to_colour", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("cause", Text, nullable=False),
    Column("comment", Text, nullable=False),
    Column("rule", Text, nullable=False),
    Column("feedback", Text, nullable=True),
    PrimaryKeyConstraint("warning_id", "seq"),
    Index(None, "at"),
)

warn_models = Table(
    "warn_models",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("installation", Text, nullable=False),
    Column("scope_id", Integer, ForeignKey("scope_nodes.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("method", Text, nullable=False),
    Column("period_ms", BigInteger, nullable=False),
    Column("variables", Text, nullable=False),
    Column("trained_from", BigInteger, nullable=False),
    Column("trained_to", BigInteger, nullable=False),
    Column("samples", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("model", LargeBinary, nullable=False),
    UniqueConstraint("installation", "version"),
)
"""Trained process monitors of installations, versions 1, 2, … per installation key.
``variables`` is the JSON list of tag keys in the model's column order; ``model`` the
fitted state as an ``.npz`` archive of arrays and JSON parameters (``warn/model.py``),
never a pickle."""

playbooks = Table(
    "playbooks",
    metadata,
    Column("name", Text, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("title", Text, nullable=False),
    Column("event", Text, nullable=False),
    Column("document", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", Text, nullable=False),
)
"""Playbooks, every version kept; ``document`` is the validated playbook as JSON."""

playbook_runs = Table(
    "playbook_runs",
    metadata,
    Column("id", Text, primary_key=True),
    Column("playbook", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("occurrence", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("step", Text, nullable=False),
    Column("step_since", BigInteger, nullable=False),
    Column("started_at", BigInteger, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("acknowledged_at", BigInteger, nullable=True),
    Column("acknowledged_by", Text, nullable=False),
    Index(None, "status"),
)
"""The state of each playbook run (the fold of its journal), for listing and resuming."""

playbook_run_entries = Table(
    "playbook_run_entries",
    metadata,
    Column("run_id", Text, ForeignKey("playbook_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("at", BigInteger, nullable=False),
    Column("kind", Text, nullable=False),
    Column("step", Text, nullable=False),
    Column("outcome", Text, nullable=True),
    Column("actor", Text, nullable=False),
    Column("detail", Text, nullable=False),
)
"""The journal of each run, keyed ``(run_id, seq)``: a replayed entry changes nothing."""

contacts = Table(
    "contacts",
    metadata,
    Column("username", Text, primary_key=True),
    Column("document", Text, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by", Text, nullable=False),
)
"""Who holds which posts and how to reach them (``respond.directory.Contact`` as JSON)."""

park_places = Table(
    "park_places",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("scope_id", Integer, ForeignKey("scope_nodes.id"), nullable=False),
    Column("key", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("lat", Double, nullable=False),
    Column("lon", Double, nullable=False),
    Column("sensitive", Boolean, nullable=False),
    Column("enterprise", Text, nullable=True),
    UniqueConstraint("scope_id", "key"),
)
"""Places of a park (``scope_id``: the park's node) warned when a release reaches them."""

emergency_resources = Table(
    "emergency_resources",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("scope_id", Integer, ForeignKey("scope_nodes.id"), nullable=False),
    Column("key", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("lat", Double, nullable=False),
    Column("lon", Double, nullable=False),
    Column("capacity", Double, nullable=False),
    Column("unit", Text, nullable=False),
    Column("contact", Text, nullable=False),
    Column("available", Boolean, nullable=False, server_default=true()),
    UniqueConstraint("scope_id", "key"),
)
"""Emergency resources of a park; ``available`` is operational state, set through the API
and kept when the plant file is imported again."""

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("recipient", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("error", Text, nullable=False),
    Index(None, "key"),
)
"""Every delivery attempt of a notification; a key with a ``sent`` or ``fell_back`` row is
never sent again (``respond.notify.ledger``)."""

inbox = Table(
    "inbox",
    metadata,
    Column("key", Text, primary_key=True),
    Column("username", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("rank", Integer, nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("notice_ids", Text, nullable=False),
    Column("read_at", BigInteger, nullable=True),
    Index(None, "username", "at"),
)
"""In-app notifications per user; the key is the delivery's idempotency key."""

channels = Table(
    "channels",
    metadata,
    Column("name", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("document", Text, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by", Text, nullable=False),
)
"""Notification channels (``respond.notify.channel_config.ChannelEntry`` as JSON, secrets
included); ``kind`` and ``enabled`` repeat the document's, for reading without parsing."""

incidents = Table(
    "incidents",
    metadata,
    Column("key", Text, primary_key=True),
    Column("title", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("severity", Text, nullable=False),
    Column("scope_key", Text, nullable=False),
    Column("scope_path", Text, nullable=False, index=True),
    Column("source_kind", Text, nullable=False),
    Column("source_ref", Text, nullable=False),
    Column("source_run", Text, nullable=False, index=True),
    Column("plan", Text, nullable=False),
    Column("plan_version", Integer, nullable=True),
    Column("opened_at", BigInteger, nullable=False, index=True),
    Column("opened_by", Text, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("closed_at", BigInteger, nullable=True),
    Column("closed_by", Text, nullable=False),
    Column("revision", Integer, nullable=False),
)
"""Incidents (``respond.incident.Incident``), one row each; ``scope_path`` decides who sees
one, like warnings'; ``revision`` rises with every change made through the repository (the
write that locks the row before the change is worked out)."""

incident_tasks = Table(
    "incident_tasks",
    metadata,
    Column("incident_key", Text, ForeignKey("incidents.key", ondelete="CASCADE"), primary_key=True),
    Column("key", Text, primary_key=True),
    Column("position", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("assignee", Text, nullable=False),
    Column("due_at", BigInteger, nullable=True),
    Column("status", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("done_at", BigInteger, nullable=True),
    Column("done_by", Text, nullable=False),
    Column("note", Text, nullable=False),
)
"""The checklist of each incident, in ``position`` order (the plan's, then as added)."""

incident_timeline = Table(
    "incident_timeline",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("incident_key", Text, ForeignKey("incidents.key", ondelete="CASCADE"), nullable=False),
    Column("key", Text, nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("kind", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("data", Text, nullable=False),
    UniqueConstraint("incident_key", "key"),
)
"""Every entry of each incident's timeline; ``(incident_key, key)`` is unique, so an entry
recorded again changes nothing. ``data`` is JSON text."""

emergency_plans = Table(
    "emergency_plans",
    metadata,
    Column("name", Text, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("title", Text, nullable=False),
    Column("severity", Text, nullable=False),
    Column("document", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", Text, nullable=False),
)
"""Uploaded emergency-plan templates (预案), every version kept; ``document`` is the
validated plan as JSON. Plans shipped with hazwatch are not stored here."""

risk_history = Table(
    "risk_history",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("scope_id", Integer, ForeignKey("scope_nodes.id", ondelete="CASCADE"), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("colour", Text, nullable=False),
    Column("previous", Text, nullable=True),
    Column("explanation", Text, nullable=False),
    Index(None, "scope_id", "at"),
)
"""Every change of a node's dynamic risk colour (``evaluate.risk``): the colour from ``at``,
the one before (``NULL`` for a node's first), and the assessment as JSON text."""

report_schedules = Table(
    "report_schedules",
    metadata,
    Column("name", Text, primary_key=True),
    Column("scope_id", Integer, ForeignKey("scope_nodes.id", ondelete="CASCADE"), nullable=False),
    Column("scope_path", Text, nullable=False, index=True),
    Column("period_kind", Text, nullable=False),
    Column("zone", Text, nullable=False),
    Column("formats", Text, nullable=False),
    Column("recipients", Text, nullable=False),
    Column("channel", Text, nullable=True),
    Column("enabled", Boolean, nullable=False),
    Column("since", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by", Text, nullable=False),
)
"""Report schedules (``evaluate.report_schedule``); ``formats`` and ``recipients`` are JSON
lists; ``scope_path`` is the node's, for scoped reads."""

reports = Table(
    "reports",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("schedule", Text, nullable=True),
    Column("scope_id", Integer, nullable=False),
    Column("scope_kind", Text, nullable=False),
    Column("scope_key", Text, nullable=False),
    Column("scope_name", Text, nullable=False),
    Column("scope_path", Text, nullable=False, index=True),
    Column("period_kind", Text, nullable=False),
    Column("zone", Text, nullable=False),
    Column("period_start", BigInteger, nullable=False),
    Column("period_end", BigInteger, nullable=False),
    Column("formats", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("error", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False, index=True),
    Column("created_by", Text, nullable=False),
    Column("finished_at", BigInteger, nullable=True),
    Column("claim", Text, nullable=True),
    Column("claimed_at", BigInteger, nullable=True),
    Column("recipients", Text, nullable=False),
    Column("channel", Text, nullable=True),
    Column("delivery", Text, nullable=False),
    Column("delivery_attempts", Integer, nullable=False),
    Column("delivered_at", BigInteger, nullable=True),
    Column("delivery_error", Text, nullable=False),
    UniqueConstraint("schedule", "period_start", "period_end"),
)
"""Produced reports, on demand (``schedule`` NULL) and scheduled. ``(schedule,
period_start, period_end)`` is unique: a second producer, or a restart, cannot make a
scheduled period's report twice. ``claim``/``claimed_at`` mark who works on a row (see
``storage/report_repository.py``); scope columns are copied, so a report outlives changes
to the plant."""

report_files = Table(
    "report_files",
    metadata,
    Column("report_id", BigId, ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True),
    Column("format", Text, primary_key=True),
    Column("media_type", Text, nullable=False),
    Column("filename", Text, nullable=False),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
)
"""The files of each report, kept in the database (one row per format)."""
