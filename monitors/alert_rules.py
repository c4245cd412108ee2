"""The mapping from an alert's labels to a component and a status, as plain functions over
plain data (no database): the default (`component` label and `severity`) and the config
file's rules, whose matchers are written in Alertmanager's syntax."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

DEGRADED, PARTIAL, MAJOR = "degraded_performance", "partial_outage", "major_outage"
SEVERITY_STATUS = {
    "critical": MAJOR,
    "error": PARTIAL,
    "major": PARTIAL,
    "warning": DEGRADED,
}
STATUSES = (DEGRADED, PARTIAL, MAJOR)

MATCHER = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*$')


@dataclass(frozen=True)
class Matcher:
    """One label matcher in Alertmanager's syntax: `name=value`, `!=`, `=~regex`, `!~regex`
    (regexes anchored at both ends, as Alertmanager's are)."""

    label: str
    op: str
    value: str

    @classmethod
    def parse(cls, text: str) -> Matcher:
        found = MATCHER.match(text)
        if found is None:
            raise ValueError(f'{text!r} is not a matcher like severity="critical"')
        matcher = cls(*found.groups())
        if matcher.op in ("=~", "!~"):
            try:
                re.compile(matcher.value)
            except re.error as error:
                raise ValueError(f"{text!r}: bad regular expression ({error})") from None
        return matcher

    def matches(self, labels: Mapping[str, str]) -> bool:
        given = labels.get(self.label, "")
        if self.op == "=":
            return given == self.value
        if self.op == "!=":
            return given != self.value
        found = re.fullmatch(self.value, given) is not None
        return found if self.op == "=~" else not found


@dataclass(frozen=True)
class MappingRule:
    """From the config file: alerts whose labels match every matcher set `component` to
    `status` (or, without one, to the status their `severity` asks for)."""

    matchers: tuple[Matcher, ...]
    component: str
    status: str = ""


def map_alert(
    labels: Mapping[str, str], mapping_rules: Iterable[MappingRule], slugs: Iterable[str]
) -> tuple[str, str] | None:
    """(component slug, status) for an alert's labels, or None when it matches nothing.

    The config file's rules come first, in order, the first that matches wins; then the
    default: the `component` label names a slug. A matched alert whose severity says nothing
    (and whose rule sets no status) matches nothing."""
    known = set(slugs)
    severity_status = SEVERITY_STATUS.get(labels.get("severity", "").strip().lower(), "")
    for rule in mapping_rules:
        if rule.component in known and all(m.matches(labels) for m in rule.matchers):
            status = rule.status or severity_status
            return (rule.component, status) if status else None
    slug = labels.get("component", "")
    if slug in known and severity_status:
        return slug, severity_status
    return None
