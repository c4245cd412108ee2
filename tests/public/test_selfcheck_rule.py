from datetime import UTC, datetime, timedelta

from statuspage.public.selfcheck import (
    AFFECTED,
    MAINTENANCE,
    RECOVERING,
    WORKS,
    ComponentState,
    JourneyState,
    OpenIncident,
    Window,
    journey_state,
)

T0 = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
OK = ComponentState("operational", T0)


def test_it_works_when_every_component_works():
    assert journey_state({1, 2}, {1: OK, 2: OK}, [], []).state == WORKS


def test_it_names_every_incident_on_its_components_or_their_root_cause_oldest_first():
    components = {
        1: ComponentState("degraded_performance", T0 + timedelta(minutes=5), cause_id=9),
        2: ComponentState("partial_outage", T0),
        9: ComponentState("major_outage", T0),
    }
    incidents = [
        OpenIncident(8, T0 + timedelta(minutes=3), frozenset({2})),
        OpenIncident(7, T0 + timedelta(minutes=1), frozenset({9})),
        OpenIncident(3, T0 + timedelta(minutes=2), frozenset({5})),
    ]
    state = journey_state({1, 2}, components, incidents, [])
    assert state == JourneyState(AFFECTED, "partial_outage", since=T0, incident_ids=(7, 8))


def test_a_failure_without_an_incident_is_still_a_failure():
    state = journey_state({1}, {1: ComponentState("major_outage", T0)}, [], [])
    assert state.state == AFFECTED and state.incident_ids == () and state.since == T0
    assert state.status == "major_outage"  # the icon follows the worst status


def test_it_is_under_maintenance_until_the_latest_active_window_ends():
    windows = [
        Window(1, True, T0, T0 + timedelta(hours=1), frozenset({1})),
        Window(2, True, T0, T0 + timedelta(hours=3), frozenset({1})),
        Window(3, True, T0, T0 + timedelta(hours=9), frozenset({4})),
    ]
    state = journey_state({1}, {1: ComponentState("under_maintenance", T0)}, [], windows)
    assert state.state == MAINTENANCE and state.until == T0 + timedelta(hours=3)


def test_a_failure_outweighs_maintenance():
    components = {
        1: ComponentState("under_maintenance", T0),
        2: ComponentState("partial_outage", T0),
    }
    assert journey_state({1, 2}, components, [], []).state == AFFECTED


def test_a_working_journey_names_the_next_planned_window():
    windows = [
        Window(5, False, T0 + timedelta(days=2), T0 + timedelta(days=3), frozenset({1})),
        Window(6, False, T0 + timedelta(days=1), T0 + timedelta(days=3), frozenset({1})),
    ]
    assert journey_state({1}, {1: OK}, [], windows).planned_id == 6


def test_internal_components_do_not_count():
    # Component 2 is internal: not among the public components the page knows.
    state = journey_state({1, 2}, {1: OK}, [OpenIncident(1, T0, frozenset({2}))], [])
    assert state.state == WORKS


def test_a_failure_during_maintenance_names_both_the_incident_and_the_window():
    components = {1: ComponentState("under_maintenance", T0), 2: ComponentState("major_outage", T0)}
    windows = [Window(4, True, T0, T0 + timedelta(hours=1), frozenset({1}))]
    incidents = [OpenIncident(5, T0, frozenset({2}))]
    state = journey_state({1, 2}, components, incidents, windows)
    assert (state.state, state.status) == (AFFECTED, "major_outage")
    assert state.incident_ids == (5,) and state.maintenance_ids == (4,)


def test_a_fix_being_monitored_is_recovering_not_an_outage():
    incidents = [OpenIncident(5, T0, frozenset({1}), status="monitoring")]
    state = journey_state({1}, {1: OK}, incidents, [])
    assert (state.state, state.status, state.incident_ids) == (RECOVERING, "operational", (5,))


def test_an_open_incident_on_a_working_component_still_affects_the_journey():
    incidents = [
        OpenIncident(5, T0, frozenset({1}), status="monitoring"),
        OpenIncident(6, T0 + timedelta(minutes=1), frozenset({1}), status="investigating"),
    ]
    state = journey_state({1}, {1: OK}, incidents, [])
    assert (state.state, state.incident_ids) == (AFFECTED, (5, 6))
