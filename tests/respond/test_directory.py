"""A playbook's recipients resolved to the people holding the posts above an occurrence."""

from __future__ import annotations

from hazwatch.respond.directory import Contact, Post, chain_of, resolve
from hazwatch.respond.notify.message import Recipient
from hazwatch.respond.playbook import Level

CHAIN = chain_of(
    {
        "region": "binhai",
        "park": "coastal",
        "enterprise": "chlor",
        "site": "chlor.main",
        "installation": "chlor.main.cl2-storage",
        "equipment": "chlor.main.cl2-storage.v-101",
    }
)


def _contact(user: str, *posts: tuple[str, str]) -> Contact:
    return Contact(
        user=user,
        posts=tuple(Post(position=p, scope=s) for p, s in posts),
        recipient=Recipient(user=user, channels=("webhook", "email")),
    )


CONTACTS = [
    _contact("li.na", ("shift-operator", "chlor.main.cl2-storage")),
    _contact("wang.qiang", ("shift-operator", "chlor.main.cl2-storage")),
    _contact("zhao.min", ("shift-operator", "lpg.main.sphere-farm")),
    _contact("chen.jie", ("emergency-office", "coastal"), ("duty-officer", "binhai")),
    _contact("sun.li", ("emergency-office", "inland")),
]


def test_the_chain_keeps_the_levels_above_equipment() -> None:
    assert set(CHAIN) == set(Level) and CHAIN[Level.PARK] == "coastal"


def test_positions_resolve_to_the_holders_at_the_occurrences_nodes() -> None:
    found = resolve(
        [
            "position:shift-operator@installation",
            "position:emergency-office@park",
            "user:li.na",  # already named: told once
        ],
        CHAIN,
        CONTACTS,
    )
    assert [r.user for r in found.recipients] == ["li.na", "wang.qiang", "chen.jie"]
    assert found.unresolved == ()


def test_posts_nobody_holds_are_named_not_silently_dropped() -> None:
    found = resolve(
        ["position:enterprise-head@enterprise", "user:ghost", "position:duty-officer@region"],
        CHAIN,
        CONTACTS,
    )
    assert [r.user for r in found.recipients] == ["chen.jie"]
    assert found.unresolved == ("position:enterprise-head@enterprise", "user:ghost")
    partial = {k: v for k, v in CHAIN.items() if k is not Level.PARK}
    assert resolve(["position:emergency-office@park"], partial, CONTACTS).recipients == ()
