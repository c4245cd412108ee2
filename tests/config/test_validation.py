"""An invalid config file is rejected whole, with the file, the line and the reason."""

import pytest

from statuspage.config_file import ConfigError, load_config

VALID = """
groups:
  - slug: lending
    name: Lending system
components:
  - slug: gateway
    name: API gateway
    group: lending
  - slug: loans
    name: Loan application
    group: lending
    depends_on: [gateway]
    probes:
      - name: health
        kind: http
        url: http://127.0.0.1:8102/health
        interval: 30s
        conditions:
          - "[STATUS] == 200"
          - {condition: "[RESPONSE_TIME] < 800", severity: degraded_performance}
journeys:
  - slug: apply
    name: Apply for a loan
    components: [loans]
"""


def problems(config_file, text: str) -> list[str]:
    path = config_file(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return [str(problem) for problem in caught.value.problems]


def the_problem(config_file, text: str) -> str:
    found = problems(config_file, text)
    assert len(found) == 1, found
    return found[0]


def test_a_valid_file_loads(config_file):
    config = load_config(config_file(VALID))
    assert [c.slug for c in config.components] == ["gateway", "loans"]
    probe = config.components[1].probes[0]
    assert probe.fields["interval_seconds"] == 30
    assert probe.fields["config"]["url"] == "http://127.0.0.1:8102/health"
    assert probe.fields["conditions"] == [
        {"condition": "[STATUS] == 200", "severity": "partial_outage"},
        {"condition": "[RESPONSE_TIME] < 800", "severity": "degraded_performance"},
    ]


def test_it_rejects_bad_yaml_with_the_file_and_line(config_file):
    path = config_file("components:\n  - slug: a\n\tname: A\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == (
        f"{path}:3: not valid YAML: while scanning for the next token "
        "found character '\\t' that cannot start any token"
    )


def test_it_rejects_more_than_one_document(config_file):
    assert ":2: not valid YAML: expected a single document" in the_problem(
        config_file, "a: 1\n---\nb: 2\n"
    )


def test_it_rejects_a_section_that_is_not_a_list(config_file):
    assert the_problem(config_file, "components: {a: b}\n").endswith(
        ":1: components: expected a list, got a mapping"
    )


def test_it_rejects_an_entry_that_is_not_a_mapping(config_file):
    assert the_problem(config_file, "components:\n  - loans\n").endswith(
        ":2: component: expected a mapping, got 'loans'"
    )


def test_it_rejects_an_empty_file(config_file):
    assert the_problem(config_file, "").endswith(":1: the file is empty")


def test_it_rejects_a_file_that_is_not_a_mapping(config_file):
    assert "expected a mapping, got a list" in the_problem(config_file, "- a\n- b\n")


def test_it_rejects_an_unknown_top_level_key(config_file):
    found = the_problem(config_file, VALID + "incidents: []\n")
    assert found.endswith(
        ":24: the file: unknown key 'incidents' "
        "(expected: channels, components, groups, journeys, maintenances)"
    )


def test_it_rejects_an_unknown_key_in_a_component(config_file):
    text = VALID.replace(
        "    group: lending\n    depends_on", "    group: lending\n    colour: red\n    depends_on"
    )
    assert ":11: component 'loans': unknown key 'colour'" in the_problem(config_file, text)


def test_it_rejects_an_unknown_key_in_a_condition(config_file):
    text = VALID.replace(
        "severity: degraded_performance}", "severity: degraded_performance, level: 2}"
    )
    assert ":19: component 'loans', probe 'health': condition: unknown key 'level'" in the_problem(
        config_file, text
    )


def test_it_rejects_an_unknown_key_of_a_probe_kind_on_its_line(config_file):
    text = VALID.replace("        interval: 30s\n", "        interval: 30s\n        retries: 3\n")
    found = the_problem(config_file, text)
    assert ":17: component 'loans', probe 'health': http: retries: unknown setting" in found


def test_it_rejects_a_key_given_twice(config_file):
    text = VALID.replace("    name: API gateway\n", "    name: API gateway\n    name: Gateway\n")
    assert ":7: component 'gateway': key 'name' is given twice" in the_problem(config_file, text)


def test_it_rejects_a_wrong_type(config_file):
    text = VALID.replace("    name: API gateway\n", "    name: API gateway\n    public: maybe\n")
    found = the_problem(config_file, text)
    assert ":7: component 'gateway': public: expected true or false, got 'maybe'" in found


def test_it_rejects_a_number_where_text_is_expected(config_file):
    text = VALID.replace("name: Lending system", "name: 42")
    assert ":3: group 'lending': name: expected text, got the number 42" in the_problem(
        config_file, text
    )


def test_it_rejects_a_missing_required_key(config_file):
    text = VALID.replace("    name: API gateway\n", "")
    assert ":5: component 'gateway': missing required key 'name'" in the_problem(config_file, text)


def test_it_rejects_a_duplicate_slug(config_file):
    text = VALID.replace("  - slug: loans\n", "  - slug: gateway\n")
    found = problems(config_file, text)
    assert any(":8: component 'gateway': duplicate slug (first on line 5)" in p for p in found)


def test_it_rejects_a_slug_that_is_not_a_slug(config_file):
    text = VALID.replace("slug: apply", "slug: apply now")
    assert ":21: journey: slug: 'apply now' is not a slug" in the_problem(config_file, text)


def test_it_rejects_an_unknown_group(config_file):
    text = VALID.replace("    group: lending\n    depends_on", "    group: lendng\n    depends_on")
    assert ":10: component 'loans': unknown group 'lendng'" in the_problem(config_file, text)


def test_it_rejects_an_unknown_dependency(config_file):
    text = VALID.replace("depends_on: [gateway]", "depends_on: [gateway, bureau]")
    found = the_problem(config_file, text)
    assert ":11: component 'loans': depends on unknown component 'bureau'" in found


def test_it_rejects_an_unknown_journey_component(config_file):
    text = VALID.replace("components: [loans]", "components: [loans, repay]")
    assert ":23: journey 'apply': unknown component 'repay'" in the_problem(config_file, text)


def test_it_rejects_a_dependency_cycle_and_names_it(config_file):
    text = VALID.replace(
        "    name: API gateway\n", "    name: API gateway\n    depends_on:\n      - loans\n"
    )
    found = the_problem(config_file, text)
    assert "dependency cycle: gateway -> loans -> gateway" in found
    assert ":8: " in found  # the line of gateway's dependency on loans


def test_it_rejects_a_component_depending_on_itself(config_file):
    text = VALID.replace("depends_on: [gateway]", "depends_on: [loans]")
    assert "dependency cycle: loans -> loans" in the_problem(config_file, text)


def test_it_names_a_longer_cycle_once(config_file):
    text = """
    components:
      - {slug: a, name: A, depends_on: [b]}
      - {slug: b, name: B, depends_on: [c]}
      - {slug: c, name: C, depends_on: [a]}
    """
    assert the_problem(config_file, text).endswith(":2: dependency cycle: a -> b -> c -> a")


def test_it_rejects_an_unknown_probe_kind(config_file):
    text = VALID.replace("kind: http", "kind: ping")
    found = the_problem(config_file, text)
    assert ":14: component 'loans', probe 'health': unknown kind 'ping'" in found


def test_it_rejects_a_bad_kind_config_on_the_line_of_the_setting(config_file):
    text = VALID.replace("url: http://127.0.0.1:8102/health", "url: ftp://127.0.0.1/health")
    found = the_problem(config_file, text)
    assert ":15: component 'loans', probe 'health': http: url: expected an http://" in found


def test_it_rejects_a_kind_config_missing_its_required_setting(config_file):
    text = VALID.replace("        url: http://127.0.0.1:8102/health\n", "")
    assert ":14: component 'loans', probe 'health': http: url: required" in the_problem(
        config_file, text
    )


def test_it_rejects_a_condition_that_cannot_be_parsed(config_file):
    text = VALID.replace('"[STATUS] == 200"', '"[STATUS] = 200"')
    found = the_problem(config_file, text)
    assert (
        ":18: component 'loans', probe 'health': condition '[STATUS] = 200': no operator" in found
    )


def test_it_rejects_an_unknown_severity(config_file):
    text = VALID.replace("severity: degraded_performance", "severity: slow")
    found = the_problem(config_file, text)
    assert ":19: component 'loans', probe 'health': severity 'slow' is not one of" in found


def test_it_rejects_an_interval_under_ten_seconds(config_file):
    text = VALID.replace("interval: 30s", "interval: 5s")
    found = the_problem(config_file, text)
    assert ":16: component 'loans', probe 'health': interval: must be at least 10s" in found


def test_it_rejects_a_timeout_as_long_as_the_interval(config_file):
    text = VALID.replace("interval: 30s", "interval: 30s\n        timeout: 30s")
    assert "timeout must be shorter than the interval" in the_problem(config_file, text)


def test_it_rejects_a_quorum_larger_than_the_vantage_points(config_file):
    text = VALID.replace(
        "interval: 30s", "interval: 30s\n        vantage_points: [sh]\n        quorum: 2"
    )
    assert "quorum is more than the vantage points" in the_problem(config_file, text)


def test_it_rejects_two_probes_with_the_same_name(config_file):
    text = VALID.replace(
        "journeys:",
        "      - {name: health, kind: tcp, host: 127.0.0.1, port: 8102}\njourneys:",
    )
    assert "probe 'health' is defined twice (line 13)" in the_problem(config_file, text)


def test_it_reports_every_problem_at_once(config_file):
    text = VALID.replace("kind: http", "kind: ping").replace(
        "components: [loans]", "components: [x]"
    )
    assert len(problems(config_file, text)) == 2


def test_it_accepts_durations_as_numbers_and_anchors_with_merge_keys(config_file):
    text = """
    components:
      - slug: link
        name: Inter-data-centre link
        probes:
          - &connect
            name: connect
            kind: tcp
            host: 127.0.0.1
            port: 8108
            interval: 15
          - <<: *connect
            name: connect-again
            interval: 1m
    """
    probes = load_config(config_file(text)).components[0].probes
    assert [p.name for p in probes] == ["connect", "connect-again"]
    assert [p.fields["interval_seconds"] for p in probes] == [15, 60]
    assert probes[1].fields["config"] == {"host": "127.0.0.1", "port": 8108}


def test_the_dns_name_to_resolve_is_written_query(config_file):
    config = load_config(
        config_file(
            """
            components:
              - slug: dns
                name: DNS
                probes:
                  - {name: resolve, kind: dns, query: api.lending.test, resolver: 127.0.0.1}
            """
        )
    )
    assert config.components[0].probes[0].fields["config"]["name"] == "api.lending.test"
