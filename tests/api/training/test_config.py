"""`/training/config/{model_name}`: stored configs, validated against datasets and the task's params."""

from __future__ import annotations

import httpx
import pytest

from tests.api.training.conftest import prompts_csv, upload

pytestmark = pytest.mark.anyio


async def test_put_then_get_a_config(client: httpx.AsyncClient) -> None:
    await upload(client, prompts_csv(), name="attacks")
    config = {"dataset": "attacks", "params": {"c": 0.5}, "test_size": 0.25}
    put = await client.put("/training/config/my-detector", json=config)
    assert put.status_code == 200, put.text
    stored = (await client.get("/training/config/my-detector")).json()
    assert stored["config"]["dataset"] == "attacks"
    assert stored["config"]["params"]["c"] == 0.5
    assert stored["config"]["params"]["seed"] == 42  # defaults filled in
    assert stored["config"]["task"] == "text_classification"


async def test_config_errors(client: httpx.AsyncClient) -> None:
    await upload(client, prompts_csv(), name="attacks")
    assert (await client.get("/training/config/unknown-model")).status_code == 404
    missing = await client.put("/training/config/m", json={"dataset": "no-such-data"})
    assert missing.status_code == 404
    bad_params = await client.put("/training/config/m", json={"dataset": "attacks", "params": {"depth": 3}})
    assert bad_params.status_code == 422
    assert "depth" in bad_params.json()["message"]
    wrong_type = await client.put("/training/config/m", json={"dataset": "attacks", "test_size": "half"})
    assert wrong_type.status_code == 422
    extra = await client.put("/training/config/m", json={"dataset": "attacks", "surprise": 1})
    assert extra.status_code == 422
    bad_name = await client.get("/training/config/has spaces")
    assert bad_name.status_code == 422
