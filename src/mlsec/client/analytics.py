"""Client of the analytics (port 8006): drift, performance, red team, auto-retrain and promotion."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from mlsec.client.base import ServiceClient
from mlsec.client.endpoint import endpoint


def _params(**values: Any) -> dict[str, Any]:
    """Query parameters without the ones left unset; datetimes as ISO 8601."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items() if v is not None}


class AnalyticsClient(ServiceClient):
    """Drift checks and alerts, performance from labelled feedback, red-team runs, auto-retrain, promotion."""

    @endpoint("GET", "/")
    async def get_info(self) -> dict[str, Any]:
        """`GET /`: what the service watches and how."""
        return dict(await self.get_json("/"))

    # --- analytics ---------------------------------------------------------------------------------------

    @endpoint("GET", "/analytics/summary")
    async def get_analytics_summary(self) -> dict[str, Any]:
        """`GET /analytics/summary`: drift, alerts, performance, red team, retrains and promotions in one view."""
        return dict(await self.get_json("/analytics/summary"))

    @endpoint("GET", "/analytics/trends")
    async def get_analytics_trends(
        self, *, model_name: str | None = None, days: int = 7, bucket: str = "day"
    ) -> dict[str, Any]:
        """`GET /analytics/trends`: per time bucket, feedback volume and metrics, drift runs and alerts."""
        return dict(
            await self.get_json("/analytics/trends", params=_params(model_name=model_name, days=days, bucket=bucket))
        )

    @endpoint("GET", "/analytics/drift")
    async def get_drift_analysis(self, *, model_name: str | None = None) -> dict[str, Any]:
        """`GET /analytics/drift`: the latest drift run of each model, feature by feature."""
        return dict(await self.get_json("/analytics/drift", params=_params(model_name=model_name)))

    # --- drift -------------------------------------------------------------------------------------------

    @endpoint("POST", "/drift/detect")
    async def detect_drift(
        self,
        reference: Mapping[str, Sequence[Any]],
        current: Mapping[str, Sequence[Any]],
        *,
        categorical: Sequence[str] = (),
        tests: Sequence[str] | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """`POST /drift/detect`: per feature and test, the statistic, p-value, drift and severity; `options` are
        alpha, correction, thresholds, drift_share, features (per-feature overrides), model_name, store."""
        body = {"reference": reference, "current": current, "categorical": list(categorical), **options}
        if tests is not None:
            body["tests"] = list(tests)
        return dict((await self.request("POST", "/drift/detect", json=body)).json())

    @endpoint("POST", "/drift/detect/upload")
    async def detect_drift_files(
        self,
        reference: Path,
        current: Path,
        *,
        categorical: Sequence[str] = (),
        tests: Sequence[str] | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """`POST /drift/detect/upload`: the same check on two CSV or Parquet files (multipart form)."""
        form = {"categorical": ",".join(categorical), **{k: str(v) for k, v in options.items() if v is not None}}
        if tests is not None:
            form["tests"] = ",".join(tests)
        with reference.open("rb") as ref, current.open("rb") as cur:
            response = await self.request(
                "POST",
                "/drift/detect/upload",
                operation="training",
                data=form,
                files={"reference": (reference.name, ref), "current": (current.name, cur)},
            )
        return dict(response.json())

    @endpoint("POST", "/drift/check/{model_name}")
    async def check_model_drift(self, model_name: str, *, window_minutes: float | None = None) -> dict[str, Any]:
        """`POST /drift/check/{model}`: check the model's live traffic now (stored, alerts raised)."""
        return dict(
            (
                await self.request("POST", f"/drift/check/{model_name}", params=_params(window_minutes=window_minutes))
            ).json()
        )

    @endpoint("GET", "/drift/status")
    async def get_drift_status(self) -> dict[str, Any]:
        """`GET /drift/status`: per monitored model, the last check, its verdict and open alerts."""
        return dict(await self.get_json("/drift/status"))

    @endpoint("GET", "/drift/history")
    async def get_drift_history(
        self,
        *,
        model_name: str | None = None,
        drifted: bool | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> dict[str, Any]:
        """`GET /drift/history`: stored drift runs, newest first."""
        params = _params(model_name=model_name, drifted=drifted, limit=limit, offset=offset)
        return dict(await self.get_json("/drift/history", params=params))

    @endpoint("GET", "/drift/history/{run_id}")
    async def get_drift_run(self, run_id: int) -> dict[str, Any]:
        """`GET /drift/history/{id}`: one drift run with its full report."""
        return dict(await self.get_json(f"/drift/history/{run_id}"))

    @endpoint("GET", "/drift/alerts")
    async def get_drift_alerts(
        self,
        *,
        status: str | None = None,
        model_name: str | None = None,
        severity: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> dict[str, Any]:
        """`GET /drift/alerts`: alerts, newest first."""
        params = _params(status=status, model_name=model_name, severity=severity, limit=limit, offset=offset)
        return dict(await self.get_json("/drift/alerts", params=params))

    @endpoint("POST", "/drift/alerts/{alert_id}/acknowledge")
    async def acknowledge_drift_alert(self, alert_id: int, *, note: str | None = None) -> dict[str, Any]:
        """`POST /drift/alerts/{id}/acknowledge`."""
        body = {"note": note} if note else {}
        return dict((await self.request("POST", f"/drift/alerts/{alert_id}/acknowledge", json=body)).json())

    @endpoint("GET", "/drift/config/{model_name}")
    async def get_drift_config(self, model_name: str) -> dict[str, Any]:
        """`GET /drift/config/{model}`: the drift settings that apply to the model ("*": the defaults)."""
        return dict(await self.get_json(f"/drift/config/{model_name}"))

    @endpoint("PUT", "/drift/config/{model_name}")
    async def update_drift_config(self, model_name: str, drift: Mapping[str, Any]) -> dict[str, Any]:
        """`PUT /drift/config/{model}`: window, tests, alpha, thresholds and per-feature overrides."""
        return dict((await self.request("PUT", f"/drift/config/{model_name}", json=dict(drift))).json())

    # --- performance ---------------------------------------------------------------------------------------

    @endpoint("POST", "/feedback")
    async def record_feedback(self, items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """`POST /feedback`: predictions with their true labels (model_name, model_version, prediction,
        true_label; optional score, text, predicted_at)."""
        return dict((await self.request("POST", "/feedback", json={"items": [dict(i) for i in items]})).json())

    @endpoint("GET", "/model-performance/{model_name}")
    async def get_model_performance(
        self, model_name: str, *, window_hours: float = 24.0, buckets: int = 24, version: str | None = None
    ) -> dict[str, Any]:
        """`GET /model-performance/{model}`: accuracy, precision, recall, F1 and ROC-AUC per version over time."""
        params = _params(window_hours=window_hours, buckets=buckets, version=version)
        return dict(await self.get_json(f"/model-performance/{model_name}", params=params))

    @endpoint("GET", "/performance/metrics")
    async def get_performance_metrics(self, *, window_hours: float = 24.0) -> dict[str, Any]:
        """`GET /performance/metrics`: every model's metrics over the window."""
        return dict(await self.get_json("/performance/metrics", params=_params(window_hours=window_hours)))

    @endpoint("GET", "/export/production-data/{model_name}")
    async def export_production_data(
        self,
        model_name: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        fmt: str = "csv",
        part: str = "training",
    ) -> bytes:
        """`GET /export/production-data/{model}`: labelled production texts, as a training dataset file; by
        default without the held-out part promotions are judged on (`part`: training, holdout or all)."""
        params = _params(since=since, until=until, format=fmt, part=part)
        return (await self.request("GET", f"/export/production-data/{model_name}", params=params)).content

    # --- red team ------------------------------------------------------------------------------------------

    @endpoint("POST", "/red-team/run", operation="training")
    async def run_red_team(
        self,
        model_name: str,
        *,
        version: str | None = None,
        techniques: Sequence[str] | None = None,
        variants_per_seed: int = 1,
        seed: int = 0,
    ) -> dict[str, Any]:
        """`POST /red-team/run`: attack a served model version with the suite; the stored run."""
        body = _params(model_name=model_name, version=version, variants_per_seed=variants_per_seed, seed=seed)
        if techniques is not None:
            body["techniques"] = list(techniques)
        return dict((await self.request("POST", "/red-team/run", operation="training", json=body)).json())

    @endpoint("POST", "/red-team/results")
    async def store_red_team_results(
        self, model_name: str, model_version: str, report: Mapping[str, Any]
    ) -> dict[str, Any]:
        """`POST /red-team/results`: store a run made elsewhere (`mlsec redteam`), as `RedTeamReport.to_dict()`."""
        body = {"model_name": model_name, "model_version": model_version, "report": dict(report)}
        return dict((await self.request("POST", "/red-team/results", json=body)).json())

    @endpoint("GET", "/red-team/runs")
    async def get_red_team_runs(
        self, *, model_name: str | None = None, limit: int = 50, offset: int = 0
    ) -> dict[str, Any]:
        """`GET /red-team/runs`: stored runs, newest first, without their evaded prompts."""
        return dict(
            await self.get_json("/red-team/runs", params=_params(model_name=model_name, limit=limit, offset=offset))
        )

    @endpoint("GET", "/red-team/runs/{run_id}")
    async def get_red_team_run(self, run_id: int) -> dict[str, Any]:
        """`GET /red-team/runs/{id}`: one run, per technique, with the prompts that evaded."""
        return dict(await self.get_json(f"/red-team/runs/{run_id}"))

    @endpoint("GET", "/red-team/summary")
    async def get_red_team_summary(self, *, model_name: str | None = None) -> dict[str, Any]:
        """`GET /red-team/summary`: the latest run of each model (or one model), per technique."""
        return dict(await self.get_json("/red-team/summary", params=_params(model_name=model_name)))

    @endpoint("GET", "/red-team/trends")
    async def get_red_team_trends(self, *, model_name: str | None = None) -> dict[str, Any]:
        """`GET /red-team/trends`: detection rates across model versions, overall and per technique."""
        return dict(await self.get_json("/red-team/trends", params=_params(model_name=model_name)))

    @endpoint("GET", "/red-team/patterns")
    async def get_red_team_patterns(self, *, model_name: str | None = None) -> dict[str, Any]:
        """`GET /red-team/patterns`: which techniques evade most, with examples."""
        return dict(await self.get_json("/red-team/patterns", params=_params(model_name=model_name)))

    # --- auto-retrain ----------------------------------------------------------------------------------------

    @endpoint("GET", "/auto-retrain/config")
    async def get_auto_retrain_config(self, *, model_name: str | None = None) -> dict[str, Any]:
        """`GET /auto-retrain/config`: triggers, cooldown, daily limit, priorities and promotion criteria."""
        return dict(await self.get_json("/auto-retrain/config", params=_params(model_name=model_name)))

    @endpoint("PUT", "/auto-retrain/config")
    async def update_auto_retrain_config(
        self,
        *,
        model_name: str = "*",
        auto_retrain: Mapping[str, Any] | None = None,
        promotion: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """`PUT /auto-retrain/config`: a model's settings, or the defaults ("*")."""
        body: dict[str, Any] = {"model_name": model_name}
        if auto_retrain is not None:
            body["auto_retrain"] = dict(auto_retrain)
        if promotion is not None:
            body["promotion"] = dict(promotion)
        return dict((await self.request("PUT", "/auto-retrain/config", json=body)).json())

    @endpoint("POST", "/auto-retrain/trigger/{model_name}")
    async def trigger_retrain(self, model_name: str, *, reason: str = "manual", force: bool = False) -> dict[str, Any]:
        """`POST /auto-retrain/trigger/{model}`: queue a retrain (cooldown and daily limit apply unless `force`)."""
        body = {"reason": reason, "force": force}
        return dict((await self.request("POST", f"/auto-retrain/trigger/{model_name}", json=body)).json())

    @endpoint("GET", "/auto-retrain/queue")
    async def get_retrain_queue(self) -> dict[str, Any]:
        """`GET /auto-retrain/queue`: retrains waiting or running, in the order they will run."""
        return dict(await self.get_json("/auto-retrain/queue"))

    @endpoint("GET", "/auto-retrain/history")
    async def get_retrain_history(
        self, *, model_name: str | None = None, limit: int = 50, offset: int = 0
    ) -> dict[str, Any]:
        """`GET /auto-retrain/history`: every retrain request, started, skipped or finished, newest first."""
        params = _params(model_name=model_name, limit=limit, offset=offset)
        return dict(await self.get_json("/auto-retrain/history", params=params))

    # --- promotion -------------------------------------------------------------------------------------------

    @endpoint("POST", "/promotion/evaluate/{model_name}", operation="training")
    async def evaluate_promotion(
        self,
        model_name: str,
        *,
        challenger_version: str | None = None,
        promote: bool = True,
    ) -> dict[str, Any]:
        """`POST /promotion/evaluate/{model}`: challenger against champion on the held-out labelled feedback;
        the champion alias moves only when every criterion holds (and `promote`). Recorded in the ledger."""
        body = _params(challenger_version=challenger_version, promote=promote)
        return dict(
            (await self.request("POST", f"/promotion/evaluate/{model_name}", operation="training", json=body)).json()
        )

    @endpoint("GET", "/promotion/ledger/{model_name}")
    async def get_promotion_ledger(self, model_name: str, *, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        """`GET /promotion/ledger/{model}`: every champion decision with its evidence, newest first."""
        return dict(await self.get_json(f"/promotion/ledger/{model_name}", params=_params(limit=limit, offset=offset)))

    @endpoint("GET", "/promotion/champion/{model_name}")
    async def get_champion_at(self, model_name: str, *, at: datetime | None = None) -> dict[str, Any]:
        """`GET /promotion/champion/{model}?at=`: which version was champion then, who moved it, on what evidence."""
        return dict(await self.get_json(f"/promotion/champion/{model_name}", params=_params(at=at)))
