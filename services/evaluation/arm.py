"""Which campaign a shopper sees in an experiment, for a shop's own site:

    python -m services.evaluation.arm --experiment NAME --user ID [--json] [--data-dir DIR]

prints the campaign (or recommender) ARN to ask for that user's recommendations; with `--json`, one JSON
object with the experiment, user, arm (0 = control, 1 = treatment) and ARN. The arm is the stable hash
`assign_arm`: sha256 of "<experiment>:<user id>", first 8 bytes big-endian, modulo 2, so a site can also
compute it in its own language and get the same answer. Exits 2 on an unknown experiment.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from services.evaluation.experiment import ExperimentStore


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.evaluation.arm",
                                     description="Print the campaign ARN a user sees in an A/B experiment.")
    parser.add_argument("--experiment", required=True, help="the experiment's name, as on the Impact page")
    parser.add_argument("--user", required=True, help="the shopper's user id")
    parser.add_argument("--json", action="store_true", help="print experiment, user, arm and ARN as JSON")
    parser.add_argument("--data-dir", help="the dashboard's data directory (default: PERSONALIZE_DATA_DIR)")
    args = parser.parse_args(argv)
    if args.data_dir:
        os.environ["PERSONALIZE_DATA_DIR"] = args.data_dir
    try:
        experiment = ExperimentStore().load(args.experiment)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    arm = experiment.arm_of(args.user)
    arn = experiment.arms[arm]
    if args.json:
        print(json.dumps({"experiment": experiment.name, "user": args.user, "arm": arm,
                          "role": ("control", "treatment")[arm], "campaignArn": arn}))
    else:
        print(arn)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
