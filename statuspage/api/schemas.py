"""What /api/v1/ accepts and returns. Field names follow Statuspage where it has one (`name`,
`impact`, `scheduled_for`, `incident_updates`, `deliver_notifications`); ids are strings.

Request bodies forbid unknown fields, so that a typo is a 400 naming it rather than a silently
ignored change.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
)

from statuspage.models import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus, Origin
from statuspage.text import clean_line, clean_text


def _representable_in_utc(value: datetime) -> datetime:
    # Stored in UTC: a time near year 1 or 9999 would overflow there and fail in the database.
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("The time is out of range.") from None


Moment = Annotated[AwareDatetime, AfterValidator(_representable_in_utc)]
# One line: tabs and line breaks in a title become spaces (control characters are dropped from
# every string by RequestBody).
Line = BeforeValidator(clean_line)
Title = Annotated[str, Line, Field(min_length=1, max_length=200)]
AltTitle = Annotated[str, Line, Field(max_length=200)]
Message = Annotated[str, Field(min_length=1)]
ComponentRef = Annotated[str, Field(min_length=1, max_length=100)]
# JSON true or false only: 0, 1, "yes" or "true" are refused (400 naming the field), as the
# OpenAPI schema's plain `boolean` says.
Flag = StrictBool

OpenIncidentStatus = Literal["investigating", "identified", "monitoring"]
ComponentStatuses = Annotated[
    dict[ComponentRef, ComponentStatus],
    Field(
        description="Affected components, by slug or id, and the status the incident puts each in."
    ),
]


def contains_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(key) or contains_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(contains_nul(item) for item in value)
    return False


def without_controls(value):
    """Strings (and the keys and items of dicts and lists) without control characters other
    than tab and newline (statuspage.text)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {without_controls(key): without_controls(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_controls(item) for item in value]
    return value


class RequestBody(Schema):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def no_control_characters(cls, value):
        # PostgreSQL cannot store NUL in text: refuse it here rather than fail in the database.
        if contains_nul(value):
            raise ValueError("NUL characters are not allowed.")
        # Other control characters are dropped before the type's own checks (a title of only
        # control characters is then empty, and refused as such).
        return without_controls(value)


# --- query strings ------------------------------------------------------------------------------

IncidentFilter = Literal[
    "open", "unresolved", "investigating", "identified", "monitoring", "resolved", "postmortem"
]
MaintenanceFilter = Literal[
    "upcoming", "active", "scheduled", "in_progress", "verifying", "completed", "cancelled"
]


class Page(Schema):
    limit: int = Field(50, ge=1, le=500)
    # Bounded so that the database never sees an OFFSET it cannot represent.
    offset: int = Field(0, ge=0, le=1_000_000)


class IncidentQuery(Page):
    status: IncidentFilter | None = Field(
        None, description="`open` (or `unresolved`): investigating, identified or monitoring."
    )
    impact: Impact | None = None
    origin: Origin | None = None
    component: ComponentRef | None = Field(
        None, description="Only incidents affecting this component (slug or id)."
    )


class MaintenanceQuery(Page):
    status: MaintenanceFilter | None = Field(
        None,
        description="`upcoming`: scheduled and not yet over; `active`: in_progress or verifying.",
    )


# --- requests -----------------------------------------------------------------------------------


class IncidentCreate(RequestBody):
    name: Title
    body: Message = Field(description="The first update's message (Markdown).")
    status: OpenIncidentStatus = "investigating"
    impact: Impact = Impact.MINOR
    components: ComponentStatuses = {}
    is_public: Flag = True
    deliver_notifications: Flag = True
    name_alt: AltTitle = ""
    body_alt: str = ""


class IncidentEdit(RequestBody):
    """Change fields without posting to the timeline; omitted (or null) fields stay as they are.
    `components`, when given, replaces the affected components."""

    name: Title | None = None
    name_alt: AltTitle | None = None
    impact: Impact | None = None
    is_public: Flag | None = None
    components: ComponentStatuses | None = None


class IncidentUpdateCreate(RequestBody):
    status: IncidentStatus
    body: Message
    body_alt: str = ""
    impact: Impact | None = None
    components: ComponentStatuses | None = None
    deliver_notifications: Flag = True


class Resolution(RequestBody):
    body: Message
    body_alt: str = ""
    deliver_notifications: Flag = True


class Postmortem(RequestBody):
    body: Message = Field(description="The postmortem (Markdown).")
    body_alt: str | None = Field(
        None, description="The postmortem in the second language; omitted: left as it is."
    )
    publish: Flag = Field(True, description="Publish it, moving the incident to postmortem.")


class NoteCreate(RequestBody):
    body: Message


class MaintenanceCreate(RequestBody):
    name: Title
    scheduled_for: Moment
    scheduled_until: Moment
    description: str = ""
    components: list[ComponentRef] = Field([], description="Components, by slug or id.")
    auto_start: Flag = True
    auto_complete: Flag = True
    is_public: Flag = True
    deliver_notifications: Flag = True
    name_alt: AltTitle = ""
    description_alt: str = ""
    recurrence: str | None = Field(
        None,
        description="An RFC 5545 RRULE, e.g. `FREQ=WEEKLY;BYDAY=SU;COUNT=12`: the window "
        "repeats (in the site's time zone) and each occurrence is a maintenance of its own. "
        "The answer is the first occurrence.",
        max_length=500,
    )


class MaintenanceEdit(RequestBody):
    """Omitted (or null) fields stay as they are; `components`, when given, replaces them."""

    name: Title | None = None
    name_alt: AltTitle | None = None
    description: str | None = None
    description_alt: str | None = None
    scheduled_for: Moment | None = None
    scheduled_until: Moment | None = None
    components: list[ComponentRef] | None = None
    auto_start: Flag | None = None
    auto_complete: Flag | None = None
    is_public: Flag | None = None


class MaintenanceTransition(RequestBody):
    body: str = Field("", description="A message for the maintenance's timeline (Markdown).")
    deliver_notifications: Flag = True


class ComponentStatusChange(RequestBody):
    status: ComponentStatus = Field(
        description="The status staff give the component by hand; operational clears it. The "
        "effective status is the worst of this, open incidents, maintenance and probes."
    )


# --- responses ----------------------------------------------------------------------------------
# Read from the model rows: an endpoint returns the row and ninja fills the schema, reading each
# field from the attribute of the same name unless `validation_alias` (a dotted path is followed)
# or a `resolve_<field>` method says otherwise.


def username(user) -> str | None:
    return user.get_username() if user is not None else None


# Who wrote an update or a note (a user, or None for an automatic update): the username.
Author = Annotated[str | None, BeforeValidator(username)]


class Representation(Schema):
    # Primary and foreign keys are numbers in the database and strings in the API.
    model_config = ConfigDict(coerce_numbers_to_str=True)


class ComponentOut(Representation):
    id: str
    name: str
    name_alt: str
    slug: str
    description: str
    description_alt: str
    group_id: str | None
    position: int
    status: ComponentStatus = Field(description="The effective status.")
    manual_status: ComponentStatus
    auto_status: ComponentStatus
    status_since: datetime
    status_cause_id: str | None = Field(description="The failing dependency, if any.")
    depends_on: list[str] = Field(description="Slugs of the components this one depends on.")
    is_public: bool
    only_show_if_degraded: bool
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_depends_on(component) -> list[str]:
        return sorted(dependency.slug for dependency in component.depends_on.all())


class ComponentBrief(Representation):
    id: str
    name: str
    slug: str
    status: ComponentStatus = Field(description="The component's current effective status.")


class AffectedComponent(ComponentBrief):
    # Read from the incident's link to the component (`IncidentComponent`).
    id: str = Field(validation_alias="component_id")
    name: str = Field(validation_alias="component.name")
    slug: str = Field(validation_alias="component.slug")
    status: ComponentStatus = Field(
        validation_alias="component.status",
        description="The component's current effective status.",
    )
    affected_status: ComponentStatus = Field(
        validation_alias="status", description="The status the incident puts it in."
    )


class StatusChange(Schema):
    code: str
    name: str
    old_status: str
    new_status: str


class IncidentUpdateOut(Representation):
    id: str
    incident_id: str
    status: IncidentStatus
    body: str
    body_alt: str
    author: Author
    deliver_notifications: bool = Field(validation_alias="notify_subscribers")
    affected_components: list[StatusChange]
    display_at: datetime
    created_at: datetime
    updated_at: datetime


class NoteOut(Representation):
    id: str
    body: str
    author: Author
    created_at: datetime


class IncidentOut(Representation):
    id: str
    name: str = Field(validation_alias="title")
    name_alt: str = Field(validation_alias="title_alt")
    status: IncidentStatus
    impact: Impact
    origin: str
    is_public: bool
    components: list[AffectedComponent]
    incident_updates: list[IncidentUpdateOut] = Field(
        validation_alias="updates", description="Newest first."
    )
    internal_notes: list[NoteOut] = Field(
        validation_alias="notes", description="Staff only: never published."
    )
    postmortem_body: str = Field(validation_alias="postmortem")
    postmortem_body_alt: str = Field(validation_alias="postmortem_alt")
    postmortem_published_at: datetime | None
    started_at: datetime
    monitoring_at: datetime | None
    resolved_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_components(incident) -> list:
        return sorted(incident.affected.all(), key=lambda link: link.component.name)


class MaintenanceUpdateOut(Representation):
    id: str
    maintenance_id: str
    status: MaintenanceStatus
    body: str
    body_alt: str
    author: Author
    deliver_notifications: bool = Field(validation_alias="notify_subscribers")
    display_at: datetime
    created_at: datetime


class MaintenanceOut(Representation):
    id: str
    name: str = Field(validation_alias="title")
    name_alt: str = Field(validation_alias="title_alt")
    status: MaintenanceStatus
    impact: str
    description: str
    description_alt: str
    scheduled_for: datetime = Field(validation_alias="starts_at")
    scheduled_until: datetime = Field(validation_alias="ends_at")
    auto_start: bool
    auto_complete: bool
    is_public: bool
    components: list[ComponentBrief]
    maintenance_updates: list[MaintenanceUpdateOut] = Field(
        validation_alias="updates", description="Newest first."
    )
    internal_notes: list[NoteOut] = Field(
        validation_alias="notes", description="Staff only: never published."
    )
    started_at: datetime | None
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    recurrence: str | None = Field(
        None, description="The series' RRULE, for an occurrence of a recurring maintenance."
    )
    series_id: str | None = None

    @staticmethod
    def resolve_recurrence(maintenance) -> str | None:
        return maintenance.series.recurrence if maintenance.series_id else None
