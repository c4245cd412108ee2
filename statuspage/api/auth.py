"""Bearer-token authentication for /api/v1/: never the session, never a CSRF check."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.errors import AuthorizationError
from ninja.security import HttpBearer

from statuspage.api.tokens import find_token, touch_token
from statuspage.roles import ADMINISTER, RESPOND, USE_CONSOLE, role_of


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>` from `manage.py create_api_token`.

    An unknown, revoked or malformed token, or one whose user is inactive, authenticates no one
    (ninja answers 401); a valid token of a user who is not staff with a role is refused with
    403. A token carries its user's role: an operation declared with
    `auth=BearerToken(RESPOND)` refuses, with 403, the tokens of users without that permission.
    """

    def __init__(self, permission: str = USE_CONSOLE) -> None:
        super().__init__()
        self.permission = permission

    def authenticate(self, request: HttpRequest, token: str):
        api_token = find_token(token.strip())
        if api_token is None:
            return None
        user = api_token.user
        if not user.is_staff or not user.has_perm(USE_CONSOLE):
            raise AuthorizationError(message="This token's user is not staff with a role.")
        touch_token(api_token)
        if not user.has_perm(self.permission):
            raise AuthorizationError(
                message=f"This token's user has the role {role_of(user)}; this needs "
                f"{NEEDED_ROLE.get(self.permission, self.permission)}."
            )
        return user


NEEDED_ROLE = {RESPOND: "responder", ADMINISTER: "admin"}

# For the operations that change what the public sees (incidents, maintenance, statuses).
RESPONDER_TOKEN = BearerToken(RESPOND)
