"""The availability report (/console/reports/): HTML that prints well, or CSV, in either
language. The token API serves the same figures as JSON (statuspage.api.reports)."""

from __future__ import annotations

import csv
from datetime import date, timedelta

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import get_language_info
from django.views.decorators.http import require_GET

from statuspage import reports
from statuspage.context_processors import site_name
from statuspage.languages import uses_second_language
from statuspage.models import ComponentStatus
from statuspage.roles import staff_required
from statuspage.text import spreadsheet_cell

DATE = forms.DateInput(attrs={"type": "date"})


class ReportForm(forms.Form):
    """`from` and `to`, as in the API's query; `from` is a keyword, hence the fields made here."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["from"] = forms.DateField(label="From", widget=DATE)
        self.fields["to"] = forms.DateField(label="To", widget=DATE)
        # Each language in its own words ("简体中文"), as the reader of the report knows it.
        codes = [code for code, _name in settings.LANGUAGES]
        languages = [(code, get_language_info(code)["name_local"]) for code in codes]
        self.fields["lang"] = forms.ChoiceField(label="Language", choices=languages)

    def clean(self):
        data = super().clean()
        error = reports.range_error(data.get("from"), data.get("to"), timezone.localdate())
        if error:
            self.add_error(*error)
        return data


def last_month() -> tuple[date, date]:
    first_of_this = timezone.localdate().replace(day=1)
    last = first_of_this - timedelta(days=1)
    return last.replace(day=1), last


def status_labels() -> list[tuple[str, str]]:
    """Status values and their labels in the active language, in the report's order."""
    return [(value, str(ComponentStatus(value).label)) for value in reports.STATUSES]


def csv_response(rows: list[reports.ComponentReport], start: date, end: date) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="availability-{start}-{end}.csv"'
    # A byte-order mark, so that spreadsheet programs read the Chinese names as UTF-8.
    response.write("\ufeff")
    writer = csv.writer(response)
    labels = status_labels()
    writer.writerow(
        [
            translation.gettext("Component"),
            translation.gettext("Uptime, maintenance excluded (%)"),
            translation.gettext("Uptime, maintenance included (%)"),
            *(
                translation.gettext("%(status)s (minutes)") % {"status": label}
                for _v, label in labels
            ),
            translation.gettext("Incidents"),
            translation.gettext("Time to recovery, mean (minutes)"),
        ]
    )
    for row in rows:
        writer.writerow(
            [
                spreadsheet_cell(row.name),
                reports.rounded(row.uptime_excluding_maintenance),
                reports.rounded(row.uptime_including_maintenance),
                *(row.minutes[value] for value, _label in labels),
                len(row.incidents),
                row.time_to_recovery_minutes if row.time_to_recovery_minutes is not None else "",
            ]
        )
    return response


@staff_required
@require_GET
def report_view(request: HttpRequest) -> HttpResponse:
    first, last = last_month()
    data = request.GET if "from" in request.GET else None
    form = ReportForm(data, initial={"from": first, "to": last, "lang": settings.LANGUAGE_CODE})
    if form.is_bound and not form.is_valid():
        return render(request, "console/report.html", {"form": form}, status=400)
    if form.is_bound:
        first, last = form.cleaned_data["from"], form.cleaned_data["to"]
        language = form.cleaned_data["lang"]
    else:
        language = settings.LANGUAGE_CODE
    now = timezone.now()
    with translation.override(language):
        rows = reports.availability(first, last, now, uses_second_language(language))
        if request.GET.get("format") == "csv":
            return csv_response(rows, first, last)
        report_context = {
            "rows": rows,
            "first": first,
            "last": last,
            "now": now,
            "language": language,
            "labels": status_labels(),
            "any_incidents": any(row.incidents for row in rows),
            "SITE_NAME": site_name(language),
        }
        # Only the report is in the language asked for; the console around it stays in the
        # console's language.
        report = render_to_string("console/_report.html", report_context, request)
    context = {
        "form": form,
        "report": report,
        "csv_query": f"from={first}&to={last}&lang={language}&format=csv",
    }
    return render(request, "console/report.html", context)
