import pytest

from monitors.admin import ProbeForm

pytestmark = pytest.mark.django_db


def form(component, **overrides):
    data = {
        "component": component.pk,
        "name": "health",
        "kind": "http",
        "config": '{"url": "http://127.0.0.1:8001/health"}',
        "conditions": '[{"condition": "[STATUS] == 200"}]',
        "interval_seconds": 30,
        "recheck_seconds": 5,
        "timeout_seconds": 5,
        "failure_threshold": 3,
        "success_threshold": 2,
        "vantage_points": '["local"]',
        "is_enabled": True,
    }
    return ProbeForm(data={**data, **overrides})


def test_it_accepts_a_valid_probe(make_component):
    assert form(make_component("bureau")).is_valid()


@pytest.mark.parametrize(
    "field, value",
    [
        ("conditions", '[{"condition": "[STATUS] === 200"}]'),
        ("config", '{"url": "not a url"}'),
        ("kind", "carrier-pigeon"),
        ("vantage_points", "[]"),
        ("interval_seconds", 5),
    ],
)
def test_it_rejects_what_could_not_run(make_component, field, value):
    bound = form(make_component("bureau"), **{field: value})
    assert not bound.is_valid()
    assert field in bound.errors or "config" in bound.errors
