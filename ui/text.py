"""Data shown inside Markdown as the text it is.

Streamlit renders st.markdown, st.caption, st.info/warning/error/success, st.status labels and metric
labels as Markdown (with KaTeX, emoji shortcodes, colour directives and HTML entities). Ids, names,
categories, failure reasons and file headers come from users and files, so anything of theirs placed in
such a string goes through `md` (or `md_code` inside backticks): every ASCII punctuation character is
backslash-escaped, which CommonMark defines as "this character, literally", and runs of white space
become one space so a value cannot start a heading, a list or an indented code block.
"""

from __future__ import annotations

import re
from typing import Any

# What starts Markdown inside a line, in CommonMark, GFM and Streamlit's additions: emphasis and strike
# (* ~, and _ at a word's edge: inside a word it is literal), code (`), links and images ([ ]),
# HTML and autolinks (< @), entities (&), KaTeX ($), emoji shortcodes and colour directives (: before a
# non-space), the escape character itself, and GFM's "www." autolinks. Plain sentences keep their
# hyphens, dots and ids like USER_ID unchanged, so the text stays readable in the source too.
_INLINE = re.compile(r"""[\\`*~\[\]<&$@]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])|:(?=\S)|(?<=www)\.""",
                     re.IGNORECASE)
# What starts a block when it opens the text: a heading, a quote, a list item, a thematic break, a table.
_LEADING = re.compile(r"^(\s*)([#>+\-=|]|\d+[.)])")
_SPACE = re.compile(r"\s+")


def md(value: Any) -> str:
    """`value` as Markdown source that renders as exactly its text (white space collapsed)."""
    text = _SPACE.sub(" ", "" if value is None else str(value))
    text = _INLINE.sub(lambda m: "\\" + m.group(0), text)
    return _LEADING.sub(_escape_leading, text)


def _escape_leading(match: re.Match[str]) -> str:
    lead, marker = match.group(1), match.group(2)
    if marker[0].isdigit():  # "1." or "1)" opens an ordered list: escape the dot or bracket after it
        return f"{lead}{marker[:-1]}\\{marker[-1]}"
    return f"{lead}\\{marker}"


def md_code(value: Any) -> str:
    """`value` as an inline code span: shown literally, in a fence longer than any backtick run in it."""
    text = _SPACE.sub(" ", "" if value is None else str(value))
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
