"""The recipe catalogue as AWS lists it (ListRecipes, DescribeRecipe): the recipes the engine trains, and
the domain use cases (ECOMMERCE, VIDEO_ON_DEMAND) AWS lists beside them."""

from __future__ import annotations

from .. import hpo
from ..errors import InvalidInputException, ResourceNotFoundException
from ..recipes.registry import POPULAR_ITEMS, RECIPES, RELATED_ITEMS, USER_PERSONALIZATION
from ..store import Record

# Recipes are AWS's, not the account's: they carry AWS's fixed creation date.
RECIPES_CREATED = 1546300800.0
PREFIX = "arn:aws:personalize:::recipe/"

# AWS's domain dataset group use cases (its "Choosing recommender use cases" pages): name, domain, type
# and what it recommends. They serve recommenders, which this engine does not implement yet, so they are
# listed and described but CreateSolution refuses them, as AWS does for a use case.
DOMAIN_RECIPES: dict[str, tuple[str, str, str]] = {
    "aws-ecomm-customers-who-viewed-x-also-viewed": (
        "ECOMMERCE", RELATED_ITEMS, "Items that customers who viewed an item also viewed."),
    "aws-ecomm-frequently-bought-together": (
        "ECOMMERCE", RELATED_ITEMS, "Items customers often buy together with a given item."),
    "aws-ecomm-popular-items-by-purchases": (
        "ECOMMERCE", POPULAR_ITEMS, "The items purchased most often."),
    "aws-ecomm-popular-items-by-views": (
        "ECOMMERCE", POPULAR_ITEMS, "The items viewed most often."),
    "aws-ecomm-recommended-for-you": (
        "ECOMMERCE", USER_PERSONALIZATION, "Personalised recommendations for each user."),
    "aws-vod-because-you-watched-x": (
        "VIDEO_ON_DEMAND", RELATED_ITEMS, "Videos like one a user watched, for that user."),
    "aws-vod-more-like-x": (
        "VIDEO_ON_DEMAND", RELATED_ITEMS, "Videos similar to a given video."),
    "aws-vod-most-popular": (
        "VIDEO_ON_DEMAND", POPULAR_ITEMS, "The most watched videos."),
    "aws-vod-top-picks": (
        "VIDEO_ON_DEMAND", USER_PERSONALIZATION, "Personalised video picks for each user."),
    "aws-vod-trending-now": (
        "VIDEO_ON_DEMAND", POPULAR_ITEMS, "Videos whose popularity is rising fastest."),
}
DOMAINS = ("ECOMMERCE", "VIDEO_ON_DEMAND")


def _record(name: str, recipe_type: str, description: str, domain: str | None) -> Record:
    return {
        "name": name, "recipeArn": PREFIX + name,
        "algorithmArn": f"arn:aws:personalize:::algorithm/{name}",
        "featureTransformationArn": "arn:aws:personalize:::feature-transformation/sims",
        "status": "ACTIVE", "description": description, "recipeType": recipe_type, "domain": domain,
        "creationDateTime": RECIPES_CREATED, "lastUpdatedDateTime": RECIPES_CREATED,
    }


def recipes(domain: str | None = None) -> list[Record]:
    """With a domain, only its use cases (AWS's ListRecipes); without one, every recipe."""
    if domain is not None and domain not in DOMAINS:
        raise InvalidInputException("domain must be ECOMMERCE or VIDEO_ON_DEMAND.")
    custom = [] if domain else [_record(s.name, s.recipe_type, s.description, None) for s in RECIPES.values()]
    return custom + [_record(name, rtype, text, dom) for name, (dom, rtype, text) in DOMAIN_RECIPES.items()
                     if domain in (None, dom)]


def describe_recipe(recipe_arn: str) -> Record:
    for rec in recipes():
        if rec["recipeArn"] == recipe_arn:
            return rec
    raise ResourceNotFoundException(f"Could not find the recipe {recipe_arn}.")


ALGORITHM_PREFIX = "arn:aws:personalize:::algorithm/"


def describe_algorithm(algorithm_arn: str) -> Record:
    """A recipe's algorithm as DescribeAlgorithm shows it, with the ranges HPO tunes when a solution's
    hpoConfig declares none (every hyperparameter the recipe reads may be given a range of one's own)."""
    name = algorithm_arn[len(ALGORITHM_PREFIX):] if algorithm_arn.startswith(ALGORITHM_PREFIX) else ""
    if name not in RECIPES:
        raise ResourceNotFoundException(f"Could not find the algorithm {algorithm_arn}.")
    ranges = {group: [{**entry, "isTunable": True} for entry in entries]
              for group, entries in hpo.default_ranges(name).items()}
    return {
        "name": name, "algorithmArn": algorithm_arn,
        "algorithmImage": {"name": name, "dockerURI": f"personalize-engine/{name}"},
        "defaultHyperParameters": {}, "defaultHyperParameterRanges": ranges,
        "defaultResourceConfig": {}, "trainingInputMode": "File",
        "creationDateTime": RECIPES_CREATED, "lastUpdatedDateTime": RECIPES_CREATED,
    }


def is_domain_recipe(recipe_arn: str) -> bool:
    return recipe_arn.startswith(PREFIX) and recipe_arn[len(PREFIX):] in DOMAIN_RECIPES
