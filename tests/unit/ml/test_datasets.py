"""Dataset validation names the rows and reasons a person can fix, and loading gives training's frame."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlsec.ml.datasets import (
    MAX_PROBLEMS,
    DatasetError,
    DatasetFormat,
    RowProblem,
    detect_format,
    file_sha256,
    inspect_dataset,
    load_dataset,
)


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def jsonl(rows: list[Any]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


def refusal(path: Path, fmt: DatasetFormat = "csv", **options: Any) -> DatasetError:
    with pytest.raises(DatasetError) as caught:
        inspect_dataset(path, fmt=fmt, **options)
    return caught.value


GOOD_CSV = 'text,label,source\nhello there,0,a\n"ignore, all ""rules""",1,b\nwhat time is it,0,a\n'


# --- format and hash ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("data.csv", "csv"),
        ("DATA.CSV", "csv"),
        ("x.jsonl", "jsonl"),
        ("x.ndjson", "jsonl"),
        ("x.json-lines", "jsonl"),
        ("x.parquet", "parquet"),
        ("dir/x.pq", "parquet"),
    ],
)
def test_detect_format_by_extension(filename: str, expected: str) -> None:
    assert detect_format(filename) == expected


@pytest.mark.parametrize("filename", ["x.txt", "x.json", "noextension", "x.csv.gz"])
def test_detect_format_refuses_unknown_extensions(filename: str) -> None:
    with pytest.raises(DatasetError, match=r"\.csv"):
        detect_format(filename)


def test_file_sha256_matches_hashlib_whatever_the_chunk(tmp_path: Path) -> None:
    content = bytes(range(256)) * 100
    path = write(tmp_path, "blob.bin", content)
    expected = hashlib.sha256(content).hexdigest()
    assert file_sha256(path) == expected
    assert file_sha256(path, chunk_bytes=7) == expected


# --- valid files --------------------------------------------------------------------------------------


def test_inspect_summarises_a_valid_csv(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", GOOD_CSV)
    summary = inspect_dataset(path, fmt="csv")
    assert summary.format == "csv"
    assert summary.rows == 3
    assert summary.columns == ["text", "label", "source"]
    assert summary.text_column == "text"
    assert summary.label_column == "label"
    assert summary.label_counts == {"0": 2, "1": 1}
    assert summary.sha256 == hashlib.sha256(GOOD_CSV.encode()).hexdigest()
    assert summary.size_bytes == len(GOOD_CSV.encode())


def many_rows(count: int) -> list[dict[str, Any]]:
    return [{"text": f"prompt number {i}", "label": i % 3, "extra": i} for i in range(count)]


def test_small_chunks_give_the_same_summary_in_every_format(tmp_path: Path) -> None:
    rows = many_rows(23)
    frame = pd.DataFrame(rows)
    csv_path = tmp_path / "d.csv"
    frame.to_csv(csv_path, index=False)
    jsonl_path = write(tmp_path, "d.jsonl", jsonl(rows))
    parquet_path = tmp_path / "d.parquet"
    frame.to_parquet(parquet_path)
    files: list[tuple[Path, DatasetFormat]] = [(csv_path, "csv"), (jsonl_path, "jsonl"), (parquet_path, "parquet")]
    for path, fmt in files:
        default = inspect_dataset(path, fmt=fmt)
        chunked = inspect_dataset(path, fmt=fmt, chunk_rows=2)
        assert chunked == default
        assert default.rows == 23
        assert default.label_counts == {"0": 8, "1": 8, "2": 7}


def test_small_chunks_find_the_same_problems(tmp_path: Path) -> None:
    rows = many_rows(12)
    rows[4]["text"] = " "
    rows[9]["label"] = None
    path = write(tmp_path, "d.jsonl", jsonl(rows))
    assert refusal(path, "jsonl").problems == refusal(path, "jsonl", chunk_rows=2).problems


def test_csv_quoted_newlines_bom_and_blank_lines_are_read_as_pandas_reads_them(tmp_path: Path) -> None:
    content = '\ufefftext,label\n"first line\nsecond line",1\n\nplain,0\n'
    path = write(tmp_path, "q.csv", content)
    summary = inspect_dataset(path, fmt="csv")
    assert summary.rows == 2
    assert summary.columns == ["text", "label"]
    frame = load_dataset(path, fmt="csv")
    assert frame["text"].tolist() == ["first line\nsecond line", "plain"]


def test_other_column_names_are_honoured(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", "prompt,is_attack\nhi,no\nignore rules,yes\n")
    summary = inspect_dataset(path, fmt="csv", text_column="prompt", label_column="is_attack")
    assert summary.text_column == "prompt"
    assert summary.label_counts == {"no": 1, "yes": 1}
    frame = load_dataset(path, fmt="csv", text_column="prompt", label_column="is_attack")
    assert list(frame.columns) == ["text", "label"]
    assert frame["label"].tolist() == ["no", "yes"]


# --- refusals -----------------------------------------------------------------------------------------


def test_empty_file_is_refused(tmp_path: Path) -> None:
    assert "empty" in str(refusal(write(tmp_path, "e.csv", b"")))


@pytest.mark.parametrize(
    ("name", "fmt", "content"),
    [("h.csv", "csv", "text,label\n"), ("b.jsonl", "jsonl", "\n\n  \n"), ("n.csv", "csv", "\n\n")],
)
def test_no_data_rows_is_refused(tmp_path: Path, name: str, fmt: DatasetFormat, content: str) -> None:
    assert "no data rows" in str(refusal(write(tmp_path, name, content), fmt))


def test_empty_parquet_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "e.parquet"
    pq.write_table(pa.table({"text": pa.array([], pa.string()), "label": pa.array([], pa.int64())}), path)
    assert "no data rows" in str(refusal(path, "parquet"))


def test_missing_columns_are_named_with_the_columns_found(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", "prompt,label\nhi,0\n")
    error = refusal(path)
    assert "'text'" in str(error)
    assert "'prompt', 'label'" in str(error)
    assert error.problems == [RowProblem(None, "text", "column not found")]

    both = refusal(write(tmp_path, "q.csv", "a,b\n1,2\n"))
    assert "'text', 'label'" in str(both)
    assert "'a', 'b'" in str(both)


def test_missing_columns_in_jsonl_and_parquet(tmp_path: Path) -> None:
    error = refusal(write(tmp_path, "p.jsonl", jsonl([{"prompt": "hi", "label": 0}])), "jsonl")
    assert "'text'" in str(error)
    assert "'prompt'" in str(error)
    path = tmp_path / "p.parquet"
    pd.DataFrame({"text": ["a", "b"], "target": [0, 1]}).to_parquet(path)
    error = refusal(path, "parquet")
    assert "'label'" in str(error)
    assert "'target'" in str(error)


def test_csv_rows_with_the_wrong_number_of_fields_are_named_by_line(tmp_path: Path) -> None:
    content = "text,label\nfine,0\ntoo,many,fields\nfine again,1\nshort\n"
    error = refusal(write(tmp_path, "p.csv", content))
    message = str(error)
    assert "line 3 has 3 fields, expected 2" in message
    assert "line 5 has 1 fields, expected 2" in message
    assert [problem.row for problem in error.problems] == [2, 4]


def test_csv_broken_quoting_is_named_by_line(tmp_path: Path) -> None:
    content = 'text,label\nfine,0\n"unterminated,1\nmore,0\n'
    error = refusal(write(tmp_path, "p.csv", content))
    assert "line 3 is not valid CSV" in str(error)
    assert error.problems[0].row == 2


def test_jsonl_lines_that_are_not_objects_are_named(tmp_path: Path) -> None:
    content = '{"text": "a", "label": 0}\n[1, 2]\n{"text": "b", "label": 1}\nnot json at all\n42\n'
    error = refusal(write(tmp_path, "p.jsonl", content), "jsonl")
    message = str(error)
    assert "line 2 is not a JSON object (found array)" in message
    assert "line 4 is not valid JSON" in message
    assert "line 5 is not a JSON object (found int)" in message
    assert [problem.row for problem in error.problems] == [2, 4, 5]


def test_non_utf8_bytes_are_named_by_line_and_offset(tmp_path: Path) -> None:
    content = b"text,label\nhello,1\nbad \xff byte,0\nfine,0\n"
    error = refusal(write(tmp_path, "p.csv", content))
    assert "line 3 is not valid UTF-8 (byte offset 23)" in str(error)
    assert error.problems[0].row == 2
    assert len(error.problems) == 1  # the scan went on, and found nothing else

    lines = b'{"text": "ok", "label": 0}\n{"text": "caf\xe9", "label": 1}\n'
    error = refusal(write(tmp_path, "p.jsonl", lines), "jsonl")
    assert "line 2 is not valid UTF-8 (byte offset 40)" in str(error)


def test_non_utf8_header_is_refused(tmp_path: Path) -> None:
    assert "not valid UTF-8" in str(refusal(write(tmp_path, "p.csv", b"te\xfft,label\na,1\n")))


def test_empty_text_and_missing_labels_are_named_by_row(tmp_path: Path) -> None:
    content = "text,label\nfine,0\n   ,1\nfine,\nalso fine,1\n,0\n"
    error = refusal(write(tmp_path, "p.csv", content))
    message = str(error)
    assert "row 2: text is empty" in message
    assert "row 3: label is missing" in message
    assert "row 5: text is empty" in message
    assert [(p.row, p.column) for p in error.problems] == [(2, "text"), (3, "label"), (5, "text")]


def test_jsonl_missing_and_non_string_values_are_named(tmp_path: Path) -> None:
    rows: list[Any] = [{"text": "a", "label": 0}, {"label": 1}, {"text": 5, "label": 1}, {"text": "b"}]
    message = str(refusal(write(tmp_path, "p.jsonl", jsonl(rows)), "jsonl"))
    assert "row 2: text is missing" in message
    assert "row 3: text must be a string, found int" in message
    assert "row 4: label is missing" in message


def test_a_single_class_is_refused(tmp_path: Path) -> None:
    error = refusal(write(tmp_path, "p.csv", "text,label\na,spam\nb,spam\n"))
    assert "needs at least two classes, found only 'spam'" in str(error)


def test_regression_labels_must_be_numbers(tmp_path: Path) -> None:
    content = "x,label\n1,2.5\n2,abc\n3,\n4,inf\n5,7\n"
    error = refusal(write(tmp_path, "p.csv", content), task="tabular_regression")
    message = str(error)
    assert "row 2: label 'abc' is not a number" in message
    assert "row 3: label is missing" in message
    assert "row 4: label 'inf' is not a number" in message


def test_scanning_stops_after_twenty_problems(tmp_path: Path) -> None:
    rows = [{"text": "", "label": i % 2} for i in range(50)]
    error = refusal(write(tmp_path, "p.jsonl", jsonl(rows)), "jsonl")
    assert len(error.problems) == MAX_PROBLEMS
    assert error.problems[-1].row == MAX_PROBLEMS
    assert "20 problems (checking stopped there)" in str(error)
    assert "and 15 more" in str(error)


def test_parquet_text_must_be_strings(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    pd.DataFrame({"text": [1, 2], "label": [0, 1]}).to_parquet(path)
    assert "must hold strings" in str(refusal(path, "parquet"))


def test_parquet_rows_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    pd.DataFrame({"text": ["a", None, "c", ""], "label": [0, 1, None, 1]}).to_parquet(path)
    message = str(refusal(path, "parquet", chunk_rows=1))
    assert "row 2: text is missing" in message
    assert "row 3: label is missing" in message
    assert "row 4: text is empty" in message


def test_a_file_that_is_not_parquet_is_refused(tmp_path: Path) -> None:
    assert "Parquet" in str(refusal(write(tmp_path, "p.parquet", "text,label\na,1\n"), "parquet"))


def test_duplicate_header_names_are_refused(tmp_path: Path) -> None:
    assert "'text'" in str(refusal(write(tmp_path, "p.csv", "text,text,label\na,b,1\n")))


# --- tabular ------------------------------------------------------------------------------------------

TABLE_CSV = "age,city,score,label\n31,Paris,0.5,yes\n,Lyon,1.5,no\n45,,2.5,yes\n"


def test_tabular_summary_uses_every_other_column_as_features(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", TABLE_CSV)
    summary = inspect_dataset(path, fmt="csv", task="tabular_classification")
    assert summary.text_column is None
    assert summary.columns == ["age", "city", "score", "label"]
    assert summary.label_counts == {"no": 1, "yes": 2}
    regression = write(tmp_path, "r.csv", "a,label\n1,0.5\n2,1.5\n")
    assert inspect_dataset(regression, fmt="csv", task="tabular_regression").label_counts == {}


def test_tabular_missing_feature_columns_are_named(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", TABLE_CSV)
    error = refusal(path, task="tabular_classification", feature_columns=["age", "height"])
    assert "'height'" in str(error)
    assert "'age', 'city', 'score', 'label'" in str(error)


def test_tabular_label_cannot_be_a_feature(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", TABLE_CSV)
    assert "cannot also be a feature" in str(refusal(path, task="tabular_classification", feature_columns=["label"]))


def test_load_tabular_keeps_feature_types_and_names_the_label(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", TABLE_CSV.replace("label", "target"))
    frame = load_dataset(path, fmt="csv", task="tabular_classification", label_column="target")
    assert list(frame.columns) == ["age", "city", "score", "label"]
    assert pd.api.types.is_float_dtype(frame["age"])
    assert np.isnan(frame["age"].iloc[1])
    assert pd.api.types.is_object_dtype(frame["city"])
    assert frame["label"].tolist() == ["yes", "no", "yes"]
    chosen = load_dataset(
        path, fmt="csv", task="tabular_classification", label_column="target", feature_columns=["score", "age"]
    )
    assert list(chosen.columns) == ["score", "age", "label"]


def test_load_regression_labels_are_floats(tmp_path: Path) -> None:
    rows = [{"x": 1, "c": "a", "label": 1}, {"x": 2, "c": "b", "label": "2.5"}]
    path = write(tmp_path, "r.jsonl", jsonl(rows))
    inspect_dataset(path, fmt="jsonl", task="tabular_regression")
    frame = load_dataset(path, fmt="jsonl", task="tabular_regression")
    assert frame["label"].dtype == np.float64
    assert frame["label"].tolist() == [1.0, 2.5]
    assert list(frame.columns) == ["x", "c", "label"]


# --- loading text -------------------------------------------------------------------------------------


def test_load_text_gives_text_and_int_labels(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", GOOD_CSV)
    frame = load_dataset(path, fmt="csv")
    assert list(frame.columns) == ["text", "label"]
    assert frame["label"].dtype == np.int64
    assert frame["label"].tolist() == [0, 1, 0]
    assert frame["text"].tolist() == ["hello there", 'ignore, all "rules"', "what time is it"]
    assert all(isinstance(text, str) for text in frame["text"])


def test_load_text_labels_are_int_only_when_all_are_integer_like(tmp_path: Path) -> None:
    rows: list[Any] = [{"text": "a", "label": 1.0}, {"text": "b", "label": "0"}, {"text": "c", "label": " 1 "}]
    path = write(tmp_path, "p.jsonl", jsonl(rows))
    assert inspect_dataset(path, fmt="jsonl").label_counts == {"0": 1, "1": 2}
    assert load_dataset(path, fmt="jsonl")["label"].tolist() == [1, 0, 1]
    mixed = write(tmp_path, "m.jsonl", jsonl([{"text": "a", "label": 1}, {"text": "b", "label": "spam"}]))
    labels = load_dataset(mixed, fmt="jsonl")["label"]
    assert labels.tolist() == ["1", "spam"]


def test_csv_na_strings_stay_text(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", "text,label\nNA,0\nnull,1\n")
    inspect_dataset(path, fmt="csv")
    assert load_dataset(path, fmt="csv")["text"].tolist() == ["NA", "null"]


def test_load_parquet_and_jsonl_match_csv(tmp_path: Path) -> None:
    frame = pd.DataFrame({"text": ["a b", "c d", "e f"], "label": [0, 1, 1], "other": [1, 2, 3]})
    frame.to_parquet(tmp_path / "p.parquet")
    write(tmp_path, "p.jsonl", jsonl(frame.to_dict(orient="records")))
    frame.to_csv(tmp_path / "p.csv", index=False)
    formats: tuple[DatasetFormat, ...] = ("csv", "jsonl", "parquet")
    loaded = [load_dataset(tmp_path / f"p.{ext}", fmt=ext) for ext in formats]
    for other in loaded[1:]:
        pd.testing.assert_frame_equal(other, loaded[0])
