"""`channels:` in the config file: staff alert channels whose URL and secret come from the
environment, applied (and audited) without ever writing a secret to the audit log."""

import pytest

from statuspage.channels.models import StaffChannel
from statuspage.config_apply import apply_config
from statuspage.config_file import ConfigError, load_config
from statuspage.models import AuditEntry

CONFIG = """
channels:
  - name: oncall-dingtalk
    kind: dingtalk
    url_env: TEST_DINGTALK_URL
    secret_env: TEST_DINGTALK_SECRET
    language: zh-hans
    events: [incident_opened, incident_resolved, monitoring_stalled]
  - name: sre-mail
    kind: email
    url: sre@example.com
"""


@pytest.fixture(autouse=True)
def robot_environment(monkeypatch):
    monkeypatch.setenv("TEST_DINGTALK_URL", "https://oapi.dingtalk.com/robot/send?access_token=t0k")
    monkeypatch.setenv("TEST_DINGTALK_SECRET", "SECsecret-1")


@pytest.mark.django_db
def test_channels_are_created_with_their_secrets_kept_out_of_the_audit_log(config_file):
    apply_config(load_config(config_file(CONFIG)))
    robot = StaffChannel.objects.get(name="oncall-dingtalk")
    assert robot.url.endswith("access_token=t0k") and robot.secret == "SECsecret-1"
    assert robot.from_config and robot.language == "zh-hans"
    assert robot.events == ["incident_opened", "incident_resolved", "monitoring_stalled"]
    assert StaffChannel.objects.get(name="sre-mail").events  # all events by default
    logged = str(list(AuditEntry.objects.values_list("before", "after")))
    assert "t0k" not in logged and "SECsecret" not in logged


@pytest.mark.django_db
def test_a_changed_secret_is_an_update_and_an_unchanged_file_changes_nothing(
    config_file, monkeypatch
):
    config = load_config(config_file(CONFIG))
    apply_config(config)
    assert apply_config(config).changes == []
    monkeypatch.setenv("TEST_DINGTALK_SECRET", "SECsecret-2")
    plan = apply_config(load_config(config_file(CONFIG)))
    assert [str(c).split(" (")[0] for c in plan.changes] == ["update channel oncall-dingtalk"]
    assert StaffChannel.objects.get(name="oncall-dingtalk").secret == "SECsecret-2"


@pytest.mark.parametrize(
    "channel, reason",
    [
        ("{name: a, kind: pager, url: 'https://x.example.com'}", "kind 'pager' is not one of"),
        ("{name: a, kind: slack}", "give either url or url_env"),
        ("{name: a, kind: slack, url_env: NOT_SET_ANYWHERE_X}", "NOT_SET_ANYWHERE_X is not set"),
        ("{name: a, kind: slack, url: 'ftp://x.example.com'}", "must start with https://"),
        ("{name: a, kind: email, url: nobody}", "needs an email address"),
        (
            "{name: a, kind: slack, url: 'https://x.example.com', events: [everything]}",
            "event 'everything'",
        ),
        ("{name: a, kind: slack, url: 'https://x.example.com', language: fr}", "en or zh-hans"),
    ],
)
def test_a_bad_channel_is_refused_with_the_line_and_reason(config_file, channel, reason):
    with pytest.raises(ConfigError) as caught:
        load_config(config_file(f"channels:\n  - {channel}\n"))
    (problem,) = caught.value.problems
    assert reason in str(problem) and problem.line == 2
