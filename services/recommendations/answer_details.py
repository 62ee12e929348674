"""What a test call's answer needs beside the ids: item names, categories and prices from the Items data
this dashboard staged (when the campaign returns no metadata), and a note when the user asked about is
cold (no interactions in the data), so a popularity list is not mistaken for a personal one."""

from __future__ import annotations

import pandas as pd

from services.recommendations.runtime_call import RANKING, USER
from services.recommendations.side_by_side import GroupData

DETAIL_COLUMNS = ("name", "category", "price")


def with_item_details(answer: pd.DataFrame, items: pd.DataFrame | None, id_column: str = "itemId"
                      ) -> tuple[pd.DataFrame, bool]:
    """The answer with name, category and price joined from `items` (side_by_side.item_metadata) after
    the score, for the columns the answer lacks; (answer, True) when anything was joined."""
    if items is None or items.empty or id_column not in answer.columns or answer.empty:
        return answer, False
    missing = [c for c in DETAIL_COLUMNS if c not in answer.columns and c.upper() not in answer.columns]
    if not missing:
        return answer, False
    meta = items.reindex(answer[id_column].astype(str))
    out = answer.copy()
    at = list(out.columns).index("score") + 1 if "score" in out.columns else len(out.columns)
    for offset, column in enumerate(missing):
        values = meta[column].to_numpy()
        out.insert(at + offset, column, values if column == "price" else pd.Series(values).fillna("").to_numpy())
    return out, True


def cold_user_note(user_id: str | None, kind: str, data: GroupData) -> str | None:
    """A plain note when a user recipe is asked about a user with no interactions in the staged data;
    None for a user with history, for calls that take no user, and when there is no data to tell."""
    user = (user_id or "").strip()
    if not user or kind not in (USER, RANKING) or data.interactions is None:
        return None
    if int(data.history_lengths.get(user, 0)) > 0:
        return None
    known = data.users is not None and bool((data.users == user).any())
    who = (f"{user} is in the Users data but has no interactions" if known else
           f"{user} is not in the Users or Interactions data this dashboard imported")
    answer = ("the cold-start answer: the popular items, in the order this recipe ranks them for someone it "
              "knows nothing about" if kind == RANKING else
              "the cold-start answer (mostly the popular items), the list any new user gets")
    return (f"Cold user: {who}, so this list is {answer}. It turns personal after the user's first events "
            "(sent with PutEvents, or imported and trained on).")
