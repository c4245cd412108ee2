import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from statuspage.public import charts

START = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
END = START + timedelta(hours=24)
SVG = "{http://www.w3.org/2000/svg}"


def render(values):
    points = [charts.Point(START + timedelta(hours=i), v) for i, v in enumerate(values)]
    svg = charts.response_time_svg(
        points, start=START, end=END, title="Gateway <24h>", description="avg 100 ms"
    )
    return ET.fromstring(svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))


def test_it_draws_a_line_broken_at_gaps_with_a_dot_for_a_lone_point():
    root = render([100, 200, None, 300, None, 150, 160])
    path = root.find(f"{SVG}path").get("d")
    assert path.count("M") == 3 and path.count("L") == 2  # the lone point moves, draws nothing
    assert len(root.findall(f"{SVG}circle")) == 1


def test_it_is_described_for_screen_readers_and_escapes_text():
    root = render([100])
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Gateway <24h>"
    assert root.find(f"{SVG}desc").text == "avg 100 ms"


def test_the_axis_tops_out_at_a_round_number():
    assert charts.nice_ceiling(0) == 100.0
    assert charts.nice_ceiling(180) == 200
    assert charts.nice_ceiling(2100) == 2500
    assert charts.nice_ceiling(501) == 1000
    labels = [t.text for t in render([180]).findall(f"{SVG}text")]
    assert "200 ms" in labels and "0 ms" in labels


def test_an_empty_series_draws_no_line():
    root = render([None, None])
    assert root.find(f"{SVG}path") is None
    assert charts.summarise([charts.Point(START, None)]).samples == 0


def test_it_lays_measurements_on_a_regular_grid():
    points = charts.bucket_series(
        {START + timedelta(hours=1): 42.0},
        start=START,
        end=START + timedelta(hours=3),
        step=timedelta(hours=1),
    )
    assert [p.milliseconds for p in points] == [None, 42.0, None]
