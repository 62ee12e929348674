"""A seeded, realistic e-commerce demo shop: items, users and a stream of shopping events.

What makes it realistic enough for recommendation demos:
- item popularity follows a power law (a few hits, a long tail);
- every user prefers 1-3 categories and mostly browses them;
- events come in sessions (bursts of views a minute or so apart);
- a view may lead to click -> add-to-cart -> purchase on the same item (a shop funnel);
- a cohort of brand-new users has no or only 1-2 events, at the end of the period (cold start).
Everything is vectorised with one numpy Generator, so the same seed always gives the same shop.

It is the shop people look at, and the story's numbers depend on it, so its output is fixed per seed.
The tests' large synthetic data for measuring recipes (`tests/support/synthetic_shop.py`) is a
different thing built from the same sampling idioms, which live here (`shuffled_zipf`,
`heavy_tailed_activity`, `session_starts`): one place for how shops are drawn, two shops for two uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

EVENT_TYPES = ("view", "click", "add-to-cart", "purchase")
# Funnel: share of views that get a click, of clicks that reach the cart, of carts that are bought.
# Gives roughly view 100 : click 30 : cart 10 : purchase 4, close to what shops report.
FUNNEL = (0.30, 0.33, 0.40)
DEFAULT_START = datetime(2025, 1, 1, tzinfo=UTC)
DAY = 86_400

# L1 -> L2 -> product nouns; names are "<adjective> <noun> <number>", e.g. "Trail running shoe 42".
CATALOG: dict[str, dict[str, tuple[str, ...]]] = {
    "Shoes": {
        "Running": ("running shoe", "trail running shoe", "racing flat"),
        "Casual": ("sneaker", "loafer", "canvas shoe"),
        "Boots": ("hiking boot", "ankle boot", "rain boot"),
    },
    "Apparel": {
        "Tops": ("t-shirt", "hoodie", "polo shirt"),
        "Bottoms": ("jeans", "chinos", "running shorts"),
        "Outerwear": ("rain jacket", "down jacket", "fleece"),
    },
    "Electronics": {
        "Audio": ("headphones", "earbuds", "speaker"),
        "Computers": ("laptop stand", "keyboard", "mouse"),
        "Phones": ("phone case", "charger", "power bank"),
    },
    "Home & Kitchen": {
        "Cookware": ("frying pan", "saucepan", "dutch oven"),
        "Coffee": ("espresso cup", "coffee grinder", "french press"),
        "Decor": ("cushion", "vase", "table lamp"),
    },
    "Beauty": {
        "Skincare": ("face cream", "serum", "cleanser"),
        "Hair": ("shampoo", "conditioner", "hair oil"),
    },
    "Sports & Outdoors": {
        "Camping": ("tent", "sleeping bag", "camping stove"),
        "Fitness": ("yoga mat", "dumbbell", "resistance band"),
        "Cycling": ("bike light", "helmet", "water bottle"),
    },
    "Toys": {
        "Building": ("brick set", "marble run", "magnetic tiles"),
        "Games": ("board game", "card game", "puzzle"),
    },
    "Books": {
        "Fiction": ("novel", "thriller", "short stories"),
        "Cooking": ("cookbook", "baking book", "grill guide"),
    },
}
ADJECTIVES = (
    "Classic",
    "Pro",
    "Lightweight",
    "Everyday",
    "Premium",
    "Compact",
    "Eco",
    "Urban",
    "Trail",
    "Deluxe",
    "Essential",
    "Sport",
)
# Typical price (median, in the shop's currency) per L1 category; prices are log-normal around it.
MEDIAN_PRICE = {
    "Shoes": 80.0,
    "Apparel": 35.0,
    "Electronics": 45.0,
    "Home & Kitchen": 30.0,
    "Beauty": 18.0,
    "Sports & Outdoors": 40.0,
    "Toys": 25.0,
    "Books": 15.0,
}
AGE_GROUPS = ("18-24", "25-34", "35-44", "45-54", "55+")
MEMBERSHIP = ("standard", "silver", "gold")


@dataclass
class DemoShop:
    """Three DataFrames with Personalize's CSV column names, plus how they were made."""

    interactions: pd.DataFrame
    items: pd.DataFrame
    users: pd.DataFrame
    seed: int
    new_user_ids: list[str]
    # The ground truth the events were drawn from (never imported): each established user's share of
    # views per L1 category (rows: the first users, columns: CATALOG's order), and item popularity.
    tastes: np.ndarray | None = None
    popularity: np.ndarray | None = None


def _items(rng: np.random.Generator, n_items: int, start_s: int, days: int) -> pd.DataFrame:
    leaves = [(l1, l2) for l1, subs in CATALOG.items() for l2 in subs]
    leaf = rng.integers(0, len(leaves), n_items)
    l1 = np.array([leaves[i][0] for i in range(len(leaves))], dtype=object)[leaf]
    l2 = np.array([leaves[i][1] for i in range(len(leaves))], dtype=object)[leaf]
    # One noun per item from its leaf's vocabulary: pick by a random index modulo the vocab size (3).
    nouns_by_leaf = np.array([CATALOG[a][b] for a, b in leaves], dtype=object)
    noun = nouns_by_leaf[leaf, rng.integers(0, 3, n_items)]
    adjective = np.asarray(ADJECTIVES, dtype=object)[rng.integers(0, len(ADJECTIVES), n_items)]
    number = rng.integers(1, 100, n_items).astype(str)
    names = pd.Series(adjective) + " " + pd.Series(noun) + " " + pd.Series(number)
    names = names.str.slice(0, 1).str.upper() + names.str.slice(1).str.lower()
    median = pd.Series(l1).map(MEDIAN_PRICE).to_numpy(dtype="float64")
    price = np.round(median * rng.lognormal(0.0, 0.5, n_items), 0) - 0.01
    # Most of the catalogue predates the period; ~10% of items launch during it.
    created = start_s - rng.integers(0, 365 * DAY, n_items)
    launched = rng.random(n_items) < 0.10
    created[launched] = start_s + rng.integers(0, days * DAY, int(launched.sum()))
    width = max(5, len(str(n_items)))
    return pd.DataFrame(
        {
            "ITEM_ID": [f"P{i:0{width}d}" for i in range(1, n_items + 1)],
            "CATEGORY_L1": l1,
            "CATEGORY_L2": l2,
            "PRICE": np.maximum(price, 0.99),
            "CREATION_TIMESTAMP": created.astype("int64"),
            "NAME": names.to_numpy(dtype=object),
        }
    )


def _users(rng: np.random.Generator, n_users: int) -> pd.DataFrame:
    width = max(5, len(str(n_users)))
    return pd.DataFrame(
        {
            "USER_ID": [f"U{i:0{width}d}" for i in range(1, n_users + 1)],
            "AGE_GROUP": np.asarray(AGE_GROUPS, dtype=object)[
                rng.choice(len(AGE_GROUPS), n_users, p=[0.15, 0.32, 0.25, 0.16, 0.12])
            ],
            "MEMBERSHIP_STATUS": np.asarray(MEMBERSHIP, dtype=object)[
                rng.choice(len(MEMBERSHIP), n_users, p=[0.70, 0.22, 0.08])
            ],
        }
    )


def _category_preferences(rng: np.random.Generator, n_users: int, n_cats: int) -> np.ndarray:
    """users x L1-categories probability matrix: 1-3 liked categories take 85%, the rest share 15%."""
    scores = rng.random((n_users, n_cats))
    n_liked = rng.integers(1, 4, n_users)
    rank = np.argsort(np.argsort(-scores, axis=1), axis=1)
    liked = rank < n_liked[:, None]
    weights = np.where(liked, 0.85 / n_liked[:, None], 0.15 / (n_cats - n_liked[:, None]))
    return weights / weights.sum(axis=1, keepdims=True)


def shuffled_zipf(rng: np.random.Generator, n: int, exponent: float) -> np.ndarray:
    """Power-law weights 1/rank**exponent over a random order of `n` things (unnormalised)."""
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return weights[rng.permutation(n)]


def heavy_tailed_activity(rng: np.random.Generator, n: int, shape: float, cap: float) -> np.ndarray:
    """How active each of `n` shoppers is: Pareto, at least 1, capped so no one dominates the data."""
    return np.minimum(rng.pareto(shape, n) + 1.0, cap)


def session_starts(rng: np.random.Generator, first_of_user: np.ndarray, mean_length: float) -> np.ndarray:
    """Which events open a session: a user's first, and any other with probability 1/mean_length."""
    return first_of_user | (rng.random(first_of_user.size) < 1.0 / mean_length)


@dataclass
class _Views:
    """The established users' views, one entry per view: who, which item, when."""

    user: np.ndarray
    item: np.ndarray
    ts: np.ndarray
    tastes: np.ndarray


def generate_shop(
    n_users: int = 1_500,
    n_items: int = 600,
    n_interactions: int = 32_000,
    seed: int = 0,
    start: datetime = DEFAULT_START,
    days: int = 90,
    new_user_share: float = 0.08,
    popularity_exponent: float = 1.0,
) -> DemoShop:
    """Generate the demo shop. Exactly `n_interactions` events over `days` days from `start` (UTC).

    The defaults train in seconds; tests use e.g. ``generate_shop(200, 120, 3_000)``. Every step
    draws from one Generator in a fixed order: reordering the draws would change every shop.
    """
    if n_users < 30 or n_items < 10 or n_interactions < n_users:
        raise ValueError("The demo shop needs at least 30 users, 10 items and as many events as users.")
    rng = np.random.default_rng(seed)
    start_s = int(start.timestamp())
    end_s = start_s + days * DAY
    items = _items(rng, n_items, start_s, days)
    users = _users(rng, n_users)
    # Rank 1 is the best seller.
    popularity = shuffled_zipf(rng, n_items, popularity_exponent)
    created = items["CREATION_TIMESTAMP"].to_numpy()

    # The brand-new cohort: the last `new_user_share` of users, with 0, 1 or 2 events near the end.
    n_new = max(3, round(n_users * new_user_share))
    n_old = n_users - n_new
    new_counts = rng.choice([0, 1, 2], n_new, p=[0.4, 0.35, 0.25])

    # Views for established users: events per view = 1 + c + c*a + c*a*p under the funnel.
    c, a, p = FUNNEL
    events_per_view = 1 + c + c * a + c * a * p
    n_views = int(np.ceil((n_interactions - int(new_counts.sum())) / events_per_view * 1.04)) + 50
    views = _browsing(rng, n_old, n_views, items, popularity, start_s, end_s)
    events, clicked = _funnel(rng, views)
    new_events = _newcomer_views(rng, new_counts, n_old, popularity, created, end_s)

    # Trim to exactly the requested size by dropping views that led nowhere (keeps every funnel whole).
    excess = len(events) + len(new_events) - n_interactions
    if excess > 0:
        lone = np.flatnonzero((events["type"] == "view").to_numpy() & ~clicked[events["view"].to_numpy()])
        events = events.drop(index=rng.choice(lone, min(excess, lone.size), replace=False))
    events = pd.concat([events.drop(columns="view"), new_events], ignore_index=True)
    events = events.sort_values(["ts", "user"], kind="stable", ignore_index=True)
    return DemoShop(_interactions(events, items, users), items, users, seed, users["USER_ID"].iloc[n_old:].tolist(),
                    views.tastes, popularity)


def _browsing(rng: np.random.Generator, n_old: int, n_views: int, items: pd.DataFrame, popularity: np.ndarray,
              start_s: int, end_s: int) -> _Views:
    """Sessions of views by the established users (the first `n_old`), each session in one category."""
    # Heavy-tailed activity: a few very active shoppers.
    activity = heavy_tailed_activity(rng, n_old, 1.3, 25.0)
    view_user = rng.choice(n_old, n_views, p=activity / activity.sum())

    # Sessions: consecutive views of a user, ~4 views on average, each session on one category.
    view_user.sort()
    new_session = session_starts(rng, np.r_[True, view_user[1:] != view_user[:-1]], 4.0)
    session = np.cumsum(new_session) - 1
    n_sessions = int(session[-1]) + 1
    session_user = view_user[new_session]
    session_start = rng.integers(start_s, end_s - 3_600, n_sessions)
    l1_names = list(CATALOG)
    prefs = _category_preferences(rng, n_old, len(l1_names))
    # Inverse-CDF sampling of each session's category from its user's preference row (vectorised).
    cum = prefs[session_user].cumsum(axis=1)
    session_cat = (rng.random(n_sessions)[:, None] > cum).sum(axis=1).clip(0, len(l1_names) - 1)

    # Within a session, views are a minute or so apart.
    first_in_session = np.flatnonzero(new_session)
    step = rng.exponential(70.0, n_views).astype("int64") + 5
    step[first_in_session] = 0
    within = np.cumsum(step) - np.repeat(np.cumsum(step)[first_in_session], np.diff(np.r_[first_in_session, n_views]))
    view_ts = session_start[session] + within

    item_cat = pd.Categorical(items["CATEGORY_L1"], categories=l1_names).codes
    view_item = _pick_items(rng, session_cat[session], item_cat, popularity)
    # Items cannot be seen before they exist: a view of an item launched after its session moves to
    # just after the launch (so new items get early views).
    created = items["CREATION_TIMESTAMP"].to_numpy()
    view_ts = np.maximum(view_ts, created[view_item] + rng.integers(60, 3 * DAY, n_views))
    view_ts = np.minimum(view_ts, end_s - 1_000)  # leave room for the funnel steps that follow
    return _Views(view_user, view_item, view_ts, prefs)


def _pick_items(rng: np.random.Generator, view_cat: np.ndarray, item_cat: np.ndarray,
                popularity: np.ndarray) -> np.ndarray:
    """For each view, an item of its category drawn by popularity (any item if the category is empty)."""
    view_item = np.empty(view_cat.size, dtype=np.int64)
    for cat in range(len(CATALOG)):  # one vectorised draw per category, not per event
        rows = np.flatnonzero(view_cat == cat)
        pool = np.flatnonzero(item_cat == cat)
        if rows.size == 0:
            continue
        if pool.size == 0:
            pool = np.arange(popularity.size)
        w = popularity[pool]
        view_item[rows] = pool[rng.choice(pool.size, rows.size, p=w / w.sum())]
    return view_item


def _funnel(rng: np.random.Generator, views: _Views) -> tuple[pd.DataFrame, np.ndarray]:
    """Each view, and the click, cart and purchase it may lead to on the same item a few minutes later.

    Returns the events (with the index of the view each came from) and which views were clicked.
    """
    n_views = views.user.size
    c, a, p = FUNNEL
    clicked = rng.random(n_views) < c
    carted = clicked & (rng.random(n_views) < a)
    bought = carted & (rng.random(n_views) < p)
    stages = [np.ones(n_views, bool), clicked, carted, bought]
    # Each step comes 20 s to 4 min after the previous one, so the funnel stays in order.
    offsets = np.cumsum(rng.integers(20, 240, (n_views, len(stages))), axis=1)
    offsets[:, 0] = 0
    parts = []
    for stage, (mask, etype) in enumerate(zip(stages, EVENT_TYPES, strict=True)):
        idx = np.flatnonzero(mask)
        parts.append(
            pd.DataFrame(
                {
                    "view": idx,
                    "user": views.user[idx],
                    "item": views.item[idx],
                    "ts": views.ts[idx] + offsets[idx, stage],
                    "type": etype,
                }
            )
        )
    events = pd.concat(parts, ignore_index=True)
    return events.drop_duplicates(["user", "item", "ts", "type"], ignore_index=True), clicked


def _newcomer_views(rng: np.random.Generator, new_counts: np.ndarray, n_old: int, popularity: np.ndarray,
                    created: np.ndarray, end_s: int) -> pd.DataFrame:
    """The new users' few views: in the last week, of popular items (what a newcomer sees first)."""
    n_new_events = int(new_counts.sum())
    new_user = np.repeat(np.arange(n_old, n_old + new_counts.size), new_counts)
    top = np.argsort(-popularity)[: max(10, popularity.size // 10)]
    new_events = pd.DataFrame(
        {
            "user": new_user,
            "item": top[rng.integers(0, top.size, n_new_events)],
            "ts": rng.integers(end_s - 7 * DAY, end_s, n_new_events),
            "type": "view",
        }
    )
    new_events["ts"] = np.minimum(np.maximum(new_events["ts"], created[new_events["item"]] + 60), end_s - 1)
    return new_events.drop_duplicates(ignore_index=True)


def _interactions(events: pd.DataFrame, items: pd.DataFrame, users: pd.DataFrame) -> pd.DataFrame:
    """Events by index into Personalize's Interactions columns; a purchase's EVENT_VALUE is its price."""
    price = items["PRICE"].to_numpy()
    return pd.DataFrame(
        {
            "USER_ID": users["USER_ID"].to_numpy()[events["user"].to_numpy()],
            "ITEM_ID": items["ITEM_ID"].to_numpy()[events["item"].to_numpy()],
            "TIMESTAMP": events["ts"].to_numpy(dtype="int64"),
            "EVENT_TYPE": events["type"].to_numpy(dtype=object),
            "EVENT_VALUE": np.where(events["type"].to_numpy() == "purchase", price[events["item"].to_numpy()], np.nan),
        }
    )


def story_phases(shop: DemoShop, n_initial: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split the events in time for the dashboard's story: (initial, additional).

    The initial phase is the earliest ~7/32 of the events (about 7,000 of the default 32,000): few
    events per user, which is what makes a first model fall back on popularity. The additional phase
    is every later event (~25,000), imported before the retrain. Both satisfy AWS's training minimum.
    """
    df = shop.interactions.sort_values("TIMESTAMP", kind="stable", ignore_index=True)
    n_initial = round(len(df) * 7 / 32) if n_initial is None else n_initial
    if not 0 < n_initial < len(df):
        raise ValueError(f"n_initial must be between 1 and {len(df) - 1}.")
    initial, additional = (
        df.iloc[:n_initial].reset_index(drop=True),
        df.iloc[n_initial:].reset_index(drop=True),
    )
    for name, part in (("initial", initial), ("additional", additional)):
        if not meets_training_minimum(part):
            raise ValueError(f"The {name} phase is below AWS's training minimum; generate a larger shop.")
    return initial, additional


def meets_training_minimum(interactions: pd.DataFrame) -> bool:
    """AWS: at least 1,000 interactions and 25 users with 2 or more interactions."""
    per_user = interactions["USER_ID"].value_counts()
    return len(interactions) >= 1_000 and int((per_user >= 2).sum()) >= 25
