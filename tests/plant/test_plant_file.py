"""Plant files: round trip, and errors that name the file, the path and the position."""

from __future__ import annotations

from pathlib import Path

import pytest

from hazwatch.connectors.simulator import DEMO_PLANT_FILE, demo_plant_text
from hazwatch.domain.tag import ConditionKind, Priority
from hazwatch.plant import (
    PlantFileError,
    ProblemKind,
    dump_plant,
    load_plant,
    parse_plant,
)

SOURCE = "plants/test.yaml"
TAG_PATH = (
    "parks[east].enterprises[acid].sites[main].installations[storage].equipment[v-1].tags[level]"
)

BASE = """\
version: 1
region: jiangsu
region_name: 江苏
parks:
  - key: east
    location: {lat: 31.5, lon: 120.25}
    enterprises:
      - key: acid
        name: Acid Works 酸厂
        sites:
          - key: main
            installations:
              - key: storage
                inventories:
                  - {chemical: chlorine, cas: 7782-50-5, tonnes: 12.5}
                equipment:
                  - key: v-1
                    tags:
                      - key: level
                        unit: "%"
                        range: [0, 100]
                        period_s: 5
                        limits:
                          HH: {value: 90, priority: high, deadband: 2}
                          H: {value: 80}
                      - key: pressure
                        unit: MPa
                        range: [0, 2.5]
"""


def _line_of(text: str, fragment: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line containing ``fragment``."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if fragment in line]
    return hits[occurrence - 1]


def _error(text: str) -> PlantFileError:
    with pytest.raises(PlantFileError) as caught:
        parse_plant(text, source=SOURCE)
    return caught.value


def test_base_file_is_valid() -> None:
    spec = parse_plant(BASE, source=SOURCE)
    assert spec.tag_keys() == ["acid.main.storage.v-1.level", "acid.main.storage.v-1.pressure"]


def test_demo_file_round_trips() -> None:
    spec = parse_plant(demo_plant_text(), source=DEMO_PLANT_FILE)
    text = dump_plant(spec)
    again = parse_plant(text, source="dumped.yaml")
    assert again == spec
    assert dump_plant(again) == text
    assert "氯碱化工" in text  # written as UTF-8, not escaped


def test_dump_puts_keys_first_and_leaves_out_defaults() -> None:
    spec = parse_plant(BASE, source=SOURCE)
    text = dump_plant(spec)
    lines = text.splitlines()
    assert lines[lines.index("  - key: east") + 1].strip().startswith("location:")
    assert "range: [0, 100]" in text
    assert "offline_after_s" not in text and "frozen_after_s" not in text
    # The priority of a limit is always written, even when it is the default.
    h_line = next(line for line in lines if line.strip().startswith("H:"))
    assert f"priority: {Priority.MEDIUM}" in h_line
    assert text.index("version: 1") < text.index("region: jiangsu")


def test_load_plant_reads_utf8_files(tmp_path: Path) -> None:
    path = tmp_path / "plant.yaml"
    path.write_text(BASE, encoding="utf-8")
    spec = load_plant(path)
    assert spec.region_name == "江苏"
    assert spec == parse_plant(dump_plant(spec), source="x")


def test_unreadable_files_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "absent.yaml"
    with pytest.raises(PlantFileError) as caught:
        load_plant(missing)
    assert caught.value.problems[0].kind == ProblemKind.UNREADABLE
    assert str(missing) in str(caught.value)
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes(BASE.replace("江苏", "Jiangsu").encode() + "name: é\n".encode("latin-1"))
    with pytest.raises(PlantFileError, match="UTF-8"):
        load_plant(latin1)


def test_yaml_syntax_error_gives_line_and_column() -> None:
    text = BASE.replace("range: [0, 2.5]", "range: [0, 2.5")
    err = _error(text)
    assert err.source == SOURCE
    (problem,) = err.problems
    assert problem.kind == ProblemKind.SYNTAX
    assert problem.line is not None and problem.column is not None
    assert problem.line >= _line_of(text, "range: [0, 2.5")
    assert str(err).startswith(f"{SOURCE}:{problem.line}:{problem.column}: YAML syntax")


def test_bad_indentation_points_at_its_line() -> None:
    text = BASE.replace("                        unit: MPa", "                       unit: MPa")
    err = _error(text)
    assert err.problems[0].kind == ProblemKind.SYNTAX
    assert err.line == _line_of(text, "unit: MPa")


def test_missing_field_names_the_path() -> None:
    text = BASE.replace("                        range: [0, 2.5]\n", "")
    err = _error(text)
    (problem,) = err.problems
    assert problem.path == TAG_PATH.replace("tags[level]", "tags[pressure]") + ".range"
    assert problem.code == "missing"
    assert problem.line == _line_of(text, "- key: pressure")
    assert SOURCE in str(err) and problem.path in str(err)


def test_limit_outside_the_range_names_the_limit() -> None:
    text = BASE.replace("HH: {value: 90,", "HH: {value: 120,")
    (problem,) = _error(text).problems
    assert problem.path == f"{TAG_PATH}.limits.HH"
    assert "outside the range" in problem.message
    assert problem.line == _line_of(text, "HH: {value: 120")


def test_duplicate_mapping_key_is_an_error() -> None:
    text = BASE.replace(
        "H: {value: 80}", "H: {value: 80}\n                          H: {value: 85}"
    )
    (problem,) = _error(text).problems
    assert problem.kind == ProblemKind.DUPLICATE_KEY
    assert problem.path == f"{TAG_PATH}.limits.H"
    assert problem.line == _line_of(text, "H: {value: 85}")
    assert str(_line_of(text, "H: {value: 80}")) in problem.message


def test_duplicate_asset_key_is_an_error() -> None:
    text = BASE.replace("- key: pressure", "- key: level")
    (problem,) = _error(text).problems
    assert problem.kind == ProblemKind.DUPLICATE_KEY
    # Two tags share the key, so the path names them by index.
    assert problem.path == TAG_PATH.replace("tags[level]", "tags[1]") + ".key"
    assert problem.line == _line_of(text, "- key: level", occurrence=2)


def test_wrong_type_names_the_field() -> None:
    text = BASE.replace("period_s: 5", "period_s: fast")
    (problem,) = _error(text).problems
    assert problem.path == f"{TAG_PATH}.period_s"
    assert problem.code == "float_parsing"
    assert (problem.line, problem.column) == (
        _line_of(text, "period_s: fast"),
        text.splitlines()[_line_of(text, "period_s: fast") - 1].index("fast") + 1,
    )


def test_every_problem_is_reported_at_once() -> None:
    text = (
        BASE.replace("period_s: 5", "period_s: fast")
        .replace("priority: high", "priority: urgent")
        .replace(
            "                        range: [0, 2.5]\n", "                        colour: red\n"
        )
        .replace("lat: 31.5", "lat: 131.5")
    )
    err = _error(text)
    paths = [p.path for p in err.problems]
    assert paths == [
        "parks[east].location.lat",
        f"{TAG_PATH}.period_s",
        f"{TAG_PATH}.limits.HH.priority",
        TAG_PATH.replace("tags[level]", "tags[pressure]") + ".range",
        TAG_PATH.replace("tags[level]", "tags[pressure]") + ".colour",
    ]
    assert str(err).splitlines()[0] == f"{SOURCE}: {len(paths)} problems"
    assert [p.line for p in err.problems] == sorted(p.line or 0 for p in err.problems)


def test_unknown_limit_kind_points_at_the_key() -> None:
    text = BASE.replace("H: {value: 80}", "HI: {value: 80}")
    (problem,) = _error(text).problems
    assert problem.path == f"{TAG_PATH}.limits.HI"
    assert problem.message.startswith("key:")
    assert str(ConditionKind.HH) in problem.message


def test_a_file_that_is_not_a_mapping() -> None:
    for text in ("", "- 1\n- 2\n"):
        (problem,) = _error(text).problems
        assert problem.path == ""
        assert "mapping" in problem.message
