"""The retrain pipeline, one service for the dashboard's button and the nightly command.

import from a saved source (optional) → create a solution version → wait until ACTIVE → update every
campaign of the solution (or the named one) → wait until each serves the new version → verify with
DescribeCampaign. It always ends with the campaign update: the failure this exists for is a new
version trained while the campaign kept serving the old one for days.

A failure names its step and AWS's reason. Nothing here ever points a campaign at anything but the
new ACTIVE version, so a failure before the update leaves every campaign on its old version, and a
failed update leaves that campaign on its old version too (Personalize swaps only on success).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from services.core import resources
from services.core.aws_errors import error_code, explain
from services.core.clients import Clients
from services.core.config import sources_dir
from services.core.jobs import Job, JobRegistry, process_jobs
from services.core.waiting import Failed, WaitTimeout, wait_until
from services.data.sources import incremental, saved
from services.data.staging import stage_frame
from services.pipeline.runs import (
    DONE,
    FAILED,
    PENDING,
    RUNNING,
    SKIPPED,
    SUCCEEDED,
    Run,
    RunInProgress,
    RunStore,
    SolutionLock,
    Step,
)

STEPS: list[tuple[str, str]] = [
    ("import", "Import new interactions"),
    ("train", "Create a solution version"),
    ("wait_active", "Wait until the version is ACTIVE"),
    ("update", "Update the campaigns to the new version"),
    ("wait_serving", "Wait until each campaign serves it"),
    ("verify", "Verify with DescribeCampaign"),
]
UPDATING = ("CREATE PENDING", "CREATE IN_PROGRESS")
LOCAL_ROLE_ARN = "arn:aws:iam::000000000000:role/PersonalizeDemo"  # the engine ignores the role

Progress = Callable[[Run], None]
Importer = Callable[[Clients, str, str], str]  # (clients, dataset group ARN, source name) -> what was done


def retrain_job_key(run_id: str) -> str:
    # One job per run, not per solution: the solution's lock (which also holds across processes) is what
    # refuses a second retrain, and a finished run's job may still be returning when the next one starts.
    return f"retrain:{run_id}"


class StepFailed(RuntimeError):
    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"{step}: {reason}")
        self.step = step
        self.reason = reason


@dataclass(frozen=True)
class RetrainRequest:
    dataset_group: str  # name or ARN
    solution: str  # name or ARN, within the dataset group
    campaign: str | None = None  # name or ARN; None: every campaign of the solution
    import_from: str | None = None  # a saved source's name
    training_mode: str = "FULL"


@dataclass(frozen=True)
class Target:
    """What a request names, resolved to ARNs before anything is started."""

    dataset_group_arn: str
    dataset_group: str
    solution_arn: str
    solution: str
    campaigns: dict[str, str]  # name -> ARN


def _reason(exc: BaseException) -> str:
    if isinstance(exc, Failed | WaitTimeout | StepFailed | ValueError | saved.SavedSourceError):
        return str(exc)
    problem = explain(exc)
    return f"{problem.title}: {problem.detail}"


def resolve(personalize: Any, request: RetrainRequest) -> Target:
    """Names to ARNs; ValueError in words when a name is unknown or nothing would serve the new version."""
    group = resources.find_group(personalize, request.dataset_group)
    solutions = resources.solutions_of(personalize, group.arn)
    solution = next((s for s in solutions if request.solution in (s.name, s.arn)), None)
    if solution is None:
        names = ", ".join(sorted(s.name for s in solutions)) or "none"
        raise ValueError(f"Dataset group {group.name} has no solution {request.solution!r} (it has: {names}).")
    # A campaign on its way out (DELETE PENDING / IN_PROGRESS) serves nothing and is gone within moments:
    # updating it would only fail the run.
    campaigns = {c.name: c.arn for c in resources.campaigns_of_solution(personalize, solution.arn)
                 if not c.status.startswith("DELETE")}
    if request.campaign:
        chosen = {n: a for n, a in campaigns.items() if request.campaign in (n, a)}
        if not chosen:
            names = ", ".join(sorted(campaigns)) or "none"
            raise ValueError(f"Solution {solution.name} has no campaign {request.campaign!r} "
                             f"(its campaigns: {names}).")
        campaigns = chosen
    if not campaigns:
        raise ValueError(f"No campaign serves solution {solution.name}, so nothing would serve the new "
                         "version; create a campaign first (Campaigns page).")
    return Target(group.arn, group.name, solution.arn, solution.name, campaigns)


# -- the optional import step -------------------------------------------------------------------------
def import_from_saved_source(clients: Clients, dataset_group_arn: str, source_name: str) -> str:
    """Export what is new since the source's watermark, stage it, import it INCREMENTAL, wait for it.

    The watermark protocol is `incremental`'s: earlier imports of the source are waited for and settled
    first, the export is recorded as the source's pending import, and its watermark moves only once the
    job is ACTIVE, so a failed night is retried in full.
    """
    p = clients.personalize
    incremental.wait_for_earlier_imports(p, source_name)
    config = saved.load_source(sources_dir(), source_name)
    export = incremental.export_new(config, incremental.source_state(p, source_name))
    if export.frame.empty:
        return f"No new interactions in {source_name} since the last export; training on the current data."
    dataset = resources.dataset_of_type(p, dataset_group_arn, "INTERACTIONS")
    if dataset is None:
        raise ValueError("The dataset group has no Interactions dataset to import into.")
    bucket = config.get("s3_bucket") or os.environ.get("PERSONALIZE_STAGING_BUCKET")
    staged = stage_frame(export.frame, f"{source_name}-interactions", clients.backend, clients.s3, bucket)
    role = config.get("role_arn") or os.environ.get("PERSONALIZE_ROLE_ARN") or (
        LOCAL_ROLE_ARN if clients.backend.is_local else None)
    if not role:
        raise ValueError("Set the IAM role Personalize reads S3 with (the source's role_arn, or "
                         "PERSONALIZE_ROLE_ARN).")
    job = p.create_dataset_import_job(
        jobName=f"retrain-{source_name}-{time.strftime('%Y%m%dT%H%M%S')}"[:63].replace(" ", "-"),
        datasetArn=dataset.arn, dataSource={"dataLocation": staged.uri}, roleArn=role,
        importMode="INCREMENTAL",
    )["datasetImportJobArn"]
    incremental.record_import(source_name, job, export, staged.uri)
    try:
        wait_until(lambda: p.describe_dataset_import_job(datasetImportJobArn=job)["datasetImportJob"],
                   "the import job")
    finally:  # ACTIVE moves the watermark, a failure drops the record; still running: settled next time
        incremental.settle(p)
    return f"Imported {export.rows:,} new interactions from {source_name}."


# -- the pipeline -------------------------------------------------------------------------------------
class RetrainPipeline:
    def __init__(
        self, clients: Clients, store: RunStore | None = None, importer: Importer = import_from_saved_source,
        training_timeout: float = 6 * 3600, update_timeout: float = 3600, poll_interval: float = 0.5,
        jobs: JobRegistry | None = None,
    ) -> None:
        self.clients = clients
        self.jobs = jobs or process_jobs()
        self.store = store or RunStore()
        self.importer = importer
        self.training_timeout = training_timeout
        self.update_timeout = update_timeout
        self.poll_interval = poll_interval

    # -- starting -------------------------------------------------------------------------------
    def prepare(
        self, request: RetrainRequest, origin: str = "dashboard", who: str = "",
    ) -> tuple[Run, SolutionLock]:
        """Resolve names and take the solution's lock; RunInProgress when a run already holds it."""
        p = self.clients.personalize
        if request.import_from:
            _ = self.clients.s3  # boto3 clients are made here, not in the worker thread (not thread-safe)
        target = resolve(p, request)
        lock = self.store.try_lock(target.solution_arn)
        if lock is None:
            raise RunInProgress(target.solution, self.store.latest(target.solution_arn))
        run = Run(
            run_id=self.store.new_run_id(), dataset_group=target.dataset_group, solution=target.solution,
            solution_arn=target.solution_arn, dataset_group_arn=target.dataset_group_arn,
            campaign=request.campaign, import_from=request.import_from, training_mode=request.training_mode,
            origin=origin, started_by=who, steps=[Step(k, label) for k, label in STEPS],
            campaigns={n: {"arn": a, "before": None, "serving": None, "verified": False}
                       for n, a in target.campaigns.items()},
        )
        lock.write_owner(run.run_id)
        try:
            self.store.save(run)
        except BaseException:
            lock.release()
            raise
        return run, lock

    def run(self, request: RetrainRequest, on_progress: Progress | None = None, origin: str = "command",
            who: str = "") -> Run:
        """Run to the end in this thread (the command)."""
        run, lock = self.prepare(request, origin, who)
        return self.execute(run, lock, on_progress)

    def start(self, request: RetrainRequest, on_progress: Progress | None = None, who: str = "") -> Run:
        """Run as a background job (the button): the browser may close; the stored run shows progress."""
        run, lock = self.prepare(request, "dashboard", who)
        self.jobs.start(retrain_job_key(run.run_id), self._work(run, lock, on_progress),
                        name=f"retrain {run.solution}")
        return run

    def _work(self, run: Run, lock: SolutionLock, on_progress: Progress | None) -> Callable[..., Run]:
        def work(progress: Callable[[str, float], None]) -> Run:
            def notify(current: Run) -> None:
                done = sum(s.status in (DONE, SKIPPED, FAILED) for s in current.steps)
                progress(current.summary(), done / max(1, len(current.steps)))
                if on_progress is not None:
                    on_progress(current)

            return self.execute(run, lock, notify)

        return work

    def job(self, run_id: str) -> Job | None:
        """The in-process job running a run started here (None for a run of another process)."""
        return self.jobs.get(retrain_job_key(run_id))

    # -- running --------------------------------------------------------------------------------
    def execute(self, run: Run, lock: SolutionLock, on_progress: Progress | None = None) -> Run:
        notify = on_progress or (lambda r: None)
        try:
            for key, _label in STEPS:
                self._begin(run, key, notify)
                try:
                    detail = getattr(self, f"_step_{key}")(run, notify)
                except StepFailed:
                    raise
                except Exception as exc:  # every failure is recorded against its step, in words
                    raise StepFailed(key, _reason(exc)) from exc
                if detail is None:
                    self._end(run, key, SKIPPED, "not requested", notify)
                else:
                    self._end(run, key, DONE, detail, notify)
            run.status = SUCCEEDED
        except StepFailed as exc:
            run.status, run.failed_step, run.reason = FAILED, exc.step, exc.reason
            self._end(run, exc.step, FAILED, exc.reason, notify)
            for step in run.steps:
                if step.status == PENDING:
                    step.status, step.detail = SKIPPED, "not run: an earlier step failed"
        finally:
            run.finished_at = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
            if run.status == RUNNING:  # an unexpected BaseException (e.g. KeyboardInterrupt)
                run.status, run.reason = FAILED, "the run was stopped"
            self.store.save(run)
            lock.release()
            notify(run)
        return run

    def _begin(self, run: Run, key: str, notify: Progress) -> None:
        step = run.step(key)
        step.status, step.started_at = RUNNING, time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
        self.store.save(run)
        notify(run)

    def _end(self, run: Run, key: str, status: str, detail: str, notify: Progress) -> None:
        step = run.step(key)
        step.status, step.detail = status, detail
        step.finished_at = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
        self.store.save(run)
        notify(run)

    def _note(self, run: Run, key: str, detail: str, notify: Progress) -> None:
        run.step(key).detail = detail
        self.store.save(run)
        notify(run)

    # -- the steps (each returns its detail line, None when skipped) --------------------------------
    def _step_import(self, run: Run, notify: Progress) -> str | None:
        if not run.import_from:
            return None
        try:
            return self.importer(self.clients, run.dataset_group_arn, run.import_from)
        except Exception as exc:
            raise StepFailed("import", _reason(exc)) from exc

    def _step_train(self, run: Run, notify: Progress) -> str:
        p = self.clients.personalize
        for info in run.campaigns.values():
            campaign = p.describe_campaign(campaignArn=info["arn"])["campaign"]
            info["before"] = campaign.get("solutionVersionArn")
            info["serving"] = info["before"]
        run.new_version_arn = p.create_solution_version(solutionArn=run.solution_arn,
                                                        trainingMode=run.training_mode)["solutionVersionArn"]
        return f"Started {run.training_mode} training: {resources.arn_name(run.new_version_arn)}."

    def _step_wait_active(self, run: Run, notify: Progress) -> str:
        p = self.clients.personalize
        arn = run.new_version_arn or ""
        started = time.monotonic()

        def poll(record: dict) -> None:
            elapsed = time.monotonic() - started
            self._note(run, "wait_active", f"{record.get('status')} for {elapsed:.0f} s", notify)

        try:
            version = wait_until(
                lambda: p.describe_solution_version(solutionVersionArn=arn)["solutionVersion"], "training",
                timeout=self.training_timeout, interval=self.poll_interval, on_poll=poll,
            )
        except Failed as exc:
            raise StepFailed("wait_active", f"the solution version ended {exc.status}: "
                                            f"{exc.reason or 'no reason given'}") from exc
        hours = version.get("trainingHours")
        return "ACTIVE" + (f" after {hours:.4f} training hours." if hours is not None else ".")

    def _step_update(self, run: Run, notify: Progress) -> str:
        p = self.clients.personalize
        new = run.new_version_arn
        notes = []
        for name, info in run.campaigns.items():
            campaign = p.describe_campaign(campaignArn=info["arn"])["campaign"]
            if self._following(campaign, new):
                notes.append(f"{name} already follows it (syncWithLatestSolutionVersion)")
                continue
            try:
                p.update_campaign(campaignArn=info["arn"], solutionVersionArn=new)
            except ClientError as exc:
                # The engine's (and AWS's) own sync may have started the same update a moment ago.
                again = p.describe_campaign(campaignArn=info["arn"])["campaign"]
                if error_code(exc) == "ResourceInUseException" and self._following(again, new):
                    notes.append(f"{name} already follows it (syncWithLatestSolutionVersion)")
                    continue
                raise StepFailed("update", f"campaign {name} refused the update ({_reason(exc)}); it still "
                                           f"serves {_short(info['serving'])}") from exc
            notes.append(f"{name} updating")
        return "; ".join(notes) + "."

    @staticmethod
    def _following(campaign: dict, version: str | None) -> bool:
        update = campaign.get("latestCampaignUpdate") or {}
        if campaign.get("solutionVersionArn") == version:
            return True
        return update.get("solutionVersionArn") == version and update.get("status") in UPDATING

    def _step_wait_serving(self, run: Run, notify: Progress) -> str:
        p = self.clients.personalize
        new = run.new_version_arn

        def settled(c: dict) -> bool:
            update = c.get("latestCampaignUpdate") or {}
            return c.get("solutionVersionArn") == new or (
                update.get("solutionVersionArn") == new and update.get("status") not in UPDATING)

        for name, info in run.campaigns.items():
            campaign = wait_until(lambda arn=info["arn"]: p.describe_campaign(campaignArn=arn)["campaign"],
                                  f"campaign {name}", done=settled, timeout=self.update_timeout,
                                  interval=self.poll_interval)
            info["serving"] = campaign.get("solutionVersionArn")
            if info["serving"] != new:
                update = campaign.get("latestCampaignUpdate") or {}
                why = update.get("failureReason") or "no reason given"
                raise StepFailed("wait_serving", f"the update of campaign {name} ended "
                                 f"{update.get('status')}: {why}; it still serves {_short(info['serving'])}")
            self._note(run, "wait_serving", f"{name} serves the new version", notify)
        return "Every campaign serves the new version."

    def _step_verify(self, run: Run, notify: Progress) -> str:
        p = self.clients.personalize
        wrong = []
        for name, info in run.campaigns.items():
            campaign = p.describe_campaign(campaignArn=info["arn"])["campaign"]
            info["serving"] = campaign.get("solutionVersionArn")
            info["verified"] = info["serving"] == run.new_version_arn and campaign.get("status") == "ACTIVE"
            if not info["verified"]:
                wrong.append(f"{name} serves {_short(info['serving'])} ({campaign.get('status')})")
        if wrong:
            raise StepFailed("verify", "DescribeCampaign shows " + "; ".join(wrong))
        names = ", ".join(run.campaigns)
        return f"DescribeCampaign: {names} ACTIVE on {_short(run.new_version_arn)}."


def _short(arn: str | None) -> str:
    """'solution/name/abcd1234' -> 'name/abcd1234': enough to tell versions apart in a sentence."""
    if not arn or arn.count("/") < 2:
        return arn or "?"
    return "/".join(arn.rsplit("/", 2)[-2:])
