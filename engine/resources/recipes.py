"""The recipe catalogue as AWS lists it (ListRecipes, DescribeRecipe): the recipes the engine trains."""

from __future__ import annotations

from ..errors import ResourceNotFoundException
from ..recipes.registry import RECIPES
from ..store import Record

# Recipes are AWS's, not the account's: they carry AWS's fixed creation date.
RECIPES_CREATED = 1546300800.0


def recipes() -> list[Record]:
    return [{
        "name": spec.name, "recipeArn": spec.arn,
        "algorithmArn": f"arn:aws:personalize:::algorithm/{spec.name}",
        "featureTransformationArn": "arn:aws:personalize:::feature-transformation/sims",
        "status": "ACTIVE", "description": spec.description, "recipeType": spec.recipe_type,
        "creationDateTime": RECIPES_CREATED, "lastUpdatedDateTime": RECIPES_CREATED,
    } for spec in RECIPES.values()]


def describe_recipe(recipe_arn: str) -> Record:
    for rec in recipes():
        if rec["recipeArn"] == recipe_arn:
            return rec
    raise ResourceNotFoundException(f"Could not find the recipe {recipe_arn}.")
