"""From dataset files to a trained, servable model bundle (one solution version)."""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import scipy.sparse as sp

from .recipes.base import Interactions, Recommender, TrainingInput, recency_matrix, recency_ranks
from .recipes.registry import RecipeSpec

MIN_INTERACTIONS = 1000
MIN_USERS_WITH_TWO = 25


class TrainingFailure(Exception):
    """Training cannot run on this data; the message is the version's failureReason."""


@dataclass
class ModelBundle:
    """What a campaign serves: the trained recipe plus the id maps and training histories."""

    model: Recommender
    recipe_name: str
    recipe_type: str
    user_ids: np.ndarray
    item_ids: np.ndarray
    history: sp.csr_matrix  # users x items, training interactions
    item_created: np.ndarray
    trained_until: int
    event_type: str | None = None
    item_meta: pd.DataFrame = field(default_factory=pd.DataFrame)
    # Per EVENT_TYPE, users x items: what Interactions.EVENT_TYPE filters look at.
    typed_history: dict[str, sp.csr_matrix] = field(default_factory=dict)
    # users x items, 1 + the rank of each item's newest event from the user's newest (recency_matrix):
    # only for a model that weighs its histories by recency (`Recommender.history_weights`).
    recency: sp.csr_matrix | None = None
    _user_pos: dict[str, int] | None = None
    _item_pos: dict[str, int] | None = None
    _cell_weights: tuple[np.ndarray | None] | None = None  # (cell_weights(),) once computed
    _item_names: list[str] | None = None
    _ranker: tuple[object, object, object] | None = None  # (model, history, ranker) once prepared

    @property
    def user_pos(self) -> dict[str, int]:
        if self._user_pos is None:
            self._user_pos = {u: i for i, u in enumerate(self.user_ids)}
        return self._user_pos

    @property
    def item_pos(self) -> dict[str, int]:
        if self._item_pos is None:
            self._item_pos = {it: i for i, it in enumerate(self.item_ids)}
        return self._item_pos

    @property
    def item_names(self) -> list[str]:
        """The item ids as a list of str: an answer's 25 ids are read from it, not from the object array."""
        if self._item_names is None:
            self._item_names = [str(it) for it in self.item_ids.tolist()]
        return self._item_names

    def cell_weights(self) -> np.ndarray | None:
        """The model's history weight of every training cell, in `history`'s stored order: a known user's
        row as serving weighs it when no events came since training, a slice instead of ranking the
        row's items again on every request. Computed once; None where `recency` is absent or not laid
        out cell for cell as `history` (serving then ranks the row's items itself)."""
        if self._cell_weights is None:
            self._cell_weights = (self._weights_of_cells(),)
        return self._cell_weights[0]

    def trained_row_ranker(self) -> Callable[[int, int, np.ndarray | None, np.ndarray | None],
                                             tuple[np.ndarray, np.ndarray] | None] | None:
        """The model's ranker of this bundle's training rows with their `cell_weights`
        (Recommender.trained_row_ranker), prepared on first use; None where the model has none or the
        cells carry no weights. Kept with the model and history it was prepared for (a bundle copied
        with another of either prepares its own)."""
        kept = self._ranker
        if kept is None or kept[0] is not self.model or kept[1] is not self.history:
            weights = self.cell_weights()
            ranker = None if weights is None else self.model.trained_row_ranker(self.history, weights)
            kept = self._ranker = (self.model, self.history, ranker)
        return kept[2]  # type: ignore[return-value]

    def _weights_of_cells(self) -> np.ndarray | None:
        h, r = self.history, self.recency
        if (r is None or r.shape != h.shape or not h.has_sorted_indices or not np.array_equal(r.indptr, h.indptr)
                or not np.array_equal(r.indices, h.indices)):
            return None
        weights = self.model.history_weights(r.data.astype(np.int64) - 1)
        return np.ones(h.nnz, dtype=np.float32) if weights is None else np.asarray(weights, dtype=np.float32)

    def save(self, path: Path) -> None:
        self._user_pos = self._item_pos = self._cell_weights = self._item_names = self._ranker = None
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("wb") as fh:
            pickle.dump(self, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)

    @staticmethod
    def load(path: Path) -> ModelBundle:
        with path.open("rb") as fh:
            return pickle.load(fh)


def interactions_frame(table: pa.Table | None, events: pd.DataFrame) -> pd.DataFrame:
    """Imported interactions plus those streamed with PutEvents, as one frame."""
    parts = []
    if table is not None and table.num_rows:
        parts.append(table.to_pandas())
    if not events.empty:
        parts.append(events)
    if not parts:
        return pd.DataFrame(columns=["USER_ID", "ITEM_ID", "TIMESTAMP"])
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    frame["USER_ID"] = frame["USER_ID"].astype(str)
    frame["ITEM_ID"] = frame["ITEM_ID"].astype(str)
    frame["TIMESTAMP"] = pd.to_numeric(frame["TIMESTAMP"], errors="coerce").fillna(0).astype("int64")
    return frame


def select_events(frame: pd.DataFrame, event_type: str | None, threshold: str | None) -> pd.DataFrame:
    if event_type and "EVENT_TYPE" in frame.columns:
        frame = frame[frame["EVENT_TYPE"].astype(str) == event_type]
    if threshold not in (None, "") and "EVENT_VALUE" in frame.columns:
        values = pd.to_numeric(frame["EVENT_VALUE"], errors="coerce")
        frame = frame[values >= float(threshold)]
    return frame


def check_minimum(inter: Interactions, what: str) -> None:
    n = len(inter)
    users_two = int((np.bincount(inter.user_index, minlength=inter.n_users) >= 2).sum())
    if n < MIN_INTERACTIONS or users_two < MIN_USERS_WITH_TWO:
        raise TrainingFailure(
            f"Not enough data to train: Amazon Personalize needs at least {MIN_INTERACTIONS:,} "
            f"interactions and {MIN_USERS_WITH_TWO} users with 2 or more; {what} has {n:,} "
            f"interactions and {users_two} such users. Import more interactions or stream events "
            "with PutEvents, then train again."
        )


def _ids_in_time_order(values: pd.Series, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the distinct ids in the order they first occur in time order, each event's position among them,
    events in time order): what `pd.unique` and `get_indexer` over the time-sorted column give, from
    one hash pass over the column as it is (sorting the frame's string columns and hashing every id
    twice took ~1.5 s of a training's serial start at 1M events)."""
    codes, uniques = pd.factorize(values)
    in_time = codes[order]
    first = np.full(len(uniques), len(in_time), dtype=np.int64)
    np.minimum.at(first, in_time, np.arange(len(in_time), dtype=np.int64))  # each id's first event
    by_first = np.argsort(first)
    position = np.empty(len(by_first), dtype=np.int32)
    position[by_first] = np.arange(len(by_first), dtype=np.int32)
    return np.asarray(uniques, dtype=object)[by_first], position[in_time]


def _ordered_ids(seen: np.ndarray, previous: np.ndarray | None, extra: pd.Series | None = None) -> np.ndarray:
    """`seen` (distinct, in order of appearance) then `extra`'s other ids; previous ids keep their index
    and new ids are appended (so UPDATE can extend a model)."""
    if extra is not None and len(extra):
        more = pd.unique(extra)
        seen = np.concatenate([seen, np.asarray(more[~pd.Index(more).isin(seen)], dtype=object)])
    if previous is None:
        return seen
    prev = pd.Index(previous)
    new = [v for v in seen if v not in prev] if len(seen) < 1000 else list(pd.Index(seen).difference(prev))
    return np.concatenate([np.asarray(previous, dtype=object), np.asarray(new, dtype=object)])


def item_metadata(items: pd.DataFrame, item_ids: np.ndarray) -> pd.DataFrame:
    if items.empty or "ITEM_ID" not in items.columns:
        return pd.DataFrame(index=range(len(item_ids)))
    meta = items.drop_duplicates("ITEM_ID", keep="last").set_index("ITEM_ID")
    meta.index = meta.index.astype(str)
    return meta.reindex(pd.Index(item_ids, dtype=object)).reset_index(drop=True)


def build_input(
    frame: pd.DataFrame,
    items: pd.DataFrame,
    params: dict[str, str],
    seed: int,
    previous: ModelBundle | None = None,
) -> TrainingInput:
    stamps = frame["TIMESTAMP"].to_numpy(dtype=np.int64)
    order = np.argsort(stamps, kind="stable")  # events in time order; ties keep the file's order
    ts = stamps[order]
    catalogue = items["ITEM_ID"].astype(str) if "ITEM_ID" in items.columns else None
    seen_users, u_seen = _ids_in_time_order(frame["USER_ID"], order)
    seen_items, i_seen = _ids_in_time_order(frame["ITEM_ID"], order)
    user_ids = _ordered_ids(seen_users, previous.user_ids if previous else None)
    item_ids = _ordered_ids(seen_items, previous.item_ids if previous else None, catalogue)
    u, i = u_seen, i_seen  # the ids seen lead user_ids and item_ids...
    if previous is not None:  # ...unless a previous model's come first
        u = pd.Index(user_ids).get_indexer(seen_users).astype(np.int32)[u_seen]
        i = pd.Index(item_ids).get_indexer(seen_items).astype(np.int32)[i_seen]
    interactions = Interactions(u, i, ts, np.ones(len(u), dtype=np.float32), len(user_ids), len(item_ids))
    meta = item_metadata(items, item_ids)
    created = np.full(len(item_ids), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(created, i, ts)
    if "CREATION_TIMESTAMP" in meta.columns:
        declared = pd.to_numeric(meta["CREATION_TIMESTAMP"], errors="coerce").to_numpy()
        has = ~np.isnan(declared)
        created[has] = declared[has].astype(np.int64)
    created[created == np.iinfo(np.int64).max] = int(ts.max()) if len(ts) else int(time.time())
    return TrainingInput(interactions, user_ids, item_ids, meta, created, dict(params), seed)


def train(
    spec: RecipeSpec,
    data: TrainingInput,
    mode: str,
    previous: ModelBundle | None,
    event_type: str | None,
    model: Recommender | None = None,
) -> ModelBundle:
    """`model`: one the caller built (and may have `prepare`d) for this data, to fit from scratch."""
    if mode == "UPDATE" and previous is not None and previous.recipe_name == spec.name:
        model = previous.model
        model.update(data)
    else:
        model = model or spec.model(params=data.params, seed=data.seed)
        model.fit(data)
    inter = data.interactions
    return ModelBundle(
        model=model,
        recipe_name=spec.name,
        recipe_type=spec.recipe_type,
        user_ids=data.user_ids,
        item_ids=data.item_ids,
        history=inter.matrix(),
        item_created=data.item_created if data.item_created is not None else np.zeros(inter.n_items),
        trained_until=int(inter.timestamp.max()) if len(inter) else 0,
        event_type=event_type,
        item_meta=data.item_features,
        recency=(recency_matrix(inter.user_index, inter.item_index, recency_ranks(inter.user_index),
                                (inter.n_users, inter.n_items))
                 if model.history_weights(np.zeros(1, dtype=np.int64)) is not None else None),
    )


def train_measured(
    spec: RecipeSpec, data: TrainingInput, seed: int, event_type: str | None
) -> tuple[ModelBundle, dict[str, float]]:
    """trainingMode FULL with AWS's offline metrics: a model trained without the held-out users and
    scored on them (`engine.metrics`' protocol), and the model to serve, trained on everyone.

    The model to serve needs only what the metrics' model chose (its candidate, measured on the
    training users alone: nothing held out leaks), and the part of its fit that does not depend on
    the choice (`Recommender.prepare`: local EASE's support) is started first. One second thread
    runs, in this order, the probe's prepared work, the final model's, then the final fit itself,
    while this one selects and then scores the held-out users; the models share nothing mutable, so
    the results are those of one after the other, and both cores stay busy.
    """
    from .metrics import holdout_split, score_holdout

    part, histories, truth, held = holdout_split(data, seed)
    probe = spec.model(params=dict(data.params), seed=seed)
    final = spec.model(params=dict(data.params), seed=data.seed)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="final-fit") as pool:
        probe.prepare(part, pool)
        final.prepare(data, pool)
        probe.fit(part)
        final.reuse_choice(probe)  # no second selection
        final_fit = pool.submit(train, spec, data, "FULL", None, event_type, final)
        metrics = {k: float(v) for k, v in score_holdout(spec, probe, data, histories, truth, held).items()}
        bundle = final_fit.result()
    return bundle, metrics


def hyperparameters(solution: dict) -> dict[str, str]:
    config = solution.get("solutionConfig") or {}
    params = dict(config.get("algorithmHyperParameters") or {})
    return {str(k): str(v) for k, v in params.items()}


def _positions_in(values: pd.Series, ids: np.ndarray) -> np.ndarray:
    """Each value's index in `ids`, -1 where absent: `get_indexer` over the distinct values only (a
    million ids hashed once, not looked up one by one in a 50k-entry index)."""
    codes, uniques = pd.factorize(values)
    found = pd.Index(ids).get_indexer(uniques)
    return np.where(codes >= 0, found[codes], -1)


def typed_histories(frame: pd.DataFrame, user_ids: np.ndarray, item_ids: np.ndarray) -> dict[str, sp.csr_matrix]:
    """Per EVENT_TYPE, users x items: for each item a user interacted with, the recency rank of their
    latest interaction with it among all their interactions of that type (1 = the newest). Interaction
    filters read it: AWS considers a user's 100 most recent interactions per event type."""
    if "EVENT_TYPE" not in frame.columns:
        return {}
    u = _positions_in(frame["USER_ID"], user_ids)
    i = _positions_in(frame["ITEM_ID"], item_ids)
    keep = (u >= 0) & (i >= 0)
    type_of, type_names = pd.factorize(frame["EVENT_TYPE"].astype(str))
    stamps = (pd.to_numeric(frame["TIMESTAMP"], errors="coerce").fillna(0).to_numpy(dtype=np.int64)
              if "TIMESTAMP" in frame.columns else np.zeros(len(frame), dtype=np.int64))
    out: dict[str, sp.csr_matrix] = {}
    for code in pd.unique(type_of[keep]):
        event_type = type_names[code]
        sel = np.flatnonzero(keep & (type_of == code))
        order = sel[np.lexsort((-stamps[sel], u[sel]))]  # by user, newest first (stable for equal times)
        users, items = u[order], i[order]
        starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
        rank = np.arange(len(users)) - np.repeat(starts, np.diff(np.r_[starts, len(users)])) + 1
        latest = ~pd.DataFrame({"u": users, "i": items}).duplicated().to_numpy()  # first seen = newest
        m = sp.csr_matrix(
            (rank[latest].astype(np.float32), (users[latest], items[latest])),
            shape=(len(user_ids), len(item_ids)),
        )
        m.sort_indices()
        out[str(event_type)] = m
    return out
