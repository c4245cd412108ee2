from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from statuspage.models import Component, ComponentGroup


@pytest.fixture(autouse=True)
def empty_public_cache(settings):
    """Public responses are cached per SiteState.version, which restarts with each test's
    database: every test starts with an empty cache, so none sees another's pages, and reads
    the version on every request, so that a change shows at once."""
    from statuspage.public.caching import clear_public_cache

    clear_public_cache()
    settings.PUBLIC_VERSION_TTL_MS = 0


@pytest.fixture(autouse=True)
def no_stall_watch_from_web(settings):
    """Web requests watch for stalled monitoring (monitors.stall); most tests move the clock
    with no dispatcher running and would see a stall they do not test. The stall tests turn it
    back on."""
    settings.MONITORING_WATCH_SECONDS = 0


@pytest.fixture
def staff(db):
    """An admin: the tests of what staff can do are not about roles (tests/roles/ are)."""
    from statuspage.roles import ADMIN, set_role

    user = get_user_model().objects.create_user(
        "alice", "alice@example.com", "pw-alice-123", is_staff=True
    )
    set_role(user, ADMIN)
    return user


@pytest.fixture
def make_component(db):
    def make(
        slug: str, *, group: ComponentGroup | None = None, depends_on=(), **fields
    ) -> Component:
        component = Component.objects.create(
            name=fields.pop("name", slug.replace("-", " ").title()),
            slug=slug,
            group=group,
            **fields,
        )
        component.depends_on.set(depends_on)
        return component

    return make


def pytest_sessionfinish(session):
    """SQLite leaves the WAL files of the file test database behind when Django deletes it."""
    from django.conf import settings

    name = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    if name and settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        for suffix in ("-wal", "-shm"):
            Path(f"{name}{suffix}").unlink(missing_ok=True)
