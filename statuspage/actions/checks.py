"""The rules actions check before writing anything, raising `ValidationError` keyed by field
name; the console's forms call the same checks so that a rule and its message live here once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.core.exceptions import ValidationError

from statuspage.models import Component, ComponentStatus


def check_title(title: str) -> None:
    if not title.strip():
        raise ValidationError({"title": "A title is required."})


def check_choice(field: str, value: str, choices) -> None:
    if value not in choices.values:
        raise ValidationError({field: f"{value!r} is not one of: {', '.join(choices.values)}"})


def check_component_statuses(component_statuses: Mapping[Component, str]) -> None:
    for component, status in component_statuses.items():
        if status not in ComponentStatus.values:
            choices = ", ".join(ComponentStatus.values)
            message = f"{component.slug}: {status!r} is not one of {choices}"
            raise ValidationError({"components": message})


def check_window(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": "The window must end after it starts."})
