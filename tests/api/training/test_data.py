"""`/data/*`: uploads are validated, hashed, versioned, and refused with reasons."""

from __future__ import annotations

import hashlib
import io
from collections.abc import AsyncIterator

import httpx
import pandas as pd
import pytest

from tests.api.training.conftest import prompts_csv, upload

pytestmark = pytest.mark.anyio


async def test_upload_stores_versions_by_content(client: httpx.AsyncClient) -> None:
    first = await upload(client, prompts_csv(seed=1), name="attacks")
    assert first.status_code == 201, first.text
    body = first.json()
    dataset = body["dataset"]
    assert body["created"] is True
    assert (dataset["name"], dataset["version"], dataset["rows"]) == ("attacks", 1, 120)
    assert dataset["label_counts"] == {"0": 60, "1": 60}
    assert dataset["sha256"] == hashlib.sha256(prompts_csv(seed=1)).hexdigest()
    assert (dataset["text_column"], dataset["label_column"]) == ("prompt", "is_attack")

    again = await upload(client, prompts_csv(seed=1), name="attacks")
    assert again.status_code == 200
    assert again.json()["created"] is False and again.json()["dataset"]["version"] == 1

    changed = await upload(client, prompts_csv(seed=2), name="attacks")
    assert changed.json()["dataset"]["version"] == 2

    versions = (await client.get("/data/datasets/attacks")).json()
    assert [d["version"] for d in versions["datasets"]] == [2, 1]
    listing = (await client.get("/data/datasets")).json()
    assert [(d["name"], d["version"]) for d in listing["datasets"]] == [("attacks", 2)]


async def test_jsonl_and_parquet_uploads(client: httpx.AsyncClient) -> None:
    frame = pd.read_csv(io.BytesIO(prompts_csv()))
    jsonl = frame.to_json(orient="records", lines=True).encode()
    assert (await upload(client, jsonl, "prompts.jsonl", name="as-jsonl")).status_code == 201
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    parquet = await upload(client, buffer.getvalue(), "prompts.parquet", name="as-parquet")
    assert parquet.status_code == 201, parquet.text
    assert parquet.json()["dataset"]["format"] == "parquet"


@pytest.mark.parametrize(
    ("content", "filename", "expected"),
    [
        (b"", "empty.csv", "empty"),
        (b"prompt,other\nhello,1\n", "x.csv", "is_attack"),
        (b"prompt,is_attack\nhello,1\nbye,1\n", "x.csv", "two classes"),
        (b'prompt,is_attack\nok,1\n"broken,0,extra,fields\nfine,0\n', "x.csv", "row"),
        (b"prompt,is_attack\nbad \xff\xfe bytes,1\nok,0\n", "x.csv", "UTF-8"),
        (b"prompt,is_attack\nhello,1\n", "x.exe", "format"),
    ],
    ids=["empty", "missing-column", "single-class", "malformed", "not-utf8", "unknown-format"],
)
async def test_bad_datasets_are_refused_with_reasons(
    client: httpx.AsyncClient, content: bytes, filename: str, expected: str
) -> None:
    response = await upload(client, content, filename)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] is True
    assert expected.lower() in (body["message"] + str(body["details"])).lower()
    assert (await client.get("/data/datasets")).json()["count"] == 0


async def test_oversize_form_upload_is_413(client: httpx.AsyncClient) -> None:
    response = await upload(client, b"prompt,is_attack\n" + b"x" * 3_000_000, "big.csv")
    assert response.status_code == 413
    assert "MLSEC_TRAINING_MAX_UPLOAD_BYTES" in response.json()["message"]


async def test_large_file_is_streamed_with_a_checksum(client: httpx.AsyncClient) -> None:
    content = prompts_csv(400)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(content), 1000):
            yield content[start : start + 1000]

    params = {
        "filename": "big.csv",
        "name": "streamed",
        "text_column": "prompt",
        "label_column": "is_attack",
        "sha256": hashlib.sha256(content).hexdigest(),
    }
    response = await client.post("/data/efficient/upload-large-file", params=params, content=chunks())
    assert response.status_code == 201, response.text
    assert response.json()["dataset"]["rows"] == 400

    params["sha256"] = "0" * 64
    params["name"] = "damaged"
    mismatch = await client.post("/data/efficient/upload-large-file", params=params, content=content)
    assert mismatch.status_code == 422
    assert "checksum" in mismatch.json()["message"]


async def test_large_file_limit_is_413(client: httpx.AsyncClient) -> None:
    async def endless() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 1_000_000

    response = await client.post(
        "/data/efficient/upload-large-file", params={"filename": "huge.csv"}, content=endless()
    )
    assert response.status_code == 413
    assert "MLSEC_TRAINING_MAX_LARGE_UPLOAD_BYTES" in response.json()["message"]


async def test_bad_parameters_and_unknown_datasets(client: httpx.AsyncClient) -> None:
    assert (await client.get("/data/datasets/nope")).status_code == 404
    bad_name = await upload(client, prompts_csv(), name="../../etc")
    assert bad_name.status_code == 422
    no_file = await client.post("/data/upload-data", data={"name": "x"})
    assert no_file.status_code == 422
    bad_task = await upload(client, prompts_csv(), task="poetry")
    assert bad_task.status_code == 422
    missing_filename = await client.post("/data/efficient/upload-large-file", content=b"a,b\n")
    assert missing_filename.status_code == 422
