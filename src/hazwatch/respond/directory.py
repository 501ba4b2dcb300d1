"""Who a playbook's recipients are: people, the posts they hold, how to reach them. Pure.

A ``Contact`` is a user with the posts they hold (``shift-operator`` at an installation,
``emergency-office`` at a park — a position at a node of the scope tree, named by its key)
and their notification preferences (a ``notify.Recipient``: channels in order, addresses,
minimum priority, quiet hours). ``resolve`` turns a step's recipients — ``user:<name>`` and
``position:<position>@<level>`` (see ``respond.playbook``) — into the contacts to notify
for an occurrence, given the keys of the scope nodes above it (``Chain``): the park's
emergency office for an alarm in that park, the enterprise head of its enterprise.

A position nobody holds at that node resolves to nobody, and ``unresolved`` names it, so
the run can record who could not be told (never silence: the playbook's next level, or the
region's duty officer, is the fallback a safety engineer writes into it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hazwatch.respond.notify.message import Recipient
from hazwatch.respond.playbook import Level


@dataclass(frozen=True, slots=True, kw_only=True)
class Post:
    """A position held at one scope node (its key)."""

    position: str
    scope: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Contact:
    user: str
    posts: tuple[Post, ...]
    recipient: Recipient

    def __post_init__(self) -> None:
        if self.recipient.user != self.user:
            raise ValueError("a contact's recipient is the contact's own user")


Chain = Mapping[Level, str]
"""The key of the scope node at each level above an occurrence (levels it lacks: absent)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolution:
    recipients: tuple[Recipient, ...]
    unresolved: tuple[str, ...]
    """the step's recipients nobody answers to"""


def resolve(names: Sequence[str], chain: Chain, contacts: Sequence[Contact]) -> Resolution:
    """The contacts ``names`` designate for an occurrence under ``chain``, each once, in the
    order the names give them."""
    by_user = {c.user: c for c in contacts}
    found: dict[str, Recipient] = {}
    unresolved: list[str] = []
    for name in names:
        kind, _, rest = name.partition(":")
        matched: list[Contact] = []
        if kind == "user":
            contact = by_user.get(rest)
            matched = [contact] if contact is not None else []
        elif kind == "position":
            position, _, level = rest.partition("@")
            scope = chain.get(Level(level))
            if scope is not None:
                wanted = Post(position=position, scope=scope)
                matched = [c for c in contacts if wanted in c.posts]
        if not matched:
            unresolved.append(name)
        for contact in matched:
            found.setdefault(contact.user, contact.recipient)
    return Resolution(recipients=tuple(found.values()), unresolved=tuple(unresolved))


def chain_of(keys: Mapping[str, str]) -> Chain:
    """A chain from scope kinds to keys (``{"park": "coastal", "enterprise": "chlor", …}``),
    the equipment level left out."""
    return {Level(kind): key for kind, key in keys.items() if kind in set(Level)}
