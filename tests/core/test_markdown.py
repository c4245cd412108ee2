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
    assert "<h2>Cause</h2>" in html
    assert "<strong>bureau</strong>" in html
    assert 'href="https://x.example"' in html
    assert 'rel="noopener noreferrer nofollow"' in html
