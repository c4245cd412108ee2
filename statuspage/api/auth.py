"""Bearer-token authentication for /api/v1/: never the session, never a CSRF check."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.errors import AuthorizationError
from ninja.security import HttpBearer

from statuspage.api.tokens import find_token, touch_token


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>` from `manage.py create_api_token`.

    An unknown, revoked or malformed token, or one whose user is inactive, authenticates no one
    (ninja answers 401); a valid token of a user who is not staff is refused with 403.
    """

    def authenticate(self, request: HttpRequest, token: str):
        api_token = find_token(token.strip())
        if api_token is None:
            return None
        if not api_token.user.is_staff:
            raise AuthorizationError(message="This token's user is not staff.")
        touch_token(api_token)
        return api_token.user
