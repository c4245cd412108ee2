"""Hypothesis strategies for hostile input: text with control characters, NUL, surrogates and
very long runs, raw bytes that are not UTF-8, and JSON values of every type."""

from __future__ import annotations

import os
from urllib.parse import quote, quote_from_bytes

from hypothesis import strategies as st

# Settings shared by the fuzz tests: no example database on disk, no per-example deadline
# (the first request of a test compiles templates), few enough examples for CI.
FUZZ_SETTINGS = {"deadline": None, "database": None, "derandomize": False}


def examples(default: int) -> int:
    """How many cases a fuzz test tries: small in CI, `FUZZ_EXAMPLES=5000` for a long run."""
    return int(os.environ.get("FUZZ_EXAMPLES", default))


NASTY_STRINGS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x0b\x07\x1b[31m",
    "\r\n",
    "\ud800",
    "\ufffe\uffff",
    "%00",
    "%ff%fe",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "${jndi:ldap://x}",
    "{{7*7}}",
    "-1",
    "0",
    "1e309",
    "99999999999999999999999999",
    "NaN",
    "true",
    "null",
    "[]",
    "{}",
    "é中文🙂",
    "A" * 10_000,
]

nasty_text = st.one_of(
    st.sampled_from(NASTY_STRINGS),
    st.text(max_size=40),
    st.text(alphabet=st.characters(max_codepoint=0x20), max_size=10),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
)

# A query-string or path fragment, already percent-encoded: valid UTF-8 text or raw bytes
# that are not UTF-8 at all.
encoded_fragment = st.one_of(
    nasty_text.map(lambda text: quote(text.encode("utf-8", "surrogatepass"), safe="")),
    st.binary(max_size=20).map(lambda raw: quote_from_bytes(raw, safe="")),
    st.sampled_from(["%", "%zz", "%0", "&&", "==", "+", ";", "#", "?"]),
)


def query_strings(known_names: list[str]) -> st.SearchStrategy[str]:
    """`a=b&c=d…` built from known parameter names and made-up ones, odd values, repeats."""
    name = st.one_of(st.sampled_from(known_names), encoded_fragment)
    pair = st.tuples(name, encoded_fragment).map(lambda p: f"{p[0]}={p[1]}")
    return st.one_of(
        st.lists(pair, max_size=5).map("&".join),
        encoded_fragment,
        st.just("a=" + "x" * 20_000),
    )


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    nasty_text,
)
any_json = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(nasty_text, children, max_size=4)
    ),
    max_leaves=8,
)
