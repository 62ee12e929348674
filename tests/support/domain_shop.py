"""An ECOMMERCE domain dataset group on a real engine, with a few recommenders trained and ACTIVE.

The data and the group come from the engine's own recommender tests (each use case has a right answer
there); this adds the recommenders the dashboard's tests look at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.engine.conftest import active
from tests.engine.test_recommenders import build_domain_shop

RECIPE = "arn:aws:personalize:::recipe/aws-ecomm-{}"
# name -> (use case, minRecommendationRequestsPerSecond)
RECOMMENDERS = {"dom-for-you": ("recommended-for-you", 2),
                "dom-also-viewed": ("customers-who-viewed-x-also-viewed", 1),
                "dom-popular-views": ("popular-items-by-views", 1)}


def domain_shop(personalize: Any, tmp: Path) -> dict:
    """{"group": arn, "recommenders": {name: arn}, "interactions": frame, ...}, every recommender ACTIVE."""
    shop = build_domain_shop(personalize, tmp)
    arns = {name: personalize.create_recommender(
        name=name, datasetGroupArn=shop["group"], recipeArn=RECIPE.format(case),
        recommenderConfig={"minRecommendationRequestsPerSecond": rps})["recommenderArn"]
        for name, (case, rps) in RECOMMENDERS.items()}
    for arn in arns.values():
        rec = active(lambda arn=arn: personalize.describe_recommender(recommenderArn=arn), "recommender")
        assert rec["status"] == "ACTIVE", rec.get("failureReason")
    shop["recommenders"] = arns
    return shop
