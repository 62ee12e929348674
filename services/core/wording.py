"""Reasons from AWS inside the dashboard's own sentences.

AWS's failureReason is optional (a failed resource may carry none) and may or may not end with a full
stop; a sentence built around it must neither say "None" nor end in "..".
"""

from __future__ import annotations

NO_REASON = "AWS gave no reason"


def as_sentence(text: str | None, missing: str = NO_REASON) -> str:
    """The text with exactly one closing mark ('.', '!' or '?'); `missing` (as a sentence) when empty."""
    body = (text or "").strip() or missing
    if body.endswith(("!", "?")) or (body.endswith("...") and not body.endswith("....")):
        return body
    return body.rstrip(".").rstrip() + "."
