"""The demo's stale-campaign story in earned numbers: a simulated day while the campaign still serves the
version trained on the first ~7,000 events, the campaign update (story step 4), and the same shoppers'
day after it. The two days are one log whose campaign is labelled by phase, so the impact figures and the
two-proportion test compare before with after."""

from __future__ import annotations

import pandas as pd

from services.core.clients import Clients
from services.demo.shop_setup import DemoPlan
from services.demo.story import step_update_campaign, story_status
from services.evaluation.rehearsal import DayStore, rehearse_day, yesterday
from services.evaluation.simulation import DAY_S, Progress, SimulationResult

BEFORE, AFTER = "before the update", "after the update"


def _noop(message: str, fraction: float) -> None:
    return None


def stale_campaign_story(clients: Clients, plan: DemoPlan, visits: int, seed: int,
                         progress: Progress | None = None) -> SimulationResult:
    """Needs the story at step 3 (new version trained, campaign stale): simulates a day, updates the
    campaign, simulates the next day with the same seed, and keeps both days as the group's last run."""
    report = progress or _noop
    status = story_status(clients, plan)
    if status.done != 3 or status.campaign_arn is None or status.group_arn is None:
        raise ValueError("This rehearsal starts where the demo story's step 3 ends (a new version trained, the "
                         f"campaign still on the old one); the story is at step {status.done} of 4. Run the "
                         "steps on the Overview page first.")
    start = yesterday() - DAY_S

    def part(offset: float, scale: float) -> Progress:
        return lambda message, fraction: report(message, offset + scale * fraction)

    before = rehearse_day(clients, status.group_arn, [status.campaign_arn], plan, visits, seed, start,
                          part(0.0, 0.45))
    report("Updating the campaign to the newest version", 0.45)
    step_update_campaign(clients, plan)
    after = rehearse_day(clients, status.group_arn, [status.campaign_arn], plan, visits, seed, start + DAY_S,
                         part(0.55, 0.45))
    name = status.campaign_arn.rsplit("/", 1)[-1]
    log = pd.concat([before.log.assign(campaign_arn=f"{name} · {BEFORE}"),
                     after.log.assign(campaign_arn=f"{name} · {AFTER}", visit=after.log["visit"] + visits)],
                    ignore_index=True)
    result = SimulationResult(log, before.events_sent + after.events_sent, before.calls + after.calls)
    DayStore().save(status.group_arn, result)
    return result
