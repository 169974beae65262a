"""Client of the gateway's own routes (port 8007): the platform-wide views, unified predictions and events.

Every service's API is also reachable through the gateway under `/api/<service>/...`; a `MainAPIClient`
whose service URLs point there (`<SERVICE>_URL=http://gateway:8007/api/<service>`) talks to the whole
platform through one address and one API key.
"""

from __future__ import annotations

from typing import Any

from mlsec.client.base import ServiceClient
from mlsec.client.endpoint import endpoint
from mlsec.client.serving import traffic_headers
from mlsec.core.traffic import TrafficClass


class GatewayClient(ServiceClient):
    """The gateway's platform views, unified predictions, events and `/auth`; `get_health` here is the platform's
    health with an overall score. `MainAPIClient.gateway` is one; its platform calls use it."""

    @endpoint("GET", "/dashboard")
    async def get_dashboard(self) -> dict[str, Any]:
        """`GET /dashboard`: the overview and the latest live events."""
        return dict(await self.get_json("/dashboard"))

    @endpoint("GET", "/dashboard/overview")
    async def get_dashboard_overview(self) -> dict[str, Any]:
        """`GET /dashboard/overview`."""
        return dict(await self.get_json("/dashboard/overview"))

    async def get_all_metrics(self) -> dict[str, Any]:
        """`GET /metrics?format=json`: every service's request, error and prediction counts."""
        return dict(await self.get_json("/metrics", params={"format": "json"}))

    @endpoint("GET", "/models/overview")
    async def get_models_overview(self) -> dict[str, Any]:
        """`GET /models/overview`."""
        return dict(await self.get_json("/models/overview"))

    @endpoint("GET", "/security/overview")
    async def get_security_overview(self) -> dict[str, Any]:
        """`GET /security/overview`."""
        return dict(await self.get_json("/security/overview"))

    @endpoint("POST", "/predict", operation="prediction")
    async def predict(
        self,
        text: str,
        *,
        model_name: str | None = None,
        version: str | None = None,
        use_cache: bool = True,
        traffic_class: TrafficClass | None = None,
    ) -> dict[str, Any]:
        """`POST /predict`: model cache first, model API as fallback. `traffic_class` (not production) is passed
        on for an operator's or admin's key only (docs/security.md#traffic-classes)."""
        body = {"text": text, "use_cache": use_cache, **_present(model_name=model_name, version=version)}
        headers = traffic_headers(traffic_class)
        return dict((await self.request("POST", "/predict", operation="prediction", json=body, headers=headers)).json())

    @endpoint("POST", "/predict/batch", operation="prediction")
    async def predict_batch(
        self,
        texts: list[str],
        *,
        model_name: str | None = None,
        ensemble: bool = False,
        model_names: list[str] | None = None,
        use_cache: bool = True,
        traffic_class: TrafficClass | None = None,
    ) -> dict[str, Any]:
        """`POST /predict/batch`, optionally as an ensemble of the served models; `traffic_class` as for `predict`."""
        body = {
            "texts": texts,
            "ensemble": ensemble,
            "use_cache": use_cache,
            **_present(model_name=model_name, model_names=model_names),
        }
        headers = traffic_headers(traffic_class)
        return dict(
            (await self.request("POST", "/predict/batch", operation="prediction", json=body, headers=headers)).json()
        )

    @endpoint("POST", "/events")
    async def post_event(self, topic: str, type_: str, payload: dict[str, Any], *, source: str) -> dict[str, Any]:
        """`POST /events`: publish an event to every live subscriber (services do this through core.events)."""
        body = {"topic": topic, "type": type_, "payload": payload, "source": source}
        return dict((await self.request("POST", "/events", json=body)).json())

    @endpoint("GET", "/events")
    async def get_events(self, *, topic: str | None = None, limit: int = 100) -> dict[str, Any]:
        """`GET /events`: the most recent events, newest last."""
        params: dict[str, Any] = {"limit": limit, **_present(topic=topic)}
        return dict(await self.get_json("/events", params=params))

    # --- /auth: tokens, API keys and users (docs/security.md) ---------------------------------------------

    @endpoint("POST", "/auth/token")
    async def get_token(
        self, *, api_key: str | None = None, username: str | None = None, password: str | None = None
    ) -> dict[str, Any]:
        """`POST /auth/token`: trade an API key, or a username and password, for a bearer token."""
        body = _present(api_key=api_key, username=username, password=password)
        return dict((await self.request("POST", "/auth/token", json=body)).json())

    @endpoint("GET", "/auth/me")
    async def get_me(self) -> dict[str, Any]:
        """`GET /auth/me`: who the credentials in use belong to, and their role."""
        return dict(await self.get_json("/auth/me"))

    @endpoint("POST", "/auth/keys")
    async def create_api_key(self, name: str, *, role: str = "viewer") -> dict[str, Any]:
        """`POST /auth/keys` (admin): the answer holds the full key, shown this once."""
        return dict((await self.request("POST", "/auth/keys", json={"name": name, "role": role})).json())

    @endpoint("GET", "/auth/keys")
    async def get_api_keys(self) -> dict[str, Any]:
        """`GET /auth/keys` (admin): every key's id, name, role and use; never the key itself."""
        return dict(await self.get_json("/auth/keys"))

    @endpoint("DELETE", "/auth/keys/{key_id}")
    async def revoke_api_key(self, key_id: str) -> dict[str, Any]:
        """`DELETE /auth/keys/{key_id}` (admin)."""
        return dict((await self.request("DELETE", f"/auth/keys/{key_id}")).json())

    @endpoint("POST", "/auth/users")
    async def create_user(self, username: str, password: str, *, role: str = "viewer") -> dict[str, Any]:
        """`POST /auth/users` (admin)."""
        body = {"username": username, "password": password, "role": role}
        return dict((await self.request("POST", "/auth/users", json=body)).json())

    @endpoint("GET", "/auth/users")
    async def get_users(self) -> dict[str, Any]:
        """`GET /auth/users` (admin)."""
        return dict(await self.get_json("/auth/users"))

    @endpoint("PATCH", "/auth/users/{username}")
    async def update_user(
        self, username: str, *, role: str | None = None, disabled: bool | None = None
    ) -> dict[str, Any]:
        """`PATCH /auth/users/{username}` (admin): a new role, or disabled; their tokens follow on next use."""
        body = _present(role=role, disabled=disabled)
        return dict((await self.request("PATCH", f"/auth/users/{username}", json=body)).json())


def _present(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}
