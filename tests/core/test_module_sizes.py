"""No module outside migrations passes about 400 lines without saying why in its docstring
(STYLE.md: split a file by concern when it grows)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 400


def test_every_long_module_says_why_in_its_docstring():
    unexplained = []
    for package in ("statuspage", "monitors"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            text = path.read_text()
            if text.count("\n") <= LIMIT:
                continue
            docstring = ast.get_docstring(ast.parse(text)) or ""
            if "400 lines" not in docstring:
                unexplained.append(f"{path.relative_to(ROOT)} ({text.count(chr(10))} lines)")
    assert not unexplained, "split these, or say why in the docstring: " + ", ".join(unexplained)
