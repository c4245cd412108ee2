"""The token API for automation (alerting tools, deploy pipelines), mounted at /api/v1/.

Every change goes through `statuspage.actions` as the token's user, via "api", so it is audited,
published and recomputed exactly as a change made in the console.
"""

from ninja import NinjaAPI

from statuspage.api import components, incidents, integrations, maintenances, probes, reports
from statuspage.api.auth import BearerToken
from statuspage.api.errors import install_error_handlers
from statuspage.api.idempotency import idempotent_writes

api = NinjaAPI(
    title="Status site token API",
    version="1",
    description=(
        "Incidents, maintenance and components for automation; probes and their results, "
        "read-only. Authenticate with "
        "`Authorization: Bearer <token>` (`manage.py create_api_token USERNAME`); the token's "
        'user must be staff. Errors: `{"errors": [{"field": ..., "message": ...}]}` with '
        "400 (bad input), 401 (no valid token), 403 (not staff) or 404. Writes accept an "
        "`Idempotency-Key` header (1 to 255 visible ASCII characters): a retry with the same "
        "key by the same user within 24 hours gets the first answer back "
        "(`Idempotent-Replayed: true`) and changes nothing; the same key with a different "
        "request is refused with 422."
    ),
    auth=BearerToken(),
    urls_namespace="api_v1",
    # The interactive docs page loads Swagger UI from a CDN; the schema alone works offline.
    docs_url=None,
)
install_error_handlers(api)
api.add_decorator(idempotent_writes, mode="view")
api.add_router("/incidents", incidents.router)
api.add_router("/maintenances", maintenances.router)
api.add_router("/components", components.router)
api.add_router("/probes", probes.router)
api.add_router("/integrations", integrations.router)
api.add_router("/reports", reports.router)
