from statuspage.models import AuditEntry
from tests.api.conftest import field_errors


def test_it_lists_every_component(api, components, make_component):
    make_component("internal-db", is_public=False)
    listed = api.get("/components").json()
    assert {component["slug"] for component in listed} == {
        "credit-bureau",
        "api-gateway",
        "loan-application",
        "internal-db",
    }
    loans = next(c for c in listed if c["slug"] == "loan-application")
    assert loans["id"] == str(components["loans"].pk)
    assert loans["depends_on"] == ["credit-bureau"]
    assert loans["status"] == "operational"


def test_it_gets_a_component_by_slug_or_id(api, components):
    by_slug = api.get("/components/api-gateway")
    by_id = api.get(f"/components/{components['gateway'].pk}")
    assert by_slug.status_code == by_id.status_code == 200
    assert by_slug.json() == by_id.json()


def test_it_answers_404_for_an_unknown_component(api, components):
    for ref in ("nope", "999", "0"):
        assert api.get(f"/components/{ref}").status_code == 404
        assert api.patch(f"/components/{ref}", {"status": "major_outage"}).status_code == 404


def test_it_sets_a_status_by_slug(api, staff, components):
    response = api.patch("/components/credit-bureau", {"status": "major_outage"})
    assert response.status_code == 200
    assert (response.json()["manual_status"], response.json()["status"]) == (
        "major_outage",
        "major_outage",
    )
    components["loans"].refresh_from_db()
    assert components["loans"].status_cause == components["bureau"]
    entry = AuditEntry.objects.get(action="component.set_status")
    assert (entry.actor, entry.via, entry.after["status"]) == (staff, "api", "major_outage")


def test_it_sets_a_status_by_id_and_clears_it_with_operational(api, components):
    path = f"/components/{components['gateway'].pk}"
    api.patch(path, {"status": "under_maintenance"})
    response = api.patch(path, {"status": "operational"})
    assert response.json()["status"] == "operational"


def test_it_rejects_an_unknown_status(api, components):
    response = api.patch("/components/api-gateway", {"status": "meh"})
    assert response.status_code == 400
    assert "status" in field_errors(response)
    assert "major_outage" in field_errors(response)["status"]
    response = api.patch("/components/api-gateway", {})
    assert "status" in field_errors(response)


def test_the_list_costs_the_same_queries_however_many_components(
    api, make_component, django_assert_max_num_queries
):
    base = make_component("base")
    for n in range(10):
        make_component(f"component-{n}", depends_on=[base])
    # 6: one of them loads the permissions of the token's user's role.
    with django_assert_max_num_queries(6):
        assert len(api.get("/components").json()) == 11


def test_it_gives_the_description_in_both_languages(api, components):
    gateway = components["gateway"]
    gateway.description, gateway.description_alt = "Every request passes it.", "所有请求都经过它。"
    gateway.save()
    body = api.get("/components/api-gateway").json()
    assert (body["description"], body["description_alt"]) == (
        "Every request passes it.",
        "所有请求都经过它。",
    )
