"""CSV import at its edges (`engine.importer`): where the NUL sniff window ends and how long a pyarrow
message may get in a refusal."""

from __future__ import annotations

import pyarrow as pa
import pytest

from engine import importer
from engine.importer import ImportFailure, read_csv
from tests.engine.test_importer_unit import INTERACTIONS

HEADER = b"USER_ID,ITEM_ID,TIMESTAMP\n"
WINDOW = 4096  # the bytes sniffed for a NUL before the file is parsed


def with_nul_at(index: int, tail: bytes = b"") -> bytes:
    """A good interactions file whose byte `index` is a NUL inside an ITEM_ID, then `tail`."""
    rows = HEADER + b"u,i,1\n" * ((index - len(HEADER)) // 6 - 1)
    pad = index - len(rows) - len(b"u,")
    data = rows + b"u," + b"i" * pad + b"\x00,1\n" + tail
    assert data.index(b"\x00") == index
    return data


def test_a_nul_inside_the_sniffed_window_names_the_file_binary() -> None:
    with pytest.raises(ImportFailure, match=r"^The file is UTF-16 \(or binary\), not UTF-8"):
        read_csv(with_nul_at(WINDOW - 1), INTERACTIONS, "INTERACTIONS")


def test_a_nul_just_past_the_sniffed_window_is_data() -> None:
    data = with_nul_at(WINDOW)
    table = read_csv(data, INTERACTIONS, "INTERACTIONS")
    assert table.num_rows == data.count(b"\n") - 1
    assert "\x00" in table.column("ITEM_ID")[-1].as_py()


def test_a_nul_past_the_window_does_not_hide_a_latin1_byte_after_it() -> None:
    """The encoding check that follows a failed read names the latin-1 byte, not a binary file."""
    data = with_nul_at(WINDOW, "u,café,2\n".encode("latin-1"))
    with pytest.raises(ImportFailure) as caught:
        read_csv(data, INTERACTIONS, "INTERACTIONS")
    line = data.count(b"\n")
    assert str(caught.value) == (f"The file is not UTF-8: byte 0xe9 on line {line}, column ITEM_ID cannot be "
                                 "read (latin-1 or cp1252?). Save it as UTF-8.")


def test_a_long_parser_message_is_cut_at_300_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    """pyarrow's own words are quoted, but no more than 300 characters of them (a message may quote a
    row). pyarrow's reader is replaced here: no file found makes it say that much."""
    said = "CSV parse error: " + "".join(f"{i % 10}" for i in range(1000))

    def fail(*args, **kwargs):
        raise pa.ArrowInvalid(said)

    monkeypatch.setattr(importer.pacsv, "read_csv", fail)
    with pytest.raises(ImportFailure) as caught:
        read_csv(HEADER + b"u,i,1\n", INTERACTIONS, "INTERACTIONS")
    assert str(caught.value) == "The file is not a readable CSV: " + said[:300]


def test_bad_rows_are_listed_past_a_block_where_inferred_column_types_break(monkeypatch: pytest.MonkeyPatch) -> None:
    """The second read, which finds the bad rows' line numbers, infers column types: numbers in the first
    block and text in a later one must not stop it before the bad row (else the refusal could not list
    it). The block is made small here so that a small file spans several."""
    monkeypatch.setattr(importer, "BLOCK", 64)
    good = "1,1,i\n" * 20
    text = "USER_ID,TIMESTAMP,ITEM_ID\n" + good + "u,x,i\n" + good + "1,1\n"
    with pytest.raises(ImportFailure) as caught:
        read_csv(text.encode(), INTERACTIONS, "INTERACTIONS")
    assert str(caught.value) == (
        "1 row(s) do not have the header's number of fields (line 43 has 2 fields, the header 3). "
        "Is the file truncated, or is a field with a comma not quoted?")
