"""Recommendations side by side: who to show, what each campaign gives them, and how alike it is.

Users are sampled by cohort of history length (none, 1–2, 3–9, 10+). Histories come from the
interaction files this dashboard staged for the dataset's imports (AWS offers no read-back of imported
data), so the cohorts are exact for data imported here and empty otherwise; then users are typed in.
Recommendations are fetched for users x campaigns concurrently through a bounded thread pool, each call
backing off on throttling, so the same code serves a 1-TPS campaign on AWS and the embedded engine.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from botocore.exceptions import ClientError

from services.core.listing import list_all
from services.core.resources import (
    arn_name,
    campaigns_of_solution,
    datasets_by_type,
    recommenders_of,
    solutions_of,
)
from services.core.throttling import call_with_backoff
from services.data.import_files import active_imports, current_chain
from services.recommendations.duplication import (
    COHORTS,
    DuplicationReport,
    duplication_report,
    history_cohorts,
    shared_items,
)
from services.recommendations.runtime_call import ITEM, call_kind, recommend

MAX_WORKERS = 8  # AWS campaigns default to a few TPS; 8 in flight stays polite with call_with_backoff
RELATED_ITEMS = "RELATED_ITEMS"
CANDIDATES = 25  # items a ranking campaign reorders for each user, when the page picks them

# Candidate columns for item metadata, most specific first (the demo shop uses NAME/CATEGORY_L1/PRICE).
NAME_COLUMNS = ("NAME", "TITLE", "ITEM_NAME", "PRODUCT_NAME")
CATEGORY_COLUMNS = ("CATEGORY_L1", "CATEGORY", "CATEGORIES", "GENRES", "GENRE")
SUBCATEGORY_COLUMNS = ("CATEGORY_L2",)
PRICE_COLUMNS = ("PRICE",)


# --------------------------------------------------------------------------------------------------
# What the dataset group holds: campaigns, filters, staged files


@dataclass(frozen=True)
class CampaignInfo:
    name: str
    arn: str
    solution_version_arn: str  # what it serves; part of cache keys so an update shows at once
    recipe: str
    recipe_type: str  # USER_PERSONALIZATION, PERSONALIZED_RANKING, RELATED_ITEMS, ...

    @property
    def call(self) -> str:
        """Which runtime call fits (runtime_call.USER, ITEM, RANKING or ACTION)."""
        return call_kind(self.recipe, self.recipe_type)

    @property
    def serves_users(self) -> bool:
        # Related-items campaigns answer itemId, not userId: they have no place in a users grid.
        return self.call != ITEM


def list_campaigns(personalize: Any, dataset_group_arn: str) -> list[CampaignInfo]:
    """ACTIVE campaigns of the group with their recipe, in name order."""
    out: list[CampaignInfo] = []
    recipe_types: dict[str, str] = {}
    for solution in solutions_of(personalize, dataset_group_arn):
        campaigns = campaigns_of_solution(personalize, solution.arn)
        if not campaigns:
            continue
        detail = personalize.describe_solution(solutionArn=solution.arn)["solution"]
        recipe_arn = detail.get("recipeArn", "")
        if recipe_arn and recipe_arn not in recipe_types:
            try:
                recipe_types[recipe_arn] = personalize.describe_recipe(recipeArn=recipe_arn)["recipe"].get(
                    "recipeType", "")
            except ClientError:  # an unknown recipe should not hide the campaign
                recipe_types[recipe_arn] = ""
        for summary in campaigns:
            if summary.status != "ACTIVE":
                continue
            campaign = personalize.describe_campaign(campaignArn=summary.arn)["campaign"]
            out.append(CampaignInfo(
                name=campaign["name"], arn=campaign["campaignArn"],
                solution_version_arn=campaign.get("solutionVersionArn", ""),
                recipe=arn_name(recipe_arn), recipe_type=recipe_types.get(recipe_arn, ""),
            ))
    return sorted(out, key=lambda c: c.name) + active_recommenders(personalize, dataset_group_arn, out)


def active_recommenders(personalize: Any, dataset_group_arn: str, campaigns: list[CampaignInfo]
                        ) -> list[CampaignInfo]:
    """A domain group's ACTIVE recommenders, asked as campaigns are (runtime_call decides the call from the
    ARN); named "<name> (recommender)" when a campaign has the same name."""
    taken = {c.name for c in campaigns}
    out = []
    for rec in recommenders_of(personalize, dataset_group_arn):
        if rec.status != "ACTIVE":
            continue
        # The time of its last change stands for the version it serves: a retrained recommender gets a
        # new cache key, as an updated campaign does.
        moment = rec.updated or rec.created
        served = f"{rec.arn}@{moment.isoformat() if moment else ''}"
        name = f"{rec.name} (recommender)" if rec.name in taken else rec.name
        out.append(CampaignInfo(name=name, arn=rec.arn, solution_version_arn=served,
                                recipe=arn_name(rec.recipe_arn), recipe_type=""))
    return out


def list_filters(personalize: Any, dataset_group_arn: str) -> list[dict]:
    """ACTIVE filters with their expression (the page derives the $placeholders to ask for)."""
    filters = list_all(personalize, "list_filters", "Filters", datasetGroupArn=dataset_group_arn)
    out = []
    for f in filters:
        if f.get("status") != "ACTIVE":
            continue
        detail = personalize.describe_filter(filterArn=f["filterArn"])["filter"]
        out.append({"name": detail["name"], "arn": detail["filterArn"],
                    "expression": detail.get("filterExpression", "")})
    return sorted(out, key=lambda f: f["name"])


def filter_placeholders(expression: str) -> list[str]:
    """The $NAME placeholders of a filter expression, in order of appearance, each once."""
    import re

    return list(dict.fromkeys(re.findall(r"\$([A-Za-z0-9_]+)", expression or "")))


def staged_frame(personalize: Any, dataset_arn: str) -> pd.DataFrame | None:
    """The dataset's rows as this dashboard staged them: the files of every ACTIVE import since the
    last FULL one (a FULL import replaces, INCREMENTAL ones add). None when no file is available here."""
    frames = [pd.read_csv(f.path, dtype={"USER_ID": str, "ITEM_ID": str})
              for f in current_chain(active_imports(personalize, dataset_arn)) if f.path is not None]
    if not frames:
        return None
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


@dataclass
class GroupData:
    """What the staged files tell about a dataset group (each part may be missing)."""

    interactions: pd.DataFrame | None = None  # USER_ID, ITEM_ID, TIMESTAMP, EVENT_TYPE, ...
    items: pd.DataFrame | None = None  # metadata indexed by item id: name, category, price
    users: pd.Series | None = None  # every known user id (Users dataset), for the "none" cohort

    @property
    def history_lengths(self) -> pd.Series:
        if self.interactions is None:
            return pd.Series(dtype="int64")
        return self.interactions["USER_ID"].value_counts()

    @property
    def item_popularity(self) -> pd.Series | None:
        return None if self.interactions is None else self.interactions["ITEM_ID"].value_counts()

    @property
    def catalogue_size(self) -> int | None:
        if self.items is not None:
            return len(self.items)
        return None if self.interactions is None else int(self.interactions["ITEM_ID"].nunique())


def load_group_data(personalize: Any, dataset_group_arn: str) -> GroupData:
    arns = {t: d.arn for t, d in datasets_by_type(personalize, dataset_group_arn).items()}
    data = GroupData()
    if "INTERACTIONS" in arns:
        data.interactions = staged_frame(personalize, arns["INTERACTIONS"])
    if "ITEMS" in arns:
        raw = staged_frame(personalize, arns["ITEMS"])
        data.items = item_metadata(raw) if raw is not None else None
    if "USERS" in arns:
        raw = staged_frame(personalize, arns["USERS"])
        if raw is not None and "USER_ID" in raw.columns:
            data.users = raw["USER_ID"].astype(str).drop_duplicates().reset_index(drop=True)
    return data


def _first_column(frame: pd.DataFrame, candidates: Sequence[str]) -> str | None:
    upper = {c.upper(): c for c in frame.columns}
    return next((upper[c] for c in candidates if c in upper), None)


def item_metadata(items: pd.DataFrame) -> pd.DataFrame:
    """name, category, price per item id (whatever the Items file has; missing columns stay empty)."""
    id_col = _first_column(items, ("ITEM_ID",))
    if id_col is None:
        return pd.DataFrame(columns=["name", "category", "price"])
    out = pd.DataFrame(index=pd.Index(items[id_col].astype(str), name="item_id"))
    name = _first_column(items, NAME_COLUMNS)
    out["name"] = items[name].astype(str).to_numpy() if name else ""
    cat, sub = _first_column(items, CATEGORY_COLUMNS), _first_column(items, SUBCATEGORY_COLUMNS)
    category = items[cat].fillna("").astype(str) if cat else pd.Series("", index=items.index)
    if sub:
        category = category.str.cat(items[sub].fillna("").astype(str), sep=" › ").str.strip(" ›")
    out["category"] = category.str.replace("|", ", ", regex=False).to_numpy()
    price = _first_column(items, PRICE_COLUMNS)
    out["price"] = pd.to_numeric(items[price], errors="coerce").to_numpy() if price else np.nan
    return out[~out.index.duplicated(keep="last")]


# --------------------------------------------------------------------------------------------------
# Who to show


def sample_users(
    history_lengths: pd.Series,
    known_users: Iterable[str] | None = None,
    per_cohort: int = 5,
    seed: int = 0,
) -> pd.DataFrame:
    """Up to `per_cohort` users from each cohort, seeded. Columns user_id, interactions, cohort.

    history_lengths: interactions per user; known_users: every user id (Users dataset), so users with
    no interaction at all can form the "none" cohort.
    """
    lengths = history_lengths.astype("int64")
    if known_users is not None:
        ids = pd.Index(pd.Series(list(known_users), dtype=object)).union(lengths.index)
        lengths = lengths.reindex(ids, fill_value=0)
    frame = pd.DataFrame({"user_id": lengths.index.astype(str), "interactions": lengths.to_numpy()})
    frame["cohort"] = history_cohorts(frame["interactions"].to_numpy())
    frame = frame.sort_values("user_id", kind="stable")  # same seed, same users, whatever the input order
    rng = np.random.default_rng(seed)
    frame["_draw"] = rng.random(len(frame))
    picked = frame.sort_values("_draw").groupby("cohort", sort=False).head(per_cohort)
    order = pd.Categorical(picked["cohort"], categories=list(COHORTS))
    picked = picked.assign(_order=order.codes).sort_values(["_order", "interactions", "user_id"])
    return picked[["user_id", "interactions", "cohort"]].reset_index(drop=True)


def typed_users(text: str, history_lengths: pd.Series | None = None) -> pd.DataFrame:
    """Users typed in (comma, space or newline separated), with their cohort when known."""
    ids = list(dict.fromkeys(t for t in text.replace(",", " ").split() if t))
    lengths = (history_lengths if history_lengths is not None else pd.Series(dtype="int64"))
    counts = pd.Series(ids, dtype=object).map(lengths).fillna(0).astype("int64").to_numpy()
    return pd.DataFrame({"user_id": ids, "interactions": counts, "cohort": history_cohorts(counts)})


def recent_history(
    interactions: pd.DataFrame | None, users: Sequence[str], n: int = 5,
    items: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Each user's `n` most recent interactions (newest first), with the item's name when known."""
    out: dict[str, pd.DataFrame] = {u: _empty_history() for u in users}
    if interactions is None or not len(users):
        return out
    mine = interactions[interactions["USER_ID"].isin(set(users))]
    if "TIMESTAMP" in mine.columns:
        mine = mine.sort_values("TIMESTAMP", ascending=False, kind="stable")
    top = mine.groupby("USER_ID", sort=False).head(n)
    frame = pd.DataFrame({
        "user_id": top["USER_ID"].to_numpy(),
        "item_id": top["ITEM_ID"].astype(str).to_numpy(),
        "event": top["EVENT_TYPE"].to_numpy() if "EVENT_TYPE" in top else "",
        "when": pd.to_datetime(top["TIMESTAMP"], unit="s", utc=True).dt.strftime("%Y-%m-%d")
        if "TIMESTAMP" in top else "",
    })
    frame["name"] = frame["item_id"].map(items["name"]) if items is not None and len(items) else ""
    frame["name"] = frame["name"].fillna("")
    for user, part in frame.groupby("user_id", sort=False):
        out[str(user)] = part.drop(columns="user_id").reset_index(drop=True)
    return out


def popular_unseen(interactions: pd.DataFrame | None, users: Sequence[str], n: int = CANDIDATES
                   ) -> dict[str, list[str]]:
    """Per user, the `n` most popular items they have not interacted with: what a ranking campaign is
    given to reorder when nobody types a list. Empty without staged interactions."""
    if interactions is None or not len(interactions):
        return {u: [] for u in users}
    popular = interactions["ITEM_ID"].astype(str).value_counts().index.tolist()
    mine = interactions[interactions["USER_ID"].astype(str).isin(set(users))]
    seen = mine.groupby(mine["USER_ID"].astype(str))["ITEM_ID"].agg(lambda s: set(s.astype(str))).to_dict()
    out = {}
    for user in users:
        known = seen.get(user, set())
        out[user] = [i for i in popular[: n + len(known)] if i not in known][:n]
    return out


def _empty_history() -> pd.DataFrame:
    return pd.DataFrame(columns=["item_id", "event", "when", "name"])


# --------------------------------------------------------------------------------------------------
# Fetching recommendations


@dataclass
class Fetched:
    """Recommendations for users x campaigns: one row per (campaign, user, rank)."""

    frame: pd.DataFrame  # campaign, user_id, rank (1-based), item_id, score
    errors: dict[tuple[str, str], BaseException] = field(default_factory=dict)  # (campaign, user) -> error
    throttled: int = 0  # calls that were throttled at least once (and retried)

    def lists(self, campaign: str) -> dict[str, list[str]]:
        part = self.frame[self.frame["campaign"] == campaign]
        return {str(u): g["item_id"].tolist() for u, g in part.groupby("user_id", sort=False)}


def fetch_recommendations(
    runtime: Any,
    campaigns: Mapping[str, str],
    users: Sequence[str],
    num_results: int = 10,
    filter_arn: str | None = None,
    filter_values: Mapping[str, str] | None = None,
    max_workers: int = MAX_WORKERS,
    sleep: Callable[[float], None] = time.sleep,
    kinds: Mapping[str, str] | None = None,
    candidates: Mapping[str, Sequence[str]] | None = None,
) -> Fetched:
    """Every user's list under every campaign (name -> ARN), concurrently, each with the runtime call its
    recipe takes (`kinds`: name -> runtime_call kind, user recipes when left out; a ranking campaign
    reorders the user's `candidates`).

    A failed call (after the throttling retries) is recorded per cell and the rest still arrive.
    """
    tasks = [(name, arn, user) for name, arn in campaigns.items() for user in users]
    throttled: set[tuple[str, str]] = set()

    def one(task: tuple[str, str, str]) -> list[dict] | BaseException:
        name, arn, user = task
        try:
            found = call_with_backoff(
                lambda: recommend(runtime, arn, (kinds or {}).get(name, "user"), user_id=user,
                                  candidates=(candidates or {}).get(user), num_results=num_results,
                                  filter_arn=filter_arn, filter_values=filter_values),
                sleep=sleep, on_throttle=lambda: throttled.add((name, user)))
            return [{"itemId": r.id, "score": r.score} for r in found]
        except Exception as exc:  # kept per cell; shown in words on the page
            return exc

    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(tasks) or 1))) as pool:
        results = list(pool.map(one, tasks))
    rows: list[tuple[str, str, int, str, float]] = []
    errors: dict[tuple[str, str], BaseException] = {}
    for (name, _, user), result in zip(tasks, results, strict=True):
        if isinstance(result, BaseException):
            errors[(name, user)] = result
            continue
        rows.extend((name, user, rank, str(it["itemId"]), float(it.get("score") or 0.0))
                    for rank, it in enumerate(result, start=1))
    frame = pd.DataFrame(rows, columns=["campaign", "user_id", "rank", "item_id", "score"])
    return Fetched(frame, errors, len(throttled))


# --------------------------------------------------------------------------------------------------
# Putting it together for the page


def ranked_cell(
    fetched: Fetched, campaign: str, user: str, items: pd.DataFrame | None, shared_counts: pd.Series,
    n_shown_users: int,
) -> pd.DataFrame:
    """One grid cell: rank, item, name, category, price and how many shown users got the item."""
    part = fetched.frame[(fetched.frame["campaign"] == campaign) & (fetched.frame["user_id"] == user)]
    cell = pd.DataFrame({"#": part["rank"].to_numpy(), "item": part["item_id"].to_numpy()})
    if items is not None and len(items):
        meta = items.reindex(cell["item"])
        cell["name"] = meta["name"].fillna("").to_numpy()
        cell["category"] = meta["category"].fillna("").to_numpy()
        cell["price"] = meta["price"].to_numpy()
    counts = cell["item"].map(shared_counts).fillna(0).astype(int)
    cell["shared"] = counts.astype(str) + f"/{n_shown_users}"
    cell["_share"] = counts.to_numpy() / max(n_shown_users, 1)
    return cell


def shown_item_counts(fetched: Fetched, campaign: str, users: Sequence[str]) -> pd.Series:
    """Per item: how many of the shown users got it under this campaign."""
    part = fetched.frame[(fetched.frame["campaign"] == campaign) & fetched.frame["user_id"].isin(set(users))]
    return part.drop_duplicates(["user_id", "item_id"])["item_id"].value_counts()


def highlighted_items(fetched: Fetched, campaign: str, users: Sequence[str], min_share: float = 0.5) -> set[str]:
    """Items that at least `min_share` of the shown users (with a list) got under this campaign."""
    lists = fetched.lists(campaign)
    return shared_items([lists[u] for u in users if u in lists], min_share)


def duplication_reports_for(
    fetched: Fetched, data: GroupData, k: int, history_lengths: pd.Series | None = None,
    recipes: Mapping[str, str] | None = None,
) -> dict[str, DuplicationReport]:
    """One duplication report per campaign over all fetched users (cohorts from the staged history);
    `recipes` (campaign -> recipe name) lets a baseline recipe be labelled as one."""
    lengths = data.history_lengths if history_lengths is None else history_lengths
    reports = {}
    for campaign in fetched.frame["campaign"].unique().tolist():
        part = fetched.frame[fetched.frame["campaign"] == campaign]
        reports[campaign] = duplication_report(
            part[["user_id", "item_id", "rank"]], campaign=campaign, k=k, history_lengths=lengths,
            item_popularity=data.item_popularity, catalogue_size=data.catalogue_size,
            recipe=(recipes or {}).get(campaign, ""),
        )
    return reports


def report_table(report: DuplicationReport) -> pd.DataFrame:
    """The report's figures per group, with readable column names."""
    frame = report.to_frame()
    return pd.DataFrame({
        "users": frame["group"],
        "n": frame["n_users"],
        "same top-K list": frame["same_list_share"],
        "mean pairwise Jaccard": frame["mean_jaccard"],
        "personalization": frame["personalization"],
        "catalog coverage": frame["catalog_coverage"],
        "slots taken by top-1% items": frame["top_popular_slot_share"],
        # Users with no interactions share the cold-start list by necessity: shown as expected, not as ok.
        "level": frame["level"].where(~frame["expected"], "expected (no history)"),
    })


def filter_values_param(raw: Mapping[str, str]) -> dict[str, str]:
    """Typed filter values -> Personalize's filterValues: each value in double quotes, several values
    comma-separated (`"Shoes","Books"`). Values already quoted are kept; empty ones are left out."""
    out: dict[str, str] = {}
    for name, text in raw.items():
        values = [v.strip() for v in (text or "").split(",") if v.strip()]
        if values:
            out[name] = ",".join(v if len(v) >= 2 and v[0] == v[-1] == '"' else f'"{v}"' for v in values)
    return out


def same_list_counts(fetched: Fetched, campaign: str, users: Sequence[str]) -> dict[str, int]:
    """Per shown user: how many *other* shown users got exactly the same set of items."""
    lists = fetched.lists(campaign)
    keys = pd.Series({u: tuple(sorted(lists[u])) for u in users if lists.get(u)}, dtype=object)
    if keys.empty:
        return {}
    sizes = keys.map(keys.value_counts())
    return {str(u): int(n) - 1 for u, n in sizes.items()}
