import pytest

from statuspage.text import clean_line, clean_text


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Gateway\x0bslow", "Gatewayslow"),
        ("E\x07503", "E503"),
        ("a\x00b\x1fc\x7fd", "abcd"),
        ("line one\r\nline two\rline three", "line one\nline two\nline three"),
        ("keeps\ttabs\nand newlines", "keeps\ttabs\nand newlines"),
        ("lone \ud800 surrogate and \ufffe", "lone  surrogate and "),
        ("还款延迟 ✓ é", "还款延迟 ✓ é"),
    ],
)
def test_clean_text_drops_control_characters_but_tab_and_newline(raw, expected):
    assert clean_text(raw) == expected


def test_clean_line_turns_tabs_and_line_breaks_into_spaces():
    assert clean_line("Gateway\tslow\r\nagain\x0b") == "Gateway slow again"


def test_non_text_passes_through():
    assert clean_text(None) is None
    assert clean_line(5) == 5
