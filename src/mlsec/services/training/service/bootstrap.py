"""The default model: on a fresh install, train `security-classifier` from the shipped data.

Runs at start-up as a start-up task (tried again with backoff until MLflow answers): when the model
has no champion and no job is already on its way, registers the shipped datasets, stores the default config and queues
a training job, whose progress shows in the service's log and on the gateway's `training` topic.

The shipped datasets are scanned for PII like any upload (a few public example addresses are found), but the
job is created without the consent check: the data is public and shipped with mlsec, not personal data of the
deployment's subjects, and the default model must train on a first start before the data-privacy service is up.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from pathlib import Path

import anyio
import httpx
from sqlalchemy import select

import mlsec
from mlsec.ml.registry import CHAMPION
from mlsec.services.training.errors import RegistryUnavailableError
from mlsec.services.training.models import TrainingJob
from mlsec.services.training.schemas.configs import TrainingConfigBody
from mlsec.services.training.service import configs, datasets, jobs
from mlsec.services.training.service.registry import has_alias
from mlsec.services.training.state import TrainingService

DEFAULT_MODEL = "security-classifier"
TRAIN_DATASET = "security-prompts-train"
TEST_DATASET = "security-prompts-test"
logger = logging.getLogger("mlsec.training.bootstrap")

DEFAULT_CONFIG = TrainingConfigBody(
    task="text_classification",
    dataset=TRAIN_DATASET,
    evaluation_dataset=TEST_DATASET,
    description="Prompt-injection / jailbreak detector: word and character n-gram TF-IDF with a calibrated "
    "linear SVM, trained on the shipped deepset and jackhhao data, evaluated on their held-out test files.",
)


def shipped_data_dir() -> Path:
    """The data folder shipped with mlsec: inside an installed wheel, or the repository's `data/`."""
    package = Path(mlsec.__file__).resolve().parent
    for candidate in (package / "_data", package.parents[1] / "data"):
        if (candidate / "prompts_deepset_train.jsonl").exists():
            return candidate
    raise FileNotFoundError("the shipped training data (prompts_*_train.jsonl) was not found")


def combine_jsonl(files: list[Path], target: Path) -> datasets.ReceivedFile:
    """Concatenate JSONL files into one (blocking), hashing as it goes."""
    digest = hashlib.sha256()
    with target.open("wb") as out:
        for path in files:
            data = path.read_bytes()
            if data and not data.endswith(b"\n"):
                data += b"\n"
            digest.update(data)
            out.write(data)
    return datasets.ReceivedFile(target, target.stat().st_size, digest.hexdigest())


async def _register_shipped(service: TrainingService, name: str, pattern: str) -> None:
    files = sorted(shipped_data_dir().glob(pattern))
    target = datasets.incoming_dir(service.datasets_root) / uuid.uuid4().hex
    received = await anyio.to_thread.run_sync(combine_jsonl, files, target)
    options = datasets.UploadOptions(name=name, filename=f"{name}.jsonl")
    async with service.ctx.db.session() as session:
        await datasets.create(
            session, received=received, options=options, datasets_root=service.datasets_root, pii=service.pii
        )


async def _check_mlflow(service: TrainingService) -> None:
    """Raise RegistryUnavailableError unless MLflow answers its health check now."""
    try:
        response = await service.ctx.http.get(f"{service.tracking_uri}/health", extensions={"mlsec_retries": 0})
    except httpx.HTTPError as exc:
        raise RegistryUnavailableError(f"{type(exc).__name__}: {str(exc)[:200]}") from exc
    if not response.is_success:
        raise RegistryUnavailableError(f"HTTP {response.status_code} from {service.tracking_uri}/health")


async def _job_on_its_way(service: TrainingService) -> bool:
    async with service.ctx.db.session() as session:
        query = select(TrainingJob.id).where(
            TrainingJob.model_name == DEFAULT_MODEL, TrainingJob.status.in_(("queued", "running"))
        )
        return (await session.execute(query.limit(1))).first() is not None


async def bootstrap_default_model(service: TrainingService) -> str | None:
    """Queue the default model's first training when it is needed; the job id, or None. Raises
    RegistryUnavailableError while MLflow does not answer (the start-up task tries again)."""
    await _check_mlflow(service)
    if await anyio.to_thread.run_sync(has_alias, service.tracking_uri, DEFAULT_MODEL, CHAMPION):
        return None
    if await _job_on_its_way(service):
        return None
    logger.info("training.bootstrap.started", extra={"model_name": DEFAULT_MODEL})
    await _register_shipped(service, TRAIN_DATASET, "prompts_*_train.jsonl")
    await _register_shipped(service, TEST_DATASET, "prompts_*_test.jsonl")
    async with service.ctx.db.session() as session:
        stored = await configs.get(session, model_name=DEFAULT_MODEL)
        config = DEFAULT_CONFIG if stored is None else stored.config
        if stored is None:
            await configs.update(session, model_name=DEFAULT_MODEL, config=config)
        job = await jobs.create(session, model_name=DEFAULT_MODEL, kind="train", config=config, consent=None)
        job_id = job.id
    await service.submit(job_id)
    logger.info("training.bootstrap.queued", extra={"model_name": DEFAULT_MODEL, "job_id": job_id})
    return job_id
