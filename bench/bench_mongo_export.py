"""MongoDB documents -> Personalize CSV rate, vs a plain pandas DataFrame.to_csv of the same rows.

Run: python bench/bench_mongo_export.py [--docs 200000] [--mock-docs 20000] [--batch 10000]
Three sources, each timed end to end through `export` (fetch, convert, write CSV):
- "in-memory": a stub client serving pre-built documents, so the figure is the export pipeline itself
  (batching, BSON conversion, CSV writing) without any database cost;
- "mongomock": mongomock's find() is quadratic in the collection size (its own cost, measured: 10k docs
  0.4 s, 40k docs 8.6 s), so it runs on --mock-docs only;
- "mongodb": a real server, when MONGODB_URI is set.
The reference, measured in the same run, is DataFrame.to_csv of the same rows: the floor for writing
that CSV without any fetching or conversion.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import mongomock
import numpy as np
import pandas as pd
from bson import ObjectId

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.data.sources.mongo import MongoSource, documents_to_frame, export

MAPPING = {
    "USER_ID": "user.id",
    "ITEM_ID": "item",
    "TIMESTAMP": "ts",
    "EVENT_TYPE": "type",
    "EVENT_VALUE": "price",
    "DEVICE": "ctx.device",
}


def make_docs(n: int) -> list[dict]:
    rng = np.random.default_rng(0)
    base = datetime(2025, 1, 1, tzinfo=UTC)
    users = rng.integers(0, 20_000, n)
    items = rng.integers(0, 5_000, n)
    secs = np.sort(rng.integers(0, 90 * 86_400, n))
    types = np.array(["view", "click", "add-to-cart", "purchase"])[rng.choice(4, n, p=[0.68, 0.21, 0.08, 0.03])]
    return [
        {
            "_id": ObjectId(),
            "user": {"id": f"u{users[i]}"},
            "item": int(items[i]),
            "ts": base + timedelta(seconds=int(secs[i])),
            "type": str(types[i]),
            "price": 19.99 if types[i] == "purchase" else None,
            "ctx": {"device": "web"},
            "payload": "x" * 100,
        }
        for i in range(n)
    ]


class _StubCollection:
    """Just enough of pymongo's Collection for `export`: find() over documents already in memory."""

    def __init__(self, docs: list[dict]) -> None:
        self.docs = docs

    def find(self, _filter=None, projection=None, batch_size=0):
        keep = [p.split(".")[0] for p, on in (projection or {}).items() if on]
        return ({k: d[k] for k in keep if k in d} for d in self.docs)


class _StubClient(dict):
    def __init__(self, docs: list[dict]) -> None:
        super().__init__(bench={"events": _StubCollection(docs)})


def run(label: str, client, database: str, batch: int, tmp: Path) -> None:
    source = MongoSource(database=database, collection="events", mapping=MAPPING)
    out = tmp / f"{label}.csv"
    start = time.perf_counter()
    result = export(source, out, batch_size=batch, client=client)
    export_s = time.perf_counter() - start
    frame = pd.read_csv(out)
    start = time.perf_counter()
    frame.to_csv(tmp / "reference.csv", index=False)
    reference_s = time.perf_counter() - start
    # Conversion alone (no fetching): documents already in memory -> DataFrame, per batch.
    docs = list(itertools.islice(client[database]["events"].find({}, {p: 1 for p in MAPPING.values()}), batch))
    start = time.perf_counter()
    documents_to_frame(docs, MAPPING)
    convert_s = (time.perf_counter() - start) * (result.rows / max(len(docs), 1))
    print(
        f"[{label}] exported {result.rows:,} docs in {result.batches} batches: {export_s:.2f} s "
        f"= {result.rows / export_s:,.0f} docs/s"
    )
    print(
        f"[{label}]   reference DataFrame.to_csv of the same rows: {reference_s:.2f} s "
        f"= {result.rows / reference_s:,.0f} rows/s; export / reference = {export_s / reference_s:.1f}x"
    )
    print(
        f"[{label}]   of which conversion (documents_to_frame, extrapolated): {convert_s:.2f} s "
        f"= {result.rows / max(convert_s, 1e-9):,.0f} docs/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=200_000)
    parser.add_argument("--mock-docs", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=10_000)
    args = parser.parse_args()
    docs = make_docs(args.docs)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        run("in-memory", _StubClient(docs), "bench", args.batch, tmp)
        mock = mongomock.MongoClient()
        mock.bench.events.insert_many([dict(d) for d in docs[: args.mock_docs]])
        run("mongomock", mock, "bench", args.batch, tmp)
        uri = os.environ.get("MONGODB_URI")
        if uri:
            from pymongo import MongoClient

            real = MongoClient(uri)
            database = f"bench_{uuid.uuid4().hex[:8]}"
            real[database].events.insert_many([dict(d) for d in docs])
            try:
                run("mongodb", real, database, args.batch, tmp)
            finally:
                real.drop_database(database)
                real.close()
        else:
            print("[mongodb] skipped: set MONGODB_URI to measure against a real server")


if __name__ == "__main__":
    main()
