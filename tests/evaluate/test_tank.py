"""Quantities in tanks: design (volume × density × fill ratio) and measured (highest level)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from hazwatch.evaluate.gb18218_document import evaluate_document
from hazwatch.evaluate.tank import (
    TankShape,
    highest_level,
    tonnes_at_level,
    tonnes_in_tank,
    volume_fraction,
)


def test_design_quantity_of_the_e8_example_is_exact() -> None:
    # reference standards §1.5 E8: 40 m³ × 0.74 t/m³ × 0.9 = 26.64 t
    q = tonnes_in_tank(
        volume_m3=Fraction(40), density_t_per_m3=Fraction("0.74"), fill_ratio=Fraction("0.9")
    )
    assert q == Fraction("26.64")


@pytest.mark.parametrize(
    ("volume", "density", "fill"), [(-1, 1, 1), (1, 0, 1), (1, 1, 0), (1, 1, Fraction(11, 10))]
)
def test_design_quantity_refuses_impossible_tanks(
    volume: int, density: int, fill: Fraction
) -> None:
    with pytest.raises(ValueError):
        tonnes_in_tank(
            volume_m3=Fraction(volume), density_t_per_m3=Fraction(density), fill_ratio=fill
        )


@pytest.mark.parametrize("shape", list(TankShape))
def test_every_shape_is_empty_at_0_half_full_at_50_and_full_at_100(shape: TankShape) -> None:
    assert volume_fraction(0, shape) == pytest.approx(0)
    assert volume_fraction(50, shape) == pytest.approx(0.5)
    assert volume_fraction(100, shape) == pytest.approx(1)


def test_shapes_at_a_quarter_of_their_height() -> None:
    # sphere: cap of height D/4: h²(3 − 2h) = 1/16 × 2.5 = 0.15625
    assert volume_fraction(25, TankShape.SPHERE) == pytest.approx(0.15625)
    # horizontal cylinder: segment at r/2 below the axis: (θ − sin θ)/2π with θ = 2π/3
    theta = 2 * math.pi / 3
    expected = (theta - math.sin(theta)) / (2 * math.pi)
    assert volume_fraction(25, TankShape.HORIZONTAL_CYLINDER) == pytest.approx(expected)
    assert expected == pytest.approx(0.1955, abs=1e-4)
    assert volume_fraction(25, TankShape.VERTICAL_CYLINDER) == 0.25


def test_a_level_outside_0_to_100_is_refused() -> None:
    with pytest.raises(ValueError):
        volume_fraction(100.5, TankShape.SPHERE)


def test_quantity_at_a_level() -> None:
    vertical = tonnes_at_level(
        level_pct=80,
        volume_m3=Fraction(100),
        density_t_per_m3=Fraction("1.4"),
        shape=TankShape.VERTICAL_CYLINDER,
    )
    assert vertical == Fraction(112)
    sphere = tonnes_at_level(
        level_pct=25,
        volume_m3=Fraction(400),
        density_t_per_m3=Fraction("0.53"),
        shape=TankShape.SPHERE,
    )
    assert float(sphere) == pytest.approx(400 * 0.53 * 0.15625)


def test_highest_level_over_a_window() -> None:
    ts = np.array([0, 10, 20, 30, 40], dtype=np.int64)
    values = np.array([50.0, 80.0, np.nan, 95.0, 60.0])
    assert highest_level(ts, values, start=0, end=50) == 95.0
    assert highest_level(ts, values, start=0, end=30) == 80.0  # the end is excluded
    assert highest_level(ts, values, start=20, end=21) is None  # only a NaN inside
    assert highest_level([], [], start=0, end=10) is None
    with pytest.raises(ValueError):
        highest_level([1, 2], [1.0], start=0, end=10)


def test_a_document_item_at_a_measured_level() -> None:
    (found,) = evaluate_document(
        {
            "installations": [
                {
                    "id": "spheres",
                    "people_within_500m": 0,
                    "inventory": [
                        {
                            "chemical": "LPG",
                            "volume_m3": 400,
                            "density_t_per_m3": 0.53,
                            "level_pct": 50,
                            "shape": "sphere",
                        }
                    ],
                }
            ]
        }
    )
    (item,) = found.items
    assert item.q_t == Fraction(106)  # half of 400 m³ × 0.53 t/m³
    assert item.quantity.value == "level"
    assert "sphere" in item.quantity_detail


def test_fill_ratio_precedence_item_then_document_then_caller_then_one() -> None:
    def q(item: dict[str, object], **doc: object) -> Fraction:
        data = {"installations": [{"id": "t", "people_within_500m": 0, "inventory": [item]}],
                **doc}  # fmt: skip
        (found,) = evaluate_document(data, fill_ratio=Fraction("0.8"))
        return found.items[0].q_t

    tank = {"chemical": "甲醇", "volume_m3": 100, "density_t_per_m3": 0.8}
    assert q({**tank, "fill_ratio": 0.5}, fill_ratio=0.9) == 40
    assert q(tank, fill_ratio=0.9) == 72
    assert q(tank) == 64  # the caller's 0.8
    (found,) = evaluate_document(
        {"installations": [{"id": "t", "people_within_500m": 0, "inventory": [tank]}]}
    )
    assert found.items[0].q_t == 80  # the default: the whole volume
