import json

import pytest
from django.test import Client

from statuspage.api.tokens import issue_token


class ApiClient:
    """Django's test client speaking JSON with a bearer token, as automation would."""

    def __init__(self, token: str | None, client: Client | None = None) -> None:
        self.client = client or Client()
        self.token = token

    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def get(self, path: str, params: dict | None = None):
        return self.client.get("/api/v1" + path, params or {}, headers=self.headers())

    def send(self, method: str, path: str, body=None, raw: bytes | str | None = None):
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        send = getattr(self.client, method)
        return send("/api/v1" + path, data, content_type="application/json", headers=self.headers())

    def post(self, path: str, body=None, **kwargs):
        return self.send("post", path, body, **kwargs)

    def patch(self, path: str, body=None, **kwargs):
        return self.send("patch", path, body, **kwargs)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The users here log in with tokens; hashing their passwords slowly only slows the tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def token(staff) -> str:
    return issue_token(staff, name="tests")[1]


@pytest.fixture
def api(token) -> ApiClient:
    return ApiClient(token)


@pytest.fixture
def anonymous(db) -> ApiClient:
    return ApiClient(None)


@pytest.fixture
def components(make_component) -> dict:
    bureau = make_component("credit-bureau", name="Credit bureau")
    gateway = make_component("api-gateway", name="API gateway")
    loans = make_component("loan-application", name="Loan application", depends_on=[bureau])
    return {"bureau": bureau, "gateway": gateway, "loans": loans}


def field_errors(response) -> dict[str | None, str]:
    """The 400 body as {field: message}; fails the test if it is not in the API's error shape."""
    body = response.json()
    assert set(body) == {"errors"}, body
    return {error["field"]: error["message"] for error in body["errors"]}
