import pytest
from django.contrib.auth import get_user_model
from django.test import Client


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Hashing a password the production way takes most of a test's time here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff_client(client, staff) -> Client:
    client.force_login(staff)
    return client


@pytest.fixture
def user_client(db) -> Client:
    """A logged-in user who is not staff."""
    user = get_user_model().objects.create_user("bob", "bob@example.com", "pw-bob-123")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def components(make_component):
    """The credit bureau, and the loan application that depends on it."""
    bureau = make_component("credit-bureau", name="Credit bureau")
    loans = make_component("loan-application", name="Loan application", depends_on=[bureau])
    return bureau, loans
