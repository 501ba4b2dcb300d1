from __future__ import annotations

from dataclasses import FrozenInstanceError

import pytest

from hazwatch.domain.warning import (
    COLOURS,
    Colour,
    Contribution,
    Explanation,
    WarningKey,
    most_severe,
    warning_id,
)

RED, ORANGE, YELLOW, BLUE = Colour.RED, Colour.ORANGE, Colour.YELLOW, Colour.BLUE


@pytest.mark.parametrize(
    ("colour", "rank", "level", "chinese", "meaning", "meaning_chinese"),
    [
        (RED, 4, 1, "红", "major", "重大"),
        (ORANGE, 3, 2, "橙", "larger", "较大"),
        (YELLOW, 2, 3, "黄", "general", "一般"),
        (BLUE, 1, 4, "蓝", "low", "较低"),
    ],
)
def test_colour_names_and_order(
    colour: Colour, rank: int, level: int, chinese: str, meaning: str, meaning_chinese: str
) -> None:
    assert (colour.rank, colour.level) == (rank, level)
    assert (colour.chinese, colour.meaning, colour.meaning_chinese) == (
        chinese,
        meaning,
        meaning_chinese,
    )
    assert Colour.of_rank(rank) is colour
    assert COLOURS[rank - 1] is colour


def test_colours_compare_by_severity_not_by_text() -> None:
    assert RED.above(ORANGE) and ORANGE.above(YELLOW) and YELLOW.above(BLUE)
    assert not BLUE.above(BLUE) and not BLUE.above(RED)
    # as text, red < yellow: the reason colours compare by rank
    assert sorted(COLOURS) == [BLUE, ORANGE, RED, YELLOW]
    assert most_severe(YELLOW, RED, BLUE) is RED
    assert most_severe(BLUE) is BLUE


@pytest.mark.parametrize(
    ("colour", "ceiling", "expected"),
    [
        (BLUE, None, YELLOW),
        (YELLOW, None, ORANGE),
        (ORANGE, None, RED),
        (RED, None, RED),
        (YELLOW, ORANGE, ORANGE),
        (ORANGE, ORANGE, ORANGE),
        (RED, ORANGE, RED),
    ],
)
def test_one_colour_up_never_beyond_red_or_ceiling(
    colour: Colour, ceiling: Colour | None, expected: Colour
) -> None:
    assert colour.up(ceiling) is expected


@pytest.mark.parametrize("rank", [0, 5, -1])
def test_of_rank_refuses_unknown_ranks(rank: int) -> None:
    with pytest.raises(ValueError, match="rank"):
        Colour.of_rank(rank)


def test_key_text_and_validation() -> None:
    whole = WarningKey(detector="pca-t2", installation="acme.north.cracker")
    tag = WarningKey(
        detector="hst", installation="acme.north.cracker", subject="acme.north.cracker.r1.ti101"
    )
    assert whole.text == "pca-t2:acme.north.cracker"
    assert tag.text == "hst:acme.north.cracker:acme.north.cracker.r1.ti101"
    assert whole != WarningKey(detector="pca-spe", installation="acme.north.cracker")
    with pytest.raises(ValueError, match="installation key"):
        WarningKey(detector="pca", installation="acme.north")
    for bad in ("", "a:b"):
        with pytest.raises(ValueError, match="detector name"):
            WarningKey(detector=bad, installation="acme.north.cracker")


@pytest.mark.parametrize("share", [-0.01, 1.01])
def test_contribution_share_lies_in_unit_interval(share: float) -> None:
    with pytest.raises(ValueError, match="outside"):
        Contribution(variable="ti101", share=share)


def test_explanation_contributions_are_ordered_and_sum_to_at_most_one() -> None:
    a, b = Contribution(variable="a", share=0.3), Contribution(variable="b", share=0.6)
    assert Explanation(text="x", contributions=(b, a)).contributions == (b, a)
    with pytest.raises(ValueError, match="ordered"):
        Explanation(text="x", contributions=(a, b))
    with pytest.raises(ValueError, match="more than 1"):
        Explanation(
            text="x",
            contributions=(
                Contribution(variable="a", share=0.6),
                Contribution(variable="b", share=0.5),
            ),
        )


def test_explanation_of_a_contribution_row_keeps_the_top_positive_shares() -> None:
    names = ["fi1", "ti2", "pi3", "li4", "ai5"]
    shares = [0.1, 0.4, 0.0, 0.4, 0.1]
    got = Explanation.of("T² 41 > 18", names, shares, top=3)
    assert got.text == "T² 41 > 18"
    # ties keep the variables' order; zero shares never appear
    assert [(c.variable, c.share) for c in got.contributions] == [
        ("ti2", 0.4),
        ("li4", 0.4),
        ("fi1", 0.1),
    ]
    assert Explanation.of("t", names, [0.0] * 5).contributions == ()
    assert len(Explanation.of("t", names, shares, top=10).contributions) == 4
    rounded = Explanation.of("t", ["a", "b"], [1.0 + 2e-16, float("nan")])
    assert [(c.variable, c.share) for c in rounded.contributions] == [("a", 1.0)]
    with pytest.raises(ValueError, match="one share per variable"):
        Explanation.of("t", names, shares[:2])


def test_warning_id_is_stable_and_distinguishes_keys_and_instants() -> None:
    key = WarningKey(detector="pca", installation="acme.north.cracker")
    other = WarningKey(detector="pca", installation="acme.north.cracker", subject="x")
    first = warning_id(key, 1_000)
    assert first == warning_id(key, 1_000)
    assert len(first) == 16 and int(first, 16) >= 0
    assert len({first, warning_id(key, 1_001), warning_id(other, 1_000)}) == 3


def test_values_are_frozen() -> None:
    key = WarningKey(detector="pca", installation="acme.north.cracker")
    with pytest.raises(FrozenInstanceError):
        key.detector = "other"  # type: ignore[misc]
