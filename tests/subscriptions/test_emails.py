"""What subscribers receive: headers, threading, language, component filtering."""

import pytest

from statuspage import actions
from statuspage.models import AuditEntry, ComponentStatus
from tests.subscriptions.conftest import run_pipeline

pytestmark = pytest.mark.django_db
Via = AuditEntry.Via


def open_incident(components, **fields):
    return actions.open_incident(
        title=fields.pop("title", "Loan applications fail"),
        title_alt=fields.pop("title_alt", "贷款申请失败"),
        body=fields.pop("body", "We are looking into it."),
        body_alt=fields.pop("body_alt", "我们正在调查。"),
        actor=None,
        via=Via.SYSTEM,
        components={c: ComponentStatus.MAJOR_OUTAGE for c in components},
        **fields,
    )


def test_it_sends_opened_update_and_resolved_with_threading_headers(
    smtp, subscribe, make_component
):
    component = make_component("loan-application")
    subscribe("a@example.com")
    incident = open_incident([component])
    actions.post_incident_update(
        incident, status="identified", body="The bureau link is down.", actor=None, via=Via.SYSTEM
    )
    actions.resolve_incident(incident, body="Fixed.", actor=None, via=Via.SYSTEM)
    run_pipeline()
    opened, update, resolved = smtp.handler.to("a@example.com")
    assert opened["Subject"] == "[Investigating] Loan applications fail"
    assert update["Subject"] == "[Identified] Loan applications fail"
    assert resolved["Subject"] == "[Resolved] Loan applications fail"
    ids = {m["Message-ID"] for m in (opened, update, resolved)}
    assert len(ids) == 3
    root = f"<incident-{incident.pk}@status.example.com>"
    for message in (opened, update, resolved):
        assert message["In-Reply-To"] == root
        assert message["References"] == root
    assert "The bureau link is down." in update.get_body(("plain",)).get_content()
    assert "<p>The bureau link is down.</p>" in update.get_body(("html",)).get_content()
    page = f"https://status.example.com/incidents/{incident.pk}"
    assert page in update.get_body(("plain",)).get_content()
    assert f'href="{page}"' in update.get_body(("html",)).get_content()


def test_every_email_has_one_click_unsubscribe_headers(smtp, subscribe, make_component):
    subscribe("a@example.com")
    open_incident([make_component("api-gateway")])
    run_pipeline()
    [message] = smtp.handler.messages
    # Long headers are folded; what matters is the unfolded value.
    header = str(message["List-Unsubscribe"]).strip()
    assert header.startswith("<https://status.example.com/subscriptions/unsubscribe/")
    assert header.endswith("/>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = header[1:-1]
    assert link in message.get_body(("plain",)).get_content()


def test_it_writes_in_the_subscribers_language(smtp, subscribe, make_component):
    subscribe("en@example.com", language="en")
    subscribe("zh@example.com", language="zh-hans")
    open_incident([make_component("repayment", name="Repayment", name_alt="还款")])
    run_pipeline()
    [english] = smtp.handler.to("en@example.com")
    [chinese] = smtp.handler.to("zh@example.com")
    assert "还款" in chinese.get_body(("plain",)).get_content()
    assert "Repayment" in english.get_body(("plain",)).get_content()
    assert english["Subject"] == "[Investigating] Loan applications fail"
    assert "贷款申请失败" in chinese["Subject"]
    assert "我们正在调查。" in chinese.get_body(("plain",)).get_content()
    assert "We are looking into it." not in chinese.get_body(("plain",)).get_content()
    # The words around the content are in Chinese too.
    assert "退订" in chinese.get_body(("plain",)).get_content()
    assert "Unsubscribe" in english.get_body(("plain",)).get_content()


def test_component_subscribers_get_only_events_touching_their_components(
    smtp, subscribe, make_component
):
    loans = make_component("loan-application")
    repayment = make_component("repayment")
    subscribe("loans@example.com", components=[loans])
    subscribe("repayment@example.com", components=[repayment])
    subscribe("everything@example.com")
    open_incident([loans])
    run_pipeline()
    assert len(smtp.handler.to("loans@example.com")) == 1
    assert len(smtp.handler.to("everything@example.com")) == 1
    assert smtp.handler.to("repayment@example.com") == []


def test_quiet_updates_send_nothing(smtp, subscribe, make_component):
    subscribe("a@example.com")
    incident = open_incident([make_component("dns")], notify=False)
    actions.post_incident_update(
        incident, status="monitoring", body="quiet", actor=None, via=Via.SYSTEM, notify=False
    )
    run_pipeline()
    assert smtp.handler.messages == []


def test_unconfirmed_and_internal_incidents_send_nothing(smtp, subscribe, make_component):
    subscribe("pending@example.com", confirmed_at=None)
    subscribe("a@example.com")
    open_incident([make_component("dns")], is_public=False)
    run_pipeline()
    assert smtp.handler.messages == []


def test_maintenance_scheduled_started_completed(smtp, subscribe, make_component):
    from datetime import timedelta

    from django.utils import timezone

    subscribe("a@example.com", language="zh-hans")
    now = timezone.now()
    maintenance = actions.schedule_maintenance(
        title="Core banking upgrade",
        title_alt="核心系统升级",
        starts_at=now + timedelta(hours=3),
        ends_at=now + timedelta(hours=4),
        components=[make_component("disbursement")],
        actor=None,
        via=Via.SYSTEM,
    )
    actions.set_maintenance_status(maintenance, "in_progress", actor=None, via=Via.SYSTEM)
    actions.set_maintenance_status(maintenance, "completed", actor=None, via=Via.SYSTEM)
    run_pipeline()
    messages = smtp.handler.to("a@example.com")
    assert len(messages) == 3
    assert all("核心系统升级" in m["Subject"] for m in messages)
    assert all(
        m["References"] == f"<maintenance-{maintenance.pk}@status.example.com>" for m in messages
    )


TRICKY = """Mobile app & API gateway <beta> "quoted" 'single'"""


def test_subjects_and_text_bodies_are_plain_text_and_html_bodies_are_escaped(
    smtp, subscribe, make_component
):
    subscribe("a@example.com")
    component = make_component("gateway", name="R&D <core> \"edge\" 'west'")
    incident = open_incident([component], title=TRICKY, body="Tom & Jerry's <script> fix")
    actions.resolve_incident(incident, body="Fixed.", actor=None, via=Via.SYSTEM)
    run_pipeline()
    opened, resolved = smtp.handler.to("a@example.com")
    assert opened["Subject"] == f"[Investigating] {TRICKY}"
    assert resolved["Subject"] == f"[Resolved] {TRICKY}"
    text = opened.get_body(("plain",)).get_content()
    assert TRICKY in text
    assert "R&D <core> \"edge\" 'west'" in text
    assert "Tom & Jerry's" in text
    assert "&amp;" not in text and "&lt;" not in text and "&#x27;" not in text
    html = opened.get_body(("html",)).get_content()
    assert "Mobile app &amp; API gateway &lt;beta&gt; &quot;quoted&quot; &#x27;single&#x27;" in html
    assert "R&amp;D &lt;core&gt;" in html
    assert "<beta>" not in html and "<core>" not in html and "<script>" not in html


def test_maintenance_and_staff_subjects_are_plain_text(smtp, subscribe, make_component, settings):
    from datetime import timedelta

    from django.utils import timezone

    from statuspage.subscriptions.staff import alert_staff

    settings.STAFF_NOTIFY_EMAILS = ["oncall@example.com"]
    settings.SITE_NAME = "Loans & Co"
    subscribe("a@example.com")
    now = timezone.now()
    actions.schedule_maintenance(
        title="Core <banking> & ledger upgrade",
        starts_at=now + timedelta(hours=3),
        ends_at=now + timedelta(hours=4),
        components=[make_component("ledger", name="Ledger & cards")],
        actor=None,
        via=Via.SYSTEM,
    )
    alert_staff("Probe 'bureau' & <dns> failing", "value seen: <E503> & more")
    run_pipeline()
    [maintenance] = smtp.handler.to("a@example.com")
    assert maintenance["Subject"] == "[Scheduled maintenance] Core <banking> & ledger upgrade"
    assert "Affected: Ledger & cards" in maintenance.get_body(("plain",)).get_content()
    assert "Ledger &amp; cards" in maintenance.get_body(("html",)).get_content()
    [staff] = smtp.handler.to("oncall@example.com")
    assert staff["Subject"] == "[Loans & Co staff] Probe 'bureau' & <dns> failing"
    assert "value seen: <E503> & more" in staff.get_body(("plain",)).get_content()
    assert "value seen: &lt;E503&gt; &amp; more" in staff.get_body(("html",)).get_content()


def test_the_site_is_named_in_the_subscribers_language(smtp, subscribe, make_component, settings):
    settings.SITE_NAME, settings.SITE_NAME_ALT = "Acme Loans Status", "爱克米贷款服务状态"
    subscribe("en@example.com", language="en")
    subscribe("zh@example.com", language="zh-hans")
    open_incident([make_component("repayment")])
    run_pipeline()
    [english] = smtp.handler.to("en@example.com")
    [chinese] = smtp.handler.to("zh@example.com")
    assert "爱克米贷款服务状态" in chinese.get_body(("plain",)).get_content()
    assert "Acme Loans Status" not in chinese.get_body(("html",)).get_content()
    assert "Acme Loans Status" in english.get_body(("plain",)).get_content()
