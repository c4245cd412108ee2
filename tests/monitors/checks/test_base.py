import pytest

from monitors.checks import REGISTRY, get_check, validate_config
from monitors.checks.base import format_duration, parse_duration


def test_the_registry_holds_every_kind():
    assert sorted(REGISTRY) == ["dns", "heartbeat", "http", "tcp", "tls"]
    assert all(check.kind == kind for kind, check in REGISTRY.items())


def test_an_unknown_kind_is_named_in_the_error():
    with pytest.raises(ValueError, match="kind: unknown probe kind 'icmp'"):
        get_check("icmp")


def test_validate_config_dispatches_on_the_kind():
    assert validate_config("tcp", {"host": "db.lending.test", "port": 5432})["port"] == 5432
    with pytest.raises(ValueError, match="config: expected a mapping"):
        validate_config("tcp", ["db.lending.test", 5432])


def test_validating_twice_changes_nothing():
    for kind, config in [
        ("http", {"url": "https://loans.lending.test/health", "headers": {"X-A": 1}}),
        ("tcp", {"host": "db.lending.test", "port": "5432"}),
        ("dns", {"name": "loans.lending.test", "record_type": "aaaa"}),
        ("tls", {"host": "api.lending.test"}),
        ("heartbeat", {"period": "1d"}),
    ]:
        once = validate_config(kind, config)
        assert validate_config(kind, once) == once


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (30, 30.0),
        (2.5, 2.5),
        ("45", 45.0),
        ("30s", 30.0),
        ("5m", 300.0),
        ("24h", 86400.0),
        ("7d", 604800.0),
        ("1h30m", 5400.0),
        ("500ms", 0.5),
        (" 2M ", 120.0),
        (0, 0.0),
    ],
)
def test_parse_duration_reads_numbers_and_suffixed_text(value, seconds):
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["", "soon", "5 minutes", "1w", "h", "-5s", -1, True, None, [5]])
def test_parse_duration_rejects_anything_else(value):
    with pytest.raises(ValueError):
        parse_duration(value)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (59, "59s"), (3600, "1h"), (90061, "25h1m1s"), (-7200, "-2h"), (1209600, "336h")],
)
def test_format_duration_is_compact(seconds, text):
    assert format_duration(seconds) == text
