"""The registry page through HTTP: the control tower's versions grouped by stage with their metrics in brief, the
monitored versions, the snapshot's freshness and the summary figures; the monitoring form, the remove buttons and
"Refresh now" only for operators and admins, and a viewer's forged write refused by the gateway; the control
tower down makes each part say "unavailable" instead of failing the page.

A unit test of the page's loaders and templates: where it needs the control tower to answer, the SDK's method is
replaced by a double built from the control tower's own schemas (the real platform's answers are the browser
tests' part, tests/browser/)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from mlsec.client.main import MainAPIClient
from mlsec.core.auth import Role
from mlsec.services.control_tower.schemas.cache import CacheInfo, DashboardSummary
from mlsec.services.control_tower.schemas.models import ModelInfo
from mlsec.services.gateway.service.dashboard import registry
from tests.api.gateway.security_support import Gateway, sign_in_as

pytestmark = pytest.mark.anyio
MODEL = "security-classifier"
NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
METRICS = {"train_rows": 1200.0, "recall": 0.9, "f1": 0.91, "accuracy": 0.93, "precision": 0.92, "roc_auc": 0.97}


def _info(name: str, version: str, stage: str, aliases: list[str], metrics: dict[str, float]) -> dict[str, Any]:
    info = ModelInfo(
        name=name,
        version=version,
        stage=stage,
        creation_timestamp=NOW,
        last_updated_timestamp=NOW,
        description=None,
        tags={},
        metrics=metrics,
        model_type="classifier",
        run_id=f"run-{name}-{version}-0123456789",
        aliases=aliases,
    )
    return info.model_dump(mode="json")


MODELS = [
    _info(MODEL, "2", "None", [], {"f1": 0.85}),
    _info(MODEL, "10", "Staging", ["challenger"], {"f1": 0.93}),
    _info(MODEL, "3", "Production", ["champion"], METRICS),
    _info("prompt-guard", "1", "Archived", [], {}),
]
STATS = {
    "total_models": 4,
    "registered_models": 2,
    "models_by_stage": {"Production": 1, "Staging": 1, "None": 1, "Archived": 1},
    "last_refresh": NOW,
    "is_refreshing": False,
    "cache_age_minutes": 7.25,
    "is_stale": True,
    "stale_reason": "MLflow did not answer the last refresh",
    "source": "file",
    "last_error": "ConnectError: refused",
    "last_refresh_seconds": 1.234,
    "event_refreshes": 5,
    "event_stream": "disconnected",
    "persistence": {
        "enabled": True,
        "cache_directory": "/tmp/control-tower",
        "cache_file_exists": True,
        "cache_file_age_hours": 0.1,
        "cache_file_size_bytes": 3 * 1024 + 512,
        "max_age_hours": 24.0,
    },
}
CACHE_INFO = CacheInfo.model_validate(
    {
        "cache_info": STATS,
        "tracking_info": {"total_models": 4, "production_models": 1, "staging_models": 1, "monitored_models": 1},
        "system_status": {"mlflow_connected": False, "tracking_method": "cached", "cache_enabled": True},
    }
).model_dump(mode="json")
SUMMARY = DashboardSummary(
    total_experiments=3,
    active_experiments=2,
    total_models=4,
    registered_models=2,
    monitored_models=1,
    production_models=1,
    staging_models=1,
    total_runs=1234,
    last_updated=NOW,
    is_stale=True,
).model_dump(mode="json")


def _answer(value: Any) -> Any:
    async def answer(*args: Any, **kwargs: Any) -> Any:
        return value

    return answer


def _answering(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    """The control tower answers the page's reads as a platform with one model (champion 3, challenger 10) would."""
    tower = gateway.app.state.sdk.control_tower
    assert isinstance(gateway.app.state.sdk, MainAPIClient)
    monkeypatch.setattr(tower, "get_all_models", _answer(MODELS))
    monkeypatch.setattr(tower, "get_monitored_models", _answer([MODELS[2]]))
    monkeypatch.setattr(tower, "get_cache_info", _answer(CACHE_INFO))
    monkeypatch.setattr(tower, "get_dashboard_summary", _answer(SUMMARY))


def _rows(text: str, table: str) -> list[tuple[str, str]]:
    """(model, version) of each row of `table#<table>`, in order."""
    body = text.split(f'<table id="{table}">', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<tr data-model="([^"]+)" data-version="([^"]+)"', body)


async def test_a_viewer_sees_the_page_without_any_write_control(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in_as(gateway, Role.VIEWER)
    _answering(gateway, monkeypatch)
    page = await gateway.http.get("/ui/registry")
    assert page.status_code == 200
    text = page.text
    assert '<main id="content" data-page="registry"' in text and "<title>Registry" in text
    assert 'data-topics="training,promotions"' in text and 'src="/static/pages/registry.js"' in text
    assert 'data-page="registry" href="/ui/registry"' in text  # in the navigation
    for element in ('id="stage-production"', 'id="stage-staging"', 'id="stage-other"', 'id="monitored"'):
        assert element in text, element
    assert 'id="snapshot-stats"' in text and 'data-figure="total_runs"' in text
    assert "write-control" not in text and "admin-control" not in text
    assert 'id="monitor-form"' not in text and 'id="registry-refresh"' not in text
    assert "remove-monitoring" not in text
    assert (await gateway.http.get("/static/pages/registry.js")).status_code == 200


async def test_an_operator_gets_the_monitoring_form_the_remove_buttons_and_refresh_now(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in_as(gateway, Role.OPERATOR)
    _answering(gateway, monkeypatch)
    text = (await gateway.http.get("/ui/registry")).text
    assert '<form id="monitor-form" class="row"' in text and 'for="monitor-model-name"' in text
    assert '<option value="classifier">classifier</option><option value="regressor">regressor</option>' in text
    assert f'<option value="prompt-guard"></option><option value="{MODEL}"></option>' in text  # the datalist, sorted
    assert '<button id="monitor-add" class="write-control" type="submit">' in text
    assert f'class="remove-monitoring write-control secondary" type="button" data-model="{MODEL}" data-version="3"' in (
        text
    )
    assert '<button id="registry-refresh" class="write-control" type="button">Refresh now</button>' in text
    assert "admin-control" not in text


async def test_versions_are_grouped_by_stage_with_their_metrics_in_brief(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in_as(gateway, Role.VIEWER)
    _answering(gateway, monkeypatch)
    text = (await gateway.http.get("/ui/registry")).text
    assert _rows(text, "stage-production") == [(MODEL, "3")]
    assert _rows(text, "stage-staging") == [(MODEL, "10")]
    assert _rows(text, "stage-other") == [("prompt-guard", "1"), (MODEL, "2")]
    assert '<span class="alias alias-champion">champion</span>' in text
    production = text.split('id="stage-production"', 1)[1].split("</table>", 1)[0]
    shown = re.findall(r'<span class="muted">([a-z0-9_]+)</span> ([\d.,]+)</span>', production)
    assert shown == [("f1", "0.910"), ("accuracy", "0.930"), ("precision", "0.920"), ("recall", "0.900")]
    assert "+2" in production and "run-secu" in production  # two more metrics; the run id in brief
    assert "<td>Archived</td>" in text and "classifier" in text
    assert _rows(text, "monitored") == [(MODEL, "3")]
    figure = r'data-figure="(\w+)"><span class="label">[^<]+</span><span class="value">([^<]+)<'
    figures = dict(re.findall(figure, text))
    assert figures == {
        "total_experiments": "3",
        "total_runs": "1,234",
        "total_models": "4",
        "production_models": "1",
        "staging_models": "1",
        "monitored_models": "1",
    }


async def test_the_snapshot_says_how_fresh_it_is(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    await sign_in_as(gateway, Role.VIEWER)
    _answering(gateway, monkeypatch)
    part = await gateway.http.get("/ui/registry/partials/cache")
    assert part.status_code == 200 and "<html" not in part.text
    text = part.text
    assert 'data-stale="true"' in text and "Stale</strong>: MLflow did not answer the last refresh" in text
    stats = dict(re.findall(r'<dd data-stat="(\w+)">([^<]*)</dd>', text))
    assert stats == {
        "age": "7.2 min",
        "source": "file",
        "last_refresh": "2025-05-01 12:00:00",
        "last_refresh_seconds": "1.23 s",
        "event_refreshes": "5",
        "event_stream": "disconnected",
        "file_size": "3.5 KiB",
        "mlflow": "not reachable",
    }
    assert "The last refresh failed: ConnectError: refused" in text


async def test_partials_render_alone_and_carry_no_control_for_a_viewer(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in_as(gateway, Role.VIEWER)
    _answering(gateway, monkeypatch)
    for name, element in (
        ("summary", 'data-figure="total_models"'),
        ("stages", 'id="stage-production"'),
        ("monitored", 'id="monitored"'),
        ("cache", 'id="snapshot-stats"'),
    ):
        answer = await gateway.http.get(f"/ui/registry/partials/{name}")
        assert answer.status_code == 200 and element in answer.text and "<html" not in answer.text, name
        assert "write-control" not in answer.text, name


async def test_a_viewers_forged_writes_are_refused_an_operators_pass_the_gateway(gateway: Gateway) -> None:
    monitor = f"/api/control-tower/models/{MODEL}/3/monitor"
    writes: list[tuple[str, str, dict[str, str] | None]] = [
        ("POST", monitor, {"model_type": "classifier"}),
        ("DELETE", monitor, None),
        ("POST", "/api/control-tower/cache/refresh", None),
    ]
    csrf = await sign_in_as(gateway, Role.VIEWER)
    for method, path, body in writes:
        for headers in ({}, {"X-CSRF-Token": csrf}):  # without the token, and with it (the role decides)
            refused = await gateway.http.request(method, path, json=body, headers=headers)
            assert refused.status_code == 403, (method, path, headers, refused.text)
    csrf = await sign_in_as(gateway, Role.OPERATOR)
    for method, path, body in writes:
        assert (await gateway.http.request(method, path, json=body)).status_code == 403  # no token: refused
        passed = await gateway.http.request(method, path, json=body, headers={"X-CSRF-Token": csrf})
        assert passed.status_code == 503, (method, path, passed.text)  # let through; nothing answers here


async def test_with_the_control_tower_down_every_part_says_so(gateway: Gateway) -> None:
    await sign_in_as(gateway, Role.ADMIN)
    page = await gateway.http.get("/ui/registry")
    assert page.status_code == 200 and '<main id="content" data-page="registry"' in page.text
    assert page.text.count("unavailable: control-tower:") == 4
    assert 'id="monitor-form"' in page.text  # the form still works when the control tower comes back
    for part in ("summary", "stages", "monitored", "cache"):
        answer = await gateway.http.get(f"/ui/registry/partials/{part}")
        assert answer.status_code == 200, part
        assert re.search(r"unavailable: control-tower: (unreachable|circuit open)", answer.text), part


def test_by_stage_orders_each_group_newest_first_and_counts_what_it_leaves_out() -> None:
    many = [_info("m", str(n), "None", [], {}) for n in range(1, registry.ROWS_PER_STAGE + 3)]
    groups = {group["key"]: group for group in registry.by_stage([*many, _info("m", "x", "production", [], {})])}
    assert list(groups) == ["production", "staging", "other"]
    assert [row["version"] for row in groups["production"]["rows"]] == ["x"]  # any case of the stage's name
    assert groups["staging"] == {"key": "staging", "title": "Staging", "rows": [], "total": 0}
    other = groups["other"]
    assert other["total"] == registry.ROWS_PER_STAGE + 2 and len(other["rows"]) == registry.ROWS_PER_STAGE
    newest = registry.ROWS_PER_STAGE + 2
    assert [row["version"] for row in other["rows"][:3]] == [str(newest), str(newest - 1), str(newest - 2)]
    assert registry.compact({"metrics": {"train_rows": 1200.0}})["metrics"] == [("train_rows", 1200)]


def test_sizes_and_ages_read_as_a_person_would_say_them() -> None:
    assert [registry.file_size(size) for size in (None, 512, 2048, 5 * 1048576)] == ["-", "512 B", "2.0 KiB", "5.0 MiB"]
    assert [registry.age(minutes) for minutes in (None, 0.5, 7.25, 180.0)] == ["-", "30 s", "7.2 min", "3.0 h"]
