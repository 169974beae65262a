"""`/privacy/*` and PII at upload: counts and subject hashes stored, a subject's rows and models found, erased
from the file byte for byte, retrained, old versions deleted; on SQLite and, when available, PostgreSQL."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlsec.core.database import Database
from mlsec.core.pii_keys import load_pii_keys
from mlsec.core.settings import Settings
from mlsec.ml.pii.subjects import subject_hash
from mlsec.services.training.models import TrainingJob
from mlsec.services.training.settings import TrainingSettings
from tests.api.training.conftest import prompts_csv, upload, wait_for_job
from tests.conftest import TEST_DB_PREFIX, make_settings

pytestmark = pytest.mark.anyio
ALICE, BOB, PHONE = "alice@example.com", "bob@example.org", "+44 20 7946 0958"


@pytest.fixture(params=["sqlite", "postgres"])
def service_settings(request: pytest.FixtureRequest, tmp_path: Path, mlflow_server: str) -> Settings:
    if request.param == "sqlite":
        return make_settings(tmp_path / "home", mlflow_tracking_uri=mlflow_server)
    server = request.getfixturevalue("postgres_server_url")
    prefix = f"{TEST_DB_PREFIX}_{uuid.uuid4().hex[:6]}"
    return make_settings(
        tmp_path / "home", mlflow_tracking_uri=mlflow_server, postgres_url=server, database_prefix=prefix
    )


@pytest.fixture
def training_settings() -> TrainingSettings:
    return TrainingSettings(
        _env_file=None, bootstrap_default_model=False, registry_refresh_seconds=3600, consent_check="off"
    )


def people_rows() -> list[list[str]]:
    """prompts_csv's rows, some with a person's identifiers: Alice in rows 3, 13, ..., a phone in 7, 17, ...,
    Bob in row 40 (rows counted from 0)."""
    rows = list(csv.reader(io.StringIO(prompts_csv().decode())))[1:]
    for index, row in enumerate(rows):
        if index % 10 == 3:
            row[0] += f" and mail it to {ALICE}"
        elif index % 10 == 7:
            row[0] += f" or call me at {PHONE}"
    rows[40][0] += f" then write to {BOB}"
    return rows


def as_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["prompt", "is_attack"])
    writer.writerows(rows)
    return out.getvalue().encode()


def hashes(settings: Settings, *values: tuple[str, str]) -> list[str]:
    key = load_pii_keys(settings).hash_key
    return [subject_hash(key, kind, value) for kind, value in values]


def stored_file(settings: Settings, name: str, version: int, filename: str) -> Path:
    return settings.home.resolve() / "datasets" / name / f"v{version}" / filename


async def queue_job_on(settings: Settings, dataset_id: int) -> None:
    """A queued job on a dataset version, as one waiting for a worker slot is (never handed to the runner)."""
    database = Database(settings.database_url_for("training"))
    job = TrainingJob(
        id=uuid.uuid4().hex[:16],
        model_name="waiting",
        kind="train",
        status="queued",
        step="queued",
        config={},
        dataset_ids=[dataset_id],
    )
    async with database.session() as session:
        session.add(job)
    await database.dispose()


async def lookup(client: httpx.AsyncClient, value_hashes: list[str], **flags: bool) -> dict[str, Any]:
    response = await client.post("/privacy/subjects", json={"value_hashes": value_hashes, **flags})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_uploads_are_scanned_into_counts_and_subject_hashes(
    client: httpx.AsyncClient, service_settings: Settings
) -> None:
    rows = people_rows()
    as_jsonl = "".join(json.dumps({"prompt": p, "is_attack": int(a)}) + "\n" for p, a in rows).encode()
    for content, filename in ((as_csv(rows), "people.csv"), (as_jsonl, "people.jsonl")):
        response = await upload(client, content, filename, name=filename.replace(".", "-"))
        assert response.status_code == 201, response.text
        counts = response.json()["dataset"]["pii_counts"]
        assert (counts["EMAIL_ADDRESS"], counts["PHONE_NUMBER"]) == (13, 12)
    tabular = b"a,b,label\n1,alice@example.com,0\n2,3,1\n3,4,0\n"
    plain = await upload(
        client, tabular, "numbers.csv", name="numbers", task="tabular_classification", label_column="label"
    )
    assert plain.status_code == 201, plain.text
    assert plain.json()["dataset"]["pii_counts"] == {}

    listed = {d["name"]: d for d in (await client.get("/data/datasets")).json()["datasets"]}
    assert listed["people-csv"]["pii_counts"]["EMAIL_ADDRESS"] == 13
    status = (await client.get("/privacy/status")).json()
    assert (status["datasets"], status["datasets_with_pii"], status["subject_hashes"]) == (3, 2, 3)
    assert status["pii_counts"]["EMAIL_ADDRESS"] == 26
    alice, bob, phone = hashes(
        service_settings, ("EMAIL_ADDRESS", ALICE), ("EMAIL_ADDRESS", BOB), ("PHONE_NUMBER", PHONE)
    )
    found = await lookup(client, [alice, phone, "0" * 32])
    assert found["datasets"] == [
        {"name": "people-csv", "version": 1, "rows": 24},
        {"name": "people-jsonl", "version": 1, "rows": 24},
    ]
    assert (found["models"], found["rows_removed"], found["retrain_jobs"]) == ([], 0, [])
    assert (await lookup(client, [bob]))["datasets"][0]["rows"] == 1


async def test_lookup_erase_and_retrain(client: httpx.AsyncClient, service_settings: Settings) -> None:
    rows = people_rows()
    original = as_csv(rows)
    assert (await upload(client, original, "people.csv", name="people")).status_code == 201
    started = await client.post("/training/train", json={"model_name": "privacy-model", "dataset": "people"})
    assert started.status_code == 202, started.text
    job = await wait_for_job(client, started.json()["id"])
    assert job["status"] == "succeeded", job
    alice, bob, phone = hashes(
        service_settings, ("EMAIL_ADDRESS", ALICE), ("EMAIL_ADDRESS", BOB), ("PHONE_NUMBER", PHONE)
    )

    found = await lookup(client, [alice, bob])
    assert found["datasets"] == [{"name": "people", "version": 1, "rows": 13}]
    assert found["models"] == [
        {
            "model_name": "privacy-model",
            "model_version": job["model_version"],
            "run_id": job["mlflow_run_id"],
            "job_id": job["id"],
            "dataset_name": "people",
            "dataset_version": 1,
        }
    ]

    erased = await lookup(client, [alice, bob], erase=True, retrain=True)
    assert erased["rows_removed"] == 13 and len(erased["retrain_jobs"]) == 1, erased
    path = stored_file(service_settings, "people", 1, "people.csv")
    kept = [row for index, row in enumerate(rows) if index % 10 != 3 and index != 40]
    assert path.read_bytes() == as_csv(kept)
    dataset = (await client.get("/data/datasets/people")).json()["datasets"][0]
    assert dataset["rows"] == 107
    assert dataset["sha256"] == hashlib.sha256(as_csv(kept)).hexdigest()
    assert dataset["size_bytes"] == len(as_csv(kept))
    assert dataset["label_counts"] == dict(Counter(label for _, label in kept))
    assert "EMAIL_ADDRESS" not in dataset["pii_counts"] and dataset["pii_counts"]["PHONE_NUMBER"] == 12
    assert (await lookup(client, [alice, bob]))["datasets"] == []

    retrain = await wait_for_job(client, erased["retrain_jobs"][0])
    assert (retrain["status"], retrain["kind"], retrain["dataset_ids"]) == ("succeeded", "retrain", job["dataset_ids"])
    assert retrain["config"] == job["config"]

    # the phone's rows were renumbered when Alice's and Bob's left: erasing them now removes exactly them
    again = await lookup(client, [phone], erase=True)
    assert (again["rows_removed"], again["retrain_jobs"], len(again["models"])) == (12, [], 2)
    assert path.read_bytes() == as_csv([row for row in kept if PHONE not in row[0]])
    assert (await client.get("/privacy/status")).json()["subject_hashes"] == 0


async def test_retention_keeps_the_newest_and_what_jobs_use(
    client: httpx.AsyncClient, service_settings: Settings
) -> None:
    for seed in (1, 2, 3):
        content = as_csv(people_rows()) if seed == 1 else prompts_csv(seed=seed)
        assert (await upload(client, content, "old.csv", name="old")).status_code == 201
    assert (await upload(client, prompts_csv(seed=4), "single.csv", name="single")).status_code == 201
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()

    dry = await client.post("/privacy/retention", json={"older_than": later})
    assert dry.json() == {"category": "datasets", "matched": 2, "deleted": 0}
    past = await client.post("/privacy/retention", json={"older_than": "2000-01-01T00:00:00Z", "dry_run": False})
    assert past.json() == {"category": "datasets", "matched": 0, "deleted": 0}

    v2 = next(d for d in (await client.get("/data/datasets/old")).json()["datasets"] if d["version"] == 2)
    await queue_job_on(service_settings, v2["id"])
    done = await client.post("/privacy/retention", json={"older_than": later, "dry_run": False})
    assert done.json() == {"category": "datasets", "matched": 1, "deleted": 1}
    versions = (await client.get("/data/datasets/old")).json()["datasets"]
    assert [d["version"] for d in versions] == [3, 2]
    assert not stored_file(service_settings, "old", 1, "old.csv").parent.exists()
    assert stored_file(service_settings, "old", 2, "old.csv").exists()
    status = (await client.get("/privacy/status")).json()
    assert (status["datasets"], status["subject_hashes"]) == (3, 0)  # v1's subject rows went with it


@pytest.mark.parametrize(
    ("path", "body", "where"),
    [
        ("/privacy/subjects", {"value_hashes": []}, "value_hashes"),
        ("/privacy/subjects", {"value_hashes": ["A" * 32]}, "value_hashes"),
        ("/privacy/subjects", {"value_hashes": ["0" * 31]}, "value_hashes"),
        ("/privacy/subjects", {"value_hashes": ["0" * 32] * 10_001}, "value_hashes"),
        ("/privacy/subjects", {"value_hashes": ["0" * 32], "purge": True}, "purge"),
        ("/privacy/retention", {"older_than": "2026-01-01T00:00:00"}, "older_than"),
        ("/privacy/retention", {"older_than": 1767225600}, "older_than"),
        ("/privacy/retention", {}, "older_than"),
    ],
    ids=["empty", "upper-case", "short", "too-many", "unknown-field", "naive-time", "number-time", "no-time"],
)
async def test_bad_input_is_422_in_the_envelope(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], where: str
) -> None:
    response = await client.post(path, json=body)
    assert response.status_code == 422, response.text
    envelope = response.json()
    assert (envelope["error"], envelope["status_code"]) == (True, 422)
    assert where in json.dumps(envelope["details"])
