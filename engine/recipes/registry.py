"""The recipes the engine trains, by their AWS names (`arn:aws:personalize:::recipe/<name>`)."""

from __future__ import annotations

from dataclasses import dataclass

from .base import Recommender
from .personalized_ranking import PersonalizedRanking, PersonalizedRankingV2
from .popularity_count import PopularityCount
from .sims import SimilarItems, Sims
from .trending_now import TrendingNow
from .user_personalization import UserPersonalization, UserPersonalizationV2

# AWS recipe types, as DescribeRecipe reports them.
USER_PERSONALIZATION = "USER_PERSONALIZATION"
PERSONALIZED_RANKING = "PERSONALIZED_RANKING"
RELATED_ITEMS = "RELATED_ITEMS"
POPULAR_ITEMS = "POPULAR_ITEMS"


@dataclass(frozen=True)
class RecipeSpec:
    name: str
    recipe_type: str
    description: str
    model: type[Recommender]

    @property
    def arn(self) -> str:
        return f"arn:aws:personalize:::recipe/{self.name}"


RECIPES: dict[str, RecipeSpec] = {
    spec.name: spec
    for spec in [
        RecipeSpec(
            "aws-popularity-count",
            POPULAR_ITEMS,
            "Recommends the items with the most interactions: the same list for every user.",
            PopularityCount,
        ),
        RecipeSpec(
            "aws-trending-now",
            POPULAR_ITEMS,
            "Recommends the items most interacted with over the last week (or half the data's span), lifting "
            "those that grew on the week before as far as growth kept going in the data's past: use it to "
            "surface what is catching on right now.",
            TrendingNow,
        ),
        RecipeSpec(
            "aws-user-personalization",
            USER_PERSONALIZATION,
            "Recommends items for each user from what similar users liked, reacting to new events at once "
            "and mixing in some new items: the default choice for a personalised 'for you' list.",
            UserPersonalization,
        ),
        RecipeSpec(
            "aws-user-personalization-v2",
            USER_PERSONALIZATION,
            "User-Personalization that also reads item metadata, so new items with no interactions yet "
            "reach users who like their category: use it when your catalogue changes often.",
            UserPersonalizationV2,
        ),
        RecipeSpec(
            "aws-personalized-ranking",
            PERSONALIZED_RANKING,
            "Reorders a list of items you give it (a search result, a category page) by how much each "
            "user is likely to want each one.",
            PersonalizedRanking,
        ),
        RecipeSpec(
            "aws-personalized-ranking-v2",
            PERSONALIZED_RANKING,
            "Personalized-Ranking that also reads item metadata, so new items in a user's favourite "
            "categories are ranked sensibly: use it to rerank lists that include new items.",
            PersonalizedRankingV2,
        ),
        RecipeSpec(
            "aws-sims",
            RELATED_ITEMS,
            "Recommends items that the same people also interacted with, given an item: use it for "
            "'customers who viewed this also viewed' widgets.",
            Sims,
        ),
        RecipeSpec(
            "aws-similar-items",
            RELATED_ITEMS,
            "Recommends items related to a given item from co-interactions and shared categories, so "
            "even brand-new items get related items: use it for 'more like this'.",
            SimilarItems,
        ),
    ]
}


def recipe_for_arn(arn: str) -> RecipeSpec | None:
    prefix = "arn:aws:personalize:::recipe/"
    if not arn.startswith(prefix):
        return None
    return RECIPES.get(arn[len(prefix) :])
