"""How alike are the users' recommendation lists? The cold-start duplication report.

With little data a model falls back to popularity and every user gets the same items; nobody sees it
until lists are put side by side. This module measures it, per campaign and per cohort of history
length, and says in words what it means and what helps.

The figures are the sparse list metrics of `list_metrics`; this module groups users into cohorts of
history length, measures each, and turns the figures into a verdict and remedies.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from services.recommendations.list_metrics import (
    JaccardMean,
    RecommendationMatrix,
    Recommendations,
    distinct_lists,
    jaccard_matrix,
    mean_pairwise_jaccard,
    personalization,
    recommendation_matrix,
    row_sizes,
)

Level = Literal["ok", "warning", "critical"]

# Cohorts of history length (interactions per user). Bounds are inclusive lower bounds.
COHORTS: tuple[str, ...] = ("none", "1–2", "3–9", "10+")
COHORT_LOWER_BOUNDS: tuple[int, ...] = (0, 1, 3, 10)
COLD_START = "≤2"  # none and 1–2 together: the users the cold-start headline is about
ALL_USERS = "all"
_COHORT_WORDS = {
    ALL_USERS: "users",
    "none": "users with no interactions",
    "1–2": "users with 1–2 interactions",
    "3–9": "users with 3–9 interactions",
    "10+": "users with 10 or more interactions",
    COLD_START: "users with ≤2 interactions",
}

# Verdict thresholds. A list that everyone shares is the failure itself, so the share of users holding
# the most common list drives the level; mean Jaccard catches the softer case where lists differ in a
# few slots only (J = 0.3 between two top-10s means ~5 of 10 items in common, J = 0.6 means ~7.5).
# Healthy collaborative filters on shop data sit well below 0.2 mean Jaccard.
CRITICAL_SAME_LIST_SHARE = 0.5
CRITICAL_MEAN_JACCARD = 0.6
WARNING_SAME_LIST_SHARE = 0.2
WARNING_MEAN_JACCARD = 0.3
MIN_USERS_TO_JUDGE = 3  # fewer users than this: figures shown, no judgement made
# The most common list "is popularity" when it shares this much (Jaccard) with the top popular items.
POPULARITY_MATCH_JACCARD = 0.5
TOP_POPULAR_SHARE = 0.01  # "top 1% most popular items"


_LEVEL_ORDER: dict[str, int] = {"ok": 0, "warning": 1, "critical": 2}

REMEDY_PUT_EVENTS = (
    "Stream events with PutEvents (an event tracker): User-Personalization uses a user's new events "
    "at once, without retraining, so a new user's list turns personal after a few clicks."
)
REMEDY_WAIT = (
    "Wait for more interactions and retrain: Personalize needs history per user, and a user with one or "
    "two interactions gets little but the popular items."
)
REMEDY_METADATA = (
    "Add item metadata (an Items dataset with category, price, description) and use a -v2 recipe "
    "(aws-user-personalization-v2): it can recommend by item attributes when history is thin."
)
REMEDY_NEWEST_VERSION = (
    "Check that the campaign serves the newest solution version: a new version does not reach users "
    "until the campaign is updated (syncWithLatestSolutionVersion is off by default)."
)
REMEDY_RECIPE = (
    "Check the recipe: aws-popularity-count gives every user the same list by design; use "
    "aws-user-personalization for personal lists."
)


# Recipes that give everyone the same list by design: the floor personal recipes must clear.
BASELINE_RECIPES = frozenset({
    "aws-popularity-count", "aws-trending-now",
    # Domain recommenders whose use case is a popularity list: the same items for everyone by design.
    "aws-ecomm-popular-items-by-purchases", "aws-ecomm-popular-items-by-views", "aws-vod-most-popular",
    "aws-vod-trending-now",
})


def remedy_wait(history_lengths: Mapping[Any, int] | pd.Series | None) -> str:
    """The "wait for more data" advice with the figures of the data it is about (none when unknown)."""
    if history_lengths is None:
        return REMEDY_WAIT
    lengths = pd.Series(history_lengths, dtype="float64")
    lengths = lengths[lengths > 0]
    if lengths.empty:
        return REMEDY_WAIT
    total, users = int(lengths.sum()), len(lengths)
    thin = float((lengths <= 2).mean())
    return (
        f"Wait for more interactions and retrain: the data holds {total:,} interactions over {users:,} "
        f"users with any history, and {thin:.0%} of them have only one or two, too little for a model to "
        "tell them apart from the popular items."
    )


def top_popular_items(item_popularity: pd.Series, catalogue_size: int | None = None,
                      share: float = TOP_POPULAR_SHARE) -> pd.Index:
    """The top `share` of the catalogue by interaction count (at least one item; ties by order given)."""
    base = catalogue_size if catalogue_size else len(item_popularity)
    n_top = max(1, math.ceil(share * base))
    return item_popularity.sort_values(ascending=False, kind="stable").index[:n_top]


def shared_items(lists: Iterable[Sequence[Any]], min_share: float = 0.5) -> set[Any]:
    """Items that appear in at least `min_share` of the given lists (to highlight them in the grid)."""
    lists = list(lists)
    if not lists:
        return set()
    rm = recommendation_matrix(lists)
    counts = np.asarray(rm.matrix.sum(axis=0)).ravel()
    return set(rm.item_ids[counts >= min_share * len(lists) - 1e-9].tolist())


# --------------------------------------------------------------------------------------------------
# Cohorts


def history_cohorts(history_lengths: np.ndarray) -> np.ndarray:
    """Cohort label per user from the number of interactions in their history."""
    lengths = np.asarray(history_lengths)
    codes = np.searchsorted(np.asarray(COHORT_LOWER_BOUNDS), lengths, side="right") - 1
    return np.asarray(COHORTS, dtype=object)[np.clip(codes, 0, len(COHORTS) - 1)]


def _lengths_for(user_ids: np.ndarray, history_lengths: Mapping[Any, int] | pd.Series) -> np.ndarray:
    # Missing users count as 0: lengths usually come from a value_counts of interactions, which has no
    # row for a user who never interacted.
    series = history_lengths if isinstance(history_lengths, pd.Series) else pd.Series(history_lengths)
    return pd.Series(user_ids, dtype=object).map(series).fillna(0).to_numpy(dtype=np.int64)


# --------------------------------------------------------------------------------------------------
# The report


@dataclass(frozen=True)
class DuplicationMetrics:
    """Figures for one group of users (a cohort, the cold-start union, or everyone)."""

    group: str
    n_users: int  # users with a non-empty list
    n_empty: int  # users who got no recommendations (left out of the pairwise figures)
    k: int
    mean_jaccard: float
    mean_jaccard_exact: bool
    mean_jaccard_stderr: float
    same_list_share: float  # share of users whose top-K item set equals the most common one (0 if unshared)
    most_common_list: tuple[Any, ...]  # rank order of its first holder; () when no two users share one
    personalization: float  # 1 - mean pairwise cosine
    distinct_items: int
    catalog_coverage: float | None  # distinct_items / catalogue_size, when the size is known
    top_popular_slot_share: float | None  # slots taken by the top 1% most popular items
    most_common_is_popularity: bool | None  # most common list ~ the most popular items
    level: Level
    judged: bool  # False when too few users to judge; level is then "ok"
    # Users with no interactions get the cold-start answer from any model: alike by necessity, so the
    # "none" cohort is never judged a fault, and mixed groups are judged on their users with history.
    expected: bool = False


@dataclass(frozen=True)
class DuplicationReport:
    campaign: str
    k: int
    overall: DuplicationMetrics
    cohorts: dict[str, DuplicationMetrics]  # COHORTS present, plus COLD_START, in that order
    level: Level
    verdict: str
    remedies: list[str]
    overlap: pd.DataFrame  # Jaccard, sampled users x the same users (for the heatmap)
    overlap_cohorts: list[str] = field(default_factory=list)  # cohort of each sampled user
    # A baseline recipe gives everyone one list by design: the figures are its floor, not a fault.
    baseline: bool = False
    history_as_of: str = ""  # when the cohorts' history was counted ("" = now)
    # Why users with no interactions share a list (the expected cold-start answer); "" when they do not.
    no_history_note: str = ""

    def to_frame(self) -> pd.DataFrame:
        """One row per group (all users first), for a table on the page."""
        rows = [self.overall, *self.cohorts.values()]
        frame = pd.DataFrame([vars(m) for m in rows])
        frame.insert(0, "campaign", self.campaign)
        return frame


def duplication_report(
    recommendations: Recommendations | RecommendationMatrix,
    *,
    campaign: str = "",
    k: int | None = None,
    history_lengths: Mapping[Any, int] | pd.Series | None = None,
    item_popularity: pd.Series | None = None,
    catalogue_size: int | None = None,
    heatmap_users: int = 50,
    seed: int = 0,
    recipe: str = "",
    history_as_of: str = "",
) -> DuplicationReport:
    """Measure how alike users' top-K lists are, overall and per history cohort, and judge it.

    history_lengths: interactions per user id (missing users count as 0); enables the cohorts.
    item_popularity: interaction count per item id; enables the top-1% slot share and the check that
    the most common list is the popularity fallback. catalogue_size: enables catalog coverage.
    recipe: the campaign's recipe name; a baseline recipe is labelled as one, not judged a fault.
    history_as_of: when history_lengths were counted, in words ("when the story began"), named in
    the verdict; empty when they are the data as it is now.
    """
    rm = recommendations if isinstance(recommendations, RecommendationMatrix) else (
        recommendation_matrix(recommendations, k)
    )
    top_items = None
    if item_popularity is not None and len(item_popularity):
        top_items = top_popular_items(item_popularity, catalogue_size)
    popular_list = _popular_list(item_popularity, rm.k)
    args = (rm, top_items, popular_list, catalogue_size, seed)

    everyone = np.arange(rm.n_users)
    overall = _group_metrics(ALL_USERS, everyone, *args)
    cohorts: dict[str, DuplicationMetrics] = {}
    labels: np.ndarray | None = None
    with_history: DuplicationMetrics | None = None  # set when users with no interactions are judged apart
    if history_lengths is not None:
        labels = history_cohorts(_lengths_for(rm.user_ids, history_lengths))
        for name in COHORTS:
            rows = np.flatnonzero(labels == name)
            if rows.size:
                cohorts[name] = _group_metrics(name, rows, *args)
        cold = np.flatnonzero((labels == COHORTS[0]) | (labels == COHORTS[1]))
        if cold.size:
            cohorts[COLD_START] = _group_metrics(COLD_START, cold, *args)
        if not history_as_of:
            # Only history counted now makes a user's lack of it certain; a cohort counted earlier (the
            # story's panel) may have gained history since, and then alike lists are a fault again.
            overall, cohorts, with_history = _judge_with_history(overall, cohorts, labels, args)

    baseline = recipe in BASELINE_RECIPES
    note = "" if baseline or with_history is None else _no_history_note(cohorts.get(COHORTS[0]), rm.k)
    if baseline:
        level, verdict, remedies = _baseline_verdict(overall, recipe, rm.k)
    else:
        level, verdict, remedies = _verdict(overall, cohorts, rm.k, history_as_of, with_history)
        remedies = [remedy_wait(history_lengths) if r == REMEDY_WAIT else r for r in remedies]
    overlap, overlap_cohorts = _overlap_sample(rm, labels, heatmap_users, seed)
    return DuplicationReport(
        campaign=campaign, k=rm.k, overall=overall, cohorts=cohorts, level=level, verdict=verdict,
        remedies=remedies, overlap=overlap, overlap_cohorts=overlap_cohorts, baseline=baseline,
        history_as_of=history_as_of, no_history_note=note,
    )


def _judge_with_history(
    overall: DuplicationMetrics, cohorts: dict[str, DuplicationMetrics], labels: np.ndarray, args: tuple
) -> tuple[DuplicationMetrics, dict[str, DuplicationMetrics], DuplicationMetrics | None]:
    """Levels that blame the model only for users it could personalise: users with no interactions get
    the cold-start list from any model, so the "none" cohort is marked expected and a group that mixes
    them with users who have history (everyone, ≤2) takes the level of its users with history. The
    figures stay those of the whole group."""
    none = cohorts.get(COHORTS[0])
    if none is None:
        return overall, cohorts, None
    cohorts = dict(cohorts)
    cohorts[COHORTS[0]] = replace(none, level="ok", expected=True)
    with_history = labels != COHORTS[0]
    cold = with_history & (labels == COHORTS[1])

    def level_of(m: DuplicationMetrics, mask: np.ndarray) -> DuplicationMetrics:
        part = _group_metrics(m.group, np.flatnonzero(mask), *args) if mask.any() else None
        judged = part is not None and part.judged
        return replace(m, level=part.level if judged else "ok", judged=m.judged and judged)

    if COLD_START in cohorts:
        cohorts[COLD_START] = level_of(cohorts[COLD_START], cold)
    part = _group_metrics("with history", np.flatnonzero(with_history), *args) if with_history.any() else None
    return level_of(overall, with_history), cohorts, part


def _no_history_note(none: DuplicationMetrics | None, k: int) -> str:
    """Why the users with no interactions share a list, when they do: the expected baseline, not a fault."""
    if none is None or not none.judged or _level(none.same_list_share, none.mean_jaccard) == "ok":
        return ""
    finding = _finding(none, k)
    return (
        f"{finding[0].upper()}{finding[1:]}: expected, not a "
        "fault. A user with no interactions gets the cold-start answer (the popular items) from any model and "
        "any version, so a retrain cannot change it; their lists turn personal after their first events "
        "(stream them with PutEvents)."
    )


def _baseline_verdict(overall: DuplicationMetrics, recipe: str, k: int) -> tuple[Level, str, list[str]]:
    share = (f"{overall.same_list_share:.0%} of users get the same top {k}" if overall.same_list_share
             else f"mean pairwise Jaccard of the top-{k} lists {overall.mean_jaccard:.2f}")
    return "ok", (
        f"Baseline: {recipe} gives every user much the same list by design ({share}). It is the floor a "
        "personal recipe must clear, not a fault: compare the other campaigns with it."
    ), []


def _popular_list(item_popularity: pd.Series | None, k: int) -> pd.Index | None:
    if item_popularity is None or not len(item_popularity) or k < 1:
        return None
    return item_popularity.sort_values(ascending=False, kind="stable").index[:k]


def _group_metrics(
    name: str,
    rows: np.ndarray,
    rm: RecommendationMatrix,
    top_items: pd.Index | None,
    popular_list: pd.Index | None,
    catalogue_size: int | None,
    seed: int,
) -> DuplicationMetrics:
    x_all = rm.matrix[rows]
    sizes = row_sizes(x_all)
    non_empty = sizes > 0
    x = x_all[non_empty]
    rows = rows[non_empty]
    n = x.shape[0]
    column_sums = np.asarray(x.sum(axis=0)).ravel()
    distinct_items = int(np.count_nonzero(column_sums))

    if n:
        groups = distinct_lists(x)
        top = int(np.argmax(groups.counts))  # ties: the lexicographically first set; fine for display
        shared = groups.counts[top] >= 2  # a list nobody else has is not "common", whatever n is
        same_share = float(groups.counts[top] / n) if shared else 0.0
        most_common = tuple(rm.list_of(int(rows[groups.first_row[top]]))) if shared else ()
        jac = mean_pairwise_jaccard(x, groups=groups, seed=seed)
    else:
        same_share, most_common, jac = float("nan"), (), JaccardMean(float("nan"), True, 0.0)

    top_share = None
    if top_items is not None and x.nnz:
        flagged = np.isin(rm.item_ids, np.asarray(top_items, dtype=object))
        top_share = float(column_sums[flagged].sum() / x.nnz)
    is_popularity = None
    if popular_list is not None and most_common:
        common, popular = set(most_common), set(popular_list)
        is_popularity = len(common & popular) / len(common | popular) >= POPULARITY_MATCH_JACCARD

    judged = n >= MIN_USERS_TO_JUDGE
    return DuplicationMetrics(
        group=name,
        n_users=n,
        n_empty=int((~non_empty).sum()),
        k=rm.k,
        mean_jaccard=jac.value,
        mean_jaccard_exact=jac.exact,
        mean_jaccard_stderr=jac.stderr,
        same_list_share=same_share,
        most_common_list=most_common,
        personalization=personalization(x),
        distinct_items=distinct_items,
        catalog_coverage=distinct_items / catalogue_size if catalogue_size else None,
        top_popular_slot_share=top_share,
        most_common_is_popularity=is_popularity,
        level=_level(same_share, jac.value) if judged else "ok",
        judged=judged,
    )


def _level(same_list_share: float, mean_jaccard: float) -> Level:
    if same_list_share >= CRITICAL_SAME_LIST_SHARE or mean_jaccard >= CRITICAL_MEAN_JACCARD:
        return "critical"
    if same_list_share >= WARNING_SAME_LIST_SHARE or mean_jaccard >= WARNING_MEAN_JACCARD:
        return "warning"
    return "ok"


def cohort_words(group: str, history_as_of: str = "") -> str:
    """'users with ≤2 interactions when the story began': the cohort, and when its history was counted."""
    who = _COHORT_WORDS.get(group, f"users in {group}")
    return f"{who} {history_as_of}" if history_as_of and group != ALL_USERS else who


def _finding(m: DuplicationMetrics, k: int, history_as_of: str = "") -> str:
    """'92% of users with ≤2 interactions get the same top 10' or the Jaccard form of it."""
    who = cohort_words(m.group, history_as_of)
    if m.same_list_share >= WARNING_SAME_LIST_SHARE:
        return f"{m.same_list_share:.0%} of {who} get the same top {k}"
    return f"the top-{k} lists of {who} overlap heavily (mean pairwise Jaccard {m.mean_jaccard:.2f})"


def _cause(m: DuplicationMetrics) -> str:
    if m.most_common_is_popularity is None:
        return "most likely the popularity fallback"
    if m.most_common_is_popularity:
        return "the model falls back to popularity"
    return "one list serves most users, and it is not simply the most popular items"


def _verdict(
    overall: DuplicationMetrics, cohorts: dict[str, DuplicationMetrics], k: int, history_as_of: str = "",
    with_history: DuplicationMetrics | None = None,
) -> tuple[Level, str, list[str]]:
    candidates = [overall, *cohorts.values()]
    level: Level = max((m.level for m in candidates), key=_LEVEL_ORDER.__getitem__)
    if level == "ok":
        # With users who have no interactions among them, the sentence is about the users with history.
        judged, who = (overall, "users") if with_history is None else (with_history, "users with history")
        if not judged.judged:
            return "ok", f"Too few {who} ({judged.n_users}) to judge duplication.", []
        shared = (
            f"{judged.same_list_share:.0%} of {who} get the most common list" if judged.same_list_share
            else f"no two {who} get the same list"
        )
        whose = "" if with_history is None else " for users with history"
        return "ok", (
            f"Recommendations look personal{whose}: mean pairwise Jaccard of the top-{k} lists "
            f"{judged.mean_jaccard:.2f}, personalization {judged.personalization:.2f}; {shared}."
        ), []

    worst = [m for m in candidates if m.level == level]
    experienced = [m for m in worst if m.group in ("3–9", "10+")]
    if experienced:
        # Users with history get the same lists too: not a cold-start effect.
        m = experienced[-1]
        text = (
            f"Duplication beyond cold start: {_finding(m, k, history_as_of)} — the served model is not personalising "
            "(a popularity recipe, or a campaign on an old solution version)."
        )
        return level, text, [REMEDY_NEWEST_VERSION, REMEDY_RECIPE, REMEDY_WAIT, REMEDY_PUT_EVENTS]
    cold = [m for m in worst if m.group in (COLD_START, "none", "1–2")]
    if cold:
        m = next((c for c in cold if c.group == COLD_START), cold[0])
        text = f"Cold-start duplication: {_finding(m, k, history_as_of)} — {_cause(m)}."
        return level, text, [REMEDY_PUT_EVENTS, REMEDY_WAIT, REMEDY_METADATA, REMEDY_NEWEST_VERSION]
    text = f"Duplication: {_finding(overall, k)} — {_cause(overall)}."
    return level, text, [REMEDY_PUT_EVENTS, REMEDY_WAIT, REMEDY_METADATA, REMEDY_NEWEST_VERSION]


def _overlap_sample(
    rm: RecommendationMatrix, labels: np.ndarray | None, max_users: int, seed: int
) -> tuple[pd.DataFrame, list[str]]:
    """Jaccard among at most `max_users` users, drawn round-robin across cohorts, ordered by cohort."""
    n = rm.n_users
    codes = (
        pd.Categorical(labels, categories=list(COHORTS)).codes.astype(np.int64)
        if labels is not None
        else np.zeros(n, dtype=np.int64)
    )
    if n > max_users:
        perm = np.random.default_rng(seed).permutation(n)
        position = pd.Series(codes[perm]).groupby(codes[perm]).cumcount().to_numpy()
        take = perm[np.lexsort((codes[perm], position))[:max_users]]
    else:
        take = np.arange(n)
    take = take[np.lexsort((take, codes[take]))]
    jac = jaccard_matrix(rm.matrix[take])
    ids = rm.user_ids[take]
    frame = pd.DataFrame(jac, index=pd.Index(ids, name="user_id"), columns=pd.Index(ids, name="user_id"))
    cohort_of = labels[take].tolist() if labels is not None else [ALL_USERS] * take.shape[0]
    return frame, cohort_of
