"""Client of the data privacy service (port 8008): PII classification, anonymization, data subjects, consent,
retention, audit and compliance; one method per endpoint."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from mlsec.client.base import ServiceClient
from mlsec.client.endpoint import endpoint


def _present(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


class DataPrivacyClient(ServiceClient):
    """Seed 000's DataPrivacyClient: every route of the service, typed by its arguments, answering dicts."""

    @endpoint("GET", "/health/health", operation="health")
    async def get_health_health(self) -> dict[str, Any]:
        """`GET /health/health`: seed 000's second health path, the same answer as `/health`."""
        return dict(await self.get_json("/health/health", operation="health"))

    @endpoint("GET", "/")
    async def get_info(self) -> dict[str, Any]:
        """`GET /`: the service, its version and what it holds."""
        return dict(await self.get_json("/"))

    # --- classification -------------------------------------------------------------------------------
    @endpoint("POST", "/classify")
    async def classify(
        self, text: str, *, entities: Sequence[str] | None = None, threshold: float | None = None
    ) -> dict[str, Any]:
        """`POST /classify`: the findings and the sensitivity level of one text (kept in the history without it)."""
        body = _present({"text": text, "entities": list(entities) if entities else None, "threshold": threshold})
        return dict((await self.request("POST", "/classify", json=body)).json())

    @endpoint("GET", "/classify/history")
    async def get_classify_history(
        self, *, level: str | None = None, limit: int = 50, offset: int = 0
    ) -> dict[str, Any]:
        """`GET /classify/history`: past classifications, newest first, without their texts."""
        params = _present({"level": level, "limit": limit, "offset": offset})
        return dict(await self.get_json("/classify/history", params=params))

    # --- anonymization --------------------------------------------------------------------------------
    @endpoint("POST", "/anonymize")
    async def anonymize(
        self,
        text: str,
        *,
        operator: str = "replace",
        operators: Mapping[str, str] | None = None,
        entities: Sequence[str] | None = None,
        keep_last: int | None = None,
        subject_id: str | None = None,
    ) -> dict[str, Any]:
        """`POST /anonymize`: the text with its findings replaced by `operator` (or one operator per type)."""
        body = _present(
            {
                "text": text,
                "operator": operator,
                "operators": dict(operators) if operators else None,
                "entities": list(entities) if entities else None,
                "keep_last": keep_last,
                "subject_id": subject_id,
            }
        )
        return dict((await self.request("POST", "/anonymize", json=body)).json())

    @endpoint("POST", "/anonymize/batch")
    async def anonymize_batch(
        self,
        texts: Sequence[str],
        *,
        operator: str = "replace",
        operators: Mapping[str, str] | None = None,
        entities: Sequence[str] | None = None,
        keep_last: int | None = None,
    ) -> dict[str, Any]:
        """`POST /anonymize/batch`: many texts, one pseudonym book for the whole batch."""
        body = _present(
            {
                "texts": list(texts),
                "operator": operator,
                "operators": dict(operators) if operators else None,
                "entities": list(entities) if entities else None,
                "keep_last": keep_last,
            }
        )
        return dict((await self.request("POST", "/anonymize/batch", json=body)).json())

    @endpoint("POST", "/anonymize/decrypt")
    async def decrypt(self, token: str, *, reason: str) -> dict[str, Any]:
        """`POST /anonymize/decrypt`: the value an `encrypt` token holds (admin only at the gateway; audited)."""
        return dict((await self.request("POST", "/anonymize/decrypt", json={"token": token, "reason": reason})).json())

    # --- data subjects --------------------------------------------------------------------------------
    @endpoint("POST", "/data-subjects")
    async def create_data_subject(
        self, subject_id: str, identifiers: Sequence[Mapping[str, str]], *, note: str | None = None
    ) -> dict[str, Any]:
        """`POST /data-subjects`: register a person by identifiers (`{"type", "value"}`), kept as keyed hashes."""
        body = _present({"subject_id": subject_id, "identifiers": [dict(i) for i in identifiers], "note": note})
        return dict((await self.request("POST", "/data-subjects", json=body)).json())

    @endpoint("GET", "/data-subjects")
    async def get_data_subjects(self, *, status: str | None = None, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        """`GET /data-subjects`: registered subjects, newest first."""
        return dict(
            await self.get_json("/data-subjects", params=_present({"status": status, "limit": limit, "offset": offset}))
        )

    @endpoint("GET", "/data-subjects/{subject_id}")
    async def get_data_subject(self, subject_id: str) -> dict[str, Any]:
        """`GET /data-subjects/{id}`: the subject, their consents, and where their data is (datasets, models,
        prediction logs), asked of each service now."""
        return dict(await self.get_json(f"/data-subjects/{subject_id}"))

    @endpoint("DELETE", "/data-subjects/{subject_id}", operation="training")
    async def delete_data_subject(self, subject_id: str, *, retrain: bool = True) -> dict[str, Any]:
        """`DELETE /data-subjects/{id}`: erasure in every store, recorded, with retrains of the affected models."""
        response = await self.request(
            "DELETE", f"/data-subjects/{subject_id}", params={"retrain": retrain}, operation="training"
        )
        return dict(response.json())

    # --- consent --------------------------------------------------------------------------------------
    @endpoint("POST", "/consent/record")
    async def record_consent(
        self,
        subject_id: str,
        purpose: str,
        *,
        granted: bool = True,
        source: str | None = None,
        policy_version: str | None = None,
    ) -> dict[str, Any]:
        """`POST /consent/record`: a new version of one subject's consent for one purpose."""
        body = _present(
            {
                "subject_id": subject_id,
                "purpose": purpose,
                "granted": granted,
                "source": source,
                "policy_version": policy_version,
            }
        )
        return dict((await self.request("POST", "/consent/record", json=body)).json())

    @endpoint("GET", "/consent/status/{user_id}")
    async def get_consent_status(self, user_id: str) -> dict[str, Any]:
        """`GET /consent/status/{user_id}`: the current consent per purpose, and its history."""
        return dict(await self.get_json(f"/consent/status/{user_id}"))

    @endpoint("POST", "/consent/withdraw")
    async def withdraw_consent(self, subject_id: str, purposes: Sequence[str] | None = None) -> dict[str, Any]:
        """`POST /consent/withdraw`: withdraw consent for the given purposes (every purpose when omitted)."""
        body = _present({"subject_id": subject_id, "purposes": list(purposes) if purposes else None})
        return dict((await self.request("POST", "/consent/withdraw", json=body)).json())

    @endpoint("POST", "/consent/check")
    async def check_consent(self, *, purpose: str, value_hashes: Sequence[str]) -> dict[str, Any]:
        """`POST /consent/check`: which registered subjects among these keyed hashes lack consent for `purpose`
        (what training asks before it uses a dataset)."""
        body = {"purpose": purpose, "value_hashes": list(value_hashes)}
        return dict((await self.request("POST", "/consent/check", json=body)).json())

    # --- retention ------------------------------------------------------------------------------------
    @endpoint("GET", "/retention/policies")
    async def get_retention_policies(self) -> dict[str, Any]:
        """`GET /retention/policies`: the retention period of each data category."""
        return dict(await self.get_json("/retention/policies"))

    @endpoint("PUT", "/retention/policies/{category}")
    async def update_retention_policy(self, category: str, *, max_age_days: int | None) -> dict[str, Any]:
        """`PUT /retention/policies/{category}`: set (or, with None, lift) a category's retention period."""
        body = {"max_age_days": max_age_days}
        return dict((await self.request("PUT", f"/retention/policies/{category}", json=body)).json())

    @endpoint("GET", "/retention/status")
    async def get_retention_status(self) -> dict[str, Any]:
        """`GET /retention/status`: per category, how much is past its period now."""
        return dict(await self.get_json("/retention/status"))

    @endpoint("POST", "/retention/cleanup", operation="training")
    async def retention_cleanup(
        self, *, dry_run: bool = True, categories: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """`POST /retention/cleanup`: delete what is past its period in every store (a dry run by default)."""
        body = _present({"dry_run": dry_run, "categories": list(categories) if categories else None})
        return dict((await self.request("POST", "/retention/cleanup", json=body, operation="training")).json())

    # --- audit and compliance -------------------------------------------------------------------------
    @endpoint("GET", "/audit/logs")
    async def get_audit_logs(
        self,
        *,
        action: str | None = None,
        actor: str | None = None,
        since: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> dict[str, Any]:
        """`GET /audit/logs`: entries of the hash-chained audit log, newest first."""
        params = _present(
            {
                "action": action,
                "actor": actor,
                "since": since.isoformat() if since else None,
                "limit": limit,
                "offset": offset,
            }
        )
        return dict(await self.get_json("/audit/logs", params=params))

    @endpoint("GET", "/audit/verify")
    async def verify_audit_log(self) -> dict[str, Any]:
        """`GET /audit/verify`: walk the chain; the first broken link, if any."""
        return dict(await self.get_json("/audit/verify"))

    @endpoint("GET", "/compliance/status")
    async def get_compliance_status(self) -> dict[str, Any]:
        """`GET /compliance/status`: each compliance check on the platform's real state, and the verdict."""
        return dict(await self.get_json("/compliance/status"))

    @endpoint("GET", "/compliance/violations")
    async def get_compliance_violations(self) -> dict[str, Any]:
        """`GET /compliance/violations`: what breaks a rule now, with what to do about it."""
        return dict(await self.get_json("/compliance/violations"))
