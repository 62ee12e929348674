"""Batch inference jobs: JSON lines of users or items in, JSON lines of recommendations out."""

from __future__ import annotations

import json

from .. import locations, runtime
from ..errors import InvalidInputException
from ..locations import Locations
from ..store import Record
from ..training import ModelBundle
from .campaigns import resolve_version
from .jobs import STOPPED_REASON, JobPool
from .ledger import Ledger, check_name
from .records import BatchInferenceJobRecord
from .serving import Serving, check_num_results


class BatchInferenceJobs:
    def __init__(self, ledger: Ledger, pool: JobPool, models: runtime.ModelCache, serving: Serving,
                 files_policy: Locations) -> None:
        self._ledger = ledger
        self._locations = files_policy
        self._pool = pool
        self._models = models
        self._serving = serving

    def create(
        self, job_name: str, solution_version_arn: str, job_input: dict, job_output: dict, role_arn: str,
        filter_arn: str | None = None, num_results: int | None = None, tags: list | None = None,
        batch_inference_job_mode: str | None = None, batch_inference_job_config: dict | None = None,
        **_: object,
    ) -> str:
        check_name(job_name, "batch inference job")
        ledger = self._ledger
        resolve_version(ledger, solution_version_arn)
        src = ((job_input or {}).get("s3DataSource") or {}).get("path")
        dst = ((job_output or {}).get("s3DataDestination") or {}).get("path")
        if not src or not dst:
            raise InvalidInputException("jobInput.s3DataSource.path and jobOutput.s3DataDestination.path are required.")
        self._locations.check(src, "jobInput.s3DataSource.path")
        self._locations.check(dst, "jobOutput.s3DataDestination.path")
        if filter_arn:
            ledger.get(filter_arn, "filter")
        n = check_num_results(num_results)
        arn = ledger.arn("batch-inference-job", job_name)
        record = BatchInferenceJobRecord(
            job_name=job_name, batch_inference_job_arn=arn, solution_version_arn=solution_version_arn,
            num_results=n, job_input=job_input, job_output=job_output, role_arn=role_arn,
            batch_inference_job_mode=batch_inference_job_mode or "STANDARD", filter_arn=filter_arn or None,
            batch_inference_job_config=batch_inference_job_config or None,
        )
        ledger.new("batch-inference-job", arn, record, tags)
        self._pool.submit(self._run, arn)
        return arn

    def _run(self, arn: str) -> None:
        ledger = self._ledger
        job = ledger.begin(arn)
        if job is None:
            return
        try:
            version = resolve_version(ledger, job["solutionVersionArn"])
            bundle = self._models.get(ledger.model_path(version["solutionVersionArn"]))
            src = job["jobInput"]["s3DataSource"]["path"]
            lines = self._locations.read_bytes(src).decode("utf-8").splitlines()
            out = self._answer(job, version["datasetGroupArn"], bundle, lines)
            name = src.rstrip("/").rsplit("/", 1)[-1] + ".out"
            payload = "".join(json.dumps(o) + "\n" for o in out).encode()
            if ledger.stopping.is_set():
                raise locations.LocationError(STOPPED_REASON)
            self._locations.write_bytes(locations.join(job["jobOutput"]["s3DataDestination"]["path"], name), payload)
        except (locations.LocationError, InvalidInputException, UnicodeDecodeError, OSError) as exc:
            ledger.set_status(arn, "CREATE FAILED", str(exc))
            return
        ledger.set_status(arn, "ACTIVE")

    def _answer(self, job: Record, group: str, bundle: ModelBundle, lines: list[str]) -> list[dict]:
        """One output line per non-empty input line; a bad line gets its error, the others still run."""
        config = {"campaignConfig": job.get("batchInferenceJobConfig") or {}}
        out = []
        for line in lines:
            if not line.strip():
                continue
            try:
                req = json.loads(line)
                user, item = req.get("userId"), req.get("itemId")
                events = self._serving.user_events(group, user)
                allowed = self._serving.allowed(bundle, job.get("filterArn"), {}, group, user, events)
                recs = runtime.recommend(bundle, config, user, item, job["numResults"], events, allowed)
                out.append({"input": req, "output": {"recommendedItems": [r[0] for r in recs],
                                                     "scores": [r[1] for r in recs]}, "error": None})
            except (json.JSONDecodeError, InvalidInputException, AttributeError) as exc:
                out.append({"input": line, "output": None, "error": str(exc)})
        return out
