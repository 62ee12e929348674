"""A 1M-row interactions CSV imported through the API (CreateDatasetImportJob → ACTIVE), against a plain
pyarrow.csv read of the same file measured in the same run. Target: under 10 s.

    python -m bench.bench_import [--rows 1000000]
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.csv as pacsv

from services.data.schemas import demo_shop_schema
from tests.support.engine_process import EngineProcess
from tests.support.engine_shop import ROLE, settle


def write_interactions(path: Path, rows: int, n_users: int = 50_000, n_items: int = 20_000, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    schema = demo_shop_schema("Interactions")
    frame = pd.DataFrame({
        "USER_ID": np.char.add("user-", rng.integers(0, n_users, rows).astype(str)),
        "ITEM_ID": np.char.add("item-", rng.integers(0, n_items, rows).astype(str)),
        "TIMESTAMP": 1_700_000_000 + rng.integers(0, 90 * 86_400, rows),
        "EVENT_TYPE": rng.choice(["view", "click", "add-to-cart", "purchase"], rows),
    })
    frame[[c for c in schema.names if c in frame.columns]].to_csv(path, index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "interactions.csv"
        write_interactions(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        data = path.read_bytes()
        t0 = time.perf_counter()
        pacsv.read_csv(io.BytesIO(data))
        reference = time.perf_counter() - t0
        engine = EngineProcess.start(Path(tmp) / "engine")
        try:
            personalize = engine.client("personalize")
            group = personalize.create_dataset_group(name="bench-import")["datasetGroupArn"]
            settle(lambda: personalize.describe_dataset_group(datasetGroupArn=group), "datasetGroup")
            schema = personalize.create_schema(name="bench-import-interactions",
                                               schema=json.dumps(demo_shop_schema("Interactions").to_dict()))
            dataset = personalize.create_dataset(name="bench-import-interactions", schemaArn=schema["schemaArn"],
                                                 datasetGroupArn=group, datasetType="Interactions")["datasetArn"]
            settle(lambda: personalize.describe_dataset(datasetArn=dataset), "dataset")
            t0 = time.perf_counter()
            job = personalize.create_dataset_import_job(
                jobName="bench-import", datasetArn=dataset, dataSource={"dataLocation": path.as_uri()},
                roleArn=ROLE)["datasetImportJobArn"]
            record = settle(lambda: personalize.describe_dataset_import_job(datasetImportJobArn=job),
                            "datasetImportJob", interval=0.02)
            elapsed = time.perf_counter() - t0
        finally:
            engine.stop()
    print(f"file: {args.rows:,} rows, {size_mb:.0f} MB")
    failure = f" ({record.get('failureReason')})" if record["status"] != "ACTIVE" else ""
    print(f"import job {record['status']}{failure} in {elapsed:.2f} s (target < 10 s); "
          f"plain pyarrow.csv.read_csv {reference:.2f} s; ratio {elapsed / reference:.1f}x")


if __name__ == "__main__":
    main()
