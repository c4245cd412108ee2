"""manage.py apply_config: idempotent, dry run, prune; an invalid file applies nothing."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from monitors.models import Probe
from statuspage.models import (
    AuditEntry,
    Component,
    ComponentGroup,
    ComponentStatus,
    Journey,
    SiteState,
)

pytestmark = pytest.mark.django_db

PLATFORM = """
groups:
  - {slug: lending, name: Lending system, name_alt: 借贷系统}
  - {slug: bureaus, name: Credit bureaus}
components:
  - slug: gateway
    name: API gateway
    group: lending
  - slug: pboc
    name: PBOC credit reference
    name_alt: 人行征信中心
    group: bureaus
    probes:
      - name: query
        kind: http
        url: http://127.0.0.1:8106/credit-bureau-pboc/query
        interval: 20s
        timeout: 5s
        conditions: ["[BODY].code == 0000"]
  - slug: loans
    name: Loan application
    group: lending
    public: true
    depends_on: [pboc, gateway]
  - slug: upload
    name: Credit data reporting
    group: bureaus
    public: false
    probes:
      - {name: nightly, kind: heartbeat, period: 24h, grace: 30m}
journeys:
  - {slug: apply, name: Apply for a loan, name_alt: 申请借款, components: [loans, pboc]}
"""


def apply(path, *args) -> str:
    out = StringIO()
    call_command("apply_config", str(path), *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    """Everything apply_config may write, to compare before and after."""
    return {
        "groups": list(ComponentGroup.objects.values().order_by("slug")),
        "components": list(
            Component.objects.values(
                "slug", "name", "name_alt", "group__slug", "position", "is_public", "updated_at"
            ).order_by("slug")
        ),
        "depends": sorted(
            Component.depends_on.through.objects.values_list(
                "from_component__slug", "to_component__slug"
            )
        ),
        "probes": list(Probe.objects.values().order_by("id")),
        "journeys": list(Journey.objects.values().order_by("slug")),
        "journey_components": sorted(
            Journey.components.through.objects.values_list("journey__slug", "component__slug")
        ),
        "audit": AuditEntry.objects.count(),
        "version": SiteState.current().version,
    }


def test_it_creates_groups_components_dependencies_probes_and_journeys(config_file):
    output = apply(config_file(PLATFORM))
    assert "Applied 9 change(s)" in output
    loans = Component.objects.get(slug="loans")
    assert loans.group.slug == "lending"
    assert sorted(loans.depends_on.values_list("slug", flat=True)) == ["gateway", "pboc"]
    pboc = Component.objects.get(slug="pboc")
    assert (pboc.name_alt, pboc.position) == ("人行征信中心", 0)
    assert Component.objects.get(slug="upload").is_public is False
    probe = Probe.objects.get(component=pboc, name="query")
    assert probe.kind == "http"
    assert probe.interval_seconds == 20
    assert probe.timeout_seconds == 5
    assert probe.config["url"] == "http://127.0.0.1:8106/credit-bureau-pboc/query"
    assert probe.conditions == [{"condition": "[BODY].code == 0000", "severity": "partial_outage"}]
    heartbeat = Probe.objects.get(name="nightly")
    assert heartbeat.config == {"period": 86400.0, "grace": 1800.0}
    assert heartbeat.heartbeat_token
    journey = Journey.objects.get(slug="apply")
    assert sorted(journey.components.values_list("slug", flat=True)) == ["loans", "pboc"]


def test_it_audits_each_change_via_config(config_file):
    apply(config_file(PLATFORM))
    entries = AuditEntry.objects.filter(via=AuditEntry.Via.CONFIG)
    assert entries.count() == 9
    created = entries.get(action="component.create", object_repr="loans")
    assert created.before is None
    assert created.after["depends_on"] == ["gateway", "pboc"]
    assert created.actor_name == "config platform.yaml"


def test_applying_the_same_file_twice_changes_nothing_and_says_so(config_file):
    path = config_file(PLATFORM)
    apply(path)
    before = snapshot()
    output = apply(path)
    assert "No changes: the database matches" in output
    assert snapshot() == before


def test_it_updates_what_changed_and_keeps_the_heartbeat_token(config_file):
    apply(config_file(PLATFORM))
    token = Probe.objects.get(name="nightly").heartbeat_token
    audit_rows = AuditEntry.objects.count()
    changed = PLATFORM.replace("name: API gateway", "name: Mobile & API gateway").replace(
        "grace: 30m", "grace: 1h"
    )
    output = apply(config_file(changed))
    assert "update component gateway (name: 'API gateway' -> 'Mobile & API gateway')" in output
    assert "update probe upload/nightly" in output
    assert "Applied 2 change(s)" in output
    assert AuditEntry.objects.count() == audit_rows + 2
    assert Component.objects.get(slug="gateway").name == "Mobile & API gateway"
    heartbeat = Probe.objects.get(name="nightly")
    assert heartbeat.config["grace"] == 3600.0
    assert heartbeat.heartbeat_token == token


def test_it_changes_dependencies_and_journey_components(config_file):
    apply(config_file(PLATFORM))
    changed = PLATFORM.replace("depends_on: [pboc, gateway]", "depends_on: [gateway]").replace(
        "components: [loans, pboc]", "components: [loans, gateway]"
    )
    apply(config_file(changed))
    loans = Component.objects.get(slug="loans")
    assert list(loans.depends_on.values_list("slug", flat=True)) == ["gateway"]
    apply_journey = Journey.objects.get(slug="apply")
    assert sorted(apply_journey.components.values_list("slug", flat=True)) == ["gateway", "loans"]


def test_a_dry_run_prints_the_changes_and_writes_nothing(config_file):
    path = config_file(PLATFORM)
    before = snapshot()
    output = apply(path, "--dry-run")
    assert "create component loans" in output
    assert "create probe pboc/query" in output
    assert "Dry run: 9 change(s) would be made; nothing written." in output
    assert snapshot() == before


def test_without_prune_it_lists_what_the_file_no_longer_names_and_keeps_it(config_file):
    apply(config_file(PLATFORM))
    smaller = PLATFORM.replace(
        "      - {name: nightly, kind: heartbeat, period: 24h, grace: 30m}\n", ""
    )
    output = apply(config_file(smaller))
    assert "(kept; --prune deletes them)" in output
    assert "  probe upload/nightly" in output
    assert "No changes" in output
    assert Probe.objects.filter(name="nightly").exists()


def test_prune_deletes_what_the_file_no_longer_names(config_file):
    apply(config_file(PLATFORM))
    smaller = """
    groups:
      - {slug: lending, name: Lending system, name_alt: 借贷系统}
    components:
      - {slug: gateway, name: API gateway, group: lending}
    """
    output = apply(config_file(smaller), "--prune")
    for line in ("delete journey apply", "delete probe pboc/query", "delete component loans"):
        assert line in output
    assert list(Component.objects.values_list("slug", flat=True)) == ["gateway"]
    assert list(ComponentGroup.objects.values_list("slug", flat=True)) == ["lending"]
    assert not Probe.objects.exists()
    assert not Journey.objects.exists()
    deleted = AuditEntry.objects.get(action="component.delete", object_repr="loans")
    assert deleted.after is None and deleted.before["name"] == "Loan application"


def test_a_dry_run_with_prune_lists_the_deletions_and_writes_nothing(config_file):
    apply(config_file(PLATFORM))
    before = snapshot()
    output = apply(config_file("components: []\n"), "--dry-run", "--prune")
    assert "delete component loans" in output
    assert snapshot() == before


def test_it_bumps_the_site_version_and_recomputes_statuses(config_file, make_component):
    # A component failing by hand before it is configured: once the file makes `loans` depend on
    # it, `loans` shows degraded because of it.
    apply(config_file(PLATFORM.replace("depends_on: [pboc, gateway]", "depends_on: [gateway]")))
    Component.objects.filter(slug="pboc").update(
        manual_status=ComponentStatus.MAJOR_OUTAGE, status=ComponentStatus.MAJOR_OUTAGE
    )
    version = SiteState.current().version
    apply(config_file(PLATFORM))
    loans = Component.objects.get(slug="loans")
    assert loans.status == ComponentStatus.DEGRADED_PERFORMANCE
    assert loans.status_cause.slug == "pboc"
    assert SiteState.current().version > version


@pytest.mark.parametrize(
    "text, reason",
    [
        ("components: [\n", "not valid YAML"),
        ("components:\n  - {slug: a, name: A, colour: red}\n", "unknown key 'colour'"),
        ("components:\n  - {slug: a, name: A, depends_on: [b]}\n", "unknown component 'b'"),
        (
            "components:\n  - {slug: a, name: A, depends_on: [b]}\n"
            "  - {slug: b, name: B, depends_on: [a]}\n",
            "dependency cycle: a -> b -> a",
        ),
        (
            "components:\n  - slug: a\n    name: A\n    probes:\n"
            "      - {name: p, kind: tcp, host: 127.0.0.1, port: 1, interval: 5s}\n",
            "interval: must be at least 10s",
        ),
    ],
)
def test_an_invalid_file_is_rejected_whole_and_nothing_is_applied(config_file, text, reason):
    apply(config_file(PLATFORM))
    before = snapshot()
    # The valid part of the file would change a name: it must not.
    path = config_file("groups:\n  - {slug: lending, name: Renamed}\n" + text)
    with pytest.raises(CommandError) as caught:
        apply(path, "--prune")
    assert f"{path}:" in str(caught.value)
    assert reason in str(caught.value)
    assert "nothing was applied" in str(caught.value)
    assert snapshot() == before


def test_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="cannot read the file"):
        apply(tmp_path / "nope.yaml")


def test_descriptions_in_the_second_language_are_applied_like_names(config_file):
    text = """
groups:
  - slug: bureaus
    name: Credit bureaus
    description: The credit reference interfaces.
    description_alt: 征信查询接口。
components:
  - slug: pboc
    name: PBOC credit reference
    name_alt: 人行征信中心
    description: The central bank's query interface.
    description_alt: 中国人民银行征信中心的查询接口。
    group: bureaus
"""
    apply(config_file(text))
    assert ComponentGroup.objects.get(slug="bureaus").description_alt == "征信查询接口。"
    assert Component.objects.get(slug="pboc").description_alt == "中国人民银行征信中心的查询接口。"
    # Changing only the translation is a change of its own, audited like any other.
    out = apply(config_file(text.replace("征信查询接口。", "征信机构的查询接口。")))
    assert "description_alt" in out
    assert ComponentGroup.objects.get(slug="bureaus").description_alt == "征信机构的查询接口。"
    # Left out of the file, it is emptied, as name_alt is.
    apply(config_file(text.replace("    description_alt: 中国人民银行征信中心的查询接口。\n", "")))
    assert Component.objects.get(slug="pboc").description_alt == ""


def test_the_example_file_describes_every_public_component_in_both_languages(db):
    from pathlib import Path

    from django.conf import settings

    apply(str(Path(settings.BASE_DIR) / "examples" / "lending-platform.yaml"))
    for component in Component.objects.filter(is_public=True):
        assert component.description and component.description_alt, component.slug
