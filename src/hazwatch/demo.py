"""Preparing the demo: the demo park in an embedded database, its administrator, and the
response to its chlorine leak (the example playbook, the admin holding its posts)."""

from __future__ import annotations

from hazwatch.auth.password import hash_password
from hazwatch.connectors.simulator.demo import DEMO_PLANT_FILE, demo_plant_text
from hazwatch.domain.clock import Millis
from hazwatch.domain.role import Role
from hazwatch.plant.file import parse_plant
from hazwatch.respond.directory import Contact, Post
from hazwatch.respond.notify.message import Recipient
from hazwatch.respond.notify.pipeline import LAST_RESORT
from hazwatch.respond.playbook import example_playbook
from hazwatch.runtime.clock import ScaledClock, wall_now
from hazwatch.settings import Settings
from hazwatch.storage.contact_repository import ContactRepository
from hazwatch.storage.database import Database
from hazwatch.storage.plant_repository import PlantRepository
from hazwatch.storage.playbook_repository import PlaybookRepository
from hazwatch.storage.readings.store import open_reading_store
from hazwatch.storage.user_repository import UserRepository

ADMIN = "admin"
DEMO_PLAYBOOK = "chlorine-leak"
DEMO_POSTS = (
    ("shift-operator", "chlor.main.cl2-storage"),
    ("emergency-office", "demo-park"),
    ("safety-officer", "lpg"),
)
"""The posts the demo's admin holds, so that every step of the demo playbook tells them."""


def prepare_demo(settings: Settings, *, admin_password: str) -> ScaledClock:
    """Import the demo park, set the admin's password, and return the plant clock.

    The plant clock starts at the wall clock, or just after the newest stored reading when a
    faster-than-real-time demo ran before in the same folder, so time never runs backwards.
    """
    spec = parse_plant(demo_plant_text(), source=DEMO_PLANT_FILE)
    db = Database.open(settings.resolved_database_url)
    try:
        db.upgrade()
        plants = PlantRepository(db)
        plants.save(spec)
        region = plants.node_by_keys([spec.region])
        if region is None:
            raise ValueError("the demo plant has no region node")
        users = UserRepository(db)
        password_hash = hash_password(admin_password)
        if users.get(ADMIN) is None:
            users.add(ADMIN, password_hash, Role.ADMIN, region.id)
        else:
            users.set_password(ADMIN, password_hash)
        _respond(db, wall_now())
        store = open_reading_store(db.engine)
        try:
            newest = max(store.last_timestamps().values(), default=0)
        finally:
            store.close()
    finally:
        db.close()
    return ScaledClock(speed=settings.simulator.speed, origin=max(wall_now(), newest + 1000))


def _respond(db: Database, now: Millis) -> None:
    """The demo's response to its chlorine leak: the example playbook, and the admin holding
    the posts it tells (in-app, ``GET /api/v1/inbox``). Kept as the admin left them."""
    playbooks = PlaybookRepository(db)
    if playbooks.get(DEMO_PLAYBOOK) is None:
        playbooks.save(example_playbook(DEMO_PLAYBOOK), actor=ADMIN, now=now)
    contacts = ContactRepository(db)
    if contacts.get(ADMIN) is None:
        posts = tuple(Post(position=p, scope=s) for p, s in DEMO_POSTS)
        recipient = Recipient(user=ADMIN, channels=(LAST_RESORT,))
        contacts.save(Contact(user=ADMIN, posts=posts, recipient=recipient), actor=ADMIN, now=now)
