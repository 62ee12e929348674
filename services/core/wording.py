"""Reasons from AWS inside the dashboard's own sentences, and counts and shares in words.

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


def count(n: int, singular: str, plural: str | None = None) -> str:
    """`n` with its noun in the right number: count(1, "row") is "1 row", count(7, "row") "7 rows"."""
    return f"{n:,} {singular if n == 1 else plural or singular + 's'}"


def share(part: float, whole: float) -> str:
    """part/whole as a percentage that never reads "0.0%" for something that is there."""
    if whole <= 0:
        return "n/a"
    ratio = part / whole
    if 0 < ratio < 0.001:
        return "under 0.1%"
    if 0.999 < ratio < 1:
        return "over 99.9%"
    return f"{ratio:.1%}"


def verb(n: int, singular: str, plural: str) -> str:
    """The verb that agrees with a count: verb(1, "serves", "serve") is "serves"."""
    return singular if n == 1 else plural


_UPDATE_WORDS = {"CREATE PENDING": "an update is waiting to start", "CREATE IN_PROGRESS": "an update is in progress",
                 "CREATE FAILED": "the last update failed", "CREATE STOPPING": "an update is stopping",
                 "CREATE STOPPED": "the last update was stopped"}


def update_status_words(status: str | None) -> str:
    """A campaign update's status as a user says it; "" when there is nothing to say (none, or ACTIVE)."""
    if not status or status == "ACTIVE":
        return ""
    return _UPDATE_WORDS.get(status, f"the last update is {status.lower()}")
