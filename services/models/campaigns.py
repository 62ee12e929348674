"""Campaigns: which version each serves against the newest one, their settings and cost, and a
test call as in the AWS console (a user or an item in, ranked items out with metadata and scores).

Built on campaign_health (the stale check and TPS cost) so the Overview and this page agree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import pandas as pd

from services.core.resources import active_versions, arn_name, dataset_of_type, newest_active_version, solutions_of
from services.core.throttling import call_with_backoff
from services.data.import_files import newest_staged
from services.models.campaign_health import DEFAULT_TPS_HOUR_PRICE, CampaignHealth, campaign_health, monthly_cost
from services.recommendations.runtime_call import (  # noqa: F401 - the kinds, for pages and tests
    ACTION,
    ITEM,
    POPULAR,
    RANKING,
    USER,
    CallInputError,
    recipe_call_kind,
    recommend,
)

_EPOCH = datetime.fromtimestamp(0, UTC)  # a version without a time (AWS may leave it out) sorts last


class Testable(Protocol):
    """What the test call needs of a campaign (CampaignView) or a recommender (RecommenderHealth)."""

    @property
    def name(self) -> str: ...
    @property
    def arn(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def recipe(self) -> str: ...
    @property
    def metadata_enabled(self) -> bool: ...


@dataclass(frozen=True)
class CampaignView:
    health: CampaignHealth
    recipe: str
    kind: str  # the runtime call its recipe takes: USER, ITEM, RANKING or ACTION (runtime_call)
    exploration_weight: float | None  # None: the recipe does not explore (only User-Personalization does)
    metadata_enabled: bool
    update_version: str | None  # the version latestCampaignUpdate targets

    @property
    def name(self) -> str:
        return self.health.name

    @property
    def arn(self) -> str:
        return self.health.campaign_arn


def campaign_views(
    personalize: Any, dataset_group_arn: str, region: str, price_table: dict[str, float] | None = None,
) -> list[CampaignView]:
    recipes = {s.arn: s.recipe_arn for s in solutions_of(personalize, dataset_group_arn)}
    recipe_types: dict[str, str] = {}
    out = []
    for health in campaign_health(personalize, dataset_group_arn, region, price_table):
        campaign = personalize.describe_campaign(campaignArn=health.campaign_arn)["campaign"]
        config = campaign.get("campaignConfig") or {}
        recipe = recipes.get(health.solution_arn) or _recipe_of(personalize, health.solution_arn)
        explore = (config.get("itemExplorationConfig") or {}).get("explorationWeight")
        out.append(CampaignView(
            health=health, recipe=arn_name(recipe), kind=recipe_call_kind(personalize, recipe, recipe_types),
            exploration_weight=float(explore) if explore not in (None, "") else None,
            metadata_enabled=bool(config.get("enableMetadataWithRecommendations")),
            update_version=(campaign.get("latestCampaignUpdate") or {}).get("solutionVersionArn"),
        ))
    return sorted(out, key=lambda v: v.name)


def _recipe_of(personalize: Any, solution_arn: str) -> str:
    return personalize.describe_solution(solutionArn=solution_arn)["solution"].get("recipeArn", "")


def _config(personalize: Any, campaign_arn: str) -> dict[str, Any]:
    return dict(personalize.describe_campaign(campaignArn=campaign_arn)["campaign"].get("campaignConfig") or {})


def update_to_newest(personalize: Any, campaign_arn: str) -> str:
    """UpdateCampaign to the solution's newest ACTIVE version; returns that version's ARN."""
    campaign = personalize.describe_campaign(campaignArn=campaign_arn)["campaign"]
    # DescribeCampaign names only the version; the version names its solution.
    solution_arn = personalize.describe_solution_version(
        solutionVersionArn=campaign["solutionVersionArn"])["solutionVersion"]["solutionArn"]
    newest = newest_active_version(personalize, solution_arn)
    if newest is None:
        raise ValueError("The campaign's solution has no ACTIVE version to update to.")
    if newest == campaign.get("solutionVersionArn"):
        raise ValueError("The campaign already serves the newest ACTIVE version.")
    personalize.update_campaign(campaignArn=campaign_arn, solutionVersionArn=newest)
    return newest


def set_sync(personalize: Any, campaign_arn: str, on: bool) -> str:
    """syncWithLatestSolutionVersion: the campaign follows each new ACTIVE version by itself.

    AWS accepts it only with solutionVersionArn in `<solutionArn>/$LATEST` form.
    """
    campaign = personalize.describe_campaign(campaignArn=campaign_arn)["campaign"]
    config = dict(campaign.get("campaignConfig") or {})
    config["syncWithLatestSolutionVersion"] = bool(on)
    kwargs: dict[str, Any] = {"campaignArn": campaign_arn, "campaignConfig": config}
    if on:
        solution_arn = campaign["solutionVersionArn"].rsplit("/", 1)[0]
        kwargs["solutionVersionArn"] = f"{solution_arn}/$LATEST"
    personalize.update_campaign(**kwargs)
    return "on" if on else "off"


def update_settings(
    personalize: Any, campaign_arn: str, min_tps: int, exploration_weight: float | None = None,
    metadata: bool | None = None,
) -> None:
    """minProvisionedTPS (billed whether used or not), exploration weight, metadata in responses."""
    if int(min_tps) < 1:
        raise ValueError("Minimum provisioned TPS must be at least 1.")
    config = _config(personalize, campaign_arn)
    if exploration_weight is not None:
        if not 0.0 <= float(exploration_weight) <= 1.0:
            raise ValueError("The exploration weight must be between 0 and 1.")
        explore = dict(config.get("itemExplorationConfig") or {})
        explore["explorationWeight"] = f"{float(exploration_weight):g}"
        config["itemExplorationConfig"] = explore
    if metadata is not None:
        config["enableMetadataWithRecommendations"] = bool(metadata)
    personalize.update_campaign(campaignArn=campaign_arn, minProvisionedTPS=int(min_tps), campaignConfig=config)


# -- the price table ----------------------------------------------------------------------------------
def price_table_frame(table: dict[str, float] | None = None) -> pd.DataFrame:
    table = table or DEFAULT_TPS_HOUR_PRICE
    return pd.DataFrame({"region": list(table), "usd_per_tps_hour": [float(v) for v in table.values()]})


def price_table_from_frame(frame: pd.DataFrame) -> dict[str, float]:
    """The edited table back to a dict; ValueError naming the bad row (blank rows are dropped)."""
    out: dict[str, float] = {}
    for i, row in frame.reset_index(drop=True).iterrows():
        region = str(row.get("region") or "").strip()
        price = row.get("usd_per_tps_hour")
        if not region and pd.isna(price):
            continue
        if not region:
            raise ValueError(f"Row {i + 1} of the price table has a price but no region.")
        try:
            value = float(price)
        except (TypeError, ValueError):
            raise ValueError(f"The price for {region} is not a number.") from None
        if pd.isna(value) or value < 0:
            raise ValueError(f"The price for {region} must be a number of 0 or more.")
        out[region] = value
    return out


def cost_of(view: CampaignView, region: str, price_table: dict[str, float] | None) -> float:
    return monthly_cost(view.health.min_provisioned_tps, region, price_table)


# -- the test call ------------------------------------------------------------------------------------
def item_metadata_columns(personalize: Any, dataset_group_arn: str) -> list[str]:
    """Columns of the Items schema a response can carry (all but ITEM_ID); [] without an Items dataset."""
    items = dataset_of_type(personalize, dataset_group_arn, "ITEMS")
    if items is None:
        return []
    schema_arn = personalize.describe_dataset(datasetArn=items.arn)["dataset"]["schemaArn"]
    schema = json.loads(personalize.describe_schema(schemaArn=schema_arn)["schema"]["schema"])
    return [f["name"] for f in schema.get("fields", []) if f.get("name") != "ITEM_ID"]


def try_campaign(
    runtime: Any, view: Testable, user_id: str | None = None, item_id: str | None = None,
    items: list[str] | None = None, num_results: int = 10, metadata_columns: list[str] | None = None,
) -> pd.DataFrame:
    """Rank, itemId (actionId for Next-Best-Action), score, then metadata columns (when returned).

    The call fits the recipe (runtime_call.recommend); what is missing is refused in words, naming the
    campaign and its recipe.
    """
    try:
        answer = call_with_backoff(lambda: recommend(
            runtime, view.arn, view.kind, user_id=user_id, item_id=item_id, candidates=items,
            num_results=num_results, metadata_columns=metadata_columns if view.metadata_enabled else None))
    except CallInputError as exc:
        raise CallInputError(f"{view.name} ({view.recipe}): {exc}") from None
    id_column = "actionId" if view.kind == ACTION else "itemId"
    rows = [{"rank": i, id_column: r.id, "score": r.score, **r.metadata} for i, r in enumerate(answer, 1)]
    return pd.DataFrame(rows, columns=["rank", id_column, "score"] if not rows else None)


def example_ids(personalize: Any, dataset_group_arn: str, n: int = 8) -> tuple[list[str], list[str]]:
    """Some user and item IDs to try, from the newest interactions file this dashboard staged."""
    path = newest_staged(personalize, dataset_group_arn, "INTERACTIONS")
    if path is None:
        return [], []
    frame = pd.read_csv(path, usecols=["USER_ID", "ITEM_ID"], dtype=str)
    return frame["USER_ID"].value_counts().index[:n].tolist(), frame["ITEM_ID"].value_counts().index[:n].tolist()


def deployable_versions(personalize: Any, dataset_group_arn: str) -> list[dict[str, str]]:
    """ACTIVE solution versions of the group, newest first, as {label, arn} for a deploy picker."""
    out = [{"label": f"{solution.name} · {arn_name(version.arn)}", "arn": version.arn, "created": version.created}
           for solution in solutions_of(personalize, dataset_group_arn)
           for version in active_versions(personalize, solution.arn)]
    return sorted(out, key=lambda v: v["created"] or _EPOCH, reverse=True)


def create_campaign(personalize: Any, name: str, version_arn: str, tps: int, metadata: bool = True) -> str:
    return personalize.create_campaign(
        name=name, solutionVersionArn=version_arn, minProvisionedTPS=int(tps),
        campaignConfig={"enableMetadataWithRecommendations": metadata},
    )["campaignArn"]


def delete_campaign(personalize: Any, campaign_arn: str) -> None:
    personalize.delete_campaign(campaignArn=campaign_arn)
