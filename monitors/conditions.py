"""Gatus-style conditions over a check's Outcome: `[STATUS] == 200`, `[BODY].data.state == ok`.

A condition is `<left> <operator> <right>` with the operator surrounded by spaces, one of
`==`, `!=`, `<=`, `>=`, `<`, `>` (looked for in that order, as Gatus does). Each side is a
placeholder (`[STATUS]`, `[RESPONSE_TIME]`, `[BODY]`, `[BODY].path`, `[CONNECTED]`,
`[CERTIFICATE_EXPIRATION]`, `[DNS_RCODE]`), a function of one (`len(...)`, `has(...)`), a
pattern (`pat(*"code":"0000"*)`, `==`/`!=` only) or a list of choices (`any(200, 204)`,
`==`/`!=` only), or plain text.

The semantics follow Gatus's documentation and code:
- `==` compares as integers when both sides are integers (`0000 == 0`), else as text;
- `<`, `>`, ... compare numbers; a duration (`336h`, `500ms`, `7d`) counts as milliseconds,
  the unit of `[RESPONSE_TIME]` and `[CERTIFICATE_EXPIRATION]`;
- `[BODY].a.b[0].c` walks the JSON body; `len()` of an array is its element count, of anything
  else the length of its text (`len([BODY])` of a non-array body is the body's length);
  `has()` says whether the path exists;
- `pat()` is a glob: `*` any run of characters, `?` one character, `[...]` a class.
Where this deliberately differs: mistakes Gatus would silently evaluate (an unknown
placeholder, `<` against text, an unclosed `len(`) are rejected by `parse_condition`, so a
bad config fails when applied, not as a false alarm at 3 a.m.; a value that is missing at run
time (no body, path not found, JSON null) fails the condition with "(missing)" instead of
being compared as text; and `*` in `pat()` also matches "/".

Over 400 lines on purpose: one small language, parsed and evaluated over the same placeholder
table, so that its semantics (and where they differ from Gatus's) read in one place.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import lru_cache

from monitors.checks.base import Outcome, duration_text_seconds, format_duration
from monitors.confirmation import DEFAULT_SEVERITY
from statuspage.status import DEGRADED, MAJOR, OPERATIONAL, PARTIAL, SEVERITY
from statuspage.text import truncate

OPERATORS = ("==", "!=", "<=", ">=", ">", "<")
NUMERIC_OPERATORS = {"<=", ">=", ">", "<"}
SEVERITIES = (DEGRADED, PARTIAL, MAJOR)

PLACEHOLDERS = {
    "STATUS",
    "RESPONSE_TIME",
    "BODY",
    "CONNECTED",
    "CERTIFICATE_EXPIRATION",
    "DNS_RCODE",
}
# Placeholders whose value is never a number: ordering them is a mistake.
NON_NUMERIC = {"CONNECTED", "DNS_RCODE"}
DNS_RCODES = {
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
    "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "BADVERS",
}  # fmt: skip
MISSING_SEEN = "(missing)"
SEEN_LIMIT = 200

_PLACEHOLDER_START = re.compile(r"\[([A-Za-z_]+)\]")
_PATH_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")
_INTEGER = re.compile(r"[+-]?\d+")
_MISSING = object()


class ConditionError(ValueError):
    """A condition that cannot be parsed; the message says why."""


@dataclass(frozen=True)
class Operand:
    """One side of a condition."""

    text: str
    placeholder: str = ""  # "STATUS", "BODY", ... or "" for literals, patterns and choices
    path: tuple[str | int, ...] = ()  # for [BODY].a[0].b
    has_path: bool = False  # [BODY].x (even [BODY][0]) rather than the whole [BODY]
    function: str = ""  # "len" or "has"
    pattern: str | None = None  # pat(...)
    choices: tuple[str, ...] | None = None  # any(...)

    @property
    def is_placeholder(self) -> bool:
        return bool(self.placeholder)


@dataclass(frozen=True)
class Condition:
    text: str
    left: Operand
    operator: str
    right: Operand

    def mentions(self, placeholder: str) -> bool:
        return placeholder in (self.left.placeholder, self.right.placeholder)

    def check(self, outcome: Outcome, body_cache: dict | None = None) -> tuple[bool, str]:
        """Whether the outcome satisfies this condition, and the value seen (for people)."""
        cache = body_cache if body_cache is not None else {}
        left = _resolve(self.left, outcome, cache)
        right = _resolve(self.right, outcome, cache)
        seen = _describe_seen(self, left, right, outcome)
        if left is _MISSING or right is _MISSING:
            return False, seen
        if self.operator in NUMERIC_OPERATORS:
            a, b = _as_number(left), _as_number(right)
            if a is None or b is None:
                return False, seen
            holds = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[self.operator]
            return holds, seen
        equal = _matches(self.left, left, self.right, right)
        return (equal if self.operator == "==" else not equal), seen


@dataclass(frozen=True)
class Verdict:
    ok: bool
    failed_condition: str = ""
    seen: str = ""
    severity: str = OPERATIONAL
    # Every failed condition as (condition, seen, severity), for consoles that want them all.
    failures: tuple[tuple[str, str, str], ...] = field(default=())


@lru_cache(maxsize=1024)
def parse_condition(text: str) -> Condition:
    """Parse one condition; raises ConditionError with the reason if it cannot be evaluated."""
    if not isinstance(text, str) or not text.strip():
        raise ConditionError("empty condition")
    stripped = text.strip()
    for operator in OPERATORS:
        left_text, found, right_text = stripped.partition(f" {operator} ")
        if found:
            break
    else:
        raise ConditionError(
            f"no operator in {stripped!r}: expected one of {', '.join(OPERATORS)} "
            "with a space on each side"
        )
    left = _parse_operand(left_text.strip())
    right = _parse_operand(right_text.strip())
    condition = Condition(stripped, left, operator, right)
    _check_meaning(condition)
    return condition


def validate_conditions(conditions: object) -> list[dict]:
    """Normalise a probe's conditions list; raises ConditionError("conditions[i]: reason").

    Accepts plain strings as shorthand for {"condition": text}; fills in the default severity.
    """
    if conditions is None:
        return []
    if not isinstance(conditions, list):
        raise ConditionError("conditions: expected a list")
    normalised = []
    for index, item in enumerate(conditions):
        if isinstance(item, str):
            item = {"condition": item}
        if not isinstance(item, dict) or set(item) - {"condition", "severity"}:
            raise ConditionError(
                f"conditions[{index}]: expected {{condition: ..., severity: ...}}, not {item!r}"
            )
        severity = item.get("severity") or DEFAULT_SEVERITY
        if severity not in SEVERITIES:
            raise ConditionError(
                f"conditions[{index}]: severity must be one of {', '.join(SEVERITIES)}, "
                f"not {severity!r}"
            )
        text = item.get("condition")
        if not isinstance(text, str):
            raise ConditionError(f"conditions[{index}]: condition must be text, not {text!r}")
        try:
            parsed = parse_condition(text)
        except ConditionError as exc:
            raise ConditionError(f"conditions[{index}]: {exc}") from None
        normalised.append({"condition": parsed.text, "severity": severity})
    return normalised


def evaluate(conditions: list[dict], outcome: Outcome) -> Verdict:
    """Judge an outcome: every condition must hold.

    A probe without conditions is judged by its kind's defaults (an HTTP status below 400, a
    DNS answer of NOERROR). When the target could not be reached and no condition mentions
    [CONNECTED], the verdict fails as a major outage with the outcome's error as the value
    seen. Otherwise the worst severity among the failed conditions wins (a failed condition
    without one is a partial outage), and the first failed condition of that severity is the
    one named.
    """
    items = validate_conditions(list(conditions) if conditions else [])
    if not items:
        items = list(_default_conditions(outcome.kind))
    parsed = [(parse_condition(item["condition"]), item["severity"]) for item in items]
    if not outcome.connected and not any(c.mentions("CONNECTED") for c, _ in parsed):
        return Verdict(
            ok=False,
            failed_condition="[CONNECTED] == true",
            seen=outcome.error or "not connected",
            severity=MAJOR,
            failures=(("[CONNECTED] == true", outcome.error or "not connected", MAJOR),),
        )
    body_cache: dict = {}
    failures = []
    for condition, severity in parsed:
        holds, seen = condition.check(outcome, body_cache)
        if not holds:
            failures.append((condition.text, seen, severity))
    if not failures:
        return Verdict(ok=True)
    worst = max(failures, key=lambda failure: SEVERITY[failure[2]])
    return Verdict(
        ok=False,
        failed_condition=worst[0],
        seen=worst[1],
        severity=worst[2],
        failures=tuple(failures),
    )


def _default_conditions(kind: str) -> Iterable[dict]:
    from monitors.checks import REGISTRY  # the kinds import this module's siblings, not it

    check = REGISTRY.get(kind)
    return check.default_conditions if check else ()


# --- parsing ---------------------------------------------------------------------------------


def _parse_operand(text: str) -> Operand:
    if not text:
        raise ConditionError("missing a value on one side of the operator")
    for name in ("pat", "any", "len", "has"):
        if text.lower().startswith(f"{name}("):
            if not text.endswith(")"):
                raise ConditionError(f"unclosed {name}( in {text!r}")
            inner = text[len(name) + 1 : -1].strip()
            if name == "pat":
                if not inner:
                    raise ConditionError("pat() needs a pattern")
                return Operand(text=text, pattern=inner)
            if name == "any":
                choices = tuple(choice.strip() for choice in inner.split(","))
                if not inner or any(not choice for choice in choices):
                    raise ConditionError(f"any() needs comma-separated values, got {text!r}")
                return Operand(text=text, choices=choices)
            operand = _parse_placeholder(inner)
            if operand is None or operand.placeholder != "BODY":
                raise ConditionError(f"{name}() works only on [BODY], got {text!r}")
            return Operand(
                text=text,
                placeholder="BODY",
                path=operand.path,
                has_path=operand.has_path,
                function=name,
            )
    operand = _parse_placeholder(text)
    return operand if operand is not None else Operand(text=text)


def _parse_placeholder(text: str) -> Operand | None:
    match = _PLACEHOLDER_START.match(text)
    if match is None:
        return None
    name = match.group(1).upper()
    if name not in PLACEHOLDERS:
        raise ConditionError(
            f"unknown placeholder [{match.group(1)}] (expected one of "
            f"{', '.join(f'[{p}]' for p in sorted(PLACEHOLDERS))})"
        )
    rest = text[match.end() :]
    if name != "BODY":
        if rest:
            raise ConditionError(f"unexpected {rest!r} after [{name}]")
        return Operand(text=text, placeholder=name)
    if not rest:
        return Operand(text=text, placeholder="BODY")
    path: list[str | int] = []
    position = 0
    while position < len(rest):
        step = _PATH_STEP.match(rest, position)
        if step is None:
            raise ConditionError(
                f"bad [BODY] path {rest!r}: expected .key or [index] steps, "
                "like [BODY].data.items[0].id"
            )
        path.append(step.group(1) if step.group(1) is not None else int(step.group(2)))
        position = step.end()
    return Operand(text=text, placeholder="BODY", path=tuple(path), has_path=True)


def _check_meaning(condition: Condition) -> None:
    left, right = condition.left, condition.right
    if not (left.is_placeholder or right.is_placeholder):
        raise ConditionError(
            f"{condition.text!r} compares no placeholder: one side must be [STATUS], "
            "[BODY], [RESPONSE_TIME], ..."
        )
    for operand in (left, right):
        if (operand.pattern is not None or operand.choices is not None) and (
            condition.operator in NUMERIC_OPERATORS
        ):
            raise ConditionError(f"{operand.text} works only with == and !=")
    if condition.operator in NUMERIC_OPERATORS:
        for operand in (left, right):
            if operand.placeholder in NON_NUMERIC or operand.function == "has":
                raise ConditionError(f"{operand.text} is not a number; use == or !=")
            if not operand.is_placeholder and _as_number(operand.text) is None:
                raise ConditionError(
                    f"{operand.text!r} is not a number or a duration (like 800, 336h, 500ms)"
                )
        return
    # == and !=: catch the typos that could never match.
    for placeholder_side, other in ((left, right), (right, left)):
        values = other.choices or ((other.text,) if not other.is_placeholder else ())
        if other.pattern is not None:
            values = ()
        if placeholder_side.placeholder == "CONNECTED" and not placeholder_side.function:
            for value in values:
                if value.lower() not in ("true", "false"):
                    raise ConditionError(f"[CONNECTED] is true or false, not {value!r}")
        if placeholder_side.placeholder == "DNS_RCODE":
            for value in values:
                if value not in DNS_RCODES:
                    raise ConditionError(
                        f"unknown DNS rcode {value!r} (expected one of "
                        f"{', '.join(sorted(DNS_RCODES))})"
                    )
        if placeholder_side.placeholder == "STATUS":
            for value in values:
                if not _INTEGER.fullmatch(value):
                    raise ConditionError(f"[STATUS] is an HTTP status code, not {value!r}")


# --- evaluation ------------------------------------------------------------------------------


def _resolve(operand: Operand, outcome: Outcome, body_cache: dict):
    """The operand's value as text (or a number), or _MISSING when the outcome lacks it."""
    if operand.pattern is not None or operand.choices is not None:
        return operand.text
    name = operand.placeholder
    if not name:
        return operand.text
    if name == "STATUS":
        return _MISSING if outcome.status_code is None else str(outcome.status_code)
    if name == "RESPONSE_TIME":
        return _MISSING if outcome.response_time_ms is None else outcome.response_time_ms
    if name == "CONNECTED":
        return "true" if outcome.connected else "false"
    if name == "CERTIFICATE_EXPIRATION":
        expires = outcome.certificate_expires_in_s
        return _MISSING if expires is None else expires * 1000
    if name == "DNS_RCODE":
        return _MISSING if outcome.dns_rcode is None else outcome.dns_rcode
    return _resolve_body(operand, outcome, body_cache)


def _resolve_body(operand: Operand, outcome: Outcome, body_cache: dict):
    body = outcome.body
    if not operand.has_path:
        if body is None:
            return "false" if operand.function == "has" else _MISSING
        text = body.strip()
        if operand.function == "has":
            return "true" if text else "false"
        if operand.function == "len":
            document = _parse_json(text, body_cache)
            return str(len(document)) if isinstance(document, list) else str(len(text))
        return text
    document = _MISSING if body is None else _parse_json(body, body_cache)
    value = _walk(document, operand.path)
    if operand.function == "has":
        return "false" if value is _MISSING else "true"
    if value is _MISSING:
        return _MISSING
    if operand.function == "len":
        return str(len(value) if isinstance(value, list) else len(_render(value)))
    return _render(value)


def _parse_json(text: str, body_cache: dict):
    if text not in body_cache:
        try:
            body_cache[text] = json.loads(text)
        except ValueError:
            body_cache[text] = _MISSING
    return body_cache[text]


def _walk(document, path: tuple[str | int, ...]):
    value = document
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                return _MISSING
            value = value[step]
        else:
            if not isinstance(value, dict) or step not in value:
                return _MISSING
            value = value[step]
    # JSON null counts as missing, as in Gatus (has() of it is false).
    return _MISSING if value is None else value


def _render(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def _as_number(value) -> float | None:
    """A number from a resolved value or literal; durations become milliseconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return float(int(text, 0))  # 0x1F and friends, as Go's ParseInt(s, 0, 64) accepts
    except ValueError:
        pass
    seconds = duration_text_seconds(text.lower())
    return None if seconds is None else seconds * 1000


def _as_integer(text: str) -> int | None:
    if _INTEGER.fullmatch(text):
        return int(text)  # decimal, so "0000" and "0" are equal and "010" is ten
    try:
        return int(text, 0)
    except ValueError:
        return None


def _equal(a: str, b: str) -> bool:
    first, second = _as_integer(a), _as_integer(b)
    if first is not None and second is not None:
        return first == second
    return a == b


def _matches(left_operand: Operand, left, right_operand: Operand, right) -> bool:
    left_text = left if isinstance(left, str) else _render_number(left)
    right_text = right if isinstance(right, str) else _render_number(right)
    if right_operand.pattern is not None and left_operand.pattern is None:
        return fnmatchcase(left_text, right_operand.pattern)
    if left_operand.pattern is not None and right_operand.pattern is None:
        return fnmatchcase(right_text, left_operand.pattern)
    if right_operand.choices is not None and left_operand.choices is None:
        return any(_equal(left_text, choice) for choice in right_operand.choices)
    if left_operand.choices is not None and right_operand.choices is None:
        return any(_equal(right_text, choice) for choice in left_operand.choices)
    return _equal(left_text, right_text)


def _render_number(value: float) -> str:
    # [RESPONSE_TIME] compares as whole milliseconds, like Gatus's Duration.Milliseconds().
    return str(int(value))


def _describe_seen(condition: Condition, left, right, outcome: Outcome) -> str:
    sides = []
    for operand, value in ((condition.left, left), (condition.right, right)):
        if not operand.is_placeholder:
            continue
        if value is _MISSING:
            sides.append(MISSING_SEEN)
        elif operand.placeholder == "CERTIFICATE_EXPIRATION" and not operand.function:
            sides.append(format_duration(value / 1000))
        elif isinstance(value, float):
            sides.append(f"{value:g}")
        else:
            sides.append(str(value))
    seen = " vs ".join(sides)
    return truncate(seen, SEEN_LIMIT)
