"""Which runtime call a campaign takes, decided in one place from its recipe, and the call itself.

AWS refuses a call that does not fit the recipe: GetRecommendations on a Personalized-Ranking campaign
(it reorders a list: GetPersonalizedRanking with an inputList) or on a Next-Best-Action one
(GetActionRecommendations), and GetRecommendations without an itemId on a related-items campaign. Every
page that asks a campaign (Side by side, the Campaigns test panel, Events before/after) goes through
`recommend`, so none of them can pick the wrong call.

A domain group's recommender is asked the same way, with `recommenderArn` instead of `campaignArn` (the
ARN says which): its use case decides the kind as a recipe does. Popular-items use cases rank for
everyone, so they take no user (AWS needs one there only for a filter that uses it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from services.core.resources import arn_name

USER, ITEM, RANKING, ACTION, POPULAR = "user", "item", "ranking", "action", "popular"
MAX_INPUT_LIST = 500  # GetPersonalizedRanking's inputList limit

_BY_RECIPE = {
    "aws-user-personalization": USER, "aws-user-personalization-v2": USER, "aws-popularity-count": USER,
    "aws-trending-now": USER, "aws-hrnn": USER, "aws-hrnn-metadata": USER, "aws-hrnn-coldstart": USER,
    "aws-sims": ITEM, "aws-similar-items": ITEM,
    "aws-personalized-ranking": RANKING, "aws-personalized-ranking-v2": RANKING,
    "aws-next-best-action": ACTION,
    # Domain use cases (recommenders of ECOMMERCE and VIDEO_ON_DEMAND dataset groups).
    "aws-ecomm-recommended-for-you": USER, "aws-vod-top-picks": USER,
    "aws-ecomm-customers-who-viewed-x-also-viewed": ITEM, "aws-ecomm-frequently-bought-together": ITEM,
    "aws-vod-because-you-watched-x": ITEM, "aws-vod-more-like-x": ITEM,
    "aws-ecomm-popular-items-by-purchases": POPULAR, "aws-ecomm-popular-items-by-views": POPULAR,
    "aws-vod-most-popular": POPULAR, "aws-vod-trending-now": POPULAR,
}
_BY_RECIPE_TYPE = {"USER_PERSONALIZATION": USER, "RELATED_ITEMS": ITEM, "PERSONALIZED_RANKING": RANKING,
                   "PERSONALIZED_ACTIONS": ACTION}
WHAT_IT_NEEDS = {USER: "a user", ITEM: "an item", RANKING: "a user and a list of items to rank",
                 ACTION: "a user (it recommends actions, not items)", POPULAR: "nothing (a user is optional)"}


def target_key(arn: str) -> str:
    """The runtime's parameter for this ARN: recommenderArn for a recommender, campaignArn otherwise."""
    return "recommenderArn" if ":recommender/" in (arn or "") else "campaignArn"


def call_kind(recipe: str, recipe_type: str = "") -> str:
    """USER, ITEM, RANKING or ACTION for a recipe (name or ARN); its recipeType decides for recipes this
    dashboard does not know by name; USER when neither says."""
    return _BY_RECIPE.get(arn_name(recipe)) or _BY_RECIPE_TYPE.get((recipe_type or "").upper(), USER)


def recipe_call_kind(personalize: Any, recipe_arn: str, known: dict[str, str] | None = None) -> str:
    """call_kind, asking DescribeRecipe for the recipeType only when the name does not tell."""
    if not recipe_arn or arn_name(recipe_arn) in _BY_RECIPE:
        return call_kind(recipe_arn)
    cache = known if known is not None else {}
    if recipe_arn not in cache:
        try:
            cache[recipe_arn] = personalize.describe_recipe(recipeArn=recipe_arn)["recipe"].get("recipeType", "")
        except ClientError:  # an unknown recipe is asked as a user recipe, the commonest kind
            cache[recipe_arn] = ""
    return call_kind(recipe_arn, cache[recipe_arn])


class CallInputError(ValueError):
    """What the call needs and was not given, in words (nothing was sent)."""


@dataclass(frozen=True)
class Recommended:
    id: str  # an itemId, or an actionId for Next-Best-Action
    score: float | None
    metadata: dict[str, str] = field(default_factory=dict)


def _clean(values: Sequence[str] | None) -> list[str]:
    return list(dict.fromkeys(str(v).strip() for v in (values or []) if str(v).strip()))


def recommend(
    runtime: Any, campaign_arn: str, kind: str, *, user_id: str | None = None, item_id: str | None = None,
    candidates: Sequence[str] | None = None, num_results: int = 10, filter_arn: str | None = None,
    filter_values: Mapping[str, str] | None = None, metadata_columns: Sequence[str] | None = None,
) -> list[Recommended]:
    """The one call that fits `kind` (call_kind) on a campaign or a recommender (`campaign_arn` may be
    either): ranked ids with scores, at most `num_results`."""
    user_id, item_id = (user_id or "").strip() or None, (item_id or "").strip() or None
    if kind == ITEM and not item_id:
        raise CallInputError("This campaign recommends items related to an item: enter an item ID.")
    if kind not in (ITEM, POPULAR) and not user_id:
        raise CallInputError(f"This campaign needs {WHAT_IT_NEEDS.get(kind, 'a user')}: enter a user ID.")
    if target_key(campaign_arn) == "recommenderArn" and kind in (RANKING, ACTION):
        raise CallInputError("A recommender answers GetRecommendations only.")
    params: dict[str, Any] = {target_key(campaign_arn): campaign_arn}
    if filter_arn:
        params["filterArn"] = filter_arn
        if filter_values:
            params["filterValues"] = dict(filter_values)
    if metadata_columns and kind != ACTION:  # actions carry no item metadata
        params["metadataColumns"] = {"ITEMS": list(metadata_columns)}
    if kind == ACTION:
        answer = runtime.get_action_recommendations(userId=user_id, numResults=int(num_results), **params)
        return [Recommended(str(a["actionId"]), a.get("score")) for a in answer.get("actionList", [])]
    if kind == RANKING:
        wanted = _clean(candidates)
        if not wanted:
            raise CallInputError("Personalized ranking reorders a list: enter the item IDs to rank.")
        if len(wanted) > MAX_INPUT_LIST:
            raise CallInputError(f"Personalized ranking takes at most {MAX_INPUT_LIST} items; "
                                 f"{len(wanted)} were given.")
        listed = runtime.get_personalized_ranking(userId=user_id, inputList=wanted, **params)["personalizedRanking"]
    else:
        key = {"itemId": item_id} if kind == ITEM else ({"userId": user_id} if user_id else {})
        listed = runtime.get_recommendations(numResults=int(num_results), **key, **params)["itemList"]
    return [Recommended(str(it["itemId"]), it.get("score"), dict(it.get("metadata") or {}))
            for it in listed[: int(num_results)]]
