"""Compliance, computed from the platform's real state every time it is asked (nothing is stored to go stale):

- `consent`: registered subjects whose rows are in a dataset version without consent for training in force;
- `retention`: data past its category's period in any store;
- `raw_text`: a serving service storing prediction texts without anonymizing them first;
- `audit_chain`: the audit log's hash chain does not verify;
- `stores`: a store that could not be asked (its checks are unknown, not passed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.services.data_privacy.models import DataSubject
from mlsec.services.data_privacy.service import audit, consent, retention, stores, subjects
from mlsec.services.data_privacy.state import Privacy

Severity = Literal["critical", "high", "medium"]
CheckStatus = Literal["pass", "fail", "unknown"]


@dataclass(frozen=True)
class Violation:
    check: str
    severity: Severity
    message: str
    remedy: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: CheckStatus
    detail: str


@dataclass(frozen=True)
class Report:
    checks: list[CheckResult]
    violations: list[Violation]

    @property
    def status(self) -> str:
        if self.violations:
            return "non_compliant"
        return "unknown" if any(c.status == "unknown" for c in self.checks) else "compliant"


async def _consent(session: AsyncSession, privacy: Privacy) -> tuple[CheckResult, list[Violation]]:
    rows = await session.execute(
        select(DataSubject.id)
        .where(DataSubject.status != "erased")
        .order_by(DataSubject.created_at.desc())
        .limit(privacy.settings.compliance_max_subjects)
    )
    ids = list(rows.scalars())
    without: list[str] = []
    for subject_id in ids:
        in_force = (await consent.current(session, subject_id)).get("training")
        if in_force is None or not in_force.granted:
            without.append(subject_id)
    violations: list[Violation] = []
    unreachable = False

    async def look(subject_id: str) -> None:
        nonlocal unreachable
        hashes = [row.value_hash for row in await subjects.get_identifiers(session, subject_id)]
        answer = (await stores.subjects(privacy, hashes, erase=False, retrain=False)).get(stores.DATASET_STORE)
        if answer is None:
            return
        if not answer.ok:
            unreachable = True
            return
        datasets = (answer.body or {}).get("datasets", [])
        if datasets:
            violations.append(
                Violation(
                    "consent",
                    "critical",
                    f"data subject {subject_id} is in {len(datasets)} dataset version(s) without consent for training",
                    "record the subject's consent for training, or erase the subject (DELETE /data-subjects/{id})",
                    {"subject_id": subject_id, "datasets": datasets[:20]},
                )
            )

    for subject_id in without:  # one session: its lookups run one at a time against the database
        await look(subject_id)
    status: CheckStatus = "unknown" if unreachable else ("fail" if violations else "pass")
    detail = f"{len(ids)} subjects checked, {len(without)} without consent for training in force"
    return CheckResult("consent", status, detail), violations


async def _retention(session: AsyncSession, privacy: Privacy) -> tuple[CheckResult, list[Violation]]:
    outcomes = await retention.apply(session, privacy, None, dry_run=True)
    violations = [
        Violation(
            "retention",
            "high",
            f"{o.matched} {o.category} item(s) are past the {o.max_age_days}-day retention period",
            "run the retention clean-up (POST /retention/cleanup with dry_run=false)",
            {"category": o.category, "matched": o.matched, "cutoff": o.cutoff.isoformat() if o.cutoff else None},
        )
        for o in outcomes
        if o.matched > 0
    ]
    unknown = [o.category for o in outcomes if not o.complete]
    status: CheckStatus = "fail" if violations else ("unknown" if unknown else "pass")
    detail = "; ".join(f"{o.category}: {o.matched} overdue" for o in outcomes)
    if unknown:
        detail += f" (unknown: {', '.join(unknown)})"
    return CheckResult("retention", status, detail), violations


async def _raw_text(privacy: Privacy) -> tuple[CheckResult, list[Violation], dict[str, stores.Answer]]:
    answers = await stores.status(privacy)
    violations = []
    for name in stores.PREDICTION_LOG_STORES:
        body = answers[name].body or {}
        if body.get("store_text") and not body.get("anonymize_text", True):
            violations.append(
                Violation(
                    "raw_text",
                    "critical",
                    f"the {name} stores prediction texts without anonymizing them",
                    f"turn anonymization on (MLSEC_{name.upper().replace('-', '_')}_ANONYMIZE_TEXT=true) or stop "
                    "storing text",
                    {"store": name, "rows_with_text": body.get("rows_with_text")},
                )
            )
    unknown = [name for name in stores.PREDICTION_LOG_STORES if not answers[name].ok]
    status: CheckStatus = "fail" if violations else ("unknown" if unknown else "pass")
    detail = f"unknown: {', '.join(unknown)}" if unknown else "checked"
    return CheckResult("raw_text", status, detail), violations, answers


async def _chain(session: AsyncSession) -> tuple[CheckResult, list[Violation]]:
    result = await audit.verify(session)
    if result.valid:
        return CheckResult("audit_chain", "pass", f"{result.entries} entries verified"), []
    violation = Violation(
        "audit_chain",
        "critical",
        f"the audit chain is broken at entry {result.broken_seq}: {result.reason}",
        "investigate who changed the audit table; restore it from a backup",
        {"broken_seq": result.broken_seq, "broken_id": result.broken_id},
    )
    return CheckResult("audit_chain", "fail", result.reason or "broken"), [violation]


async def evaluate(session: AsyncSession, privacy: Privacy) -> Report:
    """Every check on the state as it is now."""
    consent_check, consent_violations = await _consent(session, privacy)
    retention_check, retention_violations = await _retention(session, privacy)
    raw_check, raw_violations, answers = await _raw_text(privacy)
    chain_check, chain_violations = await _chain(session)
    down = [name for name, answer in answers.items() if not answer.ok]
    stores_check = CheckResult(
        "stores", "unknown" if down else "pass", f"unreachable: {', '.join(down)}" if down else "every store answered"
    )
    return Report(
        [consent_check, retention_check, raw_check, chain_check, stores_check],
        [*chain_violations, *raw_violations, *consent_violations, *retention_violations],
    )
