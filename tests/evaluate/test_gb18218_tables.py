"""The GB 18218-2018 tables as shipped: their sources, their size, and rows checked by hand
against the standard's text (reference standards §1.2–§1.4)."""

from __future__ import annotations

from fractions import Fraction
from importlib import resources

import pytest
import yaml

from hazwatch.evaluate.gb18218_tables import Grade, exact, fold, tables

FILES = [f"gb18218_table{n}.yaml" for n in range(1, 7)]


def _cas_check_digit_ok(cas: str) -> bool:
    """CAS check digit: the last digit is Σ (position from the right × digit) mod 10."""
    digits = cas.replace("-", "")
    body, check = digits[:-1], int(digits[-1])
    return sum(i * int(d) for i, d in enumerate(reversed(body), start=1)) % 10 == check


@pytest.mark.parametrize("name", FILES)
def test_every_table_names_its_source(name: str) -> None:
    text = resources.files("hazwatch.evaluate").joinpath("data", name).read_text("utf-8")
    source = yaml.safe_load(text)["source"]
    assert source["standard"] == "GB 18218-2018"
    assert f"Table {name[-6]}" in source["clause"]
    assert source["transcription"] and source["confidence"]


def test_table1_has_the_85_rows_of_the_standard() -> None:
    rows = tables().chemicals
    assert len(rows) == 85
    assert [r.row for r in rows] == list(range(1, 86))


@pytest.mark.parametrize(
    ("row", "name", "aliases", "cas", "q_t"),
    [
        (1, "氨", ("液氨", "氨气"), ("7664-41-7",), Fraction(10)),
        (6, "碳酰氯", ("光气",), ("75-44-5",), Fraction(3, 10)),
        (12, "氯", ("液氯", "氯气"), ("7782-50-5",), Fraction(5)),
        (13, "煤气(CO, CO和H₂、CH₄的混合物等)", (), (), Fraction(20)),
        (30, "异氰酸甲酯", ("甲基异氰酸酯",), ("624-83-9",), Fraction(3, 4)),
        (42, "硝化纤维素溶液(含氮量≤12.6%,含硝化纤维素≤55%)", (), ("9004-70-0",), Fraction(50)),
        (46, "硝酸钾", (), ("7757-79-1",), Fraction(1000)),
        (52, "液化石油气(含丙烷、丁烷及其混合物)", (), ("68476-85-7", "74-98-6", "106-97-8"),
         Fraction(50)),
        (56, "氧(压缩的或液化的)", ("液氧", "氧气"), ("7782-44-7",), Fraction(200)),
        (66, "汽油(乙醇汽油、甲醇汽油)", (), ("86290-81-5",), Fraction(200)),
        (82, "硝酸胍", ("硝酸亚氨脲",), ("506-93-4",), Fraction(50)),
        (85, "钠", ("金属钠",), ("7440-23-5",), Fraction(10)),
    ],
)  # fmt: skip
def test_table1_rows_read_as_the_standard_prints_them(
    row: int, name: str, aliases: tuple[str, ...], cas: tuple[str, ...], q_t: Fraction
) -> None:
    chemical = tables().chemicals[row - 1]
    assert (chemical.row, chemical.name, chemical.aliases, chemical.cas, chemical.q_t) == (
        row, name, aliases, cas, q_t,
    )  # fmt: skip


def test_every_cas_number_has_a_valid_check_digit() -> None:
    numbers = [cas for c in tables().chemicals for cas in c.all_cas]
    assert len(numbers) >= 80
    assert [cas for cas in numbers if not _cas_check_digit_ok(cas)] == []
    assert not _cas_check_digit_ok("7782-50-4")


def test_table2_categories_and_critical_quantities() -> None:
    categories = tables().categories
    assert len(categories) == 24
    q = {symbol: c.q_t for symbol, c in categories.items()}
    assert (q["J1"], q["J5"], q["W1.1"], q["W2"], q["W3"]) == tuple(
        map(Fraction, (5, 500, 1, 10, 150))
    )
    assert (q["W5.1"], q["W5.2"], q["W5.3"], q["W5.4"], q["W11"]) == tuple(
        map(Fraction, (10, 50, 1000, 5000, 200))
    )
    assert categories["W5.4"].hazard_class == "易燃液体"


def test_table3_and_table4_betas() -> None:
    t = tables()
    table3 = {t.chemicals[row - 1].name: beta for row, beta in t.table3_beta.items()}
    assert len(table3) == 14
    assert (table3["氯"], table3["硫化氢"], table3["碳酰氯"], table3["氨"]) == tuple(
        map(Fraction, (4, 5, 20, 2))
    )
    assert table3["煤气(CO, CO和H₂、CH₄的混合物等)"] == 2  # Table 3's 一氧化碳
    b = t.table4_beta
    assert (b["J1"], b["J2"], b["J3"], b["W1.3"], b["W2"], b["W5.1"], b["W7.1"]) == (
        Fraction(4), Fraction(1), Fraction(2), Fraction(2), Fraction(3, 2), Fraction(3, 2),
        Fraction(3, 2),
    )  # fmt: skip
    assert set(b) == set(t.categories)
    assert t.default_beta == 1


def test_table1_categories_name_table2_symbols() -> None:
    t = tables()
    assert all(set(c.categories) <= set(t.categories) for c in t.chemicals)
    hydrogen = t.chemicals[50]
    assert (hydrogen.name, hydrogen.categories) == ("氢", ("W2",))


def test_grades_and_alpha_bands_come_from_tables_5_and_6() -> None:
    t = tables()
    assert [(b.grade, b.name) for b in t.grade_bands] == [
        (Grade.I, "一级"), (Grade.II, "二级"), (Grade.III, "三级"), (Grade.IV, "四级"),
    ]  # fmt: skip
    assert sorted(b.alpha for b in t.alpha_bands) == [
        Fraction(1, 2), 1, Fraction(6, 5), Fraction(3, 2), 2,
    ]  # fmt: skip


def test_no_name_belongs_to_two_rows_and_every_name_finds_its_row() -> None:
    t = tables()
    for chemical in t.chemicals:
        for name in chemical.names:
            assert t.named(name) is chemical


def test_exact_reads_the_decimal_written() -> None:
    assert exact(0.1) == Fraction(1, 10)
    assert exact(26.64) == Fraction(2664, 100)
    assert exact(7) == 7
    assert sum([exact(0.1)] * 10) == 1
    with pytest.raises(ValueError):
        exact(float("nan"))
    with pytest.raises(ValueError):
        exact(True)


def test_fold_makes_full_width_and_spacing_equal() -> None:
    assert fold("氯化氢（无水）") == fold("氯化氢(无水)")
    assert fold(" Liquid  Chlorine ") == fold("liquid chlorine")
    assert fold("H₂") == fold("h2")
