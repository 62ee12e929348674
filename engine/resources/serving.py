"""The runtime API on campaigns: GetRecommendations and GetPersonalizedRanking, with filters and item
metadata, answered from the serving cache whenever it can."""

from __future__ import annotations

import itertools
import uuid

import numpy as np
import pandas as pd

from .. import runtime
from ..datastore import EventLog
from ..errors import InvalidInputException, ResourceNotFoundException
from ..filters import Clause, Condition, excluded_interaction_types, item_condition_mask
from ..promotions import apply_promotion, check_promotion
from ..recipes.registry import PERSONALIZED_RANKING, POPULAR_ITEMS, RELATED_ITEMS, USER_PERSONALIZATION
from ..store import Record
from ..training import ModelBundle
from .filters import Filters
from .ledger import Ledger, group_id
from .metric_attributions import ShownLists
from .recommenders import model_path as recommender_model
from .serving_cache import ServingCache

MAX_RESULTS = 500
MAX_INPUT_LIST = 500
_RID_PREFIX = str(uuid.uuid4())[:24]  # "xxxxxxxx-xxxx-4xxx-xxxx-": a UUID's first four groups
_RID_COUNTER = itertools.count()  # next() on a count is atomic under the GIL


def next_recommendation_id() -> str:
    """`RID-` and a UUID-shaped id unique to this engine process: a random prefix and a counter, because
    uuid4() (an os.urandom call) was a tenth of a GetRecommendations answer's cost."""
    return f"RID-{_RID_PREFIX}{next(_RID_COUNTER):012x}"


def refuse_unfit_call(recipe_type: str, user_id: str | None, item_id: str | None) -> None:
    """GetRecommendations as AWS accepts it: a ranking campaign only reranks a list, a related-items
    campaign needs the item, a user-personalization campaign the user."""
    if recipe_type == PERSONALIZED_RANKING:
        raise InvalidInputException("This campaign's recipe is PERSONALIZED_RANKING: it reranks a list you pass "
                                    "to GetPersonalizedRanking and does not answer GetRecommendations.")
    if recipe_type == RELATED_ITEMS and not item_id:
        raise InvalidInputException("This campaign's recipe is RELATED_ITEMS: pass the itemId to find items for.")
    if recipe_type == USER_PERSONALIZATION and not user_id:
        raise InvalidInputException("This campaign's recipe is USER_PERSONALIZATION: pass the userId to "
                                    "recommend for.")


def check_num_results(num_results: int | None) -> int:
    n = 25 if num_results is None else int(num_results)
    if not 1 <= n <= MAX_RESULTS:
        raise InvalidInputException("numResults must be between 1 and 500.")
    return n


class Serving:
    def __init__(
        self, ledger: Ledger, models: runtime.ModelCache, events: EventLog, filters: Filters,
        cache: ServingCache,
    ) -> None:
        self._ledger = ledger
        self._models = models
        self._events = events
        self._filters = filters
        self._cache = cache
        self.shown: ShownLists | None = None  # which items each answer showed, for metric attribution

    def _answer_id(self, campaign_arn: str, items: list[dict]) -> str:
        rid = next_recommendation_id()
        if self.shown is not None:
            self.shown.remember(rid, campaign_arn, [it["itemId"] for it in items])
        return rid

    def campaign(self, campaign_arn: str) -> tuple[Record, ModelBundle, str]:
        """The campaign's record (read-only), the bundle it serves and its dataset group. Cached per
        stored record: any write to the campaign replaces the record object, which invalidates it."""
        store = self._ledger.store
        campaign = store.peek(campaign_arn) if isinstance(campaign_arn, str) else None
        kind = store.kind_of(campaign_arn) if campaign is not None else None
        if kind not in ("campaign", "recommender"):
            raise ResourceNotFoundException(f"Could not find the campaign {campaign_arn}.")
        cached = self._cache.campaign(campaign_arn, campaign)
        if cached is not None:
            return campaign, cached[0], cached[1]
        if campaign["status"] not in ("ACTIVE",):
            raise ResourceNotFoundException(f"The {kind} is {campaign['status']}; it serves only while ACTIVE.")
        if kind == "recommender":  # a domain recommender: its own model, in its own dataset group
            bundle = self._models.get(recommender_model(self._ledger, campaign))
            group = campaign["datasetGroupArn"]
        else:
            bundle = self._models.get(self._ledger.model_path(campaign["solutionVersionArn"]))
            group = (store.peek(campaign["solutionArn"]) or {}).get("datasetGroupArn", "")
        self._cache.keep_campaign(campaign_arn, campaign, bundle, group)
        return campaign, bundle, group

    def user_events(self, group_arn: str, user_id: str | None) -> list[tuple[str, int, str]]:
        return self._events.user_events(group_id(group_arn), user_id) if user_id else []

    def excluded(
        self, bundle: ModelBundle, clauses: list[Clause], values: dict[str, str], group_arn: str,
        user_id: str | None, events: list[tuple[str, int, str]],
    ) -> np.ndarray | None:
        """For a filter that only takes out items the user interacted with under some event types (the
        usual one: EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN (...)), their positions
        (runtime.filter_exclusions), which the ranking skips as it skips the user's own items: no mask
        over every item is built for it. None for any other filter (see `allowed`)."""
        wanted = excluded_interaction_types(clauses, values)
        if wanted is None:
            return None
        self._cache.aligned_items(bundle, group_arn)  # loaded or checked, as `allowed` does (see there)
        return runtime.filter_exclusions(bundle, wanted, user_id, events, bundle.typed_history)

    def allowed(
        self, bundle: ModelBundle, filter_arn: str | None, values: dict[str, str],
        group_arn: str, user_id: str | None, events: list[tuple[str, int, str]],
        clauses: list[Clause] | None = None,
    ) -> np.ndarray | None:
        """Which of the model's items the filter lets through for this user, or None without a filter.
        `clauses`: the filter's, when the caller has them already."""
        if not filter_arn:
            return None
        if clauses is None:
            clauses = self._filters.clauses(filter_arn, group_arn)
        items_only = all(c.dataset == "Items" for clause in clauses for c in clause.conditions)
        key = self._cache.mask_key(filter_arn, bundle, group_arn, values)
        if items_only:
            cached = self._cache.mask(key, bundle)
            if cached is not None:
                return cached
        # Loaded (or checked current) even for a filter on interactions only: the transport answers a
        # filtered call on its event loop only while the group's item metadata is loaded and current.
        meta = self._cache.aligned_items(bundle, group_arn)

        def item_condition(cond: Condition, resolved: list[object]) -> np.ndarray:
            return self._cache.condition_mask(bundle, group_arn, cond, resolved, lambda: item_condition_mask(
                cond, resolved, pd.Index(bundle.item_ids), meta))

        mask = runtime.filter_mask(bundle, clauses, values, item_condition, user_id, events, bundle.typed_history)
        if items_only:
            self._cache.keep_mask(key, bundle, mask)
        return mask

    def serves_from_memory(self, campaign_arn: str, filter_arn: str | None, needs_items: bool = False) -> bool:
        """Whether a runtime call on this campaign and filter reads nothing from disk: it was answered
        before (model and events loaded), the campaign has not changed since, and, for a filter or item
        metadata (`needs_items`), the item metadata is loaded as it stands after the last PutItems."""
        return self._cache.is_warm(campaign_arn, self._ledger.store.peek(campaign_arn), filter_arn, needs_items)

    def get_recommendations(
        self, campaign_arn: str | None = None, user_id: str | None = None, item_id: str | None = None,
        num_results: int | None = None, filter_arn: str | None = None, filter_values: dict | None = None,
        metadata_columns: dict | None = None, recommender_arn: str | None = None,
        promotions: list[dict] | None = None, **_: object,
    ) -> tuple[list[dict], str]:
        if recommender_arn and campaign_arn:
            raise InvalidInputException("Pass either a campaignArn or a recommenderArn, not both.")
        campaign_arn = campaign_arn or recommender_arn  # a recommender is served as a campaign is
        if not campaign_arn:
            raise InvalidInputException("Pass a campaignArn or a recommenderArn.")
        n = check_num_results(num_results)
        campaign, bundle, group = self.campaign(campaign_arn)
        refuse_unfit_call(bundle.recipe_type, user_id, item_id)
        if not user_id and not item_id:
            self._check_anonymous(bundle, filter_arn, group)
        events = self.user_events(group, user_id)
        values = filter_values or {}
        clauses = self._filters.clauses(filter_arn, group) if filter_arn else None
        excluded = None if promotions or clauses is None else self.excluded(bundle, clauses, values, group, user_id,
                                                                            events)
        allowed = None if excluded is not None else self.allowed(bundle, filter_arn, values, group, user_id, events,
                                                                 clauses)
        if promotions:
            items = self._promoted(bundle, campaign, group, user_id, item_id, n, events, allowed, promotions[0])
        else:
            recs = runtime.recommend(bundle, campaign, user_id, item_id, n, events, allowed, excluded)
            items = [{"itemId": it, "score": score} for it, score in recs]
        self._add_metadata(items, campaign, group, metadata_columns)
        self._cache.answered(campaign_arn, filter_arn)
        return items, self._answer_id(campaign_arn, items)

    def _check_anonymous(self, bundle: ModelBundle, filter_arn: str | None, group: str) -> None:
        """A request without a user or an item. AWS's popular-items recipes (Trending-Now, Popularity-Count)
        need a user only when the filter reads the user's interactions; every other recipe needs one."""
        if bundle.recipe_type != POPULAR_ITEMS:
            raise InvalidInputException(
                "Pass a userId (or an itemId for a related-items campaign): "
                f"this campaign's recipe ({bundle.recipe_name}) recommends for someone."
            )
        if filter_arn and any(c.dataset == "Interactions" for clause in self._filters.clauses(filter_arn, group)
                              for c in clause.conditions):
            raise InvalidInputException("This filter reads the user's interactions: pass a userId with it.")

    def _promoted(
        self, bundle: ModelBundle, campaign: Record, group: str, user_id: str | None, item_id: str | None,
        n: int, events: list, allowed: np.ndarray | None, promotion: dict,
    ) -> list[dict]:
        if bundle.recipe_type not in (USER_PERSONALIZATION, RELATED_ITEMS):
            raise InvalidInputException(
                "Promotions apply to USER_PERSONALIZATION and RELATED_ITEMS recipes; this campaign's recipe "
                f"is {bundle.recipe_name}."
            )
        name, percent, promo_filter, promo_values = check_promotion(promotion)
        promo_mask = self.allowed(bundle, promo_filter, promo_values, group, user_id, events)
        assert promo_mask is not None  # a filter ARN always gives a mask

        def recommend(mask: np.ndarray | None, k: int) -> list[tuple[str, float]]:
            return runtime.recommend(bundle, campaign, user_id, item_id, k, events, mask) if k > 0 else []

        seed = f"{user_id or ''}|{item_id or ''}|{name}"
        return apply_promotion(recommend, n, name, percent, promo_mask, allowed, bundle.item_pos, seed)

    def get_personalized_ranking(
        self, campaign_arn: str, input_list: list[str], user_id: str, filter_arn: str | None = None,
        filter_values: dict | None = None, metadata_columns: dict | None = None, **_: object,
    ) -> tuple[list[dict], str]:
        if not input_list:
            raise InvalidInputException("inputList must name at least one item.")
        if len(input_list) > MAX_INPUT_LIST:
            raise InvalidInputException("inputList takes at most 500 items.")
        campaign, bundle, group = self.campaign(campaign_arn)
        if bundle.recipe_type != PERSONALIZED_RANKING:
            raise InvalidInputException("GetPersonalizedRanking needs a campaign of a PERSONALIZED_RANKING recipe "
                                        "(aws-personalized-ranking); this campaign answers GetRecommendations.")
        events = self._events.user_events(group_id(group), user_id)
        allowed = self.allowed(bundle, filter_arn, filter_values or {}, group, user_id, events)
        ranked = runtime.rank(bundle, user_id, input_list, events, allowed)
        items = [{"itemId": it, "score": score} for it, score in ranked]
        self._add_metadata(items, campaign, group, metadata_columns)
        self._cache.answered(campaign_arn, filter_arn)
        return items, self._answer_id(campaign_arn, items)

    def _add_metadata(self, items: list[dict], campaign: Record, group: str, columns: dict | None) -> None:
        if not columns:
            return
        config = campaign.get("campaignConfig") or campaign.get("recommenderConfig") or {}
        if not config.get("enableMetadataWithRecommendations"):
            raise InvalidInputException(
                "metadataColumns needs a campaign or recommender created with enableMetadataWithRecommendations."
            )
        wanted = list(columns.get("ITEMS") or [])
        meta = self._cache.items_frame(group).set_index("ITEM_ID")
        missing = [c for c in wanted if c not in meta.columns]
        if missing:
            raise InvalidInputException(f"The Items dataset has no column(s) {', '.join(missing)}.")
        rows = meta.reindex([it["itemId"] for it in items])[wanted]
        for item, (_, row) in zip(items, rows.iterrows(), strict=True):
            item["metadata"] = {c: ("" if pd.isna(v) else str(v)) for c, v in row.items()}
