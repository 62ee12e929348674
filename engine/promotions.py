"""Promotions on GetRecommendations: a share of the list drawn from the promotion's own filter.

As AWS documents it (developer guide, "Promoting items in recommendations"): the promotion's filter applies
only to the promoted items and the request's filter only to the others; promoted items keep their relative
order but sit at random places in the list, each marked with the promotion's name; when too few items meet
the promotion's criteria, the list holds as many as there are and the recipe's items fill the rest.
Promotions apply to USER_PERSONALIZATION and RELATED_ITEMS recipes.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np

from .errors import InvalidInputException

# (allowed mask or None, how many) -> the recipe's list of (itemId, score) within that mask
Recommend = Callable[[np.ndarray | None, int], list[tuple[str, float]]]


def promoted_count(n: int, percent: int) -> int:
    """How many of `n` places a promotion takes. AWS does not document the rounding; rounding half up
    with at least one place keeps a small promotion visible in a short list."""
    return max(1, min(n, int(n * percent / 100 + 0.5)))


def check_promotion(promotion: dict) -> tuple[str, int, str, dict]:
    name, percent, filter_arn = promotion.get("name"), promotion.get("percentPromotedItems"), promotion.get("filterArn")
    if not name or percent is None or not filter_arn:
        raise InvalidInputException("A promotion needs a name, a percentPromotedItems and a filterArn.")
    return name, int(percent), filter_arn, dict(promotion.get("filterValues") or {})


def apply_promotion(
    recommend: Recommend, n: int, name: str, percent: int, promoted_mask: np.ndarray,
    request_mask: np.ndarray | None, item_pos: dict[str, int], seed: str,
) -> list[dict]:
    """The list with `percent` of its places promoted. `recommend` scores once per call with a mask."""
    promoted = recommend(promoted_mask, promoted_count(n, percent))
    others_mask = np.ones(len(promoted_mask), dtype=bool) if request_mask is None else request_mask.copy()
    for item_id, _ in promoted:
        others_mask[item_pos[item_id]] = False
    others = recommend(others_mask, n - len(promoted))
    total = len(promoted) + len(others)
    rng = np.random.default_rng(zlib.crc32(seed.encode()))  # repeatable for the same user and request
    places = set(rng.choice(total, size=len(promoted), replace=False).tolist()) if promoted else set()
    out: list[dict] = []
    p_iter, o_iter = iter(promoted), iter(others)
    for place in range(total):
        if place in places:
            item_id, score = next(p_iter)
            out.append({"itemId": item_id, "score": score, "promotionName": name})
        else:
            item_id, score = next(o_iter)
            out.append({"itemId": item_id, "score": score})
    return out
