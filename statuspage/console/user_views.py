"""Staff users and their roles (admins only): who has which role, whether they sign in with a
second factor, when they last did; changing a role, removing a lost second factor and adding
a user. Each change is audited (via console), as `manage.py set_role` and
`create_staff_user` audit theirs."""

from __future__ import annotations

import secrets

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from statuspage.audit import audit
from statuspage.console.forms import PlainTextField
from statuspage.models import AuditEntry
from statuspage.roles import (
    ADMIN,
    ADMINISTER,
    RESPONDER,
    ROLES,
    requires,
    role_of,
    set_role,
    staff_required,
)

Via = AuditEntry.Via
ROLE_CHOICES = [(role, role.capitalize()) for role in ROLES]


def staff_users():
    """Everyone who is staff or holds a role, with what the list shows, in one query."""
    User = get_user_model()
    return (
        User.objects.filter(Q(is_staff=True) | Q(groups__name__in=ROLES) | Q(is_superuser=True))
        .distinct()
        .annotate(
            has_app=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
            codes_left=Count(
                "staticdevice__token_set", filter=Q(staticdevice__confirmed=True), distinct=True
            ),
        )
        .prefetch_related("groups")
        .order_by("username")
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES, label="Role")


class NewUserForm(forms.Form):
    username = PlainTextField(max_length=150, label="Username")
    email = forms.EmailField(required=False, label="Email (optional)")
    role = forms.ChoiceField(choices=ROLE_CHOICES, label="Role", initial=ROLES[0])

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_username(self) -> str:
        User = get_user_model()
        username = self.cleaned_data["username"].strip()
        User.username_validator(username)
        if User.objects.filter(**{f"{User.USERNAME_FIELD}__iexact": username}).exists():
            raise forms.ValidationError("A user with this name exists; change their role below.")
        return username


def role_in_groups(user) -> str | None:
    """The role from the prefetched groups (role_of would query again for each user)."""
    names = {group.name for group in user.groups.all()}
    return next((role for role in reversed(ROLES) if role in names), None)


def listing(request: HttpRequest, new_user_form: NewUserForm, status: int = 200) -> HttpResponse:
    users = list(staff_users())
    for user in users:
        user.role = role_in_groups(user)
        user.second_factor_required = settings.STAFF_2FA_REQUIRED and (
            user.is_superuser or user.role in (RESPONDER, ADMIN)
        )
    context = {"users": users, "roles": ROLE_CHOICES, "form": new_user_form}
    return render(request, "console/users.html", context, status=status)


@staff_required
@requires(ADMINISTER)
@require_GET
def user_list(request: HttpRequest) -> HttpResponse:
    return listing(request, NewUserForm())


@staff_required
@requires(ADMINISTER)
@require_POST
def user_role(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(get_user_model(), pk=pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a role: viewer, responder or admin.")
        return redirect("console:user_list")
    if user == request.user:
        # The last admin demoting themselves would leave nobody to undo it.
        messages.error(request, "You cannot change your own role: ask another admin.")
        return redirect("console:user_list")
    role, before = form.cleaned_data["role"], role_of(user)
    if role != before or not user.is_staff:
        with transaction.atomic():
            set_role(user, role)
            audit(request.user, Via.CONSOLE, "user.role", user, {"role": before}, {"role": role})
        messages.success(request, f"{user.get_username()} is now {role}.")
    if user.is_superuser and role != ADMIN:
        messages.warning(
            request,
            f"{user.get_username()} is a superuser, with every permission whatever the role. "
            "Clear “superuser” in the admin to make the role count.",
        )
    return redirect("console:user_list")


@staff_required
@requires(ADMINISTER)
@require_POST
def user_second_factor_reset(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove a user's authenticator app and recovery codes (a lost phone): they enrol again
    at their next sign-in if their role needs it."""
    user = get_object_or_404(get_user_model(), pk=pk)
    with transaction.atomic():
        apps = TOTPDevice.objects.filter(user=user)
        had = {"authenticator_app": apps.filter(confirmed=True).exists()}
        had["recovery_codes"] = StaticToken.objects.filter(device__user=user).count()
        if had["authenticator_app"] or had["recovery_codes"]:
            apps.delete()
            StaticDevice.objects.filter(user=user).delete()
            after = {"authenticator_app": False, "recovery_codes": 0}
            audit(request.user, Via.CONSOLE, "user.second_factor_off", user, had, after)
            messages.success(
                request,
                f"Two-factor sign-in removed for {user.get_username()}: they set it up again at "
                "their next sign-in.",
            )
    return redirect("console:user_list")


@staff_required
@requires(ADMINISTER)
@require_POST
def user_create(request: HttpRequest) -> HttpResponse:
    """Add a staff user with a generated password, shown once on the answer page (never put in
    a message or a URL, which could be stored)."""
    form = NewUserForm(request.POST)
    if not form.is_valid():
        return listing(request, form, status=400)
    username, email, role = (form.cleaned_data[name] for name in ("username", "email", "role"))
    password = secrets.token_urlsafe(15)
    with transaction.atomic():
        user = get_user_model().objects.create_user(username, email, password, is_staff=True)
        set_role(user, role)
        audit(request.user, Via.CONSOLE, "user.create", user, after={"role": role})
    context = {"new_user": user, "password": password, "role": role}
    response = render(request, "console/user_created.html", context)
    response["Cache-Control"] = "no-store"
    return response
