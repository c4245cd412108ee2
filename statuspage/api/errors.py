"""Every error of /api/v1/ as JSON: `{"errors": [{"field": ..., "message": ...}]}`.

`field` names the request field at fault (dotted for nested ones, e.g. `components.dns`), or is
null when the error is about the request as a whole (authentication, a missing object, a body
that is not JSON).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from ninja import NinjaAPI, Schema
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError


class FieldError(Schema):
    field: str | None
    message: str


class ErrorOut(Schema):
    errors: list[FieldError]


ERROR_RESPONSES = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


def field_from_location(location: tuple | list) -> str | None:
    """Turn ninja's error location, e.g. ("body", "payload", "components", "dns"), into the
    request field it is about: "components.dns". The first items name the source (and, for a
    body, the view's parameter), which the client never sees."""
    parts = list(location)
    if parts and parts[0] == "body":
        parts = parts[2:]
    elif parts:
        parts = parts[1:]
    return ".".join(str(part) for part in parts) or None


def error_response(api: NinjaAPI, request: HttpRequest, status: int, errors: list[dict]):
    return api.create_response(request, {"errors": errors}, status=status)


def django_errors(exc: DjangoValidationError) -> list[dict]:
    if hasattr(exc, "error_dict"):
        return [
            {"field": None if field == NON_FIELD_ERRORS else field, "message": message}
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    return [{"field": None, "message": message} for message in exc.messages]


@contextmanager
def renamed_fields(names: Mapping[str, str]) -> Iterator[None]:
    """Re-raise the service layer's ValidationError under the API's field names (the actions
    speak of `title` and `ends_at` where the API, like Statuspage, says `name` and
    `scheduled_until`)."""
    try:
        yield
    except DjangoValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        raise DjangoValidationError(
            {names.get(field, field): messages for field, messages in exc.message_dict.items()}
        ) from exc


def sent_fields(request: HttpRequest) -> set[str]:
    """The query parameters and top-level body fields of a request."""
    names = set(request.GET)
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, RawPostDataException):
        body = None
    if isinstance(body, dict):
        names |= set(body)
    return names


def install_error_handlers(api: NinjaAPI) -> None:
    """Answer 400 (not ninja's 422) for request validation, and JSON for every other error."""

    @api.exception_handler(NinjaValidationError)
    def request_invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = [
            {"field": field_from_location(error.get("loc", ())), "message": error["msg"]}
            for error in exc.errors
        ]
        return error_response(api, request, 400, errors)

    @api.exception_handler(DjangoValidationError)
    def action_refused(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        errors = django_errors(exc)
        # A refusal keyed on something the client did not send (`status` when starting a
        # completed maintenance) is about the object's state: it names no request field.
        sent = sent_fields(request)
        for error in errors:
            if error["field"] and error["field"].split(".")[0] not in sent:
                error["field"] = None
        return error_response(api, request, 400, errors)

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        message = str(exc)
        if exc.status_code == 401:
            message = "A valid token is required: Authorization: Bearer <token>."
        return error_response(api, request, exc.status_code, [{"field": None, "message": message}])

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        message = str(exc) or "Not found."
        return error_response(api, request, 404, [{"field": None, "message": message}])
