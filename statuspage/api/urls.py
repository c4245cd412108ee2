from django.urls import path

from statuspage.api import agents
from statuspage.api.v1 import api

urlpatterns = [
    # The remote agents' two endpoints: agent tokens, not the token API's staff tokens.
    path("agent/assignment", agents.assignment, name="agent_assignment"),
    path("agent/results", agents.results, name="agent_results"),
    path("", api.urls),
]
