"""The nightly retrain, for cron and Airflow:

    python -m services.pipeline retrain --dataset-group NAME --solution NAME [--campaign NAME]
        [--import-from SOURCE] [--mode FULL|UPDATE] [--endpoint-url URL]

Prints one line per step. Exit codes: 0 every campaign serves the new version (verified with
DescribeCampaign); 1 a step failed (the line names it and why; campaigns keep their old version);
2 bad arguments or unknown names; 3 refused, a retrain of this solution is already running.

The backend is chosen like the dashboard's: --endpoint-url (an embedded engine or any compatible
endpoint), else PERSONALIZE_BACKEND / AWS credentials / AWS_ENDPOINT_URL_PERSONALIZE, and in local
mode PERSONALIZE_ENGINE_URL or the engine the dashboard runs on PERSONALIZE_DATA_DIR (started if none).
An embedded engine's key pair is found as the dashboard finds it (services.core.clients.engine_credentials):
PERSONALIZE_ENGINE_ACCESS_KEY_ID / ..._SECRET_ACCESS_KEY, else the engine's generated credentials file.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import TextIO

from services.core.aws_errors import explain
from services.core.clients import Clients
from services.core.config import resolve_backend
from services.pipeline.retrain import RetrainPipeline, RetrainRequest
from services.pipeline.runs import DONE, FAILED, RUNNING, SKIPPED, SUCCEEDED, Run, RunInProgress

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3
MARKS = {RUNNING: "...", DONE: "ok", SKIPPED: "skipped", FAILED: "FAILED"}


class ProgressPrinter:
    """One line per step change (and per new detail), flushed, so cron logs show where it stopped."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.seen: dict[str, tuple[str, str]] = {}

    def __call__(self, run: Run) -> None:
        for i, step in enumerate(run.steps, 1):
            state = (step.status, step.detail)
            if self.seen.get(step.key) == state or step.status == "pending":
                continue
            if step.status == RUNNING and self.seen.get(step.key, ("",))[0] == RUNNING \
                    and step.key == "wait_active":
                continue  # polling details would print a line every second; the start is enough
            self.seen[step.key] = state
            mark = MARKS.get(step.status, step.status)
            detail = f" - {step.detail}" if step.detail else ""
            print(f"{time.strftime('%H:%M:%S')} [{i}/{len(run.steps)}] {step.label}: {mark}{detail}",
                  file=self.out, flush=True)


def main(argv: list[str] | None = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.pipeline", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    retrain = sub.add_parser("retrain", help="import (optional), train, update the campaigns, verify")
    retrain.add_argument("--dataset-group", required=True, help="dataset group name or ARN")
    retrain.add_argument("--solution", required=True, help="solution name or ARN")
    retrain.add_argument("--campaign", help="only this campaign (default: every campaign of the solution)")
    retrain.add_argument("--import-from", help="a saved source's name: import what is new before training")
    retrain.add_argument("--mode", choices=["FULL", "UPDATE"], default="FULL", help="training mode")
    retrain.add_argument("--endpoint-url", help="the Personalize endpoint, e.g. an embedded engine's URL")
    args = parser.parse_args(argv)

    request = RetrainRequest(args.dataset_group, args.solution, args.campaign, args.import_from, args.mode)
    try:
        pipeline = RetrainPipeline(Clients(resolve_backend(args.endpoint_url)))
        print(f"Retraining {args.solution} in {args.dataset_group}", file=out, flush=True)
        run = pipeline.run(request, on_progress=ProgressPrinter(out), origin="command",
                           who=os.environ.get("USER", "command"))
    except RunInProgress as exc:
        print(f"REFUSED: {exc}", file=err, flush=True)
        return EXIT_BUSY
    except ValueError as exc:
        print(f"ERROR: {exc}", file=err, flush=True)
        return EXIT_USAGE
    except Exception as exc:  # unreachable backend, credentials: explained, never a traceback in cron mail
        problem = explain(exc)
        print(f"ERROR: {problem.title}: {problem.detail} {problem.next_step}", file=err, flush=True)
        return EXIT_USAGE
    print(run.summary(), file=out if run.status == SUCCEEDED else err, flush=True)
    return EXIT_OK if run.status == SUCCEEDED else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
