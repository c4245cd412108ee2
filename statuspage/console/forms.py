"""The console's forms. They only parse and check what staff typed; every change is made by
`statuspage.actions`, whose ValidationErrors are put back on the form by `add_action_errors`.

A little over 400 lines: each form is short and they share `ConsoleForm` and the
component-status fields; split them by concern (incidents, maintenance) when more are added.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from statuspage import actions
from statuspage.models import (
    OPEN_INCIDENT_STATUSES,
    AuditEntry,
    Component,
    ComponentStatus,
    Impact,
    IncidentStatus,
    MaintenanceStatus,
)
from statuspage.text import clean_line, clean_text
from statuspage.times import day_bounds

NOT_AFFECTED = ""
COMPONENT_FIELD_PREFIX = "component_"

# Where an action's error key has no field of the same name on the form.
ERROR_FIELD_ALIASES = {"postmortem": "body", "duration": "duration_minutes"}


def add_action_errors(form: forms.Form, error: ValidationError) -> None:
    """Show an action's ValidationError on the form: on the field it names when the form has
    one, otherwise at the top, so that no message is lost."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages in error.message_dict.items():
        if field not in form.fields:
            field = ERROR_FIELD_ALIASES.get(field, field)
        if field in form.fields:
            form.add_error(field, messages)
        else:
            form.add_error(None, messages)


class PlainTextField(forms.CharField):
    """Text typed by staff, stored without control characters (statuspage.text): a text area
    keeps its tabs and line breaks, a one-line input turns them into spaces."""

    def to_python(self, value):
        value = super().to_python(value)
        if "\x00" in value:
            return value  # refused by CharField's own validator, with its message
        return clean_text(value) if isinstance(self.widget, forms.Textarea) else clean_line(value)


class DateTimeLocalInput(forms.DateTimeInput):
    """The browser's own date-time picker; values are in the site's time zone."""

    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class ConsoleForm(forms.Form):
    """Base form: knows which of its fields are per-component status selects. Several forms
    share a page (update, resolve, note), so each gets its own element ids."""

    id_prefix = "form"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"id_{self.id_prefix}_%s")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def component_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith(COMPONENT_FIELD_PREFIX)]


class ComponentStatusesMixin:
    """One select per component: not affected, or the status the incident puts it in."""

    def add_component_fields(self, initial: dict[int, str]) -> None:
        self.components_by_field: dict[str, Component] = {}
        choices = [(NOT_AFFECTED, "Not affected"), *ComponentStatus.choices]
        for component in Component.objects.select_related("group"):
            name = f"{COMPONENT_FIELD_PREFIX}{component.pk}"
            self.fields[name] = forms.ChoiceField(
                label=component.name,
                choices=choices,
                required=False,
                initial=initial.get(component.pk, NOT_AFFECTED),
            )
            self.fields[name].group_name = component.group.name if component.group else ""
            self.fields[name].current_status = component.get_status_display()
            self.components_by_field[name] = component

    def component_statuses(self) -> dict[Component, str]:
        """The affected components (component -> status) from the cleaned data."""
        return {
            component: self.cleaned_data[name]
            for name, component in self.components_by_field.items()
            if self.cleaned_data.get(name)
        }

    def components_submitted(self) -> bool:
        """Whether the request carried the component selects at all: a form posted without
        them (a script, an old page) leaves the affected components alone."""
        return any(name in self.data for name in self.components_by_field)


class ComponentStatusForm(ConsoleForm):
    id_prefix = "component_status"

    # "Operational" by hand means nothing is declared by hand: incidents and probes still
    # decide. Saying "Operational" beside a component in outage would read as a contradiction.
    status = forms.ChoiceField(
        choices=[
            (value, "Not set (operational)" if value == ComponentStatus.OPERATIONAL else label)
            for value, label in ComponentStatus.choices
        ]
    )


class IncidentOpenForm(ComponentStatusesMixin, ConsoleForm):
    id_prefix = "incident"

    title = PlainTextField(max_length=200)
    title_alt = PlainTextField(max_length=200, required=False, label="Title (second language)")
    impact = forms.ChoiceField(choices=Impact.choices, initial=Impact.MINOR)
    status = forms.ChoiceField(
        choices=[(s.value, s.label) for s in OPEN_INCIDENT_STATUSES],
        initial=IncidentStatus.INVESTIGATING,
    )
    body = PlainTextField(widget=forms.Textarea(attrs={"rows": 5}), label="First message")
    body_alt = PlainTextField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label="First message (second language)",
    )
    notify = forms.BooleanField(required=False, initial=True, label="Notify subscribers")
    is_public = forms.BooleanField(
        required=False, initial=True, label="Public (untick for an internal-only incident)"
    )

    def __init__(self, *args, component_initial: dict[int, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_component_fields(component_initial or {})


class IncidentUpdateForm(ComponentStatusesMixin, ConsoleForm):
    id_prefix = "update"

    status = forms.ChoiceField(
        choices=[(s.value, s.label) for s in IncidentStatus if s != IncidentStatus.POSTMORTEM]
    )
    impact = forms.ChoiceField(choices=Impact.choices)
    body = PlainTextField(widget=forms.Textarea(attrs={"rows": 5}), label="Message")
    body_alt = PlainTextField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Message (second language)"
    )
    notify = forms.BooleanField(required=False, initial=True, label="Notify subscribers")

    def __init__(self, *args, incident, **kwargs):
        kwargs.setdefault("initial", {"status": incident.status, "impact": incident.impact})
        super().__init__(*args, **kwargs)
        self.current_components = {
            link.component_id: link.status for link in incident.affected.all()
        }
        self.add_component_fields(self.current_components)

    def changed_component_statuses(self) -> dict[Component, str] | None:
        """The new affected components, or None when staff left them as they were."""
        if not self.components_submitted():
            return None
        statuses = self.component_statuses()
        if {c.pk: s for c, s in statuses.items()} == self.current_components:
            return None
        return statuses


class IncidentEditForm(ComponentStatusesMixin, ConsoleForm):
    id_prefix = "incident"

    title = PlainTextField(max_length=200)
    title_alt = PlainTextField(max_length=200, required=False, label="Title (second language)")
    impact = forms.ChoiceField(choices=Impact.choices)
    is_public = forms.BooleanField(required=False, label="Public")

    def __init__(self, *args, incident, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "title": incident.title,
                "title_alt": incident.title_alt,
                "impact": incident.impact,
                "is_public": incident.is_public,
            },
        )
        super().__init__(*args, **kwargs)
        self.add_component_fields(
            {link.component_id: link.status for link in incident.affected.all()}
        )

    def changed_component_statuses(self) -> dict[Component, str] | None:
        """The affected components to save, or None to leave them as they are."""
        return self.component_statuses() if self.components_submitted() else None


class IncidentTemplateForm(ConsoleForm):
    """A ready-made first message for incidents that recur (a bureau outage, a bank's batch
    delay), in both languages."""

    id_prefix = "template"

    name = PlainTextField(max_length=100, help_text="What staff pick it by.")
    title = PlainTextField(max_length=200)
    title_alt = PlainTextField(max_length=200, required=False, label="Title (second language)")
    body = PlainTextField(widget=forms.Textarea(attrs={"rows": 4}), label="First message")
    body_alt = PlainTextField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label="First message (second language)",
    )
    impact = forms.ChoiceField(choices=Impact.choices, initial=Impact.MINOR)
    component_status = forms.ChoiceField(
        choices=[c for c in ComponentStatus.choices if c[0] != ComponentStatus.OPERATIONAL],
        initial=ComponentStatus.PARTIAL_OUTAGE,
        label="Put its components in",
    )
    components = forms.ModelMultipleChoiceField(
        queryset=Component.objects.select_related("group").order_by(
            "group__position", "position", "name"
        ),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, template=None, **kwargs):
        if template is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": template.name,
                    "title": template.title,
                    "title_alt": template.title_alt,
                    "body": template.body,
                    "body_alt": template.body_alt,
                    "impact": template.impact,
                    "component_status": template.component_status,
                    "components": list(template.components.all()),
                },
            )
        self.template = template
        super().__init__(*args, **kwargs)

    def clean_name(self) -> str:
        from statuspage.models import IncidentTemplate

        name = self.cleaned_data["name"].strip()
        others = IncidentTemplate.objects.filter(name__iexact=name)
        if self.template is not None:
            others = others.exclude(pk=self.template.pk)
        if others.exists():
            raise ValidationError("Another template has this name.")
        return name


class ResolveForm(ConsoleForm):
    id_prefix = "resolve"

    body = PlainTextField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Message",
        initial="This incident has been resolved.",
    )
    body_alt = PlainTextField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Message (second language)",
        initial="此事件已解决。",
    )
    notify = forms.BooleanField(required=False, initial=True, label="Notify subscribers")


class PostmortemForm(ConsoleForm):
    id_prefix = "postmortem"

    body = PlainTextField(widget=forms.Textarea(attrs={"rows": 10}), label="Postmortem (Markdown)")
    body_alt = PlainTextField(
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        label="Postmortem in the second language (Markdown)",
    )
    publish = forms.BooleanField(
        required=False, initial=True, label="Publish (moves the incident to postmortem)"
    )


class NoteForm(ConsoleForm):
    id_prefix = "note"

    body = PlainTextField(
        widget=forms.Textarea(attrs={"rows": 3}), label="Internal note (never public)"
    )


class MaintenanceForm(ConsoleForm):
    id_prefix = "maintenance"

    title = PlainTextField(max_length=200)
    title_alt = PlainTextField(max_length=200, required=False, label="Title (second language)")
    description = PlainTextField(
        widget=forms.Textarea(attrs={"rows": 5}), required=False, label="Description (Markdown)"
    )
    description_alt = PlainTextField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label="Description (second language)",
    )
    starts_at = forms.DateTimeField(widget=DateTimeLocalInput(), label="Starts")
    ends_at = forms.DateTimeField(widget=DateTimeLocalInput(), label="Ends")
    components = forms.ModelMultipleChoiceField(
        queryset=Component.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Affected components",
    )
    auto_start = forms.BooleanField(
        required=False, initial=True, label="Start automatically when the window opens"
    )
    auto_complete = forms.BooleanField(
        required=False, initial=True, label="Complete automatically when the window closes"
    )
    is_public = forms.BooleanField(required=False, initial=True, label="Public")
    notify = forms.BooleanField(required=False, initial=True, label="Notify subscribers")
    recurrence = forms.CharField(
        max_length=500,
        required=False,
        label="Repeats (optional)",
        help_text="An RFC 5545 rule, e.g. FREQ=WEEKLY;BYDAY=SU;COUNT=12 for twelve Sundays. "
        "Each occurrence becomes a window of its own; subscribers hear about the series once.",
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        tz = timezone.get_current_timezone_name()
        self.fields["starts_at"].help_text = f"Time zone: {tz}"
        self.fields["ends_at"].help_text = f"Time zone: {tz}"
        if editing:
            del self.fields["notify"]  # an edit is announced quietly by edit_maintenance
            del self.fields["recurrence"]  # one occurrence is edited alone

    def clean(self):
        cleaned = super().clean()
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts_at and ends_at:
            actions.check_window(starts_at, ends_at)  # the action's rule and message
        return cleaned


class MaintenanceSeriesForm(ConsoleForm):
    """The whole series of a recurring maintenance, as `recurrence.edit_series` takes it."""

    id_prefix = "series"

    title = PlainTextField(max_length=200)
    title_alt = PlainTextField(max_length=200, required=False, label="Title (second language)")
    description = PlainTextField(
        widget=forms.Textarea(attrs={"rows": 5}), required=False, label="Description (Markdown)"
    )
    description_alt = PlainTextField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label="Description (second language)",
    )
    duration_minutes = forms.IntegerField(
        min_value=1, max_value=7 * 24 * 60, label="Each window lasts (minutes)"
    )
    recurrence = forms.CharField(
        max_length=500,
        label="Repeats",
        help_text="An RFC 5545 rule, counted from the series' first window, "
        "e.g. FREQ=WEEKLY;BYDAY=SU or FREQ=MONTHLY;BYDAY=1SA;COUNT=6.",
    )
    components = forms.ModelMultipleChoiceField(
        queryset=Component.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Affected components",
    )
    auto_start = forms.BooleanField(
        required=False, label="Start automatically when the window opens"
    )
    auto_complete = forms.BooleanField(
        required=False, label="Complete automatically when the window closes"
    )
    is_public = forms.BooleanField(required=False, label="Public")


MAINTENANCE_STATUS_CHOICES = [
    (s.value, s.label) for s in MaintenanceStatus if s != MaintenanceStatus.SCHEDULED
]


class MaintenanceStatusForm(ConsoleForm):
    id_prefix = "maintenance_status"

    status = forms.ChoiceField(choices=MAINTENANCE_STATUS_CHOICES)
    body = PlainTextField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Message (optional)"
    )
    notify = forms.BooleanField(required=False, initial=True, label="Notify subscribers")


class AuditFilterForm(forms.Form):
    actor = PlainTextField(required=False, label="Who (username)")
    via = forms.ChoiceField(
        choices=[("", "Any"), *AuditEntry.Via.choices], required=False, label="Via"
    )
    object_type = forms.ChoiceField(choices=[("", "Any")], required=False, label="Object type")
    object = PlainTextField(
        required=False,
        label="Object",
        widget=forms.TextInput(attrs={"placeholder": "a name, or #id"}),
    )
    action = PlainTextField(
        required=False,
        label="Kind",
        widget=forms.TextInput(attrs={"placeholder": "e.g. user.role, or user."}),
    )
    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, object_types: list[str], **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["object_type"].choices = [("", "Any"), *((t, t) for t in object_types)]

    def filter(self, entries):
        """Narrow an AuditEntry queryset to what the filters ask for (dates are local days)."""
        data = self.cleaned_data
        if data.get("actor"):
            entries = entries.filter(actor_name__iexact=data["actor"].strip())
        if data.get("via"):
            entries = entries.filter(via=data["via"])
        if data.get("object_type"):
            entries = entries.filter(object_type=data["object_type"])
        wanted = (data.get("object") or "").strip()
        if wanted.startswith("#"):
            entries = entries.filter(object_id=wanted[1:].strip())
        elif wanted:
            entries = entries.filter(Q(object_repr__icontains=wanted) | Q(object_id__iexact=wanted))
        if data.get("action"):
            action = data["action"].strip()
            # "incident." (or "incident") selects every incident action; a full name, just it.
            if action.endswith(".") or "." not in action:
                entries = entries.filter(action__startswith=action)
            else:
                entries = entries.filter(action=action)
        if data.get("since"):
            entries = entries.filter(at__gte=day_bounds(data["since"])[0])
        if data.get("until"):
            entries = entries.filter(at__lt=day_bounds(data["until"])[1])
        return entries
