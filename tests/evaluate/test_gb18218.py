"""GB 18218-2018 identification and grading: the worked examples of reference standards §1.5,
the boundaries of S, R (Table 6) and α (Table 5), how items are named and classified, and
the errors of a bad document."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from hazwatch.evaluate.gb18218 import (
    Classification,
    Gb18218Error,
    Item,
    ItemError,
    QuantityBasis,
    classify,
    identify,
    report,
)
from hazwatch.evaluate.gb18218_document import evaluate_document
from hazwatch.evaluate.gb18218_tables import Grade


def _one(inventory: list[dict[str, Any]], people: int = 10, **doc: Any) -> dict[str, Any]:
    """The JSON of a one-installation document."""
    found = evaluate_document(
        {"installations": [{"id": "u", "people_within_500m": people, "inventory": inventory}],
         **doc}
    )  # fmt: skip
    out: dict[str, Any] = report(found)["installations"][0]
    return out


def _abstract(q: str, critical: str, beta: str) -> Item:
    """An item of a chemical the example names only by its Q and β."""
    return Item(
        label=None,
        cas=None,
        classification=Classification(
            row=None,
            chemical="x",
            critical_t=Fraction(critical),
            basis="example",
            beta=Fraction(beta),
            beta_basis="example",
            categories=(),
        ),
        q_t=Fraction(q),
        quantity=QuantityBasis.DECLARED,
        quantity_detail="",
    )


def _problems(data: object) -> tuple[str, ...]:
    with pytest.raises(Gb18218Error) as caught:
        evaluate_document(data)
    return caught.value.problems


# --- worked examples (reference standards §1.5) -------------------------------------------


def test_e1_sulfur_dioxide_200_t_with_60_people_is_grade_iii() -> None:
    # R = 1.5 × (2 × 200/20) = 30 → 三级
    out = _one([{"chemical": "二氧化硫", "tonnes": 200}], people=60)
    assert (out["S"], out["alpha"], out["R"]) == (10, 1.5, 30)
    assert (out["major_hazard"], out["grade"], out["grade_name"]) == (True, "III", "三级")
    (item,) = out["items"]
    assert (item["q"], item["Q"], item["beta"], item["basis"], item["beta_basis"]) == (
        200, 20, 2, "table1", "table3",
    )  # fmt: skip


def test_e2_three_chemicals_with_80_people() -> None:
    # A 200 t (Q 200, β 1), B 80 t (Q 20, β 2), C 400 t (Q 200, β 1), α 1.5:
    # S = 1 + 4 + 2 = 7; R = 1.5 × (1 + 8 + 2) = 16.5 → 三级
    items = [_abstract("200", "200", "1"), _abstract("80", "20", "2"), _abstract("400", "200", "1")]
    found = identify(id="e2", people_within_500m=80, items=items)
    assert (found.s, found.alpha, found.r) == (Fraction(7), Fraction(3, 2), Fraction(33, 2))
    assert found.grade is Grade.III
    # the same through a document: W10 and W11 have Q 200 and β 1; SO2 has Q 20 and β 2
    out = _one(
        [
            {"name": "A", "category": "W10", "tonnes": 200},
            {"chemical": "SO2", "tonnes": 80},
            {"name": "C", "category": "W11", "tonnes": 400},
        ],
        people=80,
    )
    assert (out["S"], out["R"], out["grade"]) == (7, 16.5, "III")


def test_e3_storage_area_is_a_major_hazard_by_the_formula() -> None:
    # methanol 15 t (Q 20 in the question, an older edition), ethylene 6 t (Q 10):
    # S = 0.75 + 0.6 = 1.35 ≥ 1
    found = identify(
        id="e3", people_within_500m=0, items=[_abstract("15", "20", "1"), _abstract("6", "10", "1")]
    )
    assert found.s == Fraction(135, 100)
    assert found.major_hazard


def test_e4_and_e8_gas_station_from_tank_volumes_is_not_a_major_hazard() -> None:
    # gasoline 40 m³ × 0.74 t/m³ × 0.9 = 26.64 t (Q 200); diesel 30 m³ × 0.85 × 0.9 = 22.95 t
    # (unlisted, flammable liquid category 3: W5.4, Q 5000); S = 0.1332 + 0.00459 ≈ 0.14 < 1
    out = _one(
        [
            {"chemical": "汽油", "volume_m3": 40, "density_t_per_m3": 0.74},
            {"name": "diesel", "category": "W5.4", "volume_m3": 30, "density_t_per_m3": 0.85},
        ],
        fill_ratio=0.9,
    )
    gasoline, diesel = out["items"]
    assert (gasoline["q"], gasoline["Q"], gasoline["quantity_basis"]) == (26.64, 200, "tank")
    assert (diesel["q"], diesel["Q"], diesel["basis"]) == (22.95, 5000, "table2:W5.4")
    assert (gasoline["q_over_Q"], diesel["q_over_Q"]) == (0.1332, 0.00459)
    assert out["S"] == 0.13779
    assert (out["major_hazard"], out["grade"]) == (False, None)


# --- boundaries ----------------------------------------------------------------------------


def test_s_exactly_one_is_a_major_hazard() -> None:
    out = _one([{"chemical": "氯", "tonnes": 5}])
    assert (out["S"], out["major_hazard"]) == (1, True)


def test_s_summing_to_one_in_tenths_is_exactly_one() -> None:
    # ten times 1 t of ammonia (Q 10): a float sum of ten 0.1 is 0.9999999999999999
    out = _one([{"chemical": "氨", "tonnes": 1}] * 10)
    assert (out["S"], out["major_hazard"]) == (1, True)


def test_s_just_below_one_is_not_a_major_hazard_and_has_no_grade() -> None:
    out = _one([{"chemical": "氯", "tonnes": 4.999}])
    assert out["S"] == pytest.approx(0.9998)
    assert (out["major_hazard"], out["grade"], out["grade_name"]) == (False, None, None)


def test_a_high_r_without_a_major_hazard_has_no_grade() -> None:
    # phosgene 0.29 t: S = 0.29/0.3 < 1, yet R = 2 × 20 × 0.967 ≈ 38.7
    out = _one([{"chemical": "光气", "tonnes": 0.29}], people=500)
    assert out["R"] > 10
    assert (out["major_hazard"], out["grade"]) == (False, None)


@pytest.mark.parametrize(
    ("chlorine_t", "grade"),
    [
        # 1-29 people: α = 1; chlorine β = 4, Q = 5: R = 4 × q/5 = 0.8 q
        (5, "IV"),  # R = 4
        (12.499, "IV"),  # R = 9.9992
        (12.5, "III"),  # R = 10
        (62.499, "III"),  # R = 49.9992
        (62.5, "II"),  # R = 50
        (124.999, "II"),  # R = 99.9992
        (125, "I"),  # R = 100
        (1000, "I"),
    ],
)
def test_grades_change_exactly_at_r_10_50_and_100(chlorine_t: float, grade: str) -> None:
    out = _one([{"chemical": "chlorine", "tonnes": chlorine_t}], people=10)
    assert out["R"] == pytest.approx(0.8 * chlorine_t)
    assert out["grade"] == grade


def test_r_of_ten_summed_from_fifty_items_is_grade_iii() -> None:
    # 50 × (β 2 × 1 t / 10 t) = 10: a float sum gives 9.999999999999996
    out = _one([{"chemical": "ammonia", "tonnes": 1}] * 50, people=1)
    assert (out["R"], out["grade"]) == (10, "III")


@pytest.mark.parametrize(
    ("people", "alpha"),
    [(0, 0.5), (1, 1.0), (29, 1.0), (30, 1.2), (49, 1.2), (50, 1.5), (99, 1.5), (100, 2.0),
     (100_000, 2.0)],
)  # fmt: skip
def test_alpha_follows_table_5_at_every_boundary(people: int, alpha: float) -> None:
    out = _one([{"chemical": "氯", "tonnes": 5}], people=people)
    assert (out["alpha"], out["alpha_basis"], out["people_within_500m"]) == (
        alpha,
        "table5",
        people,
    )
    assert out["R"] == pytest.approx(4 * alpha)


def test_undeclared_people_take_the_highest_alpha_and_say_so() -> None:
    held = [_abstract("5", "5", "4")]
    found = identify(id="u", people_within_500m=None, items=held)
    assert (found.alpha, found.alpha_basis, found.r) == (Fraction(2), "assumed", Fraction(8))


# --- naming and classification ------------------------------------------------------------


@pytest.mark.parametrize(
    "given",
    [
        {"chemical": "氯"},
        {"chemical": "液氯"},
        {"chemical": "氯气"},
        {"chemical": "chlorine"},
        {"chemical": " Liquid Chlorine "},
        {"chemical": "Cl2"},
        {"chemical": "7782-50-5"},
        {"cas": "7782-50-5"},
        {"chemical": "chlorine", "cas": "7782-50-5"},
        {"name": "氯气"},
    ],
)
def test_chinese_english_alias_and_cas_name_the_same_row(given: dict[str, str]) -> None:
    (item,) = _one([{**given, "tonnes": 1}])["items"]
    assert (item["row"], item["chemical"], item["Q"], item["beta"]) == (12, "氯", 5, 4)
    assert item["basis"] == "table1"


def test_full_width_brackets_match_the_table() -> None:
    (item,) = _one([{"chemical": "氯化氢（无水）", "tonnes": 20}])["items"]
    assert (item["row"], item["beta"], item["beta_basis"]) == (11, 3, "table3")


def test_carbon_monoxide_counts_as_coal_gas_with_its_table_3_beta() -> None:
    (item,) = _one([{"cas": "630-08-0", "tonnes": 20}])["items"]
    assert (item["row"], item["Q"], item["beta"], item["beta_basis"]) == (13, 20, 2, "table3")


def test_unlisted_chemical_by_category_records_the_rule() -> None:
    (item,) = _one([{"name": "solvent blend", "category": "W5.3", "tonnes": 800}])["items"]
    assert (item["chemical"], item["row"], item["Q"], item["beta"]) == ("solvent blend", None,
                                                                         1000, 1)  # fmt: skip
    assert (item["basis"], item["beta_basis"], item["categories"]) == (
        "table2:W5.3", "table4:W5.3", ["W5.3"],
    )  # fmt: skip


def test_a_mixture_of_several_categories_takes_the_lowest_q_and_the_highest_beta() -> None:
    # J3: Q 50, β 2; W2: Q 10, β 1.5
    found = classify(name="reformer gas", categories=["j3", "W2"])
    assert (found.critical_t, found.basis) == (Fraction(10), "table2:W2")
    assert (found.beta, found.beta_basis) == (Fraction(2), "table4:J3")
    assert found.categories == ("J3", "W2")


def test_an_unlisted_cas_with_a_category_uses_table_2() -> None:
    found = classify(cas="68334-30-5", categories=["W5.4"])  # diesel fuel
    assert found.row is None
    assert (found.critical_t, found.basis) == (Fraction(5000), "table2:W5.4")


def test_a_table_1_chemical_outside_table_3_takes_beta_from_its_category() -> None:
    hydrogen = classify(chemical="hydrogen")
    assert (hydrogen.critical_t, hydrogen.beta, hydrogen.beta_basis) == (
        Fraction(5), Fraction(3, 2), "table4:W2",
    )  # fmt: skip
    lpg = classify(chemical="LPG", cas="68476-85-7")
    assert (lpg.critical_t, lpg.beta) == (Fraction(50), Fraction(3, 2))


def test_a_declared_category_chooses_beta_and_leaves_table_1_q() -> None:
    # methanol handled above its boiling point: W5.1 (β 1.5); Q stays Table 1's 500 t
    found = classify(chemical="甲醇", categories=["W5.1"])
    assert (found.critical_t, found.basis, found.beta, found.beta_basis) == (
        Fraction(500), "table1", Fraction(3, 2), "table4:W5.1",
    )  # fmt: skip


def test_a_table_1_chemical_without_a_category_takes_the_default_beta() -> None:
    found = classify(chemical="三氧化硫")
    assert (found.critical_t, found.beta, found.beta_basis) == (
        Fraction(75), Fraction(1), "table4:default",
    )  # fmt: skip


def test_toxic_gases_of_table_3_keep_their_beta() -> None:
    assert classify(chemical="phosgene").beta == 20
    assert classify(chemical="硫化氢").beta == 5
    assert classify(cas="624-83-9").beta == 20


# --- errors ----------------------------------------------------------------------------------


def test_unknown_chemical_names_the_installation_and_the_item() -> None:
    (problem,) = _problems(
        {"installations": [{"id": "farm", "people_within_500m": 3,
                            "inventory": [{"chemical": "氯", "tonnes": 1},
                                          {"chemical": "unobtainium", "tonnes": 1}]}]}
    )  # fmt: skip
    assert problem.startswith("installations[0] (farm).inventory[1] (unobtainium).chemical: ")
    assert "not a Table 1 name" in problem


def test_every_problem_of_a_document_is_reported_at_once() -> None:
    problems = _problems(
        {
            "installations": [
                {
                    "id": "a",
                    "people_within_500m": 1,
                    "inventory": [
                        {"name": "blend", "category": "W5.9", "tonnes": 3},
                        {"chemical": "氯", "tonnes": -1},
                        {"chemical": "氯"},
                        {"name": "mystery", "tonnes": 2},
                        {"cas": "9004-70-0", "tonnes": 1},
                        {"chemical": "氯", "cas": "7664-41-7", "tonnes": 1},
                        {"chemical": "氯", "category": "W2", "tonnes": 1},
                        {"chemical": "氯", "tonnes": 1, "colour": "green"},
                        {"chemical": "氯", "tonnes": True},
                    ],
                },
                {"id": "a", "people_within_500m": 2, "inventory": []},
                {"people_within_500m": -1, "inventory": [{"chemical": "x", "tonnes": 1}]},
            ]
        }
    )
    where = "installations[0] (a).inventory"
    expected = [
        f"{where}[0] (blend).category: unknown category 'W5.9'",
        f"{where}[1] (氯).tonnes: Input should be greater than or equal to 0, not -1",
        f"{where}[2] (氯).tonnes: give tonnes, or both volume_m3 and density_t_per_m3",
        f"{where}[3] (mystery).category: 'mystery' is not in Table 1",
        f"{where}[4] (9004-70-0).cas: CAS 9004-70-0 has several Table 1 rows",
        f"{where}[5] (氯).cas: 7664-41-7 is not the CAS number of 氯",
        f"{where}[6] (氯).category: β of 氯 is fixed by Table 3",
        f"{where}[7] (氯).colour: Extra inputs are not permitted",
        f"{where}[8] (氯).tonnes: Input should be a valid number",
        "installations[1] (a).id: 'a' appears twice",
        "installations[2].id: Field required",
        "installations[2].people_within_500m: Input should be greater than or equal to 0",
        "installations[2].inventory[0] (x).chemical: 'x' is not a Table 1 name",
    ]
    assert len(problems) == len(expected), "\n".join(problems)
    for want in expected:
        assert any(p.startswith(want) for p in problems), f"{want!r} not in {problems}"


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"chemical": "氯", "tonnes": 1, "volume_m3": 1, "density_t_per_m3": 1}, "tonnes"),
        ({"chemical": "氯", "tonnes": 1, "shape": "sphere"}, "tonnes"),
        ({"chemical": "氯", "volume_m3": 10}, "density_t_per_m3"),
        ({"chemical": "氯", "density_t_per_m3": 1.4}, "volume_m3"),
        ({"chemical": "氯", "volume_m3": 10, "density_t_per_m3": 1.4, "fill_ratio": 1.2},
         "fill_ratio"),
        ({"chemical": "氯", "volume_m3": 10, "density_t_per_m3": 1.4, "level_pct": 50,
          "fill_ratio": 0.9}, "fill_ratio"),
        ({"chemical": "氯", "volume_m3": 10, "density_t_per_m3": 1.4, "shape": "sphere"},
         "shape"),
        ({"chemical": "氯", "volume_m3": 10, "density_t_per_m3": 1.4, "level_pct": 101},
         "level_pct"),
        ({"chemical": "氯", "tonnes": float("inf")}, "tonnes"),
        ({"cas": "7782-50-6", "tonnes": 1}, "cas"),
        ({"cas": "chlorine", "tonnes": 1}, "cas"),
        ({"tonnes": 1}, "chemical"),
    ],
)  # fmt: skip
def test_a_bad_item_names_its_field(item: dict[str, Any], field: str) -> None:
    (problem,) = _problems({"installations": [{"id": "t", "people_within_500m": 0,
                                               "inventory": [item]}]})  # fmt: skip
    assert problem.split(": ", 1)[0].endswith(f".{field}"), problem


@pytest.mark.parametrize(
    ("data", "start"),
    [
        ([], "expected a mapping"),
        ({}, "installations: Field required"),
        ({"installations": []}, "installations: List should have at least 1 item"),
        ({"installations": ["x"]}, "installations[0]: expected a mapping"),
        ({"installations": [{"id": "t", "inventory": []}]},
         "installations[0] (t).people_within_500m: Field required"),
        ({"installations": [{"id": "t", "people_within_500m": 2.5, "inventory": []}]},
         "installations[0] (t).people_within_500m: Input should be a valid integer"),
        ({"installations": [{"id": "t", "people_within_500m": 2}]},
         "installations[0] (t).inventory: Field required"),
        ({"fill_ratio": 0, "installations": [{"id": "t", "people_within_500m": 2,
                                              "inventory": []}]},
         "fill_ratio: Input should be greater than 0"),
    ],
)  # fmt: skip
def test_a_bad_document_says_what_is_missing(data: object, start: str) -> None:
    problems = _problems(data)
    assert problems[0].startswith(start), problems


def test_item_error_carries_the_field() -> None:
    with pytest.raises(ItemError) as caught:
        classify(name="blend", categories=["X1"])
    assert caught.value.field == "category"
