"""`alerts:` under a component in the config file: mapping rules for Alertmanager and Grafana
alerts, validated with the line and reason, applied like every other field."""

import json

import pytest
from django.utils import timezone

from monitors.alerts import mapping_rules, read_alertmanager, receive_alerts
from statuspage.config_apply import apply_config
from statuspage.config_file import ConfigError, load_config
from statuspage.models import Component

CONFIG = """
components:
  - slug: credit-bureau
    name: Credit bureau
    alerts:
      - match: ['alertname="BureauTimeouts"', 'env=~"prod|staging"']
        status: partial_outage
      - match: [team=bureau]
  - slug: disburse
    name: Disbursement
"""


def problems(config_file, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(config_file(text))
    return [str(problem) for problem in caught.value.problems]


@pytest.mark.django_db
def test_the_rules_are_stored_and_map_alerts(config_file):
    apply_config(load_config(config_file(CONFIG)))
    bureau = Component.objects.get(slug="credit-bureau")
    assert bureau.alert_rules == [
        {
            "match": ['alertname="BureauTimeouts"', 'env=~"prod|staging"'],
            "status": "partial_outage",
        },
        {"match": ["team=bureau"]},
    ]
    body = {
        "version": "4",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "BureauTimeouts", "env": "prod", "severity": "critical"},
                "startsAt": "2026-11-29T02:00:00Z",
                "fingerprint": "x1",
            }
        ],
    }
    done = receive_alerts(
        "alertmanager",
        read_alertmanager(json.dumps(body).encode()),
        mapping_rules(),
        timezone.now(),
    )
    assert done.components == ["credit-bureau"]
    assert Component.objects.get(slug="credit-bureau").status == "partial_outage"


@pytest.mark.django_db
def test_applying_the_same_rules_twice_changes_nothing(config_file):
    config = load_config(config_file(CONFIG))
    apply_config(config)
    assert apply_config(config).changes == []


@pytest.mark.parametrize(
    "rule, reason",
    [
        ("- match: [nonsense]", "is not a matcher"),
        ("- match: ['env=~\"(\"']", "bad regular expression"),
        ("- match: []", "needs at least one matcher"),
        ("- {match: [a=b], status: broken}", "status 'broken' is not one of"),
        ("- {status: major_outage}", "missing required key 'match'"),
        ("- {match: [a=b], when: now}", "unknown key 'when'"),
    ],
)
def test_a_bad_rule_is_refused_with_the_line_and_reason(config_file, rule, reason):
    text = f"""
    components:
      - slug: bureau
        name: Bureau
        alerts:
          {rule}
    """
    (problem,) = problems(config_file, text)
    assert reason in problem and ":5:" in problem
