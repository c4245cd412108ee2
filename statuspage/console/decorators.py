"""Access to the staff console (and to the console pages other apps add under /console/)."""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from statuspage.roles import USE_CONSOLE


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous visitors go to the login page; logged-in users who are not staff with a role
    (`statuspage.roles`) get a 403. Console pages are in LANGUAGE_CODE whatever the browser
    asks for."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_staff or not request.user.has_perm(USE_CONSOLE):
            raise PermissionDenied
        # The console is written in the first language only: a browser asking for Chinese
        # would otherwise get translated status labels inside English pages.
        with translation.override(settings.LANGUAGE_CODE):
            return view(request, *args, **kwargs)

    return wrapper


def requires(
    permission: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """A 403 unless the user has `permission` (`statuspage.roles.RESPOND`, `ADMINISTER`).
    Goes under `@staff_required`, which has already sent anonymous visitors to log in."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.has_perm(permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
