"""The audit trail: its one writer, `audit`, lives in `statuspage.audit` (the admin, the
commands and the sign-in signal use it without importing the actions); the actions take it
from here, inside their change."""

from __future__ import annotations

from statuspage.audit import audit, author
from statuspage.models import AuditEntry

Via = AuditEntry.Via

__all__ = ["Via", "audit", "author"]
