"""Typed reading of composed YAML nodes, keeping each value's line for error messages.

PyYAML's `compose` keeps the position of every node; `Reader` checks types and keys against
those nodes (not the constructed Python values, which have lost their lines) and records a
`Problem` (file, line, reason) for each mistake, so that a whole file can be reported at once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")


@dataclass(frozen=True)
class Problem:
    source: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.message}"


# What a getter returns for a value it could not read; the Problem is already recorded.
MISSING = object()


def describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    kind = node.tag.rsplit(":", 1)[-1]
    if kind == "null":
        return "nothing (null)"
    if kind in {"int", "float"}:
        return f"the number {node.value}"
    if kind == "bool":
        return f"the boolean {node.value}"
    return repr(node.value)


class Reader:
    """Typed access to composed YAML nodes that records a Problem, with its line, per mistake."""

    def __init__(self, source: str, loader: yaml.SafeLoader):
        self.source = source
        self.loader = loader
        self.problems: list[Problem] = []

    def problem(self, node: Node, message: str) -> None:
        self.problems.append(Problem(self.source, line_of(node), message))

    def plain(self, node: Node):
        """The node as plain Python data (for kind-specific probe settings)."""
        try:
            return json.loads(json.dumps(self.loader.construct_object(node, deep=True)))
        except (yaml.YAMLError, TypeError, ValueError) as error:
            self.problem(node, f"cannot read this value: {error}")
            return MISSING

    def mapping(
        self, node: Node, where: str, allowed: set[str], required: set[str], extra: bool = False
    ) -> tuple[dict[str, Node], dict[str, Node]] | None:
        """The mapping's value nodes by key, and (if `extra`) the keys outside `allowed`."""
        if not isinstance(node, MappingNode):
            self.problem(node, f"{where}: expected a mapping, got {describe(node)}")
            return None
        # `<<: *anchor` merge keys: the merged pairs come first, and keys written here win.
        written = {id(k): k.value for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"}
        self.loader.flatten_mapping(node)
        known: dict[str, Node] = {}
        unknown: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            merged = id(key_node) not in written
            if merged and key in written.values():
                continue
            if not isinstance(key, str):
                self.problem(key_node, f"{where}: keys must be text")
            elif (key in known or key in unknown) and not merged:
                self.problem(key_node, f"{where}: key {key!r} is given twice")
            elif key in allowed:
                known[key] = value_node
            elif extra:
                unknown[key] = value_node
            else:
                expected = ", ".join(sorted(allowed))
                self.problem(key_node, f"{where}: unknown key {key!r} (expected: {expected})")
        for key in sorted(required - known.keys()):
            self.problem(node, f"{where}: missing required key {key!r}")
        return known, unknown

    def sequence(self, node: Node, where: str) -> list[Node]:
        if isinstance(node, ScalarNode) and node.tag.endswith(":null"):
            return []
        if not isinstance(node, SequenceNode):
            self.problem(node, f"{where}: expected a list, got {describe(node)}")
            return []
        return list(node.value)

    def scalar(self, node: Node, where: str, kinds: tuple[type, ...], expected: str):
        if isinstance(node, ScalarNode):
            value = self.loader.construct_object(node)
            if isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds):
                return value
        self.problem(node, f"{where}: expected {expected}, got {describe(node)}")
        return MISSING

    def text(self, node: Node, where: str, max_length: int = 100, blank: bool = True):
        if isinstance(node, ScalarNode) and node.tag.endswith(":null") and blank:
            return ""
        value = self.scalar(node, where, (str,), "text")
        if value is MISSING:
            return MISSING
        if len(value) > max_length:
            self.problem(node, f"{where}: longer than {max_length} characters")
            return MISSING
        if not blank and not value.strip():
            self.problem(node, f"{where}: must not be empty")
            return MISSING
        return value

    def slug(self, node: Node, where: str):
        value = self.text(node, where, blank=False)
        if value is not MISSING and not SLUG.match(value):
            self.problem(node, f"{where}: {value!r} is not a slug (letters, digits, - and _)")
            return MISSING
        return value

    def integer(self, node: Node, where: str, minimum: int = 0):
        value = self.scalar(node, where, (int,), "a whole number")
        if value is not MISSING and value < minimum:
            self.problem(node, f"{where}: must be at least {minimum}")
            return MISSING
        return value

    def boolean(self, node: Node, where: str):
        return self.scalar(node, where, (bool,), "true or false")

    def duration(self, node: Node, where: str, minimum: float):
        from monitors.checks.base import parse_duration

        if not isinstance(node, ScalarNode) or node.tag.endswith(":null"):
            self.problem(node, f"{where}: expected a duration such as 30s, got {describe(node)}")
            return MISSING
        try:
            seconds = parse_duration(self.loader.construct_object(node))
        except ValueError as error:
            self.problem(node, f"{where}: {error}")
            return MISSING
        if seconds < minimum:
            self.problem(node, f"{where}: must be at least {minimum:g}s")
            return MISSING
        return seconds

    def slug_list(self, node: Node, where: str) -> list[tuple[str, int]]:
        """A list of slugs, each with its line, for references checked later."""
        slugs: list[tuple[str, int]] = []
        for item in self.sequence(node, where):
            value = self.slug(item, where)
            if value is MISSING:
                continue
            if value in {slug for slug, _ in slugs}:
                self.problem(item, f"{where}: {value!r} is listed twice")
                continue
            slugs.append((value, line_of(item)))
        return slugs


def line_of(node: Node) -> int:
    return node.start_mark.line + 1


def set_if_given(fields: dict, name: str, value) -> None:
    if value is not MISSING:
        fields[name] = value


def named(kind: str, node: Node, key: str) -> str:
    """ "component 'loans'" when the mapping names itself, so that every message about it can."""
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == key and isinstance(value_node, ScalarNode) and value_node.value:
                return f"{kind} {value_node.value!r}"
    return kind


def null() -> ScalarNode:
    return ScalarNode("tag:yaml.org,2002:null", None)
