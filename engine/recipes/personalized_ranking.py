"""aws-personalized-ranking (and -v2): GetPersonalizedRanking reranks the request's inputList by the
user's scores from the User-Personalization model (-v2: with item metadata for cold items).

`rank(history, candidates)` scores only the given candidates; items the model does not know (not in
its catalogue) are left for the engine to append at the end, as AWS does with unknown items.
"""

from __future__ import annotations

from .user_personalization import UserPersonalization, UserPersonalizationV2


class PersonalizedRanking(UserPersonalization):
    recipe_name = "aws-personalized-ranking"


class PersonalizedRankingV2(UserPersonalizationV2):
    recipe_name = "aws-personalized-ranking-v2"
