"""dashboard.text.literal: markdown that shows a string as it is (what Streamlit renders is
checked in tests/app/test_app_untrusted_text.py and, in Chromium, tests/e2e/test_untrusted_text.py)."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard.text import literal

JOINER = "\u2060"


def shown(markdown: str) -> str:
    """What CommonMark makes of a fully escaped string: the escapes go, the joiners stay invisible."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace(JOINER, "")


@pytest.mark.parametrize("text", [
    "![x](http://evil.example/p.png)",
    "[click](https://evil.example)",
    "<img src=x onerror=alert(1)>",
    "$x$",
    ":material/warning:",
    ":material_warning:",
    ":streamlit:",
    ":red[text]",
    "**bold** _it_ ~~s~~ `code`",
    "# heading\n- item\n1. item\n> quote",
    "&amp; &#60;",
    "https://evil.example/raw www.evil.example me@evil.example",
    "rf_200 (trees)",
])
def test_every_markup_character_is_escaped_and_the_text_survives(text):
    out = literal(text)
    assert shown(out) == text
    unescaped = re.sub(r"\\[!-/:-@\[-`{-~]", "", out)
    assert not set(unescaped) & set(string.punctuation)


@pytest.mark.parametrize(("text", "broken"), [
    ("https://evil.example", "https\\:" + JOINER + "\\/\\/"),
    ("WWW.evil.example", "WWW" + JOINER + "\\."),
    ("me@evil.example", "me" + JOINER + "\\@"),
    (":material_home:", "\\:" + JOINER + "material"),
])
def test_patterns_streamlit_rewrites_after_parsing_are_split(text, broken):
    """Streamlit turns bare URLs, e-mail addresses and icon codes into links and icons after
    the escapes are gone; a word joiner keeps each from matching."""
    assert broken in literal(text)


def test_line_endings_become_newlines():
    assert literal("a\r\nb\rc") == "a\nb\nc"


def test_non_strings_are_shown_as_str():
    assert literal(3) == "3" and literal(None) == "None"


@given(st.text())
def test_any_text_round_trips(text):
    expected = text.replace("\r\n", "\n").replace("\r", "\n").replace(JOINER, "")
    assert shown(literal(text)) == expected
