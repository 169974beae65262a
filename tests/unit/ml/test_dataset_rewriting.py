"""Rewriting a dataset without some rows keeps every other byte, numbers rows as inspection does, and counts what
left; inspection hands each chunk's texts to a hook with the same row numbers."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mlsec.ml.datasets import DatasetError, DatasetFormat, inspect_dataset, load_dataset, write_without_rows

CSV = '\ufefftext,label\r\n"first, with a comma",1\r\n\r\n"second\nspans two lines",0\r\nthird,1\r\nfourth,0'
JSONL = '{"text": "first", "label": 1}\n\n{"text": "second", "label": 0}\n{"text": "third", "label": 1}\n'


def texts_seen(path: Path, fmt: DatasetFormat, chunk_rows: int = 2) -> dict[int, Any]:
    seen: dict[int, Any] = {}

    def hook(rows: list[int], texts: list[Any]) -> None:
        seen.update(zip(rows, texts, strict=True))

    inspect_dataset(path, fmt=fmt, chunk_rows=chunk_rows, on_texts=hook)
    return seen


def test_csv_rows_leave_and_every_other_byte_stays(tmp_path: Path) -> None:
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_bytes(CSV.encode())
    seen = texts_seen(source, "csv")
    assert seen == {1: "first, with a comma", 2: "second\nspans two lines", 3: "third", 4: "fourth"}

    removed = write_without_rows(source, target, fmt="csv", remove={1, 3}, text_column="text", label_column="label")

    assert (removed.rows, dict(removed.label_counts)) == (2, {"0": 2})
    assert removed.texts == ["second\nspans two lines", "fourth"]
    expected = '\ufefftext,label\r\n"first, with a comma",1\r\n\r\nthird,1\r\n'
    assert target.read_bytes() == expected.encode()
    assert list(load_dataset(target, fmt="csv")["text"]) == ["first, with a comma", "third"]


def test_jsonl_rows_are_counted_without_blank_lines(tmp_path: Path) -> None:
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text(JSONL)
    assert texts_seen(source, "jsonl") == {1: "first", 2: "second", 3: "third"}

    removed = write_without_rows(source, target, fmt="jsonl", remove={1}, text_column="text", label_column="label")

    assert (removed.rows, dict(removed.label_counts), removed.texts) == (1, {"0": 1}, ["second"])
    assert target.read_text() == '{"text": "first", "label": 1}\n\n{"text": "third", "label": 1}\n'


def test_parquet_rows_leave_across_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mlsec.ml.datasets.rewriting._BATCH_ROWS", 3)
    frame = pd.DataFrame({"text": [f"row {i}" for i in range(8)], "label": [i % 2 for i in range(8)], "x": range(8)})
    source, target = tmp_path / "in.parquet", tmp_path / "out.parquet"
    frame.to_parquet(source)
    assert texts_seen(source, "parquet", chunk_rows=3) == {i + 1: f"row {i}" for i in range(8)}

    removed = write_without_rows(
        source, target, fmt="parquet", remove={0, 4, 7}, text_column="text", label_column="label"
    )

    assert (removed.rows, dict(removed.label_counts)) == (3, {"0": 2, "1": 1})
    back = pd.read_parquet(target)
    assert list(back["text"]) == ["row 1", "row 2", "row 3", "row 5", "row 6"]
    assert list(back.columns) == ["text", "label", "x"]


def test_tabular_rows_have_no_text(tmp_path: Path) -> None:
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    pd.DataFrame({"a": [1, 2, 3], "label": [0.5, 1.5, 2.5]}).to_csv(source, index=False)
    removed = write_without_rows(source, target, fmt="csv", remove={2}, text_column=None, label_column="label")
    assert (removed.rows, removed.texts) == (1, [])
    assert pd.read_csv(io.BytesIO(target.read_bytes()))["a"].tolist() == [1, 2]


def test_the_hook_stops_at_the_first_problem(tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_text("text,label\nfine,1\n,0\nlater,1\nmore,0\n")
    seen: list[int] = []
    with pytest.raises(DatasetError, match="text is empty"):
        inspect_dataset(source, fmt="csv", chunk_rows=1, on_texts=lambda rows, _: seen.extend(rows))
    assert seen == [1]
