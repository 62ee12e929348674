"""The side-by-side grid's cells in a shape that fits a column of the page.

A ranked cell (rank, item id, name, category path, price, shared) needs about 545 px; two campaigns beside
each other get about 460 px each at 1,400 px. What a product manager needs to spot duplication is which
item (its name and the kind of thing it is), its price and how many of the users shown got it, so the
name and the category's last level share one column, the full paths go to that column's help, and the
shared count is a number. Everything here stays plain text: the page shows it in grids, never as Markdown.
"""

from __future__ import annotations

import pandas as pd

CATEGORY_SEPARATOR = " › "  # how item_metadata joins category levels
COMPACT_COLUMNS = ["#", "item", "price", "shared"]


def category_leaf(path: str) -> str:
    """The last level of a category path ("Home & Kitchen › Coffee" -> "Coffee"); several categories
    ("A › x, B › y") keep each one's last level."""
    parts = [p.strip().split(CATEGORY_SEPARATOR.strip())[-1].strip() for p in str(path or "").split(", ")]
    return ", ".join(p for p in parts if p)


def item_label(item_id: str, name: str, category: str) -> str:
    """"Name · leaf" when the item has a name (its id otherwise), so one column tells what the item is."""
    label = str(name or "").strip() or str(item_id)
    leaf = category_leaf(category)
    return f"{label} · {leaf}" if leaf else label


def compact_cell(cell: pd.DataFrame) -> pd.DataFrame:
    """A ranked cell as #, item, price (when known), shared (a count of the users shown) and `_share`."""
    has_names = "name" in cell.columns
    names = cell["name"] if has_names else pd.Series("", index=cell.index)
    categories = cell["category"] if "category" in cell.columns else pd.Series("", index=cell.index)
    out = pd.DataFrame({
        "#": cell["#"].to_numpy(),
        "item": [item_label(i, n, c) for i, n, c in zip(cell["item"], names.fillna(""), categories.fillna(""),
                                                         strict=True)],
    })
    if "price" in cell.columns and pd.to_numeric(cell["price"], errors="coerce").notna().any():
        out["price"] = pd.to_numeric(cell["price"], errors="coerce").to_numpy()
    out["shared"] = cell["shared"].astype(str).str.split("/").str[0].astype(int).to_numpy()
    out["_share"] = cell["_share"].to_numpy()
    return out


def category_paths_help(cell: pd.DataFrame) -> str:
    """The item column's help: what it holds and the full category paths of this cell's items."""
    base = "Item name · the last level of its category."
    if "category" not in cell.columns:
        return "Item id (no item metadata staged for this group)."
    paths = sorted({str(c) for c in cell["category"].fillna("") if str(c).strip()})
    return base + (" Full categories here: " + "; ".join(paths) + "." if paths else "")


def history_line(past: pd.DataFrame | None) -> str:
    """A user's recent history as one line of text, newest first: "name (event), …" (ids without names)."""
    if past is None or not len(past):
        return ""
    names = past["name"] if "name" in past.columns else pd.Series("", index=past.index)
    events = past["event"] if "event" in past.columns else pd.Series("", index=past.index)
    shown = []
    for item, name, event in zip(past["item_id"], names.fillna(""), events.fillna(""), strict=True):
        label = str(name).strip() or str(item)
        shown.append(f"{label} ({event})" if str(event).strip() else label)
    return ", ".join(shown)


def verdict_headline(verdict: str) -> str:
    """A verdict's headline, the words before its first colon ("Duplication beyond cold start: 88% of …"
    -> "Duplication beyond cold start"): short enough for a table column, the full verdict shown apart."""
    head, _, _ = str(verdict or "").partition(": ")
    return head.strip()
