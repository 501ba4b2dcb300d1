"""A YAML document as plain data, with the position of every node.

PyYAML's loaders forget where a value came from and silently keep the last of two equal
mapping keys. A plant file needs both: error messages point at a line and column, and a
duplicated key (two ``HH:`` limits, say) is a mistake that must not pass unnoticed. So the
document is composed into YAML nodes and built into dicts, lists and scalars here, recording
each node's position under its location (a tuple of keys and indexes, the form Pydantic
uses in its error locations).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from hazwatch.plant.errors import ProblemKind

Loc = tuple[str | int, ...]
Position = tuple[int, int]

_MAX_DEPTH = 64

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """A problem noticed while building: where (location and position) and what."""

    kind: ProblemKind
    loc: Loc
    message: str
    position: Position


@dataclass(slots=True, kw_only=True)
class Document:
    """Plain data of a YAML document; positions are 1-based (line, column)."""

    data: object = None
    values: dict[Loc, Position] = field(default_factory=dict)
    keys: dict[Loc, Position] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def position(self, loc: Loc) -> Position | None:
        """Position of the node at ``loc``, else of its nearest ancestor that exists."""
        for end in range(len(loc), -1, -1):
            found = self.values.get(loc[:end])
            if found is not None:
                return found
        return None


def compose(text: str) -> Document:
    """Build ``text`` into plain data; raises ``yaml.MarkedYAMLError`` on bad syntax.

    Duplicate keys and keys that are not scalars are recorded as findings, not raised, so
    that they are reported together with validation errors.
    """
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        doc = Document()
        if root is not None:
            doc.data = _build(loader, root, (), doc, frozenset())
        return doc
    finally:
        loader.dispose()


def _position(mark: yaml.Mark) -> Position:
    return (mark.line + 1, mark.column + 1)


def _build(
    loader: yaml.SafeLoader, node: yaml.Node, loc: Loc, doc: Document, seen: frozenset[int]
) -> object:
    doc.values[loc] = _position(node.start_mark)
    if id(node) in seen or len(loc) > _MAX_DEPTH:
        message = "an alias refers to itself, or the document nests too deep"
        doc.findings.append(
            Finding(kind=ProblemKind.SYNTAX, loc=loc, message=message, position=doc.values[loc])
        )
        return None
    inside = seen | {id(node)}
    if isinstance(node, yaml.MappingNode):
        return _build_mapping(loader, node, loc, doc, inside)
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, (*loc, i), doc, inside) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def _build_mapping(
    loader: yaml.SafeLoader, node: yaml.MappingNode, loc: Loc, doc: Document, seen: frozenset[int]
) -> dict[object, object]:
    written: dict[object, Position] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = _scalar_key(loader, key_node)
        if key is None:
            continue
        first = written.get(key)
        if first is not None:
            doc.findings.append(
                Finding(
                    kind=ProblemKind.DUPLICATE_KEY,
                    loc=(*loc, _loc_key(key)),
                    message=f"key {key!r} appears twice in one mapping (first at line {first[0]})",
                    position=_position(key_node.start_mark),
                )
            )
        else:
            written[key] = _position(key_node.start_mark)
    # Merge keys (``<<: *base``) are legal YAML; explicit keys then override merged ones.
    loader.flatten_mapping(node)
    out: dict[object, object] = {}
    for key_node, value_node in node.value:
        key = _scalar_key(loader, key_node)
        if key is None:
            doc.findings.append(
                Finding(
                    kind=ProblemKind.INVALID,
                    loc=loc,
                    message="a mapping key must be a plain value, not a list or mapping",
                    position=_position(key_node.start_mark),
                )
            )
            continue
        child: Loc = (*loc, _loc_key(key))
        doc.keys[child] = _position(key_node.start_mark)
        out[key] = _build(loader, value_node, child, doc, seen)
    return out


def _scalar_key(loader: yaml.SafeLoader, node: yaml.Node) -> object:
    if not isinstance(node, yaml.ScalarNode):
        return None
    key: object = loader.construct_object(node, deep=True)
    return key


def _loc_key(key: object) -> str | int:
    return key if isinstance(key, str | int) and not isinstance(key, bool) else str(key)
