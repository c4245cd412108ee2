"""The public-change boundary: one lock, one recompute, one bump, and on-commit fan-out of
every event written inside it, however the changes nest."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from monitors.models import Probe
from monitors.recorder import record_result
from monitors.results import RunResult
from statuspage import actions, changes
from statuspage.changes import public_change
from statuspage.enqueue import enqueue
from statuspage.models import ComponentStatusChange, Event, SiteState
from statuspage.subscriptions.tasks import fan_out_event

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 29, 9, 0, tzinfo=SHANGHAI)

pytestmark = pytest.mark.django_db


@pytest.fixture
def recomputes(monkeypatch):
    """Count the recomputes (the real one runs)."""
    calls = []
    store = changes.store_statuses

    def counted(now):
        calls.append(now)
        return store(now)

    monkeypatch.setattr(changes, "store_statuses", counted)
    return calls


def enqueued(callbacks) -> list[int]:
    """The event ids whose fan-out was enqueued on commit (through statuspage.enqueue)."""
    return [
        c.args[1]
        for c in callbacks
        if getattr(c, "func", None) is enqueue and c.args[0] is fan_out_event
    ]


def test_nested_changes_recompute_once_and_bump_once(
    staff, make_component, recomputes, django_capture_on_commit_callbacks
):
    gateway, bureau = make_component("gateway"), make_component("bureau")
    version = SiteState.current().version
    with django_capture_on_commit_callbacks() as callbacks:
        with public_change(NOW):
            incident = actions.open_incident(
                title="Gateway errors",
                body="Investigating.",
                components={gateway: "major_outage"},
                actor=staff,
                via="console",
                now=NOW,
            )
            actions.set_component_status(bureau, "degraded_performance", actor=staff, via="api")
            actions.post_incident_update(
                incident, status="identified", body="Found it.", actor=staff, via="console"
            )
    assert len(recomputes) == 1
    assert SiteState.current().version == version + 1
    events = list(Event.objects.order_by("pk").values_list("kind", "pk"))
    assert [kind for kind, _ in events] == [
        "incident_opened",
        "incident_updated",
        "component_status_changed",
        "component_status_changed",
    ]
    # One fan-out task, enqueued on commit, covers every event up to the last one.
    assert enqueued(callbacks) == [events[-1][1]]
    assert ComponentStatusChange.objects.count() == 2


def test_an_inner_change_that_fails_leaves_neither_rows_nor_events(staff, make_component):
    gateway = make_component("gateway")
    with public_change(NOW) as change:
        with pytest.raises(RuntimeError):
            with public_change(NOW):
                actions.open_incident(
                    title="Doomed",
                    body="x",
                    components={gateway: "major_outage"},
                    actor=staff,
                    via="console",
                    now=NOW,
                )
                raise RuntimeError("the caller changed its mind")
        assert change.event_ids == []
    assert not Event.objects.exists()
    gateway.refresh_from_db()
    assert gateway.status == "operational"


def test_a_change_that_moves_nothing_bumps_nothing(make_component, recomputes):
    make_component("gateway")
    version = SiteState.current().version
    with public_change(NOW, changed=False):
        pass
    assert SiteState.current().version == version
    assert len(recomputes) == 1


def test_a_probe_that_opens_an_incident_is_published_in_one_change(
    make_component, recomputes, django_capture_on_commit_callbacks
):
    bureau = make_component("credit-bureau")
    make_component("loans", depends_on=[bureau])
    probe = Probe.objects.create(
        component=bureau,
        name="health",
        kind="http",
        config={"url": "http://127.0.0.1:9/health"},
        vantage_points=["local"],
        failure_threshold=1,
    )
    version = SiteState.current().version
    failed = RunResult(ok=False, failed_condition="[STATUS] == 200", severity="major_outage")

    with django_capture_on_commit_callbacks() as callbacks:
        record_result(probe, "local", failed, now=NOW)

    assert len(recomputes) == 1
    assert SiteState.current().version == version + 1
    kinds = list(Event.objects.order_by("pk").values_list("kind", flat=True))
    assert kinds == ["incident_opened", "component_status_changed", "component_status_changed"]
    assert enqueued(callbacks) == [Event.objects.order_by("pk").last().pk]
