"""The opening paragraph of a Markdown model card: what the model is, in the author's words."""

from __future__ import annotations

import re

MAX_SUMMARY = 1000  # characters: a report quotes a card, it does not reproduce it
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def card_summary(markdown: str) -> str | None:
    """The first paragraph after the card's front matter and first heading, on one line."""
    text = markdown
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        text = text[end + 5 :] if end >= 0 else ""
    text = _COMMENT.sub("", text)
    paragraph: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not paragraph and (not stripped or stripped.startswith("#")):
            continue  # blank lines and headings before the first paragraph
        if not stripped or stripped.startswith("#"):
            break
        paragraph.append(stripped)
    summary = " ".join(" ".join(paragraph).split())
    if len(summary) > MAX_SUMMARY:
        summary = summary[: MAX_SUMMARY - 1].rstrip() + "…"
    return summary or None
