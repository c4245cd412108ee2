"""Configuration as code: groups, components, dependencies, journeys, probes, staff channels and
recurring maintenance windows from a YAML file.

`load_config(path)` reads and validates the whole file and raises `ConfigError` listing every
problem as `file:line: reason` (lines from PyYAML's composed node marks, see
`statuspage.yaml_nodes`); nothing is applied unless the whole file is valid.
`statuspage.config_apply` then plans and applies the result.

The file is self-contained: a component's group, dependencies and the components of a journey
must be named in the same file. The shape is documented at the top of
`examples/lending-platform.yaml`.

Over 400 lines on purpose: it is the file's whole schema, section by section (groups,
components, probes, channels, journeys, maintenances) with the references between them, so
that the format has one reference beside the example.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.utils import timezone
from yaml.nodes import MappingNode, Node, ScalarNode

from monitors.models import VANTAGE_POINT
from statuspage.yaml_nodes import MISSING, Problem, Reader, line_of, named, null, set_if_given

# A vantage point names a Celery queue (`probes.<name>`) and an agent token: at most 50 characters
# (the column it is stored in).
MIN_INTERVAL_SECONDS = 10

TOP_KEYS = {"groups", "components", "journeys", "channels", "maintenances"}
GROUP_KEYS = {"slug", "name", "name_alt", "description", "description_alt", "position"}
COMPONENT_KEYS = GROUP_KEYS | {
    "group",
    "public",
    "only_show_if_degraded",
    "depends_on",
    "probes",
    "alerts",
}
ALERT_RULE_KEYS = {"match", "status"}
# Staff alert channels (statuspage.channels). Secrets come from the environment, never the file.
CHANNEL_KEYS = {"name", "kind", "url", "url_env", "secret_env", "language", "events", "enabled"}
JOURNEY_KEYS = {"slug", "name", "name_alt", "position", "components"}
# Recurring maintenance windows (statuspage.recurrence), one series per slug.
MAINTENANCE_KEYS = {
    "slug",
    "title",
    "title_alt",
    "description",
    "description_alt",
    "components",
    "starts",
    "duration",
    "recurrence",
    "public",
}
STARTS_FORMAT = "%Y-%m-%d %H:%M"
SITE_TIME_ZONE = timezone.get_default_timezone
# Every other key of a probe belongs to its kind and goes into Probe.config.
PROBE_KEYS = {
    "name",
    "kind",
    "interval",
    "recheck",
    "timeout",
    "conditions",
    "failure_threshold",
    "success_threshold",
    "vantage_points",
    "quorum",
    "enabled",
}
CONDITION_KEYS = {"condition", "severity"}
# `name` is the probe's own name, so the DNS name to resolve is written `query` in the file
# (and stored as the dns kind's `name`).
CONFIG_KEY_ALIASES = {"dns": {"query": "name"}}


# --- what a valid file says --------------------------------------------------------------------


class ConfigError(Exception):
    """The file is invalid; `problems` says where and why. Nothing was applied."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: p.line)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class ProbeSpec:
    name: str
    fields: dict  # Probe model fields: kind, config, conditions, interval_seconds, ...
    line: int


@dataclass
class Spec:
    """One group, component or journey: its slug, its model fields, and where it was written."""

    slug: str
    fields: dict
    line: int
    references: list[tuple[str, int]] = field(default_factory=list)  # (slug, line)
    group_line: int = 0
    probes: list[ProbeSpec] = field(default_factory=list)


@dataclass
class Config:
    source: str
    groups: list[Spec]
    components: list[Spec]
    journeys: list[Spec]
    # Staff channels by name (the Spec's slug); their URL and secret, read from the
    # environment, stay out of `fields` (which the audit log records) in `channel_secrets`.
    channels: list[Spec] = field(default_factory=list)
    channel_secrets: dict[str, tuple[str, str]] = field(default_factory=dict)
    maintenances: list[Spec] = field(default_factory=list)


# --- validating --------------------------------------------------------------------------------


def load_config(path: str | Path) -> Config:
    """Read and validate a config file; raise ConfigError with every problem found."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError([Problem(source, 0, f"cannot read the file: {error}")]) from None
    return parse_config(text, source)


def parse_config(text: str, source: str = "<config>") -> Config:
    """Validate the YAML text of a config; raise ConfigError with every problem found."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 0
        reason = " ".join(filter(None, [error.context, error.problem]))
        raise ConfigError([Problem(source, line, f"not valid YAML: {reason}")]) from None
    except yaml.YAMLError as error:
        raise ConfigError([Problem(source, 0, f"not valid YAML: {error}")]) from None
    finally:
        loader.dispose()
    if root is None:
        raise ConfigError([Problem(source, 1, "the file is empty")])

    reader = Reader(source, loader)
    config = Config(source, [], [], [])
    top = reader.mapping(root, "the file", TOP_KEYS, set())
    if top is not None:
        sections, _ = top
        for position, node in enumerate(reader.sequence(sections.get("groups", null()), "groups")):
            read_group(reader, node, position, config)
        positions: dict[object, int] = {}
        for node in reader.sequence(sections.get("components", null()), "components"):
            read_component(reader, node, positions, config)
        for position, node in enumerate(
            reader.sequence(sections.get("journeys", null()), "journeys")
        ):
            read_journey(reader, node, position, config)
        for node in reader.sequence(sections.get("channels", null()), "channels"):
            read_channel(reader, node, config)
        for node in reader.sequence(sections.get("maintenances", null()), "maintenances"):
            read_maintenance(reader, node, config)
        check_references(reader, config)
    if reader.problems:
        raise ConfigError(reader.problems)
    return config


def read_common(reader: Reader, node: Node, kind: str, allowed: set[str], required: set[str]):
    """The slug, the mapping's value nodes and the name fields shared by every section."""
    found = reader.mapping(node, named(kind, node, "slug"), allowed, required)
    if found is None:
        return None
    values, _ = found
    slug = reader.slug(values["slug"], f"{kind}: slug") if "slug" in values else MISSING
    where = f"{kind} {slug!r}" if slug is not MISSING else kind
    fields: dict = {}
    if "name" in values:
        set_if_given(fields, "name", reader.text(values["name"], f"{where}: name", blank=False))
    for key in ("name_alt", "description", "description_alt"):
        if key in values:
            max_length = 10_000 if key.startswith("description") else 100
            set_if_given(fields, key, reader.text(values[key], f"{where}: {key}", max_length))
    if "position" in values:
        set_if_given(fields, "position", reader.integer(values["position"], f"{where}: position"))
    return slug, where, values, fields


def read_group(reader: Reader, node: Node, position: int, config: Config) -> None:
    common = read_common(reader, node, "group", GROUP_KEYS, {"slug", "name"})
    if common is None or common[0] is MISSING:
        return
    slug, _, _, given = common
    fields = {"name_alt": "", "description": "", "description_alt": "", "position": position}
    config.groups.append(Spec(slug, fields | given, line_of(node)))


def read_component(reader: Reader, node: Node, positions: dict, config: Config) -> None:
    common = read_common(reader, node, "component", COMPONENT_KEYS, {"slug", "name"})
    if common is None or common[0] is MISSING:
        return
    slug, where, values, fields = common
    spec = Spec(slug, {}, line_of(node))
    group = None
    if "group" in values and not values["group"].tag.endswith(":null"):
        group = reader.slug(values["group"], f"{where}: group")
        spec.group_line = line_of(values["group"])
    # Without an explicit position, components keep the file's order within their group.
    position = positions.get(group, 0)
    positions[group] = position + 1
    spec.fields = {
        "name_alt": "",
        "description": "",
        "description_alt": "",
        "position": position,
        "group": None if group is MISSING else group,
        "is_public": True,
        "only_show_if_degraded": False,
        "alert_rules": [],
    } | fields
    if "public" in values:
        set_if_given(spec.fields, "is_public", reader.boolean(values["public"], f"{where}: public"))
    if "only_show_if_degraded" in values:
        flag = reader.boolean(values["only_show_if_degraded"], f"{where}: only_show_if_degraded")
        set_if_given(spec.fields, "only_show_if_degraded", flag)
    if "depends_on" in values:
        spec.references = reader.slug_list(values["depends_on"], f"{where}: depends_on")
    if "alerts" in values:
        spec.fields["alert_rules"] = read_alert_rules(reader, values["alerts"], where)
    names: dict[str, int] = {}
    for probe_node in reader.sequence(values.get("probes", null()), f"{where}: probes"):
        probe = read_probe(reader, probe_node, where)
        if probe is None:
            continue
        if probe.name in names:
            reader.problem(
                probe_node,
                f"{where}: probe {probe.name!r} is defined twice (line {names[probe.name]})",
            )
            continue
        names[probe.name] = probe.line
        spec.probes.append(probe)
    config.components.append(spec)


def read_alert_rules(reader: Reader, node: Node, where: str) -> list[dict]:
    """`alerts:` of a component: which alerts set its status (see monitors.alerts), e.g.
    `- match: ['alertname="BureauTimeouts"', 'env=~"prod|staging"']` and an optional
    `status: partial_outage` (without one, the alert's severity decides)."""
    from monitors.alert_rules import STATUSES, Matcher

    rules = []
    for item in reader.sequence(node, f"{where}: alerts"):
        found = reader.mapping(item, f"{where}: alert rule", ALERT_RULE_KEYS, {"match"})
        if found is None or "match" not in found[0]:
            continue
        values, _ = found
        matchers, written = [], reader.sequence(values["match"], f"{where}: match")
        for matcher_node in written:
            text = reader.text(matcher_node, f"{where}: match", max_length=500, blank=False)
            if text is MISSING:
                continue
            try:
                Matcher.parse(text)
            except ValueError as error:
                reader.problem(matcher_node, f"{where}: match: {error}")
                continue
            matchers.append(text.strip())
        if not written:
            reader.problem(item, f"{where}: an alert rule needs at least one matcher")
        if len(matchers) < len(written) or not written:
            continue
        rule: dict = {"match": matchers}
        if "status" in values:
            status = reader.text(values["status"], f"{where}: status", blank=False)
            if status is MISSING:
                continue
            if status not in STATUSES:
                reader.problem(
                    values["status"],
                    f"{where}: status {status!r} is not one of {', '.join(STATUSES)}",
                )
                continue
            rule["status"] = status
        rules.append(rule)
    return rules


def digest(value: str) -> str:
    """Enough of a hash to see that a secret changed, never enough to show it."""
    return hashlib.sha256(value.encode()).hexdigest()[:12] if value else ""


def read_channel(reader: Reader, node: Node, config: Config) -> None:
    """A staff alert channel: `name`, `kind`, `url` or `url_env` (a robot URL carries its
    access token: keep it in the environment), `secret_env`, `language`, `events`, `enabled`."""
    from statuspage.channels.guard import shape_problem
    from statuspage.channels.models import ChannelEvent, Kind

    found = reader.mapping(node, named("channel", node, "name"), CHANNEL_KEYS, {"name", "kind"})
    if found is None:
        return
    values, _ = found
    name = (
        reader.text(values["name"], "channel: name", blank=False) if "name" in values else MISSING
    )
    if name is MISSING or "kind" not in values:
        return
    where = f"channel {name!r}"
    if name in {spec.slug for spec in config.channels}:
        reader.problem(node, f"{where} is defined twice")
        return
    kind = reader.text(values["kind"], f"{where}: kind", blank=False)
    if kind is not MISSING and kind not in Kind.values:
        reader.problem(
            values["kind"], f"{where}: kind {kind!r} is not one of {', '.join(Kind.values)}"
        )
        return

    def from_env(key: str) -> str | None:
        variable = reader.text(values[key], f"{where}: {key}", blank=False)
        if variable is MISSING:
            return None
        if variable not in os.environ:
            reader.problem(values[key], f"{where}: the environment variable {variable} is not set")
            return None
        return os.environ[variable]

    if ("url" in values) == ("url_env" in values):
        reader.problem(node, f"{where}: give either url or url_env")
        return
    if "url" in values:
        url = reader.text(values["url"], f"{where}: url", max_length=500, blank=False)
        url_node = values["url"]
    else:
        url, url_node = from_env("url_env"), values["url_env"]
    if url in (None, MISSING):
        return
    if kind == Kind.EMAIL:
        if "@" not in url:
            reader.problem(url_node, f"{where}: an email channel needs an email address")
            return
    else:
        problem = shape_problem(url)
        if problem:
            reader.problem(url_node, f"{where}: url: {problem}")
            return
    secret = ""
    if "secret_env" in values:
        secret = from_env("secret_env")
        if secret is None:
            return
    language = "en"
    if "language" in values:
        language = reader.text(values["language"], f"{where}: language", blank=False)
        if language not in ("en", "zh-hans"):
            reader.problem(values["language"], f"{where}: language must be en or zh-hans")
            return
    events = list(ChannelEvent.values)
    if "events" in values:
        events = []
        for item in reader.sequence(values["events"], f"{where}: events"):
            event = reader.text(item, f"{where}: events", blank=False)
            if event is MISSING:
                continue
            if event not in ChannelEvent.values:
                reader.problem(
                    item, f"{where}: event {event!r} is not one of {', '.join(ChannelEvent.values)}"
                )
                continue
            events.append(event)
    enabled = True
    if "enabled" in values:
        enabled = reader.boolean(values["enabled"], f"{where}: enabled")
        if enabled is MISSING:
            return
    fields = {
        "kind": kind,
        "language": language,
        "events": events,
        "is_enabled": enabled,
        "url_digest": digest(url),
        "secret_digest": digest(secret),
    }
    config.channels.append(Spec(name, fields, line_of(node)))
    config.channel_secrets[name] = (url, secret)


def read_journey(reader: Reader, node: Node, position: int, config: Config) -> None:
    common = read_common(reader, node, "journey", JOURNEY_KEYS, {"slug", "name", "components"})
    if common is None or common[0] is MISSING:
        return
    slug, where, values, fields = common
    spec = Spec(slug, {"name_alt": "", "position": position} | fields, line_of(node))
    if "components" in values:
        spec.references = reader.slug_list(values["components"], f"{where}: components")
        if not spec.references and not isinstance(values["components"], MappingNode):
            reader.problem(values["components"], f"{where}: components: name at least one")
    config.journeys.append(spec)


def read_maintenance(reader: Reader, node: Node, config: Config) -> None:
    """A recurring maintenance window: `starts` is the first window's wall-clock time in
    TIME_ZONE (the series repeats in that wall clock), `duration` how long each one lasts."""
    from statuspage.recurrence import parse_recurrence

    required = {"slug", "title", "starts", "duration", "recurrence"}
    found = reader.mapping(node, named("maintenance", node, "slug"), MAINTENANCE_KEYS, required)
    if found is None or "slug" not in found[0]:
        return
    values, _ = found
    slug = reader.slug(values["slug"], "maintenance: slug")
    if slug is MISSING:
        return
    where = f"maintenance {slug!r}"
    problems_before = len(reader.problems)
    fields: dict = {"title_alt": "", "description": "", "description_alt": "", "is_public": True}
    for key, max_length in (("title", 200), ("title_alt", 200)):
        if key in values:
            text = reader.text(values[key], f"{where}: {key}", max_length, blank=key != "title")
            set_if_given(fields, key, text.strip() if text is not MISSING else MISSING)
    for key in ("description", "description_alt"):
        if key in values:
            set_if_given(fields, key, reader.text(values[key], f"{where}: {key}", 10_000))
    if "public" in values:
        set_if_given(fields, "is_public", reader.boolean(values["public"], f"{where}: public"))
    starts = read_starts(reader, values["starts"], where) if "starts" in values else MISSING
    seconds = MISSING
    if "duration" in values:
        seconds = reader.duration(values["duration"], f"{where}: duration", 60)
        if seconds is not MISSING and seconds % 60:
            reader.problem(values["duration"], f"{where}: duration: use whole minutes")
            seconds = MISSING
    spec = Spec(slug, fields, line_of(node))
    if "components" in values:
        spec.references = reader.slug_list(values["components"], f"{where}: components")
    if "recurrence" in values:
        rule = reader.text(values["recurrence"], f"{where}: recurrence", 500, blank=False)
        if rule is not MISSING and starts is not MISSING and seconds is not MISSING:
            try:
                parse_recurrence(rule, starts, timedelta(seconds=seconds))
            except ValidationError as error:
                reason = " ".join(error.message_dict["recurrence"])
                reader.problem(values["recurrence"], f"{where}: recurrence: {reason}")
            fields["recurrence"] = rule.strip().removeprefix("RRULE:")
    if len(reader.problems) > problems_before or required - values.keys():
        return
    fields["starts"] = timezone.localtime(starts, SITE_TIME_ZONE()).strftime(STARTS_FORMAT)
    fields["duration_minutes"] = int(seconds // 60)
    config.maintenances.append(spec)


def read_starts(reader: Reader, node: Node, where: str):
    """`starts: "2026-12-06 02:00"`: a wall-clock time in TIME_ZONE, made aware."""
    # The scalar as written: unquoted, YAML would read "2026-12-06 02:00:00" as a timestamp.
    if isinstance(node, ScalarNode) and not node.tag.endswith(":null"):
        value = node.value
    else:
        value = reader.text(node, f"{where}: starts", blank=False)
        if value is MISSING:
            return MISSING
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        reader.problem(node, f'{where}: starts: expected a time such as "2026-12-06 02:00"')
        return MISSING
    if moment.tzinfo is not None:
        reader.problem(
            node,
            f"{where}: starts: write the wall-clock time in {timezone.get_default_timezone_name()} "
            "without an offset: the windows repeat in that time zone",
        )
        return MISSING
    return timezone.make_aware(moment.replace(second=0, microsecond=0), SITE_TIME_ZONE())


def read_probe(reader: Reader, node: Node, component_where: str) -> ProbeSpec | None:
    probe_where = f"{component_where}, {named('probe', node, 'name')}"
    found = reader.mapping(node, probe_where, PROBE_KEYS, {"name", "kind"}, True)
    if found is None or "name" not in found[0]:
        return None
    values, kind_values = found
    name = reader.text(values["name"], f"{component_where}: probe name", blank=False)
    if name is MISSING:
        return None
    where = f"{component_where}, probe {name!r}"
    ok_before = len(reader.problems)
    fields: dict = {
        "interval_seconds": 60,
        "recheck_seconds": 10,
        "timeout_seconds": 10.0,
        "failure_threshold": 3,
        "success_threshold": 2,
        "vantage_points": ["local"],
        "quorum": None,
        "is_enabled": True,
        "conditions": [],
    }
    for key, field_name, minimum in (
        ("interval", "interval_seconds", MIN_INTERVAL_SECONDS),
        ("recheck", "recheck_seconds", 1),
        ("timeout", "timeout_seconds", 0.1),
    ):
        if key in values:
            seconds = reader.duration(values[key], f"{where}: {key}", minimum)
            if seconds is not MISSING and field_name != "timeout_seconds":
                if seconds != int(seconds):
                    reader.problem(values[key], f"{where}: {key}: use whole seconds")
                    continue
                seconds = int(seconds)
            set_if_given(fields, field_name, seconds)
    if fields["timeout_seconds"] >= fields["interval_seconds"]:
        line_node = values.get("timeout", node)
        reader.problem(line_node, f"{where}: timeout must be shorter than the interval")
    for key in ("failure_threshold", "success_threshold"):
        if key in values:
            set_if_given(fields, key, reader.integer(values[key], f"{where}: {key}", 1))
    if "enabled" in values:
        set_if_given(fields, "is_enabled", reader.boolean(values["enabled"], f"{where}: enabled"))
    if "vantage_points" in values:
        points = []
        for item in reader.sequence(values["vantage_points"], f"{where}: vantage_points"):
            point = reader.text(item, f"{where}: vantage_points", blank=False)
            if point is not MISSING and not VANTAGE_POINT.match(point):
                reader.problem(item, f"{where}: vantage point {point!r} is not a queue-safe name")
            elif point is not MISSING and point not in points:
                points.append(point)
        if not points:
            reader.problem(values["vantage_points"], f"{where}: vantage_points: name at least one")
        fields["vantage_points"] = points
    if "quorum" in values and not values["quorum"].tag.endswith(":null"):
        quorum = reader.integer(values["quorum"], f"{where}: quorum", 1)
        if quorum is not MISSING and quorum > len(fields["vantage_points"]):
            reader.problem(values["quorum"], f"{where}: quorum is more than the vantage points")
        set_if_given(fields, "quorum", quorum)
    if "conditions" in values:
        fields["conditions"] = read_conditions(reader, values["conditions"], where)
    if "kind" in values:
        kind = reader.text(values["kind"], f"{where}: kind", max_length=20, blank=False)
        if kind is not MISSING:
            fields["kind"] = kind
            fields["config"] = read_kind_config(reader, values["kind"], kind, kind_values, where)
    if len(reader.problems) > ok_before:
        return None
    return ProbeSpec(name, fields, line_of(node))


def read_conditions(reader: Reader, node: Node, where: str) -> list[dict]:
    from monitors.conditions import SEVERITIES, parse_condition
    from monitors.confirmation import DEFAULT_SEVERITY

    conditions = []
    for item in reader.sequence(node, f"{where}: conditions"):
        severity, severity_node = DEFAULT_SEVERITY, item
        if isinstance(item, MappingNode):
            found = reader.mapping(item, f"{where}: condition", CONDITION_KEYS, {"condition"})
            if found is None or "condition" not in found[0]:
                continue
            values, _ = found
            text_node = values["condition"]
            if "severity" in values:
                severity_node = values["severity"]
                severity = reader.text(severity_node, f"{where}: severity", blank=False)
        else:
            text_node = item
        text = reader.text(text_node, f"{where}: condition", max_length=500, blank=False)
        if text is MISSING or severity is MISSING:
            continue
        if severity not in SEVERITIES:
            reader.problem(
                severity_node,
                f"{where}: severity {severity!r} is not one of {', '.join(SEVERITIES)}",
            )
            continue
        try:
            parse_condition(text)
        except ValueError as error:
            reader.problem(text_node, f"{where}: condition {text!r}: {error}")
            continue
        conditions.append({"condition": text.strip(), "severity": severity})
    return conditions


def read_kind_config(
    reader: Reader, kind_node: Node, kind: str, values: dict[str, Node], where: str
) -> dict:
    """Hand the kind-specific keys to the kind's own validate(); point its complaint at the
    line of the key it names."""
    from monitors.checks import REGISTRY

    check = REGISTRY.get(kind)
    if check is None:
        known = ", ".join(sorted(REGISTRY))
        reader.problem(kind_node, f"{where}: unknown kind {kind!r} (expected one of: {known})")
        return {}
    aliases = CONFIG_KEY_ALIASES.get(kind, {})
    raw, nodes = {}, {}
    for key, value_node in values.items():
        if key in aliases.values():
            alias = next(k for k, v in aliases.items() if v == key)
            reader.problem(value_node, f"{where}: {kind}: write {key!r} as {alias!r} here")
            continue
        value = reader.plain(value_node)
        if value is not MISSING:
            raw[aliases.get(key, key)] = value
            nodes[aliases.get(key, key)] = value_node
    try:
        return json.loads(json.dumps(check.validate(raw)))
    except ValueError as error:
        key, _, reason = str(error).partition(":")
        shown = next((k for k, v in aliases.items() if v == key.strip()), key.strip())
        message = f"{where}: {kind}: {shown}:{reason}" if reason else f"{where}: {kind}: {error}"
        reader.problem(nodes.get(key.strip(), kind_node), message)
        return {}


def check_references(reader: Reader, config: Config) -> None:
    """Slugs are unique, references name something in the file, dependencies have no cycle."""

    def unique(specs: list[Spec], kind: str) -> set[str]:
        seen: dict[str, int] = {}
        for spec in specs:
            if spec.slug in seen:
                reader.problems.append(
                    Problem(
                        reader.source,
                        spec.line,
                        f"{kind} {spec.slug!r}: duplicate slug (first on line {seen[spec.slug]})",
                    )
                )
            else:
                seen[spec.slug] = spec.line
        return set(seen)

    def missing(line: int, message: str) -> None:
        reader.problems.append(Problem(reader.source, line, message))

    groups = unique(config.groups, "group")
    components = unique(config.components, "component")
    unique(config.journeys, "journey")
    unique(config.maintenances, "maintenance")
    for spec in config.components:
        group = spec.fields.get("group")
        if group is not None and group not in groups:
            missing(spec.group_line, f"component {spec.slug!r}: unknown group {group!r}")
        for slug, line in spec.references:
            if slug not in components:
                missing(line, f"component {spec.slug!r}: depends on unknown component {slug!r}")
    for spec in config.journeys:
        for slug, line in spec.references:
            if slug not in components:
                missing(line, f"journey {spec.slug!r}: unknown component {slug!r}")
    for spec in config.maintenances:
        for slug, line in spec.references:
            if slug not in components:
                missing(line, f"maintenance {spec.slug!r}: unknown component {slug!r}")
    for cycle, line in find_cycles(config.components):
        missing(line, f"dependency cycle: {' -> '.join(cycle)}")


def find_cycles(components: list[Spec]) -> list[tuple[list[str], int]]:
    """Each dependency cycle once, as [a, b, ..., a], with the line of its first edge."""
    edges = {spec.slug: spec.references for spec in components}
    cycles: dict[tuple[str, ...], tuple[list[str], int]] = {}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[tuple[str, int]] = []

    def visit(slug: str) -> None:
        state[slug] = 1
        for target, line in edges.get(slug, []):
            path.append((target, line))
            if state.get(target) == 1:
                start = next(i for i, (s, _) in enumerate(path) if s == target)
                loop = [s for s, _ in path[start:-1]]
                # The same cycle found from another start is reported once.
                rotation = min(range(len(loop)), key=lambda i: loop[i])
                key = tuple(loop[rotation:] + loop[:rotation])
                if key not in cycles:
                    cycles[key] = (loop + [target], path[start + 1][1])
            elif target in edges and state.get(target) is None:
                visit(target)
            path.pop()
        state[slug] = 2

    for spec in components:
        if state.get(spec.slug) is None:
            path.append((spec.slug, spec.line))
            visit(spec.slug)
            path.pop()
    return list(cycles.values())
