"""Drift routes: ad-hoc checks (JSON or files), live checks, history, status, alerts and per-model config."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, BackgroundTasks, File, Form, Query, UploadFile

from mlsec.core.errors import InvalidInputError, PayloadTooLargeError
from mlsec.core.limits import NAME_PATTERN, ModelNamePath, ModelNameQuery, Offset, RowId
from mlsec.core.openapi import error_responses
from mlsec.core.telemetry import annotate_span
from mlsec.services.analytics.dependencies import AnalyticsDep, CallerDep, ConfigNamePath, SessionDep
from mlsec.services.analytics.models import DriftRun
from mlsec.services.analytics.schemas.configs import DriftSettings, Severity
from mlsec.services.analytics.schemas.drift import (
    AcknowledgeRequest,
    DriftAlertList,
    DriftAlertRead,
    DriftAnalysis,
    DriftConfigRead,
    DriftDetectRequest,
    DriftOptions,
    DriftRunList,
    DriftRunRead,
    DriftRunSummary,
    DriftStatus,
)
from mlsec.services.analytics.service import configs, drift, monitor, retrain
from mlsec.services.analytics.service.tables import columns_of, read_table

router = APIRouter(tags=["drift"])
Limit = Annotated[int, Query(ge=1, le=500)]


def _values(request: DriftDetectRequest) -> int:
    return sum(len(v) for v in request.reference.values()) + sum(len(v) for v in request.current.values())


def _read(run: DriftRun, alert_ids: list[int] | None = None) -> DriftRunRead:
    annotate_span({"mlsec.check.id": run.id, "mlsec.model.name": run.model_name})
    summary = DriftRunSummary.model_validate(run).model_dump()
    return DriftRunRead(**summary, method=run.method, report=run.report, alerts=alert_ids or [])


@router.post("/drift/detect", response_model=DriftRunRead)
async def detect_drift(request: DriftDetectRequest, session: SessionDep, analytics: AnalyticsDep) -> DriftRunRead:
    """Compare two samples feature by feature: per test the statistic, p-value, drift and severity, and which
    tests were chosen and why."""
    if (values := _values(request)) > analytics.settings.max_detect_values:
        limit = analytics.settings.max_detect_values
        raise PayloadTooLargeError(
            f"the request carries {values} values; the limit is {limit} (MLSEC_ANALYTICS_MAX_DETECT_VALUES): "
            "send large data as files to /drift/detect/upload",
            details={"values": values, "limit": limit},
        )
    options = DriftOptions.model_validate(request.model_dump(exclude={"reference", "current"}))
    return _read(
        await drift.check_data(session, analytics, request.reference, request.current, options, source="request")
    )


def _split(value: str | None) -> list[str] | None:
    return [item.strip() for item in value.split(",") if item.strip()] if value else None


@router.post("/drift/detect/upload", response_model=DriftRunRead)
async def detect_drift_files(
    session: SessionDep,
    analytics: AnalyticsDep,
    reference: Annotated[UploadFile, File(description="CSV or Parquet: the baseline.")],
    current: Annotated[UploadFile, File(description="CSV or Parquet: the data to check.")],
    categorical: Annotated[str | None, Form(description="Comma-separated categorical columns.")] = None,
    tests: Annotated[str | None, Form(description="Comma-separated tests; empty: automatic.")] = None,
    alpha: Annotated[float, Form(gt=0, lt=1)] = 0.05,
    correction: Annotated[str, Form()] = "benjamini-hochberg",
    drift_share: Annotated[float, Form(gt=0, le=1)] = 0.5,
    model_name: Annotated[str | None, Form(pattern=NAME_PATTERN)] = None,
    store: Annotated[bool, Form()] = True,
) -> DriftRunRead:
    """The same check on two uploaded files, for data too large for JSON; columns are features."""
    try:
        options = DriftOptions.model_validate(
            {
                "categorical": _split(categorical) or [],
                "tests": _split(tests),
                "alpha": alpha,
                "correction": correction,
                "drift_share": drift_share,
                "model_name": model_name,
                "store": store,
            }
        )
    except ValueError as exc:
        raise InvalidInputError(f"invalid form field: {exc}") from exc
    limit = analytics.settings.max_upload_bytes
    reference_frame = await anyio.to_thread.run_sync(lambda: read_table(reference.file, side="reference", limit=limit))
    current_frame = await anyio.to_thread.run_sync(lambda: read_table(current.file, side="current", limit=limit))
    reference_columns, current_columns = columns_of(reference_frame), columns_of(current_frame)
    return _read(
        await drift.check_data(session, analytics, reference_columns, current_columns, options, source="upload")
    )


@router.post("/drift/check/{model_name}", response_model=DriftRunRead, responses=error_responses(409, 503))
async def check_model_drift(
    model_name: ModelNamePath,
    session: SessionDep,
    analytics: AnalyticsDep,
    background: BackgroundTasks,
    window_minutes: Annotated[float | None, Query(gt=0, le=60 * 24 * 90)] = None,
) -> DriftRunRead:
    """Check a model's live traffic now against its training reference; stored, alerts raised and notified,
    the retrains they trigger started."""
    run, alerts = await monitor.check_model(analytics, session, model_name, window_minutes=window_minutes)
    background.add_task(retrain.dispatch, analytics)  # after the retrain requests are committed
    return _read(run, [a.id for a in alerts])


@router.get("/drift/status", response_model=DriftStatus)
async def get_drift_status(session: SessionDep, analytics: AnalyticsDep) -> DriftStatus:
    """Per model: the last check, its verdict and open alerts; and whether the schedule watches it."""
    return await monitor.get_status(analytics, session)


@router.get("/drift/history", response_model=DriftRunList)
async def get_drift_history(
    session: SessionDep,
    model_name: ModelNameQuery = None,
    drifted: bool | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> DriftRunList:
    """Stored drift runs, newest first."""
    runs, total = await drift.get_all_runs(session, model_name=model_name, drifted=drifted, limit=limit, offset=offset)
    return DriftRunList(runs=[DriftRunSummary.model_validate(r) for r in runs], total=total, limit=limit, offset=offset)


@router.get("/drift/history/{run_id}", response_model=DriftRunRead)
async def get_drift_run(run_id: RowId, session: SessionDep) -> DriftRunRead:
    """One stored run with its full report."""
    return _read(await drift.get_run_or_raise(session, run_id=run_id))


@router.get("/drift/alerts", response_model=DriftAlertList)
async def get_drift_alerts(
    session: SessionDep,
    status: Annotated[str | None, Query(pattern="^(open|acknowledged)$")] = None,
    model_name: ModelNameQuery = None,
    severity: Severity | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> DriftAlertList:
    """Alerts, newest first."""
    alerts, total, open_total = await drift.get_all_alerts(
        session, status=status, model_name=model_name, severity=severity, limit=limit, offset=offset
    )
    return DriftAlertList(
        alerts=[DriftAlertRead.model_validate(a) for a in alerts],
        total=total,
        open=open_total,
        limit=limit,
        offset=offset,
    )


@router.post("/drift/alerts/{alert_id}/acknowledge", response_model=DriftAlertRead)
async def acknowledge_drift_alert(
    alert_id: RowId, body: AcknowledgeRequest, session: SessionDep, caller: CallerDep
) -> DriftAlertRead:
    """Acknowledge an alert: it stops counting as open; who (the caller the gateway names, else "api"), when,
    and the note are kept."""
    return DriftAlertRead.model_validate(await drift.acknowledge(session, alert_id=alert_id, by=caller, note=body.note))


@router.get("/drift/config/{model_name}", response_model=DriftConfigRead)
async def get_drift_config(model_name: ConfigNamePath, session: SessionDep) -> DriftConfigRead:
    """The drift settings that apply to a model ("*": the defaults of every model without its own)."""
    config = await configs.get(session, model_name=model_name)
    return DriftConfigRead(model_name=model_name, stored=config.stored, drift=config.drift)


@router.put("/drift/config/{model_name}", response_model=DriftConfigRead)
async def update_drift_config(model_name: ConfigNamePath, body: DriftSettings, session: SessionDep) -> DriftConfigRead:
    """Store a model's drift settings (window, tests, alpha, thresholds, per-feature overrides)."""
    drift.drift_config(body)  # refused now (422) rather than at the next check
    await configs.update(session, model_name=model_name, drift=body)
    return DriftConfigRead(model_name=model_name, stored=True, drift=body)


@router.get("/analytics/drift", response_model=DriftAnalysis)
async def get_drift_analysis(session: SessionDep, model_name: ModelNameQuery = None) -> DriftAnalysis:
    """The latest drift run of each model, feature by feature."""
    return monitor.analysis(await drift.get_latest_runs(session, model_name=model_name))
