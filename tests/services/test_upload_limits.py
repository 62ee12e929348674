"""Uploads sized before they are materialised; nested columns, wide headers and encodings in true words."""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from services.data.sources.files import FileReadError, UploadLimits, read_upload


def _parquet_bomb(rows: int = 100_000_000, chunk: int = 10_000_000) -> bytes:
    """`rows` zeros, dictionary/RLE-encoded: a few hundred KB on disk, gigabytes once read."""
    buffer = io.BytesIO()
    zeros = pa.table({"USER_ID": pa.array(np.zeros(chunk, dtype=np.int64))})
    with pq.ParquetWriter(buffer, zeros.schema, compression="zstd") as writer:
        for _ in range(rows // chunk):
            writer.write_table(zeros, row_group_size=chunk)
    return buffer.getvalue()


def test_a_parquet_bomb_is_refused_from_its_metadata():
    bomb = _parquet_bomb()
    assert len(bomb) < 2_000_000  # small on disk
    before = pa.total_allocated_bytes()
    with pytest.raises(FileReadError) as info:
        read_upload(bomb, "bomb.parquet")
    # Refused without reading the column: Arrow allocated (almost) nothing for it.
    assert pa.total_allocated_bytes() - before < 16 * 2**20
    assert "100,000,000 rows" in str(info.value) and "limit is 5,000,000" in str(info.value)


def test_the_memory_estimate_refuses_wide_rows_under_the_row_limit():
    table = pa.table({f"C{i}": pa.array(np.zeros(100_000, dtype=np.float64)) for i in range(20)})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    with pytest.raises(FileReadError) as info:
        read_upload(buffer.getvalue(), "wide.parquet", limits=UploadLimits(max_bytes=8 * 2**20))
    assert "MB once read" in str(info.value)
    assert len(read_upload(buffer.getvalue(), "wide.parquet")) == 100_000  # within the default limits


def test_a_nested_parquet_column_is_refused_clearly():
    table = pa.table({"ITEM_ID": ["i1", "i2"], "TAGS": pa.array([[1, 2], [3]], type=pa.list_(pa.int64()))})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    with pytest.raises(FileReadError) as info:
        read_upload(buffer.getvalue(), "nested.parquet")
    message = str(info.value)
    assert "nested columns" in message and "TAGS" in message and "Flatten" in message


def test_a_csv_with_a_million_columns_says_so():
    header = ",".join(f"c{i}" for i in range(1_000_000)).encode()
    with pytest.raises(FileReadError) as info:
        read_upload(header + b"\n" + b"1," * 999_999 + b"1\n", "wide.csv")
    message = str(info.value)
    assert "1,000,000 columns" in message and "at most 1,000" in message
    assert "Empty CSV" not in message


def test_a_long_header_under_the_column_limit_is_read():
    names = [f"COLUMN_WITH_A_VERY_LONG_NAME_{i:04d}_" + "X" * 1500 for i in range(900)]  # a 1.4 MB header line
    data = (",".join(names) + "\n" + ",".join("1" for _ in names) + "\n").encode()
    frame = read_upload(data, "long-header.csv")
    assert len(frame.columns) == 900 and len(frame) == 1


def test_a_csv_over_the_row_limit_is_refused_while_streaming():
    data = b"USER_ID,ITEM_ID,TIMESTAMP\n" + b"u1,i1,1700000000\n" * 20_000
    with pytest.raises(FileReadError) as info:
        read_upload(data, "many.csv", limits=UploadLimits(max_rows=10_000))
    assert "more than 10,000 rows" in str(info.value)
    assert len(read_upload(data, "many.csv")) == 20_000


def test_the_latin1_message_offers_only_what_exists():
    data = "USER_ID,NAME\nu1,Cafe\nu2,Caf\u00e9\n".encode("latin-1")
    with pytest.raises(FileReadError) as info:
        read_upload(data, "latin.csv")
    message = str(info.value)
    assert "line 3" in message and "CSV UTF-8" in message
    assert "pick" not in message  # there is no encoding picker on the page


def test_limits_come_from_the_environment():
    limits = UploadLimits.from_env({"PERSONALIZE_UPLOAD_MAX_ROWS": "1_000", "PERSONALIZE_UPLOAD_MAX_BYTES": "junk"})
    assert limits.max_rows == 1_000 and limits.max_bytes == UploadLimits().max_bytes
