"""What the registry routes answer, computed once per snapshot (and per change of the monitored set), not per
request: the lists are kept as ready JSON bytes, so a listing of 1,000 versions costs a lookup, not 1,000
serialisations. This is what makes `/models/all` answer in about a millisecond whatever MLflow costs."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pydantic import TypeAdapter

from mlsec.ml.registry import PRODUCTION, STAGES, STAGING
from mlsec.services.control_tower.schemas.models import ModelInfo, ModelVersionInfo
from mlsec.services.control_tower.service.snapshot import RunRecord, Snapshot, VersionRecord

VersionKey = tuple[str, str]
_INFOS = TypeAdapter(list[ModelInfo])
_VERSIONS = TypeAdapter(list[ModelVersionInfo])
CLASSIFIER_METRICS = frozenset({"accuracy", "precision", "recall", "f1", "f1_score", "roc_auc", "log_loss"})
REGRESSOR_METRICS = frozenset({"rmse", "mse", "mae", "r2", "r2_score", "mape"})
MODEL_TYPES = ("classifier", "regressor")


def model_type_of(version: VersionRecord, model_tags: dict[str, str], run: RunRecord | None) -> str | None:
    """classifier or regressor: a `model_type` tag (version, then model), the training task, or the metrics."""
    for tags in (version.tags, model_tags):
        if tags.get("model_type") in MODEL_TYPES:
            return tags["model_type"]
    task = version.tags.get("mlsec.task") or (run.tags.get("mlsec.task") if run else None) or ""
    if task.endswith("classification"):
        return "classifier"
    if task.endswith("regression"):
        return "regressor"
    names = set(run.metrics) if run else set()
    if names & CLASSIFIER_METRICS:
        return "classifier"
    if names & REGRESSOR_METRICS:
        return "regressor"
    return None


@dataclass
class Views:
    """Every answer derived from one snapshot and one monitored set."""

    snapshot: Snapshot
    infos: dict[VersionKey, ModelInfo] = field(default_factory=dict)
    all_json: bytes = b"[]"
    production_json: bytes = b"[]"
    staging_json: bytes = b"[]"
    versions_json: dict[str, bytes] = field(default_factory=dict)
    by_stage: dict[str, int] = field(default_factory=dict)

    @classmethod
    def build(cls, snapshot: Snapshot, monitored_types: dict[VersionKey, str], limit: int) -> Views:
        views = cls(snapshot=snapshot)
        for version in snapshot.versions():
            model = snapshot.models[version.name]
            run = snapshot.runs.get(version.run_id) if version.run_id else None
            key = (version.name, version.version)
            views.infos[key] = ModelInfo(
                name=version.name,
                version=version.version,
                stage=version.stage,
                creation_timestamp=version.creation_timestamp,
                last_updated_timestamp=version.last_updated_timestamp,
                description=version.description,
                tags=version.tags,
                metrics=run.metrics if run else {},
                model_type=monitored_types.get(key) or model_type_of(version, model.tags, run),
                run_id=version.run_id,
                aliases=version.aliases,
            )
        infos = list(views.infos.values())
        views.all_json = _INFOS.dump_json(infos[:limit])
        views.production_json = _INFOS.dump_json([i for i in infos if i.stage == PRODUCTION][:limit])
        views.staging_json = _INFOS.dump_json([i for i in infos if i.stage == STAGING][:limit])
        stages = Counter(i.stage for i in infos)
        views.by_stage = {stage: stages.get(stage, 0) for stage in STAGES} | dict(stages)
        for name, model in snapshot.models.items():
            views.versions_json[name] = _VERSIONS.dump_json(
                [
                    ModelVersionInfo(**views.infos[(name, v.version)].model_dump(exclude={"name", "model_type"}))
                    for v in model.versions
                ]
            )
        return views

    def production_count(self) -> int:
        return self.by_stage.get(PRODUCTION, 0)

    def staging_count(self) -> int:
        return self.by_stage.get(STAGING, 0)
