import pytest

from statuspage.public.caching import clear_public_cache


@pytest.fixture(autouse=True)
def fresh_public_cache():
    """Public responses are cached by site version, which restarts with every test database:
    a page cached by one test must not answer in the next."""
    clear_public_cache()
    yield
    clear_public_cache()
