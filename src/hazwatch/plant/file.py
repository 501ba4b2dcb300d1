"""Plant YAML files: read them into a ``PlantSpec``, write a ``PlantSpec`` back out.

Reading reports every problem of a file at once (``PlantFileError``), each with the path
inside the file, keyed where list items have a ``key`` (``parks[demo-park].enterprises[lpg]
.sites[main]…tags[level].limits.HH``), and the line and column of the offending node.

Writing produces the same layout a person would write: keys first, ranges and limits on one
line, defaults left out (except ``version`` and each limit's ``priority``, which a reviewer
should always see), UTF-8 with Chinese names as they are. ``parse_plant(dump_plant(spec))``
equals ``spec``.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from enum import Enum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from hazwatch.domain.plant import LimitSpec, Location, PlaceSpec, PlantSpec
from hazwatch.domain.tag import LIMIT_KINDS
from hazwatch.plant.document import Document, Loc, compose
from hazwatch.plant.errors import PlantFileError, PlantProblem, ProblemKind

# The nested lists of a plant, as (list field, item's label field): the label names an item
# in error paths and must be unique among its siblings.
_LISTS: dict[str, str] = {
    "parks": "key",
    "enterprises": "key",
    "sites": "key",
    "installations": "key",
    "equipment": "key",
    "tags": "key",
    "inventories": "chemical",
    "places": "key",
    "resources": "key",
}
# The lists nested in each item of a list, top down.
_CHILDREN: dict[str, tuple[str, ...]] = {
    "parks": ("enterprises", "places", "resources"),
    "enterprises": ("sites",),
    "sites": ("installations",),
    "installations": ("equipment",),
    "equipment": ("tags",),
}
_LABEL = re.compile(r"^[\w.+-]+$")
_NAME = re.compile(r"^[A-Za-z_][\w-]*$")
# A model validator that names a field at the start of its message ("limits.HH: ...",
# "inventories.0.level_tag: ...") points at that field; the error is moved there.
_SUBPATH = re.compile(r"^(?P<sub>[A-Za-z_]\w*(?:\.\w+)*): (?P<rest>.+)$", re.DOTALL)

# Fields always written even when they hold their default.
_ALWAYS: dict[type[BaseModel], frozenset[str]] = {
    PlantSpec: frozenset({"version"}),
    LimitSpec: frozenset({"priority"}),
}
# Values written on one line (``range: [0, 100]``, ``HH: {value: 90, priority: high}``).
_FLOW: tuple[type[BaseModel], ...] = (LimitSpec, Location)


def load_plant(path: Path) -> PlantSpec:
    """Read and validate the plant file at ``path`` (UTF-8); raises ``PlantFileError``."""
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PlantFileError(source, [_unreadable(exc.strerror or str(exc))]) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        message = f"not UTF-8 text (byte {exc.start} cannot be decoded)"
        raise PlantFileError(source, [_unreadable(message)]) from exc
    return parse_plant(text, source=source)


def parse_plant(text: str, *, source: str) -> PlantSpec:
    """Validate the YAML ``text`` of a plant file; ``source`` names it in error messages.

    Raises ``PlantFileError`` with every problem found: YAML syntax (with line and column),
    duplicate mapping keys, duplicate asset keys among siblings, and every validation error.
    """
    try:
        doc = compose(text)
    except yaml.MarkedYAMLError as exc:
        raise PlantFileError(source, [_syntax_problem(exc)]) from exc
    except yaml.YAMLError as exc:
        problem = PlantProblem(kind=ProblemKind.SYNTAX, path="", message=str(exc))
        raise PlantFileError(source, [problem]) from exc
    problems = [
        PlantProblem(
            kind=f.kind,
            path=render_path(f.loc, doc.data),
            message=f.message,
            line=f.position[0],
            column=f.position[1],
        )
        for f in doc.findings
    ]
    if not isinstance(doc.data, dict):
        line, column = doc.position(()) or (None, None)
        problems.append(
            PlantProblem(
                kind=ProblemKind.INVALID,
                path="",
                message="a plant file is a mapping with version, region and parks",
                line=line,
                column=column,
                code="model_type",
            )
        )
        raise PlantFileError(source, _ordered(problems))
    siblings = list(_duplicate_siblings(doc))
    problems += siblings
    try:
        spec = PlantSpec.model_validate(doc.data)
    except ValidationError as exc:
        problems += [
            _validation_problem(err, doc)
            for err in exc.errors(include_url=False)
            # The model's own uniqueness check repeats, without a position, what was found above.
            if not (siblings and err["loc"] == () and err["type"] == "value_error")
        ]
    else:
        if not problems:
            return spec
    raise PlantFileError(source, _ordered(problems))


def dump_plant(spec: PlantSpec) -> str:
    """YAML text of ``spec``, readable by ``parse_plant`` into an equal spec."""
    document = _plain(spec)
    header = "# hazwatch plant file (see docs/plant-file.md)\n"
    body = yaml.dump(
        document,
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        width=100,
        default_flow_style=False,
    )
    return header + body


def render_path(loc: Loc, data: object) -> str:
    """A location as text: ``parks[demo-park].enterprises[lpg].tags[2].range[1]``.

    A list item is named by its key (or, for inventories, its chemical) when that names it
    uniquely among its siblings, else by its index.
    """
    out = ""
    node = data
    field = ""
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{_item_label(field, node, part)}]"
            node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            continue
        text = str(part)
        if _NAME.match(text):
            out += f".{text}" if out else text
        else:
            out += f"[{text!r}]"
        field = text
        node = node.get(part) if isinstance(node, dict) else None
    return out


def _item_label(field: str, items: object, index: int) -> str:
    label_field = _LISTS.get(field)
    if label_field is None or not isinstance(items, list) or not 0 <= index < len(items):
        return str(index)
    labels = [item.get(label_field) if isinstance(item, dict) else None for item in items]
    label = labels[index]
    if isinstance(label, str) and _LABEL.match(label) and labels.count(label) == 1:
        return label
    return str(index)


def _duplicate_siblings(doc: Document) -> Iterable[PlantProblem]:
    """Asset keys repeated among siblings (enterprises: across the whole file)."""
    data = doc.data
    enterprise_groups: list[tuple[Loc, object]] = []
    groups: deque[tuple[Loc, str, object]] = deque([((), "parks", data)])
    while groups:
        loc, field, owner = groups.popleft()
        items = owner.get(field) if isinstance(owner, dict) else None
        if not isinstance(items, list):
            continue
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            item_loc = (*loc, field, i)
            if field == "enterprises":
                enterprise_groups.append((item_loc, item))
            for child in _CHILDREN.get(field, ()):
                groups.append((item_loc, child, item))
        if field != "enterprises":
            yield from _repeated(doc, [((*loc, field, i), x) for i, x in enumerate(items)], field)
    yield from _repeated(doc, enterprise_groups, "enterprises")


def _repeated(doc: Document, items: list[tuple[Loc, object]], what: str) -> Iterable[PlantProblem]:
    first: dict[str, Loc] = {}
    for loc, item in items:
        key = item.get("key") if isinstance(item, dict) else None
        if not isinstance(key, str):
            continue
        earlier = first.get(key)
        if earlier is None:
            first[key] = loc
            continue
        key_loc = (*loc, "key")
        line, column = doc.position(key_loc) or (None, None)
        first_line = (doc.position((*earlier, "key")) or (None, None))[0]
        scope = "in the file" if what == "enterprises" else "among its siblings"
        yield PlantProblem(
            kind=ProblemKind.DUPLICATE_KEY,
            path=render_path(key_loc, doc.data),
            message=f"{what}: key {key!r} appears twice {scope} (first at line {first_line})",
            line=line,
            column=column,
            code="duplicate_key",
        )


def _validation_problem(err: ErrorDetails, doc: Document) -> PlantProblem:
    loc: Loc = tuple(err["loc"])
    message = err["msg"]
    if err["type"] == "value_error":
        message = message.removeprefix("Value error, ")
        match = _SUBPATH.match(message)
        if match is not None:
            sub = tuple(int(p) if p.isdigit() else p for p in match["sub"].split("."))
            if _exists(doc.data, (*loc, *sub)):
                loc = (*loc, *sub)
                message = match["rest"]
    position: tuple[int, int] | None
    if loc and loc[-1] == "[key]":
        loc = loc[:-1]
        message = f"key: {message}"
        position = doc.keys.get(loc) or doc.position(loc)
    elif err["type"] == "extra_forbidden":
        message = "unknown field (a misspelt name?)"
        position = doc.keys.get(loc) or doc.position(loc)
    else:
        position = doc.position(loc)
    line, column = position or (None, None)
    return PlantProblem(
        kind=ProblemKind.INVALID,
        path=render_path(loc, doc.data),
        message=message,
        line=line,
        column=column,
        code=err["type"],
    )


def _exists(data: object, loc: Loc) -> bool:
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
            continue
        if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            continue
        return False
    return True


def _syntax_problem(exc: yaml.MarkedYAMLError) -> PlantProblem:
    mark = exc.problem_mark or exc.context_mark
    parts = [p for p in (exc.context, exc.problem) if p]
    return PlantProblem(
        kind=ProblemKind.SYNTAX,
        path="",
        message="YAML syntax: " + ", ".join(parts) if parts else "YAML syntax error",
        line=None if mark is None else mark.line + 1,
        column=None if mark is None else mark.column + 1,
        code="yaml",
    )


def _unreadable(message: str) -> PlantProblem:
    return PlantProblem(kind=ProblemKind.UNREADABLE, path="", message=message, code="io")


def _ordered(problems: list[PlantProblem]) -> list[PlantProblem]:
    return sorted(problems, key=lambda p: (p.line or 0, p.column or 0))


class _Flow(list[Any]):
    """A list or mapping written on one line."""


class _FlowMap(dict[str, Any]):
    pass


class _Dumper(yaml.SafeDumper):
    """Indents lists under their key, the way plant files are written by hand."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_flow(dumper: yaml.SafeDumper, data: _Flow) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)


def _represent_flow_map(dumper: yaml.SafeDumper, data: _FlowMap) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)


_Dumper.add_representer(_Flow, _represent_flow)
_Dumper.add_representer(_FlowMap, _represent_flow_map)


def _plain(model: BaseModel) -> dict[str, Any]:
    out: dict[str, Any] = _FlowMap() if isinstance(model, _FLOW) else {}
    always = _ALWAYS.get(type(model), frozenset())
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        if isinstance(model, PlaceSpec) and name == "sensitive":
            # A place's sensitivity follows its kind unless the file says otherwise.
            if value != model.kind.sensitive:
                out[name] = value
            continue
        if (
            name not in always
            and not info.is_required()
            and value == info.get_default(call_default_factory=True)
        ):
            continue
        out[name] = _plain_value(value)
    return out


def _plain_value(value: object) -> Any:
    if isinstance(value, BaseModel):
        return _plain(value)
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, tuple):
        return _Flow(_plain_value(v) for v in value)
    if isinstance(value, list):
        return [_plain_value(v) for v in value]
    if isinstance(value, dict):
        order = {kind: i for i, kind in enumerate(LIMIT_KINDS)}
        keys = sorted(value, key=lambda k: (order.get(k, len(order)), str(k)))
        return {str(_plain_value(k)): _plain_value(value[k]) for k in keys}
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
