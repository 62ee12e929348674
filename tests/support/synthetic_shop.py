"""Seeded synthetic shop interactions as the engine's training input, for recipe-quality and metrics
tests and for bench_quality and bench_training.

This is not the dashboard's demo shop (`services.demo.shop_data.generate_shop`), and the two stay
separate on purpose: the demo shop is product data for people (Personalize's CSV columns, names,
prices, a view -> click -> cart -> purchase funnel, a cold-start cohort, numbers the story relies on,
byte-identical per seed), while this is a measuring instrument for recommenders (a planted latent
structure whose strength is a parameter, up to a million events, handed straight to the engine's
recipes as a `TrainingInput`, which the dashboard must never import). What both share, the sampling
idioms (shuffled power-law popularity, heavy-tailed activity, session starts), lives in
`services.demo.shop_data` and is used by both.

Shape, on purpose close to real shop data:
- items belong to categories (CATEGORY_L1, a few items carry two, '|'-separated) and, within a
  category, to small "styles" (clusters of ~10 items bought together): the structure a
  collaborative filter can find and popularity cannot;
- item popularity is power-law (Zipf 0.8) within a style, and styles have power-law popularity too;
- each user has a few preferred styles (drawn by style popularity), a power-law number of events
  grouped in sessions; a session stays in one style; a share of events are noise drawn from global
  popularity;
- timestamps ascend over `days` days; every item has a PRICE and a CREATION_TIMESTAMP; the newest
  `new_item_share` of items are created in the last week and have few or no interactions (cold items
  for exploration and the -v2 metadata path).

`make_training_input(...)` returns a `TrainingInput` exactly as the engine builds it (string ids, events
sorted by timestamp, weight 1.0). It is vectorised: 1M interactions take about a second.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.recipes.base import Interactions, TrainingInput
from services.demo.shop_data import DAY, heavy_tailed_activity, session_starts, shuffled_zipf

EPOCH = 1_700_000_000


def make_training_input(
    n_users: int = 2_000,
    n_items: int = 1_000,
    n_interactions: int = 40_000,
    n_categories: int = 12,
    style_size: int = 10,
    styles_per_user: int = 4,
    noise: float = 0.15,
    session_length: float = 4.0,
    days: int = 90,
    new_item_share: float = 0.03,
    seed: int = 0,
) -> TrainingInput:
    rng = np.random.default_rng(seed)
    n_styles = max(1, n_items // style_size)
    # Items: style (contiguous blocks, then shuffled ids), category per style, Zipf rank within style.
    item_style = np.minimum(np.arange(n_items) // style_size, n_styles - 1)
    perm = rng.permutation(n_items)
    item_style = item_style[perm]
    style_category = rng.integers(0, n_categories, n_styles)
    item_category = style_category[item_style]
    # New (cold) items: the last `new_item_share` of items get no style events.
    n_new = round(new_item_share * n_items)
    is_new = np.zeros(n_items, dtype=bool)
    if n_new:
        is_new[rng.choice(n_items, n_new, replace=False)] = True

    # Within-style item weights (Zipf 0.8 over a random order), style popularity Zipf 0.9.
    style_pop = shuffled_zipf(rng, n_styles, 0.9)
    style_pop /= style_pop.sum()
    order = np.argsort(item_style, kind="stable")
    sorted_styles = item_style[order]
    starts = np.searchsorted(sorted_styles, np.arange(n_styles))
    ends = np.searchsorted(sorted_styles, np.arange(n_styles), side="right")
    within_rank = np.arange(n_items) - starts[sorted_styles]
    w_sorted = 1.0 / (within_rank + 1.0) ** 0.8
    w_sorted[is_new[order]] = 0.0
    # Per-style cumulative weights, for vectorised inverse-CDF sampling.
    cum = np.cumsum(w_sorted)
    style_base = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0.0)
    style_base[starts == 0] = 0.0
    style_total = cum[np.maximum(ends - 1, 0)] - style_base
    item_w = np.zeros(n_items)
    item_w[order] = w_sorted
    global_w = item_w / np.maximum(style_total[item_style], 1e-12) * style_pop[item_style]
    global_w /= global_w.sum()

    # Users: power-law activity (at least 2 events), a few preferred styles.
    activity = heavy_tailed_activity(rng, n_users, 1.5, 60.0)
    counts = np.maximum(2, np.round(activity / activity.sum() * n_interactions)).astype(np.int64)
    excess = counts.sum() - n_interactions
    if excess > 0:  # trim the heaviest users back to the target size
        big = np.argsort(-counts)
        i = 0
        while excess > 0:
            u = big[i % n_users]
            take = min(excess, max(0, counts[u] - 2), max(1, counts[u] // 10))
            counts[u] -= take
            excess -= take
            i += 1
    user_styles = rng.choice(n_styles, size=(n_users, styles_per_user), p=style_pop)

    n_events = int(counts.sum())
    user_of_event = np.repeat(np.arange(n_users), counts)
    pos = np.arange(n_events) - np.repeat(np.cumsum(counts) - counts, counts)
    # Sessions: a new session starts with probability 1/session_length at each event.
    new_session = session_starts(rng, pos == 0, session_length)
    session_id = np.cumsum(new_session) - 1
    n_sessions = int(session_id[-1]) + 1 if n_events else 0
    session_user = user_of_event[new_session]
    session_style = user_styles[session_user, rng.integers(0, styles_per_user, n_sessions)]
    style_of_event = session_style[session_id]
    # Item within style by inverse CDF of the style's weights.
    u01 = rng.random(n_events)
    target = style_base[style_of_event] + u01 * style_total[style_of_event]
    sorted_pos = np.searchsorted(cum, target, side="right")
    sorted_pos = np.clip(sorted_pos, starts[style_of_event], np.maximum(ends[style_of_event] - 1, 0))
    item_of_event = order[sorted_pos]
    noisy = rng.random(n_events) < noise
    item_of_event[noisy] = rng.choice(n_items, int(noisy.sum()), p=global_w)
    # Timestamps: each user's events spread over the period in order; sessions share a day.
    span = days * DAY
    user_start = rng.integers(0, span // 2, n_users)
    session_offset = np.cumsum(rng.exponential(2.0, n_sessions))
    # Rebase session days per user to start at 0, then scale to fit in the rest of the period.
    user_first_session = np.zeros(n_users, dtype=np.int64)
    sess_start_idx = np.flatnonzero(np.r_[True, session_user[1:] != session_user[:-1]])
    user_first_session[session_user[sess_start_idx]] = sess_start_idx
    rel_day = session_offset - session_offset[user_first_session[session_user]]
    user_last = np.zeros(n_users)
    np.maximum.at(user_last, session_user, rel_day)
    scale = (span - user_start[session_user] - DAY) / np.maximum(user_last[session_user] * DAY, DAY)
    scale = np.minimum(scale, 1.0)
    session_ts = user_start[session_user] + rel_day * DAY * scale
    ts = (EPOCH + session_ts[session_id] + pos * 60).astype(np.int64)

    order_ev = np.argsort(ts, kind="stable")
    users = user_of_event[order_ev].astype(np.int32)
    items = item_of_event[order_ev].astype(np.int32)
    ts = ts[order_ev]

    end = EPOCH + span
    created = np.full(n_items, EPOCH - 365 * DAY, dtype=np.int64) + rng.integers(0, 300 * DAY, n_items)
    created[is_new] = end - rng.integers(0, 7 * DAY, n_new)
    first_seen = np.full(n_items, np.iinfo(np.int64).max)
    np.minimum.at(first_seen, items, ts)
    created = np.minimum(created, first_seen)

    categories = np.array([f"cat_{c:02d}" for c in range(n_categories)], dtype=object)
    cat_str = categories[item_category].astype(object)
    two = rng.random(n_items) < 0.05
    second = categories[rng.integers(0, n_categories, n_items)]
    cat_str[two] = cat_str[two] + "|" + second[two]
    features = pd.DataFrame(
        {
            "CATEGORY_L1": cat_str,
            "PRICE": np.round(rng.lognormal(3.0, 0.8, n_items), 2),
        }
    )
    return TrainingInput(
        interactions=Interactions(
            user_index=users,
            item_index=items,
            timestamp=ts,
            weight=np.ones(len(users), dtype=np.float32),
            n_users=n_users,
            n_items=n_items,
        ),
        user_ids=np.array([f"u{i}" for i in range(n_users)], dtype=object),
        item_ids=np.array([f"i{i}" for i in range(n_items)], dtype=object),
        item_features=features,
        item_created=created,
        seed=seed,
    )
