"""The training service's PII logic on a real (SQLite) database: an upload's scan spooled and stored, the consent
check's chunks, refusal and failure, and an erasure's renumbering of the subject rows left."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mlsec.client import ServiceCallError
from mlsec.core.database import Database
from mlsec.core.migrations import upgrade_to_head
from mlsec.core.settings import Settings
from mlsec.ml.pii.engine import PiiEngine
from mlsec.ml.pii.subjects import subject_hash
from mlsec.services.training.errors import ConsentCheckUnavailableError, ConsentMissingError
from mlsec.services.training.models import Base, Dataset, DatasetSubject
from mlsec.services.training.service.consent import ConsentCheck
from mlsec.services.training.service.privacy.erasure import erase
from mlsec.services.training.service.privacy.scanning import PiiScanner

pytestmark = pytest.mark.anyio
KEY = b"k" * 32


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    db = Database(settings.database_url_for("training"))
    await upgrade_to_head(db, "training", Base.metadata)
    yield db
    await db.dispose()


def scanner() -> PiiScanner:
    return PiiScanner(PiiEngine(), KEY)


async def stored_dataset(db: Database, subjects: list[tuple[str, int]], **fields: Any) -> int:
    """A dataset row with subject rows (hash, row index); its id."""
    values: dict[str, Any] = {
        "name": "people",
        "version": 1,
        "filename": "people.csv",
        "format": "csv",
        "path": "people/v1/people.csv",
        "sha256": "0" * 64,
        "size_bytes": 1,
        "rows": 10,
        "task": "text_classification",
        "text_column": "text",
        "label_column": "label",
        "columns": ["text", "label"],
        "label_counts": {"0": 5, "1": 5},
        "pii_counts": {},
        **fields,
    }
    async with db.session() as session:
        dataset = Dataset(**values)
        session.add(dataset)
        await session.flush()
        session.add_all(
            DatasetSubject(dataset_id=dataset.id, value_hash=h, entity_type="EMAIL_ADDRESS", row_index=row)
            for h, row in subjects
        )
        return dataset.id


async def test_an_upload_scan_counts_every_type_and_spools_identifying_values(
    database: Database, tmp_path: Path
) -> None:
    scan = scanner().start(tmp_path)
    scan.on_texts([1, 2], ["mail a@example.com or b@example.com", "nothing here"])
    scan.on_texts([3, 4], ["call +44 20 7946 0958 or visit https://example.com", None])
    assert scan.counts == {"EMAIL_ADDRESS": 2, "PHONE_NUMBER": 1, "URL": 1}
    assert scan.subject_rows == 3  # a URL does not identify a person
    dataset_id = await stored_dataset(database, [])
    async with database.session() as session:
        await scan.store(session, dataset_id=dataset_id)
    scan.close()
    async with database.session() as session:
        rows = (await session.execute(select(DatasetSubject.value_hash, DatasetSubject.row_index))).all()
    assert sorted(rows) == sorted(
        [
            (subject_hash(KEY, "EMAIL_ADDRESS", "a@example.com"), 0),
            (subject_hash(KEY, "EMAIL_ADDRESS", "b@example.com"), 0),
            (subject_hash(KEY, "PHONE_NUMBER", "+442079460958"), 2),
        ]
    )


class StubPrivacy:
    """What `sdk.data_privacy` answers: subjects without consent among the hashes, or a failure."""

    def __init__(self, without_consent: set[str], failure: ServiceCallError | None = None):
        self.without_consent, self.failure = without_consent, failure
        self.calls: list[int] = []

    async def check_consent(self, *, purpose: str, value_hashes: list[str]) -> dict[str, Any]:
        assert purpose == "training"
        self.calls.append(len(value_hashes))
        if self.failure is not None:
            raise self.failure
        missing = [f"subject-{h[:6]}" for h in value_hashes if h in self.without_consent]
        return {"purpose": purpose, "subjects_without_consent": missing, "count": len(missing)}


class StubSdk:
    def __init__(self, privacy: StubPrivacy):
        self.data_privacy = privacy


def check(privacy: StubPrivacy, mode: str = "required") -> ConsentCheck:
    return ConsentCheck(StubSdk(privacy), mode)  # type: ignore[arg-type]


async def test_consent_is_asked_in_chunks_and_refusal_names_the_dataset(database: Database) -> None:
    hashes = [f"{i:032x}" for i in range(25_000)]
    dataset_id = await stored_dataset(database, [(h, i) for i, h in enumerate(hashes)])
    privacy = StubPrivacy(set(hashes[:30]))
    async with database.session() as session:
        dataset = await session.get(Dataset, dataset_id)
        assert dataset is not None
        with pytest.raises(ConsentMissingError) as refused:
            await check(privacy).ensure(session, [dataset])
    assert privacy.calls == [10_000, 10_000, 5_000]
    assert refused.value.status_code == 409
    assert "'people' version 1" in refused.value.message and "30 data subject(s)" in refused.value.message
    assert len(refused.value.details["subject_ids"]) == 20

    quiet = StubPrivacy(set())
    async with database.session() as session:
        await check(quiet, "off").ensure(session, [dataset])
        assert quiet.calls == []
        await check(quiet).ensure(session, [dataset])
        assert len(quiet.calls) == 3


async def test_a_failing_data_privacy_service_is_503(database: Database) -> None:
    dataset_id = await stored_dataset(database, [("a" * 32, 0)])
    failure = ServiceCallError("data-privacy", "HTTP 500", status_code=500)
    async with database.session() as session:
        dataset = await session.get(Dataset, dataset_id)
        assert dataset is not None
        with pytest.raises(ConsentCheckUnavailableError) as unavailable:
            await check(StubPrivacy(set(), failure)).ensure(session, [dataset])
    assert unavailable.value.status_code == 503
    assert "answered the consent check with HTTP 500" in unavailable.value.message


async def test_an_erasure_renumbers_the_rows_after_the_removed_ones(database: Database, tmp_path: Path) -> None:
    lines = ["text,label"] + [f"row {i},{i % 2}" for i in range(10)]
    path = tmp_path / "people" / "v1" / "people.csv"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(lines) + "\n")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    subjects = [("r" * 32, 2), ("r" * 32, 6), *((f"{i:032x}", i) for i in range(10))]
    dataset_id = await stored_dataset(database, subjects, sha256=sha, pii_counts=None)
    async with database.session() as session:
        dataset = await session.get(Dataset, dataset_id)
        assert dataset is not None
        erasure = await erase(session, [(dataset, frozenset({2, 6}))], datasets_root=tmp_path, pii=scanner())
        erasure.apply()
        assert (dataset.rows, dataset.label_counts) == (8, {"0": 3, "1": 5})
    async with database.session() as session:
        left = (await session.execute(select(DatasetSubject.value_hash, DatasetSubject.row_index))).all()
    expected = {f"{i:032x}": i - (i > 2) - (i > 6) for i in range(10) if i not in (2, 6)}
    assert dict(left) == expected
    kept = path.read_text().splitlines()[1:]
    assert [kept[row] for row in expected.values()] == [f"row {int(h, 16)},{int(h, 16) % 2}" for h in expected]
