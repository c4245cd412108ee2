import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def fresh_public_cache():
    """Public responses are cached by site version, which restarts with every test database:
    a page cached by one test must not answer in the next."""
    cache.clear()
    yield
    cache.clear()
