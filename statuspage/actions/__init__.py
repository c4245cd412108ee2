"""What staff (console, API, admin) and the system do to incidents, maintenance and components.

Each action writes inside one public change (`statuspage.changes.public_change`): the change,
its audit entry and its public event (the outbox row notifications are sent from), then the
recomputed component statuses and the version bump, in one transaction, so that either all of
it happens or none. Bad input raises `django.core.exceptions.ValidationError` keyed by field
name, before anything is written.

Callers use `statuspage.actions.<name>`; the code lives by concern:

- `incidents`: open, update, resolve, edit, postmortem;
- `maintenance`: schedule, edit, move forward, and the system's start and completion;
- `components`: a component's manual status;
- `staff_tools`: internal notes and incident templates (audited, never public);
- `audit`: the one writer of audit entries; `checks`: the rules input must pass.
"""

from statuspage.actions.audit import Via, audit, author
from statuspage.actions.checks import (
    check_choice,
    check_component_statuses,
    check_title,
    check_window,
)
from statuspage.actions.components import set_component_status
from statuspage.actions.incidents import (
    edit_incident,
    open_incident,
    post_incident_update,
    resolve_incident,
    write_postmortem,
)
from statuspage.actions.maintenance import (
    MAINTENANCE_NEXT,
    advance_maintenances,
    edit_maintenance,
    schedule_maintenance,
    set_maintenance_status,
)
from statuspage.actions.staff_tools import (
    add_note,
    delete_incident_template,
    save_incident_template,
)

__all__ = [
    "MAINTENANCE_NEXT",
    "Via",
    "add_note",
    "advance_maintenances",
    "audit",
    "author",
    "check_choice",
    "check_component_statuses",
    "check_title",
    "check_window",
    "delete_incident_template",
    "edit_incident",
    "edit_maintenance",
    "open_incident",
    "post_incident_update",
    "resolve_incident",
    "save_incident_template",
    "schedule_maintenance",
    "set_component_status",
    "set_maintenance_status",
    "write_postmortem",
]
