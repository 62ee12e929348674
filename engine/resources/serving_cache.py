"""Everything the serving path keeps in memory between requests, behind one object.

- per campaign: the stored record it was built from, its ModelBundle and its dataset group;
- which (campaign, filter) pairs were answered since their campaign record last changed ("warm");
- per dataset group: the item metadata frame and a version that every change of it bumps;
- filter masks that depend only on item metadata, the match of each Items condition of a filter (for
  filters that also read interactions), and metadata aligned with a model's items (rebuilding any of
  them per request costs ~10 ms on a 20k-item catalogue).

Entries are keyed by the objects they were built from (a stored record is replaced, never mutated, on
every write; a model is held by weak reference), so a stale entry is never served.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..store import Record
from ..training import ModelBundle

MAX_MASKS = 256


class ServingCache:
    def __init__(self, lock: threading.RLock, load_items: Callable[[str], pd.DataFrame]) -> None:
        self._lock = lock
        self._load_items = load_items
        self._serving: dict[str, tuple[Record, ModelBundle, str]] = {}
        self._warm: set[tuple[str, str | None]] = set()
        self._items_frames: dict[str, tuple[int, pd.DataFrame]] = {}
        self._items_versions: dict[str, int] = {}
        self._masks: dict[tuple, tuple[weakref.ref, np.ndarray]] = {}
        self._conditions: dict[tuple, tuple[weakref.ref, np.ndarray]] = {}
        self._aligned_meta: dict[tuple, tuple[weakref.ref, pd.DataFrame]] = {}

    # -- campaigns ----------------------------------------------------------------------------
    def campaign(self, arn: str, record: Record) -> tuple[ModelBundle, str] | None:
        """The bundle and group cached for this very record, or None."""
        cached = self._serving.get(arn)
        if cached is not None and cached[0] is record:
            return cached[1], cached[2]
        return None

    def keep_campaign(self, arn: str, record: Record, bundle: ModelBundle, group_arn: str) -> None:
        self._serving[arn] = (record, bundle, group_arn)

    def forget_campaign(self, arn: str) -> None:
        self._serving.pop(arn, None)

    def answered(self, campaign_arn: str, filter_arn: str | None) -> None:
        self._warm.add((campaign_arn, filter_arn))

    def is_warm(self, campaign_arn: str, record: Record | None, filter_arn: str | None, needs_items: bool) -> bool:
        """See `Backend.serves_from_memory`: answered before on this very record, with item metadata
        loaded as it stands now if the call reads it."""
        cached = self._serving.get(campaign_arn)
        if cached is None or cached[0] is not record or (campaign_arn, filter_arn) not in self._warm:
            return False
        if filter_arn or needs_items:
            items = self._items_frames.get(cached[2])
            return items is not None and items[0] == self._items_versions.get(cached[2], 0)
        return True

    # -- item metadata ------------------------------------------------------------------------
    def items_changed(self, group_arn: str) -> None:
        """Item metadata of the group changed (import, PutItems, delete): cached frames are stale."""
        with self._lock:
            self._items_versions[group_arn] = self._items_versions.get(group_arn, 0) + 1

    def items_version(self, group_arn: str) -> int:
        return self._items_versions.get(group_arn, 0)

    def items_frame(self, group_arn: str) -> pd.DataFrame:
        """Current item metadata of the group, one row per ITEM_ID."""
        version = self.items_version(group_arn)
        cached = self._items_frames.get(group_arn)
        if cached and cached[0] == version:
            return cached[1]
        frame = self._load_items(group_arn)
        self._items_frames[group_arn] = (version, frame)
        return frame

    def aligned_items(self, bundle: ModelBundle, group_arn: str) -> pd.DataFrame:
        """Item metadata reindexed to the model's items (row k describes the model's item k)."""
        # Keyed by the model object; a weak reference proves it is still the same one (ids are reused).
        key = (id(bundle), group_arn, self.items_version(group_arn))
        aligned = self._aligned_meta.get(key)
        if aligned is not None and aligned[0]() is bundle:
            return aligned[1]
        meta = self.items_frame(group_arn).set_index("ITEM_ID").reindex(pd.Index(bundle.item_ids))
        self._aligned_meta = {key: (weakref.ref(bundle), meta)}  # campaigns rarely mix models
        return meta

    # -- filter masks -------------------------------------------------------------------------
    def mask_key(self, filter_arn: str, bundle: ModelBundle, group_arn: str, values: dict[str, Any]) -> tuple:
        return (filter_arn, id(bundle), self.items_version(group_arn), tuple(sorted(values.items())))

    def mask(self, key: tuple, bundle: ModelBundle) -> np.ndarray | None:
        cached = self._masks.get(key)
        if cached is not None and cached[0]() is bundle:  # the same filter and values on the same model
            return cached[1]
        return None

    def keep_mask(self, key: tuple, bundle: ModelBundle, mask: np.ndarray) -> None:
        if len(self._masks) >= MAX_MASKS:
            self._masks.pop(next(iter(self._masks), None), None)  # another thread may evict it first
        mask.flags.writeable = False  # shared between requests
        self._masks[key] = (weakref.ref(bundle), mask)

    def condition_mask(self, bundle: ModelBundle, group_arn: str, condition: Any, values: list[object],
                       compute: Callable[[], np.ndarray]) -> np.ndarray:
        """One Items condition's match over the model's items for these resolved values, computed once
        per model, item-metadata version and values (read-only: shared between requests)."""
        # repr: resolved values may hold lists (a bad parameter), which do not hash; they fail in compute.
        key = (id(bundle), group_arn, self.items_version(group_arn), condition, repr(values))
        cached = self._conditions.get(key)
        if cached is not None and cached[0]() is bundle:
            return cached[1]
        mask = compute()
        if len(self._conditions) >= MAX_MASKS:
            self._conditions.pop(next(iter(self._conditions), None), None)
        mask.flags.writeable = False
        self._conditions[key] = (weakref.ref(bundle), mask)
        return mask
