"""Text from a file, a model or the URL, shown literally.

Streamlit renders markdown in ``st.markdown``, captions, alerts, metric and widget labels,
button labels, progress texts and ``help=`` tooltips: links and images (remote ones
included), ``:material/…:`` icons, ``:color[…]`` directives, ``$…$`` LaTeX, bare URLs
(GitHub's autolinks) and HTML entities. Anything a user or a file supplied — example
content, file, model and class names, column names, ids, URL parameters, error messages
that quote them — goes through :func:`literal` before it meets any of those, or is shown
in a text element (``st.text``, ``st.code``, a dataframe) instead.
"""

from __future__ import annotations

import re

#: Every ASCII punctuation character: CommonMark lets a backslash make any of them literal,
#: and Streamlit's syntax extensions (directives, math) respect the same escapes.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
#: Streamlit also rewrites the parsed text, escapes or not: ``:material_…:`` and
#: ``:streamlit:`` become icons, ``http://``, ``https://``, ``www.`` and ``name@host.tld``
#: become links. An invisible word joiner inside each of those patterns (and only there,
#: so copied messages stay clean) keeps it from matching.
_WORD_JOINER = "\u2060"
_REWRITTEN = re.compile(r"https?\\:(?=\\/\\/)|www(?=\\\.)|\\:(?=material\\[_/]|streamlit\\:)|(?=\\@)", re.IGNORECASE)


def literal(value: object) -> str:
    r"""``str(value)`` as markdown that Streamlit shows character for character.

    Every ASCII punctuation character is backslash-escaped, so no link, image, HTML,
    emphasis, code, heading, list, table, math, directive, icon (``:material/``),
    emoji short code or character reference can start inside it, and a word joiner
    (U+2060, invisible) keeps bare URLs, e-mail addresses and icon codes from becoming
    links and icons. Line breaks become ``\n`` and stay (the caller decides what a new
    line means where it puts the text).

    Examples
    --------
    >>> literal("[click](https://evil.example)")
    '\\[click\\]\\(https\\:\u2060\\/\\/evil\\.example\\)'
    >>> print(literal("rf_200 trees"))
    rf\_200 trees
    """
    text = _PUNCTUATION.sub(r"\\\1", str(value).replace("\r\n", "\n").replace("\r", "\n"))
    return _REWRITTEN.sub(lambda m: m.group(0) + _WORD_JOINER, text)


def literal_problems(problems) -> str:
    """Each problem (a user error's messages: see
    :func:`ensemble_core._validation.problems_of`) :func:`literal`, one per line of the box it
    is shown in (markdown hard line breaks).

    >>> literal_problems(["one", "two"])
    'one  \\ntwo'
    """
    return "  \n".join(literal(problem) for problem in problems)
