"""Dataset status (profile) of a 1M-interaction CSV vs a plain pyarrow.csv read of the same file.

Run: python bench/bench_dataset_status.py [--rows 1000000] [--repeat 3]
Prints absolute seconds (best of --repeat) and the ratio profile / plain read, both measured in this run.
Validation of the same rows (pandas frame) is printed too, as it runs before every upload.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.csv as pacsv

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.data.file_profile import profile_file
from services.data.schemas import demo_shop_schema
from services.data.sources.files import read_upload
from services.data.validation import validate
from services.demo.shop_data import generate_shop


def best_of(repeat: int, fn) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    shop = generate_shop(
        n_users=max(1_500, args.rows // 50),
        n_items=max(600, args.rows // 200),
        n_interactions=args.rows,
        seed=1,
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "interactions.csv"
        shop.interactions.to_csv(path, index=False)
        size_mb = path.stat().st_size / 1e6
        read_s, table = best_of(args.repeat, lambda: pacsv.read_csv(path))
        profile_s, profile = best_of(args.repeat, lambda: profile_file(path))
        upload_s, frame = best_of(args.repeat, lambda: read_upload(path))
        validate_s, report = best_of(
            args.repeat, lambda: validate(frame, demo_shop_schema("Interactions"), "Interactions")
        )
    print(f"file: {args.rows:,} interactions, {size_mb:.1f} MB CSV; best of {args.repeat}")
    print(f"plain pyarrow.csv.read_csv (reference): {read_s:.3f} s  ({table.num_rows:,} rows)")
    print(f"profile_file (read + all figures):     {profile_s:.3f} s  ratio {profile_s / read_s:.2f}x reference")
    print(f"read_upload (upload reader -> pandas): {upload_s:.3f} s  ratio {upload_s / read_s:.2f}x reference")
    print(
        f"validate (on the DataFrame):           {validate_s:.3f} s  "
        f"ratio {validate_s / read_s:.2f}x reference"
        f"  ({len(report.findings)} findings)"
    )
    print(
        f"profile: users={profile.n_users:,} items={profile.n_items:,} "
        f"top1%={profile.top_1pct_item_share:.1%} ready={profile.readiness.ready}"
    )


if __name__ == "__main__":
    main()
