"""Staff Markdown is sanitised with an allowlist before it reaches a browser."""

import pytest

from statuspage.markdown import render_markdown


@pytest.mark.parametrize(
    ("source", "forbidden"),
    [
        ("<script>alert(1)</script>", "<script"),
        ('<img src=x onerror="alert(1)">', "onerror"),
        ("[click](javascript:alert(1))", "javascript:"),
        ('<a href="javascript:alert(1)">x</a>', "javascript:"),
        ("[data](data:text/html;base64,PHNjcmlwdD4=)", "data:"),
        ('<p style="background:url(x)" onclick="x()">hi</p>', "onclick"),
        ("<iframe src=https://evil.example></iframe>", "<iframe"),
    ],
)
def test_dangerous_markup_never_survives(source, forbidden):
    assert forbidden not in render_markdown(source).lower()


def test_ordinary_markdown_is_kept():
    html = render_markdown(
        "## Cause\n\nThe **bureau** link failed. See [notes](https://x.example)."
    )
    assert "<h4>Cause</h4>" in html  # below the page's own h1 and h2
    assert "<strong>bureau</strong>" in html
    assert 'href="https://x.example"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_headings_sit_below_the_pages_own_headings():
    html = render_markdown("# Summary\n\n## Timeline\n\n###### Deep\n\ntext")
    assert "<h3>Summary</h3>" in html
    assert "<h4>Timeline</h4>" in html
    assert "<h6>Deep</h6>" in html  # capped: there is no h7
    assert "<h1" not in html and "<h2" not in html
    assert " id=" not in html  # the table-of-contents anchors are not kept
