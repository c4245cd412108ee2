from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from statuspage import actions
from tests.public.pages import SECRET, get, platform

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


@pytest.fixture
def lending(db):
    with time_machine.travel(NOW, tick=False):
        yield platform()


def schedule(lending, **fields):
    return actions.schedule_maintenance(
        starts_at=NOW + timedelta(hours=1),
        ends_at=NOW + timedelta(hours=3),
        actor=None,
        via="system",
        **{"title": "Disbursement upgrade", "components": [lending.disbursement], **fields},
    )


def test_it_shows_the_window_components_and_description(lending):
    maintenance = schedule(
        lending,
        title_alt="放款系统升级",
        description="Payouts are *queued*.",
        description_alt="放款将*排队*。",
    )
    actions.add_note(body=f"{SECRET} note", actor=None, via="system", maintenance=maintenance)
    html = get(f"/maintenance/{maintenance.pk}")
    assert "Disbursement upgrade" in html and "Disbursement" in html
    assert "Payouts are <em>queued</em>." in html
    assert '<time datetime="2026-11-29T11:00:00+08:00">' in html
    assert '<time datetime="2026-11-29T13:00:00+08:00">' in html
    assert "Scheduled" in html
    assert SECRET not in html
    zh = get(f"/maintenance/{maintenance.pk}", "zh-hans")
    assert "放款系统升级" in zh and "放款将<em>排队</em>。" in zh
    assert "2026年11月29日 11:00" in zh and "已计划" in zh


def test_it_is_404_for_internal_maintenance(client, lending):
    maintenance = schedule(lending, is_public=False, components=[lending.internal])
    assert client.get(f"/maintenance/{maintenance.pk}").status_code == 404
