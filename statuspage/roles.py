"""Staff roles: three Django groups and the permissions each grants.

- `viewer` (customer service) reads everything internal, adds internal notes and uses the lookup;
- `responder` also opens and updates incidents, maintenance and component statuses;
- `admin` also changes probes, tokens, subscribers, webhooks, channels and users.

Views and the token API check permissions (`USE_CONSOLE`, `RESPOND`, `ADMINISTER`), so a role is
only ever a name for a set of them: every staff page, the console's and those other apps add
under /console/, goes under `@staff_required`, and a change under `@requires(RESPOND)` (or
`ADMINISTER`) too. In the admin site, viewers and responders may look, admins may change.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils import translation

USE_CONSOLE = "statuspage.use_console"
RESPOND = "statuspage.respond"
ADMINISTER = "statuspage.administer"

VIEWER, RESPONDER, ADMIN = "viewer", "responder", "admin"
ROLES = (VIEWER, RESPONDER, ADMIN)

ROLE_PERMISSIONS = {
    VIEWER: (USE_CONSOLE,),
    RESPONDER: (USE_CONSOLE, RESPOND),
    ADMIN: (USE_CONSOLE, RESPOND, ADMINISTER),
}

# The apps whose models the admin site shows: every role may view them, admins may change them.
MODEL_APPS = ("statuspage", "subscriptions", "monitors")
ADMIN_ONLY_APPS = ("auth",)


def role_of(user: AbstractBaseUser | None) -> str | None:
    """The user's role (the highest one if several groups were given by hand), or None.
    A superuser is an admin."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return ADMIN
    names = set(user.groups.values_list("name", flat=True))
    for role in reversed(ROLES):
        if role in names:
            return role
    return None


def set_role(user, role: str) -> None:
    """Make `user` a member of exactly one role's group, and staff (the admin site and the
    console need `is_staff`)."""
    from django.contrib.auth.models import Group

    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}: one of {', '.join(ROLES)}.")
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    others = Group.objects.filter(name__in=[name for name in ROLES if name != role])
    user.groups.remove(*others)
    user.groups.add(Group.objects.get(name=role))


def role_codenames(role: str, permissions) -> list:
    """The Permission rows (from the `permissions` queryset) that `role` grants."""
    wanted = [name.split(".", 1) for name in ROLE_PERMISSIONS[role]]
    rows = []
    for permission in permissions.select_related("content_type"):
        app, codename = permission.content_type.app_label, permission.codename
        if [app, codename] in wanted:
            rows.append(permission)
        elif app in MODEL_APPS and codename.startswith("view_"):
            rows.append(permission)
        elif role == ADMIN and (app in MODEL_APPS or app in ADMIN_ONLY_APPS):
            rows.append(permission)
    return rows


def sync_role_groups(apps) -> None:
    """Create the three groups and give each exactly its permissions. Run by the data migration
    and after every `migrate`, so that the models added later are covered too."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        # Historical app configs have no models module; create_permissions skips those.
        had_module = getattr(app_config, "models_module", None)
        app_config.models_module = had_module or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = had_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(role_codenames(role, Permission.objects.all()))


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
