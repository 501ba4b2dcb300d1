"""Contacts: who holds which post, and how each person wants to be told.

Admins list and set everyone's contact; a person may read and set their own preferences
(channels, addresses, minimum priority, quiet hours) but not the posts they hold. A bad body
answers 422 naming the field (``body.quiet_hours.zone``).
"""

from __future__ import annotations

from datetime import time
from typing import Annotated

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from hazwatch.api.deps import AdminGrant, PlatformDep, PrincipalDep, ViewerGrant
from hazwatch.domain.keys import SEGMENT
from hazwatch.domain.role import Role
from hazwatch.domain.tag import Priority
from hazwatch.respond.directory import Contact, Post
from hazwatch.respond.notify.message import QuietHours, Recipient
from hazwatch.respond.notify.pipeline import LAST_RESORT
from hazwatch.storage.channel_repository import ChannelRepository
from hazwatch.storage.contact_repository import document_of

router = APIRouter(tags=["contacts"])

Channel = Annotated[
    str,
    Field(
        pattern=rf"^{SEGMENT}$",
        description="the name of a configured channel (/api/v1/channels) or inapp",
        examples=["email"],
    ),
]


class PostIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    position: str = Field(pattern=rf"^{SEGMENT}$", examples=["emergency-office"])
    scope: str = Field(
        pattern=rf"^{SEGMENT}(\.{SEGMENT}){{0,2}}$",
        description="the key of a region, park, enterprise, site or installation",
    )


class QuietHoursIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: time
    end: time
    zone: str = "Asia/Shanghai"

    @field_validator("zone")
    @classmethod
    def _zone(cls, zone: str) -> str:
        try:
            QuietHours(start=time(0), end=time(1), zone=zone)
        except Exception as exc:  # zoneinfo raises several kinds for a bad name
            raise ValueError(f"{zone!r} is not an IANA time zone") from exc
        return zone


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    posts: list[PostIn] = Field(default_factory=list)
    channels: list[Channel] = Field(min_length=1, description="in order of preference")
    addresses: dict[Channel, str] = Field(default_factory=dict)
    scopes: list[str] = Field(default_factory=list, description="scope keys watched")
    min_priority: Priority = Priority.LOW
    quiet_hours: QuietHoursIn | None = None

    def contact(self, user: str) -> Contact:
        quiet = self.quiet_hours
        return Contact(
            user=user,
            posts=tuple(Post(position=p.position, scope=p.scope) for p in self.posts),
            recipient=Recipient(
                user=user,
                channels=tuple(self.channels),
                addresses={str(k): v for k, v in self.addresses.items()},
                scopes=tuple(self.scopes),
                min_priority=self.min_priority,
                quiet_hours=None
                if quiet is None
                else QuietHours(start=quiet.start, end=quiet.end, zone=quiet.zone),
            ),
        )


def _is_admin(principal: PrincipalDep) -> bool:
    return bool(principal.grant(Role.ADMIN).prefixes)


@router.get("/contacts", operation_id="list_contacts")
def list_contacts(platform: PlatformDep, grant: AdminGrant) -> list[dict[str, object]]:
    return [document_of(c) for c in platform.contacts.all()]


@router.get("/contacts/{user}", operation_id="get_contact")
def get_contact(
    user: str, platform: PlatformDep, principal: PrincipalDep, grant: ViewerGrant
) -> dict[str, object]:
    if user != principal.name and not _is_admin(principal):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="only admins read others' contacts")
    contact = platform.contacts.get(user)
    if contact is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no contact for {user!r}")
    return document_of(contact)


@router.put("/contacts/{user}", operation_id="set_contact")
def set_contact(
    user: str, body: ContactIn, platform: PlatformDep, principal: PrincipalDep, grant: ViewerGrant
) -> dict[str, object]:
    """Set a contact; a person setting their own keeps the posts an admin gave them."""
    known = {e.name for e in ChannelRepository(platform.db).list()} | {LAST_RESORT}
    unknown = [
        {"loc": ["body", field, i], "msg": f"no channel {name!r}; configured: {sorted(known)}"}
        for field, names in (("channels", body.channels), ("addresses", list(body.addresses)))
        for i, name in enumerate(names)
        if name not in known
    ]
    if unknown:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=unknown)
    contact = body.contact(user)
    if not _is_admin(principal):
        if user != principal.name:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, detail="only admins set others' contacts"
            )
        held = platform.contacts.get(user)
        if contact.posts != (held.posts if held is not None else ()):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail="posts are given by an admin; leave them as they are",
            )
    platform.contacts.save(contact, actor=principal.name, now=platform.clock.now())
    return document_of(contact)
