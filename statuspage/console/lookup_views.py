"""The customer-service lookup (/console/lookup/): what happened to a journey or a component at a
moment or during a range, and a reply to send the borrower. A GET form: it changes nothing, and
its address can be passed to a colleague."""

from __future__ import annotations

import zoneinfo

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language_info
from django.views.decorators.http import require_GET

from statuspage import lookup
from statuspage.models import Component, Journey
from statuspage.roles import staff_required


def zone_or_none(name: str) -> zoneinfo.ZoneInfo | None:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        return None


class LookupForm(forms.Form):
    about = forms.ChoiceField(label="Journey or component")
    at = forms.DateTimeField(
        label="When (or from)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    until = forms.DateTimeField(
        required=False,
        label="Until (for a range)",
        help_text=f"Empty: ±{lookup.MOMENT_MARGIN.seconds // 60} min around “when”.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    # A text field, not a select of the 600 zones: rendering those would cost most of the
    # lookup's 100 ms.
    tz = forms.CharField(
        label="Time zone",
        max_length=60,
        help_text="e.g. Asia/Shanghai, UTC",
    )
    # Each language in its own words ("简体中文"): shorter, and what the borrower wrote in.
    language = forms.ChoiceField(
        label="Borrower's language",
        choices=[(code, get_language_info(code)["name_local"]) for code, _ in settings.LANGUAGES],
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        journeys = [(f"journey:{j.slug}", j.name) for j in Journey.objects.all()]
        components = [(f"component:{c.slug}", c.name) for c in Component.objects.all()]
        self.fields["about"].choices = [("Journeys", journeys), ("Components", components)]

    def clean_tz(self) -> str:
        name = self.cleaned_data["tz"].strip()
        if zone_or_none(name) is None:
            raise forms.ValidationError("Not a time zone name (such as Asia/Shanghai or UTC).")
        return name

    def clean(self):
        data = super().clean()
        at, until = data.get("at"), data.get("until")
        if at and until:
            if until <= at:
                self.add_error("until", "Until must be after the start.")
            elif until - at > lookup.MAX_RANGE:
                self.add_error("until", f"At most {lookup.MAX_RANGE.days} days at a time.")
        return data

    def subject(self) -> tuple[list[Component], str, str]:
        """The components asked about, with the name and second-language name to reply with."""
        kind, slug = self.cleaned_data["about"].split(":", 1)
        if kind == "journey":
            journey = Journey.objects.get(slug=slug)
            return list(journey.components.all()), journey.name, journey.name_alt
        component = Component.objects.get(slug=slug)
        return [component], component.name, component.name_alt


def chosen_zone(request: HttpRequest) -> zoneinfo.ZoneInfo:
    """The zone the times typed are in: the one asked for, else the one used last time, else
    the site's. A bad name is reported by the form; the site's zone stands in meanwhile."""
    name = request.GET.get("tz") or request.session.get("lookup_tz") or settings.TIME_ZONE
    return zone_or_none(name) or zoneinfo.ZoneInfo(settings.TIME_ZONE)


@staff_required
@require_GET
def lookup_view(request: HttpRequest) -> HttpResponse:
    zone = chosen_zone(request)
    context: dict = {}
    # The times typed are read, and shown, in the staff member's zone.
    with timezone.override(zone):
        form = LookupForm(
            request.GET or None, initial={"tz": zone.key, "language": settings.LANGUAGE_CODE}
        )
        if form.is_bound and form.is_valid():
            request.session["lookup_tz"] = zone.key
            now = timezone.now()
            at, until = form.cleaned_data["at"], form.cleaned_data["until"]
            start, end = (at, until) if until else lookup.window_around(at)
            components, name, name_alt = form.subject()
            findings = lookup.gather(components, start, end, now)
            answer = lookup.verdict(findings)
            context.update(
                findings=findings,
                answer=answer,
                subject=name,
                moment=None if until else at,
                reply=lookup.borrower_reply(
                    findings, answer, (name, name_alt), form.cleaned_data["language"], zone
                ),
            )
        context["form"] = form
        status = 400 if form.is_bound and not form.is_valid() else 200
        return render(request, "console/lookup.html", context, status=status)
