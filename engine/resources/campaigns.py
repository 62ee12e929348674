"""Campaigns: deploy a solution version, swap it with UpdateCampaign, follow new versions on request."""

from __future__ import annotations

from ..errors import InvalidInputException, ResourceInUseException
from ..recipes.registry import recipe_for_arn
from ..runtime import ModelCache
from ..store import Record
from .deletion import Deletions
from .jobs import JobPool
from .ledger import PENDING, Ledger, check_name
from .records import CampaignRecord, now
from .serving_cache import ServingCache

EXPLORATION_RANGES = {"explorationWeight": (0.0, 1.0), "explorationItemAgeCutOff": (0.0, 1e9)}
EXPLORATION_DEFAULT = {"explorationWeight": "0.3", "explorationItemAgeCutOff": "30"}


def resolve_version(ledger: Ledger, arn: str) -> Record:
    """A version ARN, or `<solutionArn>/$LATEST` / a solution ARN for its newest ACTIVE version."""
    if arn.endswith("/$LATEST") or ledger.store.kind_of(arn) == "solution":
        solution_arn = arn.removesuffix("/$LATEST")
        ledger.get(solution_arn, "solution")
        active = [v for v in ledger.children("solution-version", solution_arn) if v["status"] == "ACTIVE"]
        if not active:
            raise InvalidInputException("The solution has no ACTIVE version yet; train one first.")
        return active[0]
    version = ledger.get(arn, "solution-version")
    if version["status"] != "ACTIVE":
        raise InvalidInputException(
            f"The solution version is {version['status']}; a campaign needs an ACTIVE one."
        )
    return version


def check_exploration(explore: dict | None) -> None:
    """itemExplorationConfig's values as AWS accepts them (numbers in their documented ranges)."""
    for key, (lo, hi) in EXPLORATION_RANGES.items():
        if explore and key in explore:
            try:
                value = float(explore[key])
            except ValueError as exc:
                raise InvalidInputException(f"{key} must be a number.") from exc
            if not lo <= value <= hi:
                raise InvalidInputException(f"{key} must be between {lo:g} and {hi:g}.")


def checked_config(config: dict | None, recipe_arn: str) -> dict:
    """The campaignConfig as AWS stores it: checked, with AWS's defaults for what was left out."""
    spec = recipe_for_arn(recipe_arn)
    config = dict(config or {})
    check_exploration(config.get("itemExplorationConfig"))
    config.setdefault("syncWithLatestSolutionVersion", False)
    config.setdefault("enableMetadataWithRecommendations", False)
    if spec is not None and spec.recipe_type == "USER_PERSONALIZATION":
        config.setdefault("itemExplorationConfig", dict(EXPLORATION_DEFAULT))
    return config


class Campaigns:
    def __init__(self, ledger: Ledger, light: JobPool, models: ModelCache, cache: ServingCache,
                 deletions: Deletions) -> None:
        self._ledger = ledger
        self._light = light
        self._models = models
        self._cache = cache
        self._deletions = deletions
        deletions.register("campaign", lambda campaign: cache.forget_campaign(campaign["campaignArn"]))

    def create(
        self, name: str, solution_version_arn: str, min_provisioned_tps: int | None = None,
        campaign_config: dict | None = None, tags: list | None = None, **_: object,
    ) -> str:
        check_name(name, "campaign")
        version = resolve_version(self._ledger, solution_version_arn)
        tps = 1 if min_provisioned_tps is None else int(min_provisioned_tps)
        if tps < 1:
            raise InvalidInputException("minProvisionedTPS must be at least 1.")
        config = checked_config(campaign_config, version["recipeArn"])
        arn = self._ledger.arn("campaign", name)
        record = CampaignRecord(name=name, campaign_arn=arn, solution_version_arn=version["solutionVersionArn"],
                                solution_arn=version["solutionArn"], min_provisioned_tps=tps, campaign_config=config)
        self._ledger.new("campaign", arn, record, tags)
        self._light.submit(self._deploy, arn)
        return arn

    def _deploy(self, arn: str) -> None:
        ledger = self._ledger
        ledger.set_status(arn, "CREATE IN_PROGRESS")
        campaign = ledger.store.get(arn)
        if campaign is None:
            return
        try:
            self._models.get(ledger.model_path(campaign["solutionVersionArn"]))
        except (OSError, EOFError) as exc:
            ledger.set_status(arn, "CREATE FAILED", f"The solution version's model cannot be loaded: {exc}")
            return
        ledger.set_status(arn, "ACTIVE")

    def update(
        self, campaign_arn: str, solution_version_arn: str | None = None, min_provisioned_tps: int | None = None,
        campaign_config: dict | None = None, **_: object,
    ) -> str:
        ledger = self._ledger
        campaign = ledger.get(campaign_arn, "campaign")
        if campaign["status"] != "ACTIVE":
            raise ResourceInUseException(f"The campaign is {campaign['status']}; it must be ACTIVE to update.")
        if (campaign.get("latestCampaignUpdate") or {}).get("status") in PENDING:
            raise ResourceInUseException("An update of this campaign is already in progress; wait for it.")
        version = resolve_version(ledger, solution_version_arn) if solution_version_arn else \
            ledger.get(campaign["solutionVersionArn"], "solution-version")
        if version["solutionArn"] != campaign["solutionArn"]:
            raise InvalidInputException("A campaign can only serve versions of its own solution.")
        if min_provisioned_tps is not None and int(min_provisioned_tps) < 1:
            raise InvalidInputException("minProvisionedTPS must be at least 1.")
        merged = dict(campaign.get("campaignConfig") or {})
        merged.update(campaign_config or {})
        config = checked_config(merged, version["recipeArn"])
        tps = int(min_provisioned_tps) if min_provisioned_tps is not None else campaign["minProvisionedTPS"]
        self._start_update(campaign_arn, version["solutionVersionArn"], tps, config)
        return campaign_arn

    def delete(self, campaign_arn: str) -> None:
        # From DELETE PENDING on the campaign no longer serves: the serving path answers only ACTIVE ones.
        self._deletions.start(campaign_arn, "campaign")

    def follow_latest(self, solution_arn: str, version_arn: str) -> None:
        """campaignConfig.syncWithLatestSolutionVersion: campaigns follow each new ACTIVE version."""
        for campaign in self._ledger.children("campaign", solution_arn):
            config = campaign.get("campaignConfig") or {}
            busy = (campaign.get("latestCampaignUpdate") or {}).get("status") in PENDING
            if config.get("syncWithLatestSolutionVersion") and campaign["status"] == "ACTIVE" and not busy:
                self._start_update(campaign["campaignArn"], version_arn, campaign["minProvisionedTPS"], config)

    def _start_update(self, arn: str, version_arn: str, tps: int, config: dict) -> None:
        started = now()

        def mutate(rec: Record) -> None:
            rec["latestCampaignUpdate"] = {
                "solutionVersionArn": version_arn, "minProvisionedTPS": tps, "campaignConfig": config,
                "status": "CREATE PENDING", "creationDateTime": started, "lastUpdatedDateTime": started,
            }

        self._ledger.store.update(arn, mutate)
        self._light.submit(self._apply_update, arn)

    def _apply_update(self, arn: str) -> None:
        store = self._ledger.store

        def step(status: str, reason: str | None = None, swap: bool = False) -> None:
            def mutate(rec: Record) -> None:
                update = rec["latestCampaignUpdate"]
                update["status"] = status
                update["lastUpdatedDateTime"] = now()
                if reason:
                    update["failureReason"] = reason
                if swap:  # the campaign serves the new version from this write on
                    rec["solutionVersionArn"] = update["solutionVersionArn"]
                    rec["minProvisionedTPS"] = update["minProvisionedTPS"]
                    rec["campaignConfig"] = update["campaignConfig"]

            store.update(arn, mutate)

        step("CREATE IN_PROGRESS")
        campaign = store.get(arn)
        if campaign is None:
            return
        target = campaign["latestCampaignUpdate"]["solutionVersionArn"]
        try:
            if (store.get(target) or {}).get("status") != "ACTIVE":
                raise OSError("the solution version is no longer ACTIVE")
            self._models.get(self._ledger.model_path(target))
        except (OSError, EOFError) as exc:
            step("CREATE FAILED", f"The campaign still serves its previous version: {exc}")
            return
        step("ACTIVE", swap=True)
