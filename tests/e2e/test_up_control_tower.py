"""The control tower on the session's platform (conftest.py), through the gateway as a user calls it: the default
model as the registry's Production version, a version registered later seen at once through the platform's event
stream (the gateway's hub and /ws), and monitoring recorded in the name of the key that asked.

Runs after test_up.py (the default model is trained by then) and test_up_chaos.py (every process, this one
included, was killed and restarted), before test_up_stop.py."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from mlflow import MlflowClient

from mlsec.core.auth import read_credentials
from tests.platform_support import Platform, platform_client

pytestmark = pytest.mark.e2e
MODEL = "security-classifier"


def _until(read: Any, within: float) -> Any:
    deadline = time.monotonic() + within
    while True:
        found = read()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_the_registry_through_the_gateway_kept_fresh_by_events(shared_platform: Platform) -> None:
    gateway = f"{shared_platform.url('gateway')}/api/control-tower"
    key = read_credentials(shared_platform.home / "credentials")
    with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=30) as http:

        def production() -> list[dict[str, Any]]:
            answer = http.get(f"{gateway}/models")
            return [m for m in answer.json() if m["name"] == MODEL] if answer.status_code == 200 else []

        champion = _until(production, within=90)  # a cold start reads MLflow once it is up
        assert champion, "the default model is not listed as Production"
        assert champion[0]["stage"] == "Production" and "champion" in champion[0]["aliases"]
        assert champion[0]["metrics"]["f1"] > 0.85 and champion[0]["model_type"] == "classifier"

        # A version registered after the control tower's last read: the event the training service sends
        # when it registers one reaches the control tower through the gateway, which re-reads that model.
        # (test_up_chaos.py restarted every process: wait until the stream is back and the first read done.)
        def settled() -> dict[str, Any] | None:
            stats = http.get(f"{gateway}/cache/info").json()["cache_info"]
            ready = stats["event_stream"] == "connected" and stats["source"] == "mlflow" and not stats["is_refreshing"]
            return stats if ready else None

        before = _until(settled, within=60)
        assert before, http.get(f"{gateway}/cache/info").text
        mlflow = MlflowClient(shared_platform.url("mlflow"))
        source = mlflow.get_model_version_by_alias(MODEL, "champion")
        name = "control-tower-e2e"
        mlflow.create_registered_model(name)
        version = mlflow.create_model_version(
            name, source=str(source.source), run_id=source.run_id, model_id=str(source.source).removeprefix("models:/")
        )
        mlflow.set_registered_model_alias(name, "challenger", version.version)
        event = {"topic": "training", "type": "job.result", "source": "training", "payload": {"model_name": name}}
        with platform_client(shared_platform.env) as service:  # as a service publishes: with the run's token
            assert service.post(f"{shared_platform.url('gateway')}/events", json=event).status_code == 202
        staged = _until(lambda: [m for m in http.get(f"{gateway}/models/staging").json() if m["name"] == name], 10)
        assert staged and staged[0]["version"] == version.version, "the event did not refresh the model"
        after = http.get(f"{gateway}/cache/info").json()["cache_info"]["event_refreshes"]
        assert after >= before["event_refreshes"] + 1

        added = http.post(f"{gateway}/models/{MODEL}/champion/monitor", json={"model_type": "classifier"})
        assert added.status_code == 201, added.text
        assert added.json()["model_version"] == source.version
        assert added.json()["added_by"] not in ("api", "")  # the gateway's caller, proved by the service token
        monitored = http.get(f"{gateway}/models/monitored").json()
        assert [(m["name"], m["version"]) for m in monitored] == [(MODEL, source.version)]
        summary = http.get(f"{gateway}/dashboard/summary").json()
        assert summary["monitored_models"] == 1 and summary["production_models"] >= 1
