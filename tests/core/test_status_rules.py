"""The derived-status rules, table-driven over statuses, incidents, maintenance and probes."""

import pytest

from statuspage.status import (
    DEGRADED,
    MAINTENANCE,
    MAJOR,
    OPERATIONAL,
    PARTIAL,
    ComponentFacts,
    derive_statuses,
    impact_for,
    own_status,
    page_status,
    worst,
)


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (ComponentFacts(1), OPERATIONAL),
        (ComponentFacts(1, manual_status=DEGRADED), DEGRADED),
        (ComponentFacts(1, incident_statuses=(PARTIAL,)), PARTIAL),
        (ComponentFacts(1, incident_statuses=(PARTIAL, MAJOR, DEGRADED)), MAJOR),
        (ComponentFacts(1, manual_status=MAJOR, incident_statuses=(DEGRADED,)), MAJOR),
        (ComponentFacts(1, probe_status=PARTIAL), PARTIAL),
        (ComponentFacts(1, probe_status=DEGRADED, incident_statuses=(MAJOR,)), MAJOR),
        # Announced maintenance hides what the probes see...
        (ComponentFacts(1, in_maintenance=True), MAINTENANCE),
        (ComponentFacts(1, in_maintenance=True, probe_status=MAJOR), MAINTENANCE),
        # ...but never a fault that staff declared.
        (ComponentFacts(1, in_maintenance=True, incident_statuses=(MAJOR,)), MAJOR),
        (ComponentFacts(1, in_maintenance=True, manual_status=PARTIAL), PARTIAL),
        # A manual "under maintenance" without a window still counts.
        (ComponentFacts(1, manual_status=MAINTENANCE), MAINTENANCE),
        (ComponentFacts(1, manual_status=MAINTENANCE, probe_status=DEGRADED), DEGRADED),
    ],
)
def test_own_status_combines_declared_probe_and_maintenance_inputs(facts, expected):
    assert own_status(facts) == expected


def chain(**overrides):
    """loan(1) -> bureau(2) -> network(3); gateway(4) independent, loan also depends on it."""
    base = {
        1: ComponentFacts(1, depends_on=(2, 4)),
        2: ComponentFacts(2, depends_on=(3,)),
        3: ComponentFacts(3),
        4: ComponentFacts(4),
    }
    for cid, facts in overrides.items():
        base[int(cid[1:])] = facts
    return list(base.values())


@pytest.mark.parametrize(
    ("components", "expected"),
    [
        # nothing wrong
        (
            chain(),
            {
                1: (OPERATIONAL, ()),
                2: (OPERATIONAL, ()),
                3: (OPERATIONAL, ()),
                4: (OPERATIONAL, ()),
            },
        ),
        # the bureau fails: loan is degraded because of it
        (
            chain(c2=ComponentFacts(2, depends_on=(3,), probe_status=MAJOR)),
            {1: (DEGRADED, (2,)), 2: (MAJOR, ()), 3: (OPERATIONAL, ()), 4: (OPERATIONAL, ())},
        ),
        # the network fails: bureau and loan both name the network as root cause
        (
            chain(c3=ComponentFacts(3, probe_status=PARTIAL)),
            {1: (DEGRADED, (3,)), 2: (DEGRADED, (3,)), 3: (PARTIAL, ()), 4: (OPERATIONAL, ())},
        ),
        # network and bureau both fail: the bureau's own failure is blamed on the network
        (
            chain(
                c2=ComponentFacts(2, depends_on=(3,), probe_status=MAJOR),
                c3=ComponentFacts(3, probe_status=PARTIAL),
            ),
            {1: (DEGRADED, (3,)), 2: (MAJOR, (3,)), 3: (PARTIAL, ()), 4: (OPERATIONAL, ())},
        ),
        # two independent roots: loan names both
        (
            chain(
                c3=ComponentFacts(3, probe_status=PARTIAL),
                c4=ComponentFacts(4, probe_status=DEGRADED),
            ),
            {1: (DEGRADED, (3, 4)), 2: (DEGRADED, (3,)), 3: (PARTIAL, ()), 4: (DEGRADED, ())},
        ),
        # a dependent's own worse status is kept, with the dependency as probable cause
        (
            chain(
                c1=ComponentFacts(1, depends_on=(2, 4), probe_status=MAJOR),
                c4=ComponentFacts(4, probe_status=DEGRADED),
            ),
            {1: (MAJOR, (4,)), 2: (OPERATIONAL, ()), 3: (OPERATIONAL, ()), 4: (DEGRADED, ())},
        ),
        # a component in maintenance does not spread to its dependents
        (
            chain(c2=ComponentFacts(2, depends_on=(3,), probe_status=MAJOR, in_maintenance=True)),
            {
                1: (OPERATIONAL, ()),
                2: (MAINTENANCE, ()),
                3: (OPERATIONAL, ()),
                4: (OPERATIONAL, ()),
            },
        ),
        # ...and one in maintenance is not marked degraded by a failing dependency
        (
            chain(
                c2=ComponentFacts(2, depends_on=(3,), in_maintenance=True),
                c3=ComponentFacts(3, probe_status=MAJOR),
            ),
            {1: (DEGRADED, (3,)), 2: (MAINTENANCE, ()), 3: (MAJOR, ()), 4: (OPERATIONAL, ())},
        ),
    ],
)
def test_failures_propagate_to_dependents_with_the_root_cause(components, expected):
    derived = derive_statuses(components)
    assert {cid: (d.status, d.causes) for cid, d in derived.items()} == expected


def test_a_dependency_cycle_does_not_loop_forever():
    derived = derive_statuses(
        [ComponentFacts(1, depends_on=(2,)), ComponentFacts(2, depends_on=(1,), probe_status=MAJOR)]
    )
    assert derived[2].status == MAJOR
    assert derived[1].status == DEGRADED


@pytest.mark.parametrize(
    ("statuses", "impacts", "indicator", "description"),
    [
        ([], [], "none", "All Systems Operational"),
        ([OPERATIONAL, OPERATIONAL], [], "none", "All Systems Operational"),
        ([OPERATIONAL, DEGRADED], [], "minor", "Minor Service Outage"),
        ([PARTIAL, DEGRADED], [], "major", "Partial System Outage"),
        ([MAJOR, PARTIAL], [], "critical", "Major Service Outage"),
        ([OPERATIONAL, MAINTENANCE], [], "maintenance", "Service Under Maintenance"),
        ([DEGRADED, MAINTENANCE], [], "minor", "Minor Service Outage"),
        ([OPERATIONAL], ["minor"], "minor", "Minor Service Outage"),
        ([OPERATIONAL], ["none"], "none", "All Systems Operational"),
        ([DEGRADED], ["critical"], "critical", "Major Service Outage"),
        ([MAJOR], ["minor"], "critical", "Major Service Outage"),
        ([MAINTENANCE], ["major"], "major", "Partial System Outage"),
    ],
)
def test_the_page_indicator_follows_statuspage(statuses, impacts, indicator, description):
    assert page_status(statuses, impacts) == {"indicator": indicator, "description": description}


def test_worst_and_impact_helpers():
    assert worst([]) == OPERATIONAL
    assert worst([MAINTENANCE, DEGRADED]) == DEGRADED
    assert worst([OPERATIONAL, MAINTENANCE]) == MAINTENANCE
    assert [impact_for(s) for s in (OPERATIONAL, DEGRADED, PARTIAL, MAJOR)] == [
        "none",
        "minor",
        "major",
        "critical",
    ]


def facts(status, impact, *component_statuses):
    from statuspage.status import OpenIncidentFacts

    return OpenIncidentFacts(status, impact, component_statuses)


@pytest.mark.parametrize(
    "components, incidents, indicator, tone, stale",
    [
        # Nothing wrong.
        (["operational"], [], "none", "none", False),
        # A fix being watched, its components working: calm, not an outage.
        (
            ["operational"],
            [facts("monitoring", "critical", "operational")],
            "none",
            "recovering",
            False,
        ),
        # ... even when the incident names no public component.
        (["operational"], [facts("monitoring", "major")], "none", "recovering", False),
        # Monitoring while a component it names still fails: still the outage.
        (
            ["partial_outage"],
            [facts("monitoring", "critical", "partial_outage")],
            "critical",
            "critical",
            False,
        ),
        # Recovering on one incident, another still investigated: the worse story wins.
        (
            ["operational", "operational"],
            [
                facts("monitoring", "critical", "operational"),
                facts("investigating", "minor", "operational"),
            ],
            "minor",
            "minor",
            False,
        ),
        # A component failing with no incident yet: the component's status speaks.
        (
            ["major_outage"],
            [facts("monitoring", "minor", "operational")],
            "critical",
            "critical",
            False,
        ),
        # Maintenance with a recovering incident: the page says maintenance.
        (
            ["under_maintenance"],
            [facts("monitoring", "major", "under_maintenance")],
            "maintenance",
            "maintenance",
            False,
        ),
        (["under_maintenance"], [], "maintenance", "maintenance", False),
        # An investigated incident on working components counts with its impact.
        (["operational"], [facts("identified", "major", "operational")], "major", "major", False),
        # Checks delayed: never "all operational", but a known outage stays an outage.
        (["operational"], [], "none", "stale", True),
        (["operational"], [facts("monitoring", "minor", "operational")], "none", "stale", True),
        (["partial_outage"], [], "major", "major", True),
    ],
)
def test_the_page_tells_one_story(components, incidents, indicator, tone, stale):
    from statuspage.status import DESCRIPTIONS, page_story

    story = page_story(components, incidents, stale)
    assert (story.indicator, story.tone) == (indicator, tone)
    assert story.description == DESCRIPTIONS[indicator]


@pytest.mark.parametrize(
    "components,incidents,stale,key",
    [
        (["operational"], [], False, "none"),
        (["operational"], [facts("monitoring", "critical", "operational")], False, "recovering"),
        (["partial_outage"], [], False, "major"),
        (["operational"], [], True, "stalled"),
        (["operational"], [facts("monitoring", "minor", "operational")], True, "stalled"),
        (["partial_outage"], [], True, "major-stalled"),
        (["under_maintenance"], [], True, "maintenance-stalled"),
    ],
)
def test_the_story_has_one_word_that_changes_with_everything_the_banner_tells(
    components, incidents, stale, key
):
    from statuspage.status import page_story

    assert page_story(components, incidents, stale).key == key
