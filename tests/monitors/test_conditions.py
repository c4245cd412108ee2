"""Gatus-style conditions, table-driven, against hand-made outcomes (no network needed)."""

import json

import pytest

from monitors.checks.base import Outcome
from monitors.conditions import (
    ConditionError,
    Verdict,
    evaluate,
    parse_condition,
    validate_conditions,
)

BODY = json.dumps(
    {
        "data": {"state": "ok", "limit": 5000.0, "ratio": 0.25, "frozen": False, "note": None},
        "items": [{"id": 3, "tags": ["a", "b"]}, {"id": 4}],
        "matrix": [[1, 2], [3, 4]],
        "code": "0000",
        "name": "credit-bureau",
        "window": "10s",
    }
)

HEALTHY = Outcome(
    connected=True,
    response_time_ms=312.6,
    status_code=200,
    body=BODY,
    certificate_expires_in_s=30 * 86400,
    dns_rcode="NOERROR",
    kind="http",
)


def outcome(**changes) -> Outcome:
    fields = {**HEALTHY.__dict__, **changes}
    return Outcome(**fields)


def holds(condition: str, subject: Outcome = HEALTHY) -> tuple[bool, str]:
    return parse_condition(condition).check(subject)


# Every form the product promises, each with a value that passes and one that fails.
@pytest.mark.parametrize(
    ("condition", "passing", "failing", "seen_when_failing"),
    [
        ("[STATUS] == 200", {}, {"status_code": 500}, "500"),
        ("[STATUS] != 500", {}, {"status_code": 500}, "500"),
        ("[STATUS] == any(200, 204)", {"status_code": 204}, {"status_code": 201}, "201"),
        ("[STATUS] != any(500, 502)", {}, {"status_code": 502}, "502"),
        ("[STATUS] < 500", {"status_code": 499}, {"status_code": 500}, "500"),
        ("[STATUS] <= 299", {"status_code": 299}, {"status_code": 300}, "300"),
        ("[STATUS] > 400", {"status_code": 401}, {"status_code": 400}, "400"),
        ("[STATUS] >= 200", {"status_code": 200}, {"status_code": 199}, "199"),
        ("[STATUS] == pat(2*)", {"status_code": 204}, {"status_code": 302}, "302"),
        ("[RESPONSE_TIME] < 800", {"response_time_ms": 799.9}, {"response_time_ms": 800}, "800"),
        ("[RESPONSE_TIME] < 1s", {"response_time_ms": 999}, {"response_time_ms": 1000.5}, "1000.5"),
        ("[BODY].data.state == ok", {}, {"body": '{"data": {"state": "down"}}'}, "down"),
        ("[BODY].items[0].id == 3", {}, {"body": '{"items": [{"id": 4}]}'}, "4"),
        ("[BODY].items[0].tags[1] == b", {}, {"body": '{"items": [{"tags": ["a"]}]}'}, "(missing)"),
        ("[BODY].matrix[1][0] == 3", {}, {"body": '{"matrix": [[1, 2]]}'}, "(missing)"),
        ("len([BODY].items) > 0", {}, {"body": '{"items": []}'}, "0"),
        ("len([BODY].name) == 13", {}, {"body": '{"name": "bob"}'}, "3"),
        ("len([BODY]) < 1000", {}, {"body": "x" * 1000}, "1000"),
        ("len([BODY]) == 2", {"body": "[1, 2]"}, {"body": "[1, 2, 3]"}, "3"),
        (
            '[BODY] == pat(*"code":"0000"*)',
            {"body": '{"code":"0000"}'},
            {"body": '{"code":"9999"}'},
            '{"code":"9999"}',
        ),
        ("[BODY] != pat(*error*)", {}, {"body": "an error occurred"}, "an error occurred"),
        ("[BODY].code == 0000", {}, {"body": '{"code": "0001"}'}, "0001"),
        ("[BODY].name == pat(credit-*)", {}, {"body": '{"name": "loans"}'}, "loans"),
        ("[BODY].data.limit >= 5000", {}, {"body": '{"data": {"limit": 4999.5}}'}, "4999.5"),
        ("[BODY].data.frozen == false", {}, {"body": '{"data": {"frozen": true}}'}, "true"),
        ("has([BODY].data.note) == false", {}, {"body": '{"data": {"note": "x"}}'}, "true"),
        ("has([BODY].items) == true", {}, {"body": "{}"}, "false"),
        (
            "[BODY].items[0].id < [BODY].items[1].id",
            {},
            {"body": '{"items": [{"id": 5}, {"id": 4}]}'},
            "5 vs 4",
        ),
        ("[BODY].window < 1m", {}, {"body": '{"window": "2m"}'}, "2m"),
        ("[CERTIFICATE_EXPIRATION] > 336h", {}, {"certificate_expires_in_s": 13 * 86400}, "312h"),
        ("[CERTIFICATE_EXPIRATION] > 14d", {}, {"certificate_expires_in_s": 86400}, "24h"),
        ("[DNS_RCODE] == NOERROR", {}, {"dns_rcode": "NXDOMAIN"}, "NXDOMAIN"),
        (
            "[DNS_RCODE] == any(NOERROR, NXDOMAIN)",
            {"dns_rcode": "NXDOMAIN"},
            {"dns_rcode": "SERVFAIL"},
            "SERVFAIL",
        ),
        ("[CONNECTED] == true", {}, {"connected": False}, "false"),
        ("[status] == 200", {}, {"status_code": 404}, "404"),
    ],
)
def test_each_form_passes_and_fails(condition, passing, failing, seen_when_failing):
    assert holds(condition, outcome(**passing))[0]
    ok, seen = holds(condition, outcome(**failing))
    assert not ok
    assert seen == seen_when_failing


@pytest.mark.parametrize(
    ("condition", "subject"),
    [
        ("[STATUS] == 200", outcome(status_code=None)),
        ("[RESPONSE_TIME] < 800", outcome(response_time_ms=None)),
        ("[BODY].data.state == ok", outcome(body=None)),
        ("[BODY].data.state == ok", outcome(body="<html>not json</html>")),
        ("[BODY].data.missing == ok", HEALTHY),
        ("[BODY].data.note == None", HEALTHY),  # JSON null counts as missing, as in Gatus
        ("[BODY].items[5].id == 3", HEALTHY),
        ("[BODY].name.first == x", HEALTHY),  # walking into a string
        ("len([BODY].nothing) > 0", HEALTHY),
        ("[BODY] == pat(*)", outcome(body=None)),
        ("[CERTIFICATE_EXPIRATION] > 48h", outcome(certificate_expires_in_s=None)),
        ("[DNS_RCODE] == NOERROR", outcome(dns_rcode=None)),
        ("[STATUS] != 500", outcome(status_code=None)),  # missing never satisfies, even !=
    ],
)
def test_a_missing_value_fails_the_condition(condition, subject):
    assert holds(condition, subject) == (False, "(missing)")


def test_integers_compare_as_numbers_and_other_text_exactly():
    assert holds("[BODY].code == 0", outcome(body='{"code": "0000"}'))[0]
    assert holds("[BODY].code == 0x1F", outcome(body='{"code": 31}'))[0]
    assert holds("[BODY].data.limit == 5000", HEALTHY)[0]  # 5000.0 in JSON
    assert not holds("[BODY].name == Credit-Bureau", HEALTHY)[0]
    assert holds("[BODY].data.ratio == 0.25", HEALTHY)[0]


def test_an_object_or_array_compares_as_minified_json():
    assert holds('[BODY].items[1] == {"id":4}', HEALTHY)[0]
    assert holds("[BODY].matrix[0] == [1,2]", HEALTHY)[0]
    # len() of an array counts its elements, of anything else the length of its JSON text.
    assert holds("len([BODY].matrix) == 2", HEALTHY)[0]
    assert holds("len([BODY].items[1]) == 8", HEALTHY)[0]


def test_response_time_equality_uses_whole_milliseconds():
    assert holds("[RESPONSE_TIME] == 312", HEALTHY)[0]


def test_a_literal_with_spaces_is_kept_whole():
    assert holds("[BODY].msg == all good", outcome(body='{"msg": "all good"}'))[0]


def test_a_pattern_is_a_glob_that_spans_slashes():
    assert holds("[BODY] == pat(*/health*)", outcome(body="GET /health ok"))[0]
    assert holds("[BODY].name == pat(credit-?ureau)", HEALTHY)[0]
    assert holds("[BODY].name == pat(credit-[ab]ureau)", HEALTHY)[0]


def test_the_seen_value_is_shortened():
    ok, seen = holds("[BODY] == pat(*ok*)", outcome(body="x" * 5000))

    assert not ok and len(seen) == 200


@pytest.mark.parametrize(
    ("condition", "reason"),
    [
        ("", "empty condition"),
        ("[STATUS] = 200", "no operator"),
        ("[STATUS]==200", "no operator"),
        ("[STATUS] == ", "no operator"),  # stripped, so the operator has no right side
        ("== 200", "no operator"),
        ("[FOO] == 1", "unknown placeholder [FOO]"),
        ("[STATUS].code == 1", "unexpected '.code' after [STATUS]"),
        ("[BODY].a..b == 1", "bad [BODY] path"),
        ("[BODY].items[x] == 1", "bad [BODY] path"),
        ("[BODY]items == 1", "bad [BODY] path"),
        ("len([BODY].items > 0", "unclosed len("),
        ("len([STATUS]) > 0", "len() works only on [BODY]"),
        ("has(x) == true", "has() works only on [BODY]"),
        ("[BODY] == pat()", "pat() needs a pattern"),
        ("[STATUS] == any()", "any() needs comma-separated values"),
        ("[STATUS] == any(200,,204)", "any() needs comma-separated values"),
        ("[STATUS] < any(500, 502)", "works only with == and !="),
        ("[BODY] > pat(1*)", "works only with == and !="),
        ("[STATUS] < abc", "'abc' is not a number or a duration"),
        ("[CERTIFICATE_EXPIRATION] > 2w", "'2w' is not a number or a duration"),
        ("[DNS_RCODE] < 3", "is not a number"),
        ("[CONNECTED] > 0", "is not a number"),
        ("has([BODY].x) > 0", "is not a number"),
        ("[CONNECTED] == yes", "[CONNECTED] is true or false"),
        ("[DNS_RCODE] == NOERRROR", "unknown DNS rcode 'NOERRROR'"),
        ("[DNS_RCODE] == any(NOERROR, OK)", "unknown DNS rcode 'OK'"),
        ("[STATUS] == OK", "[STATUS] is an HTTP status code"),
        ("200 == 200", "compares no placeholder"),
    ],
)
def test_a_condition_that_cannot_be_evaluated_is_rejected_when_parsed(condition, reason):
    with pytest.raises(ConditionError) as caught:
        parse_condition(condition)

    assert reason in str(caught.value)


def test_a_parse_error_is_a_value_error_for_callers_that_catch_those():
    assert issubclass(ConditionError, ValueError)


# --- evaluate: all conditions must hold; severities ----------------------------------------

CREDIT_BUREAU = [
    {"condition": "[STATUS] == 200", "severity": "major_outage"},
    {"condition": "[BODY].code == 0000"},
    {"condition": "[RESPONSE_TIME] < 200", "severity": "degraded_performance"},
    {"condition": "[CERTIFICATE_EXPIRATION] > 14d", "severity": "degraded_performance"},
]


def test_all_conditions_holding_is_ok():
    assert evaluate(CREDIT_BUREAU, outcome(response_time_ms=150)) == Verdict(ok=True)


def test_a_failed_condition_without_severity_is_a_partial_outage():
    verdict = evaluate(CREDIT_BUREAU, outcome(response_time_ms=150, body='{"code": "9999"}'))

    assert (verdict.ok, verdict.failed_condition, verdict.seen, verdict.severity) == (
        False,
        "[BODY].code == 0000",
        "9999",
        "partial_outage",
    )


def test_the_worst_severity_wins_and_names_its_condition():
    verdict = evaluate(
        CREDIT_BUREAU, outcome(status_code=503, body='{"code": "9999"}', response_time_ms=900)
    )

    assert (verdict.failed_condition, verdict.seen, verdict.severity) == (
        "[STATUS] == 200",
        "503",
        "major_outage",
    )
    assert [failure[0] for failure in verdict.failures] == [
        "[STATUS] == 200",
        "[BODY].code == 0000",
        "[RESPONSE_TIME] < 200",
    ]


def test_among_equally_bad_failures_the_first_is_named():
    verdict = evaluate(CREDIT_BUREAU, outcome(response_time_ms=900, certificate_expires_in_s=86400))

    assert (verdict.failed_condition, verdict.severity) == (
        "[RESPONSE_TIME] < 200",
        "degraded_performance",
    )


def test_an_unreachable_target_is_a_major_outage_with_its_error():
    verdict = evaluate(
        CREDIT_BUREAU,
        Outcome(connected=False, error="connection refused", kind="http"),
    )

    assert verdict == Verdict(
        ok=False,
        failed_condition="[CONNECTED] == true",
        seen="connection refused",
        severity="major_outage",
        failures=(("[CONNECTED] == true", "connection refused", "major_outage"),),
    )


def test_a_condition_on_connected_takes_over_the_unreachable_rule():
    verdict = evaluate(
        [{"condition": "[CONNECTED] == true", "severity": "partial_outage"}],
        Outcome(connected=False, error="timed out after 5s", kind="tcp"),
    )

    assert (verdict.ok, verdict.seen, verdict.severity) == (False, "false", "partial_outage")


def test_connected_false_can_even_be_what_is_expected():
    # A port that must stay closed to the outside, checked from an outside vantage point.
    verdict = evaluate(
        [{"condition": "[CONNECTED] == false"}], Outcome(connected=False, kind="tcp")
    )

    assert verdict.ok


@pytest.mark.parametrize(
    ("subject", "ok", "failed"),
    [
        (Outcome(connected=True, status_code=200, kind="http"), True, ""),
        (Outcome(connected=True, status_code=302, kind="http"), True, ""),
        (Outcome(connected=True, status_code=500, kind="http"), False, "[STATUS] < 400"),
        (
            Outcome(connected=True, dns_rcode="NXDOMAIN", kind="dns"),
            False,
            "[DNS_RCODE] == NOERROR",
        ),
        (Outcome(connected=True, kind="tcp"), True, ""),
        (Outcome(connected=True, kind=""), True, ""),
    ],
)
def test_without_conditions_the_kind_defaults_apply(subject, ok, failed):
    verdict = evaluate([], subject)

    assert (verdict.ok, verdict.failed_condition) == (ok, failed)


def test_conditions_may_be_plain_strings():
    assert validate_conditions(["[STATUS] == 200"]) == [
        {"condition": "[STATUS] == 200", "severity": "partial_outage"}
    ]
    assert not evaluate(["[STATUS] == 200"], outcome(status_code=500)).ok


def test_validation_trims_and_fills_in_the_severity():
    assert validate_conditions(
        [
            {"condition": "  [STATUS] == 200 ", "severity": "degraded_performance"},
            {"condition": "[CONNECTED] == true"},
        ]
    ) == [
        {"condition": "[STATUS] == 200", "severity": "degraded_performance"},
        {"condition": "[CONNECTED] == true", "severity": "partial_outage"},
    ]


@pytest.mark.parametrize(
    ("conditions", "message"),
    [
        ("[STATUS] == 200", "conditions: expected a list"),
        (
            [{"condition": "[STATUS] == 200", "severity": "critical"}],
            "conditions[0]: severity must be one of",
        ),
        (
            [{"condition": "[STATUS] == 200", "severity": "operational"}],
            "conditions[0]: severity must be one of",
        ),
        (
            [{"condition": "[STATUS] == 200", "when": "always"}],
            "conditions[0]: expected {condition",
        ),
        (["[STATUS] == 200", "[STATUS] = 200"], "conditions[1]: no operator"),
        ([{"severity": "major_outage"}], "conditions[0]: condition must be text"),
        ([{"condition": ["[STATUS] == 200"]}], "conditions[0]: condition must be text"),
        ([{"condition": "  "}], "conditions[0]: empty condition"),
        ([42], "conditions[0]: expected {condition"),
    ],
)
def test_validation_names_the_bad_condition(conditions, message):
    with pytest.raises(ConditionError, match=message.replace("[", r"\[").replace("{", r"\{")):
        validate_conditions(conditions)


def test_evaluating_an_unparsable_condition_raises_instead_of_crying_wolf():
    with pytest.raises(ConditionError):
        evaluate([{"condition": "[STATUS] = 200"}], HEALTHY)
